//! Mounts: `mount(2)`, `umount2(2)`, `pivot_root(2)`, and the new mount API
//! (`fsopen`, `fsconfig`, `fsmount`, `move_mount`, `open_tree`, `fspick`,
//! `mount_setattr`).
//!
//! Every call here needs `CAP_SYS_ADMIN` over the caller's mount namespace
//! (a process gets it inside a user namespace it created), and changes
//! what the whole namespace sees: run them in a fresh mount namespace
//! (`process::unshare(NamespaceFlags::NEWNS)`, then make `/` private with
//! [`set_propagation`]) unless the machine is meant to change.
//!
//! Two layers:
//! - **1:1 calls**, one per system call, returning the kernel's [`Errno`]:
//!   [`mount`] (every `MS_*` flag, unknown bits kept), [`umount2`],
//!   [`pivot_root`], [`fsopen`], [`fsconfig`], [`fsmount`], [`move_mount`],
//!   [`open_tree`], [`fspick`], [`mount_setattr`]; and named shapes of
//!   `mount(2)` that pass the right flags: [`bind`], [`bind_recursive`],
//!   [`remount`], [`remount_bind`] (a read-only bind mount is
//!   `bind` + `remount_bind(RDONLY)`), [`set_propagation`], [`move_mount_legacy`].
//! - **Owned objects** returning [`kernfd::Error`](crate::Error) with the
//!   call's name: [`FsContext`] (a filesystem being configured, from
//!   `fsopen` or `fspick`) and [`Mount`] (a mount descriptor, from
//!   `fsmount` or `open_tree`, which [`Mount::attach`] puts in the tree
//!   and [`Mount::set_attr`] changes, idmapping included).
//!
//! # Example
//! A read-only tmpfs, built detached and attached at `/mnt`, in a mount
//! namespace of its own:
//! ```no_run
//! use kernfd::mount::{set_propagation, FsContext, MountAttrFlags, Propagation};
//! use kernfd::process::{unshare, NamespaceFlags};
//!
//! unshare(NamespaceFlags::NEWNS)?;
//! set_propagation("/", Propagation::Private, true)?;
//! let fs = FsContext::new("tmpfs")?;
//! fs.set_string("size", "1m")?;
//! fs.create()?;
//! let mnt = fs.mount(MountAttrFlags::RDONLY | MountAttrFlags::NOSUID)?;
//! mnt.attach("/mnt")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # References
//! [mount(2)](https://man7.org/linux/man-pages/man2/mount.2.html),
//! [mount_namespaces(7)](https://man7.org/linux/man-pages/man7/mount_namespaces.7.html),
//! [mount_setattr(2)](https://man7.org/linux/man-pages/man2/mount_setattr.2.html)

mod flags;

use core::ffi::CStr;

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::path::Arg;

use crate::error::{Call, Result};
use crate::raw;

pub use flags::{
    FsMountFlags, FsOpenFlags, FsPickFlags, MountAttrFlags, MountFlags, MoveMountFlags,
    OpenTreeFlags, Propagation, SetAttrFlags, UnmountFlags,
};

/// `mount(source, target, fstype, flags, data)`: every shape of the call,
/// with the flags passed as they are.
///
/// What `flags` selects, in the kernel's order: `REMOUNT` (with `BIND`:
/// only the per-mount flags), `BIND` (with `REC`: the subtree),
/// a propagation flag (`SHARED`, `PRIVATE`, `SLAVE`, `UNBINDABLE`, with
/// `REC`), `MOVE`, otherwise a new mount of `fstype` from `source`. The
/// kernel ignores `source` and `fstype` where the operation does not use
/// them; pass `""` (or `"none"`, as `mount(8)` shows it).
///
/// # Errors
/// `EPERM` without `CAP_SYS_ADMIN`; `ENOENT` when `target` (or a bind
/// source) does not exist; `ENOTDIR`; `ENODEV` for an unknown `fstype`;
/// `EINVAL` for a bad flag combination, a propagation change or remount
/// of a non-mount point, or a move of a shared mount's child; `EBUSY`;
/// `EROFS`; `EACCES`; `ELOOP`; `ENAMETOOLONG`; `ENOMEM`.
///
/// # References
/// [mount(2)](https://man7.org/linux/man-pages/man2/mount.2.html)
pub fn mount(
    source: impl Arg,
    target: impl Arg,
    fstype: impl Arg,
    flags: MountFlags,
    data: Option<&CStr>,
) -> core::result::Result<(), Errno> {
    // `MS_*` are a `c_ulong` in rustix's libc backend (used under Miri),
    // a `u32` in its linux_raw one.
    #[allow(clippy::useless_conversion)]
    let flags = rustix::mount::MountFlags::from_bits_retain(flags.bits().into());
    rustix::mount::mount(source, target, fstype, flags, data)
}

/// `mount(source, target, NULL, MS_BIND, NULL)`: `source` (a directory or
/// a file) also appears at `target`; mounts below `source` do not.
///
/// # Errors
/// As [`mount`]; `EINVAL` when `source` is unbindable.
///
/// # References
/// [mount(2)](https://man7.org/linux/man-pages/man2/mount.2.html)
pub fn bind(source: impl Arg, target: impl Arg) -> core::result::Result<(), Errno> {
    mount(source, target, "", MountFlags::BIND, None)
}

/// `mount(source, target, NULL, MS_BIND | MS_REC, NULL)`: `source` and
/// every mount below it appear at `target`.
///
/// # Errors
/// As [`bind`].
///
/// # References
/// [mount(2)](https://man7.org/linux/man-pages/man2/mount.2.html)
pub fn bind_recursive(source: impl Arg, target: impl Arg) -> core::result::Result<(), Errno> {
    mount(source, target, "", MountFlags::BIND | MountFlags::REC, None)
}

/// `mount(NULL, target, NULL, MS_REMOUNT | flags, data)`: changes the
/// options of the mount at `target` and of its filesystem (`RDONLY` makes
/// the filesystem read-only everywhere it is mounted).
///
/// # Errors
/// As [`mount`]; `EINVAL` when `target` is not a mount point; `EBUSY` when
/// going read-only with files open for writing.
///
/// # References
/// [mount(2)](https://man7.org/linux/man-pages/man2/mount.2.html)
pub fn remount(
    target: impl Arg,
    flags: MountFlags,
    data: Option<&CStr>,
) -> core::result::Result<(), Errno> {
    mount("", target, "", MountFlags::REMOUNT | flags, data)
}

/// `mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | flags, NULL)`:
/// changes only the per-mount flags (`RDONLY`, `NOSUID`, `NODEV`,
/// `NOEXEC`, the access-time flags) of the mount at `target`, leaving its
/// filesystem and other mounts of it alone: the read-only bind mount.
///
/// Flags a less privileged namespace inherited locked (`NOSUID`, `NODEV`,
/// …) must be kept in `flags`, or the kernel answers `EPERM`.
///
/// # Errors
/// As [`remount`].
///
/// # References
/// [mount(2)](https://man7.org/linux/man-pages/man2/mount.2.html)
pub fn remount_bind(target: impl Arg, flags: MountFlags) -> core::result::Result<(), Errno> {
    mount(
        "",
        target,
        "",
        MountFlags::REMOUNT | MountFlags::BIND | flags,
        None,
    )
}

/// `mount(NULL, target, NULL, MS_<type> [| MS_REC], NULL)`: changes the
/// propagation type of the mount at `target` (with `recursive`, of every
/// mount below it too).
///
/// # Errors
/// As [`mount`]; `EINVAL` when `target` is not a mount point.
///
/// # References
/// [mount(2)](https://man7.org/linux/man-pages/man2/mount.2.html),
/// [mount_namespaces(7)](https://man7.org/linux/man-pages/man7/mount_namespaces.7.html)
pub fn set_propagation(
    target: impl Arg,
    propagation: Propagation,
    recursive: bool,
) -> core::result::Result<(), Errno> {
    let mut flags = propagation.flags();
    flags.set(MountFlags::REC, recursive);
    mount("", target, "", flags, None)
}

/// `mount(source, target, NULL, MS_MOVE, NULL)`: moves the mount at
/// `source` (and its subtree) to `target`.
///
/// # Errors
/// As [`mount`]; `EINVAL` when `source` is not a mount point or its parent
/// is shared.
///
/// # References
/// [mount(2)](https://man7.org/linux/man-pages/man2/mount.2.html)
#[doc(alias = "MS_MOVE")]
pub fn move_mount_legacy(source: impl Arg, target: impl Arg) -> core::result::Result<(), Errno> {
    mount(source, target, "", MountFlags::MOVE, None)
}

/// `umount2(target, flags)`: unmounts the mount at `target`.
///
/// # Errors
/// `EBUSY` when in use (without `DETACH`); `EINVAL` when `target` is not a
/// mount point, or for `EXPIRE` with `FORCE` or `DETACH`, or unknown
/// flags; `EAGAIN` from the first `EXPIRE` call (the mount is now marked);
/// `ENOENT`; `EPERM` without `CAP_SYS_ADMIN`; `ENAMETOOLONG`; `ENOMEM`.
///
/// # References
/// [umount(2)](https://man7.org/linux/man-pages/man2/umount.2.html)
#[doc(alias = "umount")]
pub fn umount2(target: impl Arg, flags: UnmountFlags) -> core::result::Result<(), Errno> {
    rustix::mount::unmount(
        target,
        rustix::mount::UnmountFlags::from_bits_retain(flags.bits()),
    )
}

/// `pivot_root(new_root, put_old)`: makes the mount at `new_root` the
/// root mount of the caller's mount namespace and moves the old root to
/// `put_old`, which must be at or below `new_root`. `pivot_root(".", ".")`
/// (old root stacked on the new, then detached with [`umount2`]) needs no
/// `put_old` directory.
///
/// # Errors
/// `EINVAL` when `new_root` is not a mount point, `put_old` is not at or
/// below it, the current root is not a mount point, or a mount involved has
/// shared propagation; `EBUSY` when `new_root` or `put_old` is the current
/// root; `ENOTDIR`; `ENOENT`; `EPERM` without `CAP_SYS_ADMIN`.
///
/// # References
/// [pivot_root(2)](https://man7.org/linux/man-pages/man2/pivot_root.2.html)
pub fn pivot_root(new_root: impl Arg, put_old: impl Arg) -> core::result::Result<(), Errno> {
    rustix::process::pivot_root(new_root, put_old)
}

/// `fsopen(fstype, flags)`: a filesystem context for a new superblock of
/// `fstype`, to configure with [`fsconfig`] and mount with [`fsmount`].
///
/// # Errors
/// `ENODEV` for an unknown filesystem type; `EPERM` without
/// `CAP_SYS_ADMIN`; `EINVAL` for unknown flags; `EMFILE`, `ENFILE`,
/// `ENOMEM`.
///
/// # References
/// [fsopen(2)](https://man7.org/linux/man-pages/man2/fsopen.2.html)
pub fn fsopen(fstype: impl Arg, flags: FsOpenFlags) -> core::result::Result<OwnedFd, Errno> {
    rustix::mount::fsopen(
        fstype,
        rustix::mount::FsOpenFlags::from_bits_retain(flags.bits()),
    )
}

/// `fspick(dirfd, path, flags)`: a filesystem context for the existing
/// superblock mounted at `path`, to reconfigure with [`fsconfig`].
///
/// # Errors
/// `ENOENT`; `EBADF` for a bad `dirfd`; `EINVAL` for unknown flags or a
/// non-mount-point `path`; `EPERM` without `CAP_SYS_ADMIN`.
///
/// # References
/// [fspick(2)](https://man7.org/linux/man-pages/man2/fspick.2.html)
pub fn fspick(
    dirfd: impl AsFd,
    path: impl Arg,
    flags: FsPickFlags,
) -> core::result::Result<OwnedFd, Errno> {
    rustix::mount::fspick(
        dirfd,
        path,
        rustix::mount::FsPickFlags::from_bits_retain(flags.bits()),
    )
}

/// One `fsconfig(2)` command.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum FsConfig<'a> {
    /// `FSCONFIG_SET_FLAG`: a parameter with no value (`"ro"`).
    Flag(&'a CStr),
    /// `FSCONFIG_SET_STRING`: a parameter with a string value
    /// (`"size"`, `"1m"`).
    String(&'a CStr, &'a CStr),
    /// `FSCONFIG_SET_BINARY`: a parameter with a binary value.
    Binary(&'a CStr, &'a [u8]),
    /// `FSCONFIG_SET_PATH`: a parameter naming a path relative to a
    /// directory descriptor.
    Path(&'a CStr, BorrowedFd<'a>, &'a CStr),
    /// `FSCONFIG_SET_PATH_EMPTY`: a parameter naming the descriptor's own
    /// file.
    PathEmpty(&'a CStr, BorrowedFd<'a>),
    /// `FSCONFIG_SET_FD`: a parameter whose value is a descriptor.
    Fd(&'a CStr, BorrowedFd<'a>),
    /// `FSCONFIG_CMD_CREATE`: create (or reuse) the superblock.
    Create,
    /// `FSCONFIG_CMD_CREATE_EXCL`: create a new superblock, failing
    /// (`EBUSY`) rather than reusing one.
    CreateExclusive,
    /// `FSCONFIG_CMD_RECONFIGURE`: apply the parameters to a picked
    /// superblock.
    Reconfigure,
}

/// `fsconfig(fs_fd, cmd, key, value, aux)`: sets one parameter of a
/// filesystem context, or creates or reconfigures its superblock.
///
/// # Errors
/// `EINVAL` for an unknown parameter or a bad value (the filesystem's
/// message can be read from `fs_fd`); `EBADF` for a bad descriptor;
/// `EBUSY` when the context is in the wrong state (already created);
/// `EOPNOTSUPP` for a command the filesystem lacks; `EPERM`; `ENOMEM`.
///
/// # References
/// [fsconfig(2)](https://man7.org/linux/man-pages/man2/fsconfig.2.html)
pub fn fsconfig(fs_fd: impl AsFd, cmd: FsConfig<'_>) -> core::result::Result<(), Errno> {
    use rustix::mount as m;
    let fd = fs_fd.as_fd();
    match cmd {
        FsConfig::Flag(key) => m::fsconfig_set_flag(fd, key),
        FsConfig::String(key, value) => m::fsconfig_set_string(fd, key, value),
        FsConfig::Binary(key, value) => m::fsconfig_set_binary(fd, key, value),
        FsConfig::Path(key, dirfd, path) => m::fsconfig_set_path(fd, key, path, dirfd),
        FsConfig::PathEmpty(key, aux) => m::fsconfig_set_path_empty(fd, key, aux),
        FsConfig::Fd(key, aux) => m::fsconfig_set_fd(fd, key, aux),
        FsConfig::Create => m::fsconfig_create(fd),
        FsConfig::CreateExclusive => m::fsconfig_create_exclusive(fd),
        FsConfig::Reconfigure => m::fsconfig_reconfigure(fd),
    }
}

/// `fsmount(fs_fd, flags, attr)`: a detached mount of the superblock a
/// created context holds, with mount attributes `attr`; attach it with
/// [`move_mount`].
///
/// # Errors
/// `EINVAL` when the context has no superblock yet, or for unknown flags
/// or attributes (`IDMAP` is refused here: use [`mount_setattr`]);
/// `EBUSY` when already mounted once; `EBADF`; `EPERM`; `EMFILE`;
/// `ENOMEM`.
///
/// # References
/// [fsmount(2)](https://man7.org/linux/man-pages/man2/fsmount.2.html)
pub fn fsmount(
    fs_fd: impl AsFd,
    flags: FsMountFlags,
    attr: MountAttrFlags,
) -> core::result::Result<OwnedFd, Errno> {
    rustix::mount::fsmount(
        fs_fd,
        rustix::mount::FsMountFlags::from_bits_retain(flags.bits()),
        rustix::mount::MountAttrFlags::from_bits_retain(attr.bits()),
    )
}

/// `move_mount(from_dirfd, from_path, to_dirfd, to_path, flags)`: moves a
/// mount (or attaches a detached one, with `F_EMPTY_PATH` and an empty
/// `from_path`) to the target.
///
/// # Errors
/// `EINVAL` when the source is not a mount, or a move would cross
/// namespaces or loop; `ENOENT`; `EBADF`; `ENOTDIR`; `EPERM`; `ELOOP`;
/// `ENOMEM`.
///
/// # References
/// [move_mount(2)](https://man7.org/linux/man-pages/man2/move_mount.2.html)
pub fn move_mount(
    from_dirfd: impl AsFd,
    from_path: impl Arg,
    to_dirfd: impl AsFd,
    to_path: impl Arg,
    flags: MoveMountFlags,
) -> core::result::Result<(), Errno> {
    rustix::mount::move_mount(
        from_dirfd.as_fd(),
        from_path,
        to_dirfd.as_fd(),
        to_path,
        rustix::mount::MoveMountFlags::from_bits_retain(flags.bits()),
    )
}

/// `open_tree(dirfd, path, flags)`: a descriptor for the mount at `path`:
/// an `O_PATH` handle, or with `CLONE` a detached copy (a bind mount not
/// attached anywhere; with `RECURSIVE`, of the whole subtree).
///
/// # Errors
/// `ENOENT`; `EBADF`; `EINVAL` for unknown flags or an unbindable mount;
/// `EPERM` without `CAP_SYS_ADMIN` (for `CLONE`); `EMFILE`; `ENOMEM`.
///
/// # References
/// [open_tree(2)](https://man7.org/linux/man-pages/man2/open_tree.2.html)
pub fn open_tree(
    dirfd: impl AsFd,
    path: impl Arg,
    flags: OpenTreeFlags,
) -> core::result::Result<OwnedFd, Errno> {
    rustix::mount::open_tree(
        dirfd,
        path,
        rustix::mount::OpenTreeFlags::from_bits_retain(flags.bits()),
    )
}

/// The change [`mount_setattr`] makes (`struct mount_attr`).
#[derive(Clone, Copy, Debug, Default)]
pub struct MountAttr<'fd> {
    /// Attributes to set.
    pub set: MountAttrFlags,
    /// Attributes to clear (cleared before `set` is applied).
    pub clear: MountAttrFlags,
    /// A new propagation type, or `None` to keep it.
    pub propagation: Option<Propagation>,
    /// With [`MountAttrFlags::IDMAP`] in `set`: a descriptor of the user
    /// namespace (`/proc/PID/ns/user`) whose id mappings the mount uses.
    /// `IDMAP` with `None` here fails with `EINVAL`.
    pub userns: Option<BorrowedFd<'fd>>,
}

/// `mount_setattr(dirfd, path, flags, &attr, sizeof attr)`: changes the
/// attributes, propagation, or id mapping of the mount at `path` (with
/// `RECURSIVE`, of its subtree too).
///
/// Issued through kernfd's raw syscalls: rustix does not wrap it.
///
/// # Errors
/// `EINVAL` for unknown flags or attributes, a path that is not a mount
/// point, an atime mode without `ATIME_MASK` cleared, `IDMAP` without a
/// user-namespace descriptor or on an attached or already idmapped mount
/// or a filesystem without support; `EBADF` for a bad `dirfd` or
/// `userns`; `ENOENT`; `EPERM` without `CAP_SYS_ADMIN`, or for clearing a
/// locked flag; `EBUSY` for `RDONLY` with files open for writing;
/// `ENOSYS` before Linux 5.12.
///
/// # References
/// [mount_setattr(2)](https://man7.org/linux/man-pages/man2/mount_setattr.2.html)
pub fn mount_setattr(
    dirfd: impl AsFd,
    path: impl Arg,
    flags: SetAttrFlags,
    attr: &MountAttr<'_>,
) -> core::result::Result<(), Errno> {
    use rustix::fd::AsRawFd;
    let kattr = linux_raw_sys::general::mount_attr {
        attr_set: u64::from(attr.set.bits()),
        attr_clr: u64::from(attr.clear.bits()),
        propagation: attr.propagation.map_or(0, |p| u64::from(p.flags().bits())),
        // Read only with IDMAP. Not 0 for `None`, which would name stdin:
        // a value above INT_MAX, which the kernel refuses with EINVAL.
        userns_fd: attr.userns.map_or(u64::MAX, |fd| fd.as_raw_fd() as u64),
    };
    let dirfd = dirfd.as_fd().as_raw_fd();
    path.into_with_c_str(|path| {
        // SAFETY: `path` is a NUL-terminated string and `kattr` a
        // `struct mount_attr` of the size passed; both outlive the call,
        // which only reads them.
        let ret = unsafe {
            raw::syscall5(
                raw::nr::__NR_mount_setattr as usize,
                dirfd as usize,
                path.as_ptr() as usize,
                flags.bits() as usize,
                core::ptr::from_ref(&kattr) as usize,
                size_of_val(&kattr),
            )
        };
        raw::check(ret).map(drop)
    })
}

// `struct mount_attr` as mount_setattr(2) defines it (MOUNT_ATTR_SIZE_VER0).
const _: () = {
    use core::mem::{offset_of, size_of};
    use linux_raw_sys::general::mount_attr;
    assert!(size_of::<mount_attr>() == linux_raw_sys::general::MOUNT_ATTR_SIZE_VER0 as usize);
    assert!(offset_of!(mount_attr, attr_set) == 0);
    assert!(offset_of!(mount_attr, attr_clr) == 8);
    assert!(offset_of!(mount_attr, propagation) == 16);
    assert!(offset_of!(mount_attr, userns_fd) == 24);
};

/// A filesystem context (from `fsopen` or `fspick`): parameters set one
/// by one, then a superblock created ([`create`](Self::create)) and
/// mounted ([`mount`](Self::mount)), or reconfigured.
///
/// Close-on-exec; closed on drop.
#[derive(Debug)]
pub struct FsContext {
    fd: OwnedFd,
}

impl FsContext {
    fn from_fd(fd: OwnedFd) -> Self {
        Self { fd }
    }
}

crate::fd::owned_fd_traits!(FsContext, "filesystem context descriptor");

impl From<OwnedFd> for FsContext {
    /// Adopts a descriptor from [`fsopen`] or [`fspick`].
    fn from(fd: OwnedFd) -> Self {
        Self { fd }
    }
}

impl FsContext {
    /// `fsopen(fstype, FSOPEN_CLOEXEC)`: a context for a new `fstype`
    /// filesystem.
    ///
    /// # Errors
    /// `fsopen` errors ([`fsopen`]).
    pub fn new(fstype: impl Arg) -> Result<Self> {
        let fd = fsopen(fstype, FsOpenFlags::CLOEXEC).call("fsopen")?;
        Ok(Self { fd })
    }

    /// `fspick(AT_FDCWD, path, FSPICK_CLOEXEC)`: a context for the
    /// filesystem mounted at `path`, to reconfigure.
    ///
    /// # Errors
    /// `fspick` errors ([`fspick`]).
    pub fn pick(path: impl Arg) -> Result<Self> {
        let fd = fspick(rustix::fs::CWD, path, FsPickFlags::CLOEXEC).call("fspick")?;
        Ok(Self { fd })
    }

    /// Sets a parameter without a value (`"ro"`).
    ///
    /// # Errors
    /// `fsconfig` errors ([`fsconfig`]).
    pub fn set_flag(&self, key: impl Arg) -> Result<()> {
        key.into_with_c_str(|key| fsconfig(&self.fd, FsConfig::Flag(key)))
            .call("fsconfig")
    }

    /// Sets a parameter to a string (`"size"`, `"1m"`).
    ///
    /// # Errors
    /// `fsconfig` errors ([`fsconfig`]).
    pub fn set_string(&self, key: impl Arg, value: impl Arg) -> Result<()> {
        key.into_with_c_str(|key| {
            value.into_with_c_str(|value| fsconfig(&self.fd, FsConfig::String(key, value)))
        })
        .call("fsconfig")
    }

    /// `FSCONFIG_CMD_CREATE`: creates the superblock.
    ///
    /// # Errors
    /// `fsconfig` errors ([`fsconfig`]).
    pub fn create(&self) -> Result<()> {
        fsconfig(&self.fd, FsConfig::Create).call("fsconfig")
    }

    /// `FSCONFIG_CMD_RECONFIGURE`: applies the parameters set to a picked
    /// filesystem.
    ///
    /// # Errors
    /// `fsconfig` errors ([`fsconfig`]).
    pub fn reconfigure(&self) -> Result<()> {
        fsconfig(&self.fd, FsConfig::Reconfigure).call("fsconfig")
    }

    /// `fsmount(fd, FSMOUNT_CLOEXEC, attr)`: a detached mount of the
    /// created superblock.
    ///
    /// # Errors
    /// `fsmount` errors ([`fsmount`]).
    pub fn mount(&self, attr: MountAttrFlags) -> Result<Mount> {
        let fd = fsmount(&self.fd, FsMountFlags::CLOEXEC, attr).call("fsmount")?;
        Ok(Mount { fd })
    }
}

/// A mount descriptor (from [`FsContext::mount`], [`Mount::clone_tree`],
/// `fsmount` or `open_tree`): a detached mount until
/// [`attach`](Self::attach)ed; a detached mount still unattached when the
/// last descriptor closes is unmounted.
///
/// Close-on-exec; closed on drop.
#[derive(Debug)]
pub struct Mount {
    fd: OwnedFd,
}

impl Mount {
    fn from_fd(fd: OwnedFd) -> Self {
        Self { fd }
    }
}

crate::fd::owned_fd_traits!(Mount, "mount descriptor");

impl From<OwnedFd> for Mount {
    /// Adopts a descriptor from [`fsmount`] or [`open_tree`].
    fn from(fd: OwnedFd) -> Self {
        Self { fd }
    }
}

impl Mount {
    /// `open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC
    /// [| AT_RECURSIVE])`: a detached bind mount of the mount at `path`
    /// (of its whole subtree with `recursive`).
    ///
    /// # Errors
    /// `open_tree` errors ([`open_tree`]).
    pub fn clone_tree(path: impl Arg, recursive: bool) -> Result<Self> {
        let mut flags = OpenTreeFlags::CLONE | OpenTreeFlags::CLOEXEC;
        flags.set(OpenTreeFlags::RECURSIVE, recursive);
        let fd = open_tree(rustix::fs::CWD, path, flags).call("open_tree")?;
        Ok(Self { fd })
    }

    /// `mount_setattr(fd, "", AT_EMPTY_PATH [| AT_RECURSIVE], attr)`:
    /// changes this mount's attributes (an idmapping needs a mount not yet
    /// attached).
    ///
    /// # Errors
    /// `mount_setattr` errors ([`mount_setattr`]).
    pub fn set_attr(&self, attr: &MountAttr<'_>, recursive: bool) -> Result<()> {
        let mut flags = SetAttrFlags::EMPTY_PATH;
        flags.set(SetAttrFlags::RECURSIVE, recursive);
        mount_setattr(&self.fd, "", flags, attr).call("mount_setattr")
    }

    /// `move_mount(fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH)`:
    /// attaches (or moves) this mount at `target`.
    ///
    /// # Errors
    /// `move_mount` errors ([`move_mount`]).
    pub fn attach(&self, target: impl Arg) -> Result<()> {
        move_mount(
            &self.fd,
            "",
            rustix::fs::CWD,
            target,
            MoveMountFlags::F_EMPTY_PATH,
        )
        .call("move_mount")
    }
}
