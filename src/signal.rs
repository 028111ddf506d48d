//! Signals, the kernel's signal set, and the calling thread's signal mask.
//!
//! - [`Signal`] is a signal number (1 to 64), printed by name as `kill -l`
//!   prints it (`SIGINT`, `SIGRTMIN+3`, `SIGRTMAX-2`).
//! - [`SigSet`] is the kernel's own `sigset_t`: one 64-bit word, 8 bytes, bit
//!   `n - 1` for signal `n`. (glibc's `sigset_t` is 128 bytes; the kernel
//!   rejects that size with `EINVAL`, which is why kernfd passes 8.)
//! - [`block`], [`unblock`], [`set_thread_mask`] and [`thread_mask`] change or read
//!   the calling thread's mask with `rt_sigprocmask`, returning the previous
//!   mask: Butter's `pthread_sigmask`, per thread, never per process.
//! - [`pending`], [`sigtimedwait`] and [`raise`]: `rt_sigpending`, `rt_sigtimedwait`
//!   and a thread-directed `tgkill` to the calling thread.
//!
//! # The C library's signals
//!
//! The C libraries keep the kernel's first real-time signals for
//! themselves (thread cancellation, `setxid` broadcasts across threads,
//! timers): **glibc** keeps 32 and 33 (its `SIGRTMIN` is 34), **musl** keeps
//! 32, 33 and 34 (its `SIGRTMIN` is 35). Blocking one, or taking it from the
//! queue through a signalfd, silently breaks `pthread_cancel` or `setuid`
//! in a threaded program. So every safe call here refuses a set that holds
//! one of [`RESERVED`] with [`Error::ReservedSignal`], before the kernel
//! sees it; [`SigSet::fill`] leaves them out, as `sigfillset` does.
//!
//! Which signals are reserved follows the C library the program is built
//! against (`target_env`): `gnu` → 32–33, `musl` → 32–34, anything else
//! (no C library) → none. A program that links no C library on a `gnu` or
//! `musl` target (a `#![no_std]`, `#![no_main]` static binary) says so with
//! `RUSTFLAGS='--cfg kernfd_libc="none"'` (or `"glibc"`, `"musl"` to force
//! one). One call at a time, [`sigprocmask_unchecked`] and
//! [`signalfd::create`](crate::signalfd::create) take any signal.
//!
//! [`Signal::rtmin`] is the C library's `SIGRTMIN` (the first signal after
//! the reserved ones): [`Signal::rt`] counts from it, and `Display` prints
//! real-time signals as bash's `kill -l` does on the same C library.
//!
//! # Example
//! ```
//! use kernfd::signal::{self, SigSet, Signal};
//!
//! std::thread::spawn(|| {
//!     let old = signal::block(&SigSet::from([Signal::USR1, Signal::USR2]))?;
//!     assert!(signal::thread_mask()?.contains(Signal::USR1));
//!     signal::set_thread_mask(&old)?; // back to what it was
//!     assert!(!signal::thread_mask()?.contains(Signal::USR1));
//!     Ok::<(), kernfd::Error>(())
//! })
//! .join()
//! .unwrap()?;
//! # Ok::<(), kernfd::Error>(())
//! ```
//!
//! # References
//! [signal(7)](https://man7.org/linux/man-pages/man7/signal.7.html),
//! [sigprocmask(2)](https://man7.org/linux/man-pages/man2/sigprocmask.2.html)

use core::fmt;
use core::iter::FusedIterator;
use core::time::Duration;

use linux_raw_sys::general as c;
use rustix::io::Errno;

use crate::error::{Call, Error};
use crate::raw;

/// The size of the kernel's signal set in bytes, the `sigsetsize` argument
/// every `rt_sig*` call and `signalfd4` take.
pub const SIGSET_SIZE: usize = 8;

/// The highest signal number (`_NSIG`, 64 on `x86_64` and `aarch64`).
pub const NSIG: u8 = 64;

/// The signals the C library keeps for itself: 32 and 33 for glibc, 32 to
/// 34 for musl, none without a C library (see the [module docs](self) for
/// how it is chosen). Refused by every safe call of this module and of
/// [`signalfd`](crate::signalfd).
pub const RESERVED: SigSet = SigSet(match LIBC {
    Libc::Glibc => 0b11 << 31,
    Libc::Musl => 0b111 << 31,
    Libc::None => 0,
});

/// The C library whose reserved signals kernfd respects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Libc {
    Glibc,
    Musl,
    None,
}

const LIBC: Libc = if cfg!(kernfd_libc = "none") {
    Libc::None
} else if cfg!(kernfd_libc = "glibc") {
    Libc::Glibc
} else if cfg!(kernfd_libc = "musl") {
    Libc::Musl
} else if cfg!(target_env = "gnu") {
    Libc::Glibc
} else if cfg!(target_env = "musl") {
    Libc::Musl
} else {
    Libc::None
};

/// A signal number, 1 to 64.
///
/// The standard signals have constants (`Signal::INT` is `SIGINT`); the
/// real-time ones come from [`Signal::rt`] or [`Signal::new`]. Display prints
/// the name bash's `kill -l` prints: `SIGINT`; `SIGRTMIN+3` and
/// `SIGRTMAX-2` counting from the C library's `SIGRTMIN`
/// ([`Signal::rtmin`]: 34 with glibc, 35 with musl) and `SIGRTMAX` (64);
/// `SIG32` for a signal the C library reserves.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Signal(u8);

macro_rules! signals {
    ($($(#[doc = $doc:literal])* $name:ident = $c:ident;)*) => {
        impl Signal {
            $(
                $(#[doc = $doc])*
                pub const $name: Self = Self(c::$c as u8);
            )*

            /// The C name of a standard signal (`"SIGINT"`), `None` for a
            /// real-time one.
            #[must_use]
            pub const fn name(self) -> Option<&'static str> {
                match self.0 as u32 {
                    $(c::$c => Some(stringify!($c)),)*
                    _ => None,
                }
            }
        }
    };
}

signals! {
    /// `SIGHUP`: hangup of the controlling terminal, or "reload" by convention.
    HUP = SIGHUP;
    /// `SIGINT`: interrupt from the keyboard (Ctrl-C).
    INT = SIGINT;
    /// `SIGQUIT`: quit from the keyboard (Ctrl-\), with a core dump.
    QUIT = SIGQUIT;
    /// `SIGILL`: illegal instruction.
    ILL = SIGILL;
    /// `SIGTRAP`: trace or breakpoint trap.
    TRAP = SIGTRAP;
    /// `SIGABRT`: `abort()`.
    ABRT = SIGABRT;
    /// `SIGBUS`: bad memory access.
    BUS = SIGBUS;
    /// `SIGFPE`: arithmetic exception.
    FPE = SIGFPE;
    /// `SIGKILL`: kill; cannot be caught, blocked or read from a signalfd.
    KILL = SIGKILL;
    /// `SIGUSR1`: user-defined signal 1.
    USR1 = SIGUSR1;
    /// `SIGSEGV`: invalid memory reference.
    SEGV = SIGSEGV;
    /// `SIGUSR2`: user-defined signal 2.
    USR2 = SIGUSR2;
    /// `SIGPIPE`: write to a pipe with no reader.
    PIPE = SIGPIPE;
    /// `SIGALRM`: timer from `alarm()`.
    ALRM = SIGALRM;
    /// `SIGTERM`: termination request.
    TERM = SIGTERM;
    /// `SIGSTKFLT`: unused coprocessor stack fault.
    STKFLT = SIGSTKFLT;
    /// `SIGCHLD`: a child stopped, continued or ended.
    CHLD = SIGCHLD;
    /// `SIGCONT`: continue if stopped.
    CONT = SIGCONT;
    /// `SIGSTOP`: stop; cannot be caught, blocked or read from a signalfd.
    STOP = SIGSTOP;
    /// `SIGTSTP`: stop typed at the terminal (Ctrl-Z).
    TSTP = SIGTSTP;
    /// `SIGTTIN`: terminal input for a background process.
    TTIN = SIGTTIN;
    /// `SIGTTOU`: terminal output for a background process.
    TTOU = SIGTTOU;
    /// `SIGURG`: urgent data on a socket.
    URG = SIGURG;
    /// `SIGXCPU`: CPU time limit exceeded.
    XCPU = SIGXCPU;
    /// `SIGXFSZ`: file size limit exceeded.
    XFSZ = SIGXFSZ;
    /// `SIGVTALRM`: virtual alarm clock.
    VTALRM = SIGVTALRM;
    /// `SIGPROF`: profiling timer expired.
    PROF = SIGPROF;
    /// `SIGWINCH`: the terminal window was resized.
    WINCH = SIGWINCH;
    /// `SIGIO`: I/O is possible (`SIGPOLL`).
    IO = SIGIO;
    /// `SIGPWR`: power failure.
    PWR = SIGPWR;
    /// `SIGSYS`: bad system call (also what seccomp's `SECCOMP_RET_TRAP` sends).
    SYS = SIGSYS;
}

impl Signal {
    /// The kernel's first real-time signal, 32 (`__SIGRTMIN`). The C
    /// libraries' `SIGRTMIN` is higher ([`Signal::rtmin`]).
    pub const KERNEL_RTMIN: u8 = 32;

    /// `SIGRTMAX`, 64.
    pub const RTMAX: Self = Self(NSIG);

    /// The C library's `SIGRTMIN`: the first real-time signal it leaves to
    /// programs (34 with glibc, 35 with musl, 32 without a C library).
    #[must_use]
    pub const fn rtmin() -> Self {
        Self(Self::KERNEL_RTMIN + RESERVED.len() as u8)
    }

    /// The signal numbered `n`, or `None` unless `1 <= n <= 64`.
    #[must_use]
    pub const fn new(n: u8) -> Option<Self> {
        if n >= 1 && n <= NSIG {
            Some(Self(n))
        } else {
            None
        }
    }

    /// The signal numbered `n` as the kernel reports it (an `int` or `u32`),
    /// or `None` unless `1 <= n <= 64`.
    #[must_use]
    pub const fn from_raw(n: u32) -> Option<Self> {
        if n >= 1 && n <= NSIG as u32 {
            Some(Self(n as u8))
        } else {
            None
        }
    }

    /// Real-time signal `SIGRTMIN + i`, counted from the C library's
    /// `SIGRTMIN` ([`Signal::rtmin`]), as C's `SIGRTMIN + i` is: with glibc
    /// `rt(0)` is 34 and `rt(30)` is 64; `None` beyond 64.
    #[must_use]
    pub const fn rt(i: u8) -> Option<Self> {
        let base = Self::rtmin().0;
        if i <= NSIG - base {
            Some(Self(base + i))
        } else {
            None
        }
    }

    /// The signal number.
    #[must_use]
    pub const fn as_raw(self) -> u8 {
        self.0
    }

    /// Whether the C library reserves this signal ([`RESERVED`]).
    #[must_use]
    pub const fn is_reserved(self) -> bool {
        RESERVED.contains(self)
    }

    /// Whether this is a real-time signal (32–64). Real-time signals queue;
    /// standard signals (1–31) coalesce: while one is pending, another of the
    /// same number is merged into it.
    #[must_use]
    pub const fn is_realtime(self) -> bool {
        self.0 >= Self::KERNEL_RTMIN
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = self.name() {
            return f.write_str(name);
        }
        let (min, max) = (Self::rtmin().0, NSIG);
        match self.0 {
            n if n < min => write!(f, "SIG{n}"),
            n if n == min => f.write_str("SIGRTMIN"),
            n if n == max => f.write_str("SIGRTMAX"),
            // bash's rule: the lower half counts up from SIGRTMIN, the upper
            // half down from SIGRTMAX.
            n if n - min <= (max - min) / 2 => write!(f, "SIGRTMIN+{}", n - min),
            n => write!(f, "SIGRTMAX-{}", max - n),
        }
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signal({}, {self})", self.0)
    }
}

impl From<Signal> for u8 {
    fn from(s: Signal) -> Self {
        s.0
    }
}

impl From<Signal> for i32 {
    fn from(s: Signal) -> Self {
        i32::from(s.0)
    }
}

impl TryFrom<i32> for Signal {
    type Error = Errno;
    /// `EINVAL` unless `1 <= n <= 64`, as the kernel says for a bad signal.
    fn try_from(n: i32) -> Result<Self, Errno> {
        u32::try_from(n)
            .ok()
            .and_then(Self::from_raw)
            .ok_or(Errno::INVAL)
    }
}

/// A set of signals: the kernel's 8-byte `sigset_t` (`kernel_sigset_t`).
///
/// `Copy`, no heap, `const` where it can be. Iterates in signal order.
///
/// ```
/// use kernfd::signal::{SigSet, Signal};
///
/// let mut set = SigSet::empty();
/// set.add(Signal::INT);
/// set.add(Signal::TERM);
/// assert!(set.contains(Signal::INT));
/// set.remove(Signal::INT);
/// let list: Vec<Signal> = set.into_iter().collect();
/// assert_eq!(list, [Signal::TERM]);
/// assert_eq!(SigSet::from_iter(list), set);
/// assert_eq!(set.to_string(), "{SIGTERM}");
/// ```
#[doc(alias = "sigset_t")]
#[doc(alias = "kernel_sigset_t")]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(transparent)]
pub struct SigSet(u64);

impl SigSet {
    /// No signal (`sigemptyset`).
    #[doc(alias = "sigemptyset")]
    #[must_use]
    pub const fn empty() -> Self {
        Self(0)
    }

    /// Every signal except the C libraries' reserved 32–34 (`sigfillset`,
    /// as musl defines it). Blocking it blocks all that can be blocked
    /// (`SIGKILL` and `SIGSTOP` never are: the kernel drops them silently).
    #[doc(alias = "sigfillset")]
    #[must_use]
    pub const fn fill() -> Self {
        Self(!RESERVED.0)
    }

    /// Every signal, 1 to 64, the reserved ones included.
    #[must_use]
    pub const fn all() -> Self {
        Self(!0)
    }

    /// The set whose kernel bits are `bits` (bit `n - 1` for signal `n`).
    #[must_use]
    pub const fn from_bits(bits: u64) -> Self {
        Self(bits)
    }

    /// The kernel bits.
    #[must_use]
    pub const fn bits(self) -> u64 {
        self.0
    }

    const fn bit(s: Signal) -> u64 {
        1 << (s.0 - 1)
    }

    /// Adds `sig` (`sigaddset`); returns whether it was absent.
    #[doc(alias = "sigaddset")]
    pub fn add(&mut self, sig: Signal) -> bool {
        let absent = !self.contains(sig);
        self.0 |= Self::bit(sig);
        absent
    }

    /// Removes `sig` (`sigdelset`); returns whether it was present.
    #[doc(alias = "sigdelset")]
    pub fn remove(&mut self, sig: Signal) -> bool {
        let present = self.contains(sig);
        self.0 &= !Self::bit(sig);
        present
    }

    /// `self` with `sig` added, for `const` use.
    #[must_use]
    pub const fn with(self, sig: Signal) -> Self {
        Self(self.0 | Self::bit(sig))
    }

    /// `self` without `sig`, for `const` use.
    #[must_use]
    pub const fn without(self, sig: Signal) -> Self {
        Self(self.0 & !Self::bit(sig))
    }

    /// Whether `sig` is in the set (`sigismember`).
    #[doc(alias = "sigismember")]
    #[must_use]
    pub const fn contains(self, sig: Signal) -> bool {
        self.0 & Self::bit(sig) != 0
    }

    /// Whether the set is empty (`sigisemptyset`).
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The number of signals in the set.
    #[must_use]
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Signals in either set.
    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Signals in both sets.
    #[must_use]
    pub const fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// Signals in `self` but not in `other`.
    #[must_use]
    pub const fn difference(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    /// The set's signals in increasing order.
    #[must_use]
    pub fn iter(self) -> Iter {
        Iter(self.0)
    }

    /// The lowest reserved signal in the set, if any.
    #[must_use]
    pub fn first_reserved(self) -> Option<Signal> {
        self.intersection(RESERVED).iter().next()
    }

    /// Writes the set's signals to the front of `out` and returns that part:
    /// a list without a heap.
    pub fn to_slice(self, out: &mut [Signal; NSIG as usize]) -> &[Signal] {
        let mut n = 0;
        for (slot, sig) in out.iter_mut().zip(self) {
            *slot = sig;
            n += 1;
        }
        &out[..n]
    }

    /// The set's signals as a `Vec`.
    #[cfg(feature = "alloc")]
    #[must_use]
    pub fn to_vec(self) -> alloc::vec::Vec<Signal> {
        self.iter().collect()
    }
}

/// An iterator over a [`SigSet`]'s signals, in increasing order.
#[derive(Clone, Debug)]
pub struct Iter(u64);

impl Iterator for Iter {
    type Item = Signal;
    fn next(&mut self) -> Option<Signal> {
        if self.0 == 0 {
            return None;
        }
        let i = self.0.trailing_zeros();
        self.0 &= self.0 - 1;
        Some(Signal(i as u8 + 1))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.0.count_ones() as usize;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Iter {}
impl FusedIterator for Iter {}

impl IntoIterator for SigSet {
    type Item = Signal;
    type IntoIter = Iter;
    fn into_iter(self) -> Iter {
        self.iter()
    }
}

impl FromIterator<Signal> for SigSet {
    fn from_iter<I: IntoIterator<Item = Signal>>(iter: I) -> Self {
        let mut set = Self::empty();
        set.extend(iter);
        set
    }
}

impl Extend<Signal> for SigSet {
    fn extend<I: IntoIterator<Item = Signal>>(&mut self, iter: I) {
        for s in iter {
            self.add(s);
        }
    }
}

impl<const N: usize> From<[Signal; N]> for SigSet {
    fn from(list: [Signal; N]) -> Self {
        list.into_iter().collect()
    }
}

impl From<&[Signal]> for SigSet {
    fn from(list: &[Signal]) -> Self {
        list.iter().copied().collect()
    }
}

impl From<Signal> for SigSet {
    fn from(s: Signal) -> Self {
        Self::empty().with(s)
    }
}

impl core::ops::BitOr for SigSet {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        self.union(rhs)
    }
}

impl core::ops::BitOr<Signal> for SigSet {
    type Output = Self;
    fn bitor(self, rhs: Signal) -> Self {
        self.with(rhs)
    }
}

/// `{SIGINT, SIGTERM}`.
impl fmt::Display for SigSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, s) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            fmt::Display::fmt(&s, f)?;
        }
        f.write_str("}")
    }
}

impl fmt::Debug for SigSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigSet({self})")
    }
}

/// What [`sigprocmask`] does with its set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum How {
    /// `SIG_BLOCK`: add the set to the mask.
    Block,
    /// `SIG_UNBLOCK`: remove the set from the mask.
    Unblock,
    /// `SIG_SETMASK`: make the set the mask.
    SetMask,
}

impl How {
    const fn raw(self) -> usize {
        (match self {
            Self::Block => c::SIG_BLOCK,
            Self::Unblock => c::SIG_UNBLOCK,
            Self::SetMask => c::SIG_SETMASK,
        }) as usize
    }
}

/// `rt_sigprocmask(how, set, &old, 8)`: changes the calling thread's signal
/// mask as `how` says (or only reads it when `set` is `None`); returns the
/// previous mask.
///
/// This is `pthread_sigmask`: it affects the calling thread only. New
/// threads inherit the mask of the thread that creates them, so block the
/// signals a signalfd reads in `main` before spawning any thread.
///
/// # Errors
/// [`Error::ReservedSignal`] when `set` holds a [reserved](RESERVED) signal, before any
/// syscall. The kernel's `EINVAL` (bad `how`, bad size) and `EFAULT` cannot
/// happen through this signature.
///
/// # References
/// [sigprocmask(2)](https://man7.org/linux/man-pages/man2/sigprocmask.2.html),
/// [pthread_sigmask(3)](https://man7.org/linux/man-pages/man3/pthread_sigmask.3.html)
#[doc(alias = "rt_sigprocmask")]
#[doc(alias = "pthread_sigmask")]
pub fn sigprocmask(how: How, set: Option<&SigSet>) -> Result<SigSet, Error> {
    if let Some(s) = set.and_then(|s| s.first_reserved()) {
        return Err(Error::ReservedSignal(s));
    }
    // SAFETY: no reserved signal is in the set.
    unsafe { sigprocmask_unchecked(how, set) }.call("rt_sigprocmask")
}

/// [`sigprocmask`] without the reserved-signal check.
///
/// # Errors
/// None in practice (see [`sigprocmask`]).
///
/// # Safety
/// Blocking or unblocking a [reserved](RESERVED) signal interferes with the C library (if
/// any is linked) that owns them: thread cancellation, `setuid` in threaded
/// programs and POSIX timers can hang or misbehave. The caller must know no
/// C library in the process relies on the signals it changes.
///
/// # References
/// [sigprocmask(2)](https://man7.org/linux/man-pages/man2/sigprocmask.2.html)
pub unsafe fn sigprocmask_unchecked(how: How, set: Option<&SigSet>) -> Result<SigSet, Errno> {
    let mut old = SigSet::empty();
    let set_ptr = set.map_or(0, |s| core::ptr::from_ref(&s.0) as usize);
    // SAFETY: `set_ptr` is null or points to 8 readable bytes, `old` to 8
    // writable ones, both live across the call; the size is the kernel's.
    raw::check(unsafe {
        raw::syscall4(
            raw::nr::__NR_rt_sigprocmask as usize,
            how.raw(),
            set_ptr,
            core::ptr::from_mut(&mut old.0) as usize,
            SIGSET_SIZE,
        )
    })?;
    Ok(old)
}

/// Blocks `set` in the calling thread (`SIG_BLOCK`); returns the previous
/// mask.
///
/// # Errors
/// [`Error::ReservedSignal`] for a [reserved](RESERVED) signal.
///
/// # Example
/// ```
/// use kernfd::signal::{self, SigSet, Signal};
///
/// std::thread::spawn(|| {
///     let old = signal::block(&SigSet::from(Signal::TERM))?;
///     signal::raise(Signal::TERM)?; // blocked: pending, not fatal
///     assert!(signal::pending()?.contains(Signal::TERM));
///     assert_eq!(signal::sigtimedwait(&SigSet::from(Signal::TERM), None)?, Signal::TERM);
///     signal::set_thread_mask(&old)?;
///     Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// })
/// .join()
/// .unwrap()
/// .unwrap();
/// ```
///
/// # References
/// [sigprocmask(2)](https://man7.org/linux/man-pages/man2/sigprocmask.2.html)
pub fn block(set: &SigSet) -> Result<SigSet, Error> {
    sigprocmask(How::Block, Some(set))
}

/// Unblocks `set` in the calling thread (`SIG_UNBLOCK`); returns the
/// previous mask. A pending signal that becomes unblocked is delivered
/// before this returns.
///
/// # Errors
/// [`Error::ReservedSignal`] for a [reserved](RESERVED) signal.
///
/// # References
/// [sigprocmask(2)](https://man7.org/linux/man-pages/man2/sigprocmask.2.html)
pub fn unblock(set: &SigSet) -> Result<SigSet, Error> {
    sigprocmask(How::Unblock, Some(set))
}

/// Makes `set` the calling thread's mask (`SIG_SETMASK`); returns the
/// previous mask.
///
/// # Errors
/// [`Error::ReservedSignal`] for a [reserved](RESERVED) signal.
///
/// # References
/// [sigprocmask(2)](https://man7.org/linux/man-pages/man2/sigprocmask.2.html)
#[doc(alias = "set_mask")]
pub fn set_thread_mask(set: &SigSet) -> Result<SigSet, Error> {
    sigprocmask(How::SetMask, Some(set))
}

/// The calling thread's mask, unchanged.
///
/// # Errors
/// None in practice.
///
/// # References
/// [sigprocmask(2)](https://man7.org/linux/man-pages/man2/sigprocmask.2.html)
pub fn thread_mask() -> Result<SigSet, Error> {
    // SAFETY: with no set nothing changes.
    unsafe { sigprocmask_unchecked(How::Block, None) }.call("rt_sigprocmask")
}

/// `rt_sigpending(&set, 8)`: the signals pending for the calling thread or
/// the process while blocked.
///
/// # Errors
/// None in practice.
///
/// # References
/// [sigpending(2)](https://man7.org/linux/man-pages/man2/sigpending.2.html)
#[doc(alias = "rt_sigpending")]
#[doc(alias = "sigpending")]
pub fn pending() -> Result<SigSet, Errno> {
    let mut set = SigSet::empty();
    // SAFETY: `set` is 8 writable bytes for the call's duration.
    raw::check(unsafe {
        raw::syscall2(
            raw::nr::__NR_rt_sigpending as usize,
            core::ptr::from_mut(&mut set.0) as usize,
            SIGSET_SIZE,
        )
    })?;
    Ok(set)
}

/// `rt_sigtimedwait(set, NULL, timeout, 8)`: takes one pending signal of
/// `set` from the queue, waiting up to `timeout` (`None`: forever) for one;
/// returns which.
///
/// The signals of `set` should be blocked, or they may be delivered
/// (handled or fatal) instead of waited for.
///
/// # Errors
/// `EAGAIN` when the timeout passed, `EINTR` when a handler for another
/// signal ran, [`Error::ReservedSignal`] for a [reserved](RESERVED) signal.
///
/// # References
/// [sigtimedwait(2)](https://man7.org/linux/man-pages/man2/sigtimedwait.2.html)
#[doc(alias = "rt_sigtimedwait")]
#[doc(alias = "sigwait")]
pub fn sigtimedwait(set: &SigSet, timeout: Option<Duration>) -> Result<Signal, Error> {
    if let Some(s) = set.first_reserved() {
        return Err(Error::ReservedSignal(s));
    }
    let ts = timeout.map(|d| linux_raw_sys::general::__kernel_timespec {
        tv_sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        tv_nsec: i64::from(d.subsec_nanos()),
    });
    let ts_ptr = ts.as_ref().map_or(0, |t| core::ptr::from_ref(t) as usize);
    // SAFETY: `set` is 8 readable bytes, the info pointer is null (allowed),
    // `ts_ptr` is null or a live `__kernel_timespec`.
    let n = raw::check(unsafe {
        raw::syscall4(
            raw::nr::__NR_rt_sigtimedwait as usize,
            core::ptr::from_ref(&set.0) as usize,
            0,
            ts_ptr,
            SIGSET_SIZE,
        )
    })
    .call("rt_sigtimedwait")?;
    Signal::from_raw(n as u32).ok_or(Error::os("rt_sigtimedwait", Errno::INVAL))
}

/// `tgkill(getpid(), gettid(), sig)`: sends `sig` to the calling thread
/// alone, as `raise(3)` does in a threaded program.
///
/// # Errors
/// None for a valid signal (`EINVAL` is not reachable through [`Signal`]).
///
/// # References
/// [tgkill(2)](https://man7.org/linux/man-pages/man2/tgkill.2.html),
/// [raise(3)](https://man7.org/linux/man-pages/man3/raise.3.html)
pub fn raise(sig: Signal) -> Result<(), Error> {
    let pid = rustix::process::getpid().as_raw_nonzero().get();
    let tid = rustix::thread::gettid().as_raw_nonzero().get();
    tgkill(pid, tid, sig).call("tgkill")
}

/// `tgkill(pid, tid, sig)`: sends `sig` to thread `tid` of process `pid`.
///
/// Unlike `kill`, the signal is for that thread only: only it can take it
/// (through a signalfd it reads, or a handler), whatever the other threads
/// block.
///
/// # Errors
/// `ESRCH` (no such thread), `EPERM`, `EINVAL` (a non-positive id).
///
/// # References
/// [tgkill(2)](https://man7.org/linux/man-pages/man2/tgkill.2.html)
pub fn tgkill(pid: i32, tid: i32, sig: Signal) -> Result<(), Errno> {
    // SAFETY: tgkill takes three integers and touches no memory.
    raw::check(unsafe {
        raw::syscall3(
            raw::nr::__NR_tgkill as usize,
            pid as usize,
            tid as usize,
            usize::from(sig.0),
        )
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;
    use std::vec::Vec;

    #[test]
    fn set_operations() {
        let mut s = SigSet::empty();
        assert!(s.is_empty());
        assert!(s.add(Signal::INT));
        assert!(!s.add(Signal::INT));
        assert!(s.add(Signal::new(64).unwrap()));
        assert!(s.contains(Signal::INT) && !s.contains(Signal::TERM));
        assert_eq!(s.bits(), (1 << 1) | (1 << 63));
        assert_eq!(s.len(), 2);
        assert!(s.remove(Signal::INT));
        assert!(!s.remove(Signal::INT));
        assert_eq!(s.iter().collect::<Vec<_>>(), [Signal::new(64).unwrap()]);
        assert_eq!(SigSet::fill().len(), 64 - RESERVED.len());
        assert!(SigSet::fill().first_reserved().is_none());
        assert_eq!(SigSet::all().len(), 64);
        let expected: &[u8] = if cfg!(target_env = "gnu") {
            &[32, 33]
        } else if cfg!(target_env = "musl") {
            &[32, 33, 34]
        } else {
            &[]
        };
        assert_eq!(
            RESERVED.iter().map(Signal::as_raw).collect::<Vec<_>>(),
            expected
        );
        let list = [Signal::HUP, Signal::TERM, Signal::rt(3).unwrap()];
        let set = SigSet::from(list);
        let mut out = [Signal::HUP; 64];
        assert_eq!(set.to_slice(&mut out), list);
        assert_eq!(set.to_string(), "{SIGHUP, SIGTERM, SIGRTMIN+3}");
        assert_eq!((SigSet::from(Signal::HUP) | Signal::TERM).len(), 2);
        assert_eq!(set.difference(SigSet::from(Signal::HUP)).len(), 2);
        assert_eq!(set.intersection(SigSet::from(Signal::HUP)).len(), 1);
        assert_eq!(set.to_vec(), list);
        assert_eq!(
            SigSet::from(&list[..2]),
            SigSet::from([Signal::HUP, Signal::TERM])
        );
        let mut ext = SigSet::empty();
        ext.extend(list);
        assert_eq!(ext, set);
        assert_eq!(SigSet::from_bits(set.bits()), set);
        assert_eq!(set.iter().len(), 3);
        assert_eq!(
            std::format!("{set:?}"),
            "SigSet({SIGHUP, SIGTERM, SIGRTMIN+3})"
        );
    }

    #[test]
    fn signal_numbers() {
        assert_eq!(Signal::new(0), None);
        assert_eq!(Signal::new(65), None);
        assert_eq!(Signal::from_raw(2), Some(Signal::INT));
        assert_eq!(Signal::try_from(-1), Err(Errno::INVAL));
        assert_eq!(Signal::try_from(15), Ok(Signal::TERM));
        let min = Signal::rtmin().as_raw();
        assert_eq!(min, 32 + RESERVED.len() as u8);
        assert_eq!(Signal::rt(0), Some(Signal::rtmin()));
        assert_eq!(Signal::rt(64 - min).map(Signal::as_raw), Some(64));
        assert_eq!(Signal::rt(64 - min + 1), None);
        if cfg!(target_env = "gnu") {
            // glibc: SIGRTMIN is 34; 32 and 33 are its own.
            assert_eq!(min, 34);
            assert!(Signal::new(33).unwrap().is_reserved());
            assert!(!Signal::new(34).unwrap().is_reserved());
        }
        assert!(!Signal::rt(0).unwrap().is_reserved());
        assert!(Signal::new(32).unwrap().is_realtime() && !Signal::SYS.is_realtime());
        assert!(SigSet::fill().without(Signal::INT).len() == 63 - RESERVED.len());
        assert!(SigSet::empty().is_empty() && !SigSet::from(Signal::INT).is_empty());
        assert_eq!(Signal::INT.to_string(), "SIGINT");
        assert_eq!(Signal::rtmin().to_string(), "SIGRTMIN");
        assert_eq!(Signal::RTMAX.to_string(), "SIGRTMAX");
        assert_eq!(Signal::rt(1).unwrap().to_string(), "SIGRTMIN+1");
        assert_eq!(Signal::new(63).unwrap().to_string(), "SIGRTMAX-1");
        if min > 32 {
            assert_eq!(Signal::new(32).unwrap().to_string(), "SIG32");
        }
        assert_eq!(Signal::SYS.as_raw(), 31);
        for n in 1..32 {
            assert!(Signal::new(n).unwrap().name().is_some(), "{n}");
        }
    }

    /// In a dedicated thread, so the test harness's own mask never changes.
    fn in_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::spawn(f).join().unwrap()
    }

    #[test]
    #[cfg_attr(miri, ignore = "issues real syscalls (inline asm)")]
    fn mask_block_unblock_set_real_syscalls() {
        in_thread(|| {
            let start = thread_mask().unwrap();
            let set = SigSet::from([Signal::USR1, Signal::USR2]);
            assert_eq!(block(&set).unwrap(), start);
            let now = thread_mask().unwrap();
            assert!(now.contains(Signal::USR1) && now.contains(Signal::USR2));
            let before = unblock(&SigSet::from(Signal::USR1)).unwrap();
            assert_eq!(before, now);
            assert!(!thread_mask().unwrap().contains(Signal::USR1));
            assert_eq!(set_thread_mask(&start).unwrap(), start | Signal::USR2);
            assert_eq!(thread_mask().unwrap(), start);
            // SIGKILL and SIGSTOP are dropped silently by the kernel.
            block(&SigSet::from([Signal::KILL, Signal::STOP])).unwrap();
            assert_eq!(thread_mask().unwrap(), start);
        });
    }

    #[test]
    #[cfg_attr(miri, ignore = "issues real syscalls (inline asm)")]
    fn reserved_signals_are_refused_before_the_kernel() {
        in_thread(|| {
            let start = thread_mask().unwrap();
            let Some(last) = RESERVED.iter().last() else {
                std::eprintln!("SKIPPED reserved signals: none without a C library");
                return;
            };
            let bad = SigSet::from(last) | Signal::USR1;
            let e = block(&bad).unwrap_err();
            assert_eq!(e, Error::ReservedSignal(last));
            assert_eq!(e.errno(), Some(Errno::INVAL));
            assert!(e.to_string().contains("reserved"));
            assert_eq!(
                set_thread_mask(&SigSet::all()),
                Err(Error::ReservedSignal(Signal::new(32).unwrap()))
            );
            assert!(unblock(&RESERVED).is_err());
            assert_eq!(thread_mask().unwrap(), start, "nothing changed");
            // The C library's SIGRTMIN is the program's own.
            block(&SigSet::from(Signal::rtmin())).unwrap();
            set_thread_mask(&start).unwrap();
            // The unsafe opt-in reaches the kernel.
            // SAFETY: this thread runs no C-library code that needs `last`.
            unsafe {
                sigprocmask_unchecked(How::Block, Some(&SigSet::from(last))).unwrap();
            }
            assert!(thread_mask().unwrap().contains(last));
            // SAFETY: as above, restoring.
            unsafe { sigprocmask_unchecked(How::SetMask, Some(&start)).unwrap() };
        });
    }

    #[test]
    #[cfg_attr(miri, ignore = "issues real syscalls (inline asm)")]
    fn pending_wait_and_raise() {
        in_thread(|| {
            let set = SigSet::from(Signal::USR2);
            block(&set).unwrap();
            assert!(!pending().unwrap().contains(Signal::USR2));
            raise(Signal::USR2).unwrap();
            assert!(pending().unwrap().contains(Signal::USR2));
            assert_eq!(sigtimedwait(&set, Some(Duration::ZERO)), Ok(Signal::USR2));
            assert!(!pending().unwrap().contains(Signal::USR2));
            // Nothing pending: EAGAIN after the timeout.
            assert_eq!(
                sigtimedwait(&set, Some(Duration::from_millis(1))),
                Err(Error::os("rt_sigtimedwait", Errno::AGAIN))
            );
            if let Some(first) = RESERVED.iter().next() {
                assert_eq!(
                    sigtimedwait(&RESERVED, None),
                    Err(Error::ReservedSignal(first))
                );
            }
        });
    }

    #[test]
    #[cfg_attr(miri, ignore = "issues real syscalls (inline asm)")]
    fn tgkill_errors() {
        // Thread ids are positive; the kernel says EINVAL otherwise.
        assert_eq!(tgkill(0, 0, Signal::USR1), Err(Errno::INVAL));
        // A pid far above pid_max names no thread.
        assert_eq!(tgkill(i32::MAX, i32::MAX, Signal::USR1), Err(Errno::SRCH));
    }
}
