//! Events from a real read: each owns its fd and pidfd.

use core::cell::Cell;
use core::fmt;
use core::iter::FusedIterator;
use core::ops::Deref;

use rustix::fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd};

use super::{Event, EventError, EventFlags, Events, Group, respond};

/// The events of one [`Fanotify::read`](super::Fanotify::read): like
/// [`Events`], but every event it yields owns its descriptors.
///
/// Dropping the iterator closes the descriptors of the events it has not
/// yielded yet (answering their permission events with the group's default
/// response first), so none leaks and none stays blocked whatever the
/// caller does.
///
/// When parsing stops at a malformed record (or a metadata version this
/// crate does not know), the records after it are not adopted: their layout
/// cannot be trusted, and closing a number read from an untrusted place
/// could close a descriptor something else owns. Their fds stay open (the
/// kernel has kept metadata version 3 since Linux 2.6.37) and their
/// permission events are answered by the kernel when the group is closed.
#[must_use = "a fanotify read consumes events and opens their files; iterate them"]
pub struct OwnedEvents<'buf> {
    inner: Events<'buf>,
    group: Option<Group<'buf>>,
}

impl<'buf> OwnedEvents<'buf> {
    /// An iterator over nothing.
    pub const EMPTY: OwnedEvents<'static> = OwnedEvents {
        inner: Events::EMPTY,
        group: None,
    };

    /// Wraps `events`, adopting each event's fd and pidfd as it is yielded.
    ///
    /// # Safety
    /// `events` must parse bytes just read from the fanotify group `group`
    /// by this process, whose fd and pidfd numbers nothing else owns.
    pub(crate) unsafe fn adopt(events: Events<'buf>, group: Group<'buf>) -> Self {
        OwnedEvents {
            inner: events,
            group: Some(group),
        }
    }

    /// Stops adopting: the events not yielded yet are left as they are (a
    /// [`Reader`](super::Reader) keeps them for later calls).
    pub(crate) fn disarm(&mut self) {
        self.inner = Events::EMPTY;
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

    #[allow(clippy::inline_always)] // the per-event path: see "Cost" in src/record.rs
    #[inline(always)]
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
            // The mask first: one test settles it for every event of a
            // notification group.
            let pending = if event.mask().intersects(PERMISSION) {
                match (&fd, self.group) {
                    (Some(_), Some(group)) => Some(Pending {
                        group,
                        answered: Cell::new(false),
                    }),
                    _ => None,
                }
            } else {
                None
            };
            OwnedEvent {
                event,
                fd,
                pidfd,
                pending,
            }
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

/// The events a process waits on until the group answers.
const PERMISSION: EventFlags = EventFlags::OPEN_PERM
    .union(EventFlags::ACCESS_PERM)
    .union(EventFlags::OPEN_EXEC_PERM)
    .union(EventFlags::PRE_ACCESS);

/// A permission event's duty to answer.
#[derive(Debug)]
struct Pending<'g> {
    group: Group<'g>,
    answered: Cell<bool>,
}

/// One event from a real read, owning its fd and pidfd: they close when it
/// drops unless taken. Derefs to the borrowed [`Event`] view.
///
/// A permission event dropped without an answer (through
/// [`Fanotify::respond`](super::Fanotify::respond) or
/// [`respond`](Self::respond)) is answered with the group's default
/// response before its fd is closed. Taking its fd with
/// [`take_fd`](Self::take_fd) hands that duty to you: answer it with
/// [`Fanotify::respond_fd`](super::Fanotify::respond_fd) before closing it.
pub struct OwnedEvent<'buf> {
    event: Event<'buf>,
    fd: Option<OwnedFd>,
    pidfd: Option<OwnedFd>,
    pending: Option<Pending<'buf>>,
}

impl<'buf> OwnedEvent<'buf> {
    /// The event's descriptor, borrowed: a permission response made through
    /// it cannot reach a reused descriptor number.
    #[must_use]
    #[inline]
    pub fn borrow_fd(&self) -> Option<BorrowedFd<'_>> {
        self.fd.as_ref().map(AsFd::as_fd)
    }

    /// Takes the event's descriptor; the event no longer closes it, nor
    /// answers it if it is a permission event: answer it yourself
    /// ([`Fanotify::respond_fd`](super::Fanotify::respond_fd)) before you
    /// close it.
    #[inline]
    pub fn take_fd(&mut self) -> Option<OwnedFd> {
        self.pending = None;
        self.fd.take()
    }

    /// Answers this permission event through the group it was read from;
    /// it is then not answered again when dropped.
    ///
    /// # Errors
    /// [`Error::NoEventFd`](crate::Error::NoEventFd) when the event has no
    /// fd (taken, FID mode, or not from a group read); the errnos of
    /// [`respond`](super::respond).
    pub fn respond(&self, response: super::Response) -> crate::Result<()> {
        let (Some(fd), Some(pending)) = (&self.fd, &self.pending) else {
            return Err(crate::Error::NoEventFd);
        };
        respond(pending.group.fd, fd.as_fd(), response)
            .map_err(|e| crate::Error::os("write(fanotify_response)", e))?;
        pending.answered.set(true);
        Ok(())
    }

    /// Records that the event was answered (by the group's `respond`).
    pub(crate) fn mark_answered(&self) {
        if let Some(pending) = &self.pending {
            pending.answered.set(true);
        }
    }

    /// Whether this is a permission event still waiting for an answer from
    /// this event (it is answered with the default response on drop).
    #[must_use]
    pub fn needs_answer(&self) -> bool {
        self.pending.as_ref().is_some_and(|p| !p.answered.get())
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

impl Drop for OwnedEvent<'_> {
    // Inline, with the answer out of line: an event that needs none (every
    // event of a notification group) then drops in the caller's loop
    // without being spilled to memory for a call (see "Cost" in
    // src/record.rs).
    #[inline]
    fn drop(&mut self) {
        if self.pending.is_some() {
            self.answer_default();
        }
    }
}

impl OwnedEvent<'_> {
    /// Answers a permission event nobody answered with the group's default.
    #[cold]
    #[inline(never)]
    fn answer_default(&self) {
        if let (Some(fd), Some(pending)) = (&self.fd, &self.pending) {
            if !pending.answered.get() {
                // Nothing to do about a failure here: the event is then
                // answered by the kernel when the group closes.
                let _ = respond(pending.group.fd, fd.as_fd(), pending.group.default);
            }
        }
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

#[cfg(test)]
mod tests {
    //! What adoption does with a buffer whose second record has a metadata
    //! version this crate does not know: the first record's fd is adopted
    //! (and closed), the second's is left alone. Closing a number read from
    //! a record whose layout is unknown could close a descriptor something
    //! else owns; leaving it open is the safe failure.
    extern crate std;
    use super::*;
    use crate::fanotify::{EventError, METADATA_LEN, METADATA_VERSION, Response, parse};
    use rustix::fd::{AsRawFd, IntoRawFd};

    fn record(version: u8, fd: i32) -> [u8; METADATA_LEN] {
        let mut r = [0_u8; METADATA_LEN];
        r[..4].copy_from_slice(&(METADATA_LEN as u32).to_ne_bytes());
        r[4] = version;
        r[6..8].copy_from_slice(&(METADATA_LEN as u16).to_ne_bytes());
        r[8..16].copy_from_slice(&0x20_u64.to_ne_bytes()); // FAN_OPEN
        r[16..20].copy_from_slice(&fd.to_ne_bytes());
        r[20..24].copy_from_slice(&1_i32.to_ne_bytes());
        r
    }

    fn is_open(fd: i32) -> bool {
        // SAFETY: only asks the kernel about the number; nothing is owned.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        rustix::io::fcntl_getfd(fd).is_ok()
    }

    #[test]
    #[cfg_attr(miri, ignore = "issues real syscalls (pipes, fcntl)")]
    fn a_record_of_an_unknown_version_is_not_adopted() {
        let group = rustix::event::eventfd(0, rustix::event::EventfdFlags::CLOEXEC).unwrap();
        let (a, b) = rustix::pipe::pipe().unwrap();
        let (a, b) = (a.into_raw_fd(), b.into_raw_fd());
        let mut bytes = std::vec::Vec::new();
        bytes.extend_from_slice(&record(METADATA_VERSION, a));
        bytes.extend_from_slice(&record(METADATA_VERSION + 1, b));
        let group = Group {
            fd: group.as_fd(),
            default: Response::ALLOW,
        };
        // SAFETY: `a` and `b` are ours alone (`into_raw_fd` gave them up).
        let mut events = unsafe { OwnedEvents::adopt(parse(&bytes), group) };
        let first = events.next().unwrap().unwrap();
        assert_eq!(first.borrow_fd().map(|fd| fd.as_raw_fd()), Some(a));
        assert!(matches!(events.next(), Some(Err(EventError::Malformed(_)))));
        drop(first);
        drop(events);
        assert!(!is_open(a), "the first record's fd was adopted and closed");
        assert!(is_open(b), "the unknown record's fd was left alone");
        // SAFETY: `b` is ours, and open, as just checked.
        drop(unsafe { OwnedFd::from_raw_fd(b) });
    }
}
