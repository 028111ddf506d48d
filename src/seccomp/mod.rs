//! seccomp: filter the system calls of this thread (and its future
//! children) with a classic BPF program, or hand them to a supervisor.
//!
//! - **Strict mode** ([`set_mode_strict`]): only `read`, `write`, `_exit`
//!   and `sigreturn`; anything else is `SIGKILL`.
//! - **Filter mode**: a [`Builder`] writes a program from
//!   [`SyscallRule`]s into storage you supply (no allocator), with the
//!   architecture check first and, on `x86_64`, x32 numbers killed; the
//!   resulting [`Filter`] is installed with [`Filter::install`]. A program
//!   you wrote yourself goes in through [`install_raw`], which is `unsafe`.
//! - **An evaluator** ([`evaluate`]) runs any program on a [`SeccompData`]
//!   the way the kernel does and counts the instructions, so a policy can be
//!   tested and costed without installing it.
//! - **User notification**: with [`FilterFlags::NEW_LISTENER`] the install
//!   returns a [`Listener`]; calls whose action is [`Action::UserNotif`]
//!   wait until the listener's owner answers them ([`Listener::recv`],
//!   [`Listener::respond`], [`Listener::add_fd`]).
//!
//! Installing a filter needs `no_new_privs` ([`set_no_new_privs`]) or
//! `CAP_SYS_ADMIN`; without either, `EACCES`. Filters cannot be removed:
//! they last for the thread's life and are inherited across `fork`,
//! `clone` and `execve`.
//!
//! # User notification: what is a security boundary and what is not
//! Deciding from the target's *memory* (a path, a `struct sockaddr`) and
//! answering [`Response::Continue`] is **not** a security boundary: the
//! target (another of its threads, or a process sharing its memory) can
//! change the bytes after the supervisor read them and before the kernel
//! reads them again to run the call. Use `Continue` only as a cheap "not
//! mine, go ahead" for policies enforced elsewhere. What is sound:
//! - deciding from the register arguments alone (the [`SeccompData`]
//!   cannot change), e.g. with the filter's own conditions;
//! - doing the call *in the supervisor* on the bytes it read (its copy
//!   cannot change) and answering with the result: a value, an errno, or a
//!   descriptor injected with [`AddFd::send`] (`examples/supervise.rs`'s
//!   `--replace` does this for the paths it names), for *every* call the
//!   filter sends, never answering `Continue`.
//!
//! So a deny-list that lets the other calls `Continue` (`supervise --deny`)
//! is a tripwire, not a sandbox: the target can show one path to the
//! supervisor and another to the kernel.
//!
//! The other direction matters too: the target trusts the answer. A
//! [`Response::Value`] for an `mmap` is a pointer the target will use; when
//! the target is a thread of the supervisor's own process, a made-up value
//! breaks that process's memory safety as writing `/proc/self/mem` would.
//! Answer a call of your own process only with an errno, `Continue`, or the
//! result of really doing the call.
//!
//! # Example
//! ```no_run
//! use kernfd::seccomp::{self, Action, Arch, Builder, FilterFlags, Instruction, SyscallRule};
//!
//! let arch = Arch::native();
//! let uname = arch.syscall("uname").unwrap();
//! let rules = [SyscallRule::new(uname, Action::Errno(1))];
//! let mut storage = [Instruction::default(); 64];
//! let filter = Builder::new(arch, Action::Allow).build(&rules, &mut storage)?;
//! seccomp::set_no_new_privs()?;
//! filter.install(FilterFlags::empty())?;
//! // From here on, uname(2) fails with EPERM in this thread and its children.
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # References
//! [seccomp(2)](https://man7.org/linux/man-pages/man2/seccomp.2.html),
//! [seccomp_unotify(2)](https://man7.org/linux/man-pages/man2/seccomp_unotify.2.html)

mod abi;
mod bpf;
mod builder;
mod notify;
#[cfg(any(test, fuzzing))]
#[doc(hidden)]
pub mod reference;
mod syscalls;

use rustix::io::Errno;

pub use bpf::{
    Action, EvalError, Instruction, MAX_INSTRUCTIONS, SeccompData, Verdict, check, evaluate, op,
};
pub use builder::{BuildError, Builder, Cmp, Cond, Filter, SyscallRule, X32_SYSCALL_BIT};
pub use notify::{
    AddFd, Listener, NOTIF_LEN, Notification, ParseError, Response, notif_addfd, notif_id_valid,
    notif_recv, notif_send, notif_set_flags, parse_notification,
};

use crate::error::{Call, Error, Result};
use crate::raw;

bitflags::bitflags! {
    /// Flags for [`set_mode_filter`] (`SECCOMP_FILTER_FLAG_*`).
    ///
    /// Unknown bits are kept and passed on; the kernel rejects them with
    /// `EINVAL`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct FilterFlags: u32 {
        /// `SECCOMP_FILTER_FLAG_TSYNC`: install on every thread of the
        /// process. Fails if a thread has filters that are not an ancestor
        /// of the caller's; the call then returns that thread's id.
        const TSYNC = linux_raw_sys::ptrace::SECCOMP_FILTER_FLAG_TSYNC;
        /// `SECCOMP_FILTER_FLAG_LOG`: log every action but `ALLOW`.
        const LOG = linux_raw_sys::ptrace::SECCOMP_FILTER_FLAG_LOG;
        /// `SECCOMP_FILTER_FLAG_SPEC_ALLOW`: leave speculative store bypass
        /// mitigation off.
        const SPEC_ALLOW = linux_raw_sys::ptrace::SECCOMP_FILTER_FLAG_SPEC_ALLOW;
        /// `SECCOMP_FILTER_FLAG_NEW_LISTENER`: return a notification
        /// listener fd (close-on-exec). With `TSYNC` only together with
        /// `TSYNC_ESRCH`.
        const NEW_LISTENER = linux_raw_sys::ptrace::SECCOMP_FILTER_FLAG_NEW_LISTENER;
        /// `SECCOMP_FILTER_FLAG_TSYNC_ESRCH`: a `TSYNC` failure is `ESRCH`
        /// instead of a thread id.
        const TSYNC_ESRCH = linux_raw_sys::ptrace::SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
        /// `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV`: once the listener has
        /// received a notification, the waiting target ignores all but
        /// fatal signals (Linux 5.19).
        const WAIT_KILLABLE_RECV = linux_raw_sys::ptrace::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
        // Any other bit is passed to the kernel as is.
        const _ = !0;
    }
}

crate::shared::display_flags!(FilterFlags);

/// A system-call convention a filter can be written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Arch {
    /// `x86_64` (`AUDIT_ARCH_X86_64`).
    X86_64,
    /// `aarch64` (`AUDIT_ARCH_AARCH64`).
    Aarch64,
}

impl Arch {
    /// The architecture this crate is compiled for.
    #[must_use]
    pub const fn native() -> Self {
        if cfg!(target_arch = "aarch64") {
            Self::Aarch64
        } else {
            Self::X86_64
        }
    }

    /// The `AUDIT_ARCH_*` value the kernel puts in [`SeccompData::arch`].
    #[must_use]
    pub const fn audit_arch(self) -> u32 {
        match self {
            Self::X86_64 => linux_raw_sys::ptrace::AUDIT_ARCH_X86_64,
            Self::Aarch64 => linux_raw_sys::ptrace::AUDIT_ARCH_AARCH64,
        }
    }

    fn table(self) -> &'static [(&'static str, u32)] {
        match self {
            Self::X86_64 => syscalls::X86_64,
            Self::Aarch64 => syscalls::AARCH64,
        }
    }

    /// The number of syscall `name` (`"openat"`, no `__NR_` prefix) on this
    /// architecture, from linux-raw-sys's tables; `None` if it has none
    /// (`"open"` on `aarch64`).
    #[must_use]
    pub fn syscall(self, name: &str) -> Option<u32> {
        let t = self.table();
        t.binary_search_by(|&(n, _)| n.cmp(name))
            .ok()
            .map(|i| t[i].1)
    }

    /// The name of syscall `nr` on this architecture.
    #[must_use]
    pub fn syscall_name(self, nr: u32) -> Option<&'static str> {
        self.table()
            .iter()
            .find(|&&(_, n)| n == nr)
            .map(|&(s, _)| s)
    }

    /// Every `(name, number)` of this architecture, sorted by name.
    pub fn syscalls(self) -> impl Iterator<Item = (&'static str, u32)> {
        self.table().iter().copied()
    }
}

/// `seccomp(SECCOMP_SET_MODE_STRICT, 0, NULL)`: from now on this thread may
/// only call `read`, `write`, `_exit` (not `exit_group`) and `sigreturn`;
/// any other call kills it with `SIGKILL`.
///
/// # Errors
/// `EINVAL` when a filter is already installed, or strict mode is not
/// built in.
///
/// # References
/// [seccomp(2)](https://man7.org/linux/man-pages/man2/seccomp.2.html)
#[doc(alias = "SECCOMP_SET_MODE_STRICT")]
pub fn set_mode_strict() -> core::result::Result<(), Errno> {
    // SAFETY: no pointer is passed; strict mode breaks no memory invariant
    // (every other call kills the thread before it runs).
    raw::check(unsafe {
        raw::syscall3(
            raw::nr::__NR_seccomp as usize,
            linux_raw_sys::ptrace::SECCOMP_SET_MODE_STRICT as usize,
            0,
            0,
        )
    })
    .map(drop)
}

/// `seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog)`: installs `program` on
/// this thread (all threads with [`FilterFlags::TSYNC`]).
///
/// Returns the kernel's value as is: `0`; a new listener fd with
/// [`FilterFlags::NEW_LISTENER`]; with `TSYNC` (and not `TSYNC_ESRCH`), the
/// id of a thread that could not be synchronised (then nothing was
/// installed).
///
/// # Errors
/// `EACCES` without `no_new_privs` or `CAP_SYS_ADMIN`; `EINVAL` for an
/// unknown flag, a program the kernel's checker refuses, or one longer than
/// 4,096 (or 65,535) instructions; `EFAULT`; `ENOMEM`; `EBUSY` for a second
/// listener in the same filter chain; `ESRCH` for a `TSYNC` failure with
/// `TSYNC_ESRCH`; `EOPNOTSUPP` for an action the kernel lacks.
///
/// # Safety
/// - With `NEW_LISTENER`, the returned value is a descriptor the caller
///   must take ownership of (close it once).
/// - The program must not make a call "succeed" with a value its caller
///   trusts without the call running: `SECCOMP_RET_ERRNO` with data 0, or a
///   `RET_TRACE`/user-notification answer that fabricates a result, turns
///   an `mmap` into a null pointer taken for memory, or a `read` into a
///   count of bytes never written.
///
/// # References
/// [seccomp(2)](https://man7.org/linux/man-pages/man2/seccomp.2.html)
#[doc(alias = "SECCOMP_SET_MODE_FILTER")]
pub unsafe fn set_mode_filter(
    flags: FilterFlags,
    program: &[Instruction],
) -> core::result::Result<usize, Errno> {
    let Ok(len) = u16::try_from(program.len()) else {
        return Err(Errno::INVAL);
    };
    let fprog = abi::sock_fprog {
        len,
        filter: program.as_ptr().cast_mut().cast(),
    };
    // SAFETY: `fprog` points at `len` instructions, `#[repr(C)]` like
    // `sock_filter`, which the kernel only reads, during the call. The
    // program's effects are the caller's contract.
    raw::check(unsafe {
        raw::syscall3(
            raw::nr::__NR_seccomp as usize,
            linux_raw_sys::ptrace::SECCOMP_SET_MODE_FILTER as usize,
            flags.bits() as usize,
            (&raw const fprog) as usize,
        )
    })
}

/// `seccomp(SECCOMP_GET_ACTION_AVAIL, 0, &action)`: whether the kernel
/// knows `action` (only its action bits are looked at).
///
/// # Errors
/// `EOPNOTSUPP` when it does not; `EINVAL` when the operation itself is
/// unknown (before Linux 4.14).
///
/// # References
/// [seccomp(2)](https://man7.org/linux/man-pages/man2/seccomp.2.html)
#[doc(alias = "SECCOMP_GET_ACTION_AVAIL")]
pub fn get_action_avail(action: u32) -> core::result::Result<(), Errno> {
    // SAFETY: the kernel reads one u32 from `action`, alive for the call.
    raw::check(unsafe {
        raw::syscall3(
            raw::nr::__NR_seccomp as usize,
            linux_raw_sys::ptrace::SECCOMP_GET_ACTION_AVAIL as usize,
            0,
            (&raw const action) as usize,
        )
    })
    .map(drop)
}

/// The sizes of the notification structs the running kernel uses
/// (`struct seccomp_notif_sizes`).
#[doc(alias = "seccomp_notif_sizes")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NotifSizes {
    /// `sizeof(struct seccomp_notif)`.
    pub notif: u16,
    /// `sizeof(struct seccomp_notif_resp)`.
    pub resp: u16,
    /// `sizeof(struct seccomp_data)`.
    pub data: u16,
}

/// `seccomp(SECCOMP_GET_NOTIF_SIZES, 0, &sizes)`.
///
/// # Errors
/// `EINVAL` before Linux 5.0.
///
/// # References
/// [seccomp(2)](https://man7.org/linux/man-pages/man2/seccomp.2.html)
#[doc(alias = "SECCOMP_GET_NOTIF_SIZES")]
pub fn get_notif_sizes() -> core::result::Result<NotifSizes, Errno> {
    let mut s = abi::seccomp_notif_sizes {
        seccomp_notif: 0,
        seccomp_notif_resp: 0,
        seccomp_data: 0,
    };
    // SAFETY: the kernel writes one `seccomp_notif_sizes` (6 bytes) to `s`.
    raw::check(unsafe {
        raw::syscall3(
            raw::nr::__NR_seccomp as usize,
            linux_raw_sys::ptrace::SECCOMP_GET_NOTIF_SIZES as usize,
            0,
            (&raw mut s) as usize,
        )
    })?;
    Ok(NotifSizes {
        notif: s.seccomp_notif,
        resp: s.seccomp_notif_resp,
        data: s.seccomp_data,
    })
}

/// `prctl(PR_SET_NO_NEW_PRIVS, 1)`: `execve` will never grant this thread
/// (or its children) privileges again (setuid bits, file capabilities), which
/// lets it install filters without `CAP_SYS_ADMIN`. Cannot be undone.
///
/// # Errors
/// `EINVAL` on kernels before 3.5.
///
/// # References
/// [prctl(2)](https://man7.org/linux/man-pages/man2/prctl.2.html)
#[doc(alias = "PR_SET_NO_NEW_PRIVS")]
pub fn set_no_new_privs() -> core::result::Result<(), Errno> {
    rustix::thread::set_no_new_privs(true)
}

/// `prctl(PR_GET_NO_NEW_PRIVS)`: whether `no_new_privs` is set.
///
/// # Errors
/// `EINVAL` on kernels before 3.5.
#[doc(alias = "PR_GET_NO_NEW_PRIVS")]
pub fn no_new_privs() -> core::result::Result<bool, Errno> {
    rustix::thread::no_new_privs()
}

/// Installs `program` with `flags`, interpreting the kernel's answer: the
/// listener with [`FilterFlags::NEW_LISTENER`], [`Error::ThreadNotSynced`]
/// for a `TSYNC` failure reported as a thread id.
///
/// # Errors
/// As [`set_mode_filter`], as [`Error::Os`] with the call `"seccomp"`, and
/// [`Error::ThreadNotSynced`].
///
/// # Safety
/// The second point of [`set_mode_filter`]'s contract: the program does not
/// fabricate successful results. (The listener is taken care of.)
pub unsafe fn install_raw(program: &[Instruction], flags: FilterFlags) -> Result<Option<Listener>> {
    // SAFETY: the program's effects are the caller's contract; a listener
    // fd is adopted right below.
    let ret = unsafe { set_mode_filter(flags, program) }.call("seccomp")?;
    if flags.contains(FilterFlags::NEW_LISTENER) {
        // SAFETY: with NEW_LISTENER a successful return is a new listener
        // descriptor, owned by nobody else.
        let fd = unsafe { raw::check_fd(ret) }.call("seccomp")?;
        return Ok(Some(Listener::from_fd(fd)));
    }
    if ret != 0 {
        return Err(Error::ThreadNotSynced { tid: ret as u32 });
    }
    Ok(None)
}

impl Filter<'_> {
    /// Installs the filter on this thread (every thread with
    /// [`FilterFlags::TSYNC`]); with [`FilterFlags::NEW_LISTENER`], returns
    /// its [`Listener`].
    ///
    /// Call [`set_no_new_privs`] first unless the thread has
    /// `CAP_SYS_ADMIN`.
    ///
    /// # Errors
    /// As [`install_raw`]: `seccomp: EACCES` without `no_new_privs`,
    /// `EBUSY` for a second listener, [`Error::ThreadNotSynced`] or `ESRCH`
    /// for a `TSYNC` failure, `EINVAL` for bad flags.
    pub fn install(&self, flags: FilterFlags) -> Result<Option<Listener>> {
        // SAFETY: the builder refuses `Errno(0)`; no other action it encodes
        // makes a call return a value it did not compute.
        unsafe { install_raw(self.instructions(), flags) }
    }

    /// [`install`](Self::install) with [`FilterFlags::NEW_LISTENER`] added:
    /// the listener of the filter's [`Action::UserNotif`] calls.
    ///
    /// # Errors
    /// As [`install`](Self::install).
    pub fn install_listener(&self, flags: FilterFlags) -> Result<Listener> {
        let flags = flags | FilterFlags::NEW_LISTENER;
        // SAFETY: as in `install`.
        let ret = unsafe { set_mode_filter(flags, self.instructions()) }.call("seccomp")?;
        // SAFETY: with NEW_LISTENER a successful return is a new listener
        // descriptor, owned by nobody else.
        let fd = unsafe { raw::check_fd(ret) }.call("seccomp")?;
        Ok(Listener::from_fd(fd))
    }
}

#[cfg(test)]
mod tests;
