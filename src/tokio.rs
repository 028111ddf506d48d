//! Every descriptor object as tokio futures: [`Async<T>`] awaits readiness
//! through tokio's `AsyncFd` and reads into the same caller buffers, with
//! the same borrowing iterators, as the blocking calls.
//!
//! | object | async calls |
//! |---|---|
//! | [`Inotify`] | [`read`](Async::<Inotify>::read), [`reader`](Async::<Inotify>::reader) → [`Reader::read_event`](Reader::<Inotify>::read_event), [`stream`](Async::<Inotify>::stream) |
//! | [`Tree`](crate::inotify::Tree) (recursive) | [`AsyncTree`]: [`read`](AsyncTree::read) (`&mut self`, the blocking call's callback items), [`stream`](AsyncTree::stream) → [`TreeStream`] of [`OwnedTreeItem`]s, [`rescan`](TreeStream::rescan) |
//! | [`Fanotify`] | [`read`](Async::<Fanotify>::read), [`reader`](Async::<Fanotify>::reader) → [`Reader::read_event`](Reader::<Fanotify>::read_event), [`stream`](Async::<Fanotify>::stream) of [`FanotifyEvent`]s; [`respond`](Async::<Fanotify>::respond), [`respond_fd`](Async::<Fanotify>::respond_fd) (or [`FanotifyEvent::respond`] for a stream's events) |
//! | [`SignalFd`] | [`read`](Async::<SignalFd>::read), [`reader`](Async::<SignalFd>::reader) → [`Reader::read_event`](Reader::<SignalFd>::read_event), [`stream`](Async::<SignalFd>::stream) |
//! | [`TimerFd`] | [`read`](Async::<TimerFd>::read), [`stream`](Async::<TimerFd>::stream) |
//! | [`EventFd`] | [`read`](Async::<EventFd>::read), [`write`](Async::<EventFd>::write), [`stream`](Async::<EventFd>::stream) |
//! | [`Listener`] (seccomp) | [`recv`](Async::<Listener>::recv), [`respond`](Async::<Listener>::respond), [`stream`](Async::<Listener>::stream) |
//! | [`aio::Context`](crate::aio::Context) | [`AsyncAio`]: [`getevents`](AsyncAio::getevents) awaits its eventfd, then reaps without waiting |
//!
//! # How it works
//! kernfd keeps every object's descriptor `O_NONBLOCK` in the kernel.
//! [`Async::new`] also switches the object's *mode* to non-blocking (and
//! [`Async::into_inner`] switches it back), so the object's own calls return
//! `EAGAIN` instead of polling. Each async call makes the object's ordinary
//! non-blocking call; while the kernel answers `EAGAIN` it awaits tokio's
//! readiness, calls again, and clears readiness only after a call made
//! under it answered `EAGAIN`. Readiness is never cleared on a guess, so an
//! edge-triggered wakeup is never lost, and no call on an async path can
//! block the runtime.
//!
//! # Cancellation safety
//! The read (or write) syscall happens only inside the poll that then
//! returns `Ready` with its result. A future dropped while pending has made
//! no syscall that consumed anything: every `read`, `read_event` and
//! `write` here is cancellation safe, so they can sit in a `select!` branch
//! that loses. A [`Reader`] keeps the events of its last read in its
//! buffer, so `read_event` futures dropped in between lose nothing either.
//!
//! # Example
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use kernfd::inotify::{Inotify, WatchFlags};
//! use kernfd::tokio::Async;
//!
//! let dir = tempfile::tempdir()?;
//! let inotify = Async::new(Inotify::new()?)?;
//! inotify.get_ref().add_watch(dir.path(), WatchFlags::CREATE)?;
//! std::fs::File::create(dir.path().join("a"))?;
//!
//! let mut buf = [0_u8; kernfd::inotify::DEFAULT_BUFFER_LEN];
//! let event = inotify.read(&mut buf).await?.next().unwrap()?;
//! assert_eq!(event.name_bytes(), b"a");
//! # Ok(())
//! # }
//! ```

use core::mem::MaybeUninit;

use ::tokio::io::unix::AsyncFd;
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use rustix::io::Errno;

use crate::buffer::{Buffer, uninit};
use crate::error::{Error, Result};
use crate::eventfd::EventFd;
use crate::fanotify::{self, Fanotify, OwnedEvent, OwnedEvents};
use crate::inotify::{self, Event, Events, Inotify};
use crate::seccomp::Listener;
use crate::signalfd::{self, Siginfo, Siginfos, SignalFd};
use crate::timerfd::{Outcome, TimerFd};

mod aio;
mod fanotify_stream;
mod seccomp;
mod tree;

pub use aio::AsyncAio;
pub use fanotify_stream::FanotifyEvent;
pub use tree::{AsyncTree, OwnedTreeEvent, OwnedTreeItem, TreeStream};

mod sealed {
    /// What [`super::Async`] needs of an object: its mode.
    pub trait Object: rustix::fd::AsFd + rustix::fd::AsRawFd + Sync {
        fn is_nonblocking(&self) -> bool;
        fn set_nonblocking(&self, nonblocking: bool) -> crate::Result<()>;
    }

    /// What [`super::Reader`] needs of a blocking reader.
    #[allow(unreachable_pub)] // sealed: a bound of the public `Records::Reader`
    pub trait Buffered {
        fn buffered(&self) -> usize;
    }
}

/// A kernfd descriptor object that [`Async`] can wrap: [`Inotify`],
/// [`Fanotify`], [`SignalFd`], [`TimerFd`], [`EventFd`], [`Listener`].
/// Sealed.
pub trait Object: sealed::Object {}

/// An object read in records through a one-at-a-time reader (Butter's
/// `read_event`): [`Inotify`], [`Fanotify`], [`SignalFd`]. Sealed.
pub trait Records: Object {
    /// The blocking reader the async [`Reader`] drives.
    type Reader<'a>: core::fmt::Debug + sealed::Buffered
    where
        Self: 'a;
}

/// Adds an object: its mode calls, and its reader when it has one.
macro_rules! object {
    ($ty:ty $(, $reader:ty)?) => {
        impl sealed::Object for $ty {
            fn is_nonblocking(&self) -> bool {
                <$ty>::is_nonblocking(self)
            }
            fn set_nonblocking(&self, nonblocking: bool) -> Result<()> {
                <$ty>::set_nonblocking(self, nonblocking)
            }
        }
        impl Object for $ty {}
        $(impl Records for $ty {
            type Reader<'a> = $reader;
        }
        impl<'a> sealed::Buffered for $reader {
            fn buffered(&self) -> usize {
                <$reader>::buffered(self)
            }
        })?
    };
}
object!(Inotify, inotify::Reader<'a>);
object!(Fanotify, fanotify::Reader<'a>);
object!(SignalFd, signalfd::Reader<'a>);
object!(TimerFd);
object!(EventFd);
object!(Listener);

/// A kernfd object registered with the tokio reactor.
///
/// Reach the object's other calls (`add_watch`, `set`, `respond`, …)
/// through [`get_ref`](Self::get_ref). Its mode stays non-blocking while it
/// is wrapped: a blocking-mode call on an async path would stall the
/// runtime, so do not switch it back through `get_ref`.
///
/// `Sync`: several tasks may await one object; each record goes to one of
/// them, and a task that loses the race awaits again.
#[derive(Debug)]
pub struct Async<T: Object> {
    fd: AsyncFd<T>,
    was_nonblocking: bool,
}

/// A tokio error as kernfd's: its errno, or `EIO` when it has none (the
/// runtime is shutting down); `call` is `"tokio"`.
fn from_io(e: &std::io::Error) -> Error {
    Error::Os {
        call: "tokio",
        errno: e.raw_os_error().map_or(Errno::IO, Errno::from_raw_os_error),
    }
}

/// Whether `r` is the kernel's "nothing now".
fn would_block<R>(r: &Result<R>) -> bool {
    matches!(r, Err(Error::Os { errno, .. }) if *errno == Errno::AGAIN)
}

impl<T: Object> Async<T> {
    /// Registers `object` with the current tokio runtime's reactor and
    /// switches its mode to non-blocking.
    ///
    /// # Errors
    /// `Error::Os { call: "tokio", .. }`: `EIO` outside a tokio runtime,
    /// `EPERM` for a descriptor epoll cannot watch (a regular file adopted
    /// through `From<OwnedFd>`), `ENOMEM`/`ENOSPC` from `epoll_ctl`. The
    /// object is dropped (closed) then.
    ///
    /// # Panics
    /// Inside a runtime built without `enable_io` (tokio's own panic).
    pub fn new(object: T) -> Result<Self> {
        if ::tokio::runtime::Handle::try_current().is_err() {
            return Err(Error::Os {
                call: "tokio",
                errno: Errno::IO,
            });
        }
        let was_nonblocking = object.is_nonblocking();
        object.set_nonblocking(true)?;
        // SAFETY: a kernfd object owns its descriptor, closes it only when
        // dropped, and its `as_raw_fd` always returns that one descriptor.
        let fd = unsafe { AsyncFd::register(object) }.map_err(|e| from_io(&e.into_parts().1))?;
        Ok(Self {
            fd,
            was_nonblocking,
        })
    }

    /// The object.
    #[must_use]
    pub fn get_ref(&self) -> &T {
        self.fd.get_ref()
    }

    /// Deregisters the object and gives it back, in the mode it had.
    ///
    /// # Errors
    /// None in practice (restoring the mode is an atomic store).
    pub fn into_inner(self) -> Result<T> {
        let object = self.fd.into_inner();
        object.set_nonblocking(self.was_nonblocking)?;
        Ok(object)
    }

    /// The object, in non-blocking mode: if someone switched it back
    /// through `get_ref`, this undoes it, since a blocking call on an async
    /// path would stall the runtime.
    fn nonblocking(&self) -> Result<&T> {
        let object = self.fd.get_ref();
        if !object.is_nonblocking() {
            object.set_nonblocking(true)?;
        }
        Ok(object)
    }

    /// The one readiness loop: run `io` (a non-blocking call on the
    /// object); while it says `EAGAIN`, await readiness and run it again,
    /// clearing readiness only after a run under it said `EAGAIN`.
    /// `io` runs only in the poll that returns its result, so dropping the
    /// future in between loses nothing.
    async fn io<'s, R>(
        &'s self,
        writable: bool,
        mut io: impl FnMut(&'s T) -> Result<R>,
    ) -> Result<R> {
        // Try first: a queued record needs no readiness, and checks that
        // come before any syscall (a short buffer) fail at once.
        let got = io(self.nonblocking()?);
        if !would_block(&got) {
            return got;
        }
        loop {
            let mut guard = if writable {
                self.fd.writable().await
            } else {
                self.fd.readable().await
            }
            .map_err(|e| from_io(&e))?;
            let got = io(self.nonblocking()?);
            if !would_block(&got) {
                return got;
            }
            guard.clear_ready();
        }
    }

    /// [`io`](Self::io) for a call that fills `buf` and returns what
    /// borrows it.
    async fn fill<'s, 'b, R: 'b>(
        &'s self,
        buf: &'b mut [MaybeUninit<u8>],
        mut io: impl FnMut(&'s T, &'b mut [MaybeUninit<u8>]) -> Result<R>,
    ) -> Result<R> {
        let len = buf.len();
        self.io(false, |object| {
            // SAFETY: `buf` is borrowed exclusively for `'b`, and only
            // through the slices made here. A call that fails returns an
            // error that borrows nothing, so its slice is gone before the
            // next attempt makes another; the one that succeeds ends the
            // loop and its result is the only borrow left.
            let attempt = unsafe { core::slice::from_raw_parts_mut(buf.as_mut_ptr(), len) };
            io(object, attempt)
        })
        .await
    }
}

impl<T: Object> AsRawFd for Async<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl<T: Object> AsFd for Async<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.get_ref().as_fd()
    }
}

/// Butter's `read_event` over an [`Async`] object: a blocking-API reader
/// (events parsed in place in a caller buffer) whose reads await readiness.
///
/// Made by `Async::<T>::reader`. It reads from the kernel only when every
/// buffered event was handed out.
#[derive(Debug)]
pub struct Reader<'a, T: Records> {
    fd: &'a Async<T>,
    reader: T::Reader<'a>,
}

impl<'a, T: Records> Reader<'a, T> {
    /// Bytes read from the kernel and not handed out yet: `0` means the
    /// next `read_event` reads (once the object is readable).
    #[must_use]
    pub fn buffered(&self) -> usize {
        sealed::Buffered::buffered(&self.reader)
    }

    /// The readiness loop around one call of the blocking reader, whose
    /// result borrows `self`.
    async fn next<'s, R: 's>(
        &'s mut self,
        mut call: impl FnMut(&'s mut T::Reader<'a>) -> Result<R>,
    ) -> Result<R> {
        let reader: *mut T::Reader<'a> = &raw mut self.reader;
        self.fd
            .io(false, |_| {
                // SAFETY: `self` is borrowed exclusively for `'s`, and the
                // reader only through the references made here. A call that
                // fails returns an error that borrows nothing, so its
                // reference is gone before the next attempt makes another;
                // the one that succeeds ends the loop.
                call(unsafe { &mut *reader })
            })
            .await
    }
}

/// The cancellation-safety section of every read.
macro_rules! records_doc {
    () => {
        "\n\n# Cancellation safety\nCancellation safe: the read syscall happens only in the poll that returns \
         `Ready`, so a future dropped while pending consumed no event."
    };
}

impl Async<Inotify> {
    /// [`Inotify::read`], awaiting the first event: reads as many whole
    /// events as fit into `buf` and iterates them in place.
    #[doc = records_doc!()]
    ///
    /// # Errors
    /// As [`Inotify::read`] (never `EAGAIN`); tokio errors as in
    /// [`Async::new`].
    pub async fn read<'b, B: Buffer + ?Sized>(&self, buf: &'b mut B) -> Result<Events<'b>> {
        self.fill(uninit(buf), Inotify::read).await
    }

    /// A one-event-at-a-time [`Reader`] into `buf`.
    ///
    /// # Errors
    /// As [`inotify::Reader::new`].
    pub fn reader<'a, B: Buffer + ?Sized>(&'a self, buf: &'a mut B) -> Result<Reader<'a, Inotify>> {
        Ok(Reader {
            fd: self,
            reader: inotify::Reader::new(self.get_ref(), buf)?,
        })
    }
}

impl Reader<'_, Inotify> {
    /// The next event: a buffered one (no syscall), or the first of a read
    /// made once the instance is readable. See
    /// [`inotify::Reader::read_event`].
    #[doc = records_doc!()]
    /// Buffered events stay buffered.
    ///
    /// # Errors
    /// As [`Async::<Inotify>::read`].
    pub async fn read_event(
        &mut self,
    ) -> Result<core::result::Result<Event<'_>, inotify::EventError>> {
        self.next(inotify::Reader::read_event).await
    }

    /// Every buffered event, or those of one read made once readable.
    #[doc = records_doc!()]
    ///
    /// # Errors
    /// As [`Async::<Inotify>::read`].
    pub async fn read_events(&mut self) -> Result<Events<'_>> {
        self.next(inotify::Reader::read_events).await
    }
}

impl Async<Fanotify> {
    /// [`Fanotify::read`], awaiting the first event. Answer permission
    /// events with [`respond`](Self::respond) (or the ordinary
    /// [`OwnedEvent::respond`]).
    #[doc = records_doc!()]
    ///
    /// # Errors
    /// As [`Fanotify::read`] (never `EAGAIN`); tokio errors as in
    /// [`Async::new`].
    pub async fn read<'b, B: Buffer + ?Sized>(&'b self, buf: &'b mut B) -> Result<OwnedEvents<'b>> {
        self.fill(uninit(buf), Fanotify::read).await
    }

    /// A one-event-at-a-time [`Reader`] into `buf`.
    ///
    /// # Errors
    /// As [`fanotify::Reader::new`].
    pub fn reader<'a, B: Buffer + ?Sized>(
        &'a self,
        buf: &'a mut B,
    ) -> Result<Reader<'a, Fanotify>> {
        Ok(Reader {
            fd: self,
            reader: fanotify::Reader::new(self.get_ref(), buf)?,
        })
    }

    /// [`Fanotify::respond`]: answers a permission event through its own
    /// fd; the event is then not answered again when dropped. A response is
    /// a `write(2)` that the kernel handles at once (the blocked process is
    /// woken, not awaited), so this completes in its first poll; it is
    /// async for symmetry with [`read`](Self::read).
    ///
    /// # Errors
    /// As [`Fanotify::respond`]: [`Error::NoEventFd`] when the event has no
    /// fd, `ENOENT` when it was answered already, `EINVAL` for a bad
    /// response.
    #[allow(clippy::unused_async)] // see above: the async twin of a call that never waits
    pub async fn respond(
        &self,
        event: &OwnedEvent<'_>,
        response: fanotify::Response,
    ) -> Result<()> {
        self.get_ref().respond(event, response)
    }

    /// [`Fanotify::respond_fd`]: answers a permission event whose fd you
    /// took; completes in its first poll, as [`respond`](Self::respond).
    ///
    /// # Errors
    /// As [`Fanotify::respond_fd`].
    #[allow(clippy::unused_async)] // see `respond`
    pub async fn respond_fd(
        &self,
        event_fd: BorrowedFd<'_>,
        response: fanotify::Response,
    ) -> Result<()> {
        self.get_ref().respond_fd(event_fd, response)
    }
}

impl Reader<'_, Fanotify> {
    /// The next event: a buffered one (no syscall), or the first of a read
    /// made once the group is readable. See
    /// [`fanotify::Reader::read_event`].
    #[doc = records_doc!()]
    /// Buffered events stay buffered.
    ///
    /// # Errors
    /// As [`Async::<Fanotify>::read`].
    pub async fn read_event(
        &mut self,
    ) -> Result<core::result::Result<OwnedEvent<'_>, fanotify::EventError>> {
        self.next(fanotify::Reader::read_event).await
    }
}

impl Async<SignalFd> {
    /// [`SignalFd::read`], awaiting the first signal.
    #[doc = records_doc!()]
    ///
    /// # Errors
    /// As [`SignalFd::read`] (never `EAGAIN`); tokio errors as in
    /// [`Async::new`].
    pub async fn read<'b, B: Buffer + ?Sized>(&self, buf: &'b mut B) -> Result<Siginfos<'b>> {
        self.fill(uninit(buf), SignalFd::read).await
    }

    /// A one-signal-at-a-time [`Reader`] into `buf`.
    ///
    /// # Errors
    /// As [`signalfd::Reader::new`].
    pub fn reader<'a, B: Buffer + ?Sized>(
        &'a self,
        buf: &'a mut B,
    ) -> Result<Reader<'a, SignalFd>> {
        Ok(Reader {
            fd: self,
            reader: signalfd::Reader::new(self.get_ref(), buf)?,
        })
    }
}

impl Reader<'_, SignalFd> {
    /// The next signal: a buffered one (no syscall), or the first of a read
    /// made once readable. See [`signalfd::Reader::read_event`].
    #[doc = records_doc!()]
    /// Buffered signals stay buffered.
    ///
    /// # Errors
    /// As [`Async::<SignalFd>::read`].
    pub async fn read_event(
        &mut self,
    ) -> Result<core::result::Result<Siginfo<'_>, signalfd::ParseError>> {
        self.next(signalfd::Reader::read_event).await
    }
}

impl Async<TimerFd> {
    /// [`TimerFd::read`], awaiting an expiration: the expirations since the
    /// timer was set or last read, or [`Outcome::Canceled`].
    #[doc = records_doc!()]
    ///
    /// # Errors
    /// As [`TimerFd::read`] (never `EAGAIN`).
    pub async fn read(&self) -> Result<Outcome> {
        self.io(false, TimerFd::read).await
    }
}

impl Async<EventFd> {
    /// [`EventFd::read`], awaiting a non-zero counter.
    #[doc = records_doc!()]
    ///
    /// # Errors
    /// As [`EventFd::read`] (never `EAGAIN`).
    pub async fn read(&self) -> Result<u64> {
        self.io(false, EventFd::read).await
    }

    /// [`EventFd::write`], awaiting room when the counter would pass
    /// [`eventfd::MAX`](crate::eventfd::MAX).
    ///
    /// # Cancellation safety
    /// Cancellation safe: the write happens only in the poll that returns
    /// `Ready`, so a future dropped while pending added nothing.
    ///
    /// # Errors
    /// As [`EventFd::write`] (`EINVAL` for `u64::MAX`; never `EAGAIN`).
    pub async fn write(&self, value: u64) -> Result<()> {
        self.io(true, |e| e.write(value)).await
    }
}

mod streamed {
    /// What [`super::Stream`] needs: one read of the object, its records
    /// turned into owned items and queued.
    pub trait Streamed: super::Object + Sized {
        type Item<'a>: Unpin
        where
            Self: 'a;
        const BUFFER_LEN: usize;
        fn fill<'a>(
            object: &'a Self,
            buf: &mut [u8],
            queue: &mut alloc::collections::VecDeque<Self::Item<'a>>,
        ) -> crate::Result<()>;
    }
}

/// An owned inotify event, as [`Async::<Inotify>::stream`] yields it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct InotifyEvent {
    /// The watch descriptor ([`Event::wd`]).
    pub wd: i32,
    /// What happened ([`Event::mask`]).
    pub mask: inotify::EventFlags,
    /// Ties the two halves of a rename ([`Event::cookie`]).
    pub cookie: u32,
    /// The name in the watched directory, without its NUL padding; empty
    /// for the watched object itself ([`Event::name_bytes`]).
    pub name: alloc::vec::Vec<u8>,
}

impl From<Event<'_>> for InotifyEvent {
    fn from(e: Event<'_>) -> Self {
        Self {
            wd: e.wd(),
            mask: e.mask(),
            cookie: e.cookie(),
            name: e.name_bytes().to_vec(),
        }
    }
}

/// An owned signalfd record, as [`Async::<SignalFd>::stream`] yields it:
/// the fields most handlers look at, and the whole record (parse it again
/// with [`signalfd::parse`] for the others).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SignalInfo {
    /// The signal ([`Siginfo::signal`]).
    pub signal: Option<crate::signal::Signal>,
    /// How it was sent ([`Siginfo::code`]).
    pub code: i32,
    /// The sender's pid, for `kill` and `sigqueue` ([`Siginfo::pid`]).
    pub pid: u32,
    /// The sender's real uid ([`Siginfo::uid`]).
    pub uid: u32,
    /// The record as the kernel wrote it.
    pub raw: [u8; signalfd::SIGINFO_LEN],
}

impl From<Siginfo<'_>> for SignalInfo {
    fn from(s: Siginfo<'_>) -> Self {
        Self {
            signal: s.signal(),
            code: s.code(),
            pid: s.pid(),
            uid: s.uid(),
            raw: *s.as_bytes(),
        }
    }
}

impl streamed::Streamed for Inotify {
    type Item<'a> = core::result::Result<InotifyEvent, inotify::EventError>;
    const BUFFER_LEN: usize = inotify::DEFAULT_BUFFER_LEN;
    fn fill<'a>(
        object: &'a Self,
        buf: &mut [u8],
        queue: &mut alloc::collections::VecDeque<Self::Item<'a>>,
    ) -> Result<()> {
        queue.extend(object.read(buf)?.map(|e| e.map(InotifyEvent::from)));
        Ok(())
    }
}

impl streamed::Streamed for SignalFd {
    type Item<'a> = core::result::Result<SignalInfo, signalfd::ParseError>;
    const BUFFER_LEN: usize = 16 * signalfd::SIGINFO_LEN;
    fn fill<'a>(
        object: &'a Self,
        buf: &mut [u8],
        queue: &mut alloc::collections::VecDeque<Self::Item<'a>>,
    ) -> Result<()> {
        queue.extend(object.read(buf)?.map(|s| s.map(SignalInfo::from)));
        Ok(())
    }
}

impl streamed::Streamed for TimerFd {
    type Item<'a> = Outcome;
    const BUFFER_LEN: usize = 0;
    fn fill(
        object: &Self,
        _: &mut [u8],
        queue: &mut alloc::collections::VecDeque<Outcome>,
    ) -> Result<()> {
        queue.push_back(object.read()?);
        Ok(())
    }
}

impl streamed::Streamed for EventFd {
    type Item<'a> = u64;
    const BUFFER_LEN: usize = 0;
    fn fill(
        object: &Self,
        _: &mut [u8],
        queue: &mut alloc::collections::VecDeque<u64>,
    ) -> Result<()> {
        queue.push_back(object.read()?);
        Ok(())
    }
}

/// A `futures_core::Stream` of owned records, for callers who prefer
/// streams to buffers: made by [`Async::<Inotify>::stream`],
/// [`Async::<Fanotify>::stream`], [`Async::<SignalFd>::stream`],
/// [`Async::<TimerFd>::stream`], [`Async::<EventFd>::stream`] and
/// [`Async::<Listener>::stream`].
///
/// It owns a read buffer and a queue: each read from the kernel is turned
/// into owned items at once, so dropping a pending `next()` (or the stream
/// between items) loses nothing that was read — only the queued items of a
/// dropped stream go with it. It allocates per record (the owned name),
/// which the buffer-based [`Reader`] does not.
///
/// It ends only for a seccomp listener that hung up (no task uses its
/// filter any more); otherwise an error from a read is yielded as an item
/// and the next poll reads again.
#[derive(Debug)]
pub struct Stream<'a, T: streamed::Streamed> {
    fd: &'a Async<T>,
    buf: alloc::vec::Vec<u8>,
    queue: alloc::collections::VecDeque<T::Item<'a>>,
}

impl<T: streamed::Streamed> Async<T> {
    fn make_stream(&self) -> Stream<'_, T> {
        Stream {
            fd: self,
            buf: alloc::vec![0; T::BUFFER_LEN],
            queue: alloc::collections::VecDeque::new(),
        }
    }
}

impl<'a, T: streamed::Streamed> futures_core::Stream for Stream<'a, T> {
    type Item = Result<T::Item<'a>>;

    fn poll_next(
        self: core::pin::Pin<&mut Self>,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<Option<Self::Item>> {
        use core::task::Poll;
        let this = self.get_mut();
        loop {
            if let Some(item) = this.queue.pop_front() {
                return Poll::Ready(Some(Ok(item)));
            }
            let mut guard = match this.fd.fd.poll_read_ready(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Some(Err(from_io(&e)))),
                Poll::Ready(Ok(guard)) => guard,
            };
            let fd: &'a Async<T> = this.fd;
            let got = fd
                .nonblocking()
                .and_then(|object| T::fill(object, &mut this.buf, &mut this.queue));
            if would_block(&got) {
                guard.clear_ready();
            } else if let Err(Error::EndOfFile { .. }) = got {
                // A seccomp listener that hung up: nothing can come again.
                return Poll::Ready(None);
            } else if let Err(e) = got {
                return Poll::Ready(Some(Err(e)));
            }
        }
    }
}

impl Async<Inotify> {
    /// A [`Stream`] of owned events ([`InotifyEvent`]), read through a
    /// buffer of [`DEFAULT_BUFFER_LEN`](inotify::DEFAULT_BUFFER_LEN) bytes.
    /// Each item is the event or what the parser found instead (a queue
    /// overflow, a malformed record).
    ///
    /// # Cancellation safety
    /// Cancellation safe: see [`Stream`].
    #[must_use]
    pub fn stream(&self) -> Stream<'_, Inotify> {
        self.make_stream()
    }
}

impl Async<SignalFd> {
    /// A [`Stream`] of owned signal records ([`SignalInfo`]), read 16 at
    /// a time at most.
    ///
    /// # Cancellation safety
    /// Cancellation safe: see [`Stream`].
    #[must_use]
    pub fn stream(&self) -> Stream<'_, SignalFd> {
        self.make_stream()
    }
}

impl Async<TimerFd> {
    /// A [`Stream`] of expirations: each item is what one
    /// [`read`](Self::read) returns (the count since the last read, or
    /// [`Outcome::Canceled`]).
    ///
    /// # Cancellation safety
    /// Cancellation safe: see [`Stream`].
    ///
    /// # Example
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use futures_core::Stream as _;
    /// use kernfd::timerfd::{Outcome, TimerFd};
    /// use kernfd::tokio::Async;
    ///
    /// let timer = Async::new(TimerFd::new()?)?;
    /// timer.get_ref().set_after(Duration::from_millis(1), Duration::from_millis(1))?;
    /// let mut ticks = timer.stream();
    /// let mut total = 0;
    /// while total < 3 {
    ///     let next = std::future::poll_fn(|cx| std::pin::Pin::new(&mut ticks).poll_next(cx));
    ///     if let Outcome::Expired(n) = next.await.unwrap()? {
    ///         total += n;
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn stream(&self) -> Stream<'_, TimerFd> {
        self.make_stream()
    }
}

impl Async<EventFd> {
    /// A [`Stream`] of counter values: each item is what one
    /// [`read`](Self::read) returns (the sum of the writes since the last
    /// read, or 1 in semaphore mode).
    ///
    /// # Cancellation safety
    /// Cancellation safe: see [`Stream`].
    ///
    /// # Example
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use futures_core::Stream as _;
    /// use kernfd::eventfd::EventFd;
    /// use kernfd::tokio::Async;
    ///
    /// let counter = Async::new(EventFd::new(0)?)?;
    /// counter.write(2).await?;
    /// counter.write(3).await?;
    /// let mut values = counter.stream();
    /// let next = std::future::poll_fn(|cx| std::pin::Pin::new(&mut values).poll_next(cx));
    /// assert_eq!(next.await.unwrap()?, 5);
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn stream(&self) -> Stream<'_, EventFd> {
        self.make_stream()
    }
}
