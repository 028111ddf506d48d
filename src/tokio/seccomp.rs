//! The seccomp notification listener, async: `recv`, `respond`, a stream.
//!
//! `SECCOMP_IOCTL_NOTIF_RECV` ignores `O_NONBLOCK`: with nothing pending it
//! waits in the kernel whatever the descriptor's flags say. A non-blocking
//! [`Listener`] therefore polls its descriptor with a zero timeout right
//! before the ioctl and answers `EAGAIN` when nothing is pending; the async
//! calls here make that one non-blocking call, inside the poll that returns
//! its result, and await tokio's readiness (`POLLIN`: a notification
//! waits) in between.

use alloc::collections::VecDeque;

use rustix::io::Errno;

use super::{Async, Stream, streamed::Streamed};
use crate::error::{Error, Result};
use crate::seccomp::{Listener, NOTIF_LEN, Notification, Response};

/// One non-blocking receive; a notification whose target died (or whose
/// call was interrupted) between readiness and the ioctl (`ENOENT`) is
/// skipped: there is nothing left to answer.
fn recv_live(listener: &Listener, buf: &mut [u8]) -> Result<Notification> {
    loop {
        match listener.recv(buf) {
            Err(Error::Os { errno, .. }) if errno == Errno::NOENT => {}
            got => return got,
        }
    }
}

impl Async<Listener> {
    /// [`Listener::recv`], awaiting a notification: receives one into `buf`
    /// (at least [`NOTIF_LEN`] bytes) and parses it.
    ///
    /// A notification whose target died (or whose call was interrupted)
    /// after the listener became readable is skipped (the kernel's
    /// `ENOENT`: nothing is left to answer) and the call waits for the next.
    ///
    /// # One owner
    /// The ioctl itself would wait in the kernel if nothing were pending
    /// (it ignores `O_NONBLOCK`), so each attempt first polls the
    /// descriptor with a zero timeout and makes the ioctl only when a
    /// notification waits. If another thread, or another process sharing
    /// the descriptor, takes that notification between the poll and the
    /// ioctl, the ioctl waits for the next one and stalls the runtime's
    /// thread meanwhile. Tasks of one program that share one `Async`
    /// contend safely only in that they each receive distinct
    /// notifications; to rule the stall out, receive from one task (and
    /// hand notifications to others), which is the recommended shape.
    ///
    /// # Cancellation safety
    /// Cancellation safe: the ioctl happens only in the poll that returns
    /// `Ready`, so a future dropped while pending received nothing, and
    /// the notification is received by the next call.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] (before any syscall); [`Error::EndOfFile`]
    /// once the listener hung up (no task uses its filter any more: no
    /// notification can come); `EINTR`; tokio errors as in [`Async::new`].
    /// Never `EAGAIN` nor `ENOENT`.
    ///
    /// # Example
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use kernfd::seccomp::{self, Action, Arch, Builder, FilterFlags, Instruction, Response, SyscallRule};
    /// use kernfd::tokio::Async;
    ///
    /// // A thread whose `getppid` is answered by this task (filters are per
    /// // thread: the runtime's thread is not filtered).
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let target = std::thread::spawn(move || {
    ///     let getppid = Arch::native().syscall("getppid").unwrap();
    ///     let mut storage = [Instruction::default(); 64];
    ///     let filter = Builder::new(Arch::native(), Action::Allow)
    ///         .build(&[SyscallRule::new(getppid, Action::UserNotif)], &mut storage)
    ///         .unwrap();
    ///     seccomp::set_no_new_privs().unwrap();
    ///     tx.send(filter.install_listener(FilterFlags::empty())).unwrap();
    ///     rustix::process::getppid()
    /// });
    /// let Ok(listener) = rx.recv()? else {
    ///     return Ok(()); // seccomp user notification unavailable here
    /// };
    /// let listener = Async::new(listener)?;
    /// let mut buf = [0_u8; seccomp::NOTIF_LEN];
    /// let n = listener.recv(&mut buf).await?;
    /// listener.respond(n.id(), Response::Value(4242)).await?;
    /// let ppid = target.join().unwrap();
    /// assert_eq!(ppid.map(|p| p.as_raw_nonzero().get()), Some(4242));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> Result<Notification> {
        self.io(false, |listener| recv_live(listener, buf)).await
    }

    /// [`Listener::respond`]: answers notification `id`. The ioctl never
    /// waits (the target is woken, not awaited), so this completes in its
    /// first poll; it is async for symmetry with [`recv`](Self::recv), and
    /// [`get_ref`](Self::get_ref)`.respond` does the same from sync code.
    ///
    /// # Errors
    /// As [`Listener::respond`]: `ENOENT` when the target died or `id` is
    /// stale, `EINPROGRESS` when `id` was not received yet, `EINVAL` for an
    /// errno outside `1..=4095`.
    #[allow(clippy::unused_async)] // see above: the async twin of a call that never waits
    pub async fn respond(&self, id: u64, response: Response) -> Result<()> {
        self.get_ref().respond(id, response)
    }

    /// A [`Stream`] of notifications, each received as
    /// [`recv`](Self::recv) does (those whose target died are skipped).
    /// Answer each through [`respond`](Self::respond) (the stream borrows
    /// the listener shared, so both work at once). The same one-owner
    /// advice as for `recv` holds. It ends once the listener hung up.
    ///
    /// # Cancellation safety
    /// Cancellation safe: see [`Stream`].
    ///
    /// # Example
    /// A supervisor loop: fail every intercepted call with `EPERM` until
    /// no task uses the filter any more.
    /// ```no_run
    /// # async fn supervise(listener: kernfd::seccomp::Listener) -> kernfd::Result<()> {
    /// use futures_core::Stream as _;
    /// use kernfd::Errno;
    /// use kernfd::seccomp::Response;
    /// use kernfd::tokio::Async;
    ///
    /// let listener = Async::new(listener)?;
    /// let mut calls = listener.stream();
    /// while let Some(call) =
    ///     std::future::poll_fn(|cx| std::pin::Pin::new(&mut calls).poll_next(cx)).await
    /// {
    ///     let call = call?;
    ///     // ENOENT: its target died meanwhile; nothing to do.
    ///     let _ = listener.respond(call.id(), Response::Error(Errno::PERM)).await;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn stream(&self) -> Stream<'_, Listener> {
        self.make_stream()
    }
}

impl Streamed for Listener {
    type Item<'a> = Notification;
    const BUFFER_LEN: usize = NOTIF_LEN;
    fn fill(object: &Self, buf: &mut [u8], queue: &mut VecDeque<Notification>) -> Result<()> {
        queue.push_back(recv_live(object, buf)?);
        Ok(())
    }
}
