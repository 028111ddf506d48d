//! timerfd against the real kernel. The clock-setting test runs in a child
//! process and sets `CLOCK_REALTIME` to its own reading: the clock does not
//! move, but the kernel still reports a "clock was set" to `CANCEL_ON_SET`
//! timers.

#[macro_use]
mod util;

use std::time::Duration;

use kernfd::Errno;
use kernfd::timerfd::{
    self, Clock, Itimerspec, Outcome, SetFlags, TimerFd, TimerFdFlags, TimerSpec,
};
use kernfd::wait::{Wait, Waker};
use rustix::time::Timespec;

const MS: Duration = Duration::from_millis(1);

fn nonblocking(clock: Clock) -> TimerFd {
    TimerFd::with_clock(clock, TimerFdFlags::CLOEXEC | TimerFdFlags::NONBLOCK).unwrap()
}

#[test]
fn default_is_monotonic_cloexec_blocking_disarmed() {
    assert_eq!(Clock::default(), Clock::MONOTONIC);
    let t = TimerFd::new().unwrap();
    util::assert_cloexec(&t, true);
    util::assert_kernel_nonblocking(&t);
    assert!(!t.is_nonblocking());
    assert_eq!(t.get().unwrap(), TimerSpec::default());
    // /proc shows the clock the kernel uses.
    let fdinfo = std::fs::read_to_string(format!(
        "/proc/self/fdinfo/{}",
        rustix::fd::AsRawFd::as_raw_fd(&t)
    ))
    .unwrap();
    assert!(fdinfo.contains("clockid: 1"), "{fdinfo}");
}

#[test]
fn one_shot_relative() {
    let t = TimerFd::new().unwrap();
    let old = t.set_after(2 * MS, Duration::ZERO).unwrap();
    assert_eq!(old, TimerSpec::default());
    let left = t.get().unwrap();
    assert!(
        left.value > Duration::ZERO && left.value <= 2 * MS,
        "{left:?}"
    );
    assert_eq!(left.interval, Duration::ZERO);
    assert_eq!(t.read().unwrap(), Outcome::Expired(1));
    assert_eq!(
        t.get().unwrap(),
        TimerSpec::default(),
        "a one-shot disarms itself"
    );
}

#[test]
fn periodic_counts_expirations() {
    let t = nonblocking(Clock::MONOTONIC);
    t.set_after(MS, MS).unwrap();
    std::thread::sleep(20 * MS);
    match t.read().unwrap() {
        Outcome::Expired(n) => assert!(n >= 10, "{n} expirations in 20 ms of 1 ms ticks"),
        Outcome::Canceled => panic!("not a CANCEL_ON_SET timer"),
    }
    assert_eq!(t.get().unwrap().interval, MS);
    let old = t.disarm().unwrap();
    assert_eq!(old.interval, MS);
    assert_eq!(t.get().unwrap(), TimerSpec::default());
}

#[test]
fn absolute_on_each_clock() {
    for clock in [Clock::MONOTONIC, Clock::REALTIME, Clock::BOOTTIME] {
        let t = TimerFd::with_clock(clock, TimerFdFlags::CLOEXEC).unwrap();
        let now = clock.now().unwrap();
        t.set_at(now + 2 * MS, Duration::ZERO, false).unwrap();
        assert_eq!(t.read().unwrap(), Outcome::Expired(1), "{clock:?}");
        // A time in the past expires at once.
        t.set_at(now, Duration::ZERO, false).unwrap();
        assert_eq!(t.read().unwrap(), Outcome::Expired(1), "{clock:?}");
    }
}

#[test]
fn alarm_clocks() {
    for clock in [Clock::REALTIME_ALARM, Clock::BOOTTIME_ALARM] {
        match TimerFd::with_clock(clock, TimerFdFlags::CLOEXEC | TimerFdFlags::NONBLOCK) {
            Ok(t) => {
                t.set_after(MS, Duration::ZERO).unwrap();
                assert_eq!(
                    t.read_wait(Wait::new().timeout(Duration::from_secs(5)))
                        .unwrap(),
                    Some(Outcome::Expired(1))
                );
                match clock.now() {
                    Ok(d) => assert!(d > Duration::ZERO),
                    // The alarm clocks are readable only with an RTC.
                    Err(Errno::INVAL) => {
                        util::skipped(module_path!(), &format!("{clock:?}.now(): no alarm RTC"));
                    }
                    Err(e) => panic!("{clock:?}.now(): {e}"),
                }
            }
            // EPERM without CAP_WAKE_ALARM; EINVAL/ENODEV without an RTC
            // that can wake the machine (containers, most VMs).
            Err(e)
                if matches!(
                    e.errno(),
                    Some(Errno::PERM | Errno::INVAL | Errno::NODEV | Errno::NOTSUP)
                ) =>
            {
                util::skipped(
                    module_path!(),
                    &format!("{clock:?}: {e} (no CAP_WAKE_ALARM or no alarm RTC)"),
                );
            }
            Err(e) => panic!("{clock:?}: {e}"),
        }
    }
}

#[test]
fn eagain_when_not_expired() {
    let t = nonblocking(Clock::MONOTONIC);
    assert_eq!(t.read().map_err(|e| e.errno()), Err(Some(Errno::AGAIN)));
    t.set_after(Duration::from_secs(3600), Duration::ZERO)
        .unwrap();
    assert_eq!(t.read().map_err(|e| e.errno()), Err(Some(Errno::AGAIN)));
    assert_eq!(timerfd::read(&t), Err(Errno::AGAIN));
    t.set_nonblocking(false).unwrap();
    util::assert_kernel_nonblocking(&t);
    assert!(!t.is_nonblocking());
    // Blocking mode waits (by poll) for the expiration.
    t.set_after(Duration::from_millis(20), Duration::ZERO)
        .unwrap();
    assert_eq!(t.read().unwrap(), Outcome::Expired(1));
    t.set_nonblocking(true).unwrap();
    assert_eq!(t.read().map_err(|e| e.errno()), Err(Some(Errno::AGAIN)));
}

#[test]
fn read_wait_timeout_waker_and_expiry() {
    let t = TimerFd::new().unwrap();
    assert_eq!(t.read_wait(Wait::new().timeout(MS)).unwrap(), None);
    let waker = TimerFd::waker().unwrap();
    waker.wake().unwrap();
    assert_eq!(t.read_wait(Wait::new().waker(&waker)).unwrap(), None);
    let w = Waker::new().unwrap();
    t.set_after(MS, Duration::ZERO).unwrap();
    assert_eq!(
        t.read_wait(Wait::new().waker(&w).timeout(Duration::from_secs(5)))
            .unwrap(),
        Some(Outcome::Expired(1))
    );
}

#[test]
fn set_ticks_ioctl() {
    let t = nonblocking(Clock::MONOTONIC);
    match t.set_ticks(42) {
        Ok(()) => {
            assert_eq!(t.read(), Ok(Outcome::Expired(42)));
            assert_eq!(
                t.set_ticks(0).map_err(|e| e.errno()),
                Err(Some(Errno::INVAL)),
                "zero ticks"
            );
        }
        Err(err) if err.errno() == Some(Errno::NOTTY) => {
            util::skipped(
                module_path!(),
                "TFD_IOC_SET_TICKS: kernel built without CONFIG_CHECKPOINT_RESTORE",
            );
        }
        Err(e) => panic!("{e}"),
    }
    // On something that is not a timerfd: ENOTTY.
    let efd = kernfd::eventfd::EventFd::new(0).unwrap();
    assert_eq!(timerfd::set_ticks(&efd, 1), Err(Errno::NOTTY));
}

#[test]
fn einval_bad_flags_bad_clock_bad_time() {
    // Unknown creation flag, unknown clock, a clock timers do not support.
    assert_eq!(
        timerfd::create(Clock::MONOTONIC, TimerFdFlags::from_bits_retain(1)).unwrap_err(),
        Errno::INVAL
    );
    assert_eq!(
        timerfd::create(Clock::from_raw(99), TimerFdFlags::empty()).unwrap_err(),
        Errno::INVAL
    );
    // CLOCK_PROCESS_CPUTIME_ID (2) exists but timerfd refuses it.
    assert_eq!(
        timerfd::create(Clock::from_raw(2), TimerFdFlags::empty()).unwrap_err(),
        Errno::INVAL
    );
    assert_eq!(Clock::from_raw(99).now(), Err(Errno::INVAL));
    assert_eq!(format!("{:?}", Clock::from_raw(99)), "Clock(99)");
    assert_eq!(Clock::BOOTTIME.name(), Some("CLOCK_BOOTTIME"));
    let t = TimerFd::new().unwrap();
    // Unknown settime flag.
    let spec: Itimerspec = TimerSpec {
        value: MS,
        interval: MS,
    }
    .into();
    assert_eq!(
        timerfd::settime(&t, SetFlags::from_bits_retain(0x100), &spec).unwrap_err(),
        Errno::INVAL
    );
    // tv_nsec out of range.
    let bad = Itimerspec {
        it_interval: Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        },
        it_value: Timespec {
            tv_sec: 0,
            tv_nsec: 1_000_000_000,
        },
    };
    assert_eq!(
        timerfd::settime(&t, SetFlags::empty(), &bad).unwrap_err(),
        Errno::INVAL
    );
    // Not a timerfd.
    let efd = kernfd::eventfd::EventFd::new(0).unwrap();
    assert_eq!(timerfd::gettime(&efd).unwrap_err(), Errno::INVAL);
    assert_eq!(
        timerfd::settime(&efd, SetFlags::empty(), &spec).unwrap_err(),
        Errno::INVAL
    );
}

#[test]
fn ebadf() {
    // An O_PATH descriptor is open but refused by every call here.
    let path = rustix::fs::open("/", rustix::fs::OFlags::PATH, rustix::fs::Mode::empty()).unwrap();
    assert_eq!(timerfd::gettime(&path).unwrap_err(), Errno::BADF);
    let spec: Itimerspec = TimerSpec {
        value: MS,
        interval: Duration::ZERO,
    }
    .into();
    assert_eq!(
        timerfd::settime(&path, SetFlags::empty(), &spec).unwrap_err(),
        Errno::BADF
    );
    assert_eq!(timerfd::read(&path), Err(Errno::BADF));
    assert_eq!(timerfd::set_ticks(&path, 1), Err(Errno::BADF));
}

#[test]
fn cancel_on_set_is_an_outcome_not_a_panic() {
    if util::in_child("cancel_on_set_is_an_outcome_not_a_panic") {
        return;
    }
    if !util::is_root() {
        skip!("setting CLOCK_REALTIME needs CAP_SYS_TIME");
    }
    let t = TimerFd::with_clock(Clock::REALTIME, TimerFdFlags::CLOEXEC).unwrap();
    let now = Clock::REALTIME.now().unwrap();
    t.set_at(now + Duration::from_secs(3600), Duration::ZERO, true)
        .unwrap();
    // Set the wall clock to its own reading: no jump, but a "clock set".
    let reading = rustix::time::clock_gettime(rustix::time::ClockId::Realtime);
    match rustix::time::clock_settime(rustix::time::ClockId::Realtime, reading) {
        Ok(()) => {}
        Err(Errno::PERM) => skip!("clock_settime: EPERM (no CAP_SYS_TIME here)"),
        Err(e) => panic!("clock_settime: {e}"),
    }
    let got = t
        .read_wait(Wait::new().timeout(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(got, Some(Outcome::Canceled));
    // Canceled once; the next read waits again (timer not re-armed).
    assert_eq!(t.read_wait(Wait::new().timeout(MS)).unwrap(), None);
    // Without CANCEL_ON_SET the same clock set is not reported.
    let u = TimerFd::with_clock(Clock::REALTIME, TimerFdFlags::CLOEXEC).unwrap();
    u.set_at(now + Duration::from_secs(3600), Duration::ZERO, false)
        .unwrap();
    let reading = rustix::time::clock_gettime(rustix::time::ClockId::Realtime);
    rustix::time::clock_settime(rustix::time::ClockId::Realtime, reading).unwrap();
    assert_eq!(u.read_wait(Wait::new().timeout(5 * MS)).unwrap(), None);
    // `t` (still CANCEL_ON_SET) saw that second clock set too: setting it
    // again reports ECANCELED once, and the next set takes.
    let at = Clock::REALTIME.now().unwrap();
    let first = t.set_at(at, Duration::ZERO, true);
    assert_eq!(first.map_err(|e| e.errno()), Err(Some(Errno::CANCELED)));
    assert_eq!(
        t.get().unwrap(),
        TimerSpec::default(),
        "not armed by the failed call"
    );
    t.set_at(at, Duration::ZERO, true).unwrap();
    assert_eq!(t.read().unwrap(), Outcome::Expired(1));
}

#[test]
fn fd_traits_round_trip() {
    use rustix::fd::{AsFd, AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
    let t = nonblocking(Clock::MONOTONIC);
    let raw = t.as_raw_fd();
    assert_eq!(t.as_fd().as_raw_fd(), raw);
    // SAFETY: `into_raw_fd` released it.
    let t = unsafe { TimerFd::from_raw_fd(t.into_raw_fd()) };
    let owned: OwnedFd = t.into();
    let t = TimerFd::from(owned);
    assert_eq!(t.as_raw_fd(), raw);
    assert_eq!(
        t.read().map_err(|e| e.errno()),
        Err(Some(Errno::AGAIN)),
        "still a timerfd"
    );
}

#[test]
fn bare_calls_succeed() {
    let fd = timerfd::create(Clock::BOOTTIME, TimerFdFlags::CLOEXEC).unwrap();
    let spec: Itimerspec = TimerSpec {
        value: Duration::from_secs(60),
        interval: Duration::from_secs(1),
    }
    .into();
    let old = timerfd::settime(&fd, SetFlags::empty(), &spec).unwrap();
    assert_eq!(TimerSpec::try_from(old).unwrap(), TimerSpec::default());
    let cur = TimerSpec::try_from(timerfd::gettime(&fd).unwrap()).unwrap();
    assert!(cur.value > Duration::from_secs(59) && cur.value <= Duration::from_secs(60));
    assert_eq!(cur.interval, Duration::from_secs(1));
    // Absolute, through the bare call and the object's `set`.
    let t = TimerFd::from(fd);
    let now = Clock::BOOTTIME.now().unwrap();
    t.set(
        SetFlags::ABSTIME,
        TimerSpec {
            value: now,
            interval: Duration::ZERO,
        },
    )
    .unwrap();
    assert_eq!(timerfd::read(&t), Ok(Outcome::Expired(1)));
}
