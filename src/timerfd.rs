//! timerfd: timers that expire into a descriptor.
//!
//! - [`create`], [`settime`], [`gettime`] and [`set_ticks`] are the 1:1
//!   calls (rustix's `timerfd_settime`/`gettime`; `timerfd_create` and the
//!   `TFD_IOC_SET_TICKS` ioctl issued raw, so any clock id reaches the
//!   kernel).
//! - [`TimerFd`] owns the descriptor: `CLOCK_MONOTONIC` and close-on-exec by
//!   default, [`Duration`] in and out, and a read that reports a
//!   `CANCEL_ON_SET` cancellation as its own [`Outcome`], never as a panic.
//!
//! # Example
//! ```
//! use std::time::Duration;
//! use kernfd::timerfd::{Outcome, TimerFd};
//!
//! let timer = TimerFd::new()?; // CLOCK_MONOTONIC
//! timer.set_after(Duration::from_millis(1), Duration::from_millis(1))?;
//! match timer.read()? {
//!     Outcome::Expired(n) => assert!(n >= 1),
//!     Outcome::Canceled => unreachable!("only CANCEL_ON_SET timers are canceled"),
//! }
//! timer.disarm()?;
//! assert_eq!(timer.get()?.value, Duration::ZERO);
//! # Ok::<(), kernfd::Error>(())
//! ```
//!
//! # References
//! [timerfd_create(2)](https://man7.org/linux/man-pages/man2/timerfd_create.2.html)

use core::fmt;
use core::time::Duration;

use rustix::event::PollFlags;
use rustix::fd::{AsFd, AsRawFd, OwnedFd};
use rustix::io::Errno;
use rustix::time::Timespec;
pub use rustix::time::{Itimerspec, TimerfdTimerFlags as SetFlags};

use crate::error::{Call, Error};
use crate::fd::Fd;
use crate::raw;
use crate::wait::{Wait, value_after_wait, value_mode};

use linux_raw_sys::general as c;

/// A clock a timer counts on: `CLOCK_*` of `timerfd_create(2)`.
///
/// A newtype rather than an enum so that any id reaches the kernel, which
/// says `EINVAL` for clocks it does not support with timers.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Clock(u32);

impl Clock {
    /// `CLOCK_MONOTONIC`: time since an arbitrary point, never set, stopped
    /// during suspend. The default: it is what "in 5 seconds" means.
    pub const MONOTONIC: Self = Self(c::CLOCK_MONOTONIC);
    /// `CLOCK_REALTIME`: wall-clock time, settable (which is what
    /// `CANCEL_ON_SET` watches for).
    pub const REALTIME: Self = Self(c::CLOCK_REALTIME);
    /// `CLOCK_BOOTTIME`: like `MONOTONIC`, but counting time suspended.
    pub const BOOTTIME: Self = Self(c::CLOCK_BOOTTIME);
    /// `CLOCK_REALTIME_ALARM`: like `REALTIME`, and wakes a suspended
    /// system. Needs `CAP_WAKE_ALARM` (else `EPERM`).
    pub const REALTIME_ALARM: Self = Self(c::CLOCK_REALTIME_ALARM);
    /// `CLOCK_BOOTTIME_ALARM`: like `BOOTTIME`, and wakes a suspended
    /// system. Needs `CAP_WAKE_ALARM` (else `EPERM`).
    pub const BOOTTIME_ALARM: Self = Self(c::CLOCK_BOOTTIME_ALARM);

    /// The clock with kernel id `id`, known to kernfd or not.
    #[must_use]
    pub const fn from_raw(id: u32) -> Self {
        Self(id)
    }

    /// The kernel's clock id.
    #[must_use]
    pub const fn as_raw(self) -> u32 {
        self.0
    }

    /// The clock's C name, `None` for an id kernfd does not know.
    #[must_use]
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            c::CLOCK_MONOTONIC => "CLOCK_MONOTONIC",
            c::CLOCK_REALTIME => "CLOCK_REALTIME",
            c::CLOCK_BOOTTIME => "CLOCK_BOOTTIME",
            c::CLOCK_REALTIME_ALARM => "CLOCK_REALTIME_ALARM",
            c::CLOCK_BOOTTIME_ALARM => "CLOCK_BOOTTIME_ALARM",
            _ => return None,
        })
    }

    /// `clock_gettime(clock)`: the clock's reading now, as a duration since
    /// its epoch: what [`TimerFd::set_at`] takes.
    ///
    /// # Errors
    /// `EINVAL` for a clock id kernfd does not know.
    ///
    /// # References
    /// [clock_gettime(2)](https://man7.org/linux/man-pages/man2/clock_gettime.2.html)
    pub fn now(self) -> Result<Duration, Errno> {
        use rustix::time::{ClockId, DynamicClockId};
        let id = match self.0 {
            c::CLOCK_MONOTONIC => DynamicClockId::Known(ClockId::Monotonic),
            c::CLOCK_REALTIME => DynamicClockId::Known(ClockId::Realtime),
            c::CLOCK_BOOTTIME => DynamicClockId::Boottime,
            c::CLOCK_REALTIME_ALARM => DynamicClockId::RealtimeAlarm,
            c::CLOCK_BOOTTIME_ALARM => DynamicClockId::BoottimeAlarm,
            _ => return Err(Errno::INVAL),
        };
        from_timespec(rustix::time::clock_gettime_dynamic(id)?)
    }
}

impl Default for Clock {
    /// [`Clock::MONOTONIC`].
    fn default() -> Self {
        Self::MONOTONIC
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "Clock({})", self.0),
        }
    }
}

bitflags::bitflags! {
    /// Flags for [`create`] (`TFD_*` of `timerfd_create(2)`).
    ///
    /// Unknown bits are kept and passed on; the kernel rejects them with
    /// `EINVAL`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct TimerFdFlags: u32 {
        /// `TFD_CLOEXEC`: close the descriptor on `execve`.
        const CLOEXEC = c::TFD_CLOEXEC;
        /// `TFD_NONBLOCK`: reads fail with `EAGAIN` instead of blocking.
        const NONBLOCK = c::TFD_NONBLOCK;
        // Any other bit is passed to the kernel as is.
        const _ = !0;
    }
}

crate::shared::display_flags!(TimerFdFlags);

/// A timer's setting: when it next expires and how often after that.
#[doc(alias = "itimerspec")]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TimerSpec {
    /// Time until the next expiration (relative), or the clock reading at
    /// which it expires (absolute); zero means disarmed.
    pub value: Duration,
    /// The period after the first expiration; zero for a one-shot timer.
    pub interval: Duration,
}

fn to_timespec(d: Duration) -> Timespec {
    Timespec {
        tv_sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        tv_nsec: i64::from(d.subsec_nanos()),
    }
}

/// A kernel timespec as a `Duration`; `EINVAL` if negative or denormal
/// (which the kernel never reports for timers).
fn from_timespec(t: Timespec) -> Result<Duration, Errno> {
    let secs = u64::try_from(t.tv_sec).map_err(|_| Errno::INVAL)?;
    let nanos = u32::try_from(t.tv_nsec).map_err(|_| Errno::INVAL)?;
    if nanos >= 1_000_000_000 {
        return Err(Errno::INVAL);
    }
    Ok(Duration::new(secs, nanos))
}

impl From<TimerSpec> for Itimerspec {
    fn from(s: TimerSpec) -> Self {
        Self {
            it_interval: to_timespec(s.interval),
            it_value: to_timespec(s.value),
        }
    }
}

impl TryFrom<Itimerspec> for TimerSpec {
    type Error = Errno;
    /// `EINVAL` for a negative or denormal time.
    fn try_from(s: Itimerspec) -> Result<Self, Errno> {
        Ok(Self {
            value: from_timespec(s.it_value)?,
            interval: from_timespec(s.it_interval)?,
        })
    }
}

/// What a read of a timer returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use]
pub enum Outcome {
    /// The timer expired this many times (at least once) since it was set
    /// or last read.
    Expired(u64),
    /// A `CANCEL_ON_SET` timer's clock was set (`ECANCELED` from the
    /// kernel): the wall clock jumped, so the absolute time it waits for may
    /// mean something else now. Set it again; the next read blocks until
    /// then.
    Canceled,
}

/// `timerfd_create(clock, flags)`: a new timer, disarmed.
///
/// # Errors
/// `EINVAL` for an unsupported clock or unknown flags; `EPERM` for an
/// `_ALARM` clock without `CAP_WAKE_ALARM`; `EMFILE`, `ENFILE`, `ENODEV`,
/// `ENOMEM`.
///
/// # References
/// [timerfd_create(2)](https://man7.org/linux/man-pages/man2/timerfd_create.2.html)
#[doc(alias = "timerfd_create")]
pub fn create(clock: Clock, flags: TimerFdFlags) -> Result<OwnedFd, Errno> {
    // SAFETY: two integer arguments; no memory is touched.
    let ret = unsafe {
        raw::syscall2(
            raw::nr::__NR_timerfd_create as usize,
            clock.0 as usize,
            flags.bits() as usize,
        )
    };
    // SAFETY: on success timerfd_create returns a new descriptor.
    unsafe { raw::check_fd(ret) }
}

/// `timerfd_settime(fd, flags, new, &old)`: arms (non-zero `it_value`) or
/// disarms (zero) the timer; returns the previous setting.
///
/// # Errors
/// `EINVAL` (not a timerfd, unknown flags, `tv_nsec` outside 0..1e9),
/// `EBADF`, `ECANCELED` (a `CANCEL_ON_SET` timer whose clock was set since
/// its last setting and no read took the cancellation: nothing is set;
/// call again).
///
/// # References
/// [timerfd_settime(2)](https://man7.org/linux/man-pages/man2/timerfd_settime.2.html)
#[doc(alias = "timerfd_settime")]
pub fn settime(fd: impl AsFd, flags: SetFlags, new: &Itimerspec) -> Result<Itimerspec, Errno> {
    rustix::time::timerfd_settime(fd, flags, new)
}

/// `timerfd_gettime(fd, &cur)`: the time left to the next expiration
/// (always relative) and the interval.
///
/// # Errors
/// `EINVAL` (not a timerfd), `EBADF`.
///
/// # References
/// [timerfd_gettime(2)](https://man7.org/linux/man-pages/man2/timerfd_gettime.2.html)
#[doc(alias = "timerfd_gettime")]
pub fn gettime(fd: impl AsFd) -> Result<Itimerspec, Errno> {
    rustix::time::timerfd_gettime(fd)
}

/// `ioctl(fd, TFD_IOC_SET_TICKS, &ticks)`: sets the expiration count a read
/// will return (for checkpoint/restore), waking readers.
///
/// # Errors
/// `EINVAL` for zero ticks; `ENOTTY` on kernels built without
/// `CONFIG_CHECKPOINT_RESTORE` (or when `fd` is not a timerfd); `EBADF`.
///
/// # References
/// [timerfd_create(2)](https://man7.org/linux/man-pages/man2/timerfd_create.2.html)
#[doc(alias = "TFD_IOC_SET_TICKS")]
pub fn set_ticks(fd: impl AsFd, ticks: u64) -> Result<(), Errno> {
    // SAFETY: the kernel reads 8 bytes from `&ticks`, which lives across
    // the call.
    raw::check(unsafe {
        raw::syscall3(
            raw::nr::__NR_ioctl as usize,
            fd.as_fd().as_raw_fd() as usize,
            linux_raw_sys::ioctl::TFD_IOC_SET_TICKS as usize,
            core::ptr::from_ref(&ticks) as usize,
        )
    })?;
    Ok(())
}

/// `read(fd, &u64)`: the number of expirations since the last read, or
/// [`Outcome::Canceled`] for `ECANCELED`.
///
/// # Errors
/// `EAGAIN` (non-blocking, not expired), `EINTR`, `EBADF`, `EINVAL` (not a
/// timerfd).
///
/// # References
/// [timerfd_create(2)](https://man7.org/linux/man-pages/man2/timerfd_create.2.html)
pub fn read(fd: impl AsFd) -> Result<Outcome, Errno> {
    let mut b = [0_u8; 8];
    match rustix::io::read(fd, &mut b) {
        Ok(8) => Ok(Outcome::Expired(u64::from_ne_bytes(b))),
        Ok(_) => Err(Errno::INVAL),
        Err(Errno::CANCELED) => Ok(Outcome::Canceled),
        Err(e) => Err(e),
    }
}

/// An owned timer.
///
/// `CLOCK_MONOTONIC` and close-on-exec by default; closed on drop. The
/// descriptor is `O_NONBLOCK` in the kernel whatever the object's mode (see
/// [`set_nonblocking`](Self::set_nonblocking)).
///
/// # Example
/// ```
/// use std::time::Duration;
/// use kernfd::timerfd::{Outcome, TimerFd};
///
/// let timer = TimerFd::new()?;
/// timer.set_after(Duration::from_millis(5), Duration::ZERO)?; // once, in 5 ms
/// assert_eq!(timer.read()?, Outcome::Expired(1));
/// # Ok::<(), kernfd::Error>(())
/// ```
#[derive(Debug)]
pub struct TimerFd {
    fd: Fd,
}

impl TimerFd {
    /// A blocking, close-on-exec `CLOCK_MONOTONIC` timer, disarmed.
    ///
    /// # Errors
    /// As [`create`].
    pub fn new() -> Result<Self, Error> {
        Self::with_clock(Clock::MONOTONIC, TimerFdFlags::CLOEXEC)
    }

    /// A timer on `clock` with exactly `flags` (add
    /// [`TimerFdFlags::CLOEXEC`] yourself if you want it).
    ///
    /// # Errors
    /// As [`create`].
    pub fn with_clock(clock: Clock, flags: TimerFdFlags) -> Result<Self, Error> {
        let fd = create(clock, flags | TimerFdFlags::NONBLOCK).call("timerfd_create")?;
        Ok(Self::from_fd(Fd::new(
            fd,
            flags.contains(TimerFdFlags::NONBLOCK),
        )))
    }

    fn from_fd(fd: Fd) -> Self {
        Self { fd }
    }

    /// Arms the timer to expire `after` from now, then every `interval`
    /// (`Duration::ZERO`: once). Returns the previous setting.
    ///
    /// `after` of zero disarms the timer (the kernel's rule); use
    /// [`Duration::from_nanos(1)`](Duration::from_nanos) for "now".
    ///
    /// # Errors
    /// `ECANCELED` as for [`set_at`](Self::set_at), on a timer that was
    /// `CANCEL_ON_SET`.
    ///
    /// # Example
    /// ```
    /// use std::time::Duration;
    /// use kernfd::timerfd::{Outcome, TimerFd};
    ///
    /// let tick = TimerFd::new()?;
    /// // First in 2 ms, then every 2 ms.
    /// let before = tick.set_after(Duration::from_millis(2), Duration::from_millis(2))?;
    /// assert_eq!(before.value, Duration::ZERO, "it was disarmed");
    /// std::thread::sleep(Duration::from_millis(7));
    /// let Outcome::Expired(n) = tick.read()? else { unreachable!() };
    /// assert!(n >= 3, "expirations add up between reads: {n}");
    /// # Ok::<(), kernfd::Error>(())
    /// ```
    pub fn set_after(&self, after: Duration, interval: Duration) -> Result<TimerSpec, Error> {
        self.set(
            SetFlags::empty(),
            TimerSpec {
                value: after,
                interval,
            },
        )
    }

    /// Arms the timer to expire when its clock reads `at` (see
    /// [`Clock::now`]), then every `interval`. A time already past expires
    /// at once. With `cancel_on_set` on a `REALTIME` clock, a change of the
    /// wall clock makes the next read return [`Outcome::Canceled`].
    ///
    /// # Errors
    /// `ECANCELED` when this timer was `CANCEL_ON_SET`, its clock was set
    /// since, and no read took the cancellation: nothing is set; call again.
    pub fn set_at(
        &self,
        at: Duration,
        interval: Duration,
        cancel_on_set: bool,
    ) -> Result<TimerSpec, Error> {
        let mut flags = SetFlags::ABSTIME;
        flags.set(SetFlags::CANCEL_ON_SET, cancel_on_set);
        self.set(
            flags,
            TimerSpec {
                value: at,
                interval,
            },
        )
    }

    /// Disarms the timer; returns the previous setting.
    ///
    /// # Errors
    /// `ECANCELED` as for [`set_at`](Self::set_at).
    pub fn disarm(&self) -> Result<TimerSpec, Error> {
        self.set(SetFlags::empty(), TimerSpec::default())
    }

    /// [`settime`] with `Duration`s.
    ///
    /// # Errors
    /// As [`settime`].
    pub fn set(&self, flags: SetFlags, spec: TimerSpec) -> Result<TimerSpec, Error> {
        settime(&self.fd, flags, &spec.into())
            .and_then(TimerSpec::try_from)
            .call("timerfd_settime")
    }

    /// The time left until the next expiration (zero when disarmed) and the
    /// interval ([`gettime`]).
    ///
    /// # Errors
    /// None in practice.
    pub fn get(&self) -> Result<TimerSpec, Error> {
        gettime(&self.fd)
            .and_then(TimerSpec::try_from)
            .call("timerfd_gettime")
    }

    /// Reads the expiration count, blocking until the timer expires unless
    /// non-blocking. A cancellation is an [`Outcome`], not an error.
    ///
    /// # Errors
    /// `EAGAIN` when non-blocking and not expired; `EINTR`.
    pub fn read(&self) -> Result<Outcome, Error> {
        value_mode(&self.fd, PollFlags::IN, || read(&self.fd)).call("read")
    }

    /// Waits as `wait` says for an expiration, then reads; `None` when the
    /// timeout passed or the waker was woken first.
    ///
    /// # Errors
    /// As [`read`](Self::read).
    pub fn read_wait(&self, wait: Wait<'_>) -> Result<Option<Outcome>, Error> {
        value_after_wait(&self.fd, &wait, || read(&self.fd)).call("read")
    }

    /// Sets the count the next read returns ([`set_ticks`]).
    ///
    /// # Errors
    /// As [`set_ticks`]: `ENOTTY` without `CONFIG_CHECKPOINT_RESTORE`.
    pub fn set_ticks(&self, ticks: u64) -> Result<(), Error> {
        set_ticks(&self.fd, ticks).call("ioctl(TFD_IOC_SET_TICKS)")
    }

    crate::fd::mode_methods!("timer");
}

impl From<OwnedFd> for TimerFd {
    /// Adopts `fd`, which should be a timerfd, keeping its blocking mode
    /// (and setting `O_NONBLOCK` on it in the kernel); if it is not a
    /// timerfd, calls fail with the kernel's `EINVAL`, nothing worse.
    fn from(fd: OwnedFd) -> Self {
        Self::from_fd(Fd::adopt(fd))
    }
}

crate::fd::owned_fd_traits!(TimerFd, "timerfd");

#[cfg(test)]
mod tests {
    //! The raw parts (create, ioctl) against the kernel; also under
    //! qemu-aarch64.
    extern crate std;
    use super::*;

    #[test]
    #[cfg_attr(miri, ignore = "issues real syscalls (inline asm)")]
    fn raw_create_and_ticks() {
        let t = TimerFd::with_clock(
            Clock::MONOTONIC,
            TimerFdFlags::CLOEXEC | TimerFdFlags::NONBLOCK,
        )
        .unwrap();
        assert_eq!(t.read().unwrap_err().errno(), Some(Errno::AGAIN));
        match t.set_ticks(5) {
            Ok(()) => assert_eq!(t.read(), Ok(Outcome::Expired(5))),
            Err(e) if e.errno() == Some(Errno::NOSYS) && raw::tests_support::under_qemu_user() => {
                std::eprintln!("SKIPPED TFD_IOC_SET_TICKS: qemu-user does not emulate it");
            }
            Err(e) => assert_eq!(
                e.errno(),
                Some(Errno::NOTTY),
                "only a kernel without C/R may refuse"
            ),
        }
        assert_eq!(
            create(Clock::from_raw(1000), TimerFdFlags::empty()).unwrap_err(),
            Errno::INVAL
        );
        assert_eq!(
            create(Clock::MONOTONIC, TimerFdFlags::from_bits_retain(1)).unwrap_err(),
            Errno::INVAL
        );
    }
}
