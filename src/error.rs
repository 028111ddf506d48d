//! The one error of kernfd's object layer.
//!
//! The 1:1 syscall functions of every module return the kernel's errno as
//! [`Errno`], as rustix does. Everything above them (the owned objects, the
//! thread-mask calls, the helpers) returns this [`Error`], so a program that
//! uses five facilities handles one error type. Each variant is a condition
//! a caller can act on:
//!
//! - [`Error::Os`]: the kernel refused a call; carries the call's name, so
//!   the message reads `inotify_add_watch: No such file or directory (os
//!   error 2)`.
//! - [`Error::Limit`]: a kernel limit was hit; [`Limit`] names it and the
//!   sysctl (or rlimit) that raises it.
//! - [`Error::BufferTooSmall`], [`Error::ReservedSignal`],
//!   [`Error::NoEventFd`], [`Error::Rule`]: refused by kernfd before the
//!   kernel saw the call, where the kernel would only have said `EINVAL` (or
//!   worse, done something else).
//! - [`Error::EndOfFile`]: a read returned zero bytes where the kernel never
//!   does for the object's kind: the descriptor is not what it claims.
//!
//! Parsers keep their own precise errors (the byte offset and what was
//! wrong); they are items of the event iterators, not this type.
//!
//! # Adding a variant
//! A new kernel limit is a [`Limit`] variant (its errno, its sysctl, a
//! message); a new rule checked before the kernel is a [`Rule`] variant (the
//! errno the kernel would have returned, a message). Add a case to each
//! `match` in this file; nothing else changes.

use core::fmt;

use rustix::io::Errno;

use crate::signal::Signal;

/// `Result<T, kernfd::Error>`.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// What went wrong in a kernfd call above the 1:1 syscall layer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum Error {
    /// The kernel refused `call` with `errno`.
    Os {
        /// The system call (or operation) that failed: `"inotify_add_watch"`.
        call: &'static str,
        /// What the kernel said.
        errno: Errno,
    },
    /// A kernel limit was reached in `call`; [`Limit`] says which and what
    /// raises it.
    Limit {
        /// The system call that hit the limit.
        call: &'static str,
        /// The limit.
        limit: Limit,
    },
    /// The buffer is too short for one record of the largest size, so the
    /// kernel would fail with `EINVAL` (or the record could not be stored).
    /// Refused before any syscall.
    BufferTooSmall {
        /// The buffer's length.
        len: usize,
        /// The length that always suffices.
        needed: usize,
    },
    /// The signal set holds a signal the C library keeps for itself
    /// ([`signal::RESERVED`](crate::signal::RESERVED)). Refused before the
    /// kernel saw the call.
    ReservedSignal(Signal),
    /// A fanotify permission response was asked for an event that has no
    /// fd (FID mode, or the fd was taken).
    NoEventFd,
    /// The arguments break a documented rule that the kernel would only
    /// answer with a bare errno (usually `EINVAL`); [`Rule`] says which.
    /// Refused before the kernel saw the call.
    Rule(Rule),
    /// `call` read zero bytes from a descriptor whose kind never reports end
    /// of file: the descriptor is not what the object expects (a regular
    /// file or `/dev/null` adopted through `From<OwnedFd>`). Also a seccomp
    /// listener that hung up (no task uses its filter any more).
    EndOfFile {
        /// The read that returned zero bytes.
        call: &'static str,
    },
    /// `seccomp` with `TSYNC`: thread `tid` could not be synchronised (its
    /// filters are not an ancestor of the caller's), so nothing was
    /// installed. The kernel reports this with the thread id, not an errno.
    ThreadNotSynced {
        /// The thread that blocked the synchronisation.
        tid: u32,
    },
    /// A recursive watch (`inotify::Tree`, feature `alloc`) reached the
    /// inotify watch limit ([`Limit::InotifyWatches`], `ENOSPC` from
    /// `inotify_add_watch`) with `watches` directories watched.
    TreeWatchLimit {
        /// How many watches the tree had set when the limit was hit.
        watches: usize,
    },
}

impl Error {
    /// `Error::Os { call, errno }`, as a function for `map_err`.
    #[must_use]
    pub const fn os(call: &'static str, errno: Errno) -> Self {
        Self::Os { call, errno }
    }

    /// The errno behind this error: the kernel's, or the one the kernel
    /// would have returned for a condition kernfd checked first. `None` for
    /// [`Error::EndOfFile`], which no errno describes.
    #[must_use]
    pub const fn errno(&self) -> Option<Errno> {
        match *self {
            Self::Os { errno, .. } => Some(errno),
            Self::Limit { limit, .. } => Some(limit.errno()),
            Self::BufferTooSmall { .. } | Self::ReservedSignal(_) => Some(Errno::INVAL),
            Self::NoEventFd => Some(Errno::BADF),
            Self::Rule(rule) => Some(rule.errno()),
            Self::EndOfFile { .. } | Self::ThreadNotSynced { .. } => None,
            Self::TreeWatchLimit { .. } => Some(Limit::InotifyWatches.errno()),
        }
    }

    /// The call that failed, where one did.
    #[must_use]
    pub const fn call(&self) -> Option<&'static str> {
        match *self {
            Self::Os { call, .. } | Self::Limit { call, .. } | Self::EndOfFile { call } => {
                Some(call)
            }
            Self::TreeWatchLimit { .. } => Some("inotify_add_watch"),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Os { call, errno } => write!(f, "{call}: {errno}"),
            Self::Limit { call, limit } => write!(f, "{call}: {limit}"),
            Self::BufferTooSmall { len, needed } => write!(
                f,
                "read buffer of {len} bytes is too small: one record can take {needed}"
            ),
            Self::ReservedSignal(sig) => write!(
                f,
                "{sig} is reserved by the C library (threads, setxid, timers): refused"
            ),
            Self::NoEventFd => {
                f.write_str("this fanotify event has no fd to answer a permission request with")
            }
            Self::Rule(rule) => fmt::Display::fmt(&rule, f),
            Self::EndOfFile { call } => write!(
                f,
                "{call}: end of file: the descriptor is not of the kind this object reads"
            ),
            Self::ThreadNotSynced { tid } => write!(
                f,
                "seccomp: TSYNC failed: thread {tid} has filters that are not an ancestor of this thread's"
            ),
            Self::TreeWatchLimit { watches } => write!(
                f,
                "inotify_add_watch: {} after {watches} watches of a recursive watch",
                Limit::InotifyWatches
            ),
        }
    }
}

impl core::error::Error for Error {}

#[cfg(feature = "std")]
impl From<Error> for std::io::Error {
    /// Keeps the kind of the errno behind the error (and `UnexpectedEof` for
    /// [`Error::EndOfFile`]) and the whole message, call name included. The
    /// original is reachable through `get_ref()` and `downcast`.
    fn from(e: Error) -> Self {
        let kind = match e.errno() {
            Some(errno) => std::io::Error::from(errno).kind(),
            None if matches!(e, Error::ThreadNotSynced { .. }) => std::io::ErrorKind::Other,
            None => std::io::ErrorKind::UnexpectedEof,
        };
        std::io::Error::new(kind, e)
    }
}

/// Attaches the name of the failing call to a 1:1 result.
pub(crate) trait Call<T> {
    /// `Err(errno)` becomes `Err(Error::Os { call, errno })`.
    fn call(self, call: &'static str) -> Result<T>;
}

impl<T> Call<T> for core::result::Result<T, Errno> {
    #[inline]
    fn call(self, call: &'static str) -> Result<T> {
        match self {
            Ok(v) => Ok(v),
            Err(errno) => Err(Error::Os { call, errno }),
        }
    }
}

/// A kernel limit, with the knob that raises it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum Limit {
    /// `ENOSPC` from `inotify_add_watch`: the per-user watch limit.
    InotifyWatches,
    /// `EMFILE` from `inotify_init1` with descriptors to spare: the per-user
    /// instance limit.
    InotifyInstances,
    /// `ENOSPC` from `fanotify_mark`: the per-group mark limit.
    FanotifyMarks,
    /// `EMFILE` from `fanotify_init` with descriptors to spare: the per-user
    /// group limit.
    FanotifyGroups,
    /// `EAGAIN` from `io_setup`: the events asked for exceed what the
    /// machine-wide AIO limit leaves (`aio-max-nr` minus `aio-nr`).
    AioMaxNr,
    /// `EPERM` from `F_SETPIPE_SZ`: the size asked for is above
    /// `pipe-max-size` and the caller lacks `CAP_SYS_RESOURCE`.
    PipeMaxSize,
    /// `EPERM` from `F_SETPIPE_SZ` within `pipe-max-size`: the user's pipes
    /// already hold more pages than `pipe-user-pages-soft` (or
    /// `pipe-user-pages-hard`), and the caller has neither
    /// `CAP_SYS_RESOURCE` nor `CAP_SYS_ADMIN`.
    PipeUserPages,
}

impl Limit {
    /// The errno the kernel reports for this limit.
    #[must_use]
    pub const fn errno(self) -> Errno {
        match self {
            Self::InotifyWatches | Self::FanotifyMarks => Errno::NOSPC,
            Self::InotifyInstances | Self::FanotifyGroups => Errno::MFILE,
            Self::AioMaxNr => Errno::AGAIN,
            Self::PipeMaxSize | Self::PipeUserPages => Errno::PERM,
        }
    }

    /// The file (a sysctl under `/proc/sys`) that sets the limit.
    #[must_use]
    pub const fn sysctl(self) -> &'static str {
        match self {
            Self::InotifyWatches => "/proc/sys/fs/inotify/max_user_watches",
            Self::InotifyInstances => "/proc/sys/fs/inotify/max_user_instances",
            Self::FanotifyMarks => "/proc/sys/fs/fanotify/max_user_marks",
            Self::FanotifyGroups => "/proc/sys/fs/fanotify/max_user_groups",
            Self::AioMaxNr => "/proc/sys/fs/aio-max-nr",
            Self::PipeMaxSize => "/proc/sys/fs/pipe-max-size",
            Self::PipeUserPages => "/proc/sys/fs/pipe-user-pages-soft",
        }
    }

    const fn what(self) -> &'static str {
        match self {
            Self::InotifyWatches => "inotify watch limit reached (ENOSPC)",
            Self::InotifyInstances => "inotify instance limit reached (EMFILE)",
            Self::FanotifyMarks => "fanotify mark limit reached (ENOSPC)",
            Self::FanotifyGroups => "fanotify group limit reached (EMFILE)",
            Self::AioMaxNr => "AIO event limit reached (EAGAIN)",
            Self::PipeMaxSize => "pipe size above the unprivileged maximum (EPERM)",
            Self::PipeUserPages => "the user's pipes hold too many pages (EPERM)",
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: raise {}", self.what(), self.sysctl())
    }
}

/// A documented rule of a kernel interface that kernfd checks before the
/// call, because the kernel would answer it with a bare errno.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum Rule {
    /// fanotify: directory-entry events (`CREATE`, `DELETE`, `MOVED_FROM`,
    /// `MOVED_TO`, `RENAME`, `ATTRIB` on children…) and `DELETE_SELF` /
    /// `MOVE_SELF` need a group that reports file ids (`REPORT_FID` or
    /// `REPORT_DIR_FID`).
    FanotifyEventsNeedFid,
    /// fanotify: `REPORT_NAME` needs `REPORT_DIR_FID`.
    FanotifyNameNeedsDirFid,
    /// fanotify: `REPORT_TARGET_FID` needs `REPORT_FID`, `REPORT_DIR_FID`
    /// and `REPORT_NAME`.
    FanotifyTargetFidNeedsAll,
    /// fanotify: permission events need a `CLASS_CONTENT` or
    /// `CLASS_PRE_CONTENT` group, and cannot be combined with file-id
    /// reporting.
    FanotifyPermissionNeedsContentClass,
    /// fanotify: an errno in a `FAN_DENY_ERRNO` response must fit the
    /// kernel's 8-bit field and be one the kernel accepts.
    FanotifyDenyErrno,
    /// hostname: a host name is at most 64 bytes (`HOST_NAME_MAX`).
    HostnameTooLong,
    /// hostname: an NIS domain name is at most 64 bytes.
    DomainnameTooLong,
    /// vmsplice: `SPLICE_F_GIFT` hands the pages to the kernel for good; only
    /// the `unsafe` [`vmsplice_unchecked`](crate::pipe::vmsplice_unchecked)
    /// takes it.
    VmspliceGift,
    /// vmsplice: the descriptor's access mode is not the direction asked
    /// for (the kernel reads user memory into a pipe through a descriptor
    /// open for writing, and writes user memory from one open for reading
    /// only).
    VmspliceDirection,
}

impl Rule {
    /// The errno the kernel would have returned.
    #[must_use]
    pub const fn errno(self) -> Errno {
        match self {
            Self::FanotifyEventsNeedFid
            | Self::FanotifyNameNeedsDirFid
            | Self::FanotifyTargetFidNeedsAll
            | Self::FanotifyPermissionNeedsContentClass
            | Self::FanotifyDenyErrno
            | Self::HostnameTooLong
            | Self::DomainnameTooLong
            | Self::VmspliceGift => Errno::INVAL,
            Self::VmspliceDirection => Errno::BADF,
        }
    }

    const fn text(self) -> &'static str {
        match self {
            Self::FanotifyEventsNeedFid => {
                "fanotify: directory-entry and self events need a group with REPORT_FID or REPORT_DIR_FID"
            }
            Self::FanotifyNameNeedsDirFid => "fanotify: REPORT_NAME needs REPORT_DIR_FID",
            Self::FanotifyTargetFidNeedsAll => {
                "fanotify: REPORT_TARGET_FID needs REPORT_FID, REPORT_DIR_FID and REPORT_NAME"
            }
            Self::FanotifyPermissionNeedsContentClass => {
                "fanotify: permission events need a CLASS_CONTENT or CLASS_PRE_CONTENT group without file-id reporting"
            }
            Self::FanotifyDenyErrno => {
                "fanotify: a deny errno must be between 1 and 255 and one the kernel accepts"
            }
            Self::HostnameTooLong => "hostname: a host name is at most 64 bytes",
            Self::DomainnameTooLong => "hostname: an NIS domain name is at most 64 bytes",
            Self::VmspliceGift => {
                "vmsplice: SPLICE_F_GIFT gives the pages away; only vmsplice_unchecked takes it"
            }
            Self::VmspliceDirection => {
                "vmsplice: the descriptor is not open in the direction of the transfer"
            }
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}
