//! Events from a real read: each owns its fd and pidfd.

use core::fmt;
use core::iter::FusedIterator;
use core::ops::Deref;

use rustix::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd};

use super::{Event, EventError, Events};

/// The events of one [`Fanotify::read`](super::Fanotify::read): like
/// [`Events`], but every event it yields owns its descriptors.
///
/// Dropping the iterator closes the descriptors of the events it has not
/// yielded yet, so none leaks whatever the caller does.
#[must_use = "a fanotify read consumes events and opens their files; iterate them"]
pub struct OwnedEvents<'buf> {
    inner: Events<'buf>,
}

impl OwnedEvents<'_> {
    /// An iterator over nothing.
    pub const EMPTY: OwnedEvents<'static> = OwnedEvents {
        inner: Events::EMPTY,
    };

    /// Wraps `events`, adopting each event's fd and pidfd as it is yielded.
    ///
    /// # Safety
    /// `events` must parse bytes just read from a fanotify group by this
    /// process, whose fd and pidfd numbers nothing else owns.
    pub(crate) unsafe fn adopt(events: Events<'_>) -> OwnedEvents<'_> {
        OwnedEvents { inner: events }
    }

    /// Whether no event is left.
    #[must_use]
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// The bytes not consumed yet (see [`Events::remainder`]).
    #[must_use]
    #[inline]
    pub fn remainder(&self) -> &[u8] {
        self.inner.remainder()
    }

    /// How many bytes have been consumed.
    #[must_use]
    #[inline]
    pub fn offset(&self) -> usize {
        self.inner.offset()
    }
}

impl fmt::Debug for OwnedEvents<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedEvents")
            .field("offset", &self.inner.offset())
            .field("remaining", &self.inner.remainder().len())
            .finish()
    }
}

impl<'buf> Iterator for OwnedEvents<'buf> {
    type Item = Result<OwnedEvent<'buf>, EventError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        Some(self.inner.next()?.map(|event| {
            // SAFETY: `adopt`'s contract: these numbers were installed for
            // this process by the read and are owned by nobody else; each
            // record is yielded once, so each is adopted once.
            let fd = event.fd().map(|fd| unsafe { OwnedFd::from_raw_fd(fd) });
            let pidfd = event
                .pidfd()
                // SAFETY: as above.
                .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) });
            OwnedEvent { event, fd, pidfd }
        }))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl FusedIterator for OwnedEvents<'_> {}

impl Drop for OwnedEvents<'_> {
    fn drop(&mut self) {
        // Adopt and close what the caller did not iterate.
        for _ in self.by_ref() {}
    }
}

/// One event from a real read, owning its fd and pidfd: they close when it
/// drops unless taken. Derefs to the borrowed [`Event`] view.
pub struct OwnedEvent<'buf> {
    event: Event<'buf>,
    fd: Option<OwnedFd>,
    pidfd: Option<OwnedFd>,
}

impl<'buf> OwnedEvent<'buf> {
    /// The event's descriptor, borrowed: a permission response made through
    /// it cannot reach a reused descriptor number.
    #[must_use]
    #[inline]
    pub fn borrow_fd(&self) -> Option<BorrowedFd<'_>> {
        self.fd.as_ref().map(AsFd::as_fd)
    }

    /// Takes the event's descriptor; the event no longer closes it.
    #[inline]
    pub fn take_fd(&mut self) -> Option<OwnedFd> {
        self.fd.take()
    }

    /// The pidfd of the event's process (`REPORT_PIDFD`), borrowed.
    #[must_use]
    #[inline]
    pub fn borrow_pidfd(&self) -> Option<BorrowedFd<'_>> {
        self.pidfd.as_ref().map(AsFd::as_fd)
    }

    /// Takes the pidfd; the event no longer closes it.
    #[inline]
    pub fn take_pidfd(&mut self) -> Option<OwnedFd> {
        self.pidfd.take()
    }

    /// The borrowed record view (also reachable through `Deref`).
    #[must_use]
    #[inline]
    pub fn event(&self) -> &Event<'buf> {
        &self.event
    }
}

impl<'buf> Deref for OwnedEvent<'buf> {
    type Target = Event<'buf>;

    #[inline]
    fn deref(&self) -> &Event<'buf> {
        &self.event
    }
}

impl fmt::Debug for OwnedEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedEvent")
            .field("event", &self.event)
            .field("fd", &self.fd)
            .field("pidfd", &self.pidfd)
            .finish()
    }
}
