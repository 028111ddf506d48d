//! pipe: moving data through the kernel without copying it to user space:
//! `splice(2)`, `tee(2)`, `vmsplice(2)`, pipe sizing, and a copy loop built
//! on them.
//!
//! A pipe is a ring of page references. `splice` moves data between a pipe
//! and any descriptor (file, socket, device) by moving page references
//! instead of bytes; `tee` duplicates what one pipe holds into another
//! without consuming it; `vmsplice` feeds user memory into a pipe, or reads
//! a pipe into user memory.
//!
//! - The 1:1 calls: [`splice`], [`tee`], [`vmsplice`] (checked, copy
//!   semantics), [`vmsplice_read`] (pipe to memory),
//!   [`vmsplice_unchecked`] (`unsafe`: every flag, including
//!   [`SpliceFlags::GIFT`]), [`pipe_size`] and [`set_pipe_size`]
//!   (`F_GETPIPE_SZ`/`F_SETPIPE_SZ`). They return the kernel's [`Errno`].
//! - [`Pipe`]: an owned pipe (both ends, close-on-exec) with its size, and
//!   [`resize`], which names the limit an `EPERM` stands for
//!   ([`Limit::PipeMaxSize`],
//!   [`Limit::PipeUserPages`]).
//! - [`copy`] and [`Copier`]: copy everything from any readable descriptor
//!   to any writable one, by `copy_file_range` between regular files, by
//!   `splice` where the kernel allows it (through an internal pipe when
//!   neither side is one), by `read`/`write` where it does not; no
//!   allocation.
//!
//! # Example
//! ```
//! use std::io::{Read, Write};
//! use kernfd::pipe::{self, Pipe, SpliceFlags};
//!
//! let mut file = tempfile::tempfile()?;
//! file.write_all(b"hello, pipe")?;
//!
//! let p = Pipe::new()?;
//! // From offset 7 of the file into the pipe: the file position stays put.
//! let mut off = 7_u64;
//! let n = pipe::splice(&file, Some(&mut off), p.write_end(), None, 64, SpliceFlags::empty())?;
//! assert_eq!((n, off), (4, 11));
//!
//! let mut out = [0_u8; 4];
//! std::fs::File::from(p.into_read_end()).read_exact(&mut out)?;
//! assert_eq!(&out, b"pipe");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # References
//! [splice(2)](https://man7.org/linux/man-pages/man2/splice.2.html),
//! [tee(2)](https://man7.org/linux/man-pages/man2/tee.2.html),
//! [vmsplice(2)](https://man7.org/linux/man-pages/man2/vmsplice.2.html),
//! [pipe(7)](https://man7.org/linux/man-pages/man7/pipe.7.html)

mod copy;
mod flags;

pub use copy::{Copier, copy};
pub use flags::SpliceFlags;

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::OFlags;
use rustix::io::Errno;
use rustix::pipe::IoSliceRaw;

use crate::error::{Call, Error, Limit, Result, Rule};

/// The largest size `F_SETPIPE_SZ` can take: `2^31` bytes. Anything larger
/// is `EINVAL` (the kernel's own answer above `2^31`; kernfd's for what
/// would not fit the call's `int` argument).
pub const MAX_PIPE_SIZE: usize = 1 << 31;

/// `splice(fd_in, off_in, fd_out, off_out, len, flags)`: moves up to `len`
/// bytes from `fd_in` to `fd_out`, one of which must be a pipe.
///
/// An offset is `Some` only for a descriptor that is not a pipe: the
/// transfer starts there, the descriptor's own file position is left alone,
/// and the offset is advanced by the bytes moved (`loff_t`: 64 bits, so
/// files past 4 GiB work). `None` uses and advances the file position.
///
/// Returns the bytes moved; 0 means end of input (or `len == 0`). A pipe
/// end blocks as it would for `read`/`write` unless it is non-blocking or
/// [`SpliceFlags::NONBLOCK`] is given.
///
/// # Errors
/// - `ESPIPE`: an offset was given for a pipe (or another descriptor that
///   cannot seek).
/// - `EINVAL`: neither descriptor is a pipe; the kernel cannot splice this
///   pair (no `splice_read`/`splice_write` for the file, an `O_APPEND`
///   output); both ends are the same pipe; unknown flag bits.
/// - `EBADF`: a descriptor is not open, or not open for reading (`fd_in`)
///   or writing (`fd_out`).
/// - `EAGAIN`: non-blocking and nothing to read or no room in the pipe.
/// - `EPIPE`: the output pipe has no reader; `EINTR`; `ENOMEM`.
///
/// # References
/// [splice(2)](https://man7.org/linux/man-pages/man2/splice.2.html)
pub fn splice(
    fd_in: impl AsFd,
    off_in: Option<&mut u64>,
    fd_out: impl AsFd,
    off_out: Option<&mut u64>,
    len: usize,
    flags: SpliceFlags,
) -> Result<usize, Errno> {
    rustix::pipe::splice(fd_in, off_in, fd_out, off_out, len, flags.rustix())
}

/// `tee(fd_in, fd_out, len, flags)`: duplicates up to `len` bytes from the
/// head of pipe `fd_in` into pipe `fd_out`, without consuming them.
///
/// Returns the bytes duplicated; 0 when `fd_in` is empty and has no writer
/// left (or `len == 0`).
///
/// # Errors
/// - `EINVAL`: a descriptor is not a pipe, or both are the same pipe;
///   unknown flag bits.
/// - `EBADF`: a descriptor is not open, or not open for reading (`fd_in`)
///   or writing (`fd_out`).
/// - `EAGAIN`: [`SpliceFlags::NONBLOCK`] (or a non-blocking end) and
///   `fd_in` empty or `fd_out` full.
/// - `EPIPE`: `fd_out` has no reader; `EINTR`; `ENOMEM`.
///
/// # References
/// [tee(2)](https://man7.org/linux/man-pages/man2/tee.2.html)
pub fn tee(
    fd_in: impl AsFd,
    fd_out: impl AsFd,
    len: usize,
    flags: SpliceFlags,
) -> Result<usize, Errno> {
    rustix::pipe::tee(fd_in, fd_out, len, flags.rustix())
}

/// `vmsplice(fd, bufs, nr, flags)` into a pipe, with copy semantics: the
/// bytes of `bufs` are appended to the pipe behind `fd`, as `writev` would.
///
/// Checked first, so that the kernel only ever *reads* `bufs`: `fd` must be
/// open for writing (the write end of a pipe), and [`SpliceFlags::GIFT`] is
/// refused. Memory safety needs no more: the kernel takes references to the
/// pages (so freeing them is harmless) and never writes them.
///
/// **Not a snapshot.** The pipe holds references to the caller's pages, not
/// a copy of the bytes (measured on Linux 6.18, as since 2.6.17): bytes of
/// `bufs` changed after the call and before the reader consumes them are
/// read *changed*. Keep the buffers unchanged until the reader has them, or
/// use `write`/`writev` when the bytes must be fixed at the call.
///
/// The pipe's own `O_NONBLOCK` is ignored by `vmsplice`: only
/// [`SpliceFlags::NONBLOCK`] makes a full pipe fail with `EAGAIN` instead of
/// blocking. At most `UIO_MAXIOV` (1024) slices are passed.
///
/// # Errors
/// - [`Rule::VmspliceGift`]: `flags` holds `GIFT` (use
///   [`vmsplice_unchecked`]).
/// - [`Rule::VmspliceDirection`]: `fd` is not open for writing.
/// - `Os { call: "vmsplice" }`: `EBADF` (not a pipe, not open), `EAGAIN`
///   (`NONBLOCK` and full), `EINVAL` (unknown flags), `EPIPE`, `EINTR`,
///   `ENOMEM`; `Os { call: "fcntl" }` if `F_GETFL` fails.
///
/// # References
/// [vmsplice(2)](https://man7.org/linux/man-pages/man2/vmsplice.2.html)
pub fn vmsplice(fd: impl AsFd, bufs: &[IoSliceRaw<'_>], flags: SpliceFlags) -> Result<usize> {
    if flags.contains(SpliceFlags::GIFT) {
        return Err(Error::Rule(Rule::VmspliceGift));
    }
    let fd = fd.as_fd();
    if !writable(fd)? {
        return Err(Error::Rule(Rule::VmspliceDirection));
    }
    // SAFETY: `fd` is open for writing, so the kernel reads `bufs` (live
    // for the call) and writes nothing; GIFT is not set.
    unsafe { vmsplice_unchecked(fd, bufs, flags) }.call("vmsplice")
}

/// `vmsplice(fd, &iov, 1, flags)` out of a pipe: moves up to `buf.len()`
/// bytes from the pipe behind `fd` into `buf`, as `read` would.
///
/// `fd` must be open for reading only (the read end of a pipe): through a
/// descriptor open for writing the kernel goes the other way.
///
/// # Errors
/// - [`Rule::VmspliceGift`]: `flags` holds `GIFT` (meaningless here).
/// - [`Rule::VmspliceDirection`]: `fd` is open for writing.
/// - `Os { call: "vmsplice" }`: `EBADF` (not a pipe), `EAGAIN`
///   ([`SpliceFlags::NONBLOCK`] and empty; the pipe's `O_NONBLOCK` is
///   ignored), `EINTR`; `Os { call: "fcntl" }`.
///
/// # References
/// [vmsplice(2)](https://man7.org/linux/man-pages/man2/vmsplice.2.html)
pub fn vmsplice_read(fd: impl AsFd, buf: &mut [u8], flags: SpliceFlags) -> Result<usize> {
    if flags.contains(SpliceFlags::GIFT) {
        return Err(Error::Rule(Rule::VmspliceGift));
    }
    let fd = fd.as_fd();
    if writable(fd)? {
        return Err(Error::Rule(Rule::VmspliceDirection));
    }
    let iov = [IoSliceRaw::from_slice_mut(buf)];
    // SAFETY: `fd` is not open for writing, so the kernel writes into `buf`,
    // which is exclusively borrowed and live for the call; no GIFT.
    unsafe { vmsplice_unchecked(fd, &iov, flags) }.call("vmsplice")
}

/// Whether `fd` is open for writing (`O_WRONLY` or `O_RDWR`): then
/// `vmsplice` goes from memory to the pipe.
fn writable(fd: BorrowedFd<'_>) -> Result<bool> {
    let fl = rustix::fs::fcntl_getfl(fd).call("fcntl")?;
    Ok(fl & OFlags::ACCMODE != OFlags::RDONLY)
}

/// `vmsplice(fd, bufs, nr, flags)`, unchecked: every flag, either
/// direction.
///
/// Through a descriptor open for writing, the kernel reads `bufs` into the
/// pipe; through one open for reading only, it writes the pipe's bytes into
/// `bufs`. At most `UIO_MAXIOV` (1024) slices are passed.
///
/// # Errors
/// `EBADF`, `EAGAIN`, `EINVAL` (unknown flags), `EPIPE`, `EINTR`, `ENOMEM`.
///
/// # Safety
/// - If `fd` is not open for writing, the kernel writes into every slice
///   of `bufs`: each must be writable memory that nothing else reads or
///   writes during the call (built with `IoSliceRaw::from_slice_mut` from an
///   exclusive borrow).
/// - With [`SpliceFlags::GIFT`] (write direction), the pages of `bufs` are
///   given to the kernel: it may hand them to the pipe's reader, and to the
///   page cache when the reader splices them into a file, by reference.
///   From the call on, the memory must never be written again, by this
///   process or another that maps it, for as long as the mapping exists
///   (freeing it back to an allocator that reuses it counts as writing);
///   otherwise the reader, the page cache and the disk can see different
///   bytes. Each slice should be page-aligned and a whole number of pages
///   long, or the kernel copies instead of gifting.
///
/// # References
/// [vmsplice(2)](https://man7.org/linux/man-pages/man2/vmsplice.2.html)
pub unsafe fn vmsplice_unchecked(
    fd: impl AsFd,
    bufs: &[IoSliceRaw<'_>],
    flags: SpliceFlags,
) -> Result<usize, Errno> {
    // SAFETY: forwarded to the caller.
    unsafe { rustix::pipe::vmsplice(fd, bufs, flags.rustix()) }
}

/// `fcntl(fd, F_GETPIPE_SZ)`: the capacity of the pipe behind `fd`, in
/// bytes.
///
/// # Errors
/// `EBADF` when `fd` is not a pipe (or not open).
///
/// # References
/// [fcntl(2)](https://man7.org/linux/man-pages/man2/fcntl.2.html)
#[doc(alias = "F_GETPIPE_SZ")]
pub fn pipe_size(fd: impl AsFd) -> Result<usize, Errno> {
    rustix::pipe::fcntl_getpipe_size(fd)
}

/// `fcntl(fd, F_SETPIPE_SZ, size)`: sets the capacity of the pipe behind
/// `fd` to at least `size` bytes; returns the capacity set (a power of two
/// pages).
///
/// # Errors
/// - `EPERM`: growing past `/proc/sys/fs/pipe-max-size` without
///   `CAP_SYS_RESOURCE`, or the user's pipes hold more pages than
///   `pipe-user-pages-soft`/`-hard` allow without `CAP_SYS_RESOURCE` or
///   `CAP_SYS_ADMIN` ([`resize`] tells the two apart).
/// - `EINVAL`: `size` above [`MAX_PIPE_SIZE`] (checked before the call for
///   sizes the `int` argument cannot carry).
/// - `EBUSY`: the pipe holds more than the new size.
/// - `EBADF`: not a pipe; `ENOMEM`.
///
/// # References
/// [fcntl(2)](https://man7.org/linux/man-pages/man2/fcntl.2.html),
/// [pipe(7)](https://man7.org/linux/man-pages/man7/pipe.7.html)
#[doc(alias = "F_SETPIPE_SZ")]
pub fn set_pipe_size(fd: impl AsFd, size: usize) -> Result<usize, Errno> {
    if size > MAX_PIPE_SIZE - 1 {
        // The kernel's answer above 2^31; 2^31 itself does not fit `int`.
        return Err(Errno::INVAL);
    }
    rustix::pipe::fcntl_setpipe_size(fd, size)
}

/// Sets the capacity of the pipe behind `fd` (see [`set_pipe_size`]),
/// naming the limit an `EPERM` stands for.
///
/// # Errors
/// - [`Error::Limit`] with [`Limit::PipeMaxSize`]: `size` (rounded up to a
///   power of two pages) is above `/proc/sys/fs/pipe-max-size` and the
///   caller lacks `CAP_SYS_RESOURCE`.
/// - [`Error::Limit`] with [`Limit::PipeUserPages`]: within
///   `pipe-max-size`, but the user's pipes hold too many pages.
/// - `Os { call: "fcntl" }`: the other errnos of [`set_pipe_size`] (and
///   `EPERM` itself when `/proc` cannot be read to tell).
pub fn resize(fd: impl AsFd, size: usize) -> Result<usize> {
    match set_pipe_size(fd, size) {
        Ok(n) => Ok(n),
        Err(Errno::PERM) => {
            let limit = match max_size() {
                Some(max) if round_size(size) > max => Limit::PipeMaxSize,
                Some(_) => Limit::PipeUserPages,
                None => return Err(Error::os("fcntl", Errno::PERM)),
            };
            Err(Error::Limit {
                call: "fcntl",
                limit,
            })
        }
        Err(e) => Err(Error::os("fcntl", e)),
    }
}

/// The size the kernel compares with `pipe-max-size`: a power of two pages.
/// (Below a page the kernel rounds up to one page, which is never above
/// `pipe-max-size`; the next power of two is not either.)
fn round_size(size: usize) -> usize {
    size.checked_next_power_of_two().unwrap_or(usize::MAX)
}

/// `/proc/sys/fs/pipe-max-size`, if it can be read.
fn max_size() -> Option<usize> {
    let fd = rustix::fs::open(
        "/proc/sys/fs/pipe-max-size",
        OFlags::RDONLY | OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .ok()?;
    let mut buf = [0_u8; 24];
    let n = rustix::io::read(&fd, &mut buf).ok()?;
    let text = core::str::from_utf8(buf.get(..n)?).ok()?;
    text.trim().parse().ok()
}

/// An owned pipe: both ends, close-on-exec.
///
/// The ends are closed on drop. [`copy`] takes one to work through when
/// neither of its descriptors is a pipe.
#[derive(Debug)]
pub struct Pipe {
    read: OwnedFd,
    write: OwnedFd,
}

impl Pipe {
    /// `pipe2(O_CLOEXEC)`: a blocking pipe of the default size (16 pages).
    ///
    /// # Errors
    /// `Os { call: "pipe2" }`: `EMFILE`, `ENFILE`.
    pub fn new() -> Result<Self> {
        Self::with_flags(rustix::pipe::PipeFlags::CLOEXEC)
    }

    /// `pipe2(flags)`: exactly `flags` (add `CLOEXEC` yourself).
    ///
    /// # Errors
    /// `Os { call: "pipe2" }`: `EINVAL` (bad flags), `EMFILE`, `ENFILE`.
    pub fn with_flags(flags: rustix::pipe::PipeFlags) -> Result<Self> {
        let (read, write) = rustix::pipe::pipe_with(flags).call("pipe2")?;
        Ok(Self { read, write })
    }

    /// A close-on-exec pipe of at least `size` bytes.
    ///
    /// # Errors
    /// As [`Pipe::new`] and [`resize`].
    pub fn with_size(size: usize) -> Result<Self> {
        let p = Self::new()?;
        p.set_size(size)?;
        Ok(p)
    }

    /// The read end.
    #[must_use]
    pub fn read_end(&self) -> BorrowedFd<'_> {
        self.read.as_fd()
    }

    /// The write end.
    #[must_use]
    pub fn write_end(&self) -> BorrowedFd<'_> {
        self.write.as_fd()
    }

    /// The read end, closing the write end.
    #[must_use]
    pub fn into_read_end(self) -> OwnedFd {
        self.read
    }

    /// Both ends: `(read, write)`.
    #[must_use]
    pub fn into_ends(self) -> (OwnedFd, OwnedFd) {
        (self.read, self.write)
    }

    /// The capacity in bytes (`F_GETPIPE_SZ`).
    ///
    /// # Errors
    /// None in practice.
    pub fn size(&self) -> Result<usize> {
        pipe_size(&self.write).call("fcntl")
    }

    /// Sets the capacity (see [`resize`]); returns the capacity set.
    ///
    /// # Errors
    /// As [`resize`].
    pub fn set_size(&self, size: usize) -> Result<usize> {
        resize(&self.write, size)
    }

    /// The bytes waiting in the pipe (`FIONREAD`).
    ///
    /// # Errors
    /// None in practice.
    pub fn len(&self) -> Result<usize> {
        Ok(rustix::io::ioctl_fionread(&self.read).call("ioctl")? as usize)
    }

    /// Whether the pipe is empty.
    ///
    /// # Errors
    /// None in practice.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }
}

impl From<(OwnedFd, OwnedFd)> for Pipe {
    /// Adopts `(read, write)`, as [`Pipe::into_ends`] gives them.
    fn from((read, write): (OwnedFd, OwnedFd)) -> Self {
        Self { read, write }
    }
}
