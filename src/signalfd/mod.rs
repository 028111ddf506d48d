//! signalfd: receive signals as records read from a descriptor.
//!
//! Three layers, as everywhere in kernfd:
//! - [`parse`] walks `signalfd_siginfo` records (128 bytes each) in any byte
//!   slice, with no syscall: the fuzzable, bounds-checked core.
//! - [`create`] and [`set_mask`] are `signalfd4` (which rustix lacks),
//!   issued raw with the kernel's 8-byte sigset; [`read`] is `read(2)`.
//! - [`SignalFd`] owns the descriptor: close-on-exec by default, buffer
//!   sizes checked up front, bounded waits with a [`Waker`](crate::wait::Waker).
//!
//! Reading never allocates: records borrow the caller's buffer.
//!
//! # Block the signals first
//! A signalfd only sees signals that stay pending, so block them (with
//! [`signal::block`](crate::signal::block)) in every thread: in `main`,
//! before any thread is spawned (threads inherit the mask). A signal that is
//! not blocked is delivered as usual (its default action may kill the
//! process) and never reaches the descriptor.
//!
//! # Standard signals coalesce
//! Signals 1–31 do not queue: while `SIGCHLD` (say) is pending, a second
//! `SIGCHLD` is merged into it, and the signalfd returns one record for
//! both. Count nothing from standard signals: on `SIGCHLD`, reap with
//! `waitid(WNOHANG)` in a loop until it finds no child. Real-time signals
//! (35–64 for programs) queue, one record each, up to `RLIMIT_SIGPENDING`.
//!
//! A read returns signals pending for the process and for the reading
//! thread; a signal sent to another thread (`tgkill`) is only seen when
//! that thread reads.
//!
//! # Example
//! ```
//! use kernfd::signal::{self, SigSet, Signal};
//! use kernfd::signalfd::SignalFd;
//!
//! std::thread::spawn(|| {
//!     let set = SigSet::from([Signal::USR1]);
//!     signal::block(&set)?;
//!     let sfd = SignalFd::new(&set)?;
//!     signal::raise(Signal::USR1)?; // to this thread only
//!
//!     let mut buf = [0_u8; 4 * kernfd::signalfd::SIGINFO_LEN];
//!     let info = sfd.read(&mut buf)?.next().unwrap()?;
//!     assert_eq!(info.signal(), Some(Signal::USR1));
//!     assert_eq!(info.pid(), std::process::id());
//!     Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
//! })
//! .join()
//! .unwrap()?;
//! # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
//! ```
//!
//! # References
//! [signalfd(2)](https://man7.org/linux/man-pages/man2/signalfd.2.html)

mod abi;
mod error;
mod flags;
mod reader;
#[cfg(any(test, fuzzing))]
#[doc(hidden)]
pub mod reference;
mod siginfo;

pub use error::ParseError;
pub use flags::SignalFdFlags;
pub use reader::Reader;
pub use siginfo::{SIGINFO_LEN, Siginfo, Siginfos, parse};

use rustix::fd::{AsFd, AsRawFd, OwnedFd};
use rustix::io::Errno;

use crate::buffer::{Buffer, read_into, uninit};
use crate::error::{Call, Error, Result};
use crate::fd::Fd;
use crate::raw;
use crate::signal::{SIGSET_SIZE, SigSet};
use crate::wait::{Flow, Wait, drain_reads, read_after_wait, records};

fn signalfd4(fd: isize, mask: &SigSet, flags: u32) -> core::result::Result<usize, Errno> {
    let bits = mask.bits();
    // SAFETY: `bits` is the kernel's 8-byte sigset and lives across the
    // call; the other arguments are integers.
    raw::check(unsafe {
        raw::syscall4(
            raw::nr::__NR_signalfd4 as usize,
            fd as usize,
            core::ptr::from_ref(&bits) as usize,
            SIGSET_SIZE,
            flags as usize,
        )
    })
}

/// `signalfd4(-1, mask, 8, flags)`: a new signalfd for the signals of
/// `mask`.
///
/// `SIGKILL` and `SIGSTOP` in `mask` are ignored by the kernel. The bare
/// call takes any signal, those the C library reserves included (a signalfd
/// only receives them if they are blocked, which the safe calls of
/// [`signal`](crate::signal) refuse); [`SignalFd::new`] refuses them.
///
/// # Errors
/// `EINVAL` for unknown flags; `EMFILE`, `ENFILE`, `ENODEV` (no anonymous
/// inode device), `ENOMEM`.
///
/// # References
/// [signalfd(2)](https://man7.org/linux/man-pages/man2/signalfd.2.html)
#[doc(alias = "signalfd")]
#[doc(alias = "signalfd4")]
pub fn create(mask: &SigSet, flags: SignalFdFlags) -> core::result::Result<OwnedFd, Errno> {
    let ret = signalfd4(-1, mask, flags.bits())?;
    // SAFETY: signalfd4 with fd -1 returns a new descriptor nobody owns.
    unsafe { raw::check_fd(ret) }
}

/// `signalfd4(fd, mask, 8, 0)`: replaces the set of signals an existing
/// signalfd reports. Like [`create`], it takes any signal.
///
/// # Errors
/// `EBADF` when `fd` is not open; `EINVAL` when it is not a signalfd.
///
/// # References
/// [signalfd(2)](https://man7.org/linux/man-pages/man2/signalfd.2.html)
pub fn set_mask(fd: impl AsFd, mask: &SigSet) -> core::result::Result<(), Errno> {
    signalfd4(fd.as_fd().as_raw_fd() as isize, mask, 0).map(drop)
}

/// `read(fd, buf)` on a signalfd, parsed in place.
///
/// The bare call: a buffer shorter than [`SIGINFO_LEN`] fails with the
/// kernel's `EINVAL`.
///
/// # Errors
/// `EAGAIN` (non-blocking, nothing pending), `EINVAL` (buffer too small),
/// `EINTR`, `EBADF`.
///
/// # References
/// [signalfd(2)](https://man7.org/linux/man-pages/man2/signalfd.2.html)
pub fn read<B: Buffer + ?Sized>(
    fd: impl AsFd,
    buf: &mut B,
) -> core::result::Result<Siginfos<'_>, Errno> {
    Ok(parse(read_into(fd, uninit(buf))?))
}

/// Refuses a set with a signal the C library keeps.
fn unreserved(mask: SigSet) -> Result<()> {
    match mask.first_reserved() {
        Some(s) => Err(Error::ReservedSignal(s)),
        None => Ok(()),
    }
}

/// An owned signalfd.
///
/// Close-on-exec by default; closed on drop. The signals it reports must be
/// blocked (see the [module docs](self)). The descriptor is `O_NONBLOCK` in
/// the kernel whatever the object's mode (see
/// [`set_nonblocking`](Self::set_nonblocking)).
#[derive(Debug)]
pub struct SignalFd {
    fd: Fd,
}

impl SignalFd {
    /// A blocking, close-on-exec signalfd for `mask`
    /// (`signalfd4(-1, mask, 8, SFD_CLOEXEC)`).
    ///
    /// # Errors
    /// [`Error::ReservedSignal`] for a signal the C library keeps
    /// ([`RESERVED`](crate::signal::RESERVED)), before any syscall; the
    /// errnos of [`create`].
    ///
    /// # Example
    /// ```
    /// use kernfd::signal::{self, SigSet, Signal};
    /// use kernfd::signalfd::SignalFd;
    ///
    /// std::thread::spawn(|| {
    ///     let set = SigSet::from(Signal::USR1);
    ///     signal::block(&set)?; // a signalfd only sees blocked signals
    ///     let signals = SignalFd::new(&set)?;
    ///     signal::raise(Signal::USR1)?;
    ///     let mut buf = [0_u8; 128];
    ///     let info = signals.read(&mut buf)?.next().unwrap().unwrap();
    ///     assert_eq!(info.signo(), 10);
    ///     Ok::<(), kernfd::Error>(())
    /// })
    /// .join()
    /// .unwrap()?;
    /// # Ok::<(), kernfd::Error>(())
    /// ```
    pub fn new(mask: &SigSet) -> Result<Self, Error> {
        Self::with_flags(mask, SignalFdFlags::CLOEXEC)
    }

    /// A signalfd with exactly `flags` (add [`SignalFdFlags::CLOEXEC`]
    /// yourself if you want it). [`SignalFdFlags::NONBLOCK`] sets the
    /// object's mode.
    ///
    /// # Errors
    /// As [`SignalFd::new`].
    pub fn with_flags(mask: &SigSet, flags: SignalFdFlags) -> Result<Self, Error> {
        unreserved(*mask)?;
        let fd = create(mask, flags | SignalFdFlags::NONBLOCK).call("signalfd4")?;
        Ok(Self::from_fd(Fd::new(
            fd,
            flags.contains(SignalFdFlags::NONBLOCK),
        )))
    }

    fn from_fd(fd: Fd) -> Self {
        Self { fd }
    }

    /// Replaces the set of signals this descriptor reports (see
    /// [`set_mask`]).
    ///
    /// # Errors
    /// [`Error::ReservedSignal`] for a [reserved](crate::signal::RESERVED)
    /// signal; `EINVAL` when the descriptor is not a signalfd.
    pub fn set_mask(&self, mask: &SigSet) -> Result<(), Error> {
        unreserved(*mask)?;
        set_mask(&self.fd, mask).call("signalfd4")
    }

    /// Reads pending signals into `buf` and iterates them in place: as many
    /// 128-byte records as fit, each taken from the kernel's queue.
    ///
    /// Blocks until a signal of the set is pending, unless non-blocking
    /// (then `EAGAIN`).
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] when `buf` is shorter than [`SIGINFO_LEN`],
    /// before any syscall; `EAGAIN` when non-blocking and nothing is
    /// pending; `EINTR` when a handler ran (returned, not retried).
    pub fn read<'b, B: Buffer + ?Sized>(&self, buf: &'b mut B) -> Result<Siginfos<'b>, Error> {
        let buf = checked(uninit(buf))?;
        Ok(parse(records(self.fd.read(buf))?))
    }

    /// Waits as `wait` says (timeout, waker) for a signal, then reads once.
    /// Returns no records when the timeout passes or the waker is woken
    /// first.
    ///
    /// # Errors
    /// As [`read`](Self::read); `EINTR` from the wait is returned.
    pub fn read_wait<'b, B: Buffer + ?Sized>(
        &self,
        buf: &'b mut B,
        wait: Wait<'_>,
    ) -> Result<Siginfos<'b>, Error> {
        let buf = checked(uninit(buf))?;
        match read_after_wait(&self.fd, &wait, buf) {
            Ok(None) => Ok(Siginfos::EMPTY),
            Ok(Some(bytes)) => Ok(parse(records(Ok(bytes))?)),
            Err(errno) => Err(Error::os("read", errno)),
        }
    }

    /// Reads until no signal of the set is pending, handing every record to
    /// `f`; returns how many it handed over. What an edge-triggered epoll
    /// loop must do: `EAGAIN` ends it, so it never waits, whatever the
    /// object's mode. `f` returns a [`Flow`]: `()`, a `ControlFlow`
    /// (`Break` stops), or a `Result` so that `?` works inside it (an `Err`
    /// stops the drain and is returned). When it stops early, the records
    /// of that read not handed over yet are dropped.
    ///
    /// # Errors
    /// As [`read`](Self::read), and whatever `f` returns. Records handed
    /// over before an error stay handed over.
    ///
    /// # Example
    /// ```
    /// use kernfd::signal::{self, SigSet, Signal};
    /// use kernfd::signalfd::SignalFd;
    ///
    /// // In a thread of its own, so the block changes no other thread's mask.
    /// std::thread::spawn(|| {
    ///     let set = SigSet::from([Signal::USR1, Signal::USR2]);
    ///     signal::block(&set).unwrap();
    ///     let signals = SignalFd::new(&set).unwrap();
    ///     signal::raise(Signal::USR1).unwrap();
    ///     signal::raise(Signal::USR2).unwrap();
    ///     let mut buf = [0_u8; 128]; // one record per read: drain reads twice
    ///     let mut seen = Vec::new();
    ///     let n = signals.drain(&mut buf, |info| seen.push(info.unwrap().signo())).unwrap();
    ///     assert_eq!(n, 2);
    ///     seen.sort();
    ///     assert_eq!(seen, [Signal::USR1.as_raw() as u32, Signal::USR2.as_raw() as u32]);
    /// })
    /// .join()
    /// .unwrap();
    /// ```
    #[inline]
    pub fn drain<B, E, R>(
        &self,
        buf: &mut B,
        mut f: impl FnMut(core::result::Result<Siginfo<'_>, ParseError>) -> R,
    ) -> core::result::Result<usize, E>
    where
        B: Buffer + ?Sized,
        E: From<Error>,
        R: Flow<E>,
    {
        let buf = checked(uninit(buf))?;
        let mut count = 0;
        drain_reads::<E>(&self.fd, buf, |bytes| {
            for item in parse(bytes) {
                count += 1;
                if !f(item).flow()? {
                    return Ok(false);
                }
            }
            Ok(true)
        })?;
        Ok(count)
    }

    crate::fd::mode_methods!("signalfd");
}

fn checked(
    buf: &mut [core::mem::MaybeUninit<u8>],
) -> Result<&mut [core::mem::MaybeUninit<u8>], Error> {
    if buf.len() < SIGINFO_LEN {
        return Err(Error::BufferTooSmall {
            len: buf.len(),
            needed: SIGINFO_LEN,
        });
    }
    Ok(buf)
}

impl From<OwnedFd> for SignalFd {
    /// Adopts `fd`, which should be a signalfd, keeping its blocking mode
    /// (and setting `O_NONBLOCK` on it in the kernel); if it is not a
    /// signalfd, calls fail with the kernel's `EINVAL`, or a read with
    /// [`Error::EndOfFile`]; nothing worse.
    fn from(fd: OwnedFd) -> Self {
        Self::from_fd(Fd::adopt(fd))
    }
}

crate::fd::owned_fd_traits!(SignalFd, "signalfd");

#[cfg(test)]
mod tests {
    //! The real syscalls, each in a dedicated thread whose mask it may
    //! change (the harness's threads keep theirs). Also run under
    //! qemu-aarch64.
    extern crate std;
    use super::*;
    use crate::signal::{self, Signal};

    fn in_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::spawn(f).join().unwrap()
    }

    #[test]
    #[cfg_attr(miri, ignore = "issues real syscalls (inline asm)")]
    fn signalfd4_reads_a_raised_signal() {
        in_thread(|| {
            let set = SigSet::from([Signal::USR1, Signal::USR2]);
            signal::block(&set).unwrap();
            let sfd = SignalFd::with_flags(&set, SignalFdFlags::CLOEXEC | SignalFdFlags::NONBLOCK)
                .unwrap();
            let mut buf = [0_u8; 3 * SIGINFO_LEN];
            assert_eq!(
                sfd.read(&mut buf).unwrap_err(),
                Error::os("read", Errno::AGAIN)
            );
            signal::raise(Signal::USR2).unwrap();
            signal::raise(Signal::USR1).unwrap();
            let mut infos = sfd.read(&mut buf).unwrap();
            assert_eq!(infos.len(), 2);
            let a = infos.next().unwrap().unwrap();
            let b = infos.next().unwrap().unwrap();
            // Lower numbers are dequeued first.
            assert_eq!(
                (a.signal(), b.signal()),
                (Some(Signal::USR1), Some(Signal::USR2))
            );
            assert_eq!(
                a.pid(),
                rustix::process::getpid().as_raw_nonzero().get() as u32
            );
            assert_eq!(a.code(), -6, "SI_TKILL");
            assert_eq!(a.uid(), rustix::process::getuid().as_raw());
            // Changing the set: USR1 is no longer reported.
            sfd.set_mask(&SigSet::from(Signal::USR2)).unwrap();
            signal::raise(Signal::USR1).unwrap();
            assert_eq!(
                sfd.read(&mut buf).unwrap_err(),
                Error::os("read", Errno::AGAIN)
            );
            assert!(signal::pending().unwrap().contains(Signal::USR1));
            assert_eq!(
                signal::sigtimedwait(&SigSet::from(Signal::USR1), None),
                Ok(Signal::USR1)
            );
        });
    }

    #[test]
    #[cfg_attr(miri, ignore = "issues real syscalls (inline asm)")]
    fn signalfd4_errors() {
        let set = SigSet::from(Signal::USR1);
        // Unknown flag bit.
        assert_eq!(
            create(&set, SignalFdFlags::from_bits_retain(1)).unwrap_err(),
            Errno::INVAL
        );
        // Not a signalfd.
        let (r, _w) = rustix::pipe::pipe().unwrap();
        assert_eq!(set_mask(&r, &set), Err(Errno::INVAL));
        assert_eq!(
            SignalFd::from(r).set_mask(&set),
            Err(Error::os("signalfd4", Errno::INVAL))
        );
        // A descriptor number that is not open.
        assert_eq!(signalfd4(1 << 20, &set, 0), Err(Errno::BADF));
        // A reserved signal never reaches the kernel through the owned type;
        // the bare call takes it.
        if let Some(reserved) = signal::RESERVED.iter().next() {
            let bad = set | reserved;
            assert_eq!(
                SignalFd::new(&bad).unwrap_err(),
                Error::ReservedSignal(reserved)
            );
            let sfd = SignalFd::new(&set).unwrap();
            assert_eq!(sfd.set_mask(&bad), Err(Error::ReservedSignal(reserved)));
            drop(create(&bad, SignalFdFlags::CLOEXEC).unwrap());
        }
        let sfd = SignalFd::new(&set).unwrap();
        let mut small = [0_u8; SIGINFO_LEN - 1];
        assert_eq!(
            sfd.read(&mut small).unwrap_err(),
            Error::BufferTooSmall {
                len: 127,
                needed: SIGINFO_LEN
            }
        );
        // The bare read lets the kernel say it.
        assert_eq!(read(&sfd, &mut small).unwrap_err(), Errno::INVAL);
        // A wrong sigset size is the kernel's EINVAL (why kernfd passes 8).
        let bits = set.bits();
        // SAFETY: 8 readable bytes; the kernel rejects size 128 before reading.
        let r = raw::check(unsafe {
            raw::syscall4(
                raw::nr::__NR_signalfd4 as usize,
                -1_isize as usize,
                core::ptr::from_ref(&bits) as usize,
                128,
                0,
            )
        });
        if raw::tests_support::under_qemu_user() {
            // qemu-user emulates signalfd4 itself and ignores the size.
            std::eprintln!("SKIPPED sigsetsize check: qemu-user does not check it");
        } else {
            assert_eq!(r, Err(Errno::INVAL));
        }
    }
}
