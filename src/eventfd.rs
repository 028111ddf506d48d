//! eventfd: a 64-bit counter in the kernel, as a descriptor for wakeups.
//!
//! A write adds to the counter; a read returns it and resets it to zero
//! (or, with [`EventFdFlags::SEMAPHORE`], returns 1 and decrements it). The
//! descriptor is readable while the counter is non-zero, and writable while
//! one more can be added, so it fits any poll or epoll loop.
//!
//! The kernel's rules, surfaced as documented errors:
//! - reading a zero counter blocks, or fails with `EAGAIN` when
//!   non-blocking;
//! - the counter never exceeds [`MAX`] (`u64::MAX - 1`): a write that would
//!   pass it blocks, or fails with `EAGAIN` when non-blocking;
//! - writing `u64::MAX` fails with `EINVAL`.
//!
//! [`Waker`](crate::wait::Waker) is an [`EventFd`] used as a flag.
//!
//! # Example
//! ```
//! use kernfd::eventfd::{EventFd, EventFdFlags};
//!
//! let efd = EventFd::with_flags(3, EventFdFlags::CLOEXEC | EventFdFlags::NONBLOCK)?;
//! efd.write(4)?;
//! assert_eq!(efd.read()?, 7);
//! assert_eq!(efd.read().unwrap_err().errno(), Some(kernfd::Errno::AGAIN)); // now zero
//! # Ok::<(), kernfd::Error>(())
//! ```
//!
//! # References
//! [eventfd(2)](https://man7.org/linux/man-pages/man2/eventfd.2.html)

use rustix::event::PollFlags;
use rustix::fd::{AsFd, OwnedFd};
use rustix::io::Errno;

use crate::error::{Call, Result};
use crate::fd::Fd;
use crate::wait::{Wait, value_after_wait, value_mode};

/// The largest value the counter can hold: `0xffff_ffff_ffff_fffe`.
pub const MAX: u64 = u64::MAX - 1;

bitflags::bitflags! {
    /// Flags for [`create`] (`EFD_*` of `eventfd(2)`).
    ///
    /// Unknown bits are kept and passed on; the kernel rejects them with
    /// `EINVAL`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct EventFdFlags: u32 {
        /// `EFD_CLOEXEC`: close the descriptor on `execve`.
        const CLOEXEC = linux_raw_sys::general::EFD_CLOEXEC;
        /// `EFD_NONBLOCK`: reads and writes fail with `EAGAIN` instead of
        /// blocking.
        const NONBLOCK = linux_raw_sys::general::EFD_NONBLOCK;
        /// `EFD_SEMAPHORE`: a read returns 1 and decrements the counter,
        /// instead of returning it all and zeroing it.
        const SEMAPHORE = linux_raw_sys::general::EFD_SEMAPHORE;
        // Any other bit is passed to the kernel as is.
        const _ = !0;
    }
}

/// `eventfd2(initval, flags)`: a new counter holding `initval`.
///
/// # Errors
/// `EINVAL` for unknown flags; `EMFILE`, `ENFILE`, `ENODEV`, `ENOMEM`.
///
/// # References
/// [eventfd(2)](https://man7.org/linux/man-pages/man2/eventfd.2.html)
#[doc(alias = "eventfd2")]
pub fn create(initval: u32, flags: EventFdFlags) -> core::result::Result<OwnedFd, Errno> {
    rustix::event::eventfd(
        initval,
        rustix::event::EventfdFlags::from_bits_retain(flags.bits()),
    )
}

/// `read(fd, &u64)`: the counter (then zero), or 1 (then decremented) in
/// semaphore mode.
///
/// # Errors
/// `EAGAIN` when the counter is zero and `fd` non-blocking; `EINTR`;
/// `EBADF`; `EINVAL` when `fd` is not an eventfd.
///
/// # References
/// [eventfd(2)](https://man7.org/linux/man-pages/man2/eventfd.2.html)
pub fn read(fd: impl AsFd) -> core::result::Result<u64, Errno> {
    let mut b = [0_u8; 8];
    match rustix::io::read(fd, &mut b)? {
        8 => Ok(u64::from_ne_bytes(b)),
        // Only a descriptor that is not an eventfd returns less.
        _ => Err(Errno::INVAL),
    }
}

/// `write(fd, &value)`: adds `value` to the counter.
///
/// # Errors
/// `EINVAL` for `value == u64::MAX`; `EAGAIN` when the sum would pass
/// [`MAX`] and `fd` is non-blocking (a blocking descriptor waits for a
/// read); `EINTR`; `EBADF`.
///
/// # References
/// [eventfd(2)](https://man7.org/linux/man-pages/man2/eventfd.2.html)
pub fn write(fd: impl AsFd, value: u64) -> core::result::Result<(), Errno> {
    match rustix::io::write(fd, &value.to_ne_bytes())? {
        8 => Ok(()),
        _ => Err(Errno::INVAL),
    }
}

/// An owned eventfd.
///
/// Close-on-exec by default; closed on drop. The descriptor is
/// `O_NONBLOCK` in the kernel whatever the object's mode (see
/// [`set_nonblocking`](Self::set_nonblocking)).
#[derive(Debug)]
pub struct EventFd {
    fd: Fd,
}

impl EventFd {
    /// A blocking, close-on-exec counter holding `initval`.
    ///
    /// # Errors
    /// As [`create`].
    pub fn new(initval: u32) -> Result<Self> {
        Self::with_flags(initval, EventFdFlags::CLOEXEC)
    }

    /// A counter with exactly `flags` (add [`EventFdFlags::CLOEXEC`]
    /// yourself if you want it). [`EventFdFlags::NONBLOCK`] sets the
    /// object's mode.
    ///
    /// # Errors
    /// As [`create`].
    pub fn with_flags(initval: u32, flags: EventFdFlags) -> Result<Self> {
        let fd = create(initval, flags | EventFdFlags::NONBLOCK).call("eventfd2")?;
        Ok(Self::from_fd(Fd::new(
            fd,
            flags.contains(EventFdFlags::NONBLOCK),
        )))
    }

    fn from_fd(fd: Fd) -> Self {
        Self { fd }
    }

    /// Reads the counter (see [`read()`]), waiting for a non-zero one
    /// unless non-blocking.
    ///
    /// # Errors
    /// `EAGAIN` when zero and non-blocking; `EINTR`.
    pub fn read(&self) -> Result<u64> {
        value_mode(&self.fd, PollFlags::IN, || read(&self.fd)).call("read")
    }

    /// Adds `value` to the counter (see [`write()`]), waiting for room
    /// unless non-blocking.
    ///
    /// # Errors
    /// `EINVAL` for `u64::MAX`; `EAGAIN` when non-blocking and the counter
    /// would pass [`MAX`].
    pub fn write(&self, value: u64) -> Result<()> {
        value_mode(&self.fd, PollFlags::OUT, || write(&self.fd, value)).call("write")
    }

    /// Waits as `wait` says for a non-zero counter, then reads it; `None`
    /// when the timeout passed or the waker was woken first.
    ///
    /// # Errors
    /// As [`read`](Self::read).
    pub fn read_wait(&self, wait: Wait<'_>) -> Result<Option<u64>> {
        value_after_wait(&self.fd, &wait, || read(&self.fd)).call("read")
    }

    crate::fd::mode_methods!("counter");
}

impl From<OwnedFd> for EventFd {
    /// Adopts `fd`, which should be an eventfd, keeping its blocking mode
    /// (and setting `O_NONBLOCK` on it in the kernel); if it is not an
    /// eventfd, calls fail with the kernel's `EINVAL`, nothing worse.
    fn from(fd: OwnedFd) -> Self {
        Self::from_fd(Fd::adopt(fd))
    }
}

crate::fd::owned_fd_traits!(EventFd, "eventfd");

crate::shared::display_flags!(EventFdFlags);
