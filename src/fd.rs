//! What every owned kernel object shares: its descriptor, kept
//! `O_NONBLOCK` in the kernel with the blocking mode the object presents,
//! and the standard descriptor traits, written once.
//!
//! Why the descriptor is always non-blocking: the objects are `Sync`, so two
//! threads may read one descriptor. A blocking `read(2)` after a `poll` that
//! said "readable" blocks without limit when the other thread took the
//! records in between, which would break every bounded wait. So kernfd
//! never blocks in `read(2)`: a blocking-mode read that finds nothing polls
//! and tries again ([`crate::buffer::read_mode`]).

use core::sync::atomic::{AtomicBool, Ordering};

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::OFlags;
use rustix::io::Errno;

/// An owned descriptor that is `O_NONBLOCK` in the kernel, and whether its
/// object should behave as non-blocking.
#[derive(Debug)]
pub(crate) struct Fd {
    fd: OwnedFd,
    nonblocking: AtomicBool,
}

impl Fd {
    /// Wraps a descriptor created with `O_NONBLOCK`; `nonblocking` is the
    /// mode the caller asked for.
    #[inline]
    pub(crate) const fn new(fd: OwnedFd, nonblocking: bool) -> Self {
        Self {
            fd,
            nonblocking: AtomicBool::new(nonblocking),
        }
    }

    /// Adopts a descriptor of unknown flags: sets `O_NONBLOCK` in the kernel
    /// and keeps the mode it had. If its flags cannot be read (it is not
    /// open), every later call fails with the kernel's `EBADF` anyway.
    pub(crate) fn adopt(fd: OwnedFd) -> Self {
        let nonblocking = match rustix::fs::fcntl_getfl(&fd) {
            Ok(fl) => {
                if !fl.contains(OFlags::NONBLOCK) {
                    let _ = rustix::fs::fcntl_setfl(&fd, fl | OFlags::NONBLOCK);
                }
                fl.contains(OFlags::NONBLOCK)
            }
            Err(_) => false,
        };
        Self::new(fd, nonblocking)
    }

    /// Whether reads fail with `EAGAIN` instead of waiting.
    #[inline]
    pub(crate) fn is_nonblocking(&self) -> bool {
        self.nonblocking.load(Ordering::Relaxed)
    }

    /// Sets the mode; the descriptor itself stays `O_NONBLOCK`.
    #[inline]
    pub(crate) fn set_nonblocking(&self, nonblocking: bool) {
        self.nonblocking.store(nonblocking, Ordering::Relaxed);
    }

    /// One read in the object's mode (see [`crate::buffer::read_mode`]).
    #[inline]
    pub(crate) fn read<'b>(
        &self,
        buf: &'b mut [core::mem::MaybeUninit<u8>],
    ) -> Result<&'b [u8], Errno> {
        crate::buffer::read_mode(self.fd.as_fd(), self.is_nonblocking(), buf)
    }

    /// The descriptor, `O_NONBLOCK` still set.
    #[inline]
    pub(crate) fn into_owned(self) -> OwnedFd {
        self.fd
    }
}

impl AsFd for Fd {
    #[inline]
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// The descriptor field of an owned object: [`Fd`] for objects that are
/// read (kept `O_NONBLOCK`), a plain `OwnedFd` for the others (mount
/// contexts, mounts).
pub(crate) trait FdField: AsFd {
    /// Takes ownership of a descriptor of unknown flags.
    fn adopt(fd: OwnedFd) -> Self;
    /// Gives the descriptor back.
    fn into_owned(self) -> OwnedFd;
}

impl FdField for Fd {
    fn adopt(fd: OwnedFd) -> Self {
        Fd::adopt(fd)
    }
    fn into_owned(self) -> OwnedFd {
        Fd::into_owned(self)
    }
}

impl FdField for OwnedFd {
    fn adopt(fd: OwnedFd) -> Self {
        fd
    }
    fn into_owned(self) -> OwnedFd {
        self
    }
}

/// Implements `AsFd`, `AsRawFd`, `IntoRawFd`, `FromRawFd` and
/// `From<$ty> for OwnedFd` for a type holding its descriptor in a field `fd`
/// (an [`FdField`]: [`Fd`] or `OwnedFd`) and built by a private
/// `fn from_fd(fd) -> Self`.
/// `$what` names the descriptor in `from_raw_fd`'s safety contract.
/// (`From<OwnedFd>` is each type's own: some check what they adopt.)
macro_rules! owned_fd_traits {
    ($ty:ident, $what:literal) => {
        impl rustix::fd::AsFd for $ty {
            /// The descriptor. kernfd keeps it `O_NONBLOCK` in the kernel
            /// whatever the object's mode, so a plain `read(2)` on it fails
            /// with `EAGAIN` rather than blocking.
            #[inline]
            fn as_fd(&self) -> rustix::fd::BorrowedFd<'_> {
                rustix::fd::AsFd::as_fd(&self.fd)
            }
        }

        impl rustix::fd::AsRawFd for $ty {
            #[inline]
            fn as_raw_fd(&self) -> rustix::fd::RawFd {
                rustix::fd::AsRawFd::as_raw_fd(&rustix::fd::AsFd::as_fd(&self.fd))
            }
        }

        impl rustix::fd::IntoRawFd for $ty {
            fn into_raw_fd(self) -> rustix::fd::RawFd {
                rustix::fd::IntoRawFd::into_raw_fd(rustix::fd::OwnedFd::from(self))
            }
        }

        impl rustix::fd::FromRawFd for $ty {
            #[doc = concat!("# Safety\n`fd` must be an open ", $what, " that nothing else owns.")]
            unsafe fn from_raw_fd(fd: rustix::fd::RawFd) -> Self {
                // SAFETY: forwarded to the caller.
                let fd = unsafe { rustix::fd::OwnedFd::from_raw_fd(fd) };
                Self::from_fd(crate::fd::FdField::adopt(fd))
            }
        }

        impl From<$ty> for rustix::fd::OwnedFd {
            /// The descriptor, `O_NONBLOCK` set (kernfd keeps it so).
            fn from(object: $ty) -> Self {
                crate::fd::FdField::into_owned(object.fd)
            }
        }
    };
}
pub(crate) use owned_fd_traits;

/// The methods every readable owned object has for its mode and its
/// waker, written once: `is_nonblocking`, `set_nonblocking` and `waker`.
/// `$what` names the object in the docs ("instance", "group"…).
macro_rules! mode_methods {
    ($what:literal) => {
        /// The object's mode: whether reads fail with `EAGAIN` instead of
        /// waiting (see [`set_nonblocking`](Self::set_nonblocking)).
        #[must_use]
        pub fn is_nonblocking(&self) -> bool {
            self.fd.is_nonblocking()
        }

        #[doc = concat!(
                    "Sets the ", $what, "'s mode: non-blocking reads fail with `EAGAIN` when ",
                    "nothing is there; blocking ones wait. The descriptor itself stays ",
                    "`O_NONBLOCK` in the kernel (kernfd waits with `poll`), so this makes no ",
                    "syscall and cannot fail; it returns `Result` so that code written for ",
                    "descriptors whose mode is a kernel flag reads the same.\n\n",
                    "# Errors\nNone."
                )]
        pub fn set_nonblocking(&self, nonblocking: bool) -> crate::Result<()> {
            self.fd.set_nonblocking(nonblocking);
            Ok(())
        }

        /// A [`Waker`](crate::wait::Waker) is how another thread ends a
        /// [`read_wait`](Self::read_wait); this is
        /// [`Waker::new`](crate::wait::Waker::new), here for discoverability.
        ///
        /// # Errors
        /// As [`Waker::new`](crate::wait::Waker::new).
        pub fn waker() -> crate::Result<crate::wait::Waker> {
            crate::wait::Waker::new()
        }
    };
}
pub(crate) use mode_methods;

/// Switches `O_NONBLOCK` on `fd` on or off (for objects whose descriptor
/// flags are theirs to keep, such as the seccomp listener).
pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>, nonblocking: bool) -> Result<(), Errno> {
    let mut fl = rustix::fs::fcntl_getfl(fd)?;
    fl.set(OFlags::NONBLOCK, nonblocking);
    rustix::fs::fcntl_setfl(fd, fl)
}
