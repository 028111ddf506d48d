//! The pure record layer: a bounds-checked walk over `signalfd_siginfo`
//! records (128 bytes each, fixed size).
//!
//! Nothing here makes a syscall. [`parse`] takes any bytes, at any
//! alignment; it never allocates, never panics and never reads out of
//! bounds. Every field is read on access with the record kit's `field!`,
//! at its offset in `abi::signalfd_siginfo`.

use core::fmt;

use super::ParseError;
use super::abi::signalfd_siginfo;
use crate::record::{Cursor, field, walk};
use crate::signal::Signal;

/// The size of one `struct signalfd_siginfo`: 128 bytes, always.
pub const SIGINFO_LEN: usize = size_of::<signalfd_siginfo>();

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
        cursor: Cursor::new(bytes),
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

/// Accessors, one a field of [`signalfd_siginfo`], each read with
/// `field!` (so the return type is checked against the struct's).
macro_rules! accessors {
    ($($(#[$m:meta])* $name:ident: $ty:ty = $field:ident;)*) => {$(
        $(#[$m])*
        #[inline]
        #[must_use]
        pub fn $name(&self) -> $ty {
            field!(self.raw, signalfd_siginfo, $field)
        }
    )*};
}

impl<'buf> Siginfo<'buf> {
    accessors! {
        /// `ssi_signo`: the signal number.
        signo: u32 = ssi_signo;
        /// `ssi_errno`: an error number (unused by Linux for most signals).
        errno: i32 = ssi_errno;
        /// `ssi_code`: why the signal was sent (`SI_USER` 0 for `kill`,
        /// `SI_QUEUE` -1 for `sigqueue`, `SI_TKILL` -6 for `tgkill`,
        /// `CLD_EXITED` 1 for a child's exit, ...).
        code: i32 = ssi_code;
        /// `ssi_pid`: the sender's process id.
        pid: u32 = ssi_pid;
        /// `ssi_uid`: the sender's real user id.
        uid: u32 = ssi_uid;
        /// `ssi_fd`: the file descriptor (`SIGIO`).
        fd: i32 = ssi_fd;
        /// `ssi_tid`: the kernel timer id (POSIX timers).
        tid: u32 = ssi_tid;
        /// `ssi_band`: the band event (`SIGIO`).
        band: u32 = ssi_band;
        /// `ssi_overrun`: the POSIX timer overrun count.
        overrun: u32 = ssi_overrun;
        /// `ssi_trapno`: the trap number that caused the signal.
        trapno: u32 = ssi_trapno;
        /// `ssi_status`: the exit status or signal (`SIGCHLD`).
        status: i32 = ssi_status;
        /// `ssi_int`: the integer sent by `sigqueue(3)`.
        int: i32 = ssi_int;
        /// `ssi_ptr`: the pointer sent by `sigqueue(3)`, as a number.
        ptr: u64 = ssi_ptr;
        /// `ssi_utime`: user CPU time consumed (`SIGCHLD`), in clock ticks.
        utime: u64 = ssi_utime;
        /// `ssi_stime`: system CPU time consumed (`SIGCHLD`), in clock ticks.
        stime: u64 = ssi_stime;
        /// `ssi_addr`: the address that caused the fault (hardware signals).
        addr: u64 = ssi_addr;
        /// `ssi_addr_lsb`: the least significant bit of the address
        /// (`SIGBUS` with `BUS_MCEERR_*`).
        addr_lsb: u16 = ssi_addr_lsb;
        /// `ssi_syscall`: the system call number (`SIGSYS` from seccomp).
        syscall: i32 = ssi_syscall;
        /// `ssi_call_addr`: the address of the system call instruction
        /// (`SIGSYS` from seccomp).
        call_addr: u64 = ssi_call_addr;
        /// `ssi_arch`: the `AUDIT_ARCH_*` of the system call (`SIGSYS`).
        arch: u32 = ssi_arch;
    }

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
        self.raw
            .get(core::mem::offset_of!(signalfd_siginfo, __pad)..)
            .unwrap_or_default()
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

walk! {
    /// The records in a filled buffer: an [`Iterator`] over borrowed
    /// [`Siginfo`]s. Made by [`parse`] and by
    /// [`SignalFd::read`](super::SignalFd::read).
    #[must_use = "a signalfd read takes signals from the kernel's queue; iterate them"]
    pub struct Siginfos<'buf>;
    pub(crate) const EMPTY;
}

impl Siginfos<'_> {
    /// How many whole records are left.
    #[must_use]
    pub fn remaining_records(&self) -> usize {
        self.cursor.rest().len() / SIGINFO_LEN
    }
}

impl<'buf> Iterator for Siginfos<'buf> {
    type Item = Result<Siginfo<'buf>, ParseError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let record = self.cursor.next_fixed()?;
        Some(record.map(|raw| Siginfo { raw }).map_err(ParseError::from))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.cursor.rest().len();
        let n = left.div_ceil(SIGINFO_LEN);
        (n, Some(n))
    }
}

impl ExactSizeIterator for Siginfos<'_> {}

#[cfg(test)]
#[path = "siginfo_tests.rs"]
mod tests;
