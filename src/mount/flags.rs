//! The flag sets of the mount calls, each bit named after its C constant.
//! Every set keeps unknown bits and passes them on (`const _ = !0`): the
//! kernel decides what it knows.

use linux_raw_sys::general as c;

bitflags::bitflags! {
    /// `mountflags` of [`mount`](super::mount) (`MS_*` of `mount(2)`): the
    /// operation (bind, remount, move, propagation change, or a new mount)
    /// and the per-mount and per-superblock options.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct MountFlags: u32 {
        /// `MS_RDONLY`: read-only.
        const RDONLY = c::MS_RDONLY;
        /// `MS_NOSUID`: ignore set-user-id and set-group-id bits and file
        /// capabilities.
        const NOSUID = c::MS_NOSUID;
        /// `MS_NODEV`: no access to device special files.
        const NODEV = c::MS_NODEV;
        /// `MS_NOEXEC`: no program execution.
        const NOEXEC = c::MS_NOEXEC;
        /// `MS_SYNCHRONOUS`: synchronous writes.
        const SYNCHRONOUS = c::MS_SYNCHRONOUS;
        /// `MS_REMOUNT`: change the options of an existing mount.
        const REMOUNT = c::MS_REMOUNT;
        /// `MS_MANDLOCK`: mandatory locking (removed from Linux 5.15; the
        /// kernel ignores it or refuses it).
        const MANDLOCK = c::MS_MANDLOCK;
        /// `MS_DIRSYNC`: synchronous directory changes.
        const DIRSYNC = c::MS_DIRSYNC;
        /// `MS_NOSYMFOLLOW`: do not follow symbolic links in path lookups.
        const NOSYMFOLLOW = c::MS_NOSYMFOLLOW;
        /// `MS_NOATIME`: never update access times.
        const NOATIME = c::MS_NOATIME;
        /// `MS_NODIRATIME`: never update directory access times.
        const NODIRATIME = c::MS_NODIRATIME;
        /// `MS_BIND`: make a bind mount of `source` at `target`.
        const BIND = c::MS_BIND;
        /// `MS_MOVE`: move the mount at `source` to `target`.
        const MOVE = c::MS_MOVE;
        /// `MS_REC`: with `BIND`, bind the whole subtree; with a
        /// propagation flag, change the whole subtree.
        const REC = c::MS_REC;
        /// `MS_SILENT`: suppress some kernel log messages.
        const SILENT = c::MS_SILENT;
        /// `MS_POSIXACL`: POSIX ACLs (set by filesystems, not callers).
        const POSIXACL = c::MS_POSIXACL;
        /// `MS_UNBINDABLE`: a private mount that cannot be bind-mounted.
        const UNBINDABLE = c::MS_UNBINDABLE;
        /// `MS_PRIVATE`: mount and unmount events neither leave nor reach
        /// this mount.
        const PRIVATE = c::MS_PRIVATE;
        /// `MS_SLAVE`: events reach this mount from its peer group, none
        /// leave it.
        const SLAVE = c::MS_SLAVE;
        /// `MS_SHARED`: events are shared with the mount's peer group.
        const SHARED = c::MS_SHARED;
        /// `MS_RELATIME`: update access times relative to modification
        /// times (the default).
        const RELATIME = c::MS_RELATIME;
        /// `MS_KERNMOUNT`: kernel-internal; refused or ignored from user
        /// space.
        const KERNMOUNT = c::MS_KERNMOUNT;
        /// `MS_I_VERSION`: update inode versions.
        const I_VERSION = c::MS_I_VERSION;
        /// `MS_STRICTATIME`: always update access times.
        const STRICTATIME = c::MS_STRICTATIME;
        /// `MS_LAZYTIME`: keep time updates in memory only, when possible.
        const LAZYTIME = c::MS_LAZYTIME;
        // Any other bit is passed to the kernel as is.
        const _ = !0;
    }
}

bitflags::bitflags! {
    /// `flags` of [`umount2`](super::umount2).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct UnmountFlags: u32 {
        /// `MNT_FORCE`: abort pending requests (NFS, FUSE); may lose data.
        const FORCE = c::MNT_FORCE;
        /// `MNT_DETACH`: lazy unmount: detach now, clean up when no longer
        /// busy.
        const DETACH = c::MNT_DETACH;
        /// `MNT_EXPIRE`: mark the mount expired; a second call unmounts it
        /// if it stayed unused (`EAGAIN` the first time).
        const EXPIRE = c::MNT_EXPIRE;
        /// `UMOUNT_NOFOLLOW`: do not follow a symbolic link at `target`.
        const NOFOLLOW = c::UMOUNT_NOFOLLOW;
        // Any other bit is passed to the kernel as is.
        const _ = !0;
    }
}

bitflags::bitflags! {
    /// `flags` of [`fsopen`](super::fsopen).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct FsOpenFlags: u32 {
        /// `FSOPEN_CLOEXEC`: close the context on `execve`.
        const CLOEXEC = c::FSOPEN_CLOEXEC;
        // Any other bit is passed to the kernel as is.
        const _ = !0;
    }
}

bitflags::bitflags! {
    /// `flags` of [`fspick`](super::fspick).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct FsPickFlags: u32 {
        /// `FSPICK_CLOEXEC`: close the context on `execve`.
        const CLOEXEC = c::FSPICK_CLOEXEC;
        /// `FSPICK_SYMLINK_NOFOLLOW`: do not follow a final symbolic link.
        const SYMLINK_NOFOLLOW = c::FSPICK_SYMLINK_NOFOLLOW;
        /// `FSPICK_NO_AUTOMOUNT`: do not trigger an automount.
        const NO_AUTOMOUNT = c::FSPICK_NO_AUTOMOUNT;
        /// `FSPICK_EMPTY_PATH`: an empty path means `dirfd` itself.
        const EMPTY_PATH = c::FSPICK_EMPTY_PATH;
        // Any other bit is passed to the kernel as is.
        const _ = !0;
    }
}

bitflags::bitflags! {
    /// `flags` of [`fsmount`](super::fsmount).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct FsMountFlags: u32 {
        /// `FSMOUNT_CLOEXEC`: close the mount descriptor on `execve`.
        const CLOEXEC = c::FSMOUNT_CLOEXEC;
        // Any other bit is passed to the kernel as is.
        const _ = !0;
    }
}

bitflags::bitflags! {
    /// Mount attributes (`MOUNT_ATTR_*`), for [`fsmount`](super::fsmount)
    /// and [`mount_setattr`](super::mount_setattr).
    ///
    /// The access-time mode is a 3-bit field ([`ATIME_MASK`](Self::ATIME_MASK)),
    /// not independent bits: `RELATIME` is its zero value; to change it,
    /// put `ATIME_MASK` in the bits to clear and one mode in the bits to
    /// set.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct MountAttrFlags: u32 {
        /// `MOUNT_ATTR_RDONLY`: read-only.
        const RDONLY = c::MOUNT_ATTR_RDONLY;
        /// `MOUNT_ATTR_NOSUID`: ignore set-id bits and file capabilities.
        const NOSUID = c::MOUNT_ATTR_NOSUID;
        /// `MOUNT_ATTR_NODEV`: no access to device files.
        const NODEV = c::MOUNT_ATTR_NODEV;
        /// `MOUNT_ATTR_NOEXEC`: no program execution.
        const NOEXEC = c::MOUNT_ATTR_NOEXEC;
        /// `MOUNT_ATTR__ATIME`: the access-time mode field.
        const ATIME_MASK = c::MOUNT_ATTR__ATIME;
        /// `MOUNT_ATTR_RELATIME`: relative access times (zero: the field's
        /// default).
        const RELATIME = c::MOUNT_ATTR_RELATIME;
        /// `MOUNT_ATTR_NOATIME`: no access times.
        const NOATIME = c::MOUNT_ATTR_NOATIME;
        /// `MOUNT_ATTR_STRICTATIME`: always update access times.
        const STRICTATIME = c::MOUNT_ATTR_STRICTATIME;
        /// `MOUNT_ATTR_NODIRATIME`: no directory access times.
        const NODIRATIME = c::MOUNT_ATTR_NODIRATIME;
        /// `MOUNT_ATTR_IDMAP`: map ids through the user namespace in
        /// [`MountAttr::userns`](super::MountAttr::userns) (an idmapped
        /// mount). Only on a detached mount, only on filesystems that
        /// support it.
        const IDMAP = c::MOUNT_ATTR_IDMAP;
        /// `MOUNT_ATTR_NOSYMFOLLOW`: do not follow symbolic links.
        const NOSYMFOLLOW = c::MOUNT_ATTR_NOSYMFOLLOW;
        // Any other bit is passed to the kernel as is.
        const _ = !0;
    }
}

bitflags::bitflags! {
    /// `flags` of [`move_mount`](super::move_mount).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct MoveMountFlags: u32 {
        /// `MOVE_MOUNT_F_SYMLINKS`: follow symbolic links in the source path.
        const F_SYMLINKS = c::MOVE_MOUNT_F_SYMLINKS;
        /// `MOVE_MOUNT_F_AUTOMOUNTS`: trigger automounts on the source path.
        const F_AUTOMOUNTS = c::MOVE_MOUNT_F_AUTOMOUNTS;
        /// `MOVE_MOUNT_F_EMPTY_PATH`: an empty source path means the source
        /// descriptor itself (a detached mount from `fsmount`/`open_tree`).
        const F_EMPTY_PATH = c::MOVE_MOUNT_F_EMPTY_PATH;
        /// `MOVE_MOUNT_T_SYMLINKS`: follow symbolic links in the target path.
        const T_SYMLINKS = c::MOVE_MOUNT_T_SYMLINKS;
        /// `MOVE_MOUNT_T_AUTOMOUNTS`: trigger automounts on the target path.
        const T_AUTOMOUNTS = c::MOVE_MOUNT_T_AUTOMOUNTS;
        /// `MOVE_MOUNT_T_EMPTY_PATH`: an empty target path means the target
        /// descriptor itself.
        const T_EMPTY_PATH = c::MOVE_MOUNT_T_EMPTY_PATH;
        /// `MOVE_MOUNT_SET_GROUP`: put the target in the source's peer group
        /// instead of moving.
        const SET_GROUP = c::MOVE_MOUNT_SET_GROUP;
        /// `MOVE_MOUNT_BENEATH`: mount beneath the top mount at the target.
        const BENEATH = c::MOVE_MOUNT_BENEATH;
        // Any other bit is passed to the kernel as is.
        const _ = !0;
    }
}

bitflags::bitflags! {
    /// `flags` of [`open_tree`](super::open_tree).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct OpenTreeFlags: u32 {
        /// `OPEN_TREE_CLONE`: a detached copy of the mount (a bind mount
        /// not yet attached anywhere) rather than an `O_PATH` handle to it.
        const CLONE = c::OPEN_TREE_CLONE;
        /// `OPEN_TREE_CLOEXEC`: close the descriptor on `execve`.
        const CLOEXEC = c::OPEN_TREE_CLOEXEC;
        /// `AT_EMPTY_PATH`: an empty path means `dirfd` itself.
        const EMPTY_PATH = c::AT_EMPTY_PATH;
        /// `AT_NO_AUTOMOUNT`: do not trigger an automount.
        const NO_AUTOMOUNT = c::AT_NO_AUTOMOUNT;
        /// `AT_RECURSIVE`: with `CLONE`, copy the whole subtree.
        const RECURSIVE = c::AT_RECURSIVE;
        /// `AT_SYMLINK_NOFOLLOW`: do not follow a final symbolic link.
        const SYMLINK_NOFOLLOW = c::AT_SYMLINK_NOFOLLOW;
        // Any other bit is passed to the kernel as is.
        const _ = !0;
    }
}

bitflags::bitflags! {
    /// `flags` of [`mount_setattr`](super::mount_setattr): how the path is
    /// looked up and whether the change covers the subtree.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct SetAttrFlags: u32 {
        /// `AT_EMPTY_PATH`: an empty path means `dirfd` itself.
        const EMPTY_PATH = c::AT_EMPTY_PATH;
        /// `AT_NO_AUTOMOUNT`: do not trigger an automount.
        const NO_AUTOMOUNT = c::AT_NO_AUTOMOUNT;
        /// `AT_RECURSIVE`: change every mount in the subtree.
        const RECURSIVE = c::AT_RECURSIVE;
        /// `AT_SYMLINK_NOFOLLOW`: do not follow a final symbolic link.
        const SYMLINK_NOFOLLOW = c::AT_SYMLINK_NOFOLLOW;
        // Any other bit is passed to the kernel as is.
        const _ = !0;
    }
}

/// A propagation type, for [`set_propagation`](super::set_propagation) and
/// [`MountAttr::propagation`](super::MountAttr::propagation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Propagation {
    /// `MS_SHARED`: mount events are shared with the peer group.
    Shared,
    /// `MS_PRIVATE`: no events leave or reach the mount.
    Private,
    /// `MS_SLAVE`: events reach the mount from its master, none leave it.
    Slave,
    /// `MS_UNBINDABLE`: private, and cannot be the source of a bind mount.
    Unbindable,
}

impl Propagation {
    /// The `MS_*` flag for this type.
    #[must_use]
    pub const fn flags(self) -> MountFlags {
        match self {
            Self::Shared => MountFlags::SHARED,
            Self::Private => MountFlags::PRIVATE,
            Self::Slave => MountFlags::SLAVE,
            Self::Unbindable => MountFlags::UNBINDABLE,
        }
    }
}

crate::shared::display_flags!(
    MountFlags,
    UnmountFlags,
    FsOpenFlags,
    FsPickFlags,
    FsMountFlags,
    MountAttrFlags,
    MoveMountFlags,
    OpenTreeFlags,
    SetAttrFlags
);
