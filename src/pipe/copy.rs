//! The copy loop: everything from one descriptor to another, by `splice`
//! where the kernel allows it and by `read`/`write` where it does not (the
//! steps are documented on [`Copier`]).

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::fd::{AsFd, BorrowedFd};
use rustix::fs::FileType;
use rustix::io::Errno;

use super::{Pipe, SpliceFlags, splice};
use crate::error::{Call, Error, Result};

/// The most one `splice` is asked to move (the kernel caps a transfer
/// below 2 GiB anyway).
const MAX_CHUNK: u64 = 1 << 30;

/// The size the internal pipe is grown to, where the limits allow.
const INTERNAL_PIPE: usize = 1 << 20;

/// The fallback buffer when the caller gives none.
const STACK_BUF: usize = 16 * 1024;

/// Copies everything from `from` to `to`, until end of input; returns the
/// bytes written to `to`. The same as `Copier::new().copy(from, to)`.
///
/// # Errors
/// See [`Copier::copy`].
///
/// # Example
/// ```
/// use std::io::{Read, Seek, Write};
///
/// let mut a = tempfile::tempfile()?;
/// let mut b = tempfile::tempfile()?;
/// a.write_all(b"copied by the kernel")?;
/// a.rewind()?;
/// assert_eq!(kernfd::pipe::copy(&a, &b)?, 20);
/// b.rewind()?;
/// let mut s = String::new();
/// b.read_to_string(&mut s)?;
/// assert_eq!(s, "copied by the kernel");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn copy(from: impl AsFd, to: impl AsFd) -> Result<u64> {
    Copier::new().copy(from, to)
}

/// A copy from any readable descriptor to any writable one, with its
/// options: the pipe to go through, the fallback buffer, a byte limit.
///
/// How it goes:
/// 1. Two regular files: `copy_file_range(2)` first (the kernel copies, or
///    shares extents where the filesystem can); where it refuses the pair
///    (another filesystem type, an `O_APPEND` output, overlap), on as
///    below.
/// 2. If either descriptor is a pipe, `splice` straight from one to the
///    other. Otherwise through a pipe (the caller's, or one made for the
///    call and grown to 1 MiB where the limits allow, which measured faster
///    than the default 64 KiB): `splice` the input into it, then `splice`
///    all of that out.
/// 3. Short transfers are continued; `EINTR` is retried.
/// 4. `EAGAIN` (a non-blocking end, empty or full) waits with `poll(2)` for
///    the end that is not ready, then goes on: the copy blocks like a copy
///    between blocking descriptors. (Returning early would strand bytes
///    already taken from the input in the internal pipe.)
/// 5. `EINVAL` from a `splice` (a pair the kernel cannot splice: an
///    `O_APPEND` output, a file type without splice support) switches to
///    `read`/`write` through a buffer, the caller's or 16 KiB on the stack,
///    for the rest of the copy. Bytes already in the internal pipe are
///    written out first, so nothing is lost or reordered.
///
/// Nothing is allocated.
///
/// Both descriptors are used at their current file positions, which advance
/// by what was copied (as with `read`/`write`).
#[derive(Debug, Default)]
#[must_use]
pub struct Copier<'a> {
    pipe: Option<&'a Pipe>,
    buf: Option<&'a mut [u8]>,
    limit: Option<u64>,
}

impl<'a> Copier<'a> {
    /// To end of input, through a pipe made for each call when needed (1 MiB
    /// where the limits allow), with a 16 KiB stack buffer for the fallback.
    pub const fn new() -> Self {
        Self {
            pipe: None,
            buf: None,
            limit: None,
        }
    }

    /// Go through `pipe` when neither descriptor is a pipe (no pipe is
    /// created then; a larger pipe moves more per call). The pipe must be
    /// empty; a successful copy leaves it empty. After an error writing to
    /// the output, bytes taken from the input may remain in it
    /// ([`Pipe::len`]).
    pub const fn pipe(mut self, pipe: &'a Pipe) -> Self {
        self.pipe = Some(pipe);
        self
    }

    /// Use `buf` for the `read`/`write` fallback instead of a stack buffer.
    /// An empty `buf` is ignored.
    pub fn buffer(mut self, buf: &'a mut [u8]) -> Self {
        self.buf = if buf.is_empty() { None } else { Some(buf) };
        self
    }

    /// Copy at most `limit` bytes.
    pub const fn limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Copies from `from` to `to` until end of input (or the limit);
    /// returns the bytes written to `to`.
    ///
    /// # Errors
    /// Each as `Os { call, errno }` with the call that failed: `fstat`;
    /// `pipe2` (making the internal pipe); `copy_file_range`, `splice`,
    /// `read` or `write` (`EBADF`: not open in that direction; `EISDIR`
    /// reading a directory; `EPIPE` for an output pipe or socket with no
    /// reader, after the kernel's `SIGPIPE`, which ends the process unless
    /// ignored as Rust programs do; `ENOSPC`; `EIO` when an output accepts
    /// zero bytes); `poll`. `EINTR` and `EAGAIN` are never returned. On
    /// error, the bytes copied so far are lost from the count, not from the
    /// output.
    pub fn copy(&mut self, from: impl AsFd, to: impl AsFd) -> Result<u64> {
        let (from, to) = (from.as_fd(), to.as_fd());
        let mut n = Progress {
            left: self.limit.unwrap_or(u64::MAX),
            done: 0,
        };
        let (kind_in, kind_out) = (kind(from)?, kind(to)?);
        if kind_in == FileType::RegularFile
            && kind_out == FileType::RegularFile
            && copy_file_range(from, to, &mut n)? == Spliced::Done
        {
            return Ok(n.done);
        }
        let through = if kind_in == FileType::Fifo || kind_out == FileType::Fifo {
            None
        } else if let Some(p) = self.pipe {
            Some(Through::Borrowed(p))
        } else {
            let p = Pipe::new()?;
            // A larger pipe moves more per call; the default will do when
            // the limits say no.
            let _ = p.set_size(INTERNAL_PIPE);
            Some(Through::Owned(p))
        };
        let spliced = match &through {
            None => direct(from, to, &mut n)?,
            Some(p) => via(from, p.get(), to, &mut n, self.buf.as_deref_mut())?,
        };
        if spliced == Spliced::Refused {
            match self.buf.as_deref_mut() {
                Some(buf) => read_write(from, to, buf, &mut n)?,
                None => read_write_stack(from, to, &mut n)?,
            }
        }
        Ok(n.done)
    }
}

/// The pipe a copy goes through.
enum Through<'a> {
    Borrowed(&'a Pipe),
    Owned(Pipe),
}

impl Through<'_> {
    fn get(&self) -> &Pipe {
        match self {
            Self::Borrowed(p) => p,
            Self::Owned(p) => p,
        }
    }
}

/// How far a copy is.
struct Progress {
    /// Bytes still allowed.
    left: u64,
    /// Bytes written to the output.
    done: u64,
}

/// How a splice loop ended.
#[derive(PartialEq, Eq)]
enum Spliced {
    /// End of input or limit reached.
    Done,
    /// The kernel refused the pair (`EINVAL`): go on with read/write.
    Refused,
}

fn kind(fd: BorrowedFd<'_>) -> Result<FileType> {
    let st = rustix::fs::fstat(fd).call("fstat")?;
    Ok(FileType::from_raw_mode(st.st_mode))
}

/// `copy_file_range` between two regular files until done; `Refused` (with
/// the progress so far kept) when the kernel will not do this pair.
fn copy_file_range(from: BorrowedFd<'_>, to: BorrowedFd<'_>, n: &mut Progress) -> Result<Spliced> {
    while n.left > 0 {
        match rustix::fs::copy_file_range(from, None, to, None, chunk(n.left)) {
            Ok(0) => break,
            Ok(k) => {
                n.left -= k as u64;
                n.done += k as u64;
            }
            Err(Errno::INTR) => {}
            // Another filesystem type or kernel, an O_APPEND output (EBADF),
            // overlapping ranges of one file, a file system without support.
            Err(Errno::XDEV | Errno::INVAL | Errno::OPNOTSUPP | Errno::NOSYS | Errno::BADF) => {
                return Ok(Spliced::Refused);
            }
            Err(e) => return Err(Error::os("copy_file_range", e)),
        }
    }
    Ok(Spliced::Done)
}

fn chunk(left: u64) -> usize {
    left.min(MAX_CHUNK) as usize
}

/// Splices straight from `from` to `to` (one is a pipe).
fn direct(from: BorrowedFd<'_>, to: BorrowedFd<'_>, n: &mut Progress) -> Result<Spliced> {
    while n.left > 0 {
        match splice(from, None, to, None, chunk(n.left), SpliceFlags::empty()) {
            Ok(0) => break,
            Ok(k) => {
                n.left -= k as u64;
                n.done += k as u64;
            }
            Err(Errno::INTR) => {}
            Err(Errno::AGAIN) => wait_either(from, to)?,
            Err(Errno::INVAL) => return Ok(Spliced::Refused),
            Err(e) => return Err(Error::os("splice", e)),
        }
    }
    Ok(Spliced::Done)
}

/// Splices `from` into `pipe`, then all of that into `to`, until done.
fn via(
    from: BorrowedFd<'_>,
    pipe: &Pipe,
    to: BorrowedFd<'_>,
    n: &mut Progress,
    buf: Option<&mut [u8]>,
) -> Result<Spliced> {
    let (r, w) = (pipe.read_end(), pipe.write_end());
    while n.left > 0 {
        let got = match splice(from, None, w, None, chunk(n.left), SpliceFlags::empty()) {
            Ok(0) => break,
            Ok(k) => k,
            Err(Errno::INTR) => continue,
            Err(Errno::AGAIN) => {
                wait(from, PollFlags::IN)?;
                continue;
            }
            Err(Errno::INVAL) => return Ok(Spliced::Refused),
            Err(e) => return Err(Error::os("splice", e)),
        };
        n.left -= got as u64;
        let mut pending = got;
        while pending > 0 {
            match splice(r, None, to, None, pending, SpliceFlags::empty()) {
                Ok(0) => return Err(Error::os("splice", Errno::IO)),
                Ok(k) => {
                    pending -= k;
                    n.done += k as u64;
                }
                Err(Errno::INTR) => {}
                Err(Errno::AGAIN) => wait(to, PollFlags::OUT)?,
                Err(Errno::INVAL) => {
                    // Write what the pipe holds with read/write, then let
                    // the caller go on the same way.
                    let mut drain = Progress {
                        left: pending as u64,
                        done: 0,
                    };
                    match buf {
                        Some(buf) => read_write(r, to, buf, &mut drain)?,
                        None => read_write_stack(r, to, &mut drain)?,
                    }
                    n.done += drain.done;
                    return Ok(Spliced::Refused);
                }
                Err(e) => return Err(Error::os("splice", e)),
            }
        }
    }
    Ok(Spliced::Done)
}

#[inline(never)]
fn read_write_stack(from: BorrowedFd<'_>, to: BorrowedFd<'_>, n: &mut Progress) -> Result<()> {
    let mut buf = [0_u8; STACK_BUF];
    read_write(from, to, &mut buf, n)
}

/// The ordinary copy: `read` into `buf`, `write` it all, until done.
fn read_write(
    from: BorrowedFd<'_>,
    to: BorrowedFd<'_>,
    buf: &mut [u8],
    n: &mut Progress,
) -> Result<()> {
    while n.left > 0 {
        let want = buf.len().min(chunk(n.left));
        let got = match rustix::io::read(from, &mut buf[..want]) {
            Ok(0) => break,
            Ok(k) => k,
            Err(Errno::INTR) => continue,
            Err(Errno::AGAIN) => {
                wait(from, PollFlags::IN)?;
                continue;
            }
            Err(e) => return Err(Error::os("read", e)),
        };
        n.left -= got as u64;
        let mut out = &buf[..got];
        while !out.is_empty() {
            match rustix::io::write(to, out) {
                Ok(0) => return Err(Error::os("write", Errno::IO)),
                Ok(k) => {
                    out = &out[k..];
                    n.done += k as u64;
                }
                Err(Errno::INTR) => {}
                Err(Errno::AGAIN) => wait(to, PollFlags::OUT)?,
                Err(e) => return Err(Error::os("write", e)),
            }
        }
    }
    Ok(())
}

/// Blocks until `fd` is ready for `events` (or hung up / in error, which
/// the next transfer reports).
fn wait(fd: BorrowedFd<'_>, events: PollFlags) -> Result<()> {
    let mut fds = [PollFd::new(&fd, events)];
    loop {
        match rustix::event::poll(&mut fds, None) {
            Ok(_) => return Ok(()),
            Err(Errno::INTR) => {}
            Err(e) => return Err(Error::os("poll", e)),
        }
    }
}

/// After `EAGAIN` from a splice between `from` and `to`: waits for whichever
/// of the two is not ready.
fn wait_either(from: BorrowedFd<'_>, to: BorrowedFd<'_>) -> Result<()> {
    let mut fds = [
        PollFd::new(&from, PollFlags::IN),
        PollFd::new(&to, PollFlags::OUT),
    ];
    let now = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    loop {
        match rustix::event::poll(&mut fds, Some(&now)) {
            Ok(_) => break,
            Err(Errno::INTR) => {}
            Err(e) => return Err(Error::os("poll", e)),
        }
    }
    if fds[0].revents().is_empty() {
        wait(from, PollFlags::IN)?;
    }
    if fds[1].revents().is_empty() {
        wait(to, PollFlags::OUT)?;
    }
    Ok(())
}
