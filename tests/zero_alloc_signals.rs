//! Every read path of signalfd, timerfd, eventfd and the waker makes no
//! heap allocation, proven with a counting global allocator.
//!
//! The count is process-wide, and libtest's main thread may still be
//! allocating (its bookkeeping after spawning a test thread) while a fast
//! test runs, so this binary has no harness (`harness = false`): `main`
//! runs each section, and threads are spawned, which allocates, outside
//! the counted sections.

mod util;

use std::time::Duration;

use kernfd::eventfd::{EventFd, EventFdFlags};
use kernfd::signal::{self, SigSet, Signal};
use kernfd::signalfd::{self, SIGINFO_LEN, SignalFd, SignalFdFlags};
use kernfd::timerfd::{Outcome, TimerFd};
use kernfd::wait::{Wait, Waker};

#[global_allocator]
static A: util::CountingAlloc = util::CountingAlloc;

fn main() {
    signalfd_read_read_wait_and_parse();
    println!("signalfd read, read_wait, drain, parse: 0 allocations");
    timerfd_read_and_read_wait();
    println!("timerfd read, read_wait: 0 allocations");
    eventfd_read_write_read_wait_and_waker();
    println!("eventfd read, write, read_wait, Waker: 0 allocations");
}

fn signalfd_read_read_wait_and_parse() {
    std::thread::spawn(|| {
        let rt = Signal::rt(4).unwrap();
        let set = SigSet::from([Signal::USR1, rt]);
        signal::block(&set).unwrap();
        let sfd =
            SignalFd::with_flags(&set, SignalFdFlags::CLOEXEC | SignalFdFlags::NONBLOCK).unwrap();
        let waker = Waker::new().unwrap();
        let mut buf = [0_u8; 8 * SIGINFO_LEN];
        let ((sum, n, parsed), allocs) = util::count_allocs(|| {
            let mut sum = 0_u32;
            let mut n = 0;
            let mut parsed = 0;
            for _ in 0..3 {
                signal::raise(Signal::USR1).unwrap();
                signal::raise(rt).unwrap();
                for info in sfd.read(&mut buf).unwrap() {
                    sum += info.unwrap().signo();
                    n += 1;
                }
                signal::raise(rt).unwrap();
                let w = Wait::new().timeout(Duration::from_secs(5)).waker(&waker);
                for info in sfd.read_wait(&mut buf, w).unwrap() {
                    sum += info.unwrap().signo();
                    n += 1;
                }
                // The bare read: nothing is left, so EAGAIN.
                assert!(signalfd::read(&sfd, &mut buf).is_err());
                // The pure parser over what a read left in the buffer.
                for info in signalfd::parse(&buf[..SIGINFO_LEN]) {
                    assert_eq!(info.unwrap().signal(), Some(rt));
                    parsed += 1;
                }
                // drain: two records, read one buffer at a time until EAGAIN.
                signal::raise(Signal::USR1).unwrap();
                signal::raise(rt).unwrap();
                let drained = sfd
                    .drain(&mut buf, |info| {
                        sum += info.unwrap().signo();
                        n += 1;
                    })
                    .unwrap();
                assert_eq!(drained, 2);
                let _ = signal::pending().unwrap();
            }
            (sum, n, parsed)
        });
        assert_eq!(allocs, 0, "signalfd reads allocated");
        assert_eq!(
            n, 15,
            "three rounds of USR1 + rt, then rt, then USR1 + rt drained"
        );
        assert_eq!(sum, 3 * (2 * 10 + 3 * u32::from(rt.as_raw())));
        assert_eq!(parsed, 3);
    })
    .join()
    .unwrap();
}

fn timerfd_read_and_read_wait() {
    let t = TimerFd::new().unwrap();
    let waker = Waker::new().unwrap();
    let (total, allocs) = util::count_allocs(|| {
        let mut total = 0;
        for _ in 0..3 {
            t.set_after(Duration::from_micros(100), Duration::ZERO)
                .unwrap();
            if let Outcome::Expired(n) = t.read().unwrap() {
                total += n;
            }
            t.set_after(Duration::from_micros(100), Duration::ZERO)
                .unwrap();
            let w = Wait::new().timeout(Duration::from_secs(5)).waker(&waker);
            if let Some(Outcome::Expired(n)) = t.read_wait(w).unwrap() {
                total += n;
            }
            let _ = t.get().unwrap();
        }
        total
    });
    assert_eq!(allocs, 0, "timerfd reads allocated");
    assert_eq!(total, 6);
}

fn eventfd_read_write_read_wait_and_waker() {
    let e = EventFd::with_flags(0, EventFdFlags::CLOEXEC | EventFdFlags::NONBLOCK).unwrap();
    let waker = Waker::new().unwrap();
    let (sum, allocs) = util::count_allocs(|| {
        let mut sum = 0;
        for i in 1..=3 {
            e.write(i).unwrap();
            sum += e.read().unwrap();
            e.write(i).unwrap();
            sum += e.read_wait(Wait::new().waker(&waker)).unwrap().unwrap();
            assert!(e.read().is_err());
            waker.wake().unwrap();
            assert!(waker.is_woken().unwrap());
            assert!(waker.reset().unwrap());
        }
        sum
    });
    assert_eq!(allocs, 0, "eventfd reads allocated");
    assert_eq!(sum, 12);
}
