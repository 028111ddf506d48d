//! Events from a real read: each owns its fd and pidfd.

use core::cell::Cell;
use core::fmt;
use core::iter::FusedIterator;
use core::ops::Deref;

use rustix::fd::{BorrowedFd, FromRawFd, OwnedFd};

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
            // `adopt`'s contract: these numbers were installed for this
            // process by the read and are owned by nobody else; each record
            // is yielded once, so each is adopted once. The event owns its
            // fd and pidfd (those it has) and closes them when dropped.
            OwnedEvent {
                event,
                group: self.group,
                given: Cell::new(0),
            }
        }))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl FusedIterator for OwnedEvents<'_> {}

impl Drop for OwnedEvents<'_> {
    // Inline, with the rest out of line and by value: a call that took
    // `&mut self` would make the compiler keep the iterator in memory, and
    // reload it after every `close` in the caller's loop (see "Cost" in
    // src/record.rs).
    #[inline]
    fn drop(&mut self) {
        if !self.inner.is_empty() {
            OwnedEvents {
                inner: core::mem::replace(&mut self.inner, Events::EMPTY),
                group: self.group,
            }
            .close_rest();
        }
    }
}

impl OwnedEvents<'_> {
    /// Adopts and closes (answering permission events first) what the
    /// caller did not iterate.
    #[cold]
    #[inline(never)]
    fn close_rest(mut self) {
        for _ in self.by_ref() {}
    }
}

/// The events a process waits on until the group answers.
const PERMISSION: EventFlags = EventFlags::OPEN_PERM
    .union(EventFlags::ACCESS_PERM)
    .union(EventFlags::OPEN_EXEC_PERM)
    .union(EventFlags::PRE_ACCESS);

/// [`OwnedEvent::given`]: the fd was taken.
const FD: u8 = 1;
/// The pidfd was taken.
const PIDFD: u8 = 2;
/// The permission event was answered (or its fd, and so the duty, taken).
const ANSWERED: u8 = 4;

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
    group: Option<Group<'buf>>,
    /// What the event gave up: [`FD`], [`PIDFD`], [`ANSWERED`]. Until
    /// then it owns the fd and pidfd numbers its record holds (those that
    /// are not negative) and closes them when dropped, answering a
    /// permission event first. (A few bits beside the record rather than
    /// `Option<OwnedFd>`s: the event then costs nothing to build and stays
    /// in registers in the caller's loop; see "Cost" in src/record.rs.)
    given: Cell<u8>,
}

impl<'buf> OwnedEvent<'buf> {
    /// Whether the event gave up what `bit` names.
    #[inline]
    fn gave(&self, bit: u8) -> bool {
        self.given.get() & bit != 0
    }

    /// Gives up what `bits` name.
    #[inline]
    fn give(&self, bits: u8) {
        self.given.set(self.given.get() | bits);
    }

    /// The fd the event still owns.
    #[inline]
    fn own_fd(&self) -> Option<i32> {
        let fd = self.event.raw_fd();
        (fd >= 0 && !self.gave(FD)).then_some(fd)
    }

    /// The pidfd the event still owns.
    #[inline]
    fn own_pidfd(&self) -> Option<i32> {
        self.event.pidfd().filter(|_| !self.gave(PIDFD))
    }

    /// The event's descriptor, borrowed: a permission response made through
    /// it cannot reach a reused descriptor number.
    #[must_use]
    #[inline]
    pub fn borrow_fd(&self) -> Option<BorrowedFd<'_>> {
        // SAFETY: the event owns the number until it is dropped or the fd
        // is taken (`&mut self`), so the borrow cannot outlive it.
        self.own_fd()
            .map(|fd| unsafe { BorrowedFd::borrow_raw(fd) })
    }

    /// Takes the event's descriptor; the event no longer closes it, nor
    /// answers it if it is a permission event: answer it yourself
    /// ([`Fanotify::respond_fd`](super::Fanotify::respond_fd)) before you
    /// close it.
    #[inline]
    pub fn take_fd(&mut self) -> Option<OwnedFd> {
        let fd = self.own_fd();
        self.give(FD | ANSWERED);
        // SAFETY: the event owned the number and hands it over whole.
        fd.map(|fd| unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// Answers this permission event through the group it was read from;
    /// it is then not answered again when dropped.
    ///
    /// # Errors
    /// [`Error::NoEventFd`](crate::Error::NoEventFd) when the event has no
    /// fd (taken, FID mode, or not from a group read); the errnos of
    /// [`respond`](super::respond).
    pub fn respond(&self, response: super::Response) -> crate::Result<()> {
        let (Some(fd), Some(group)) = (self.borrow_fd(), self.group) else {
            return Err(crate::Error::NoEventFd);
        };
        respond(group.fd, fd, response)
            .map_err(|e| crate::Error::os("write(fanotify_response)", e))?;
        self.give(ANSWERED);
        Ok(())
    }

    /// Records that the event was answered (by the group's `respond`).
    pub(crate) fn mark_answered(&self) {
        self.give(ANSWERED);
    }

    /// Whether this is a permission event still waiting for an answer from
    /// this event (it is answered with the default response on drop).
    #[must_use]
    pub fn needs_answer(&self) -> bool {
        self.group.is_some()
            && self.own_fd().is_some()
            && self.event.mask().intersects(PERMISSION)
            && !self.gave(ANSWERED)
    }

    /// The pidfd of the event's process (`REPORT_PIDFD`), borrowed.
    #[must_use]
    #[inline]
    pub fn borrow_pidfd(&self) -> Option<BorrowedFd<'_>> {
        // SAFETY: as in `borrow_fd`.
        self.own_pidfd()
            .map(|fd| unsafe { BorrowedFd::borrow_raw(fd) })
    }

    /// Takes the pidfd; the event no longer closes it.
    #[inline]
    pub fn take_pidfd(&mut self) -> Option<OwnedFd> {
        let pidfd = self.own_pidfd();
        self.give(PIDFD);
        // SAFETY: as in `take_fd`.
        pidfd.map(|fd| unsafe { OwnedFd::from_raw_fd(fd) })
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
    // Inline, with the answer out of line and given its arguments by
    // value: an event that needs none (every event of a notification
    // group) then drops in the caller's loop, in registers, as a `close`
    // (see "Cost" in src/record.rs).
    #[inline]
    fn drop(&mut self) {
        if let Some(fd) = self.own_fd() {
            if self.event.mask().intersects(PERMISSION) && !self.gave(ANSWERED) {
                answer_default(self.group, fd);
            }
            // SAFETY: the event owns the number and nothing uses it after
            // the drop.
            unsafe { rustix::io::close(fd) };
        }
        if let Some(pidfd) = self.own_pidfd() {
            // SAFETY: as above.
            unsafe { rustix::io::close(pidfd) };
        }
    }
}

/// Answers a permission event nobody answered with the group's default;
/// `fd` is the event's own descriptor, still open. (No group: an event of
/// `OwnedEvents::EMPTY`, which has none.)
#[cold]
#[inline(never)]
fn answer_default(group: Option<Group<'_>>, fd: i32) {
    let Some(group) = group else { return };
    // SAFETY: the caller owns `fd` and closes it only after this returns.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    // Nothing to do about a failure here: the event is then answered by
    // the kernel when the group closes.
    let _ = respond(group.fd, fd, *group.default);
}

impl fmt::Debug for OwnedEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedEvent")
            .field("event", &self.event)
            .field("fd", &self.borrow_fd())
            .field("pidfd", &self.borrow_pidfd())
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
    use rustix::fd::{AsFd, AsRawFd, IntoRawFd};

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
            default: &Response::ALLOW,
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
