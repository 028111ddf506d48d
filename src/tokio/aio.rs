//! AIO completions, async: [`AsyncAio`] awaits the eventfd its requests
//! signal, then reaps `io_getevents` without waiting.

use core::time::Duration;

use rustix::fd::{AsFd, BorrowedFd};
use rustix::io::Errno;

use super::Async;
use crate::aio::{Context, Events, IoEvent};
use crate::error::{Error, Result};
use crate::eventfd::EventFd;

/// A native AIO [`Context`] whose completions are awaited through tokio.
///
/// Requests submitted with [`Iocb::with_eventfd`](crate::aio::Iocb::with_eventfd)
/// on [`eventfd`](Self::eventfd) add 1 to its counter as they complete;
/// [`getevents`](Self::getevents) awaits that counter and reaps with
/// `io_getevents(ctx, 0, len, events, &0)`, which never waits, into the
/// caller's array of [`IoEvent`]s, returning the same [`Events`] iterator
/// as [`Context::getevents`]. Requests submitted without the eventfd
/// complete too, but wake nobody: they are reaped with the next ones that
/// do.
///
/// `Sync`: several tasks may await one; each completion goes to one of
/// them.
///
/// # Example
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::io::Write;
/// use kernfd::aio::{Context, IoEvent, Iocb};
/// use kernfd::tokio::AsyncAio;
///
/// let mut file = tempfile::tempfile()?;
/// file.write_all(b"abcd")?;
/// let aio = AsyncAio::new(Context::new(4)?)?;
/// let mut buf = [0_u8; 4];
/// let read = Iocb::pread(&file, buf.as_mut_ptr(), 4, 0).with_data(7).with_eventfd(aio.eventfd());
/// // SAFETY: `buf` is not touched until the completion is reaped below.
/// unsafe { aio.context().submit(&[&read]) }.map_err(|p| p.error())?;
/// let mut events = [IoEvent::ZERO; 4];
/// let done = aio.getevents(&mut events).await?.next().unwrap()?;
/// assert_eq!((done.data(), done.result()), (7, Ok(4)));
/// assert_eq!(&buf, b"abcd");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct AsyncAio {
    // Dropped first: `io_destroy` waits for the requests in flight, which
    // signal the eventfd, closed after.
    ctx: Context,
    eventfd: Async<EventFd>,
}

impl AsyncAio {
    /// Takes `ctx` and makes a fresh eventfd (counter 0, close-on-exec),
    /// registered with the current tokio runtime's reactor.
    ///
    /// # Errors
    /// `eventfd2` errors (`EMFILE`…); tokio errors as in [`Async::new`].
    /// `ctx` is dropped (destroyed) then.
    pub fn new(ctx: Context) -> Result<Self> {
        let eventfd = Async::new(EventFd::new(0)?)?;
        Ok(Self { ctx, eventfd })
    }

    /// The context: submit through it ([`Context::submit`]).
    #[must_use]
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// The eventfd to attach to every request
    /// ([`Iocb::with_eventfd`](crate::aio::Iocb::with_eventfd),
    /// [`Op::eventfd`](crate::aio::Op::eventfd)).
    #[must_use]
    pub fn eventfd(&self) -> BorrowedFd<'_> {
        self.eventfd.as_fd()
    }

    /// Gives the context back; the eventfd is closed.
    #[must_use]
    pub fn into_context(self) -> Context {
        self.ctx
    }

    /// Awaits at least one completion, then reaps as many as are done, up
    /// to `events.len()`, without waiting, and iterates them in place.
    ///
    /// Each attempt first empties the eventfd's counter, then reaps: a
    /// request completing after the counter was emptied signals it again,
    /// so no completion is missed, and a wakeup whose completions were
    /// already reaped (by an earlier call, or another task) just waits
    /// again.
    ///
    /// # Cancellation safety
    /// Cancellation safe: completions are reaped only in the poll that
    /// returns `Ready`; a future dropped while pending reaped none, and
    /// emptying the counter loses nothing (the completions stay in the
    /// kernel's ring).
    ///
    /// # Errors
    /// `Os` `io_getevents` `EINVAL` for an empty `events` (it could never
    /// return anything), or a destroyed context; `EFAULT`; tokio errors as
    /// in [`Async::new`]. Never `EAGAIN`.
    pub async fn getevents<'b>(&self, events: &'b mut [IoEvent]) -> Result<Events<'b>> {
        if events.is_empty() {
            return Err(Error::os("io_getevents", Errno::INVAL));
        }
        let len = events.len();
        self.eventfd
            .io(false, |eventfd| {
                match eventfd.read() {
                    Ok(_) => {}
                    Err(Error::Os { errno, .. }) if errno == Errno::AGAIN => {}
                    Err(e) => return Err(e),
                }
                // SAFETY: `events` is borrowed exclusively for `'b`, and
                // only through the slices made here. An attempt that fails
                // returns an error that borrows nothing, so its slice is
                // gone before the next attempt makes another; the one that
                // succeeds ends the loop and its result is the only borrow
                // left.
                let attempt: &'b mut [IoEvent] =
                    unsafe { core::slice::from_raw_parts_mut(events.as_mut_ptr(), len) };
                let got = self.ctx.getevents(0, attempt, Some(Duration::ZERO))?;
                if got.is_empty() {
                    Err(Error::os("io_getevents", Errno::AGAIN))
                } else {
                    Ok(got)
                }
            })
            .await
    }
}
