//! Flag sets for `fanotify_init`, `fanotify_mark` and event masks.

use core::fmt;

use crate::shared::write_flags;

use super::abi as c;

/// The shared methods and formatting of the flag types.
macro_rules! flag_methods {
    ($name:ident, $ty:ty, $width:expr) => {
        impl $name {
            /// The single flags set in this value, in bit order; unknown bits
            /// come one by one.
            pub fn flags(self) -> impl Iterator<Item = Self> + Clone {
                let bits = self.bits();
                (0..$width)
                    .map(|i| (1 as $ty) << i)
                    .filter(move |b| bits & b != 0)
                    .map(Self::from_bits_retain)
            }

            /// The name of a single known flag (`"CREATE"`), `None` for an
            /// unknown bit or a set of several.
            #[must_use]
            pub fn name(self) -> Option<&'static str> {
                Self::all()
                    .iter_names()
                    .find(|(_, f)| *f == self)
                    .map(|(n, _)| n)
            }
        }

        /// Flags by name joined with `|`; unknown bits in hex.
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_flags(
                    f,
                    u64::from(self.bits()),
                    Self::all()
                        .iter_names()
                        .map(|(n, v)| (n, u64::from(v.bits()))),
                )
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($name))
            }
        }
    };
}

bitflags::bitflags! {
    /// Flags of `fanotify_init`: the notification class, the event format
    /// (`REPORT_*`) and limits.
    ///
    /// The class is a two-bit field, not independent bits: no class bit is
    /// [`CLASS_NOTIF`](Self::CLASS_NOTIF), and setting both class bits is
    /// rejected by the kernel with `EINVAL`.
    #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct InitFlags: u32 {
        /// `FAN_CLOEXEC`: close the fanotify descriptor on `execve`.
        const CLOEXEC = c::FAN_CLOEXEC;
        /// `FAN_NONBLOCK`: reads fail with `EAGAIN` instead of blocking.
        const NONBLOCK = c::FAN_NONBLOCK;
        /// `FAN_CLASS_CONTENT`: permission events, after the file's content
        /// is final (malware scanners).
        const CLASS_CONTENT = c::FAN_CLASS_CONTENT;
        /// `FAN_CLASS_PRE_CONTENT`: permission events before content is
        /// there (hierarchical storage); needed for `FAN_PRE_ACCESS`.
        const CLASS_PRE_CONTENT = c::FAN_CLASS_PRE_CONTENT;
        /// `FAN_UNLIMITED_QUEUE`: no limit on queued events (needs
        /// `CAP_SYS_ADMIN`).
        const UNLIMITED_QUEUE = c::FAN_UNLIMITED_QUEUE;
        /// `FAN_UNLIMITED_MARKS`: no limit on marks (needs `CAP_SYS_ADMIN`).
        const UNLIMITED_MARKS = c::FAN_UNLIMITED_MARKS;
        /// `FAN_ENABLE_AUDIT`: permission responses may ask for an audit
        /// record (`FAN_AUDIT`); needs `CAP_AUDIT_WRITE`.
        const ENABLE_AUDIT = c::FAN_ENABLE_AUDIT;
        /// `FAN_REPORT_PIDFD`: add a pidfd info record for the event's
        /// process (Linux 5.15).
        const REPORT_PIDFD = c::FAN_REPORT_PIDFD;
        /// `FAN_REPORT_TID`: `pid` is the thread id, not the process id.
        const REPORT_TID = c::FAN_REPORT_TID;
        /// `FAN_REPORT_FID`: identify objects by file handle (FID info
        /// records) instead of an open fd (Linux 5.1).
        const REPORT_FID = c::FAN_REPORT_FID;
        /// `FAN_REPORT_DIR_FID`: add the parent directory's handle (DFID)
        /// (Linux 5.9).
        const REPORT_DIR_FID = c::FAN_REPORT_DIR_FID;
        /// `FAN_REPORT_NAME`: add the entry's name to the DFID record
        /// (DFID_NAME); needs `REPORT_DIR_FID` (Linux 5.9).
        const REPORT_NAME = c::FAN_REPORT_NAME;
        /// `FAN_REPORT_TARGET_FID`: for directory-entry events also report
        /// the child's FID; needs `REPORT_FID | REPORT_DFID_NAME` (Linux 5.17).
        const REPORT_TARGET_FID = c::FAN_REPORT_TARGET_FID;
        /// `FAN_REPORT_FD_ERROR`: a failure to open the event fd is reported
        /// in the event's `fd` as `-errno` (Linux 6.13).
        const REPORT_FD_ERROR = c::FAN_REPORT_FD_ERROR;
        /// `FAN_REPORT_MNT`: report mount events (`FAN_MNT_ATTACH`,
        /// `FAN_MNT_DETACH`) with a MNT info record (Linux 6.14).
        const REPORT_MNT = c::FAN_REPORT_MNT;
    }
}

impl InitFlags {
    /// `FAN_CLASS_NOTIF`: plain notifications, no permission events (the
    /// empty class field).
    pub const CLASS_NOTIF: Self = Self::empty();
    /// `FAN_REPORT_DFID_NAME`: `REPORT_DIR_FID | REPORT_NAME`.
    pub const REPORT_DFID_NAME: Self =
        Self::from_bits_retain(c::FAN_REPORT_DIR_FID | c::FAN_REPORT_NAME);
    /// `FAN_REPORT_DFID_NAME_TARGET`: `REPORT_DFID_NAME | REPORT_FID |
    /// REPORT_TARGET_FID`.
    pub const REPORT_DFID_NAME_TARGET: Self = Self::from_bits_retain(
        c::FAN_REPORT_DIR_FID | c::FAN_REPORT_NAME | c::FAN_REPORT_FID | c::FAN_REPORT_TARGET_FID,
    );
}

flag_methods!(InitFlags, u32, 32);

bitflags::bitflags! {
    /// Flags of `fanotify_mark`: the operation (`ADD`, `REMOVE`, `FLUSH`),
    /// the mark type (`MOUNT`, `FILESYSTEM`, both for `MNTNS`, neither for an
    /// inode) and options.
    #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct MarkFlags: u32 {
        /// `FAN_MARK_ADD`: add `mask` to the mark (creating it).
        const ADD = c::FAN_MARK_ADD;
        /// `FAN_MARK_REMOVE`: remove `mask` from the mark.
        const REMOVE = c::FAN_MARK_REMOVE;
        /// `FAN_MARK_DONT_FOLLOW`: do not follow a final symbolic link.
        const DONT_FOLLOW = c::FAN_MARK_DONT_FOLLOW;
        /// `FAN_MARK_ONLYDIR`: fail with `ENOTDIR` unless the path is a
        /// directory.
        const ONLYDIR = c::FAN_MARK_ONLYDIR;
        /// `FAN_MARK_MOUNT`: mark the mount containing the path.
        const MOUNT = c::FAN_MARK_MOUNT;
        /// `FAN_MARK_IGNORED_MASK`: `mask` is an ignore mask (old API;
        /// exclusive with `IGNORE`).
        const IGNORED_MASK = c::FAN_MARK_IGNORED_MASK;
        /// `FAN_MARK_IGNORED_SURV_MODIFY`: the ignore mask survives
        /// modification of the object.
        const IGNORED_SURV_MODIFY = c::FAN_MARK_IGNORED_SURV_MODIFY;
        /// `FAN_MARK_FLUSH`: remove every mark of the given type.
        const FLUSH = c::FAN_MARK_FLUSH;
        /// `FAN_MARK_FILESYSTEM`: mark the whole filesystem containing the
        /// path (Linux 4.20).
        const FILESYSTEM = c::FAN_MARK_FILESYSTEM;
        /// `FAN_MARK_EVICTABLE`: the inode mark does not pin the inode in
        /// the cache (Linux 5.19).
        const EVICTABLE = c::FAN_MARK_EVICTABLE;
        /// `FAN_MARK_IGNORE`: `mask` is an ignore mask with `ONDIR` and
        /// `EVENT_ON_CHILD` honoured (Linux 6.0).
        const IGNORE = c::FAN_MARK_IGNORE;
    }
}

impl MarkFlags {
    /// `FAN_MARK_INODE`: mark the inode itself (no type bit).
    pub const INODE: Self = Self::empty();
    /// `FAN_MARK_MNTNS`: mark a mount namespace, given as an nsfs fd
    /// (`MOUNT | FILESYSTEM`, Linux 6.14).
    pub const MNTNS: Self = Self::from_bits_retain(c::FAN_MARK_MNTNS);
    /// `FAN_MARK_IGNORE_SURV`: `IGNORE | IGNORED_SURV_MODIFY`.
    pub const IGNORE_SURV: Self =
        Self::from_bits_retain(c::FAN_MARK_IGNORE | c::FAN_MARK_IGNORED_SURV_MODIFY);
}

flag_methods!(MarkFlags, u32, 32);

/// What a mark is attached to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MarkType {
    /// `FAN_MARK_INODE`: one file or directory (and, with
    /// `EVENT_ON_CHILD`, its direct children).
    Inode,
    /// `FAN_MARK_MOUNT`: every object on one mount.
    Mount,
    /// `FAN_MARK_FILESYSTEM`: every object on one filesystem, whatever
    /// mount it is reached through.
    Filesystem,
    /// `FAN_MARK_MNTNS`: a mount namespace (pass an fd of
    /// `/proc/PID/ns/mnt`), for `MNT_ATTACH`/`MNT_DETACH` with
    /// [`InitFlags::REPORT_MNT`].
    MntNs,
}

impl MarkType {
    /// The type bits of `fanotify_mark`'s flags.
    #[must_use]
    pub const fn flags(self) -> MarkFlags {
        match self {
            Self::Inode => MarkFlags::INODE,
            Self::Mount => MarkFlags::MOUNT,
            Self::Filesystem => MarkFlags::FILESYSTEM,
            Self::MntNs => MarkFlags::MNTNS,
        }
    }
}

bitflags::bitflags! {
    /// Event bits: what a mark asks for, and what an event reports
    /// (`FAN_*` of `fanotify_mark(2)` and `fanotify(7)`).
    ///
    /// Prints by name (`CREATE|ONDIR`) and keeps unknown bits.
    #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct EventFlags: u64 {
        /// `FAN_ACCESS`: a file was read.
        const ACCESS = c::FAN_ACCESS;
        /// `FAN_MODIFY`: a file was written.
        const MODIFY = c::FAN_MODIFY;
        /// `FAN_ATTRIB`: metadata changed (FID mode only).
        const ATTRIB = c::FAN_ATTRIB;
        /// `FAN_CLOSE_WRITE`: a file opened for writing was closed.
        const CLOSE_WRITE = c::FAN_CLOSE_WRITE;
        /// `FAN_CLOSE_NOWRITE`: a file not opened for writing was closed.
        const CLOSE_NOWRITE = c::FAN_CLOSE_NOWRITE;
        /// `FAN_OPEN`: a file or directory was opened.
        const OPEN = c::FAN_OPEN;
        /// `FAN_MOVED_FROM`: an entry was moved out of a directory (FID mode).
        const MOVED_FROM = c::FAN_MOVED_FROM;
        /// `FAN_MOVED_TO`: an entry was moved into a directory (FID mode).
        const MOVED_TO = c::FAN_MOVED_TO;
        /// `FAN_CREATE`: an entry was created in a directory (FID mode).
        const CREATE = c::FAN_CREATE;
        /// `FAN_DELETE`: an entry was deleted from a directory (FID mode).
        const DELETE = c::FAN_DELETE;
        /// `FAN_DELETE_SELF`: the marked object was deleted (FID mode).
        const DELETE_SELF = c::FAN_DELETE_SELF;
        /// `FAN_MOVE_SELF`: the marked object was moved (FID mode).
        const MOVE_SELF = c::FAN_MOVE_SELF;
        /// `FAN_OPEN_EXEC`: a file was opened to be executed.
        const OPEN_EXEC = c::FAN_OPEN_EXEC;
        /// `FAN_Q_OVERFLOW`: the event queue overflowed (events only).
        const Q_OVERFLOW = c::FAN_Q_OVERFLOW;
        /// `FAN_FS_ERROR`: a filesystem error was detected (filesystem
        /// marks, `REPORT_FID`; Linux 5.16).
        const FS_ERROR = c::FAN_FS_ERROR;
        /// `FAN_OPEN_PERM`: permission to open a file is asked.
        const OPEN_PERM = c::FAN_OPEN_PERM;
        /// `FAN_ACCESS_PERM`: permission to read a file is asked.
        const ACCESS_PERM = c::FAN_ACCESS_PERM;
        /// `FAN_OPEN_EXEC_PERM`: permission to open a file for execution is
        /// asked.
        const OPEN_EXEC_PERM = c::FAN_OPEN_EXEC_PERM;
        /// `FAN_PRE_ACCESS`: a range of a file is about to be accessed; the
        /// reader may fill it in first (`CLASS_PRE_CONTENT`; Linux 6.14).
        const PRE_ACCESS = c::FAN_PRE_ACCESS;
        /// `FAN_MNT_ATTACH`: a mount was attached (`REPORT_MNT`; Linux 6.14).
        const MNT_ATTACH = c::FAN_MNT_ATTACH;
        /// `FAN_MNT_DETACH`: a mount was detached (`REPORT_MNT`; Linux 6.14).
        const MNT_DETACH = c::FAN_MNT_DETACH;
        /// `FAN_EVENT_ON_CHILD`: an inode mark on a directory also reports
        /// events on its direct children.
        const EVENT_ON_CHILD = c::FAN_EVENT_ON_CHILD;
        /// `FAN_RENAME`: an entry was renamed, with old and new names in one
        /// event (FID mode; Linux 5.17).
        const RENAME = c::FAN_RENAME;
        /// `FAN_ONDIR`: in a mask, also report events on directories; in an
        /// event, the subject is a directory.
        const ONDIR = c::FAN_ONDIR;
    }
}

impl EventFlags {
    /// `FAN_CLOSE`: `CLOSE_WRITE | CLOSE_NOWRITE`.
    pub const CLOSE: Self = Self::from_bits_retain(c::FAN_CLOSE_WRITE | c::FAN_CLOSE_NOWRITE);
    /// `FAN_MOVE`: `MOVED_FROM | MOVED_TO`.
    pub const MOVE: Self = Self::from_bits_retain(c::FAN_MOVED_FROM | c::FAN_MOVED_TO);
    /// Every permission event: `OPEN_PERM | ACCESS_PERM | OPEN_EXEC_PERM |
    /// PRE_ACCESS`. An event with one of these waits for a response.
    pub const PERMISSION_EVENTS: Self = Self::from_bits_retain(
        c::FAN_OPEN_PERM | c::FAN_ACCESS_PERM | c::FAN_OPEN_EXEC_PERM | c::FAN_PRE_ACCESS,
    );
    /// The directory-entry events that need FID mode: `CREATE | DELETE |
    /// MOVE | RENAME | ATTRIB | DELETE_SELF | MOVE_SELF`.
    pub const DIRENT_EVENTS: Self = Self::from_bits_retain(
        c::FAN_CREATE
            | c::FAN_DELETE
            | c::FAN_MOVED_FROM
            | c::FAN_MOVED_TO
            | c::FAN_RENAME
            | c::FAN_ATTRIB
            | c::FAN_DELETE_SELF
            | c::FAN_MOVE_SELF,
    );

    /// Whether the event waits for a permission response.
    #[must_use]
    pub const fn is_permission(self) -> bool {
        self.intersects(Self::PERMISSION_EVENTS)
    }
}

flag_methods!(EventFlags, u64, 64);

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::{format, vec::Vec};

    #[test]
    fn display_by_name_and_keeps_unknown_bits() {
        let m = EventFlags::CREATE | EventFlags::ONDIR;
        assert_eq!(format!("{m}"), "CREATE|ONDIR");
        assert_eq!(format!("{m:?}"), "EventFlags(CREATE|ONDIR)");
        let odd = EventFlags::from_bits_retain(0x2 | 0x8000_0000_0000);
        assert_eq!(format!("{odd}"), "MODIFY|0x800000000000");
        assert_eq!(format!("{}", EventFlags::empty()), "0");
        assert_eq!(
            format!("{}", InitFlags::REPORT_DFID_NAME | InitFlags::CLOEXEC),
            "CLOEXEC|REPORT_DIR_FID|REPORT_NAME"
        );
        assert_eq!(format!("{}", MarkFlags::MNTNS), "MOUNT|FILESYSTEM");
    }

    #[test]
    fn flags_iterate_in_bit_order() {
        let names: Vec<_> = (EventFlags::ONDIR | EventFlags::ACCESS)
            .flags()
            .map(|f| f.name().unwrap())
            .collect();
        assert_eq!(names, ["ACCESS", "ONDIR"]);
        assert_eq!(EventFlags::CLOSE.name(), None);
        let odd: Vec<_> = EventFlags::from_bits_retain(1 << 40).flags().collect();
        assert_eq!(odd, [EventFlags::from_bits_retain(1 << 40)]);
        assert_eq!(odd[0].name(), None);
    }

    #[test]
    fn values_match_the_uapi() {
        assert_eq!(EventFlags::all().bits(), 0x5b17_dfff);
        assert_eq!(InitFlags::all().bits(), 0x7fff);
        assert_eq!(MarkFlags::all().bits(), 0x7ff);
        assert_eq!(MarkType::MntNs.flags().bits(), 0x110);
        assert_eq!(MarkType::Inode.flags(), MarkFlags::empty());
        assert!(EventFlags::PRE_ACCESS.is_permission());
        assert!(!EventFlags::OPEN.is_permission());
        assert_eq!(InitFlags::REPORT_DFID_NAME_TARGET.bits(), 0x1e00);
    }
}
