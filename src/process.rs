//! Process and thread ids straight from the kernel, and namespaces.
//!
//! [`getpid`], [`getppid`] and [`gettid`] issue the system call every
//! time: nothing is cached, in kernfd or below it (rustix's `linux_raw`
//! backend makes a direct syscall; there is no libc). A cached pid lies in
//! a child made by a raw `clone` that bypassed the cache's fork hook, and
//! in a process that entered a new PID namespace: the kernel's answer does
//! not.
//!
//! [`unshare`] and [`setns`] move the calling thread into new or existing
//! namespaces ([`NamespaceFlags`]): enough to build a container (see
//! `examples/container.rs`).
//!
//! # Example
//! ```
//! let pid = kernfd::process::getpid();
//! assert_eq!(pid.as_raw_nonzero().get() as u32, std::process::id());
//! assert!(kernfd::process::getppid().is_some());
//! ```
//!
//! # References
//! [getpid(2)](https://man7.org/linux/man-pages/man2/getpid.2.html),
//! [gettid(2)](https://man7.org/linux/man-pages/man2/gettid.2.html),
//! [namespaces(7)](https://man7.org/linux/man-pages/man7/namespaces.7.html)

use rustix::fd::AsFd;
use rustix::io::Errno;
pub use rustix::process::Pid;

/// `getpid()`: the calling process's id (its thread-group id), as the
/// kernel reports it now, in the caller's PID namespace. Never cached.
///
/// # References
/// [getpid(2)](https://man7.org/linux/man-pages/man2/getpid.2.html)
#[inline]
#[must_use]
pub fn getpid() -> Pid {
    rustix::process::getpid()
}

/// `getppid()`: the parent's process id, as the kernel reports it now.
/// `None` when the kernel says 0: the parent is outside the caller's PID
/// namespace, as it always is for a namespace's PID 1. Never cached.
///
/// # References
/// [getppid(2)](https://man7.org/linux/man-pages/man2/getppid.2.html)
#[inline]
#[must_use]
pub fn getppid() -> Option<Pid> {
    rustix::process::getppid()
}

/// `gettid()`: the calling thread's id. Never cached.
///
/// # References
/// [gettid(2)](https://man7.org/linux/man-pages/man2/gettid.2.html)
#[inline]
#[must_use]
pub fn gettid() -> Pid {
    rustix::thread::gettid()
}

bitflags::bitflags! {
    /// Namespace types (`CLONE_NEW*`), for [`unshare`] and [`setns`].
    ///
    /// Unknown bits are kept and passed on; the kernel rejects what it does
    /// not know with `EINVAL`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct NamespaceFlags: u32 {
        /// `CLONE_NEWNS`: a mount namespace.
        const NEWNS = linux_raw_sys::general::CLONE_NEWNS;
        /// `CLONE_NEWUTS`: host and domain names.
        const NEWUTS = linux_raw_sys::general::CLONE_NEWUTS;
        /// `CLONE_NEWIPC`: System V IPC and POSIX message queues.
        const NEWIPC = linux_raw_sys::general::CLONE_NEWIPC;
        /// `CLONE_NEWUSER`: user and group ids, capabilities.
        const NEWUSER = linux_raw_sys::general::CLONE_NEWUSER;
        /// `CLONE_NEWPID`: process ids; applies to the caller's next
        /// children, the first of which is the namespace's PID 1.
        const NEWPID = linux_raw_sys::general::CLONE_NEWPID;
        /// `CLONE_NEWNET`: network devices, stacks, ports.
        const NEWNET = linux_raw_sys::general::CLONE_NEWNET;
        /// `CLONE_NEWCGROUP`: the cgroup root.
        const NEWCGROUP = linux_raw_sys::general::CLONE_NEWCGROUP;
        /// `CLONE_NEWTIME`: boot and monotonic clock offsets; applies to
        /// the caller's next children.
        const NEWTIME = linux_raw_sys::general::CLONE_NEWTIME;
        // Any other bit is passed to the kernel as is (except CLONE_FILES,
        // see `unshare`).
        const _ = !0;
    }
}

crate::shared::display_flags!(NamespaceFlags);

/// `unshare(flags)`: moves the calling thread into new namespaces of the
/// kinds in `ns`.
///
/// `NEWUSER` needs a single-threaded caller; `NEWPID` and `NEWTIME` take
/// effect for the caller's next children, not the caller. Unsharing the
/// descriptor table (`CLONE_FILES`) is not a namespace and can break the
/// ownership of descriptors other threads hold, so this safe function
/// refuses that bit with `EINVAL` before the kernel sees it
/// (`rustix::thread::unshare_unsafe` is there for it).
///
/// # Errors
/// `EINVAL` for unknown bits, `CLONE_FILES`, or `NEWUSER` in a threaded
/// process; `EPERM` without `CAP_SYS_ADMIN` (or, for `NEWUSER`, when
/// nesting or `chroot` forbids it); `ENOSPC` when a `user.max_*_namespaces`
/// limit is reached; `EUSERS`, `ENOMEM`.
///
/// # References
/// [unshare(2)](https://man7.org/linux/man-pages/man2/unshare.2.html)
pub fn unshare(ns: NamespaceFlags) -> Result<(), Errno> {
    if ns.bits() & linux_raw_sys::general::CLONE_FILES != 0 {
        return Err(Errno::INVAL);
    }
    // SAFETY: without CLONE_FILES the descriptor table stays shared, so no
    // thread can lose a descriptor it owns; every other bit changes only
    // namespaces, fs attributes or SysV semaphore undo lists of this thread.
    unsafe {
        rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::from_bits_retain(ns.bits()))
    }
}

/// `setns(fd, nstype)`: moves the calling thread into the namespace `fd`
/// refers to (a `/proc/PID/ns/*` file, or a bind mount of one), or into
/// the namespaces of kinds `nstype` of the process a pidfd refers to.
///
/// For a namespace file, `nstype` is empty (any kind) or the one kind the
/// caller expects; for a pidfd, the kinds to join.
///
/// # Errors
/// `EBADF` when `fd` is not open; `EINVAL` when it is not a namespace file
/// or pidfd, or its kind is not `nstype`, or `NEWUSER` in a threaded
/// process; `EPERM` without the capabilities the namespace needs;
/// `ENOMEM`, `ESRCH` (pidfd of a dead process).
///
/// # References
/// [setns(2)](https://man7.org/linux/man-pages/man2/setns.2.html)
pub fn setns(fd: impl AsFd, nstype: NamespaceFlags) -> Result<(), Errno> {
    rustix::thread::move_into_thread_name_spaces(
        fd.as_fd(),
        rustix::thread::ThreadNameSpaceType::from_bits_retain(nstype.bits()),
    )
}
