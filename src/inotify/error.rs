//! The error of inotify's object layer: the kernel's errno, with the cases
//! that users of other crates misread given their own variants.

use core::fmt;

use rustix::io::Errno;

/// An inotify call failed.
///
/// Every variant maps back to the errno the kernel returned (or would have),
/// through [`Error::errno`]; the named variants exist because the bare errno
/// misleads (`ENOSPC` is not about disk space here, and a short buffer gets
/// a bare `EINVAL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// The kernel's error, as is.
    Os(Errno),
    /// The buffer is shorter than [`MIN_BUFFER_LEN`](super::MIN_BUFFER_LEN),
    /// so an event with a long name would not fit and the kernel would fail
    /// with `EINVAL`. Rejected before any syscall.
    BufferTooSmall {
        /// The buffer's length.
        len: usize,
        /// The length that always suffices.
        needed: usize,
    },
    /// `ENOSPC` from `inotify_add_watch`: the per-user watch limit,
    /// `/proc/sys/fs/inotify/max_user_watches`, was reached.
    WatchLimit,
    /// `EMFILE` from `inotify_init1` with descriptors to spare: the per-user
    /// instance limit, `/proc/sys/fs/inotify/max_user_instances`, was reached.
    /// (`EMFILE` for lack of descriptors stays [`Error::Os`].)
    InstanceLimit,
}

impl Error {
    /// The errno behind this error.
    #[must_use]
    pub fn errno(&self) -> Errno {
        match *self {
            Self::Os(e) => e,
            Self::BufferTooSmall { .. } => Errno::INVAL,
            Self::WatchLimit => Errno::NOSPC,
            Self::InstanceLimit => Errno::MFILE,
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
                "inotify read buffer of {len} bytes is too small: one event can take {needed}"
            ),
            Self::WatchLimit => f.write_str(
                "inotify watch limit reached (ENOSPC): raise /proc/sys/fs/inotify/max_user_watches",
            ),
            Self::InstanceLimit => f.write_str(
                "inotify instance limit reached (EMFILE): raise /proc/sys/fs/inotify/max_user_instances",
            ),
        }
    }
}

impl core::error::Error for Error {}

crate::shared::io_error_from!(Error);
