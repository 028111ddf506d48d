//! signal masks and signalfd against the real kernel.
//!
//! Every test that changes a signal mask does it in a thread of its own
//! (threads have their own masks, and this one is discarded when it ends),
//! and sends signals to that thread alone (`tgkill`), so the harness's
//! threads never see them. Tests that need process-wide state run in a
//! child process.

#[macro_use]
mod util;

use std::time::Duration;

use kernfd::Errno;
use kernfd::Error;
use kernfd::signal::{self, SigSet, Signal};
use kernfd::signalfd::{self, SIGINFO_LEN, SignalFd, SignalFdFlags};
use kernfd::wait::{Wait, Waker};
use rustix::fd::AsFd;

fn in_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(f).join().unwrap()
}

fn tid() -> i32 {
    rustix::thread::gettid().as_raw_nonzero().get()
}

fn pid() -> i32 {
    rustix::process::getpid().as_raw_nonzero().get()
}

/// A kernel `siginfo_t` (128 bytes on 64-bit Linux), laid out by hand:
/// signo, errno, code, then the union at offset 16.
struct SigInfo([u8; 128]);

impl SigInfo {
    fn new(sig: Signal, code: i32) -> Self {
        let mut b = [0_u8; 128];
        b[0..4].copy_from_slice(&i32::from(sig).to_ne_bytes());
        b[8..12].copy_from_slice(&code.to_ne_bytes());
        Self(b)
    }
    fn put32(mut self, at: usize, v: u32) -> Self {
        self.0[at..at + 4].copy_from_slice(&v.to_ne_bytes());
        self
    }
    fn put64(mut self, at: usize, v: u64) -> Self {
        self.0[at..at + 8].copy_from_slice(&v.to_ne_bytes());
        self
    }
    fn put16(mut self, at: usize, v: u16) -> Self {
        self.0[at..at + 2].copy_from_slice(&v.to_ne_bytes());
        self
    }
    /// `rt_tgsigqueueinfo(getpid(), gettid(), sig, &info)`: queue this
    /// siginfo to the calling thread. To itself a thread may send any code.
    fn send(&self) {
        let sig = i32::from_ne_bytes(self.0[0..4].try_into().unwrap());
        // SAFETY: `self.0` is a 128-byte siginfo the kernel only reads.
        let r = unsafe {
            libc::syscall(
                libc::SYS_rt_tgsigqueueinfo,
                pid(),
                tid(),
                sig,
                self.0.as_ptr(),
            )
        };
        assert_eq!(
            r,
            0,
            "rt_tgsigqueueinfo: {}",
            std::io::Error::last_os_error()
        );
    }
}

#[test]
fn new_is_cloexec_and_blocking_and_reads_what_was_raised() {
    in_thread(|| {
        let set = SigSet::from([Signal::USR1]);
        signal::block(&set).unwrap();
        let sfd = SignalFd::new(&set).unwrap();
        util::assert_cloexec(&sfd, true);
        util::assert_kernel_nonblocking(&sfd);
        assert!(!sfd.is_nonblocking(), "the object's mode");
        signal::raise(Signal::USR1).unwrap();
        let mut buf = [0_u8; SIGINFO_LEN];
        let mut infos = sfd.read(&mut buf).unwrap();
        let info = infos.next().unwrap().unwrap();
        assert_eq!(info.signal(), Some(Signal::USR1));
        assert_eq!(info.code(), -6, "SI_TKILL");
        assert_eq!(info.pid(), pid() as u32);
        assert!(infos.next().is_none());
        assert!(
            !signal::pending().unwrap().contains(Signal::USR1),
            "taken from the queue"
        );
    });
}

#[test]
fn without_cloexec_when_asked() {
    let sfd = SignalFd::with_flags(&SigSet::from(Signal::USR2), SignalFdFlags::empty()).unwrap();
    util::assert_cloexec(&sfd, false);
}

#[test]
fn every_field_travels_through_the_kernel() {
    in_thread(|| {
        let set = SigSet::fill();
        signal::block(&set).unwrap();
        let sfd =
            SignalFd::with_flags(&set, SignalFdFlags::CLOEXEC | SignalFdFlags::NONBLOCK).unwrap();
        let mut buf = [0_u8; 8 * SIGINFO_LEN];

        // sigqueue: SI_QUEUE, pid, uid, sigval (int and ptr share it).
        let rt = Signal::rt(1).unwrap();
        SigInfo::new(rt, -1)
            .put32(16, 4242)
            .put32(20, 1000)
            .put64(24, 0x1234_5678_9abc_def0)
            .send();
        let i = sfd.read(&mut buf).unwrap().next().unwrap().unwrap();
        assert_eq!((i.signal(), i.code()), (Some(rt), -1));
        assert_eq!((i.pid(), i.uid()), (4242, 1000));
        assert_eq!(i.ptr(), 0x1234_5678_9abc_def0);
        assert_eq!(
            i.int(),
            0x9abc_def0_u32 as i32,
            "the low half on little-endian"
        );

        // SIGCHLD, CLD_EXITED: status, utime, stime.
        SigInfo::new(Signal::CHLD, 1)
            .put32(16, 77)
            .put32(24, 3)
            .put64(32, 11)
            .put64(40, 22)
            .send();
        let i = sfd.read(&mut buf).unwrap().next().unwrap().unwrap();
        assert_eq!((i.signal(), i.code(), i.pid()), (Some(Signal::CHLD), 1, 77));
        assert_eq!((i.status(), i.utime(), i.stime()), (3, 11, 22));

        // A POSIX timer (SI_TIMER -2): tid, overrun, sigval.
        SigInfo::new(Signal::ALRM, -2)
            .put32(16, 5)
            .put32(20, 9)
            .put64(24, 99)
            .send();
        let i = sfd.read(&mut buf).unwrap().next().unwrap().unwrap();
        assert_eq!((i.tid(), i.overrun(), i.ptr()), (5, 9, 99));

        // SIGIO, POLL_IN (1): band and fd.
        SigInfo::new(Signal::IO, 1)
            .put64(16, 0x41)
            .put32(24, 7)
            .send();
        let i = sfd.read(&mut buf).unwrap().next().unwrap().unwrap();
        assert_eq!((i.band(), i.fd()), (0x41, 7));

        // SIGBUS, BUS_MCEERR_AO (5): addr and addr_lsb.
        SigInfo::new(Signal::BUS, 5)
            .put64(16, 0xdead_b000)
            .put16(24, 12)
            .send();
        let i = sfd.read(&mut buf).unwrap().next().unwrap().unwrap();
        assert_eq!((i.addr(), i.addr_lsb()), (0xdead_b000, 12));

        // SIGSYS, SYS_SECCOMP (1): call_addr, syscall, arch.
        SigInfo::new(Signal::SYS, 1)
            .put64(16, 0x4000)
            .put32(24, 39)
            .put32(28, 0xc000_003e)
            .send();
        let i = sfd.read(&mut buf).unwrap().next().unwrap().unwrap();
        assert_eq!(
            (i.call_addr(), i.syscall(), i.arch()),
            (0x4000, 39, 0xc000_003e)
        );
        assert!(i.padding().iter().all(|&b| b == 0));
        assert_eq!(i.errno(), 0);

        assert_eq!(sfd.read(&mut buf).unwrap_err().errno(), Some(Errno::AGAIN));
    });
}

#[test]
fn standard_signals_coalesce_realtime_signals_queue() {
    in_thread(|| {
        let rt = Signal::rt(2).unwrap();
        let set = SigSet::from([Signal::USR1, rt]);
        signal::block(&set).unwrap();
        let sfd = SignalFd::with_flags(&set, SignalFdFlags::NONBLOCK).unwrap();
        for _ in 0..3 {
            signal::raise(Signal::USR1).unwrap();
            signal::raise(rt).unwrap();
        }
        let mut buf = [0_u8; 16 * SIGINFO_LEN];
        let got: Vec<_> = sfd
            .read(&mut buf)
            .unwrap()
            .map(|i| i.unwrap().signal().unwrap())
            .collect();
        assert_eq!(got, [Signal::USR1, rt, rt, rt]);
    });
}

#[test]
fn read_takes_only_what_fits() {
    in_thread(|| {
        let rt = Signal::rt(3).unwrap();
        signal::block(&SigSet::from(rt)).unwrap();
        let sfd = SignalFd::with_flags(&SigSet::from(rt), SignalFdFlags::NONBLOCK).unwrap();
        for _ in 0..3 {
            signal::raise(rt).unwrap();
        }
        // A buffer of 1.5 records takes one.
        let mut buf = [0_u8; SIGINFO_LEN * 3 / 2];
        let infos = sfd.read(&mut buf).unwrap();
        assert_eq!(infos.len(), 1);
        let mut big = [0_u8; 4 * SIGINFO_LEN];
        assert_eq!(sfd.read(&mut big).unwrap().len(), 2);
    });
}

#[test]
fn drain_reads_everything_pending_on_blocking_and_nonblocking_fds() {
    in_thread(|| {
        let rt = Signal::rt(4).unwrap();
        let set = SigSet::from([Signal::USR2, rt]);
        signal::block(&set).unwrap();
        for flags in [
            SignalFdFlags::CLOEXEC,
            SignalFdFlags::CLOEXEC | SignalFdFlags::NONBLOCK,
        ] {
            let sfd = SignalFd::with_flags(&set, flags).unwrap();
            for _ in 0..5 {
                signal::raise(rt).unwrap();
            }
            signal::raise(Signal::USR2).unwrap();
            // One record per read: draining takes six reads, then stops
            // without blocking (a blocking fd would hang a plain read).
            let mut buf = [0_u8; SIGINFO_LEN];
            let mut got = Vec::new();
            let n = sfd
                .drain(&mut buf, |i| got.push(i.unwrap().signal().unwrap()))
                .unwrap();
            assert_eq!(n, 6, "{flags:?}");
            // Standard signals are delivered first, then real-time ones.
            assert_eq!(got, [Signal::USR2, rt, rt, rt, rt, rt]);
            assert_eq!(
                sfd.drain(&mut buf, |_| -> std::ops::ControlFlow<()> {
                    panic!("nothing pending")
                })
                .unwrap(),
                0
            );
            assert!(signal::pending().unwrap().is_empty());
        }
        let sfd = SignalFd::new(&set).unwrap();
        let mut small = [0_u8; SIGINFO_LEN - 1];
        assert!(matches!(
            sfd.drain(&mut small, |_| ()),
            Err(Error::BufferTooSmall { .. })
        ));
    });
}

#[test]
fn uninit_and_unaligned_buffers() {
    in_thread(|| {
        signal::block(&SigSet::from(Signal::USR2)).unwrap();
        let sfd = SignalFd::new(&SigSet::from(Signal::USR2)).unwrap();
        signal::raise(Signal::USR2).unwrap();
        let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 2 * SIGINFO_LEN + 1];
        let i = sfd.read(&mut buf[1..]).unwrap().next().unwrap().unwrap();
        assert_eq!(i.signal(), Some(Signal::USR2));
    });
}

#[test]
fn eagain_on_an_empty_nonblocking_read_and_set_nonblocking() {
    in_thread(|| {
        let set = SigSet::from(Signal::USR1);
        signal::block(&set).unwrap();
        let sfd = SignalFd::new(&set).unwrap();
        sfd.set_nonblocking(true).unwrap();
        let mut buf = [0_u8; SIGINFO_LEN];
        assert_eq!(sfd.read(&mut buf).unwrap_err().errno(), Some(Errno::AGAIN));
        assert_eq!(signalfd::read(&sfd, &mut buf).unwrap_err(), Errno::AGAIN);
        assert_eq!(
            std::io::Error::from(sfd.read(&mut buf).unwrap_err()).kind(),
            std::io::ErrorKind::WouldBlock
        );
        sfd.set_nonblocking(false).unwrap();
        util::assert_kernel_nonblocking(&sfd);
        assert!(!sfd.is_nonblocking());
    });
}

#[test]
fn read_wait_timeout_waker_and_signal() {
    in_thread(|| {
        let set = SigSet::from(Signal::USR1);
        signal::block(&set).unwrap();
        let sfd = SignalFd::new(&set).unwrap();
        let mut buf = [0_u8; SIGINFO_LEN];
        let got = sfd
            .read_wait(&mut buf, Wait::new().timeout(Duration::from_millis(5)))
            .unwrap();
        assert!(got.is_empty(), "timed out");
        let waker = SignalFd::waker().unwrap();
        waker.wake().unwrap();
        assert!(
            sfd.read_wait(&mut buf, Wait::new().waker(&waker))
                .unwrap()
                .is_empty()
        );
        waker.reset().unwrap();
        signal::raise(Signal::USR1).unwrap();
        let mut got = sfd
            .read_wait(
                &mut buf,
                Wait::new().waker(&waker).timeout(Duration::from_secs(5)),
            )
            .unwrap();
        assert_eq!(got.next().unwrap().unwrap().signal(), Some(Signal::USR1));
        let mut small = [0_u8; 8];
        assert_eq!(
            sfd.read_wait(&mut small, Wait::new()).unwrap_err(),
            Error::BufferTooSmall {
                len: 8,
                needed: SIGINFO_LEN
            }
        );
    });
}

#[test]
fn a_blocked_read_is_ended_by_a_waker_from_another_thread() {
    in_thread(|| {
        let set = SigSet::from(Signal::USR2);
        signal::block(&set).unwrap();
        let sfd = SignalFd::new(&set).unwrap();
        let waker = Waker::new().unwrap();
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(20));
                waker.wake().unwrap();
            });
            let mut buf = [0_u8; SIGINFO_LEN];
            assert!(
                sfd.read_wait(&mut buf, Wait::new().waker(&waker))
                    .unwrap()
                    .is_empty()
            );
        });
    });
}

#[test]
fn set_mask_changes_what_is_reported() {
    in_thread(|| {
        let both = SigSet::from([Signal::USR1, Signal::USR2]);
        signal::block(&both).unwrap();
        let sfd =
            SignalFd::with_flags(&SigSet::from(Signal::USR1), SignalFdFlags::NONBLOCK).unwrap();
        signal::raise(Signal::USR2).unwrap();
        let mut buf = [0_u8; SIGINFO_LEN];
        assert_eq!(sfd.read(&mut buf).unwrap_err().errno(), Some(Errno::AGAIN));
        signalfd::set_mask(&sfd, &both).unwrap();
        let i = sfd.read(&mut buf).unwrap().next().unwrap().unwrap();
        assert_eq!(i.signal(), Some(Signal::USR2));
    });
}

#[test]
fn errors_einval_ebadf_and_refusals() {
    let set = SigSet::from(Signal::USR1);
    // EINVAL: unknown flags.
    assert_eq!(
        signalfd::create(&set, SignalFdFlags::from_bits_retain(0x10)).unwrap_err(),
        Errno::INVAL
    );
    // EINVAL: not a signalfd.
    let efd = kernfd::eventfd::EventFd::new(0).unwrap();
    assert_eq!(signalfd::set_mask(&efd, &set), Err(Errno::INVAL));
    // EBADF: an O_PATH descriptor is open but unusable for I/O.
    let path = rustix::fs::open("/", rustix::fs::OFlags::PATH, rustix::fs::Mode::empty()).unwrap();
    assert_eq!(signalfd::set_mask(&path, &set), Err(Errno::BADF));
    let mut buf = [0_u8; SIGINFO_LEN];
    assert_eq!(signalfd::read(&path, &mut buf).unwrap_err(), Errno::BADF);
    // Reserved signals: refused, clearly, for create and set_mask.
    for sig in signal::RESERVED {
        let bad = SigSet::from(sig);
        let e = SignalFd::new(&bad).unwrap_err();
        assert_eq!(e, Error::ReservedSignal(sig));
        assert_eq!(e.errno(), Some(Errno::INVAL));
        assert!(e.to_string().contains("reserved"), "{e}");
    }
    let sfd = SignalFd::new(&set).unwrap();
    assert!(matches!(
        sfd.set_mask(&SigSet::all()),
        Err(Error::ReservedSignal(_))
    ));
    // Too small a buffer: refused before the kernel, which would say EINVAL.
    let mut small = [0_u8; 100];
    assert_eq!(
        sfd.read(&mut small).unwrap_err(),
        Error::BufferTooSmall {
            len: 100,
            needed: SIGINFO_LEN
        }
    );
    assert_eq!(signalfd::read(&sfd, &mut small).unwrap_err(), Errno::INVAL);
    assert!(
        sfd.read(&mut small)
            .unwrap_err()
            .to_string()
            .contains("128")
    );
}

#[test]
fn reserved_signals_with_the_unsafe_opt_in() {
    in_thread(|| {
        let sig = Signal::new(34).unwrap();
        let set = SigSet::from(sig);
        // SAFETY: this thread runs no code that needs signal 34 (glibc
        // uses 32 and 33; musl's 34 is for its timer threads).
        unsafe { signal::sigprocmask_unchecked(signal::How::Block, Some(&set)).unwrap() };
        // The bare call takes any signal.
        let fd = signalfd::create(&set, SignalFdFlags::CLOEXEC | SignalFdFlags::NONBLOCK).unwrap();
        let sfd = SignalFd::from(fd);
        signal::raise(sig).unwrap();
        let mut buf = [0_u8; SIGINFO_LEN];
        let i = sfd.read(&mut buf).unwrap().next().unwrap().unwrap();
        assert_eq!(i.signo(), 34);
    });
}

#[test]
fn fd_traits_round_trip() {
    use rustix::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
    let sfd = SignalFd::with_flags(&SigSet::from(Signal::USR1), SignalFdFlags::NONBLOCK).unwrap();
    let raw = sfd.as_raw_fd();
    assert_eq!(sfd.as_fd().as_raw_fd(), raw);
    let raw2 = sfd.into_raw_fd();
    assert_eq!(raw, raw2);
    // SAFETY: `raw2` was just released by `into_raw_fd`.
    let sfd = unsafe { SignalFd::from_raw_fd(raw2) };
    let owned: OwnedFd = sfd.into();
    let sfd = SignalFd::from(owned);
    assert_eq!(sfd.as_raw_fd(), raw, "the same descriptor all along");
    let mut buf = [0_u8; SIGINFO_LEN];
    assert_eq!(
        sfd.read(&mut buf).unwrap_err().errno(),
        Some(Errno::AGAIN),
        "still a signalfd"
    );
}

#[test]
fn epoll_reports_a_signalfd_readable() {
    // (Process-directed signals, sent with kill(2), are proven by the
    // event-loop test, whose own main thread blocks them.)
    in_thread(|| {
        use rustix::event::epoll;
        let set = SigSet::from([Signal::HUP, Signal::TERM]);
        signal::block(&set).unwrap();
        let sfd =
            SignalFd::with_flags(&set, SignalFdFlags::CLOEXEC | SignalFdFlags::NONBLOCK).unwrap();
        let ep = epoll::create(epoll::CreateFlags::CLOEXEC).unwrap();
        epoll::add(
            &ep,
            &sfd,
            epoll::EventData::new_u64(7),
            epoll::EventFlags::IN,
        )
        .unwrap();
        let mut events = Vec::with_capacity(4);
        let zero = rustix::time::Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        epoll::wait(
            &ep,
            rustix::buffer::spare_capacity(&mut events),
            Some(&zero),
        )
        .unwrap();
        assert!(events.is_empty());
        signal::raise(Signal::TERM).unwrap();
        let five = rustix::time::Timespec {
            tv_sec: 5,
            tv_nsec: 0,
        };
        epoll::wait(
            &ep,
            rustix::buffer::spare_capacity(&mut events),
            Some(&five),
        )
        .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].data.u64(), 7);
        let mut buf = [0_u8; SIGINFO_LEN];
        let i = sfd.read(&mut buf).unwrap().next().unwrap().unwrap();
        assert_eq!(i.signal(), Some(Signal::TERM));
    });
}

#[test]
fn mask_calls_in_a_child_process() {
    if util::in_child("mask_calls_in_a_child_process") {
        return;
    }
    // Only the child gets here; its harness thread may change its mask.
    let start = signal::thread_mask().unwrap();
    let old = signal::block(&SigSet::from([Signal::USR1, Signal::WINCH])).unwrap();
    assert_eq!(old, start);
    let after = signal::unblock(&SigSet::from(Signal::WINCH)).unwrap();
    assert!(after.contains(Signal::WINCH));
    assert!(!signal::thread_mask().unwrap().contains(Signal::WINCH));
    // A pending blocked signal is visible, and waitable.
    signal::raise(Signal::USR1).unwrap();
    assert!(signal::pending().unwrap().contains(Signal::USR1));
    assert_eq!(
        signal::sigtimedwait(&SigSet::from(Signal::USR1), Some(Duration::from_secs(5))),
        Ok(Signal::USR1)
    );
    assert_eq!(
        signal::sigtimedwait(&SigSet::from(Signal::USR1), Some(Duration::from_millis(1)))
            .map_err(|e| e.errno()),
        Err(Some(Errno::AGAIN))
    );
    signal::set_thread_mask(&start).unwrap();
    assert_eq!(signal::thread_mask().unwrap(), start);
    // Reserved: refused with a message that says why, nothing changed.
    let e = signal::block(&SigSet::all()).unwrap_err();
    assert_eq!(e, Error::ReservedSignal(Signal::new(32).unwrap()));
    assert_eq!(
        std::io::Error::from(e).kind(),
        std::io::ErrorKind::InvalidInput
    );
    assert_eq!(signal::thread_mask().unwrap(), start);
}

#[test]
fn bare_calls_succeed() {
    in_thread(|| {
        let set = SigSet::from(Signal::USR1);
        assert_eq!(
            signal::sigprocmask(signal::How::Block, Some(&set)),
            Ok(signal::thread_mask().unwrap().difference(set))
        );
        assert!(
            signal::sigprocmask(signal::How::Block, None)
                .unwrap()
                .contains(Signal::USR1)
        );
        let fd = signalfd::create(&set, SignalFdFlags::CLOEXEC).unwrap();
        signal::raise(Signal::USR1).unwrap();
        let mut buf = [0_u8; SIGINFO_LEN];
        let info = signalfd::read(&fd, &mut buf)
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(info.signal(), Some(Signal::USR1));
        let old = signal::sigprocmask(signal::How::Unblock, Some(&set)).unwrap();
        assert!(old.contains(Signal::USR1));
        assert!(!signal::thread_mask().unwrap().contains(Signal::USR1));
        let old = signal::sigprocmask(signal::How::SetMask, Some(&old)).unwrap();
        assert!(!old.contains(Signal::USR1));
        assert!(signal::thread_mask().unwrap().contains(Signal::USR1));
    });
}
