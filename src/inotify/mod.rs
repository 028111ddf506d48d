//! inotify: watch files and directories for changes.
//!
//! Three layers, as everywhere in kernfd:
//! - [`parse`] walks `inotify_event` records in any byte slice, with no
//!   syscall: the fuzzable, bounds-checked core.
//! - [`init`], [`add_watch`], [`rm_watch`] and [`read`] are 1:1 syscalls over
//!   any descriptor, returning the kernel's [`Errno`].
//! - [`Inotify`] owns the descriptor and adds what the bare calls lack:
//!   close-on-exec by default, buffer sizes checked up front, limits
//!   explained ([`Error`]), bounded waits with a [`Waker`], a drain loop.
//!
//! Reading never allocates: events borrow the caller's buffer.
//!
//! # Example
//! ```
//! use kernfd::inotify::{EventFlags, Inotify, WatchFlags};
//!
//! let dir = tempfile::tempdir()?;
//! let inotify = Inotify::new()?;
//! let wd = inotify.add_watch(dir.path(), WatchFlags::CREATE | WatchFlags::DELETE)?;
//! std::fs::write(dir.path().join("hello.txt"), b"hi")?;
//!
//! let mut buf = [0_u8; 4096];
//! let mut events = inotify.read(&mut buf)?;
//! let event = events.next().unwrap()?;
//! assert_eq!((event.wd(), event.mask()), (wd, EventFlags::CREATE));
//! assert_eq!(event.name_bytes(), b"hello.txt");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # References
//! [inotify(7)](https://man7.org/linux/man-pages/man7/inotify.7.html)

mod error;
mod event;
mod flags;
mod parse_error;
#[cfg(any(test, fuzzing))]
#[doc(hidden)]
pub mod reference;

pub use error::Error;
pub use event::{DEFAULT_BUFFER_LEN, Event, Events, HEADER_LEN, MIN_BUFFER_LEN, NAME_MAX, parse};
pub use flags::{EventFlags, InitFlags, WatchFlags};
pub use parse_error::{EventError, ParseError, ParseErrorKind};

use rustix::fd::{AsFd, OwnedFd};
use rustix::io::Errno;

use crate::buffer::{Buffer, read_into};
use crate::wait::{Wait, Waker, drain_reads, read_after_wait};

/// `inotify_init1(flags)`: a new inotify descriptor.
///
/// # Errors
/// `EINVAL` for unknown flags, `EMFILE` (instance or descriptor limit),
/// `ENFILE`, `ENOMEM`.
///
/// # References
/// [inotify_init1(2)](https://man7.org/linux/man-pages/man2/inotify_init1.2.html)
#[doc(alias = "inotify_init1")]
pub fn init(flags: InitFlags) -> Result<OwnedFd, Errno> {
    rustix::fs::inotify::init(rustix::fs::inotify::CreateFlags::from_bits_retain(
        flags.bits(),
    ))
}

/// `inotify_add_watch(fd, path, mask)`: watch `path`, or change its watch;
/// returns the watch descriptor.
///
/// # Errors
/// `ENOENT` (no such path), `ENOTDIR` (with `ONLYDIR`), `EEXIST` (with
/// `MASK_CREATE` on an already watched object), `EINVAL` (no event bit, both
/// `MASK_ADD` and `MASK_CREATE`, unknown bits, or `fd` not inotify), `EACCES`,
/// `EBADF`, `ENOSPC` (watch limit), `ENOMEM`, `ENAMETOOLONG`.
///
/// # References
/// [inotify_add_watch(2)](https://man7.org/linux/man-pages/man2/inotify_add_watch.2.html)
#[doc(alias = "inotify_add_watch")]
pub fn add_watch<P: rustix::path::Arg>(
    fd: impl AsFd,
    path: P,
    mask: WatchFlags,
) -> Result<i32, Errno> {
    rustix::fs::inotify::add_watch(
        fd,
        path,
        rustix::fs::inotify::WatchFlags::from_bits_retain(mask.bits()),
    )
}

/// `inotify_rm_watch(fd, wd)`: remove a watch. The kernel then queues an
/// `IN_IGNORED` event for it.
///
/// # Errors
/// `EINVAL` when `wd` is not a watch of `fd` (or `fd` is not inotify), `EBADF`.
///
/// # References
/// [inotify_rm_watch(2)](https://man7.org/linux/man-pages/man2/inotify_rm_watch.2.html)
#[doc(alias = "inotify_rm_watch")]
pub fn rm_watch(fd: impl AsFd, wd: i32) -> Result<(), Errno> {
    rustix::fs::inotify::remove_watch(fd, wd)
}

/// `read(fd, buf)` on an inotify descriptor, parsed in place.
///
/// The bare call: no buffer check, so a buffer too small for the next event
/// fails with the kernel's `EINVAL`. [`Inotify::read`] checks first.
///
/// # Errors
/// `EAGAIN` (non-blocking, nothing queued), `EINVAL` (buffer too small for
/// the next event), `EINTR` (a signal handler ran), `EBADF`.
pub fn read<B: Buffer + ?Sized>(fd: impl AsFd, buf: &mut B) -> Result<Events<'_>, Errno> {
    Ok(parse(read_into(fd, buf.as_uninit())?))
}

/// An owned inotify instance.
///
/// Close-on-exec by default; closed on drop. `Sync`: watches can be added
/// from one thread while another reads.
#[derive(Debug)]
pub struct Inotify {
    fd: OwnedFd,
}

impl Inotify {
    /// A new blocking, close-on-exec instance (`inotify_init1(IN_CLOEXEC)`).
    ///
    /// # Errors
    /// [`Error::InstanceLimit`] when `max_user_instances` is reached;
    /// [`Error::Os`] with `EMFILE`, `ENFILE` or `ENOMEM` otherwise.
    pub fn new() -> Result<Self, Error> {
        Self::with_flags(InitFlags::CLOEXEC)
    }

    /// A new instance with exactly `flags` (add [`InitFlags::CLOEXEC`]
    /// yourself if you want it).
    ///
    /// # Errors
    /// As [`Inotify::new`], and `EINVAL` for unknown flags.
    pub fn with_flags(flags: InitFlags) -> Result<Self, Error> {
        match init(flags) {
            Ok(fd) => Ok(Self { fd }),
            Err(Errno::MFILE) => Err(explain_emfile()),
            Err(e) => Err(Error::Os(e)),
        }
    }

    /// Watches `path` for `mask` (see [`add_watch`]); returns the watch
    /// descriptor that its events carry. Watching an object again changes
    /// its watch (or adds to it with `MASK_ADD`) and returns the same wd.
    ///
    /// # Errors
    /// [`Error::WatchLimit`] for `ENOSPC`; the other errnos of [`add_watch`]
    /// as [`Error::Os`].
    pub fn add_watch<P: rustix::path::Arg>(&self, path: P, mask: WatchFlags) -> Result<i32, Error> {
        add_watch(&self.fd, path, mask).map_err(|e| match e {
            Errno::NOSPC => Error::WatchLimit,
            e => Error::Os(e),
        })
    }

    /// Removes watch `wd` (see [`rm_watch`]). An `IN_IGNORED` event follows.
    ///
    /// # Errors
    /// `EINVAL` when `wd` is not one of this instance's watches.
    pub fn rm_watch(&self, wd: i32) -> Result<(), Error> {
        Ok(rm_watch(&self.fd, wd)?)
    }

    /// Reads queued events into `buf` and iterates them in place.
    ///
    /// Blocks until at least one event is queued, unless the instance is
    /// non-blocking (then `EAGAIN`). One read returns as many whole events as
    /// fit; call again (or use [`drain`](Self::drain)) for the rest.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] when `buf` is shorter than
    /// [`MIN_BUFFER_LEN`], before any syscall. `EAGAIN` when non-blocking and
    /// empty. `EINTR` when a signal handler interrupted the wait: it is
    /// returned, not retried, so a signal can end a blocking read.
    pub fn read<'b, B: Buffer + ?Sized>(&self, buf: &'b mut B) -> Result<Events<'b>, Error> {
        let buf = checked(buf.as_uninit())?;
        Ok(parse(read_into(&self.fd, buf)?))
    }

    /// inotify_simple's `read(timeout, read_delay)`: waits as `wait` says for
    /// the first event, optionally lingers for more, then reads once.
    ///
    /// Returns no events when the timeout passes or the waker is woken first.
    ///
    /// # Errors
    /// As [`read`](Self::read); `EINTR` from the wait is returned, not retried.
    ///
    /// # Example
    /// ```
    /// use std::time::Duration;
    /// use kernfd::inotify::Inotify;
    /// use kernfd::wait::Wait;
    ///
    /// let inotify = Inotify::new()?;
    /// let mut buf = [0_u8; 4096];
    /// let events = inotify.read_wait(&mut buf, Wait::new().timeout(Duration::from_millis(10)))?;
    /// assert!(events.is_empty(), "nothing is watched, so the wait times out");
    /// # Ok::<(), kernfd::inotify::Error>(())
    /// ```
    pub fn read_wait<'b, B: Buffer + ?Sized>(
        &self,
        buf: &'b mut B,
        wait: Wait<'_>,
    ) -> Result<Events<'b>, Error> {
        let buf = checked(buf.as_uninit())?;
        let bytes = read_after_wait(self.fd.as_fd(), &wait, || read_into(&self.fd, buf))?;
        Ok(bytes.map_or(Events::EMPTY, parse))
    }

    /// Reads until the queue is empty, handing every record to `f`; returns
    /// how many it handed over.
    ///
    /// Each read that finds events is followed by another, until the kernel
    /// has none: `EAGAIN` on a non-blocking instance, a zero-timeout poll on
    /// a blocking one. This is what an edge-triggered epoll loop must do.
    ///
    /// # Errors
    /// As [`read`](Self::read). Records handed over before an error stay
    /// handed over.
    #[inline]
    pub fn drain<B: Buffer + ?Sized>(
        &self,
        buf: &mut B,
        mut f: impl FnMut(Result<Event<'_>, EventError>),
    ) -> Result<usize, Error> {
        let buf = checked(buf.as_uninit())?;
        let mut count = 0;
        drain_reads(self.fd.as_fd(), buf, |bytes| {
            for item in parse(bytes) {
                count += 1;
                f(item);
            }
        })?;
        Ok(count)
    }

    /// The number of bytes of events queued (`FIONREAD`): how large a buffer
    /// one read needs to take them all now.
    ///
    /// # Errors
    /// `EBADF` and the like; none in practice.
    #[doc(alias = "FIONREAD")]
    pub fn queued_bytes(&self) -> Result<usize, Error> {
        let n = rustix::io::ioctl_fionread(&self.fd)?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// Switches `O_NONBLOCK` on or off.
    ///
    /// # Errors
    /// None in practice.
    pub fn set_nonblocking(&self, nonblocking: bool) -> Result<(), Error> {
        Ok(crate::fd::set_nonblocking(self.fd.as_fd(), nonblocking)?)
    }

    /// A [`Waker`] is how another thread ends a [`read_wait`](Self::read_wait);
    /// this is [`Waker::new`], here for discoverability.
    ///
    /// # Errors
    /// As [`Waker::new`].
    pub fn waker() -> Result<Waker, Error> {
        Ok(Waker::new()?)
    }
}

/// Checks a buffer's length before it reaches the kernel.
fn checked(
    buf: &mut [core::mem::MaybeUninit<u8>],
) -> Result<&mut [core::mem::MaybeUninit<u8>], Error> {
    if buf.len() < MIN_BUFFER_LEN {
        return Err(Error::BufferTooSmall {
            len: buf.len(),
            needed: MIN_BUFFER_LEN,
        });
    }
    Ok(buf)
}

/// Tells the instance limit from the descriptor limit: if an eventfd can
/// still be made, descriptors are not what ran out.
fn explain_emfile() -> Error {
    match rustix::event::eventfd(0, rustix::event::EventfdFlags::CLOEXEC) {
        Ok(_probe) => Error::InstanceLimit,
        Err(_) => Error::Os(Errno::MFILE),
    }
}

impl From<OwnedFd> for Inotify {
    /// Adopts `fd`, which should be an inotify descriptor; if it is not,
    /// every call fails with the kernel's `EINVAL`, nothing worse.
    fn from(fd: OwnedFd) -> Self {
        Self { fd }
    }
}

crate::fd::owned_fd_traits!(Inotify, "inotify descriptor");
