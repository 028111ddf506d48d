//! eventfd against the real kernel: the counter's rules, as errors.

mod util;

use std::time::Duration;

use kernfd::Errno;
use kernfd::eventfd::{self, EventFd, EventFdFlags, MAX};
use kernfd::wait::{Wait, Waker};

fn nb(initval: u32, extra: EventFdFlags) -> EventFd {
    EventFd::with_flags(
        initval,
        EventFdFlags::CLOEXEC | EventFdFlags::NONBLOCK | extra,
    )
    .unwrap()
}

#[test]
fn new_is_cloexec_blocking_with_initial_value() {
    let e = EventFd::new(5).unwrap();
    util::assert_cloexec(&e, true);
    util::assert_kernel_nonblocking(&e);
    assert!(!e.is_nonblocking());
    assert_eq!(e.read().unwrap(), 5);
    e.write(2).unwrap();
    e.write(3).unwrap();
    assert_eq!(e.read().unwrap(), 5, "writes add up; a read takes all");
    let plain = EventFd::with_flags(0, EventFdFlags::empty()).unwrap();
    util::assert_cloexec(&plain, false);
}

#[test]
fn semaphore_mode_counts_down_by_one() {
    let e = nb(3, EventFdFlags::SEMAPHORE);
    assert_eq!(e.read(), Ok(1));
    assert_eq!(e.read(), Ok(1));
    assert_eq!(e.read(), Ok(1));
    assert_eq!(e.read().map_err(|e| e.errno()), Err(Some(Errno::AGAIN)));
}

#[test]
fn eagain_on_an_empty_nonblocking_read() {
    let e = nb(0, EventFdFlags::empty());
    assert_eq!(e.read().map_err(|e| e.errno()), Err(Some(Errno::AGAIN)));
    assert_eq!(eventfd::read(&e), Err(Errno::AGAIN));
    e.set_nonblocking(false).unwrap();
    util::assert_kernel_nonblocking(&e);
    assert!(!e.is_nonblocking());
    // Blocking mode waits (by poll) for a writer.
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(30));
            e.write(7).unwrap();
        });
        assert_eq!(e.read().unwrap(), 7);
    });
    e.set_nonblocking(true).unwrap();
    assert_eq!(e.read().map_err(|e| e.errno()), Err(Some(Errno::AGAIN)));
}

#[test]
fn overflow_is_eagain_when_nonblocking_and_max_is_einval() {
    let e = nb(0, EventFdFlags::empty());
    assert_eq!(
        e.write(u64::MAX).map_err(|e| e.errno()),
        Err(Some(Errno::INVAL)),
        "0xffffffffffffffff is refused"
    );
    e.write(MAX).unwrap();
    assert_eq!(
        e.write(1).map_err(|e| e.errno()),
        Err(Some(Errno::AGAIN)),
        "would pass MAX"
    );
    assert_eq!(eventfd::write(&e, 1), Err(Errno::AGAIN));
    e.write(0).unwrap(); // adding zero never overflows
    assert_eq!(e.read(), Ok(MAX));
    e.write(1).unwrap();
    assert_eq!(e.read(), Ok(1));
}

#[test]
fn a_blocked_write_waits_for_a_read() {
    let e = EventFd::new(0).unwrap();
    e.write(MAX).unwrap();
    std::thread::scope(|s| {
        let h = s.spawn(|| e.write(7));
        std::thread::sleep(Duration::from_millis(20));
        assert!(!h.is_finished(), "the overflowing write blocks");
        assert_eq!(e.read(), Ok(MAX));
        assert_eq!(h.join().unwrap(), Ok(()));
    });
    assert_eq!(e.read(), Ok(7));
}

#[test]
fn a_blocked_read_waits_for_a_write() {
    let e = EventFd::new(0).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(10));
            e.write(9).unwrap();
        });
        assert_eq!(e.read(), Ok(9));
    });
}

#[test]
fn read_wait_timeout_waker_and_value() {
    let e = EventFd::new(0).unwrap();
    assert_eq!(
        e.read_wait(Wait::new().timeout(Duration::from_millis(1))),
        Ok(None)
    );
    let w = EventFd::waker().unwrap();
    w.wake().unwrap();
    assert_eq!(e.read_wait(Wait::new().waker(&w)), Ok(None));
    let w2 = Waker::new().unwrap();
    e.write(4).unwrap();
    assert_eq!(e.read_wait(Wait::new().waker(&w2)), Ok(Some(4)));
}

#[test]
fn einval_and_ebadf() {
    assert_eq!(
        eventfd::create(0, EventFdFlags::from_bits_retain(0x10)).unwrap_err(),
        Errno::INVAL
    );
    let path = rustix::fs::open("/", rustix::fs::OFlags::PATH, rustix::fs::Mode::empty()).unwrap();
    assert_eq!(eventfd::read(&path), Err(Errno::BADF));
    assert_eq!(eventfd::write(&path, 1), Err(Errno::BADF));
    // A descriptor that returns fewer than 8 bytes is not an eventfd.
    let (r, w) = rustix::pipe::pipe().unwrap();
    rustix::io::write(&w, b"abc").unwrap();
    assert_eq!(eventfd::read(&r), Err(Errno::INVAL));
}

#[test]
fn the_waker_is_an_eventfd() {
    let w = Waker::new().unwrap();
    assert!(!w.is_woken().unwrap());
    w.wake().unwrap();
    w.wake().unwrap();
    assert!(w.is_woken().unwrap());
    assert_eq!(w.as_eventfd().read(), Ok(2));
    assert!(!w.reset().unwrap());
    w.wake().unwrap();
    assert!(w.reset().unwrap());
    let e: EventFd = w.into();
    assert_eq!(
        e.read().map_err(|e| e.errno()),
        Err(Some(Errno::AGAIN)),
        "non-blocking underneath"
    );
}

#[test]
fn fd_traits_round_trip() {
    use rustix::fd::{AsFd, AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
    let e = nb(1, EventFdFlags::empty());
    let raw = e.as_raw_fd();
    assert_eq!(e.as_fd().as_raw_fd(), raw);
    // SAFETY: `into_raw_fd` released it.
    let e = unsafe { EventFd::from_raw_fd(e.into_raw_fd()) };
    let owned: OwnedFd = e.into();
    let e = EventFd::from(owned);
    assert_eq!(e.as_raw_fd(), raw);
    assert_eq!(e.read(), Ok(1), "the same counter");
}

#[test]
fn bare_calls_succeed() {
    let fd = eventfd::create(2, EventFdFlags::CLOEXEC | EventFdFlags::SEMAPHORE).unwrap();
    eventfd::write(&fd, 1).unwrap();
    assert_eq!(eventfd::read(&fd), Ok(1));
    assert_eq!(eventfd::read(&fd), Ok(1));
    assert_eq!(eventfd::read(&fd), Ok(1));
    let e = EventFd::from(fd);
    e.set_nonblocking(true).unwrap();
    assert_eq!(e.read().map_err(|e| e.errno()), Err(Some(Errno::AGAIN)));
}
