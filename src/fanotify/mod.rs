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
//!   explained ([`Error::Limit`], [`Error::Rule`]), bounded waits, a drain
//!   loop, and **owned event
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
mod display;
mod error;
mod event;
mod flags;
mod info;
mod owned;
mod path;
mod reader;
#[cfg(any(test, fuzzing))]
#[doc(hidden)]
pub mod reference;
mod response;

pub use error::{EventError, InfoErrorKind, ParseError, ParseErrorKind};
pub use event::{
    DEFAULT_BUFFER_LEN, Event, Events, METADATA_LEN, METADATA_VERSION, MIN_BUFFER_LEN, parse,
};
pub use flags::{EventFlags, InitFlags, MarkFlags, MarkType};
pub use info::{Fid, FidKind, FileHandle, INFO_HEADER_LEN, Info, Infos};
pub use owned::{OwnedEvent, OwnedEvents};
#[cfg(feature = "std")]
pub use path::fid_path_buf;
pub use path::{FidPath, fid_path};
pub use reader::Reader;
pub use response::{AuditRule, Response, respond};

use core::mem::MaybeUninit;

use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use rustix::fs::OFlags;
use rustix::io::Errno;

use crate::buffer::{Buffer, uninit};
use crate::error::{Call, Error, Limit, Result, Rule};
use crate::fd::Fd;
use crate::raw;
use crate::wait::{Flow, Wait, drain_reads, read_after_wait, records};

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
///
/// The path comes from `/proc/self/fd`, so it is only as trustworthy as the
/// `/proc` the process sees: use it to show or log, not to decide (nothing
/// in kernfd adopts or closes a descriptor on the strength of it).
///
/// # References
/// [readlink(2)](https://man7.org/linux/man-pages/man2/readlink.2.html),
/// [proc_pid_fd(5)](https://man7.org/linux/man-pages/man5/proc_pid_fd.5.html)
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
    let buf: &'b mut [MaybeUninit<u8>] = uninit(buf);
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
/// from one thread while another reads. The descriptor is `O_NONBLOCK` in
/// the kernel whatever the group's mode (see
/// [`set_nonblocking`](Self::set_nonblocking)), so a bounded wait stays
/// bounded when another thread takes the events.
///
/// # Permission events
/// An unanswered permission event blocks the process that caused it, and
/// the kernel matches answers by event-fd number. So kernfd answers every
/// permission event whose [`OwnedEvent`] is dropped unanswered (and every
/// one an [`OwnedEvents`] iterator is dropped before yielding) with the
/// group's [default response](Self::set_default_response), `ALLOW` unless
/// set otherwise (what the kernel itself does when a group is closed),
/// before its fd is closed: an answer can never reach a reused number.
#[derive(Debug)]
pub struct Fanotify {
    fd: Fd,
    /// The flags it was created with; `None` when adopted.
    flags: Option<InitFlags>,
    default_response: Response,
}

impl Fanotify {
    /// A new blocking, close-on-exec group with `flags` (class and report
    /// flags); event fds are opened `O_RDONLY | O_CLOEXEC | O_LARGEFILE`.
    ///
    /// # Errors
    /// [`Error::Limit`] with [`Limit::FanotifyGroups`] when
    /// `max_user_groups` is reached; [`Error::Rule`] for flag combinations
    /// the kernel only answers with `EINVAL` ([`Rule::FanotifyNameNeedsDirFid`],
    /// [`Rule::FanotifyTargetFidNeedsAll`]); the other errnos of [`init`]
    /// as [`Error::Os`] (notably `EPERM` without `CAP_SYS_ADMIN` unless
    /// `flags` ask for FID mode).
    ///
    /// # Example
    /// ```no_run
    /// use kernfd::fanotify::{EventFlags, Fanotify, InitFlags, MarkType};
    ///
    /// // FID mode: directory-entry events, and no CAP_SYS_ADMIN needed for
    /// // an inode mark (Linux 5.13).
    /// let fan = Fanotify::new(InitFlags::REPORT_DFID_NAME)?;
    /// fan.add(MarkType::Inode, EventFlags::CREATE | EventFlags::DELETE, "/tmp")?;
    /// # Ok::<(), kernfd::Error>(())
    /// ```
    pub fn new(flags: InitFlags) -> Result<Self> {
        Self::with_flags(
            flags | InitFlags::CLOEXEC,
            OFlags::RDONLY | OFlags::CLOEXEC | OFlags::LARGEFILE,
        )
    }

    /// A new group with exactly `flags` and `event_f_flags`.
    /// [`InitFlags::NONBLOCK`] sets the group's mode.
    ///
    /// # Errors
    /// As [`Fanotify::new`].
    pub fn with_flags(flags: InitFlags, event_f_flags: OFlags) -> Result<Self> {
        if flags.contains(InitFlags::REPORT_NAME) && !flags.contains(InitFlags::REPORT_DIR_FID) {
            return Err(Error::Rule(Rule::FanotifyNameNeedsDirFid));
        }
        if flags.contains(InitFlags::REPORT_TARGET_FID)
            && !flags.contains(InitFlags::REPORT_DFID_NAME_TARGET)
        {
            return Err(Error::Rule(Rule::FanotifyTargetFidNeedsAll));
        }
        match init(flags | InitFlags::NONBLOCK, event_f_flags) {
            Ok(fd) => Ok(Self {
                fd: Fd::new(fd, flags.contains(InitFlags::NONBLOCK)),
                flags: Some(flags),
                default_response: Response::ALLOW,
            }),
            Err(Errno::MFILE) => Err(explain_emfile()),
            Err(e) => Err(Error::os("fanotify_init", e)),
        }
    }

    fn from_fd(fd: Fd) -> Self {
        Self {
            fd,
            flags: None,
            default_response: Response::ALLOW,
        }
    }

    /// The answer kernfd gives a permission event that is dropped without
    /// one: `ALLOW` by default. A policy that must fail closed sets `DENY`.
    pub fn set_default_response(&mut self, response: Response) {
        self.default_response = response;
    }

    /// The answer given to permission events dropped unanswered.
    #[must_use]
    pub fn default_response(&self) -> Response {
        self.default_response
    }

    /// `fanotify_mark` with explicit flags, `dirfd` and `path` (see
    /// [`mark`]).
    ///
    /// # Errors
    /// [`Error::Limit`] with [`Limit::FanotifyMarks`] for `ENOSPC`;
    /// [`Error::Rule`] when adding events the group cannot report
    /// ([`Rule::FanotifyEventsNeedFid`],
    /// [`Rule::FanotifyPermissionNeedsContentClass`]; checked only for
    /// groups this type created, whose flags it knows); the other errnos of
    /// [`mark`] as [`Error::Os`].
    pub fn mark<P: rustix::path::Arg>(
        &self,
        flags: MarkFlags,
        mask: EventFlags,
        dirfd: impl AsFd,
        path: P,
    ) -> Result<()> {
        self.check_mark(flags, mask)?;
        mark(&self.fd, flags, mask, dirfd, path).map_err(mark_error)
    }

    /// The documented rules of `fanotify_mark` that the kernel answers with
    /// a bare `EINVAL`.
    fn check_mark(&self, flags: MarkFlags, mask: EventFlags) -> Result<()> {
        let Some(group) = self.flags else {
            return Ok(());
        };
        if !flags.contains(MarkFlags::ADD) {
            return Ok(());
        }
        let fid = group.intersects(InitFlags::REPORT_FID | InitFlags::REPORT_DIR_FID);
        let needs_fid = EventFlags::CREATE
            | EventFlags::DELETE
            | EventFlags::MOVED_FROM
            | EventFlags::MOVED_TO
            | EventFlags::RENAME
            | EventFlags::DELETE_SELF
            | EventFlags::MOVE_SELF;
        if !fid && mask.intersects(needs_fid) && !group.contains(InitFlags::REPORT_MNT) {
            return Err(Error::Rule(Rule::FanotifyEventsNeedFid));
        }
        let perm = EventFlags::OPEN_PERM
            | EventFlags::ACCESS_PERM
            | EventFlags::OPEN_EXEC_PERM
            | EventFlags::PRE_ACCESS;
        let content = group.intersects(InitFlags::CLASS_CONTENT | InitFlags::CLASS_PRE_CONTENT);
        if mask.intersects(perm) && !content {
            return Err(Error::Rule(Rule::FanotifyPermissionNeedsContentClass));
        }
        Ok(())
    }

    /// Adds `mask` to the mark of type `ty` on `path`
    /// (`FAN_MARK_ADD | type`).
    ///
    /// # Errors
    /// As [`Fanotify::mark`].
    pub fn add<P: rustix::path::Arg>(&self, ty: MarkType, mask: EventFlags, path: P) -> Result<()> {
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
    ) -> Result<()> {
        self.mark(MarkFlags::REMOVE | ty.flags(), mask, rustix::fs::CWD, path)
    }

    /// Marks the object `target` is open on (see [`mark_fd`]): for a mount
    /// namespace, `flags` is `ADD | MNTNS` and `target` an nsfs fd.
    ///
    /// # Errors
    /// As [`Fanotify::mark`].
    pub fn mark_fd(&self, flags: MarkFlags, mask: EventFlags, target: impl AsFd) -> Result<()> {
        self.check_mark(flags, mask)?;
        mark_fd(&self.fd, flags, mask, target).map_err(mark_error)
    }

    /// Removes every mark of type `ty` (`FAN_MARK_FLUSH | type`).
    ///
    /// # Errors
    /// `EINVAL` for a type the kernel does not know.
    pub fn flush(&self, ty: MarkType) -> Result<()> {
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
    /// Waits until at least one event is queued, unless the group is
    /// non-blocking (then `EAGAIN`). Descriptors of events the iterator has
    /// not yielded yet are closed when it is dropped, and their permission
    /// events answered with the [default response](Self::set_default_response).
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] when `buf` is shorter than
    /// [`MIN_BUFFER_LEN`], before any syscall. `EAGAIN` when non-blocking
    /// and empty; `EINTR` (returned, not retried); `EMFILE` when the kernel
    /// cannot install an event fd (the event is then lost unless the group
    /// has `REPORT_FD_ERROR`); `EPERM`/`EACCES` from opening the file.
    ///
    /// # Example
    /// ```no_run
    /// use kernfd::fanotify::{EventFlags, Fanotify, InitFlags, MarkType};
    ///
    /// let fan = Fanotify::new(InitFlags::CLASS_NOTIF)?; // needs CAP_SYS_ADMIN
    /// fan.add(MarkType::Mount, EventFlags::CLOSE_WRITE, "/")?;
    /// let mut buf = [0_u8; kernfd::fanotify::DEFAULT_BUFFER_LEN];
    /// for event in fan.read(&mut buf)? {
    ///     let event = event?;
    ///     println!("{} pid {}", event.mask(), event.pid());
    /// } // each event's fd is closed as it drops
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read<'b, B: Buffer + ?Sized>(&'b self, buf: &'b mut B) -> Result<OwnedEvents<'b>> {
        let buf = checked(uninit(buf))?;
        let bytes = records(self.fd.read(buf))?;
        // SAFETY: the bytes come straight from a read on a fanotify group
        // (checked when adopted), so their fds and pidfds were just installed
        // for this process and nothing else owns them.
        Ok(unsafe { OwnedEvents::adopt(parse(bytes), self.group()) })
    }

    /// `inotify_simple`'s `read(timeout, read_delay)`, for fanotify: waits as
    /// `wait` says for the first event, optionally lingers, then reads once.
    /// Returns no events when the timeout passes or the waker is woken. The
    /// timeout holds even when another thread reads the same group.
    ///
    /// # Errors
    /// As [`read`](Self::read).
    pub fn read_wait<'b, B: Buffer + ?Sized>(
        &'b self,
        buf: &'b mut B,
        wait: Wait<'_>,
    ) -> Result<OwnedEvents<'b>> {
        let buf = checked(uninit(buf))?;
        match read_after_wait(&self.fd, &wait, buf) {
            Ok(None) => Ok(OwnedEvents::EMPTY),
            Ok(Some(bytes)) => {
                let events = parse(records(Ok(bytes))?);
                // SAFETY: as in `read`.
                Ok(unsafe { OwnedEvents::adopt(events, self.group()) })
            }
            Err(errno) => Err(Error::os("read", errno)),
        }
    }

    /// Reads until the queue is empty, handing every record to `f` (which
    /// may keep nothing: each event's fds close when `f` returns, unless it
    /// takes them, and an unanswered permission event gets the default
    /// response); returns how many records it handed over.
    ///
    /// It never waits, whatever the group's mode. `f` returns a [`Flow`]:
    /// `()`, a `ControlFlow` (`Break` stops), or a `Result` so that `?`
    /// works inside it (an `Err` stops the drain and is returned). Either
    /// way the rest of that read's events are closed and answered as when
    /// an [`OwnedEvents`] is dropped.
    ///
    /// # Errors
    /// As [`read`](Self::read), and whatever `f` returns. Records handed over
    /// before an error stay handed over.
    pub fn drain<B, E, R>(
        &self,
        buf: &mut B,
        mut f: impl FnMut(core::result::Result<OwnedEvent<'_>, EventError>) -> R,
    ) -> core::result::Result<usize, E>
    where
        B: Buffer + ?Sized,
        E: From<Error>,
        R: Flow<E>,
    {
        let buf = checked(uninit(buf))?;
        let mut count = 0;
        let group = self.group();
        drain_reads::<E>(&self.fd, buf, |bytes| {
            // SAFETY: as in `read`.
            for item in unsafe { OwnedEvents::adopt(parse(bytes), group) } {
                count += 1;
                if !f(item).flow()? {
                    return Ok(false);
                }
            }
            Ok(true)
        })?;
        Ok(count)
    }

    pub(crate) fn group(&self) -> Group<'_> {
        Group {
            fd: self.fd.as_fd(),
            default: &self.default_response,
        }
    }

    /// Answers a permission event through its own fd (see [`respond`]);
    /// the event is then not answered again when dropped.
    ///
    /// # Errors
    /// [`Error::NoEventFd`] when the event has no fd (taken, or FID mode);
    /// the errnos of [`respond`].
    pub fn respond(&self, event: &OwnedEvent<'_>, response: Response) -> Result<()> {
        let fd = event.borrow_fd().ok_or(Error::NoEventFd)?;
        respond(&self.fd, fd, response).call("write(fanotify_response)")?;
        event.mark_answered();
        Ok(())
    }

    /// Answers a permission event whose fd you took from it.
    ///
    /// # Errors
    /// The errnos of [`respond`].
    pub fn respond_fd(&self, event_fd: BorrowedFd<'_>, response: Response) -> Result<()> {
        respond(&self.fd, event_fd, response).call("write(fanotify_response)")
    }

    /// `FIONREAD`: bytes of events queued. In FID mode the kernel counts
    /// only each event's 24-byte metadata, not its info records, so this
    /// undercounts there; size buffers with [`MIN_BUFFER_LEN`] and
    /// [`DEFAULT_BUFFER_LEN`] instead.
    ///
    /// # Errors
    /// None in practice.
    #[doc(alias = "FIONREAD")]
    pub fn queued_bytes(&self) -> Result<usize> {
        let n = rustix::io::ioctl_fionread(&self.fd).call("ioctl(FIONREAD)")?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    crate::fd::mode_methods!("group");
}

/// What the events of one read need from their group: its fd and the
/// answer for permission events dropped unanswered.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Group<'g> {
    pub(crate) fd: BorrowedFd<'g>,
    pub(crate) default: &'g Response,
}

fn mark_error(errno: Errno) -> Error {
    match errno {
        Errno::NOSPC => Error::Limit {
            call: "fanotify_mark",
            limit: Limit::FanotifyMarks,
        },
        errno => Error::os("fanotify_mark", errno),
    }
}

/// Checks a buffer's length before it reaches the kernel.
fn checked(buf: &mut [MaybeUninit<u8>]) -> Result<&mut [MaybeUninit<u8>]> {
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
        Ok(_probe) => Error::Limit {
            call: "fanotify_init",
            limit: Limit::FanotifyGroups,
        },
        Err(_) => Error::os("fanotify_init", Errno::MFILE),
    }
}

/// Whether `fd` is a fanotify group, asked of the kernel itself: a
/// `fanotify_mark(FAN_MARK_REMOVE)` with an invalid `dirfd` fails with
/// `EINVAL` at the "is this fanotify?" check on any other descriptor, and
/// with `EBADF` at the path lookup (after that check, so nothing is
/// removed) on a group. A `REPORT_MNT` group accepts only mount-namespace
/// marks, so it is asked with one of those.
fn is_fanotify(fd: BorrowedFd<'_>) -> Result<bool, Errno> {
    let probes = [
        (MarkFlags::REMOVE, EventFlags::MODIFY, c"x".as_ptr()),
        (
            MarkFlags::REMOVE | MarkType::MntNs.flags(),
            EventFlags::MNT_ATTACH,
            core::ptr::null(),
        ),
    ];
    for (flags, mask, path) in probes {
        // SAFETY: `path` is a NUL-terminated literal or null; `-1` is never
        // a valid descriptor, so the kernel resolves nothing.
        match unsafe { mark_raw(fd, flags, mask, -1, path.cast()) } {
            Ok(()) | Err(Errno::BADF) => return Ok(true),
            Err(Errno::INVAL) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

impl TryFrom<OwnedFd> for Fanotify {
    type Error = Error;

    /// Adopts `fd` after asking the kernel whether it is a fanotify group
    /// (a `fanotify_mark` that only a group answers with `EBADF`; nothing
    /// is marked or removed), keeping its blocking mode and setting
    /// `O_NONBLOCK` on it in the kernel. `Rule`-free: a descriptor that is
    /// not a group is refused with `EINVAL` (and closed). No `/proc` is
    /// consulted, so a forged `/proc` cannot make a pipe pass.
    ///
    /// This is `TryFrom`, not `From`: [`Fanotify::read`] adopts the fd
    /// numbers it reads, which is only sound on a real fanotify descriptor.
    fn try_from(fd: OwnedFd) -> Result<Self> {
        if is_fanotify(fd.as_fd()).call("fanotify_mark")? {
            Ok(Self::from_fd(Fd::adopt(fd)))
        } else {
            Err(Error::os("fanotify_mark", Errno::INVAL))
        }
    }
}

crate::fd::owned_fd_traits!(Fanotify, "fanotify descriptor");
