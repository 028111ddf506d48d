//! Native Linux AIO: `io_setup`, `io_submit`, `io_getevents`,
//! `io_pgetevents`, `io_cancel`, `io_destroy`.
//!
//! A [`Context`] is a completion ring in the kernel. Requests ([`Iocb`],
//! built by typed constructors for `PREAD`, `PWRITE`, `PREADV`, `PWRITEV`,
//! `FSYNC`, `FDSYNC` and `POLL`) are submitted in batches; their
//! completions are read back into a caller-supplied [`IoEvent`] array and
//! parsed as [`Event`] records, matched to their requests through the
//! 64-bit user data. Nothing on the submit or reap path allocates.
//!
//! # Two ways to submit
//! - **Safe**: [`Context::scope`] opens a [`Scope`] in which [`Op`]s take
//!   their buffers by reference *and keep the reference* while the kernel
//!   may write to the memory: [`Scope::submit`] moves the buffer reference
//!   into an [`InFlight`] handle that gives no access to it, and only a
//!   [`Completion`] reaped for that very request hands it back
//!   ([`InFlight::finish`]). The buffers must outlive the scope, and the
//!   scope does not return (not even by unwinding) before every request
//!   submitted in it has completed, so forgetting a handle (`mem::forget`)
//!   only keeps its buffer borrowed until the scope ends: there is no guard
//!   whose leak would let memory be freed under the kernel.
//! - **Raw**: [`Context::submit`] is an `unsafe fn` that submits a batch of
//!   [`Iocb`]s from caller storage, with the contract spelled out in its
//!   `# Safety` section.
//!
//! # What the kernel really does
//! - AIO is asynchronous only for `O_DIRECT` files (on the filesystems that
//!   support it: ext4, xfs, btrfs, tmpfs since Linux 6.6, block devices).
//!   **Buffered (non-`O_DIRECT`) reads and writes on most filesystems
//!   complete synchronously inside `io_submit`**: the call blocks for the
//!   whole I/O and the completion is already in the ring when it returns.
//!   `FSYNC`/`FDSYNC` run on a kernel worker; `POLL` waits asynchronously on
//!   any pollable descriptor.
//! - `O_DIRECT` wants the buffer address, the length and the file offset
//!   aligned to the device's logical block size (4096 is always enough);
//!   otherwise the request fails with `EINVAL`.
//! - Only `POLL` requests can be cancelled ([`Context::cancel`]); reads and
//!   writes of regular files answer `EINVAL`. A cancelled request still
//!   completes through the ring.
//! - Dropping a [`Context`] calls `io_destroy`, which waits for every
//!   request in flight: no buffer is written after the context is gone.
//!
//! # Example
//! ```
//! use std::io::Write;
//! use kernfd::aio::{Context, IoEvent, Op};
//!
//! let mut file = tempfile::tempfile()?;
//! file.write_all(b"hello, aio")?;
//!
//! let mut ctx = Context::new(8)?;
//! let mut buf = [0_u8; 5];
//! let mut events = [IoEvent::ZERO; 8];
//! ctx.scope(|s| -> kernfd::Result<()> {
//!     let op = s.submit(Op::read(&file, &mut buf, 7))?;
//!     // `buf` cannot be touched here: the kernel may be writing to it.
//!     let c = s.getevents(1, &mut events, None)?.next().unwrap();
//!     let (buf, res) = op.finish(&c).unwrap();
//!     assert_eq!(res, Ok(3));
//!     assert_eq!(&buf[..3], b"aio");
//!     Ok(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # References
//! [io_setup(2)](https://man7.org/linux/man-pages/man2/io_setup.2.html),
//! [io_submit(2)](https://man7.org/linux/man-pages/man2/io_submit.2.html),
//! [io_getevents(2)](https://man7.org/linux/man-pages/man2/io_getevents.2.html),
//! [io_cancel(2)](https://man7.org/linux/man-pages/man2/io_cancel.2.html),
//! [io_destroy(2)](https://man7.org/linux/man-pages/man2/io_destroy.2.html),
//! `include/uapi/linux/aio_abi.h`.

mod abi;
mod event;
mod flags;
#[cfg(any(test, fuzzing))]
#[doc(hidden)]
pub mod reference;
mod scope;

use core::fmt;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;

use rustix::event::PollFlags;
use rustix::fd::{AsFd, AsRawFd};
use rustix::io::Errno;

use crate::error::{Call, Error, Limit, Result};
use crate::raw::{check, nr, syscall2, syscall3, syscall5, syscall6};
use crate::signal::SigSet;

pub use event::{Event, Events, IO_EVENT_LEN, ParseError, parse};
pub use flags::RwFlags;
pub use scope::{Completion, Completions, InFlight, Op, Rejected, Scope};

/// One completion slot of the array [`Context::getevents`] fills: a
/// `struct io_event`, opaque. Make arrays of [`IoEvent::ZERO`].
#[doc(alias = "io_event")]
#[derive(Clone, Copy, Default, PartialEq, Eq)]
#[repr(transparent)]
pub struct IoEvent(abi::io_event);

impl IoEvent {
    /// An all-zero slot.
    pub const ZERO: Self = Self(abi::io_event {
        data: 0,
        obj: 0,
        res: 0,
        res2: 0,
    });
}

impl fmt::Debug for IoEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// The first `n` slots as bytes, for the parser.
fn event_bytes(events: &[IoEvent]) -> &[u8] {
    // SAFETY: `IoEvent` is a `repr(C)` struct of four 8-byte integers with
    // no padding (asserted in `abi`), so its bytes are initialised; the
    // length is the slice's size in bytes and the lifetime is the slice's.
    unsafe { core::slice::from_raw_parts(events.as_ptr().cast::<u8>(), size_of_val(events)) }
}

/// A request: a `struct iocb`, built by the typed constructors.
///
/// Plain data (`Copy`), holding raw addresses: building one is safe,
/// submitting it is not ([`Context::submit`]); the safe path is [`Op`] in
/// a [`Scope`]. The kernel reads the `iocb` only during `io_submit`, so the
/// storage may be reused as soon as that returns; the buffers it points to
/// must live until the completion.
///
/// Every constructor leaves `aio_key` at 0, the value the kernel stores
/// there during `io_submit`.
#[doc(alias = "iocb")]
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub struct Iocb(abi::iocb);

impl Iocb {
    fn new(opcode: u16, fd: impl AsFd, buf: u64, nbytes: u64, offset: u64) -> Self {
        Self(abi::iocb {
            aio_lio_opcode: opcode,
            aio_fildes: fd.as_fd().as_raw_fd() as u32,
            aio_buf: buf,
            aio_nbytes: nbytes,
            aio_offset: offset as i64,
            ..abi::iocb::default()
        })
    }

    /// `IOCB_CMD_PREAD`: read `len` bytes at `offset` of `fd` into `buf`.
    /// The completion's result is the number of bytes read (0 at end of
    /// file).
    #[must_use]
    pub fn pread(fd: impl AsFd, buf: *mut u8, len: usize, offset: u64) -> Self {
        Self::new(abi::IOCB_CMD_PREAD, fd, buf as u64, len as u64, offset)
    }

    /// `IOCB_CMD_PWRITE`: write `len` bytes from `buf` at `offset` of `fd`.
    /// The completion's result is the number of bytes written.
    #[must_use]
    pub fn pwrite(fd: impl AsFd, buf: *const u8, len: usize, offset: u64) -> Self {
        Self::new(abi::IOCB_CMD_PWRITE, fd, buf as u64, len as u64, offset)
    }

    /// `IOCB_CMD_PREADV`: scatter a read at `offset` into the buffers of
    /// `iov`. The kernel reads the `iovec` array during `io_submit` and
    /// writes the buffers until the completion.
    #[must_use]
    pub fn preadv(fd: impl AsFd, iov: &[IoSliceMut<'_>], offset: u64) -> Self {
        Self::new(
            abi::IOCB_CMD_PREADV,
            fd,
            iov.as_ptr() as u64,
            iov.len() as u64,
            offset,
        )
    }

    /// `IOCB_CMD_PWRITEV`: gather a write at `offset` from the buffers of
    /// `iov`.
    #[must_use]
    pub fn pwritev(fd: impl AsFd, iov: &[IoSlice<'_>], offset: u64) -> Self {
        Self::new(
            abi::IOCB_CMD_PWRITEV,
            fd,
            iov.as_ptr() as u64,
            iov.len() as u64,
            offset,
        )
    }

    /// `IOCB_CMD_FSYNC`: `fsync(fd)` on a kernel worker.
    #[must_use]
    pub fn fsync(fd: impl AsFd) -> Self {
        Self::new(abi::IOCB_CMD_FSYNC, fd, 0, 0, 0)
    }

    /// `IOCB_CMD_FDSYNC`: `fdatasync(fd)` on a kernel worker.
    #[must_use]
    pub fn fdsync(fd: impl AsFd) -> Self {
        Self::new(abi::IOCB_CMD_FDSYNC, fd, 0, 0, 0)
    }

    /// `IOCB_CMD_POLL`: completes once `fd` is ready for one of `events`;
    /// the result is the ready mask ([`Iocb::poll_mask`] decodes it). One
    /// shot; cancellable with [`Context::cancel`].
    #[must_use]
    // rustix's poll bits are `u16` on its raw backend and `i16` on libc's
    // (which Miri uses): the casts are no-ops on one of them.
    #[allow(clippy::unnecessary_cast)]
    pub fn poll(fd: impl AsFd, events: PollFlags) -> Self {
        Self::new(
            abi::IOCB_CMD_POLL,
            fd,
            u64::from(events.bits() as u16),
            0,
            0,
        )
    }

    /// `IOCB_CMD_NOOP`: the kernel rejects it with `EINVAL` at submission
    /// (it exists in the ABI, not in the implementation), which makes it a
    /// handy way to provoke a partial submission.
    #[must_use]
    pub fn noop(fd: impl AsFd) -> Self {
        Self::new(abi::IOCB_CMD_NOOP, fd, 0, 0, 0)
    }

    /// Decodes the result of a `POLL` completion.
    #[must_use]
    #[allow(clippy::unnecessary_cast)]
    pub fn poll_mask(result: u64) -> PollFlags {
        PollFlags::from_bits_retain(result as u16 as _)
    }

    /// Sets `aio_data`, the 64 bits returned in the completion
    /// ([`Event::data`]).
    #[must_use]
    pub const fn with_data(mut self, data: u64) -> Self {
        self.0.aio_data = data;
        self
    }

    /// Sets the I/O priority (`aio_reqprio` with `IOCB_FLAG_IOPRIO`): an
    /// `IOPRIO_PRIO_VALUE(class, level)`, see [`ioprio`]. The real-time
    /// class needs `CAP_SYS_ADMIN` (`EPERM` at submission otherwise); an
    /// unknown class is `EINVAL`.
    #[must_use]
    pub const fn with_priority(mut self, prio: u16) -> Self {
        self.0.aio_flags |= abi::IOCB_FLAG_IOPRIO;
        self.0.aio_reqprio = prio as i16;
        self
    }

    /// Sets the per-request `RWF_*` flags (`aio_rw_flags`), for the read and
    /// write opcodes; the kernel rejects them on the others (`EINVAL`).
    #[must_use]
    pub const fn with_rw_flags(mut self, flags: RwFlags) -> Self {
        self.0.aio_rw_flags = flags.bits();
        self
    }

    /// Signals `eventfd` on completion (`IOCB_FLAG_RESFD`): the kernel adds
    /// 1 to its counter, so a poll or epoll loop learns that completions are
    /// waiting. Any descriptor is accepted here; one that is not an eventfd
    /// fails the submission with `EINVAL`.
    #[must_use]
    pub fn with_eventfd(mut self, eventfd: impl AsFd) -> Self {
        self.0.aio_flags |= abi::IOCB_FLAG_RESFD;
        self.0.aio_resfd = eventfd.as_fd().as_raw_fd() as u32;
        self
    }

    /// `aio_data`.
    #[must_use]
    pub const fn data(&self) -> u64 {
        self.0.aio_data
    }

    /// `aio_lio_opcode` (`IOCB_CMD_*`).
    #[must_use]
    pub const fn opcode(&self) -> u16 {
        self.0.aio_lio_opcode
    }

    /// `aio_nbytes`: the length of the transfer (or of the `iovec` array).
    #[must_use]
    pub const fn len(&self) -> u64 {
        self.0.aio_nbytes
    }

    /// Whether [`len`](Self::len) is 0.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.0.aio_nbytes == 0
    }

    /// Limits the transfer to `len` bytes (never more than already set).
    #[must_use]
    pub(crate) const fn truncated(mut self, len: u64) -> Self {
        if len < self.0.aio_nbytes {
            self.0.aio_nbytes = len;
        }
        self
    }

    /// The address of this `iocb`, as the kernel reports it in
    /// [`Event::obj`] when it was submitted from here.
    #[must_use]
    pub fn addr(&self) -> u64 {
        core::ptr::from_ref(self) as u64
    }
}

impl fmt::Debug for Iocb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// `IOPRIO_PRIO_VALUE(class, level)`: an I/O priority for
/// [`Iocb::with_priority`]. Classes: 1 real-time, 2 best-effort, 3 idle;
/// levels 0 (highest) to 7.
#[must_use]
pub const fn ioprio(class: u16, level: u16) -> u16 {
    (class << 13) | (level & 0x1fff)
}

/// A buffer to write from, as a `struct iovec` (for [`Iocb::pwritev`] and
/// [`Op::writev`]).
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct IoSlice<'a> {
    iov: abi::iovec,
    _buf: PhantomData<&'a [u8]>,
}

impl<'a> IoSlice<'a> {
    /// The iovec of `buf`.
    #[must_use]
    pub fn new(buf: &'a [u8]) -> Self {
        Self {
            iov: abi::iovec {
                iov_base: buf.as_ptr().cast_mut().cast(),
                iov_len: buf.len() as _,
            },
            _buf: PhantomData,
        }
    }
}

impl fmt::Debug for IoSlice<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IoSlice({:p}, {})", self.iov.iov_base, self.iov.iov_len)
    }
}

/// A buffer to read into, as a `struct iovec` (for [`Iocb::preadv`] and
/// [`Op::readv`]).
#[repr(transparent)]
pub struct IoSliceMut<'a> {
    iov: abi::iovec,
    _buf: PhantomData<&'a mut [u8]>,
}

impl<'a> IoSliceMut<'a> {
    /// The iovec of `buf`.
    #[must_use]
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self {
            iov: abi::iovec {
                iov_base: buf.as_mut_ptr().cast(),
                iov_len: buf.len() as _,
            },
            _buf: PhantomData,
        }
    }

    /// The buffer again, for reading what the kernel wrote once the request
    /// completed.
    #[must_use]
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: built from a `&'a mut [u8]` of this address and length,
        // borrowed for `'a`, which outlives `self`.
        unsafe {
            core::slice::from_raw_parts(self.iov.iov_base.cast::<u8>(), self.iov.iov_len as usize)
        }
    }
}

impl fmt::Debug for IoSliceMut<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "IoSliceMut({:p}, {})",
            self.iov.iov_base, self.iov.iov_len
        )
    }
}

fn timespec(d: Duration) -> linux_raw_sys::general::__kernel_timespec {
    linux_raw_sys::general::__kernel_timespec {
        tv_sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        tv_nsec: i64::from(d.subsec_nanos()),
    }
}

/// `io_setup(nr_events, &ctx)`: a new AIO context that can hold at least
/// `nr_events` completions.
///
/// # Errors
/// `EAGAIN` when `nr_events` exceeds what `/proc/sys/fs/aio-max-nr` leaves
/// machine-wide (`aio-max-nr - aio-nr`); `EINVAL` for 0 or an absurdly
/// large count; `ENOMEM`; `ENOSYS` without AIO support.
///
/// # References
/// [io_setup(2)](https://man7.org/linux/man-pages/man2/io_setup.2.html)
pub fn io_setup(nr_events: u32) -> Result<u64, Errno> {
    let mut ctx: abi::AioContext = 0;
    // SAFETY: `ctx` is a valid, zeroed `aio_context_t` the kernel writes.
    check(unsafe {
        syscall2(
            nr::__NR_io_setup as usize,
            nr_events as usize,
            core::ptr::from_mut(&mut ctx) as usize,
        )
    })?;
    Ok(ctx)
}

/// `io_destroy(ctx)`: cancels what can be cancelled, waits for every other
/// request in flight, and frees the context.
///
/// # Errors
/// `EINVAL` for an id that is not a live context; `EFAULT`.
///
/// # Safety
/// `ctx` must not be owned by a [`Context`] (which destroys it on drop:
/// the id could meanwhile name another context), and no [`Scope`] of it
/// may be open.
///
/// # References
/// [io_destroy(2)](https://man7.org/linux/man-pages/man2/io_destroy.2.html)
pub unsafe fn io_destroy(ctx: u64) -> Result<(), Errno> {
    // SAFETY: io_destroy takes the id by value and touches no user memory.
    check(unsafe { crate::raw::syscall1(nr::__NR_io_destroy as usize, ctx as usize) }).map(|_| ())
}

/// `io_submit(ctx, n, iocbpp)`: queues `iocbs`; returns how many the kernel
/// took (from the front). The kernel reports an error only when it took
/// none; [`Context::submit`] finds the error of the first one refused.
///
/// # Errors
/// `EINVAL` for a bad context or a malformed `iocb` (unknown opcode, bad
/// flags, `O_DIRECT` misalignment); `EBADF` for a bad descriptor (request
/// or eventfd); `EAGAIN` when the ring is full or `RWF_NOWAIT` would block;
/// `EFAULT` for an address outside the process; `EPERM` for a real-time
/// priority without the privilege; `EOPNOTSUPP` for unknown `RWF_*` bits.
///
/// # Safety
/// As [`Context::submit`], whose contract applies to the requests the
/// kernel takes here, bit 63 of `aio_data` included.
///
/// # References
/// [io_submit(2)](https://man7.org/linux/man-pages/man2/io_submit.2.html)
pub unsafe fn io_submit(ctx: u64, iocbs: &[&Iocb]) -> Result<usize, Errno> {
    // SAFETY: `&Iocb` is a non-null pointer to a `repr(transparent)` iocb,
    // so `iocbs` is a valid `struct iocb *[len]`. The kernel writes 0 into
    // each `aio_key`, which every constructor already set to 0, so the
    // shared references see no change. The buffers are the caller's
    // contract.
    check(unsafe {
        syscall3(
            nr::__NR_io_submit as usize,
            ctx as usize,
            iocbs.len(),
            iocbs.as_ptr() as usize,
        )
    })
}

/// `io_cancel(ctx, iocb, &result)`: asks the kernel to cancel the request
/// submitted from `iocb` (matched by address). Since Linux 4.19 a cancelled
/// request completes through the ring, so success is the kernel's
/// `EINPROGRESS`, returned here as `Ok(())`.
///
/// # Errors
/// `EINVAL` when no cancellable request was submitted from that address
/// (reads and writes of regular files are not cancellable; `POLL` is) or
/// the context is bad; `EAGAIN` when it is no longer cancellable.
///
/// # References
/// [io_cancel(2)](https://man7.org/linux/man-pages/man2/io_cancel.2.html)
pub fn io_cancel(ctx: u64, iocb: &Iocb) -> Result<(), Errno> {
    let mut result = abi::io_event::default();
    // SAFETY: `iocb` is a live iocb the kernel reads `aio_key` from;
    // `result` is a writable io_event (unused by today's kernels).
    let r = check(unsafe {
        syscall3(
            nr::__NR_io_cancel as usize,
            ctx as usize,
            core::ptr::from_ref(iocb) as usize,
            core::ptr::from_mut(&mut result) as usize,
        )
    });
    match r {
        Ok(_) | Err(Errno::INPROGRESS) => Ok(()),
        Err(e) => Err(e),
    }
}

/// `io_getevents(ctx, min_nr, events.len(), events, timeout)`: waits for at
/// least `min_nr` completions (or the timeout), takes up to `events.len()`,
/// and returns how many it wrote. `None` waits forever; `Some(ZERO)` does
/// not wait.
///
/// # Errors
/// `EINVAL` for a bad context or `min_nr > events.len()`; `EINTR` when a
/// signal arrived first; `EFAULT`.
///
/// # References
/// [io_getevents(2)](https://man7.org/linux/man-pages/man2/io_getevents.2.html)
pub fn io_getevents(
    ctx: u64,
    min_nr: usize,
    events: &mut [IoEvent],
    timeout: Option<Duration>,
) -> Result<usize, Errno> {
    let ts = timeout.map(timespec);
    let tsp = ts.as_ref().map_or(0, |t| core::ptr::from_ref(t) as usize);
    // SAFETY: `events` is writable for `events.len()` io_events; `tsp` is
    // null or a live timespec.
    check(unsafe {
        syscall5(
            nr::__NR_io_getevents as usize,
            ctx as usize,
            min_nr,
            events.len(),
            events.as_mut_ptr() as usize,
            tsp,
        )
    })
}

/// `io_pgetevents(ctx, min_nr, nr, events, timeout, &{mask, 8})`: as
/// [`io_getevents`], with the thread's signal mask replaced by `mask` for
/// the duration of the wait (as `ppoll` does), so a signal unblocked only
/// there interrupts it with `EINTR` and no wakeup is lost.
///
/// # Errors
/// As [`io_getevents`]; `ENOSYS` before Linux 4.18.
///
/// # References
/// [io_pgetevents(2)](https://man7.org/linux/man-pages/man2/io_pgetevents.2.html)
pub fn io_pgetevents(
    ctx: u64,
    min_nr: usize,
    events: &mut [IoEvent],
    timeout: Option<Duration>,
    mask: Option<&SigSet>,
) -> Result<usize, Errno> {
    let ts = timeout.map(timespec);
    let tsp = ts.as_ref().map_or(0, |t| core::ptr::from_ref(t) as usize);
    let bits = mask.map(|m| m.bits());
    let sig = bits.as_ref().map(|b| abi::aio_sigset {
        sigmask: core::ptr::from_ref(b),
        sigsetsize: crate::signal::SIGSET_SIZE,
    });
    let sigp = sig.as_ref().map_or(0, |s| core::ptr::from_ref(s) as usize);
    // SAFETY: as io_getevents; `sigp` is null or a live __aio_sigset whose
    // mask pointer is live too.
    check(unsafe {
        syscall6(
            nr::__NR_io_pgetevents as usize,
            ctx as usize,
            min_nr,
            events.len(),
            events.as_mut_ptr() as usize,
            tsp,
            sigp,
        )
    })
}

/// A partial submission: how many requests the kernel took (from the
/// front), and the error for the first one it refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partial {
    submitted: usize,
    error: Error,
}

impl Partial {
    /// How many requests went in: `iocbs[..submitted]`.
    #[must_use]
    pub const fn submitted(&self) -> usize {
        self.submitted
    }

    /// Why `iocbs[submitted]` did not.
    #[must_use]
    pub const fn error(&self) -> Error {
        self.error
    }
}

impl fmt::Display for Partial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} request(s) submitted, request {} refused: {}",
            self.submitted, self.submitted, self.error
        )
    }
}

impl core::error::Error for Partial {}

impl From<Partial> for Error {
    /// The error of the first refused request (the count is lost).
    fn from(p: Partial) -> Self {
        p.error
    }
}

/// An owned AIO context (`aio_context_t`): a completion ring of at least
/// the size asked for.
///
/// Dropping it calls `io_destroy`, which waits for every request still in
/// flight, so no buffer is written once it is gone. Usable from several
/// threads (`Sync`): submission and reaping may run concurrently.
#[derive(Debug)]
pub struct Context {
    /// The kernel's id; 0 once destroyed.
    id: AtomicU64,
    nr_events: u32,
}

impl Context {
    /// `io_setup(nr_events)`: a context with room for `nr_events`
    /// requests in flight.
    ///
    /// # Errors
    /// [`Error::Limit`] with [`Limit::AioMaxNr`] when `nr_events` exceeds
    /// what `/proc/sys/fs/aio-max-nr` leaves machine-wide (the kernel's
    /// `EAGAIN`); `Os` `EINVAL` for 0; `ENOMEM`.
    pub fn new(nr_events: u32) -> Result<Self> {
        match io_setup(nr_events) {
            Ok(id) => Ok(Self {
                id: AtomicU64::new(id),
                nr_events,
            }),
            Err(Errno::AGAIN) => Err(Error::Limit {
                call: "io_setup",
                limit: Limit::AioMaxNr,
            }),
            Err(errno) => Err(Error::os("io_setup", errno)),
        }
    }

    /// The kernel's context id (`aio_context_t`), for the 1:1 functions.
    #[must_use]
    pub fn as_raw(&self) -> u64 {
        self.id.load(Ordering::Relaxed)
    }

    /// The `nr_events` this context was created with.
    #[must_use]
    pub fn nr_events(&self) -> u32 {
        self.nr_events
    }

    /// `io_submit` of a batch from caller storage: submits `iocbs` in order
    /// and returns how many went in, which is all of them on `Ok`.
    ///
    /// When the kernel takes only a prefix, the rest is submitted again so
    /// that the error of the first refused request is known exactly; a
    /// request refused for good ends the batch with a [`Partial`] that
    /// says how many went in and why the next did not. No allocation.
    ///
    /// # Errors
    /// A [`Partial`] (`submitted` may be 0) carrying `Error::Os { call:
    /// "io_submit", .. }` with the errnos of [`io_submit`].
    ///
    /// # Safety
    /// For each request the kernel takes, until its completion has been
    /// reaped (or the context destroyed, which waits for it):
    /// - the memory it reads from (`PWRITE`, `PWRITEV` buffers) must stay
    ///   allocated and unchanged where the result matters, and the memory it
    ///   writes to (`PREAD`, `PREADV` buffers) must stay allocated, not be
    ///   read or written by anyone else, and be valid for any bytes;
    /// - the `iovec` arrays of vectored requests must be live during this
    ///   call (the kernel copies them at submission);
    /// - `aio_data` must have bit 63 clear if a [`Scope`] of this context
    ///   is ever opened while the request may still complete (scopes tag
    ///   their requests with bit 63 and trust a completion so tagged to be
    ///   theirs).
    ///
    /// Forgetting the context (`mem::forget`) with requests in flight means
    /// those buffers must never be freed.
    ///
    /// # Example
    /// ```
    /// use std::io::Write;
    /// use kernfd::aio::{Context, Iocb, IoEvent};
    ///
    /// let mut file = tempfile::tempfile()?;
    /// file.write_all(b"abcdefgh")?;
    /// let ctx = Context::new(4)?;
    /// let (mut a, mut b) = ([0_u8; 4], [0_u8; 4]);
    /// let reads = [
    ///     Iocb::pread(&file, a.as_mut_ptr(), 4, 0).with_data(1),
    ///     Iocb::pread(&file, b.as_mut_ptr(), 4, 4).with_data(2),
    /// ];
    /// // SAFETY: `a` and `b` are not touched until both completions are
    /// // reaped below, and outlive the context.
    /// assert_eq!(unsafe { ctx.submit(&[&reads[0], &reads[1]]) }, Ok(2));
    /// let mut events = [IoEvent::ZERO; 4];
    /// let mut done = 0;
    /// while done < 2 {
    ///     for e in ctx.getevents(1, &mut events, None)? {
    ///         assert_eq!(e?.result(), Ok(4));
    ///         done += 1;
    ///     }
    /// }
    /// assert_eq!((&a, &b), (b"abcd", b"efgh"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn submit(&self, iocbs: &[&Iocb]) -> core::result::Result<usize, Partial> {
        let mut done = 0;
        while done < iocbs.len() {
            // SAFETY: the caller's contract covers every request.
            match unsafe { io_submit(self.as_raw(), &iocbs[done..]) } {
                Ok(0) => {
                    return Err(Partial {
                        submitted: done,
                        error: Error::os("io_submit", Errno::AGAIN),
                    });
                }
                Ok(n) => done += n,
                Err(errno) => {
                    return Err(Partial {
                        submitted: done,
                        error: Error::os("io_submit", errno),
                    });
                }
            }
        }
        Ok(done)
    }

    /// `io_getevents`: waits for at least `min_nr` completions or the
    /// timeout (`None`: forever; `Some(ZERO)`: no wait), reads up to
    /// `events.len()` of them into `events`, and parses what was filled.
    /// No allocation.
    ///
    /// A request submitted inside an open [`Scope`] can only be reaped
    /// there: this method cannot run while one is open (it borrows the
    /// context mutably).
    ///
    /// # Errors
    /// `Os` with `io_getevents`: `EINTR`, `EINVAL` (`min_nr >
    /// events.len()`).
    pub fn getevents<'b>(
        &self,
        min_nr: usize,
        events: &'b mut [IoEvent],
        timeout: Option<Duration>,
    ) -> Result<Events<'b>> {
        let n = io_getevents(self.as_raw(), min_nr, events, timeout).call("io_getevents")?;
        Ok(parse(event_bytes(&events[..n])))
    }

    /// `io_pgetevents`: as [`getevents`](Self::getevents), with the
    /// thread's signal mask set to `mask` while waiting.
    ///
    /// # Errors
    /// As [`getevents`](Self::getevents), from `io_pgetevents`; `EINTR`
    /// when a signal that `mask` leaves unblocked arrives.
    pub fn pgetevents<'b>(
        &self,
        min_nr: usize,
        events: &'b mut [IoEvent],
        timeout: Option<Duration>,
        mask: &SigSet,
    ) -> Result<Events<'b>> {
        let n = io_pgetevents(self.as_raw(), min_nr, events, timeout, Some(mask))
            .call("io_pgetevents")?;
        Ok(parse(event_bytes(&events[..n])))
    }

    /// `io_cancel`: cancels the request submitted from `iocb` (the same
    /// address). `Ok` means the cancellation is under way; the request then
    /// completes through the ring as usual (a cancelled `POLL` with mask 0).
    ///
    /// # Errors
    /// `Os` with `io_cancel`: `EINVAL` when no cancellable request was
    /// submitted from `iocb` (file reads and writes are not cancellable).
    pub fn cancel(&self, iocb: &Iocb) -> Result<()> {
        io_cancel(self.as_raw(), iocb).call("io_cancel")
    }

    /// Destroys the context now (what drop does), reporting the error.
    ///
    /// # Errors
    /// `Os` with `io_destroy`.
    pub fn destroy(self) -> Result<()> {
        let id = self.id.swap(0, Ordering::Relaxed);
        // SAFETY: the id is owned by `self`, which is consumed; no scope can
        // be open (it would borrow `self`).
        unsafe { io_destroy(id) }.call("io_destroy")
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        let id = *self.id.get_mut();
        if id != 0 {
            // SAFETY: the id is owned by `self` and never used again; no scope
            // is open (it would borrow `self`). io_destroy waits for every
            // request in flight. Nothing to do about an error here.
            let _ = unsafe { io_destroy(id) };
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;

    /// Whether the AIO syscalls work here: qemu-user (the aarch64 CI) does
    /// not emulate them and answers `ENOSYS`.
    fn aio_available() -> bool {
        match io_setup(1) {
            Ok(id) => {
                // SAFETY: the id was just made here and is owned by nothing.
                unsafe { io_destroy(id) }.unwrap();
                true
            }
            Err(Errno::NOSYS) => {
                let qemu = crate::raw::tests_support::under_qemu_user();
                std::eprintln!("SKIPPED aio syscall test: ENOSYS (under qemu-user: {qemu})");
                false
            }
            Err(e) => panic!("io_setup(1): {e}"),
        }
    }

    #[test]
    fn iocb_fields_land_at_the_abi_offsets() {
        let fd = rustix::stdio::stdin();
        let iocb = Iocb::pread(fd, core::ptr::without_provenance_mut(0x1000), 4096, 8192)
            .with_data(0x1122_3344_5566_7788)
            .with_rw_flags(RwFlags::NOWAIT | RwFlags::HIPRI)
            .with_priority(ioprio(2, 4));
        // SAFETY: `Iocb` is a 64-byte repr(C) struct of integers with no
        // padding, so viewing it as bytes is sound.
        let bytes: [u8; 64] = unsafe { core::mem::transmute(iocb) };
        let u64_at = |o: usize| u64::from_ne_bytes(bytes[o..o + 8].try_into().unwrap());
        let u32_at = |o: usize| u32::from_ne_bytes(bytes[o..o + 4].try_into().unwrap());
        let u16_at = |o: usize| u16::from_ne_bytes(bytes[o..o + 2].try_into().unwrap());
        assert_eq!(u64_at(0), 0x1122_3344_5566_7788);
        // The key/rw_flags pair, in the header's endian-dependent order.
        let (key, rwf) = if cfg!(target_endian = "little") {
            (8, 12)
        } else {
            (12, 8)
        };
        assert_eq!(u32_at(key), 0);
        assert_eq!(u32_at(rwf), 9);
        assert_eq!(u16_at(16), 0);
        assert_eq!(u16_at(18), (2 << 13) | 4);
        assert_eq!(u32_at(20), 0);
        assert_eq!(u64_at(24), 0x1000);
        assert_eq!(u64_at(32), 4096);
        assert_eq!(u64_at(40), 8192);
        assert_eq!(u32_at(56), abi::IOCB_FLAG_IOPRIO);
        // The little-endian pair read as one u64 puts rw_flags in the high half.
        #[cfg(target_endian = "little")]
        assert_eq!(u64_at(8), 9 << 32);
    }

    #[test]
    #[cfg_attr(miri, ignore = "a real syscall")]
    fn context_round_trip_on_the_real_kernel() {
        if !aio_available() {
            return;
        }
        let ctx = Context::new(4).unwrap();
        assert_ne!(ctx.as_raw(), 0);
        let mut ev = [IoEvent::ZERO; 4];
        assert_eq!(
            ctx.getevents(0, &mut ev, Some(Duration::ZERO))
                .unwrap()
                .len(),
            0
        );
        ctx.destroy().unwrap();
    }

    #[test]
    fn timespec_saturates() {
        let t = timespec(Duration::MAX);
        assert_eq!(t.tv_sec, i64::MAX);
        assert_eq!(t.tv_nsec, 999_999_999);
    }
}
