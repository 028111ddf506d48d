//! A stream of owned fanotify events: [`Async::<Fanotify>::stream`].

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::cell::Cell;
use core::fmt;

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};

use super::{Async, Stream, streamed::Streamed};
use crate::error::{Error, Result};
use crate::fanotify::{
    self, DEFAULT_BUFFER_LEN, Event, EventError, EventFlags, Fanotify, Group, METADATA_LEN,
    Response,
};

/// A permission event's duty to answer, through the group it came from.
struct Pending<'a> {
    group: Group<'a>,
    answered: Cell<bool>,
}

/// An owned fanotify event, as [`Async::<Fanotify>::stream`] yields it:
/// its record copied out of the read buffer, its fd and pidfd owned (closed
/// when it drops unless taken), and, for a permission event, the duty to
/// answer through the group it borrows.
///
/// Like [`OwnedEvent`](fanotify::OwnedEvent): a permission event dropped
/// without an answer ([`respond`](Self::respond)) is answered with the
/// group's default response before its fd is closed; taking its fd
/// ([`take_fd`](Self::take_fd)) hands that duty to you
/// ([`Fanotify::respond_fd`]).
pub struct FanotifyEvent<'a> {
    meta: [u8; METADATA_LEN],
    info: Vec<u8>,
    pidfd_number: i32,
    fd: Option<OwnedFd>,
    pidfd: Option<OwnedFd>,
    pending: Option<Pending<'a>>,
}

impl FanotifyEvent<'_> {
    /// The record, as the borrowed [`Event`] view (mask, pid, info
    /// records, FID…) over the copied bytes.
    #[must_use]
    pub fn event(&self) -> Event<'_> {
        Event::from_parts(&self.meta, &self.info, self.pidfd_number)
    }

    /// The event's mask ([`Event::mask`]).
    #[must_use]
    pub fn mask(&self) -> EventFlags {
        self.event().mask()
    }

    /// The process that caused the event ([`Event::pid`]).
    #[must_use]
    pub fn pid(&self) -> i32 {
        self.event().pid()
    }

    /// The event's descriptor, borrowed.
    #[must_use]
    pub fn borrow_fd(&self) -> Option<BorrowedFd<'_>> {
        self.fd.as_ref().map(AsFd::as_fd)
    }

    /// Takes the event's descriptor; the event no longer closes it, nor
    /// answers it if it is a permission event.
    pub fn take_fd(&mut self) -> Option<OwnedFd> {
        self.pending = None;
        self.fd.take()
    }

    /// The pidfd of the event's process (`REPORT_PIDFD`), borrowed.
    #[must_use]
    pub fn borrow_pidfd(&self) -> Option<BorrowedFd<'_>> {
        self.pidfd.as_ref().map(AsFd::as_fd)
    }

    /// Takes the pidfd; the event no longer closes it.
    pub fn take_pidfd(&mut self) -> Option<OwnedFd> {
        self.pidfd.take()
    }

    /// Whether this is a permission event still waiting for an answer from
    /// this event (it is answered with the default response on drop).
    #[must_use]
    pub fn needs_answer(&self) -> bool {
        self.pending.as_ref().is_some_and(|p| !p.answered.get())
    }

    /// Answers this permission event through the group it was read from
    /// (a `write(2)`, which never waits); it is then not answered again
    /// when dropped.
    ///
    /// # Errors
    /// [`Error::NoEventFd`] for an event that is not a permission event of
    /// this group or whose fd was taken; the errnos of
    /// [`respond`](fanotify::respond).
    pub fn respond(&self, response: Response) -> Result<()> {
        let (Some(fd), Some(pending)) = (&self.fd, &self.pending) else {
            return Err(Error::NoEventFd);
        };
        fanotify::respond(pending.group.fd, fd.as_fd(), response)
            .map_err(|e| Error::os("write(fanotify_response)", e))?;
        pending.answered.set(true);
        Ok(())
    }
}

impl Drop for FanotifyEvent<'_> {
    fn drop(&mut self) {
        if let (Some(fd), Some(pending)) = (&self.fd, &self.pending) {
            if !pending.answered.get() {
                // Nothing to do about a failure: the kernel answers the
                // event when the group closes.
                // `Response::clone` takes the default whether the group
                // holds it or a reference to it (the borrow is needless in
                // the second case).
                #[allow(clippy::needless_borrow)]
                let default = Response::clone(&pending.group.default);
                let _ = fanotify::respond(pending.group.fd, fd.as_fd(), default);
            }
        }
    }
}

impl fmt::Debug for FanotifyEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FanotifyEvent")
            .field("event", &self.event())
            .field("fd", &self.fd)
            .field("pidfd", &self.pidfd)
            .field("needs_answer", &self.needs_answer())
            .finish()
    }
}

impl Streamed for Fanotify {
    type Item<'a> = core::result::Result<FanotifyEvent<'a>, EventError>;
    const BUFFER_LEN: usize = DEFAULT_BUFFER_LEN;
    fn fill<'a>(
        object: &'a Self,
        buf: &mut [u8],
        queue: &mut VecDeque<Self::Item<'a>>,
    ) -> Result<()> {
        for item in object.read(buf)? {
            queue.push_back(item.map(|mut event| {
                let needs_answer = event.needs_answer();
                let (meta, info, pidfd_number) = event.event().parts();
                let (meta, info) = (*meta, info.to_vec());
                FanotifyEvent {
                    meta,
                    info,
                    pidfd_number,
                    // Taking the fd also drops the borrowed event's duty to
                    // answer: the owned one takes it over.
                    fd: event.take_fd(),
                    pidfd: event.take_pidfd(),
                    pending: needs_answer.then(|| Pending {
                        group: object.group(),
                        answered: Cell::new(false),
                    }),
                }
            }));
        }
        Ok(())
    }
}

impl Async<Fanotify> {
    /// A [`Stream`] of owned events ([`FanotifyEvent`]), read through a
    /// buffer of [`DEFAULT_BUFFER_LEN`] bytes. The events borrow this
    /// object, so a permission event can be answered
    /// ([`FanotifyEvent::respond`]) or is answered with the group's default
    /// when dropped, whether it was handed out or still queued when the
    /// stream was dropped.
    ///
    /// # Cancellation safety
    /// Cancellation safe: see [`Stream`].
    ///
    /// # Example
    /// Deny every open below `/srv/private` (needs `CAP_SYS_ADMIN`):
    /// ```no_run
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use futures_core::Stream as _;
    /// use kernfd::fanotify::{EventFlags, Fanotify, InitFlags, MarkType, Response};
    /// use kernfd::tokio::Async;
    ///
    /// let group = Fanotify::new(InitFlags::CLASS_CONTENT)?;
    /// group.add(MarkType::Mount, EventFlags::OPEN_PERM, "/srv/private")?;
    /// let group = Async::new(group)?;
    /// let mut events = group.stream();
    /// while let Some(event) =
    ///     std::future::poll_fn(|cx| std::pin::Pin::new(&mut events).poll_next(cx)).await
    /// {
    ///     let event = event??;
    ///     println!("pid {} opens", event.pid());
    ///     event.respond(Response::DENY)?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn stream(&self) -> Stream<'_, Fanotify> {
        self.make_stream()
    }
}
