//! inotify: watch files and directories for changes.
//!
//! Three layers, as everywhere in kernfd:
//! - [`parse`] walks `inotify_event` records in any byte slice, with no
//!   syscall: the fuzzable, bounds-checked core.
//! - [`init`], [`add_watch`], [`rm_watch`] and [`read`] are 1:1 syscalls over
//!   any descriptor, returning the kernel's [`Errno`].
//! - [`Inotify`] owns the descriptor and adds what the bare calls lack:
//!   close-on-exec by default, buffer sizes checked up front, limits
//!   explained ([`Error::Limit`]), bounded waits with a [`Waker`](crate::wait::Waker), a drain
//!   loop.
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
mod reader;
#[cfg(any(test, fuzzing))]
#[doc(hidden)]
pub mod reference;

pub use error::{EventError, ParseError, ParseErrorKind};
pub use event::{DEFAULT_BUFFER_LEN, Event, Events, HEADER_LEN, MIN_BUFFER_LEN, NAME_MAX, parse};
pub use flags::{EventFlags, InitFlags, WatchFlags};
pub use reader::Reader;

use rustix::fd::{AsFd, OwnedFd};
use rustix::io::Errno;

use crate::buffer::{Buffer, read_into, uninit};
use crate::error::{Call, Error, Limit, Result};
use crate::fd::Fd;
use crate::wait::{Flow, Wait, drain_reads, read_after_wait, records};

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
///
/// # References
/// [inotify(7)](https://man7.org/linux/man-pages/man7/inotify.7.html),
/// [read(2)](https://man7.org/linux/man-pages/man2/read.2.html)
pub fn read<B: Buffer + ?Sized>(fd: impl AsFd, buf: &mut B) -> Result<Events<'_>, Errno> {
    Ok(parse(read_into(fd, uninit(buf))?))
}

/// An owned inotify instance.
///
/// Close-on-exec by default; closed on drop. `Sync`: watches can be added
/// from one thread while another reads, and several threads may read (each
/// record goes to one of them). The descriptor is `O_NONBLOCK` in the kernel
/// whatever the instance's mode (see [`set_nonblocking`](Self::set_nonblocking)),
/// so a bounded wait stays bounded when another thread takes the events.
#[derive(Debug)]
pub struct Inotify {
    fd: Fd,
}

impl Inotify {
    /// A new blocking, close-on-exec instance (`inotify_init1(IN_CLOEXEC)`).
    ///
    /// # Errors
    /// [`Error::Limit`] with [`Limit::InotifyInstances`] when
    /// `max_user_instances` is reached; [`Error::Os`] with `EMFILE`,
    /// `ENFILE` or `ENOMEM` otherwise.
    ///
    /// # Example
    /// ```
    /// use kernfd::inotify::Inotify;
    ///
    /// let inotify = Inotify::new()?;
    /// # Ok::<(), kernfd::Error>(())
    /// ```
    pub fn new() -> Result<Self> {
        Self::with_flags(InitFlags::CLOEXEC)
    }

    /// A new instance with exactly `flags` (add [`InitFlags::CLOEXEC`]
    /// yourself if you want it). [`InitFlags::NONBLOCK`] sets the
    /// instance's mode.
    ///
    /// # Errors
    /// As [`Inotify::new`], and `EINVAL` for unknown flags.
    pub fn with_flags(flags: InitFlags) -> Result<Self> {
        match init(flags | InitFlags::NONBLOCK) {
            Ok(fd) => Ok(Self::from_fd(Fd::new(
                fd,
                flags.contains(InitFlags::NONBLOCK),
            ))),
            Err(Errno::MFILE) => Err(explain_emfile()),
            Err(e) => Err(Error::os("inotify_init1", e)),
        }
    }

    fn from_fd(fd: Fd) -> Self {
        Self { fd }
    }

    /// Watches `path` for `mask` (see [`add_watch`]); returns the watch
    /// descriptor that its events carry. Watching an object again changes
    /// its watch (or adds to it with `MASK_ADD`) and returns the same wd.
    ///
    /// # Errors
    /// [`Error::Limit`] with [`Limit::InotifyWatches`] for `ENOSPC`; the
    /// other errnos of [`add_watch`] as [`Error::Os`].
    ///
    /// # Example
    /// ```
    /// use kernfd::inotify::{Inotify, WatchFlags};
    ///
    /// let inotify = Inotify::new()?;
    /// let wd = inotify.add_watch("/tmp", WatchFlags::CREATE | WatchFlags::MOVED_TO)?;
    /// assert_eq!(inotify.add_watch("/tmp", WatchFlags::CREATE)?, wd, "same object, same wd");
    /// let e = inotify.add_watch("/no/such/dir", WatchFlags::CREATE).unwrap_err();
    /// assert_eq!(e.to_string(), "inotify_add_watch: No such file or directory (os error 2)");
    /// # Ok::<(), kernfd::Error>(())
    /// ```
    pub fn add_watch<P: rustix::path::Arg>(&self, path: P, mask: WatchFlags) -> Result<i32> {
        add_watch(&self.fd, path, mask).map_err(|errno| match errno {
            Errno::NOSPC => Error::Limit {
                call: "inotify_add_watch",
                limit: Limit::InotifyWatches,
            },
            errno => Error::os("inotify_add_watch", errno),
        })
    }

    /// Removes watch `wd` (see [`rm_watch`]). An `IN_IGNORED` event follows.
    ///
    /// # Errors
    /// `EINVAL` when `wd` is not one of this instance's watches.
    pub fn rm_watch(&self, wd: i32) -> Result<()> {
        rm_watch(&self.fd, wd).call("inotify_rm_watch")
    }

    /// Reads queued events into `buf` and iterates them in place.
    ///
    /// Waits until at least one event is queued, unless the instance is
    /// non-blocking (then `EAGAIN`). One read returns as many whole events as
    /// fit; call again (or use [`drain`](Self::drain)) for the rest.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] when `buf` is shorter than
    /// [`MIN_BUFFER_LEN`], before any syscall. `EAGAIN` when non-blocking and
    /// empty. `EINTR` when a signal handler interrupted the wait: it is
    /// returned, not retried, so a signal can end a blocking read.
    /// [`Error::EndOfFile`] when the descriptor (adopted with `From<OwnedFd>`)
    /// is not inotify and reads as empty.
    ///
    /// # Example
    /// ```
    /// use kernfd::inotify::{EventFlags, Inotify, WatchFlags};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let inotify = Inotify::new()?;
    /// inotify.add_watch(dir.path(), WatchFlags::CREATE)?;
    /// std::fs::File::create(dir.path().join("a"))?;
    ///
    /// let mut buf = [0_u8; kernfd::inotify::DEFAULT_BUFFER_LEN];
    /// for event in inotify.read(&mut buf)? {
    ///     let event = event?; // a queue overflow or a malformed record is an error item
    ///     assert_eq!((event.mask(), event.name_bytes()), (EventFlags::CREATE, &b"a"[..]));
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read<'b, B: Buffer + ?Sized>(&self, buf: &'b mut B) -> Result<Events<'b>> {
        let buf = checked(uninit(buf))?;
        Ok(parse(records(self.fd.read(buf))?))
    }

    /// inotify_simple's `read(timeout, read_delay)`: waits as `wait` says for
    /// the first event, optionally lingers for more, then reads once.
    ///
    /// Returns no events when the timeout passes or the waker is woken first.
    /// The timeout holds even when another thread reads the same instance.
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
    /// # Ok::<(), kernfd::Error>(())
    /// ```
    pub fn read_wait<'b, B: Buffer + ?Sized>(
        &self,
        buf: &'b mut B,
        wait: Wait<'_>,
    ) -> Result<Events<'b>> {
        let buf = checked(uninit(buf))?;
        match read_after_wait(&self.fd, &wait, buf) {
            Ok(None) => Ok(Events::EMPTY),
            Ok(Some(bytes)) => Ok(parse(records(Ok(bytes))?)),
            Err(errno) => Err(Error::os("read", errno)),
        }
    }

    /// Reads until the queue is empty, handing every record to `f`; returns
    /// how many it handed over.
    ///
    /// Each read that finds events is followed by another, until the kernel
    /// has none (`EAGAIN`); it never waits, whatever the instance's mode.
    /// This is what an edge-triggered epoll loop must do.
    ///
    /// `f` returns a [`Flow`]: `()`, a `ControlFlow` (`Break` stops), or a
    /// `Result<(), E>` (or `Result<ControlFlow<()>, E>`) so that `?` works
    /// inside it: an `Err` stops the drain at once and is returned. When it
    /// stops early, the events of that read that `f` was not handed yet are
    /// dropped (the kernel has already given them out). `E` is any error a
    /// [`kernfd::Error`](crate::Error) converts into.
    ///
    /// # Errors
    /// As [`read`](Self::read), and whatever `f` returns. Records handed over
    /// before an error stay handed over.
    ///
    /// # Example
    /// A callback that updates the state of the struct that owns the reader,
    /// and stops at the first queue overflow:
    /// ```
    /// use kernfd::inotify::{EventError, Inotify, WatchFlags};
    ///
    /// struct Watcher { inotify: Inotify, created: usize, buf: Vec<u8> }
    ///
    /// #[derive(Debug)]
    /// enum Stop { Overflow, Kernel(kernfd::Error), Bad(EventError) }
    /// impl From<kernfd::Error> for Stop {
    ///     fn from(e: kernfd::Error) -> Self { Stop::Kernel(e) }
    /// }
    ///
    /// impl Watcher {
    ///     fn poll(&mut self) -> Result<usize, Stop> {
    ///         let created = &mut self.created;
    ///         self.inotify.drain(&mut self.buf, |item| {
    ///             match item {
    ///                 Ok(event) => *created += usize::from(!event.name_bytes().is_empty()),
    ///                 Err(EventError::QueueOverflow) => return Err(Stop::Overflow),
    ///                 Err(e) => return Err(Stop::Bad(e)),
    ///             }
    ///             Ok(())
    ///         })
    ///     }
    /// }
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let inotify = Inotify::new()?;
    /// inotify.add_watch(dir.path(), WatchFlags::CREATE)?;
    /// let mut w = Watcher { inotify, created: 0, buf: vec![0; 4096] };
    /// std::fs::File::create(dir.path().join("a")).unwrap();
    /// std::fs::File::create(dir.path().join("b")).unwrap();
    /// assert_eq!(w.poll()?, 2);
    /// assert_eq!(w.created, 2);
    /// # Ok::<(), Stop>(())
    /// ```
    #[inline]
    pub fn drain<B, E, R>(
        &self,
        buf: &mut B,
        mut f: impl FnMut(core::result::Result<Event<'_>, EventError>) -> R,
    ) -> core::result::Result<usize, E>
    where
        B: Buffer + ?Sized,
        E: From<Error>,
        R: Flow<E>,
    {
        let buf = checked(uninit(buf))?;
        let mut count = 0;
        drain_reads::<E>(&self.fd, buf, |bytes| {
            for item in parse(bytes) {
                count += 1;
                if !f(item).flow()? {
                    return Ok(false);
                }
            }
            Ok(true)
        })?;
        Ok(count)
    }

    /// The number of bytes of events queued (`FIONREAD`): how large a buffer
    /// one read needs to take them all now.
    ///
    /// # Errors
    /// `EBADF` and the like; none in practice.
    #[doc(alias = "FIONREAD")]
    pub fn queued_bytes(&self) -> Result<usize> {
        let n = rustix::io::ioctl_fionread(&self.fd).call("ioctl(FIONREAD)")?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    crate::fd::mode_methods!("instance");
}

/// Checks a buffer's length before it reaches the kernel.
fn checked(buf: &mut [core::mem::MaybeUninit<u8>]) -> Result<&mut [core::mem::MaybeUninit<u8>]> {
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
        Ok(_probe) => Error::Limit {
            call: "inotify_init1",
            limit: Limit::InotifyInstances,
        },
        Err(_) => Error::os("inotify_init1", Errno::MFILE),
    }
}

impl From<OwnedFd> for Inotify {
    /// Adopts `fd`, which should be an inotify descriptor, keeping its
    /// blocking mode (and setting `O_NONBLOCK` on it in the kernel). If it
    /// is not inotify, calls fail with the kernel's `EINVAL`, or a read with
    /// [`Error::EndOfFile`]; nothing worse.
    fn from(fd: OwnedFd) -> Self {
        Self::from_fd(Fd::adopt(fd))
    }
}

crate::fd::owned_fd_traits!(Inotify, "inotify descriptor");

// The recursive watcher (it keeps a table of directories: `alloc`).
#[cfg(feature = "alloc")]
mod tree;
#[cfg(feature = "alloc")]
pub use tree::{Tree, TreeEvent, TreeItem, TreeOptions};
