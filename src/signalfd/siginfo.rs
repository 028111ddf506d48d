//! The pure record layer: a bounds-checked walk over `signalfd_siginfo`
//! records (128 bytes each, fixed size).
//!
//! Nothing here makes a syscall. [`parse`] takes any bytes, at any
//! alignment; it never allocates, never panics and never reads out of
//! bounds. Every field is decoded with `from_ne_bytes` on access.

use core::fmt;
use core::iter::FusedIterator;

use crate::signal::Signal;

/// The size of one `struct signalfd_siginfo`: 128 bytes, always.
pub const SIGINFO_LEN: usize = 128;

/// Byte offsets of the fields of `struct signalfd_siginfo`
/// (`<linux/signalfd.h>`), checked against the layout in the unit tests.
mod off {
    pub(super) const SIGNO: usize = 0;
    pub(super) const ERRNO: usize = 4;
    pub(super) const CODE: usize = 8;
    pub(super) const PID: usize = 12;
    pub(super) const UID: usize = 16;
    pub(super) const FD: usize = 20;
    pub(super) const TID: usize = 24;
    pub(super) const BAND: usize = 28;
    pub(super) const OVERRUN: usize = 32;
    pub(super) const TRAPNO: usize = 36;
    pub(super) const STATUS: usize = 40;
    pub(super) const INT: usize = 44;
    pub(super) const PTR: usize = 48;
    pub(super) const UTIME: usize = 56;
    pub(super) const STIME: usize = 64;
    pub(super) const ADDR: usize = 72;
    pub(super) const ADDR_LSB: usize = 80;
    pub(super) const SYSCALL: usize = 84;
    pub(super) const CALL_ADDR: usize = 88;
    pub(super) const ARCH: usize = 96;
    /// Where the kernel's trailing padding starts.
    pub(super) const PAD: usize = 100;
}

/// Parses the bytes of zero or more `signalfd_siginfo` records.
///
/// Pure, with no syscall: `bytes` may come from a `read(2)` on a signalfd,
/// a file or a fuzzer, at any alignment. The iterator yields one
/// [`Siginfo`] per whole 128-byte record; a trailing partial record yields
/// one `Err(ParseError)` (with its offset), after which the iterator ends
/// and [`Siginfos::remainder`] holds the leftover bytes.
///
/// # Example
/// ```
/// use kernfd::signal::Signal;
/// use kernfd::signalfd::{parse, SIGINFO_LEN};
///
/// let mut record = [0_u8; SIGINFO_LEN];
/// record[..4].copy_from_slice(&15_u32.to_ne_bytes()); // ssi_signo = SIGTERM
/// record[12..16].copy_from_slice(&42_u32.to_ne_bytes()); // ssi_pid
///
/// let mut infos = parse(&record);
/// let info = infos.next().unwrap()?;
/// assert_eq!(info.signal(), Some(Signal::TERM));
/// assert_eq!(info.pid(), 42);
/// assert!(infos.next().is_none());
/// # Ok::<(), kernfd::signalfd::ParseError>(())
/// ```
#[inline]
pub fn parse(bytes: &[u8]) -> Siginfos<'_> {
    Siginfos {
        bytes,
        offset: 0,
        failed: false,
    }
}

/// One `signalfd_siginfo` record, borrowed from the buffer it was read into.
///
/// Every field of the kernel's struct has an accessor, and
/// [`as_bytes`](Self::as_bytes) gives all 128 bytes, padding included. Which
/// fields mean something depends on the signal and [`code`](Self::code);
/// see sigaction(2): `pid`/`uid` for signals sent by `kill` or `sigqueue`,
/// `int`/`ptr` for `sigqueue`, `status`/`utime`/`stime` for `SIGCHLD`,
/// `addr` for faults, `syscall`/`call_addr`/`arch` for `SIGSYS`.
#[doc(alias = "signalfd_siginfo")]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Siginfo<'buf> {
    raw: &'buf [u8; SIGINFO_LEN],
}

macro_rules! field {
    ($(#[$m:meta])* $name:ident: $ty:ty = $off:expr) => {
        $(#[$m])*
        #[inline]
        #[must_use]
        pub fn $name(&self) -> $ty {
            const N: usize = core::mem::size_of::<$ty>();
            let mut b = [0_u8; N];
            b.copy_from_slice(&self.raw[$off..$off + N]);
            <$ty>::from_ne_bytes(b)
        }
    };
}

impl<'buf> Siginfo<'buf> {
    field!(
        /// `ssi_signo`: the signal number.
        signo: u32 = off::SIGNO
    );
    field!(
        /// `ssi_errno`: an error number (unused by Linux for most signals).
        errno: i32 = off::ERRNO
    );
    field!(
        /// `ssi_code`: why the signal was sent (`SI_USER` 0 for `kill`,
        /// `SI_QUEUE` -1 for `sigqueue`, `SI_TKILL` -6 for `tgkill`,
        /// `CLD_EXITED` 1 for a child's exit, ...).
        code: i32 = off::CODE
    );
    field!(
        /// `ssi_pid`: the sender's process id.
        pid: u32 = off::PID
    );
    field!(
        /// `ssi_uid`: the sender's real user id.
        uid: u32 = off::UID
    );
    field!(
        /// `ssi_fd`: the file descriptor (`SIGIO`).
        fd: i32 = off::FD
    );
    field!(
        /// `ssi_tid`: the kernel timer id (POSIX timers).
        tid: u32 = off::TID
    );
    field!(
        /// `ssi_band`: the band event (`SIGIO`).
        band: u32 = off::BAND
    );
    field!(
        /// `ssi_overrun`: the POSIX timer overrun count.
        overrun: u32 = off::OVERRUN
    );
    field!(
        /// `ssi_trapno`: the trap number that caused the signal.
        trapno: u32 = off::TRAPNO
    );
    field!(
        /// `ssi_status`: the exit status or signal (`SIGCHLD`).
        status: i32 = off::STATUS
    );
    field!(
        /// `ssi_int`: the integer sent by `sigqueue(3)`.
        int: i32 = off::INT
    );
    field!(
        /// `ssi_ptr`: the pointer sent by `sigqueue(3)`, as a number.
        ptr: u64 = off::PTR
    );
    field!(
        /// `ssi_utime`: user CPU time consumed (`SIGCHLD`), in clock ticks.
        utime: u64 = off::UTIME
    );
    field!(
        /// `ssi_stime`: system CPU time consumed (`SIGCHLD`), in clock ticks.
        stime: u64 = off::STIME
    );
    field!(
        /// `ssi_addr`: the address that caused the fault (hardware signals).
        addr: u64 = off::ADDR
    );
    field!(
        /// `ssi_addr_lsb`: the least significant bit of the address
        /// (`SIGBUS` with `BUS_MCEERR_*`).
        addr_lsb: u16 = off::ADDR_LSB
    );
    field!(
        /// `ssi_syscall`: the system call number (`SIGSYS` from seccomp).
        syscall: i32 = off::SYSCALL
    );
    field!(
        /// `ssi_call_addr`: the address of the system call instruction
        /// (`SIGSYS` from seccomp).
        call_addr: u64 = off::CALL_ADDR
    );
    field!(
        /// `ssi_arch`: the `AUDIT_ARCH_*` of the system call (`SIGSYS`).
        arch: u32 = off::ARCH
    );

    /// The signal, or `None` if `ssi_signo` is not 1 to 64 (which the
    /// kernel never writes, but arbitrary bytes may hold).
    #[inline]
    #[must_use]
    pub fn signal(&self) -> Option<Signal> {
        Signal::from_raw(self.signo())
    }

    /// The whole record, all 128 bytes, padding included.
    #[inline]
    #[must_use]
    pub fn as_bytes(&self) -> &'buf [u8; SIGINFO_LEN] {
        self.raw
    }

    /// The 28 bytes of padding after `ssi_arch` (zero from today's kernels;
    /// room for fields of future ones).
    #[inline]
    #[must_use]
    pub fn padding(&self) -> &'buf [u8] {
        &self.raw[off::PAD..]
    }
}

impl fmt::Debug for Siginfo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Siginfo")
            .field("signo", &self.signo())
            .field("errno", &self.errno())
            .field("code", &self.code())
            .field("pid", &self.pid())
            .field("uid", &self.uid())
            .field("fd", &self.fd())
            .field("tid", &self.tid())
            .field("band", &self.band())
            .field("overrun", &self.overrun())
            .field("trapno", &self.trapno())
            .field("status", &self.status())
            .field("int", &self.int())
            .field("ptr", &self.ptr())
            .field("utime", &self.utime())
            .field("stime", &self.stime())
            .field("addr", &self.addr())
            .field("addr_lsb", &self.addr_lsb())
            .field("syscall", &self.syscall())
            .field("call_addr", &self.call_addr())
            .field("arch", &self.arch())
            .finish_non_exhaustive()
    }
}

/// `SIGTERM from pid 42 uid 0 code 0`.
impl fmt::Display for Siginfo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.signal() {
            Some(s) => write!(f, "{s}")?,
            None => write!(f, "signal {}", self.signo())?,
        }
        write!(
            f,
            " from pid {} uid {} code {}",
            self.pid(),
            self.uid(),
            self.code()
        )
    }
}

/// A trailing partial record: where it starts and how many bytes it has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ParseError {
    offset: usize,
    available: usize,
}

impl ParseError {
    /// Byte offset of the partial record, from the start of the input.
    #[must_use]
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// How many bytes were left (fewer than [`SIGINFO_LEN`]).
    #[must_use]
    pub fn available(&self) -> usize {
        self.available
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "truncated signalfd_siginfo at byte {}: {} bytes left, a record needs {SIGINFO_LEN}",
            self.offset, self.available
        )
    }
}

impl core::error::Error for ParseError {}

/// The records in a filled buffer: an [`Iterator`] over borrowed
/// [`Siginfo`]s. Made by [`parse`] and by
/// [`SignalFd::read`](super::SignalFd::read).
#[derive(Clone, Debug)]
#[must_use = "a signalfd read takes signals from the kernel's queue; iterate them"]
pub struct Siginfos<'buf> {
    bytes: &'buf [u8],
    offset: usize,
    failed: bool,
}

impl<'buf> Siginfos<'buf> {
    /// Records over nothing.
    pub(crate) const EMPTY: Siginfos<'static> = Siginfos {
        bytes: &[],
        offset: 0,
        failed: false,
    };

    /// The bytes not yet consumed: empty once every record was yielded, the
    /// partial record after a [`ParseError`].
    #[must_use]
    pub fn remainder(&self) -> &'buf [u8] {
        self.bytes.get(self.offset..).unwrap_or_default()
    }

    /// How many bytes were consumed so far.
    #[must_use]
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Whether nothing is left to yield.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.failed || self.offset >= self.bytes.len()
    }

    /// How many whole records are left.
    #[must_use]
    pub fn remaining_records(&self) -> usize {
        if self.failed {
            0
        } else {
            self.remainder().len() / SIGINFO_LEN
        }
    }
}

impl<'buf> Iterator for Siginfos<'buf> {
    type Item = Result<Siginfo<'buf>, ParseError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let rest = self.bytes.get(self.offset..)?;
        if rest.is_empty() {
            return None;
        }
        if let Some(raw) = rest.first_chunk::<SIGINFO_LEN>() {
            self.offset += SIGINFO_LEN;
            Some(Ok(Siginfo { raw }))
        } else {
            self.failed = true;
            Some(Err(ParseError {
                offset: self.offset,
                available: rest.len(),
            }))
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.failed {
            return (0, Some(0));
        }
        let left = self.remainder().len();
        let whole = left / SIGINFO_LEN;
        let n = whole + usize::from(left % SIGINFO_LEN != 0);
        (n, Some(n))
    }
}

impl ExactSizeIterator for Siginfos<'_> {}
impl FusedIterator for Siginfos<'_> {}

#[cfg(test)]
#[path = "siginfo_tests.rs"]
mod tests;
