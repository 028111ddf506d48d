//! What every owned kernel object shares: the standard descriptor traits and
//! the `O_NONBLOCK` switch, written once.

use rustix::fd::BorrowedFd;
use rustix::io::Errno;

/// Implements `AsFd`, `AsRawFd`, `IntoRawFd`, `FromRawFd` and
/// `From<$ty> for OwnedFd` for a type holding its descriptor in a field `fd`.
/// `$what` names the descriptor in `from_raw_fd`'s safety contract.
/// (`From<OwnedFd>` is each type's own: some check what they adopt.)
macro_rules! owned_fd_traits {
    ($ty:ident, $what:literal) => {
        impl rustix::fd::AsFd for $ty {
            #[inline]
            fn as_fd(&self) -> rustix::fd::BorrowedFd<'_> {
                rustix::fd::AsFd::as_fd(&self.fd)
            }
        }

        impl rustix::fd::AsRawFd for $ty {
            #[inline]
            fn as_raw_fd(&self) -> rustix::fd::RawFd {
                rustix::fd::AsRawFd::as_raw_fd(&self.fd)
            }
        }

        impl rustix::fd::IntoRawFd for $ty {
            fn into_raw_fd(self) -> rustix::fd::RawFd {
                rustix::fd::IntoRawFd::into_raw_fd(self.fd)
            }
        }

        impl rustix::fd::FromRawFd for $ty {
            #[doc = concat!("# Safety\n`fd` must be an open ", $what, " that nothing else owns.")]
            unsafe fn from_raw_fd(fd: rustix::fd::RawFd) -> Self {
                // SAFETY: forwarded to the caller.
                let fd = unsafe { rustix::fd::OwnedFd::from_raw_fd(fd) };
                Self { fd }
            }
        }

        impl From<$ty> for rustix::fd::OwnedFd {
            fn from(object: $ty) -> Self {
                object.fd
            }
        }
    };
}
pub(crate) use owned_fd_traits;

/// Switches `O_NONBLOCK` on `fd` on or off.
pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>, nonblocking: bool) -> Result<(), Errno> {
    let mut fl = rustix::fs::fcntl_getfl(fd)?;
    fl.set(rustix::fs::OFlags::NONBLOCK, nonblocking);
    rustix::fs::fcntl_setfl(fd, fl)
}
