//! fanotify: filesystem-wide notification and permission decisions.
//!
//! Three layers, as everywhere in kernfd:
//! - [`parse`] walks `fanotify_event_metadata` records and their info
//!   records (`FID`, `DFID`, `DFID_NAME`, `OLD/NEW_DFID_NAME`, `PIDFD`,
//!   `ERROR`, `RANGE`, `MNT`, and unknown types handed back raw) in any byte slice, with no
//!   syscall and without adopting a descriptor: the fuzzable core.
//! - [`init`], [`mark`], [`mark_fd`], [`respond`], [`open_by_handle_at`]
//!   and [`fd_path`] are 1:1 calls over any descriptor, returning the
//!   kernel's [`Errno`]. rustix has no fanotify, so `fanotify_init` and
//!   `fanotify_mark` go through the crate's raw syscall module, and the uapi
//!   structs are defined here with layout assertions.
//! - [`Fanotify`] owns the group and adds what the bare calls lack:
//!   close-on-exec by default, buffer sizes checked up front, limits
//!   explained ([`Error`]), bounded waits, a drain loop, and **owned event
//!   descriptors**: an event read from the kernel owns its fd (and pidfd)
//!   and closes it when dropped, unless you [take](OwnedEvent::take_fd) it.
//!   A permission response borrows the event's fd, so it can never reach a
//!   reused descriptor number.
//!
//! Reading never allocates: events borrow the caller's buffer.
//!
//! # Example
//! ```no_run
//! use kernfd::fanotify::{EventFlags, Fanotify, InitFlags, MarkType};
//!
//! // Needs CAP_SYS_ADMIN for a mount mark.
//! let fan = Fanotify::new(InitFlags::CLASS_NOTIF)?;
//! fan.add(MarkType::Mount, EventFlags::OPEN | EventFlags::CLOSE_WRITE, "/tmp")?;
//! let mut buf = [0_u8; kernfd::fanotify::DEFAULT_BUFFER_LEN];
//! let mut path = [0_u8; 4096];
//! for event in fan.read(&mut buf)? {
//!     let event = event?;
//!     if let Some(fd) = event.borrow_fd() {
//!         let p = kernfd::fanotify::fd_path(fd, &mut path)?;
//!         println!("{} {}", event.mask(), String::from_utf8_lossy(p));
//!     } // the event's fd is closed here
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # References
//! [fanotify(7)](https://man7.org/linux/man-pages/man7/fanotify.7.html)

mod abi;
mod error;
mod event;
mod flags;
mod info;
mod owned;
mod parse_error;
#[cfg(any(test, fuzzing))]
#[doc(hidden)]
pub mod reference;
mod response;

pub use error::Error;
pub use event::{
    DEFAULT_BUFFER_LEN, Event, Events, METADATA_LEN, METADATA_VERSION, MIN_BUFFER_LEN, parse,
};
pub use flags::{EventFlags, InitFlags, MarkFlags, MarkType};
pub use info::{Fid, FidKind, FileHandle, INFO_HEADER_LEN, Info, Infos};
pub use owned::{OwnedEvent, OwnedEvents};
pub use parse_error::{EventError, InfoErrorKind, ParseError, ParseErrorKind};
pub use response::{AuditRule, Response, respond};

use core::mem::MaybeUninit;

use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use rustix::fs::OFlags;
use rustix::io::Errno;

use crate::buffer::{Buffer, read_into};
use crate::raw;
use crate::wait::{Wait, Waker, drain_reads, read_after_wait};

/// `fanotify_init(flags, event_f_flags)`: a new fanotify group.
///
/// `event_f_flags` are the `open(2)` flags of the descriptors events carry
/// in fd mode (`O_RDONLY`, `O_CLOEXEC`, `O_LARGEFILE`, `O_NOATIME`…).
///
/// # Errors
/// `EINVAL` (unknown or conflicting flags: both class bits, `REPORT_NAME`
/// without `REPORT_DIR_FID`, `REPORT_TARGET_FID` without the other FID
/// flags, `REPORT_MNT` with FID flags, FID mode with a permission class on
/// some kernels), `EPERM` (no `CAP_SYS_ADMIN` where one is needed: fd mode,
/// permission classes, unlimited queue or marks; `ENABLE_AUDIT` without
/// `CAP_AUDIT_WRITE`), `EMFILE` (group or descriptor limit), `ENOMEM`,
/// `ENOSYS` (fanotify compiled out).
///
/// # References
/// [fanotify_init(2)](https://man7.org/linux/man-pages/man2/fanotify_init.2.html)
#[doc(alias = "fanotify_init")]
pub fn init(flags: InitFlags, event_f_flags: OFlags) -> Result<OwnedFd, Errno> {
    // SAFETY: fanotify_init takes two integers and returns a new descriptor
    // that nothing else owns.
    unsafe {
        raw::check_fd(raw::syscall2(
            raw::nr::__NR_fanotify_init as usize,
            flags.bits() as usize,
            event_f_flags.bits() as usize,
        ))
    }
}

/// `fanotify_mark(fd, flags, mask, dirfd, path)`: add, remove or flush a
/// mark on the object `path` names relative to `dirfd`.
///
/// Use [`rustix::fs::CWD`] as `dirfd` for paths relative to the current
/// directory, and [`mark_fd`] to mark the object `dirfd` itself.
///
/// # Errors
/// `EINVAL` (no or several operations, an empty mask for `ADD`, event bits
/// the group cannot report, `IGNORE` with `IGNORED_MASK`, a mark type the
/// group's class forbids…), `ENOENT` (no such path, or `REMOVE` of a mark
/// that does not exist), `ENOTDIR` (`ONLYDIR` on a non-directory), `EBADF`,
/// `EEXIST` (an `EVICTABLE` mark over an existing non-evictable one, or
/// `IGNORE` over an old-style ignore mask), `EPERM` (mount and filesystem
/// marks without `CAP_SYS_ADMIN`), `EXDEV` (FID mode on a filesystem whose
/// objects cannot be identified), `EOPNOTSUPP`/`ENODEV` (the filesystem
/// cannot give file handles), `ENOSPC` (mark limit), `ENOMEM`.
///
/// # References
/// [fanotify_mark(2)](https://man7.org/linux/man-pages/man2/fanotify_mark.2.html)
#[doc(alias = "fanotify_mark")]
pub fn mark<P: rustix::path::Arg>(
    fd: impl AsFd,
    flags: MarkFlags,
    mask: EventFlags,
    dirfd: impl AsFd,
    path: P,
) -> Result<(), Errno> {
    let (fd, dirfd) = (fd.as_fd(), dirfd.as_fd());
    path.into_with_c_str(|path| {
        // SAFETY: `path` is a NUL-terminated string that outlives the call;
        // the other arguments are integers.
        unsafe { mark_raw(fd, flags, mask, dirfd.as_raw_fd(), path.as_ptr().cast()) }
    })
}

/// `fanotify_mark(fd, flags, mask, target, NULL)`: mark the object `target`
/// is open on (a file, a directory, or with [`MarkType::MntNs`] a mount
/// namespace's nsfs descriptor).
///
/// # Errors
/// As [`mark`].
///
/// # References
/// [fanotify_mark(2)](https://man7.org/linux/man-pages/man2/fanotify_mark.2.html)
#[doc(alias = "fanotify_mark")]
pub fn mark_fd(
    fd: impl AsFd,
    flags: MarkFlags,
    mask: EventFlags,
    target: impl AsFd,
) -> Result<(), Errno> {
    // SAFETY: a null path is allowed and means "the object `target` names".
    unsafe {
        mark_raw(
            fd.as_fd(),
            flags,
            mask,
            target.as_fd().as_raw_fd(),
            core::ptr::null(),
        )
    }
}

/// The raw call.
///
/// # Safety
/// `path` is null or a NUL-terminated string valid for the call.
unsafe fn mark_raw(
    fd: BorrowedFd<'_>,
    flags: MarkFlags,
    mask: EventFlags,
    dirfd: RawFd,
    path: *const u8,
) -> Result<(), Errno> {
    // On the 64-bit ABIs kernfd supports the u64 mask is one register.
    // SAFETY: the kernel reads at most a path from `path` (caller's
    // contract); the rest are integers.
    let ret = unsafe {
        raw::syscall5(
            raw::nr::__NR_fanotify_mark as usize,
            fd.as_raw_fd() as usize,
            flags.bits() as usize,
            mask.bits() as usize,
            dirfd as usize,
            path as usize,
        )
    };
    raw::check(ret).map(drop)
}

/// `open_by_handle_at(mount_fd, handle, flags)`: open the object a file
/// handle from an FID record names, on the filesystem `mount_fd` is on.
///
/// rustix lacks this call; it goes through the raw module. The handle is
/// passed to the kernel where it lies in the event buffer (the kernel
/// copies it, so its alignment does not matter).
///
/// # Errors
/// `EPERM` (needs `CAP_DAC_READ_SEARCH`), `ESTALE` (the object is gone),
/// `EINVAL` (a bad handle), `EBADF`, `ELOOP` (a symlink without
/// `O_PATH`), and `open(2)`'s errors.
///
/// # References
/// [open_by_handle_at(2)](https://man7.org/linux/man-pages/man2/open_by_handle_at.2.html)
pub fn open_by_handle_at(
    mount_fd: impl AsFd,
    handle: FileHandle<'_>,
    flags: OFlags,
) -> Result<OwnedFd, Errno> {
    let raw_handle = handle.as_raw();
    // SAFETY: `raw_handle` is a whole `struct file_handle` (header and
    // `handle_bytes` bytes, checked by the parser) that outlives the call;
    // the kernel only reads it, and returns a new descriptor.
    unsafe {
        raw::check_fd(raw::syscall3(
            raw::nr::__NR_open_by_handle_at as usize,
            mount_fd.as_fd().as_raw_fd() as usize,
            raw_handle.as_ptr() as usize,
            flags.bits() as usize,
        ))
    }
}

/// The path an event fd is open on, read from the `/proc/self/fd/N` link
/// into `buf`; no allocation.
///
/// Deleted files read as `"/path (deleted)"`, as the kernel writes them.
///
/// # Errors
/// `ENAMETOOLONG` when the path fills `buf` (it may be cut), `ENOENT` when
/// `/proc` is not mounted or the fd is closed, `EBADF`.
#[doc(alias = "readlink")]
pub fn fd_path<'b, B: Buffer + ?Sized>(fd: impl AsFd, buf: &'b mut B) -> Result<&'b [u8], Errno> {
    let mut link = [0_u8; 32];
    let prefix = b"/proc/self/fd/";
    let fd = rustix::path::DecInt::from_fd(fd);
    let end = prefix.len() + fd.as_bytes_with_nul().len();
    let dst = link.get_mut(..end).ok_or(Errno::INVAL)?;
    let (head, digits) = dst.split_at_mut(prefix.len());
    head.copy_from_slice(prefix);
    digits.copy_from_slice(fd.as_bytes_with_nul());
    let link = core::ffi::CStr::from_bytes_with_nul(dst).map_err(|_| Errno::INVAL)?;
    let buf: &'b mut [MaybeUninit<u8>] = buf.as_uninit();
    let cap = buf.len();
    let (filled, _) = rustix::fs::readlinkat_raw(rustix::fs::CWD, link, buf)?;
    if filled.len() >= cap {
        return Err(Errno::NAMETOOLONG);
    }
    Ok(filled)
}

/// An owned fanotify group.
///
/// Close-on-exec by default; closed on drop. `Sync`: marks can be changed
/// from one thread while another reads.
#[derive(Debug)]
pub struct Fanotify {
    fd: OwnedFd,
}

impl Fanotify {
    /// A new blocking, close-on-exec group with `flags` (class and report
    /// flags); event fds are opened `O_RDONLY | O_CLOEXEC | O_LARGEFILE`.
    ///
    /// # Errors
    /// [`Error::GroupLimit`] when `max_user_groups` is reached; the other
    /// errnos of [`init`] as [`Error::Os`] (notably `EPERM` without
    /// `CAP_SYS_ADMIN` unless `flags` ask for FID mode, and `EINVAL`).
    pub fn new(flags: InitFlags) -> Result<Self, Error> {
        Self::with_flags(
            flags | InitFlags::CLOEXEC,
            OFlags::RDONLY | OFlags::CLOEXEC | OFlags::LARGEFILE,
        )
    }

    /// A new group with exactly `flags` and `event_f_flags`.
    ///
    /// # Errors
    /// As [`Fanotify::new`].
    pub fn with_flags(flags: InitFlags, event_f_flags: OFlags) -> Result<Self, Error> {
        match init(flags, event_f_flags) {
            Ok(fd) => Ok(Self { fd }),
            Err(Errno::MFILE) => Err(explain_emfile()),
            Err(e) => Err(Error::Os(e)),
        }
    }

    /// `fanotify_mark` with explicit flags, `dirfd` and `path` (see
    /// [`mark`]).
    ///
    /// # Errors
    /// [`Error::MarkLimit`] for `ENOSPC`; the other errnos of [`mark`].
    pub fn mark<P: rustix::path::Arg>(
        &self,
        flags: MarkFlags,
        mask: EventFlags,
        dirfd: impl AsFd,
        path: P,
    ) -> Result<(), Error> {
        mark(&self.fd, flags, mask, dirfd, path).map_err(mark_error)
    }

    /// Adds `mask` to the mark of type `ty` on `path`
    /// (`FAN_MARK_ADD | type`).
    ///
    /// # Errors
    /// As [`Fanotify::mark`].
    pub fn add<P: rustix::path::Arg>(
        &self,
        ty: MarkType,
        mask: EventFlags,
        path: P,
    ) -> Result<(), Error> {
        self.mark(MarkFlags::ADD | ty.flags(), mask, rustix::fs::CWD, path)
    }

    /// Removes `mask` from the mark of type `ty` on `path`
    /// (`FAN_MARK_REMOVE | type`).
    ///
    /// # Errors
    /// As [`Fanotify::mark`]; `ENOENT` when there is no such mark.
    pub fn remove<P: rustix::path::Arg>(
        &self,
        ty: MarkType,
        mask: EventFlags,
        path: P,
    ) -> Result<(), Error> {
        self.mark(MarkFlags::REMOVE | ty.flags(), mask, rustix::fs::CWD, path)
    }

    /// Marks the object `target` is open on (see [`mark_fd`]): for a mount
    /// namespace, `flags` is `ADD | MNTNS` and `target` an nsfs fd.
    ///
    /// # Errors
    /// As [`Fanotify::mark`].
    pub fn mark_fd(
        &self,
        flags: MarkFlags,
        mask: EventFlags,
        target: impl AsFd,
    ) -> Result<(), Error> {
        mark_fd(&self.fd, flags, mask, target).map_err(mark_error)
    }

    /// Removes every mark of type `ty` (`FAN_MARK_FLUSH | type`).
    ///
    /// # Errors
    /// `EINVAL` for a type the kernel does not know.
    pub fn flush(&self, ty: MarkType) -> Result<(), Error> {
        self.mark(
            MarkFlags::FLUSH | ty.flags(),
            EventFlags::empty(),
            rustix::fs::CWD,
            "/",
        )
    }

    /// Reads queued events into `buf` and iterates them in place; each
    /// event owns its fd and pidfd.
    ///
    /// Blocks until at least one event is queued, unless the group is
    /// non-blocking (then `EAGAIN`). Descriptors of events the iterator has
    /// not yielded yet are closed when it is dropped.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] when `buf` is shorter than
    /// [`MIN_BUFFER_LEN`], before any syscall. `EAGAIN` when non-blocking
    /// and empty; `EINTR` (returned, not retried); `EMFILE` when the kernel
    /// cannot install an event fd (the event is then lost unless the group
    /// has `REPORT_FD_ERROR`); `EPERM`/`EACCES` from opening the file.
    pub fn read<'b, B: Buffer + ?Sized>(&self, buf: &'b mut B) -> Result<OwnedEvents<'b>, Error> {
        let buf = checked(buf.as_uninit())?;
        let bytes = read_into(&self.fd, buf)?;
        // SAFETY: the bytes come straight from a read on a fanotify group,
        // so their fds and pidfds were just installed for this process and
        // nothing else owns them.
        Ok(unsafe { OwnedEvents::adopt(parse(bytes)) })
    }

    /// `inotify_simple`'s `read(timeout, read_delay)`, for fanotify: waits as
    /// `wait` says for the first event, optionally lingers, then reads once.
    /// Returns no events when the timeout passes or the waker is woken.
    ///
    /// # Errors
    /// As [`read`](Self::read).
    pub fn read_wait<'b, B: Buffer + ?Sized>(
        &self,
        buf: &'b mut B,
        wait: Wait<'_>,
    ) -> Result<OwnedEvents<'b>, Error> {
        let buf = checked(buf.as_uninit())?;
        match read_after_wait(self.fd.as_fd(), &wait, || read_into(&self.fd, buf))? {
            // SAFETY: as in `read`.
            Some(bytes) => Ok(unsafe { OwnedEvents::adopt(parse(bytes)) }),
            None => Ok(OwnedEvents::EMPTY),
        }
    }

    /// Reads until the queue is empty, handing every record to `f` (which
    /// may keep nothing: each event's fds close when `f` returns, unless it
    /// takes them); returns how many records it handed over.
    ///
    /// # Errors
    /// As [`read`](Self::read). Records handed over before an error stay
    /// handed over.
    pub fn drain<B: Buffer + ?Sized>(
        &self,
        buf: &mut B,
        mut f: impl FnMut(Result<OwnedEvent<'_>, EventError>),
    ) -> Result<usize, Error> {
        let buf = checked(buf.as_uninit())?;
        let mut count = 0;
        drain_reads(self.fd.as_fd(), buf, |bytes| {
            // SAFETY: as in `read`.
            for item in unsafe { OwnedEvents::adopt(parse(bytes)) } {
                count += 1;
                f(item);
            }
        })?;
        Ok(count)
    }

    /// Answers a permission event through its own fd (see [`respond`]).
    ///
    /// # Errors
    /// [`Error::NoEventFd`] when the event has no fd (taken, or FID mode);
    /// the errnos of [`respond`].
    pub fn respond(&self, event: &OwnedEvent<'_>, response: Response) -> Result<(), Error> {
        let fd = event.borrow_fd().ok_or(Error::NoEventFd)?;
        Ok(respond(&self.fd, fd, response)?)
    }

    /// Answers a permission event whose fd you took from it.
    ///
    /// # Errors
    /// The errnos of [`respond`].
    pub fn respond_fd(&self, event_fd: BorrowedFd<'_>, response: Response) -> Result<(), Error> {
        Ok(respond(&self.fd, event_fd, response)?)
    }

    /// `FIONREAD`: bytes of events queued. In FID mode the kernel counts
    /// only each event's 24-byte metadata, not its info records, so this
    /// undercounts there; size buffers with [`MIN_BUFFER_LEN`] and
    /// [`DEFAULT_BUFFER_LEN`] instead.
    ///
    /// # Errors
    /// None in practice.
    #[doc(alias = "FIONREAD")]
    pub fn queued_bytes(&self) -> Result<usize, Error> {
        let n = rustix::io::ioctl_fionread(&self.fd)?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// Switches `O_NONBLOCK` on or off.
    ///
    /// # Errors
    /// None in practice.
    pub fn set_nonblocking(&self, nonblocking: bool) -> Result<(), Error> {
        Ok(crate::fd::set_nonblocking(self.fd.as_fd(), nonblocking)?)
    }

    /// A [`Waker`] ends a [`read_wait`](Self::read_wait) from another
    /// thread; this is [`Waker::new`].
    ///
    /// # Errors
    /// As [`Waker::new`].
    pub fn waker() -> Result<Waker, Error> {
        Ok(Waker::new()?)
    }
}

fn mark_error(e: Errno) -> Error {
    match e {
        Errno::NOSPC => Error::MarkLimit,
        e => Error::Os(e),
    }
}

/// Checks a buffer's length before it reaches the kernel.
fn checked(buf: &mut [MaybeUninit<u8>]) -> Result<&mut [MaybeUninit<u8>], Error> {
    if buf.len() < MIN_BUFFER_LEN {
        return Err(Error::BufferTooSmall {
            len: buf.len(),
            needed: MIN_BUFFER_LEN,
        });
    }
    Ok(buf)
}

/// Tells the group limit from the descriptor limit.
fn explain_emfile() -> Error {
    match rustix::event::eventfd(0, rustix::event::EventfdFlags::CLOEXEC) {
        Ok(_probe) => Error::GroupLimit,
        Err(_) => Error::Os(Errno::MFILE),
    }
}

impl TryFrom<OwnedFd> for Fanotify {
    type Error = Errno;

    /// Adopts `fd` after checking, through `/proc/self/fd`, that it is a
    /// fanotify group (`anon_inode:[fanotify]`); `EINVAL` (and `fd` closed)
    /// otherwise, `ENOENT` without `/proc`.
    ///
    /// This is `TryFrom`, not `From`: [`Fanotify::read`] adopts the fd
    /// numbers it reads, which is only sound on a real fanotify descriptor.
    fn try_from(fd: OwnedFd) -> Result<Self, Errno> {
        let mut buf = [0_u8; 64];
        if fd_path(&fd, &mut buf)? == b"anon_inode:[fanotify]" {
            Ok(Self { fd })
        } else {
            Err(Errno::INVAL)
        }
    }
}

crate::fd::owned_fd_traits!(Fanotify, "fanotify descriptor");
