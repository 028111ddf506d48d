//! User notification: the listener of a filter's `USER_NOTIF` calls.
//!
//! A call whose filter returns [`Action::UserNotif`](super::Action) stops
//! in the kernel until the listener's owner answers it. The owner receives
//! a [`Notification`] (the call's [`SeccompData`], the caller's pid and an
//! id), may read the caller's memory ([`Listener::read_memory`]), and
//! answers with a [`Response`] (a value, an errno, or "continue: run the
//! call as it is"), possibly after installing a descriptor of its own in
//! the target ([`Listener::add_fd`]).
//!
//! See the [module docs](super) on what is a security boundary.
//!
//! Reading the target's memory races with the target ending and its pid
//! being reused: [`Listener::read_memory`] checks [`Listener::id_valid`]
//! after the read, so bytes it returns came from the target of that
//! notification.

use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use rustix::io::Errno;

use super::abi::seccomp_notif;
use super::{SeccompData, abi};
use crate::error::{Call, Error, Result};
use crate::raw;
use crate::record::field;

/// The length of a C `struct seccomp_notif`: what [`notif_recv`] fills.
pub const NOTIF_LEN: usize = abi::NOTIF_LEN;

/// One intercepted call, parsed from a `struct seccomp_notif`.
#[doc(alias = "seccomp_notif")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Notification {
    id: u64,
    pid: u32,
    flags: u32,
    data: SeccompData,
}

impl Notification {
    /// The notification's id: what every answer names.
    #[must_use]
    pub const fn id(&self) -> u64 {
        self.id
    }

    /// The calling thread's id, in the listener's pid namespace (0 if it
    /// has none there).
    #[must_use]
    pub const fn pid(&self) -> u32 {
        self.pid
    }

    /// The kernel's flags (none defined today).
    #[must_use]
    pub const fn flags(&self) -> u32 {
        self.flags
    }

    /// The call: number, architecture, address and arguments.
    #[must_use]
    pub const fn data(&self) -> &SeccompData {
        &self.data
    }
}

/// Why [`parse_notification`] refused its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParseError {
    /// The input has `available` bytes; a `struct seccomp_notif` needs
    /// [`NOTIF_LEN`].
    Truncated {
        /// The input's length.
        available: usize,
    },
}

impl ParseError {
    /// The byte offset of the problem (where the missing bytes start).
    #[must_use]
    pub const fn offset(&self) -> usize {
        match *self {
            Self::Truncated { available } => available,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Truncated { available } => write!(
                f,
                "seccomp_notif truncated: {available} bytes of {NOTIF_LEN}"
            ),
        }
    }
}

impl core::error::Error for ParseError {}

/// Parses the first [`NOTIF_LEN`] bytes of `bytes` as a C
/// `struct seccomp_notif` (native endianness, any alignment). Bytes after
/// them are ignored (a newer kernel's larger struct keeps this prefix).
///
/// # Errors
/// [`ParseError::Truncated`] when `bytes` is shorter.
pub fn parse_notification(bytes: &[u8]) -> core::result::Result<Notification, ParseError> {
    let Some(b) = bytes.first_chunk::<NOTIF_LEN>() else {
        return Err(ParseError::Truncated {
            available: bytes.len(),
        });
    };
    Ok(Notification {
        id: field!(b, seccomp_notif, id),
        pid: field!(b, seccomp_notif, pid),
        flags: field!(b, seccomp_notif, flags),
        data: SeccompData {
            nr: field!(b, seccomp_notif, data.nr),
            arch: field!(b, seccomp_notif, data.arch),
            instruction_pointer: field!(b, seccomp_notif, data.instruction_pointer),
            args: field!(b, seccomp_notif, data.args),
        },
    })
}

fn ioctl(fd: BorrowedFd<'_>, request: u32, arg: usize) -> core::result::Result<usize, Errno> {
    // SAFETY: every caller passes a request of this module with `arg`
    // pointing at the struct the request's encoding names, alive and
    // writable (for `_IOWR`) for the call.
    raw::check(unsafe {
        raw::syscall3(
            raw::nr::__NR_ioctl as usize,
            fd.as_raw_fd() as usize,
            request as usize,
            arg,
        )
    })
}

/// `ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, buf)`: waits for a notification and
/// stores it in `buf` (zeroed first, as the kernel requires).
///
/// Blocks whatever `O_NONBLOCK` says; poll `fd` for `POLLIN` first to avoid
/// it ([`Listener::recv`] does when non-blocking).
///
/// # Errors
/// `ENOENT` when the target died (or its call was interrupted) after the
/// notification became ready; `EINTR`; `EINVAL` for a descriptor that is
/// not a listener, or a `buf` that was not zeroed; `EBADF`.
///
/// # References
/// [seccomp_unotify(2)](https://man7.org/linux/man-pages/man2/seccomp_unotify.2.html)
#[doc(alias = "SECCOMP_IOCTL_NOTIF_RECV")]
pub fn notif_recv(fd: impl AsFd, buf: &mut [u8; NOTIF_LEN]) -> core::result::Result<(), Errno> {
    buf.fill(0);
    ioctl(fd.as_fd(), abi::IOCTL_NOTIF_RECV, buf.as_mut_ptr() as usize).map(drop)
}

/// An answer to a notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Response {
    /// The call returns this value without running. The caller trusts it
    /// as the call's result (a pointer for `mmap`, a count for `read`): see
    /// the [module docs](super).
    Value(i64),
    /// The call fails with this errno without running.
    Error(Errno),
    /// `SECCOMP_USER_NOTIF_FLAG_CONTINUE`: the kernel runs the call as
    /// issued. Not a security boundary (see the [module docs](super)).
    Continue,
}

/// `ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp)`: answers notification `id`.
///
/// # Errors
/// `ENOENT` when the target died or `id` is stale (its call returned, or it
/// never existed); `EINPROGRESS` when `id` has not been received yet, or was
/// answered and its target has not woken yet;
/// `EINVAL` for a bad response (an errno outside `1..=4095`); `EBADF`.
///
/// # References
/// [seccomp_unotify(2)](https://man7.org/linux/man-pages/man2/seccomp_unotify.2.html)
#[doc(alias = "SECCOMP_IOCTL_NOTIF_SEND")]
pub fn notif_send(fd: impl AsFd, id: u64, response: Response) -> core::result::Result<(), Errno> {
    let (val, error, flags) = match response {
        Response::Value(v) => (v, 0, 0),
        Response::Error(e) => (0, -e.raw_os_error(), 0),
        Response::Continue => (
            0,
            0,
            linux_raw_sys::ptrace::SECCOMP_USER_NOTIF_FLAG_CONTINUE,
        ),
    };
    let mut resp = abi::seccomp_notif_resp {
        id,
        val,
        error,
        flags,
    };
    ioctl(fd.as_fd(), abi::IOCTL_NOTIF_SEND, (&raw mut resp) as usize).map(drop)
}

/// `ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id)`: whether notification
/// `id` is still pending (its target alive and waiting).
///
/// # Errors
/// `ENOENT` when it is not; `EBADF`, `EINVAL`.
///
/// # References
/// [seccomp_unotify(2)](https://man7.org/linux/man-pages/man2/seccomp_unotify.2.html)
#[doc(alias = "SECCOMP_IOCTL_NOTIF_ID_VALID")]
pub fn notif_id_valid(fd: impl AsFd, id: u64) -> core::result::Result<(), Errno> {
    ioctl(
        fd.as_fd(),
        abi::IOCTL_NOTIF_ID_VALID,
        (&raw const id) as usize,
    )
    .map(drop)
}

/// `ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags)`: listener flags; the
/// one defined, `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP` (1, Linux 6.6), wakes
/// the supervisor on the target's CPU.
///
/// # Errors
/// `EINVAL` for an unknown flag (or before Linux 6.6); `EBADF`.
#[doc(alias = "SECCOMP_IOCTL_NOTIF_SET_FLAGS")]
pub fn notif_set_flags(fd: impl AsFd, flags: u64) -> core::result::Result<(), Errno> {
    // The kernel takes the flags as the argument itself, not a pointer.
    ioctl(fd.as_fd(), abi::IOCTL_NOTIF_SET_FLAGS, flags as usize).map(drop)
}

/// A descriptor to install in a notification's target
/// (`struct seccomp_notif_addfd`).
#[doc(alias = "seccomp_notif_addfd")]
#[derive(Clone, Copy, Debug)]
pub struct AddFd<'a> {
    src: BorrowedFd<'a>,
    target: Option<u32>,
    cloexec: bool,
    send: bool,
}

impl<'a> AddFd<'a> {
    /// Installs a copy of `src` at the lowest free number, not close-on-exec.
    #[must_use]
    pub const fn new(src: BorrowedFd<'a>) -> Self {
        Self {
            src,
            target: None,
            cloexec: false,
            send: false,
        }
    }

    /// `SECCOMP_ADDFD_FLAG_SETFD`: at number `fd` (replacing what is there,
    /// as `dup2` does).
    #[must_use]
    pub const fn at(self, fd: u32) -> Self {
        Self {
            target: Some(fd),
            ..self
        }
    }

    /// `O_CLOEXEC` on the new descriptor.
    #[must_use]
    pub const fn cloexec(self, on: bool) -> Self {
        Self {
            cloexec: on,
            ..self
        }
    }

    /// `SECCOMP_ADDFD_FLAG_SEND`: also answer the notification, the call
    /// returning the new descriptor's number, in one atomic step.
    #[must_use]
    pub const fn send(self, on: bool) -> Self {
        Self { send: on, ..self }
    }
}

/// `ioctl(fd, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd)`: installs a copy of a
/// descriptor in notification `id`'s target; returns its number there.
///
/// # Errors
/// `ENOENT` when the target died or `id` is stale; `EINPROGRESS` when `id`
/// has not been received yet; `EBADF` for a bad source descriptor or a
/// target number past the target's limit; `EMFILE`; `EBUSY` with `SETFD`
/// on a number being allocated; `EINVAL` for bad flags.
///
/// # References
/// [seccomp_unotify(2)](https://man7.org/linux/man-pages/man2/seccomp_unotify.2.html)
#[doc(alias = "SECCOMP_IOCTL_NOTIF_ADDFD")]
pub fn notif_addfd(fd: impl AsFd, id: u64, add: &AddFd<'_>) -> core::result::Result<u32, Errno> {
    let mut flags = 0;
    if add.target.is_some() {
        flags |= linux_raw_sys::ptrace::SECCOMP_ADDFD_FLAG_SETFD;
    }
    if add.send {
        flags |= linux_raw_sys::ptrace::SECCOMP_ADDFD_FLAG_SEND;
    }
    let mut a = abi::seccomp_notif_addfd {
        id,
        flags,
        srcfd: add.src.as_raw_fd() as u32,
        newfd: add.target.unwrap_or(0),
        newfd_flags: if add.cloexec {
            linux_raw_sys::general::O_CLOEXEC
        } else {
            0
        },
    };
    ioctl(fd.as_fd(), abi::IOCTL_NOTIF_ADDFD, (&raw mut a) as usize).map(|n| n as u32)
}

/// A seccomp notification listener: the descriptor a filter installed with
/// [`FilterFlags::NEW_LISTENER`](super::FilterFlags::NEW_LISTENER) returns.
///
/// Close-on-exec; readable (`POLLIN`) when a notification waits, so it fits
/// any poll or epoll loop; `POLLHUP` once no task uses the filter any more.
/// Closing it makes every waiting and future `USER_NOTIF` call fail with
/// `ENOSYS`.
#[derive(Debug)]
pub struct Listener {
    fd: OwnedFd,
    nonblocking: AtomicBool,
}

impl AsFd for Listener {
    #[inline]
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Listener {
    #[inline]
    fn as_raw_fd(&self) -> rustix::fd::RawFd {
        self.fd.as_raw_fd()
    }
}

impl rustix::fd::IntoRawFd for Listener {
    fn into_raw_fd(self) -> rustix::fd::RawFd {
        rustix::fd::IntoRawFd::into_raw_fd(self.fd)
    }
}

impl rustix::fd::FromRawFd for Listener {
    /// # Safety
    /// `fd` must be an open seccomp listener that nothing else owns.
    unsafe fn from_raw_fd(fd: rustix::fd::RawFd) -> Self {
        // SAFETY: forwarded to the caller.
        Self::from(unsafe { OwnedFd::from_raw_fd(fd) })
    }
}

impl From<Listener> for OwnedFd {
    fn from(listener: Listener) -> Self {
        listener.fd
    }
}

impl From<OwnedFd> for Listener {
    /// Adopts a listener descriptor (from `pidfd_getfd`, `SCM_RIGHTS`…),
    /// taking its `O_NONBLOCK` state as is (blocking if unreadable).
    fn from(fd: OwnedFd) -> Self {
        let nonblocking =
            rustix::fs::fcntl_getfl(&fd).is_ok_and(|f| f.contains(rustix::fs::OFlags::NONBLOCK));
        Self {
            fd,
            nonblocking: AtomicBool::new(nonblocking),
        }
    }
}

impl Listener {
    /// A listener the kernel just returned (blocking).
    pub(crate) fn from_fd(fd: OwnedFd) -> Self {
        Self {
            fd,
            nonblocking: AtomicBool::new(false),
        }
    }

    /// Whether [`recv`](Self::recv) fails with `EAGAIN` instead of waiting
    /// (see [`set_nonblocking`](Self::set_nonblocking)).
    #[must_use]
    pub fn is_nonblocking(&self) -> bool {
        self.nonblocking.load(Ordering::Relaxed)
    }

    /// Switches `O_NONBLOCK`: when on, [`recv`](Self::recv) fails with
    /// `EAGAIN` instead of waiting.
    ///
    /// # Errors
    /// `fcntl` errors (none in practice).
    pub fn set_nonblocking(&self, nonblocking: bool) -> Result<()> {
        crate::fd::set_nonblocking(self.fd.as_fd(), nonblocking).call("fcntl")?;
        self.nonblocking.store(nonblocking, Ordering::Relaxed);
        Ok(())
    }

    /// Receives one notification into `buf` (at least [`NOTIF_LEN`] bytes,
    /// any alignment) and parses it. Waits for one unless non-blocking.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`]; `EAGAIN` when non-blocking and none is
    /// pending; [`Error::EndOfFile`] when non-blocking and the listener hung
    /// up (`POLLHUP`: no task uses the filter any more, so no notification
    /// can come; a blocking receive would wait forever); `ENOENT` when the
    /// target went away before it could be received; `EINTR`.
    pub fn recv(&self, buf: &mut [u8]) -> Result<Notification> {
        let len = buf.len();
        let Some(b) = buf.first_chunk_mut::<NOTIF_LEN>() else {
            return Err(Error::BufferTooSmall {
                len,
                needed: NOTIF_LEN,
            });
        };
        if self.nonblocking.load(Ordering::Relaxed) {
            let mut pfd = [rustix::event::PollFd::new(
                &self.fd,
                rustix::event::PollFlags::IN,
            )];
            let zero = rustix::event::Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            let n = rustix::event::poll(&mut pfd, Some(&zero)).call("poll")?;
            let revents = pfd[0].revents();
            if n == 0 || !revents.contains(rustix::event::PollFlags::IN) {
                if revents.contains(rustix::event::PollFlags::HUP) {
                    // No task uses the filter any more, and none can again.
                    return Err(Error::EndOfFile {
                        call: "SECCOMP_IOCTL_NOTIF_RECV",
                    });
                }
                return Err(Error::os("SECCOMP_IOCTL_NOTIF_RECV", Errno::AGAIN));
            }
        }
        notif_recv(&self.fd, b).call("SECCOMP_IOCTL_NOTIF_RECV")?;
        parse_notification(b).map_err(|_| Error::os("SECCOMP_IOCTL_NOTIF_RECV", Errno::INVAL))
    }

    /// Whether notification `id` is still pending (its target alive and
    /// waiting for the answer).
    ///
    /// # Errors
    /// `EBADF`/`EINVAL` for a descriptor that is not a listener.
    pub fn id_valid(&self, id: u64) -> Result<bool> {
        match notif_id_valid(&self.fd, id) {
            Ok(()) => Ok(true),
            Err(Errno::NOENT) => Ok(false),
            Err(e) => Err(Error::os("SECCOMP_IOCTL_NOTIF_ID_VALID", e)),
        }
    }

    /// Answers notification `id` (see [`notif_send`]).
    ///
    /// # Errors
    /// `ENOENT` when the target died or `id` is stale; `EINPROGRESS` when
    /// `id` was not received yet; `EINVAL` for an errno outside `1..=4095`.
    pub fn respond(&self, id: u64, response: Response) -> Result<()> {
        notif_send(&self.fd, id, response).call("SECCOMP_IOCTL_NOTIF_SEND")
    }

    /// Installs a copy of a descriptor in notification `id`'s target (see
    /// [`notif_addfd`]); with [`AddFd::send`] this also answers the call
    /// with the new number.
    ///
    /// # Errors
    /// As [`notif_addfd`].
    pub fn add_fd(&self, id: u64, add: &AddFd<'_>) -> Result<u32> {
        notif_addfd(&self.fd, id, add).call("SECCOMP_IOCTL_NOTIF_ADDFD")
    }

    /// `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP` (see [`notif_set_flags`]).
    ///
    /// # Errors
    /// `EINVAL` before Linux 6.6.
    pub fn set_sync_wake_up(&self) -> Result<()> {
        notif_set_flags(&self.fd, abi::USER_NOTIF_FD_SYNC_WAKE_UP)
            .call("SECCOMP_IOCTL_NOTIF_SET_FLAGS")
    }

    /// Reads `buf.len()` bytes (fewer at an unmapped page) at `addr` in the
    /// memory of `notification`'s target, with `process_vm_readv`, then
    /// checks that the notification is still pending, so the bytes are the
    /// target's and not those of a process that reused its pid. Returns the
    /// number of bytes read.
    ///
    /// The bytes are a snapshot: the target may change them right after
    /// (see the [module docs](super)).
    ///
    /// # Errors
    /// `process_vm_readv: EFAULT` when nothing at `addr` is mapped; `EPERM`
    /// without ptrace access to the target; `ESRCH`;
    /// `SECCOMP_IOCTL_NOTIF_ID_VALID: ENOENT` when the notification is no
    /// longer pending.
    pub fn read_memory(
        &self,
        notification: &Notification,
        addr: u64,
        buf: &mut [u8],
    ) -> Result<usize> {
        let n = process_vm_readv(notification.pid, addr, buf).call("process_vm_readv")?;
        self.check_pending(notification.id)?;
        Ok(n)
    }

    /// Reads a NUL-terminated string (a path) at `addr` in `notification`'s
    /// target into `buf`, a page at a time, and returns it without its NUL;
    /// checks, as [`read_memory`](Self::read_memory) does, that the
    /// notification is still pending after the read.
    ///
    /// # Errors
    /// As [`read_memory`](Self::read_memory), and
    /// `process_vm_readv: ENAMETOOLONG` when `buf` fills before a NUL.
    pub fn read_cstr<'b>(
        &self,
        notification: &Notification,
        addr: u64,
        buf: &'b mut [u8],
    ) -> Result<&'b [u8]> {
        const PAGE: u64 = 4096;
        let mut got = 0;
        let end = loop {
            if got == buf.len() {
                return Err(Error::os("process_vm_readv", Errno::NAMETOOLONG));
            }
            let at = addr.wrapping_add(got as u64);
            let chunk = ((PAGE - at % PAGE) as usize).min(buf.len() - got);
            let n = process_vm_readv(notification.pid, at, &mut buf[got..got + chunk])
                .call("process_vm_readv")?;
            if n == 0 {
                return Err(Error::os("process_vm_readv", Errno::FAULT));
            }
            if let Some(z) = buf[got..got + n].iter().position(|&c| c == 0) {
                break got + z;
            }
            got += n;
        };
        self.check_pending(notification.id)?;
        Ok(&buf[..end])
    }

    fn check_pending(&self, id: u64) -> Result<()> {
        if self.id_valid(id)? {
            Ok(())
        } else {
            Err(Error::os("SECCOMP_IOCTL_NOTIF_ID_VALID", Errno::NOENT))
        }
    }
}

/// `process_vm_readv(pid, [buf], [addr, len], 0)`.
fn process_vm_readv(pid: u32, addr: u64, buf: &mut [u8]) -> core::result::Result<usize, Errno> {
    let local = linux_raw_sys::general::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len() as _,
    };
    let remote = linux_raw_sys::general::iovec {
        iov_base: addr as usize as *mut _,
        iov_len: buf.len() as _,
    };
    // SAFETY: `local` describes `buf`, writable for its length; `remote` is
    // only read by the kernel, in the other process, with fault checks.
    raw::check(unsafe {
        raw::syscall6(
            raw::nr::__NR_process_vm_readv as usize,
            pid as usize,
            (&raw const local) as usize,
            1,
            (&raw const remote) as usize,
            1,
            0,
        )
    })
}
