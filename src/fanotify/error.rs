//! The error of fanotify's object layer: the kernel's errno, with the cases
//! that bare errnos explain badly given their own variants.

use core::fmt;

use rustix::io::Errno;

/// A fanotify call failed.
///
/// Every variant maps back to an errno through [`Error::errno`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// The kernel's error, as is.
    Os(Errno),
    /// The buffer is shorter than [`MIN_BUFFER_LEN`](super::MIN_BUFFER_LEN),
    /// so a large event would not fit and the kernel would fail with
    /// `EINVAL`. Rejected before any syscall.
    BufferTooSmall {
        /// The buffer's length.
        len: usize,
        /// The length that always suffices.
        needed: usize,
    },
    /// A permission response was asked for an event that has no fd (FID
    /// mode, or the fd was taken); respond through
    /// [`Fanotify::respond_fd`](super::Fanotify::respond_fd) instead.
    NoEventFd,
    /// `ENOSPC` from `fanotify_mark`: the per-group mark limit
    /// (`/proc/sys/fs/fanotify/max_user_marks`) was reached.
    MarkLimit,
    /// `EMFILE` from `fanotify_init` with descriptors to spare: the per-user
    /// group limit (`/proc/sys/fs/fanotify/max_user_groups`) was reached.
    GroupLimit,
}

impl Error {
    /// The errno behind this error.
    #[must_use]
    pub fn errno(&self) -> Errno {
        match *self {
            Self::Os(e) => e,
            Self::BufferTooSmall { .. } => Errno::INVAL,
            Self::NoEventFd => Errno::BADF,
            Self::MarkLimit => Errno::NOSPC,
            Self::GroupLimit => Errno::MFILE,
        }
    }
}

impl From<Errno> for Error {
    fn from(e: Errno) -> Self {
        Self::Os(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Os(e) => fmt::Display::fmt(&e, f),
            Self::BufferTooSmall { len, needed } => write!(
                f,
                "fanotify read buffer of {len} bytes is too small: one event can take {needed}"
            ),
            Self::NoEventFd => {
                f.write_str("this fanotify event has no fd to answer a permission request with")
            }
            Self::MarkLimit => f.write_str(
                "fanotify mark limit reached (ENOSPC): raise /proc/sys/fs/fanotify/max_user_marks",
            ),
            Self::GroupLimit => f.write_str(
                "fanotify group limit reached (EMFILE): raise /proc/sys/fs/fanotify/max_user_groups",
            ),
        }
    }
}

impl core::error::Error for Error {}

crate::shared::io_error_from!(Error);
