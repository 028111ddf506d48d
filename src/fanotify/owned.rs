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
            // is yielded once, so each is adopted once. The event owns what
            // its bits say, and closes it when dropped.
            let fd = u8::from(event.raw_fd() >= 0);
            let pidfd = u8::from(event.pidfd().is_some());
            let permission = u8::from(event.mask().intersects(PERMISSION));
            let owns = (fd * (FD | (permission * UNANSWERED))) | (pidfd * PIDFD);
            OwnedEvent {
                event,
                group: self.group,
                owns: Cell::new(owns),
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

/// [`OwnedEvent::owns`]: the event owns (and closes) its fd.
const FD: u8 = 1;
/// The event owns (and closes) its pidfd.
const PIDFD: u8 = 2;
/// A permission event not answered yet: answered with the group's default
/// before its fd closes.
const UNANSWERED: u8 = 4;

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
    /// What the event still owns and owes: [`FD`], [`PIDFD`],
    /// [`UNANSWERED`]. The descriptors are the numbers in `event`; a bit
    /// set means this event owns that number and closes it. (Bits and raw
    /// numbers rather than `Option<OwnedFd>`s: the event then stays in
    /// registers in the caller's loop; see "Cost" in src/record.rs.)
    owns: Cell<u8>,
}

impl<'buf> OwnedEvent<'buf> {
    /// Whether the event still owns what `bit` names.
    #[inline]
    fn has(&self, bit: u8) -> bool {
        self.owns.get() & bit != 0
    }

    /// Gives up what `bits` name.
    #[inline]
    fn clear(&self, bits: u8) {
        self.owns.set(self.owns.get() & !bits);
    }

    /// The event's descriptor, borrowed: a permission response made through
    /// it cannot reach a reused descriptor number.
    #[must_use]
    #[inline]
    pub fn borrow_fd(&self) -> Option<BorrowedFd<'_>> {
        // (A descriptor is never negative; testing it lets the compiler
        // drop `borrow_raw`'s own check for -1.)
        let fd = self.event.raw_fd();
        (self.has(FD) && fd >= 0).then(|| {
            // SAFETY: while the bit is set this event owns the number, and
            // it closes it only when dropped or when the fd is taken (`&mut
            // self`), so the borrow cannot outlive it.
            unsafe { BorrowedFd::borrow_raw(fd) }
        })
    }

    /// Takes the event's descriptor; the event no longer closes it, nor
    /// answers it if it is a permission event: answer it yourself
    /// ([`Fanotify::respond_fd`](super::Fanotify::respond_fd)) before you
    /// close it.
    #[inline]
    pub fn take_fd(&mut self) -> Option<OwnedFd> {
        let owned = self.has(FD);
        self.clear(FD | UNANSWERED);
        // SAFETY: the event owned the number (the bit, now cleared, said
        // so) and hands it over whole.
        owned.then(|| unsafe { OwnedFd::from_raw_fd(self.event.raw_fd()) })
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
        self.clear(UNANSWERED);
        Ok(())
    }

    /// Records that the event was answered (by the group's `respond`).
    pub(crate) fn mark_answered(&self) {
        self.clear(UNANSWERED);
    }

    /// Whether this is a permission event still waiting for an answer from
    /// this event (it is answered with the default response on drop).
    #[must_use]
    pub fn needs_answer(&self) -> bool {
        self.has(UNANSWERED)
    }

    /// The pidfd of the event's process (`REPORT_PIDFD`), borrowed.
    #[must_use]
    #[inline]
    pub fn borrow_pidfd(&self) -> Option<BorrowedFd<'_>> {
        let pidfd = self.event.pidfd()?;
        // SAFETY: as in `borrow_fd`.
        self.has(PIDFD)
            .then(|| unsafe { BorrowedFd::borrow_raw(pidfd) })
    }

    /// Takes the pidfd; the event no longer closes it.
    #[inline]
    pub fn take_pidfd(&mut self) -> Option<OwnedFd> {
        let pidfd = self.event.pidfd()?;
        let owned = self.has(PIDFD);
        self.clear(PIDFD);
        // SAFETY: as in `take_fd`.
        owned.then(|| unsafe { OwnedFd::from_raw_fd(pidfd) })
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
        let owns = self.owns.get();
        if owns == FD {
            // SAFETY: the event owns the number (see `owns`) and nothing
            // uses it after the drop.
            unsafe { rustix::io::close(self.event.raw_fd()) };
        } else if owns != 0 {
            drop_slow(self.group, self.event.raw_fd(), self.event.pidfd(), owns);
        }
    }
}

/// The rest of [`OwnedEvent`]'s drop: a permission event is answered with
/// its group's default before its fd closes; the pidfd is closed.
#[cold]
#[inline(never)]
fn drop_slow(group: Option<Group<'_>>, fd: i32, pidfd: Option<i32>, owns: u8) {
    if owns & UNANSWERED != 0 {
        if let Some(group) = group {
            answer_default(group, fd);
        }
    }
    if owns & FD != 0 {
        // SAFETY: the event owned the number and is being dropped.
        unsafe { rustix::io::close(fd) };
    }
    if let (Some(pidfd), true) = (pidfd, owns & PIDFD != 0) {
        // SAFETY: as above.
        unsafe { rustix::io::close(pidfd) };
    }
}

/// Answers a permission event nobody answered with the group's default;
/// `fd` is the event's own descriptor, still open.
fn answer_default(group: Group<'_>, fd: i32) {
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
