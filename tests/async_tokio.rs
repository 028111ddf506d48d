//! The tokio layer (`kernfd::tokio`): every object's async calls against
//! the real kernel, bursts with no loss, cancellation of pending futures,
//! tasks contending for one object, and a current-thread runtime that keeps
//! running while reads wait. Needs `--features tokio` (CI: `--all-features`).
#![cfg(feature = "tokio")]

mod util;

use std::collections::HashSet;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use kernfd::eventfd::EventFd;
use kernfd::fanotify::{EventFlags as FanFlags, InitFlags as FanInit, MarkType};
use kernfd::inotify::{EventFlags, Inotify, WatchFlags};
use kernfd::signal::{self, SigSet, Signal};
use kernfd::signalfd::SignalFd;
use kernfd::timerfd::{Outcome, TimerFd};
use kernfd::tokio::Async;
use kernfd::{Errno, Error};

/// A current-thread runtime with IO and timers.
fn current() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A two-worker runtime.
fn multi() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Polls `fut` once; `true` when it is still pending.
async fn pending_once<F: Future>(fut: std::pin::Pin<&mut F>) -> bool {
    let mut fut = fut;
    std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx).is_pending())).await
}

/// A watched directory holding files `a` and `b`, watched for `OPEN`.
fn watched() -> (tempfile::TempDir, Async<Inotify>) {
    let dir = util::tempdir();
    std::fs::write(dir.path().join("a"), b"").unwrap();
    std::fs::write(dir.path().join("b"), b"").unwrap();
    let inotify = Async::new(Inotify::new().unwrap()).unwrap();
    util::within_inotify_limits(inotify.get_ref().add_watch(dir.path(), WatchFlags::OPEN));
    (dir, inotify)
}

#[test]
fn new_switches_the_mode_and_into_inner_restores_it() {
    current().block_on(async {
        let blocking = Inotify::new().unwrap();
        assert!(!blocking.is_nonblocking());
        let wrapped = Async::new(blocking).unwrap();
        assert!(
            wrapped.get_ref().is_nonblocking(),
            "reads return EAGAIN while wrapped"
        );
        let raw = std::os::fd::AsRawFd::as_raw_fd(wrapped.get_ref());
        assert_eq!(std::os::fd::AsRawFd::as_raw_fd(&wrapped), raw);
        assert_eq!(
            std::os::fd::AsRawFd::as_raw_fd(&std::os::fd::AsFd::as_fd(&wrapped)),
            raw
        );
        // Switched back behind its back: the next async call undoes it.
        wrapped.get_ref().set_nonblocking(false).unwrap();
        assert!(
            tokio::time::timeout(Duration::from_millis(5), wrapped.read(&mut [0_u8; 4096]))
                .await
                .is_err()
        );
        assert!(wrapped.get_ref().is_nonblocking());
        let back = wrapped.into_inner().unwrap();
        assert!(!back.is_nonblocking(), "the mode it had");
        util::assert_kernel_nonblocking(&back);
    });
}

#[test]
fn new_outside_a_runtime_is_eio_not_a_panic() {
    let e = Async::new(EventFd::new(0).unwrap()).unwrap_err();
    assert!(
        matches!(e, Error::Os { call: "tokio", errno } if errno == Errno::IO),
        "{e:?}"
    );
}

#[test]
fn new_on_a_descriptor_epoll_cannot_watch_is_eperm() {
    current().block_on(async {
        let file = std::fs::File::open("/proc/self/exe").unwrap();
        let fake = EventFd::from(std::os::fd::OwnedFd::from(file));
        let e = Async::new(fake).unwrap_err();
        assert!(
            matches!(e, Error::Os { call: "tokio", errno } if errno == Errno::PERM),
            "{e:?}"
        );
    });
}

#[test]
fn inotify_read_awaits_and_iterates_in_place() {
    current().block_on(async {
        let (dir, inotify) = watched();
        let mut buf = [0_u8; 4096];
        let waiting = tokio::spawn(async move {
            let names: Vec<Vec<u8>> = inotify
                .read(&mut buf)
                .await
                .unwrap()
                .map(|e| e.unwrap().name_bytes().to_vec())
                .collect();
            names
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        std::fs::File::open(dir.path().join("a")).unwrap();
        assert_eq!(waiting.await.unwrap(), [b"a".to_vec()]);
    });
}

#[test]
fn inotify_read_refuses_a_short_buffer_before_any_syscall() {
    current().block_on(async {
        let (_dir, inotify) = watched();
        let mut buf = [0_u8; 8];
        let e = inotify.read(&mut buf).await.unwrap_err();
        assert!(matches!(e, Error::BufferTooSmall { len: 8, .. }), "{e:?}");
        assert!(matches!(
            inotify.reader(&mut buf).unwrap_err(),
            Error::BufferTooSmall { .. }
        ));
    });
}

/// Events in a burst, with the reader running concurrently: more than the
/// default queue (16384) holds, so a reader that lost a wakeup overflows;
/// the producer stays at most 8,000 ahead, so none overflows otherwise.
const BURST: usize = 100_000;

/// Opens `a` and `b` alternately `n` times from a new thread, never more
/// than 8,000 ahead of `consumed`, so the queue (16,384) never overflows
/// while the reader keeps up.
fn open_alternately(
    dir: &std::path::Path,
    n: usize,
    consumed: Arc<AtomicUsize>,
) -> std::thread::JoinHandle<()> {
    let (a, b) = (dir.join("a"), dir.join("b"));
    std::thread::spawn(move || {
        for i in 0..n {
            while i > consumed.load(Ordering::Relaxed) + 8_000 {
                std::thread::yield_now();
            }
            std::fs::File::open(if i % 2 == 0 { &a } else { &b }).unwrap();
        }
    })
}

#[test]
fn a_burst_through_read_loses_nothing_and_keeps_order() {
    current().block_on(async {
        let (dir, inotify) = watched();
        let consumed = Arc::new(AtomicUsize::new(0));
        let producer = open_alternately(dir.path(), BURST, consumed.clone());
        let mut buf = [0_u8; 4096];
        let mut seen = 0;
        while seen < BURST {
            for event in inotify.read(&mut buf).await.unwrap() {
                let event = event.unwrap(); // an overflow is an error item
                assert_eq!(event.mask(), EventFlags::OPEN);
                let want: &[u8] = if seen % 2 == 0 { b"a" } else { b"b" };
                assert_eq!(event.name_bytes(), want, "event {seen}");
                seen += 1;
            }
            consumed.store(seen, Ordering::Relaxed);
        }
        producer.join().unwrap();
        let mut none = pin!(inotify.read(&mut buf));
        assert!(pending_once(none.as_mut()).await, "exactly {BURST} events");
    });
}

#[test]
fn a_burst_through_read_event_loses_nothing() {
    current().block_on(async {
        let (dir, inotify) = watched();
        let consumed = Arc::new(AtomicUsize::new(0));
        let producer = open_alternately(dir.path(), BURST, consumed.clone());
        let mut buf = [0_u8; 4096];
        let mut reader = inotify.reader(&mut buf).unwrap();
        for seen in 0..BURST {
            let event = reader.read_event().await.unwrap().unwrap();
            let want: &[u8] = if seen % 2 == 0 { b"a" } else { b"b" };
            assert_eq!(event.name_bytes(), want, "event {seen}");
            consumed.store(seen + 1, Ordering::Relaxed);
        }
        producer.join().unwrap();
        assert_eq!(reader.buffered(), 0);
    });
}

/// Queues `sig` with `value` at thread `tid` of process `pid`, as
/// `sigqueue(3)` would (code `SI_QUEUE`, the value at offset 24 of the
/// `siginfo_t`).
fn queue_signal(pid: u32, tid: i32, sig: i32, value: u64) {
    let mut info = [0_u8; 128];
    info[0..4].copy_from_slice(&sig.to_ne_bytes());
    info[8..12].copy_from_slice(&libc::SI_QUEUE.to_ne_bytes());
    info[24..32].copy_from_slice(&value.to_ne_bytes());
    // SAFETY: `info` is a 128-byte siginfo the kernel only reads.
    let r = unsafe { libc::syscall(libc::SYS_rt_tgsigqueueinfo, pid, tid, sig, info.as_ptr()) };
    assert_eq!(r, 0, "{}", std::io::Error::last_os_error());
}

/// Creates files `0` to `n - 1` in `dir` from a blocking thread, then
/// checks that the names tasks `one` and `two` read are `n`, each once.
async fn create_and_check_split(
    dir: &std::path::Path,
    n: usize,
    one: tokio::task::JoinHandle<Vec<Vec<u8>>>,
    two: tokio::task::JoinHandle<Vec<Vec<u8>>>,
) {
    let path = dir.to_owned();
    tokio::task::spawn_blocking(move || {
        for i in 0..n {
            std::fs::File::create(path.join(i.to_string())).unwrap();
        }
    })
    .await
    .unwrap();
    let (one, two) = (one.await.unwrap(), two.await.unwrap());
    assert_eq!(one.len() + two.len(), n);
    let all: HashSet<_> = one.iter().chain(&two).collect();
    assert_eq!(all.len(), n, "each event went to one task");
}

#[test]
fn a_burst_of_real_time_signals_loses_none_and_keeps_order() {
    // Real-time signals queue (up to RLIMIT_SIGPENDING), each with its
    // value: a producer thread queues BURST of them at the process, never
    // more than 8,000 ahead, and the reader must see each value once, in
    // order.
    if util::in_child("a_burst_of_real_time_signals_loses_none_and_keeps_order") {
        return;
    }
    let rt1 = Signal::rt(1).unwrap();
    let set = SigSet::from([rt1]);
    signal::block(&set).unwrap(); // before any thread: every thread blocks it
    let consumed = Arc::new(AtomicUsize::new(0));
    let producer = {
        let consumed = consumed.clone();
        let sig = i32::from(rt1.as_raw());
        // The signals go to this thread (the runtime's), which blocks the
        // signal; a process-directed one could reach the harness's main
        // thread, which does not.
        let (pid, tid) = (
            std::process::id(),
            rustix::thread::gettid().as_raw_nonzero().get(),
        );
        std::thread::spawn(move || {
            for i in 0..BURST {
                while i > consumed.load(Ordering::Relaxed) + 8_000 {
                    std::thread::yield_now();
                }
                queue_signal(pid, tid, sig, i as u64);
            }
        })
    };
    current().block_on(async {
        let signals = Async::new(SignalFd::new(&set).unwrap()).unwrap();
        let mut buf = [0_u8; 128 * 64];
        let mut seen = 0;
        while seen < BURST {
            for info in signals.read(&mut buf).await.unwrap() {
                let info = info.unwrap();
                assert_eq!(info.signal(), Some(rt1));
                assert_eq!(info.ptr(), seen as u64, "signal {seen}");
                seen += 1;
            }
            consumed.store(seen, Ordering::Relaxed);
        }
        let mut none = pin!(signals.read(&mut buf));
        assert!(pending_once(none.as_mut()).await, "exactly {BURST} signals");
    });
    producer.join().unwrap();
}

#[test]
fn a_burst_of_eventfd_writes_loses_no_count() {
    // BURST writes of 1 from another thread: the sums the async reads
    // return add up to BURST exactly.
    current().block_on(async {
        let counter = Arc::new(Async::new(EventFd::new(0).unwrap()).unwrap());
        let writer = counter.clone();
        let producer = std::thread::spawn(move || {
            for _ in 0..BURST {
                writer.get_ref().write(1).unwrap();
            }
        });
        let mut sum = 0;
        while sum < BURST as u64 {
            sum += counter.read().await.unwrap();
        }
        producer.join().unwrap();
        assert_eq!(sum, BURST as u64);
        let mut none = pin!(counter.read());
        assert!(pending_once(none.as_mut()).await, "nothing more");
    });
}

#[test]
fn a_burst_of_fanotify_events_loses_none() {
    // BURST files created on a tmpfs, reported with their names (FID mode:
    // events for different names never merge, as two opens of one file
    // may), read as they come, never more than 8,000 behind: no overflow,
    // each name once, in order.
    if util::in_mount_ns() {
        return;
    }
    let (dir, fan) = or_skip!(util::fanotify::watched_tmpfs(
        FanInit::CLASS_NOTIF | FanInit::REPORT_DFID_NAME,
        MarkType::Filesystem,
        FanFlags::CREATE,
    ));
    current().block_on(async {
        let fan = Async::new(fan).unwrap();
        let consumed = Arc::new(AtomicUsize::new(0));
        let producer = {
            let (dir, consumed) = (dir.path().to_owned(), consumed.clone());
            std::thread::spawn(move || {
                for i in 0..BURST {
                    while i > consumed.load(Ordering::Relaxed) + 8_000 {
                        std::thread::yield_now();
                    }
                    std::fs::File::create(dir.join(i.to_string())).unwrap();
                }
            })
        };
        let mut buf = vec![0_u8; 65536];
        let mut seen = 0;
        while seen < BURST {
            for event in fan.read(&mut buf[..]).await.unwrap() {
                let event = event.unwrap(); // an overflow is an error item
                assert!(event.mask().contains(FanFlags::CREATE));
                let fid = event.fid().unwrap();
                assert_eq!(fid.name_bytes(), Some(seen.to_string().as_bytes()));
                seen += 1;
            }
            consumed.store(seen, Ordering::Relaxed);
        }
        producer.join().unwrap();
        let mut none = pin!(fan.read(&mut buf[..]));
        assert!(pending_once(none.as_mut()).await, "exactly {BURST} events");
    });
}

#[test]
fn a_dropped_pending_read_loses_no_event() {
    current().block_on(async {
        let (dir, inotify) = watched();
        let mut buf = [0_u8; 4096];
        // One cancelled by a timeout in a select, with nothing queued.
        tokio::select! {
            biased;
            r = inotify.read(&mut buf) => panic!("nothing was queued: {:?}", r.map(Iterator::count)),
            () = tokio::time::sleep(Duration::from_millis(1)) => {}
        }
        {
            let mut read = pin!(inotify.read(&mut buf));
            assert!(pending_once(read.as_mut()).await, "nothing queued yet");
            // Readiness arrives while the future is pending; it is dropped
            // without being polled again.
            std::fs::File::open(dir.path().join("a")).unwrap();
            std::fs::File::open(dir.path().join("b")).unwrap();
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let names: Vec<_> = inotify
            .read(&mut buf)
            .await
            .unwrap()
            .map(|e| e.unwrap().name_bytes().to_vec())
            .collect();
        assert_eq!(names, [b"a".to_vec(), b"b".to_vec()]);
    });
}

#[test]
fn a_dropped_pending_read_event_loses_no_event_buffered_or_queued() {
    current().block_on(async {
        let (dir, inotify) = watched();
        for name in ["a", "b", "a"] {
            std::fs::File::open(dir.path().join(name)).unwrap();
        }
        let mut buf = [0_u8; 4096];
        let mut reader = inotify.reader(&mut buf).unwrap();
        assert_eq!(
            reader.read_event().await.unwrap().unwrap().name_bytes(),
            b"a"
        );
        assert!(reader.buffered() > 0, "one read took all three");
        assert_eq!(
            reader.read_event().await.unwrap().unwrap().name_bytes(),
            b"b"
        );
        assert_eq!(
            reader.read_event().await.unwrap().unwrap().name_bytes(),
            b"a"
        );
        {
            let mut next = pin!(reader.read_event());
            assert!(pending_once(next.as_mut()).await);
            std::fs::File::open(dir.path().join("b")).unwrap();
        }
        let timed = tokio::time::timeout(Duration::from_millis(5), reader.read_event()).await;
        // The event may arrive within the timeout (then it was read) or the
        // timeout dropped a ready future: either way it is not lost.
        let name = match timed {
            Ok(event) => event.unwrap().unwrap().name_bytes().to_vec(),
            Err(_) => reader
                .read_event()
                .await
                .unwrap()
                .unwrap()
                .name_bytes()
                .to_vec(),
        };
        assert_eq!(name, b"b");
        // `read_events` hands out the rest of a read at once.
        for name in ["a", "b"] {
            std::fs::File::open(dir.path().join(name)).unwrap();
        }
        let rest: Vec<_> = reader
            .read_events()
            .await
            .unwrap()
            .map(|e| e.unwrap().name_bytes().to_vec())
            .collect();
        assert_eq!(rest, [b"a".to_vec(), b"b".to_vec()]);
    });
}

#[test]
fn two_tasks_contending_for_one_instance_share_every_event_once() {
    multi().block_on(async {
        const N: usize = 2_000;
        let dir = util::tempdir();
        let inotify = Arc::new(Async::new(Inotify::new().unwrap()).unwrap());
        util::within_inotify_limits(inotify.get_ref().add_watch(dir.path(), WatchFlags::CREATE));
        let total = Arc::new(AtomicUsize::new(0));
        let task = |inotify: Arc<Async<Inotify>>, total: Arc<AtomicUsize>| async move {
            let mut names = Vec::new();
            let mut buf = [0_u8; 1024]; // a few events per read
            while total.load(Ordering::SeqCst) < N {
                let Ok(events) =
                    tokio::time::timeout(Duration::from_millis(50), inotify.read(&mut buf)).await
                else {
                    continue;
                };
                for event in events.unwrap() {
                    names.push(event.unwrap().name_bytes().to_vec());
                    total.fetch_add(1, Ordering::SeqCst);
                }
            }
            names
        };
        let one = tokio::spawn(task(inotify.clone(), total.clone()));
        let two = tokio::spawn(task(inotify.clone(), total.clone()));
        create_and_check_split(dir.path(), N, one, two).await;
    });
}

#[test]
fn two_tasks_contending_for_an_eventfd_read_every_count_once() {
    multi().block_on(async {
        const N: u64 = 5_000;
        let counter = Arc::new(Async::new(EventFd::new(0).unwrap()).unwrap());
        let sum = Arc::new(AtomicUsize::new(0));
        let task = |counter: Arc<Async<EventFd>>, sum: Arc<AtomicUsize>| async move {
            while sum.load(Ordering::SeqCst) < N as usize {
                if let Ok(got) =
                    tokio::time::timeout(Duration::from_millis(50), counter.read()).await
                {
                    sum.fetch_add(got.unwrap() as usize, Ordering::SeqCst);
                }
            }
        };
        let one = tokio::spawn(task(counter.clone(), sum.clone()));
        let two = tokio::spawn(task(counter.clone(), sum.clone()));
        for _ in 0..N {
            counter.write(1).await.unwrap();
        }
        one.await.unwrap();
        two.await.unwrap();
        assert_eq!(sum.load(Ordering::SeqCst), N as usize);
    });
}

#[test]
fn two_tasks_contending_for_a_signalfd_get_every_signal_once() {
    // Two tasks on the runtime's thread, which the signals are sent to
    // (a signalfd reads the reading thread's and the process's signals).
    const N: usize = 2_000;
    if util::in_child("two_tasks_contending_for_a_signalfd_get_every_signal_once") {
        return;
    }
    let rt1 = Signal::rt(1).unwrap();
    let set = SigSet::from([rt1]);
    signal::block(&set).unwrap();
    let (pid, tid) = (
        std::process::id(),
        rustix::thread::gettid().as_raw_nonzero().get(),
    );
    current().block_on(async {
        let signals = std::rc::Rc::new(Async::new(SignalFd::new(&set).unwrap()).unwrap());
        let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let task = |signals: std::rc::Rc<Async<SignalFd>>,
                    seen: std::rc::Rc<std::cell::RefCell<Vec<u64>>>| async move {
            let mut buf = [0_u8; 128 * 4]; // a few signals per read
            let mut mine = 0;
            while seen.borrow().len() < N {
                let Ok(got) =
                    tokio::time::timeout(Duration::from_millis(50), signals.read(&mut buf)).await
                else {
                    continue;
                };
                for info in got.unwrap() {
                    seen.borrow_mut().push(info.unwrap().ptr());
                    mine += 1;
                }
                tokio::task::yield_now().await;
            }
            mine
        };
        let local = tokio::task::LocalSet::new();
        let (one, two) = local
            .run_until(async {
                let one = tokio::task::spawn_local(task(signals.clone(), seen.clone()));
                let two = tokio::task::spawn_local(task(signals.clone(), seen.clone()));
                let sig = i32::from(rt1.as_raw());
                let producer = std::thread::spawn(move || {
                    for i in 0..N {
                        queue_signal(pid, tid, sig, i as u64);
                    }
                });
                let got = (one.await.unwrap(), two.await.unwrap());
                producer.join().unwrap();
                got
            })
            .await;
        assert_eq!(one + two, N);
        let all: HashSet<u64> = seen.borrow().iter().copied().collect();
        assert_eq!(all.len(), N, "each signal went to one task");
    });
}

#[test]
fn two_tasks_contending_for_a_fanotify_group_get_every_event_once() {
    const N: usize = 2_000;
    if util::in_mount_ns() {
        return;
    }
    let (dir, fan) = or_skip!(util::fanotify::watched_tmpfs(
        FanInit::CLASS_NOTIF | FanInit::REPORT_DFID_NAME,
        MarkType::Filesystem,
        FanFlags::CREATE,
    ));
    multi().block_on(async {
        let fan = Arc::new(Async::new(fan).unwrap());
        let total = Arc::new(AtomicUsize::new(0));
        let task = |fan: Arc<Async<kernfd::fanotify::Fanotify>>, total: Arc<AtomicUsize>| async move {
            let mut names = Vec::new();
            let mut buf = vec![0_u8; 4096]; // some events per read
            while total.load(Ordering::SeqCst) < N {
                let Ok(events) =
                    tokio::time::timeout(Duration::from_millis(50), fan.read(&mut buf[..])).await
                else {
                    continue;
                };
                for event in events.unwrap() {
                    let event = event.unwrap();
                    names.push(event.fid().unwrap().name_bytes().unwrap().to_vec());
                    total.fetch_add(1, Ordering::SeqCst);
                }
            }
            names
        };
        let one = tokio::spawn(task(fan.clone(), total.clone()));
        let two = tokio::spawn(task(fan.clone(), total.clone()));
        create_and_check_split(dir.path(), N, one, two).await;
    });
}

/// Runs `read` on a current-thread runtime beside a 10 ms interval; the
/// read is satisfied after about 200 ms by another thread. Returns the
/// ticks seen meanwhile: a read that blocked the thread would let none
/// through.
fn ticks_while<F: Future>(rt: &tokio::runtime::Runtime, read: F) -> (F::Output, u32) {
    rt.block_on(async {
        let mut interval = tokio::time::interval(Duration::from_millis(10));
        let mut read = pin!(read);
        let mut ticks = 0;
        loop {
            tokio::select! {
                got = &mut read => return (got, ticks),
                _ = interval.tick() => ticks += 1,
            }
        }
    })
}

#[test]
fn nothing_blocks_the_current_thread_runtime() {
    // Every object is made in blocking mode: `Async::new` switches it.
    let dir = util::tempdir();
    let path = dir.path().join("late");
    let rt = current();
    let inotify = rt.block_on(async { Async::new(Inotify::new().unwrap()).unwrap() });
    util::within_inotify_limits(inotify.get_ref().add_watch(dir.path(), WatchFlags::CREATE));
    let late = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        std::fs::File::create(path).unwrap();
    });
    let mut buf = [0_u8; 4096];
    let (got, ticks) = ticks_while(&rt, async {
        inotify.read(&mut buf).await.map(Iterator::count)
    });
    assert_eq!(got.unwrap(), 1);
    assert!(ticks >= 5, "the interval kept ticking: {ticks}");
    late.join().unwrap();

    let counter = Arc::new(EventFd::new(0).unwrap());
    let rt = current();
    let wrapped = rt.block_on(async { Async::new(EventFd::new(0).unwrap()).unwrap() });
    let fd = std::os::fd::AsRawFd::as_raw_fd(&wrapped);
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        // SAFETY: `fd` stays open: `wrapped` outlives this thread's join.
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        kernfd::eventfd::write(borrowed, 7).unwrap();
    });
    let (got, ticks) = ticks_while(&rt, wrapped.read());
    assert_eq!(got.unwrap(), 7);
    assert!(ticks >= 5, "the interval kept ticking: {ticks}");
    writer.join().unwrap();
    drop(counter);

    let rt = current();
    let timer = rt.block_on(async { Async::new(TimerFd::new().unwrap()).unwrap() });
    timer
        .get_ref()
        .set_after(Duration::from_millis(200), Duration::ZERO)
        .unwrap();
    let start = Instant::now();
    let (got, ticks) = ticks_while(&rt, timer.read());
    assert_eq!(got.unwrap(), Outcome::Expired(1));
    assert!(start.elapsed() >= Duration::from_millis(190));
    assert!(ticks >= 5, "the interval kept ticking: {ticks}");
}

#[test]
fn timerfd_read_counts_expirations() {
    current().block_on(async {
        let timer = Async::new(TimerFd::new().unwrap()).unwrap();
        timer
            .get_ref()
            .set_after(Duration::from_millis(5), Duration::from_millis(5))
            .unwrap();
        let mut total = 0;
        while total < 3 {
            match timer.read().await.unwrap() {
                Outcome::Expired(n) => total += n,
                Outcome::Canceled => panic!("not a CANCEL_ON_SET timer"),
            }
        }
        // A dropped pending read takes no expiration.
        timer
            .get_ref()
            .set_after(Duration::from_millis(30), Duration::ZERO)
            .unwrap();
        assert!(
            tokio::time::timeout(Duration::from_millis(1), timer.read())
                .await
                .is_err()
        );
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(timer.read().await.unwrap(), Outcome::Expired(1));
    });
}

#[test]
fn eventfd_write_awaits_room_and_rejects_u64_max() {
    current().block_on(async {
        let counter = Async::new(EventFd::new(0).unwrap()).unwrap();
        counter.write(kernfd::eventfd::MAX).await.unwrap();
        // The counter is full: the write waits for a read.
        {
            let mut full = pin!(counter.write(1));
            assert!(pending_once(full.as_mut()).await, "no room");
        } // dropped: it added nothing
        assert_eq!(counter.read().await.unwrap(), kernfd::eventfd::MAX);
        counter.write(kernfd::eventfd::MAX).await.unwrap();
        let (wrote, read) = tokio::join!(counter.write(2), async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            counter.read().await
        });
        wrote.unwrap();
        assert_eq!(read.unwrap(), kernfd::eventfd::MAX);
        assert_eq!(counter.read().await.unwrap(), 2);
        let e = counter.write(u64::MAX).await.unwrap_err();
        assert_eq!(e.errno(), Some(Errno::INVAL), "{e:?}");
    });
}

#[test]
fn signalfd_read_and_reader_in_queue_order() {
    if util::in_child("signalfd_read_and_reader_in_queue_order") {
        return;
    }
    let rt1 = Signal::rt(1).unwrap();
    let set = SigSet::from([Signal::USR1, Signal::USR2, rt1]);
    signal::block(&set).unwrap();
    current().block_on(async {
        let signals = Async::new(SignalFd::new(&set).unwrap()).unwrap();
        let mut buf = [0_u8; 4096];
        // Nothing pending: the read waits, and dropping it takes nothing.
        {
            let mut read = pin!(signals.read(&mut buf));
            assert!(pending_once(read.as_mut()).await);
            signal::raise(Signal::USR1).unwrap();
        }
        let got: Vec<_> = signals
            .read(&mut buf)
            .await
            .unwrap()
            .map(|s| s.unwrap().signal())
            .collect();
        assert_eq!(got, [Some(Signal::USR1)]);

        for sig in [Signal::USR2, rt1, rt1] {
            signal::raise(sig).unwrap();
        }
        let mut buf = [0_u8; 4096];
        let mut reader = signals.reader(&mut buf).unwrap();
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(reader.read_event().await.unwrap().unwrap().signal());
        }
        assert_eq!(got, [Some(Signal::USR2), Some(rt1), Some(rt1)]);
        let tid = rustix::thread::gettid();
        let late = util::signal_thread_after(tid, libc::SIGUSR2, Duration::from_millis(50));
        assert_eq!(
            reader.read_event().await.unwrap().unwrap().signal(),
            Some(Signal::USR2)
        );
        late.join().unwrap();
    });
}

#[test]
fn fanotify_read_and_reader_and_responses() {
    if util::in_mount_ns() {
        return;
    }
    let (dir, fan) = or_skip!(util::fanotify::watched_tmpfs(
        FanInit::CLASS_NOTIF,
        MarkType::Mount,
        FanFlags::CLOSE_WRITE,
    ));
    current().block_on(async {
        let fan = Async::new(fan).unwrap();
        let mut buf = vec![0_u8; 4096];
        {
            let mut read = pin!(fan.read(&mut buf[..]));
            assert!(pending_once(read.as_mut()).await);
            std::fs::write(dir.path().join("x"), b"1").unwrap();
        }
        let mut events = fan.read(&mut buf[..]).await.unwrap();
        let event = events.next().unwrap().unwrap();
        assert!(event.mask().contains(FanFlags::CLOSE_WRITE));
        assert_eq!(event.pid(), std::process::id() as i32);
        drop(event);
        drop(events);

        let mut buf = vec![0_u8; 4096];
        let mut reader = fan.reader(&mut buf[..]).unwrap();
        std::fs::write(dir.path().join("y"), b"1").unwrap();
        std::fs::write(dir.path().join("z"), b"1").unwrap();
        for _ in 0..2 {
            let event = reader.read_event().await.unwrap().unwrap();
            assert!(event.mask().contains(FanFlags::CLOSE_WRITE));
        }
    });

    // A permission group: read asynchronously, answer with the sync
    // respond, the async one, and the async one through a taken fd.
    let perm = or_skip!(util::fanotify::group(FanInit::CLASS_CONTENT));
    perm.add(MarkType::Mount, FanFlags::OPEN_PERM, dir.path())
        .unwrap();
    current().block_on(async {
        use kernfd::fanotify::Response;
        let perm = Async::new(perm).unwrap();
        let mut buf = vec![0_u8; 4096];
        for how in ["sync", "async", "async fd"] {
            let opener = util::fanotify::open_in_thread(&dir.path().join("x"));
            let mut events = perm.read(&mut buf[..]).await.unwrap();
            let mut event = events.next().unwrap().unwrap();
            assert!(event.mask().contains(FanFlags::OPEN_PERM));
            match how {
                "sync" => event.respond(Response::DENY).unwrap(),
                "async" => {
                    perm.respond(&event, Response::DENY).await.unwrap();
                    assert!(!event.needs_answer());
                    // Answered once: a second answer is the kernel's ENOENT.
                    let again = perm.respond(&event, Response::ALLOW).await.unwrap_err();
                    assert_eq!(again.errno(), Some(Errno::NOENT), "{again}");
                }
                _ => {
                    let fd = event.take_fd().unwrap();
                    perm.respond_fd(std::os::fd::AsFd::as_fd(&fd), Response::DENY)
                        .await
                        .unwrap();
                    // No fd left on the event: nothing to answer through.
                    let none = perm.respond(&event, Response::ALLOW).await.unwrap_err();
                    assert!(matches!(none, Error::NoEventFd), "{none}");
                }
            }
            drop(event);
            drop(events);
            let denied = opener.join().unwrap().unwrap_err();
            assert_eq!(denied.raw_os_error(), Some(libc::EPERM), "{how}");
        }
    });
}

/// `examples/async_watch`, built with the `tokio` feature: the one next to
/// the test binaries when fresh (`cargo test --all-features` builds it),
/// else built into a target directory of its own.
/// `Err` with why when it is stale and cannot be built (cargo out of
/// reach, as for the suite run as nobody after a root build).
fn async_watch_bin() -> Result<std::path::PathBuf, String> {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(std::path::Path::parent).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mtime = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let mut newest = mtime(&root.join("examples/async_watch.rs"));
    let mut dirs = vec![root.join("src")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                dirs.push(e.path());
            } else {
                newest = newest.max(mtime(&e.path()));
            }
        }
    }
    let target = profile_dir.join("async_watch-example-build");
    for fresh in [
        profile_dir.join("examples/async_watch"),
        target.join("debug/examples/async_watch"),
    ] {
        if mtime(&fresh) >= newest {
            return Ok(fresh);
        }
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args([
            "build",
            "--features",
            "tokio",
            "--example",
            "async_watch",
            "--target-dir",
        ])
        .arg(&target)
        .current_dir(root)
        .status()
        .map_err(|e| format!("examples/async_watch is stale and cargo cannot run: {e}"))?;
    assert!(status.success(), "cargo build --example async_watch failed");
    Ok(target.join("debug/examples/async_watch"))
}

#[test]
fn async_watch_example_reports_events_ticks_and_exits_on_sigint() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let bin = or_skip!(async_watch_bin());
    let dir = util::tempdir();
    let mut child = Command::new(&bin)
        .arg(dir.path())
        .arg("20")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = || lines.next().unwrap().unwrap();
    assert!(next().starts_with("watching "));
    std::fs::write(dir.path().join("made"), b"x").unwrap();
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l == "event CLOSE_WRITE made")
        || !seen.iter().any(|l| l.starts_with("tick "))
    {
        seen.push(next());
    }
    assert!(seen.contains(&"event CREATE made".to_owned()), "{seen:?}");
    // Recursive: a directory made now is watched, and so is what is below.
    std::fs::create_dir_all(dir.path().join("sub/deeper")).unwrap();
    std::fs::write(dir.path().join("sub/deeper/f"), b"x").unwrap();
    // `f` may be written before `deeper` is watched: then the tree's scan
    // of the new directory reports it as created (and no CLOSE_WRITE).
    while !seen.iter().any(|l| l == "event CREATE sub/deeper/f") {
        seen.push(next());
    }
    assert!(
        seen.contains(&"event CREATE|ISDIR sub/deeper".to_owned()),
        "{seen:?}"
    );
    assert!(
        seen.contains(&"event CREATE|ISDIR sub".to_owned()),
        "{seen:?}"
    );
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: plain integers; the child is ours and still running.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let rest: Vec<String> = std::iter::from_fn(|| lines.next().map(Result::unwrap)).collect();
    assert_eq!(rest.last().map(String::as_str), Some("SIGINT"), "{rest:?}");
    assert!(child.wait().unwrap().success(), "exit status 0 on SIGINT");

    // Usage errors: status 2; a missing directory: status 1.
    let status = |args: &[&str]| {
        Command::new(&bin)
            .args(args)
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .code()
    };
    assert_eq!(status(&[]), Some(2));
    assert_eq!(status(&["/tmp", "0"]), Some(2));
    assert_eq!(status(&["/no/such/dir"]), Some(1));
}

/// The next item of a stream (futures-core has no `StreamExt`).
async fn next<S: futures_core::Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    std::future::poll_fn(|cx| std::pin::Pin::new(&mut *stream).poll_next(cx)).await
}

/// Asserts that `stream` yields nothing within 5 ms; the pending `next`
/// is then dropped, which must take nothing (cancellation safety).
async fn assert_quiet<S: futures_core::Stream + Unpin>(stream: &mut S, what: &str) {
    assert!(
        tokio::time::timeout(Duration::from_millis(5), next(stream))
            .await
            .is_err(),
        "{what}"
    );
}

#[test]
fn inotify_stream_yields_owned_events_and_loses_none_when_cancelled() {
    current().block_on(async {
        let (dir, inotify) = watched();
        let mut stream = inotify.stream();
        // A pending `next` dropped by a timeout takes nothing.
        assert_quiet(&mut stream, "nothing yet").await;
        let consumed = Arc::new(AtomicUsize::new(0));
        let producer = open_alternately(dir.path(), BURST, consumed.clone());
        for seen in 0..BURST {
            let event = next(&mut stream).await.unwrap().unwrap().unwrap();
            assert_eq!(event.mask, EventFlags::OPEN);
            let want: &[u8] = if seen % 2 == 0 { b"a" } else { b"b" };
            assert_eq!(event.name, want, "event {seen}");
            assert_eq!(event.cookie, 0);
            consumed.store(seen + 1, Ordering::Relaxed);
        }
        producer.join().unwrap();
        assert_quiet(&mut stream, &format!("exactly {BURST}")).await;
    });
}

#[test]
fn signalfd_stream_yields_owned_records() {
    if util::in_child("signalfd_stream_yields_owned_records") {
        return;
    }
    let set = SigSet::from([Signal::USR1, Signal::USR2]);
    signal::block(&set).unwrap();
    current().block_on(async {
        let signals = Async::new(SignalFd::new(&set).unwrap()).unwrap();
        let mut stream = signals.stream();
        assert_quiet(&mut stream, "nothing yet").await;
        signal::raise(Signal::USR2).unwrap();
        signal::raise(Signal::USR1).unwrap();
        let mut got = Vec::new();
        for _ in 0..2 {
            let info = next(&mut stream).await.unwrap().unwrap().unwrap();
            assert_eq!(info.pid, std::process::id());
            assert_eq!(info.uid, rustix::process::getuid().as_raw());
            assert_eq!(
                kernfd::signalfd::parse(&info.raw)
                    .next()
                    .unwrap()
                    .unwrap()
                    .signal(),
                info.signal
            );
            got.push(info.signal);
        }
        got.sort_by_key(|s| s.map(Signal::as_raw));
        assert_eq!(got, [Some(Signal::USR1), Some(Signal::USR2)]);
    });
}

// ---- Streams of timerfd expirations and eventfd values ----

#[test]
fn timerfd_stream_yields_expirations() {
    current().block_on(async {
        let timer = Async::new(TimerFd::new().unwrap()).unwrap();
        let mut ticks = timer.stream();
        assert!(
            tokio::time::timeout(Duration::from_millis(5), next(&mut ticks))
                .await
                .is_err(),
            "not armed: nothing"
        );
        timer
            .get_ref()
            .set_after(Duration::from_millis(2), Duration::from_millis(2))
            .unwrap();
        let start = Instant::now();
        let mut total = 0;
        while total < 5 {
            match next(&mut ticks).await.unwrap().unwrap() {
                Outcome::Expired(n) => total += n,
                Outcome::Canceled => panic!("not a realtime timer"),
            }
        }
        assert!(start.elapsed() >= Duration::from_millis(10));
    });
}

#[test]
fn eventfd_stream_yields_each_sum_once() {
    multi().block_on(async {
        let counter = Arc::new(Async::new(EventFd::new(0).unwrap()).unwrap());
        let writer = counter.clone();
        let producer = tokio::spawn(async move {
            for _ in 0..1_000 {
                writer.write(3).await.unwrap();
                tokio::task::yield_now().await;
            }
        });
        let mut values = counter.stream();
        let mut sum = 0;
        while sum < 3_000 {
            let v = next(&mut values).await.unwrap().unwrap();
            assert!(v > 0 && v % 3 == 0, "{v}");
            sum += v;
        }
        producer.await.unwrap();
        assert_eq!(sum, 3_000);
        assert!(
            tokio::time::timeout(Duration::from_millis(5), next(&mut values))
                .await
                .is_err(),
            "nothing more"
        );
    });
}

// ---- fanotify stream ----

#[test]
fn fanotify_stream_yields_owned_events_and_answers_permission_events() {
    use kernfd::fanotify::Response;
    if util::in_mount_ns() {
        return;
    }
    let (dir, fan) = or_skip!(util::fanotify::watched_tmpfs(
        FanInit::CLASS_NOTIF,
        MarkType::Mount,
        FanFlags::CLOSE_WRITE,
    ));
    current().block_on(async {
        let fan = Async::new(fan).unwrap();
        let mut stream = fan.stream();
        assert_quiet(&mut stream, "nothing yet").await;
        for name in ["x", "y"] {
            std::fs::write(dir.path().join(name), b"1").unwrap();
        }
        let mut pids = Vec::new();
        for _ in 0..2 {
            let mut event = next(&mut stream).await.unwrap().unwrap().unwrap();
            assert!(event.mask().contains(FanFlags::CLOSE_WRITE));
            assert!(!event.needs_answer());
            assert_eq!(event.event().record_len(), kernfd::fanotify::METADATA_LEN);
            let fd = event.take_fd().expect("an fd for the written file");
            let path = std::fs::read_link(format!("/proc/self/fd/{}", {
                use std::os::fd::AsRawFd;
                fd.as_raw_fd()
            }))
            .unwrap();
            assert_eq!(path.parent(), Some(dir.path()));
            pids.push(event.pid());
        }
        assert_eq!(pids, [std::process::id() as i32; 2]);
    });

    // Permission events: one answered through the stream's item, one
    // dropped unanswered (the group's default, ALLOW).
    let perm = or_skip!(util::fanotify::group(FanInit::CLASS_CONTENT));
    perm.add(MarkType::Mount, FanFlags::OPEN_PERM, dir.path())
        .unwrap();
    current().block_on(async {
        let perm = Async::new(perm).unwrap();
        let mut stream = perm.stream();
        let opener = util::fanotify::open_in_thread(&dir.path().join("x"));
        let event = next(&mut stream).await.unwrap().unwrap().unwrap();
        assert!(event.mask().contains(FanFlags::OPEN_PERM));
        assert!(event.needs_answer());
        event.respond(Response::DENY).unwrap();
        assert!(!event.needs_answer());
        drop(event);
        let denied = opener.join().unwrap().unwrap_err();
        assert_eq!(denied.raw_os_error(), Some(libc::EPERM));

        let opener = util::fanotify::open_in_thread(&dir.path().join("y"));
        let event = next(&mut stream).await.unwrap().unwrap().unwrap();
        assert!(event.needs_answer());
        drop(event);
        opener
            .join()
            .unwrap()
            .expect("dropped: the default answer, allow");
    });
}

// ---- The recursive tree watcher ----

mod tree {
    use super::*;
    use kernfd::inotify::{Tree, TreeItem};
    use kernfd::tokio::{AsyncTree, OwnedTreeEvent, OwnedTreeItem};

    /// `(path, mask)` of every event item of one async read.
    async fn read_paths(tree: &mut AsyncTree, buf: &mut [u8]) -> Vec<(String, EventFlags)> {
        let mut out = Vec::new();
        tree.read(buf, |item| {
            let TreeItem::Event(e) = item else {
                panic!("{item:?}")
            };
            out.push((e.path().display().to_string(), e.mask()));
        })
        .await
        .map_err(|e: Error| e)
        .unwrap();
        out
    }

    /// Reads until nothing comes for 20 ms: the tree's own listings at
    /// setup (`OPEN|ISDIR` when `OPEN` is watched).
    async fn drain(tree: &mut AsyncTree) {
        let mut buf = [0_u8; 4096];
        while tokio::time::timeout(
            Duration::from_millis(20),
            tree.read::<_, Error, _>(&mut buf, |_| ()),
        )
        .await
        .is_ok()
        {}
    }

    #[test]
    fn read_follows_new_directories_and_restores_the_mode() {
        current().block_on(async {
            let dir = util::tempdir();
            let blocking = util::within_inotify_limits(Tree::new(
                dir.path(),
                WatchFlags::CREATE | WatchFlags::CLOSE_WRITE,
            ));
            assert!(!blocking.inotify().is_nonblocking());
            let mut tree = AsyncTree::new(blocking).unwrap();
            assert!(tree.inotify().is_nonblocking());
            let mut buf = [0_u8; 4096];
            std::fs::create_dir(dir.path().join("d")).unwrap();
            let got = read_paths(&mut tree, &mut buf).await;
            assert_eq!(got, [("d".into(), EventFlags::CREATE | EventFlags::ISDIR)]);
            assert_eq!(tree.get_ref().watches(), 2, "the new directory is watched");
            std::fs::write(dir.path().join("d/f"), b"x").unwrap();
            let mut got = Vec::new();
            while got.len() < 2 {
                got.extend(read_paths(&mut tree, &mut buf).await);
            }
            assert_eq!(
                got,
                [
                    ("d/f".into(), EventFlags::CREATE),
                    ("d/f".into(), EventFlags::CLOSE_WRITE)
                ]
            );
            // The callback's error ends the read and is returned.
            std::fs::write(dir.path().join("g"), b"").unwrap();
            let stopped: Result<usize, Error> = tree
                .read(&mut buf, |_| {
                    Err::<(), _>(Error::os("callback", Errno::CANCELED))
                })
                .await;
            assert_eq!(stopped, Err(Error::os("callback", Errno::CANCELED)));
            // A short buffer fails before any syscall.
            let mut small = [0_u8; 8];
            let e: Error = tree.read(&mut small, |_| ()).await.unwrap_err();
            assert!(matches!(e, Error::BufferTooSmall { .. }), "{e:?}");
            let fd = std::os::fd::AsRawFd::as_raw_fd(&tree);
            assert_eq!(fd, std::os::fd::AsRawFd::as_raw_fd(tree.inotify()));
            let back = tree.into_inner().unwrap();
            assert!(!back.inotify().is_nonblocking(), "its mode restored");
        });
    }

    #[test]
    fn new_outside_a_runtime_is_eio() {
        let dir = util::tempdir();
        let tree = util::within_inotify_limits(Tree::new(dir.path(), WatchFlags::CREATE));
        let e = AsyncTree::new(tree).unwrap_err();
        assert_eq!(e.errno(), Some(Errno::IO));
        assert_eq!(e.call(), Some("tokio"));
    }

    #[test]
    fn a_dropped_pending_read_loses_no_event() {
        current().block_on(async {
            let dir = util::tempdir();
            std::fs::create_dir(dir.path().join("sub")).unwrap();
            let tree = util::within_inotify_limits(Tree::new(dir.path(), WatchFlags::CREATE));
            let mut tree = AsyncTree::new(tree).unwrap();
            let mut buf = [0_u8; 4096];
            let mut handed = 0;
            {
                let mut read = pin!(tree.read::<_, Error, _>(&mut buf, |_| handed += 1));
                assert!(pending_once(read.as_mut()).await, "nothing yet");
                // Readiness arrives while the future is pending; it is
                // dropped without being polled again.
                std::fs::write(dir.path().join("sub/a"), b"").unwrap();
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            assert_eq!(handed, 0, "the dropped read handed nothing out");
            let got = read_paths(&mut tree, &mut buf).await;
            assert_eq!(got, [("sub/a".into(), EventFlags::CREATE)]);
        });
    }

    #[test]
    fn nothing_blocks_the_current_thread_runtime() {
        let dir = util::tempdir();
        let path = dir.path().join("late");
        let rt = current();
        let tree = util::within_inotify_limits(Tree::new(dir.path(), WatchFlags::CREATE));
        let mut tree = rt.block_on(async { AsyncTree::new(tree).unwrap() });
        let late = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            std::fs::create_dir(path).unwrap();
        });
        let mut buf = [0_u8; 4096];
        let (got, ticks) = ticks_while(&rt, tree.read(&mut buf, |_| ()));
        assert_eq!(got.map_err(|e: Error| e).unwrap(), 1);
        assert!(ticks >= 5, "the interval kept ticking: {ticks}");
        late.join().unwrap();
    }

    #[test]
    fn a_burst_through_read_loses_nothing() {
        current().block_on(async {
            let dir = util::tempdir();
            let sub = dir.path().join("deep/er");
            std::fs::create_dir_all(&sub).unwrap();
            std::fs::write(sub.join("a"), b"").unwrap();
            std::fs::write(sub.join("b"), b"").unwrap();
            let tree = util::within_inotify_limits(Tree::new(dir.path(), WatchFlags::OPEN));
            let mut tree = AsyncTree::new(tree).unwrap();
            drain(&mut tree).await;
            let consumed = Arc::new(AtomicUsize::new(0));
            let producer = open_alternately(&sub, BURST, consumed.clone());
            let mut buf = [0_u8; 4096];
            let mut seen = 0;
            while seen < BURST {
                tree.read(&mut buf, |item| {
                    let TreeItem::Event(e) = item else {
                        panic!("no overflow: {item:?}")
                    };
                    assert_eq!(e.mask(), EventFlags::OPEN);
                    let want: &[u8] = if seen % 2 == 0 {
                        b"deep/er/a"
                    } else {
                        b"deep/er/b"
                    };
                    assert_eq!(e.path_bytes(), want, "event {seen}");
                    seen += 1;
                })
                .await
                .map_err(|e: Error| e)
                .unwrap();
                consumed.store(seen, Ordering::Relaxed);
            }
            producer.join().unwrap();
            let mut none = pin!(tree.read::<_, Error, _>(&mut buf, |_| ()));
            assert!(pending_once(none.as_mut()).await, "exactly {BURST} events");
        });
    }

    #[test]
    fn a_burst_through_the_stream_loses_nothing() {
        current().block_on(async {
            let dir = util::tempdir();
            let sub = dir.path().join("s");
            std::fs::create_dir(&sub).unwrap();
            std::fs::write(sub.join("a"), b"").unwrap();
            std::fs::write(sub.join("b"), b"").unwrap();
            let tree = util::within_inotify_limits(Tree::new(dir.path(), WatchFlags::OPEN));
            let mut tree = AsyncTree::new(tree).unwrap();
            drain(&mut tree).await;
            let mut stream = tree.stream();
            let consumed = Arc::new(AtomicUsize::new(0));
            let producer = open_alternately(&sub, BURST, consumed.clone());
            for seen in 0..BURST {
                let item = next(&mut stream).await.unwrap().unwrap();
                let want: &[u8] = if seen % 2 == 0 { b"s/a" } else { b"s/b" };
                assert_eq!(
                    item,
                    OwnedTreeItem::Event(OwnedTreeEvent {
                        path: want.to_vec(),
                        mask: EventFlags::OPEN,
                        cookie: 0,
                        found_by_scan: false,
                    }),
                    "event {seen}"
                );
                consumed.store(seen + 1, Ordering::Relaxed);
            }
            producer.join().unwrap();
            assert_quiet(&mut stream, &format!("exactly {BURST}")).await;
        });
    }

    #[test]
    fn the_stream_reports_an_overflow_and_its_rescan() {
        current().block_on(async {
            let dir = util::tempdir();
            std::fs::write(dir.path().join("a"), b"").unwrap();
            std::fs::write(dir.path().join("b"), b"").unwrap();
            let tree = util::within_inotify_limits(Tree::new(
                dir.path(),
                WatchFlags::OPEN | WatchFlags::CREATE,
            ));
            let mut tree = AsyncTree::new(tree).unwrap();
            let limit = util::read_limit("/proc/sys/fs/inotify/max_queued_events");
            // More events than the queue holds, with nobody reading (a and
            // b alternately: the kernel merges an event equal to the last).
            for i in 0..=limit {
                std::fs::File::open(dir.path().join(if i % 2 == 0 { "a" } else { "b" })).unwrap();
            }
            std::fs::create_dir_all(dir.path().join("lost/inner")).unwrap();
            let mut stream = tree.stream();
            let mut opens = 0;
            loop {
                match next(&mut stream).await.unwrap().unwrap() {
                    // The tree's own listings show as `OPEN|ISDIR`.
                    OwnedTreeItem::Event(e) if e.mask.contains(EventFlags::OPEN) => opens += 1,
                    OwnedTreeItem::RescanNeeded => break,
                    other => panic!("{other:?}"),
                }
            }
            assert!(opens <= limit, "{opens} opens before the overflow");
            assert_eq!(stream.tree().watches(), 1, "the new directories were lost");
            assert_eq!(stream.rescan().unwrap(), 2);
            let mut found = Vec::new();
            for _ in 0..2 {
                let Ok(OwnedTreeItem::Event(e)) = next(&mut stream).await.unwrap() else {
                    panic!()
                };
                assert!(e.found_by_scan);
                found.push(e.path().display().to_string());
            }
            assert_eq!(found, ["lost", "lost/inner"]);
            assert_eq!(stream.tree().watches(), 3);
        });
    }
}

// ---- The seccomp notification listener ----

mod seccomp {
    use super::*;
    use kernfd::seccomp::{
        self as sc, Action, Arch, Builder, FilterFlags, Instruction, Listener, NOTIF_LEN, Response,
        SyscallRule,
    };

    /// `syscall(nr)` with no arguments: the result, or `-errno`.
    fn sys(name: &str) -> i64 {
        let nr = Arch::native().syscall(name).unwrap();
        // SAFETY: id getters: no memory is touched.
        let r = unsafe { libc::syscall(i64::from(nr), 0, 0, 0, 0, 0, 0) };
        if r == -1 {
            -i64::from(std::io::Error::last_os_error().raw_os_error().unwrap())
        } else {
            r
        }
    }

    /// A thread whose `names` calls go to a listener (its filter is its
    /// own: the runtime's threads are not filtered), running `body` once
    /// `go` is sent. `Err` with why when user notification is unavailable.
    struct Target<T> {
        listener: Listener,
        go: std::sync::mpsc::Sender<()>,
        handle: std::thread::JoinHandle<T>,
    }

    fn target<T: Send + 'static>(
        names: &'static [&'static str],
        body: impl FnOnce() -> T + Send + 'static,
    ) -> Result<Target<T>, String> {
        let (tx, rx) = std::sync::mpsc::channel();
        let (go, go_rx) = std::sync::mpsc::channel::<()>();
        let handle = std::thread::spawn(move || {
            let rules: Vec<_> = names
                .iter()
                .map(|n| SyscallRule::new(Arch::native().syscall(n).unwrap(), Action::UserNotif))
                .collect();
            let mut st = [Instruction::default(); 128];
            let f = Builder::new(Arch::native(), Action::Allow)
                .build(&rules, &mut st)
                .unwrap();
            sc::set_no_new_privs().unwrap();
            tx.send(f.install_listener(FilterFlags::empty())).unwrap();
            go_rx.recv().unwrap();
            body()
        });
        match rx.recv().unwrap() {
            Ok(listener) => Ok(Target {
                listener,
                go,
                handle,
            }),
            Err(e) => {
                drop(go);
                let _ = handle.join();
                Err(format!("seccomp user notification unavailable: {e}"))
            }
        }
    }

    #[test]
    fn a_task_answers_the_calls_of_a_filtered_thread() {
        if util::in_child("seccomp::a_task_answers_the_calls_of_a_filtered_thread") {
            return;
        }
        let t = or_skip!(target(&["getppid", "getpgid"], || {
            (sys("getppid"), sys("getppid"), sys("getpgid"))
        }));
        multi().block_on(async {
            let listener = Arc::new(Async::new(t.listener).unwrap());
            let answering = listener.clone();
            let task = tokio::spawn(async move {
                let mut buf = [0_u8; NOTIF_LEN];
                let mut seen = Vec::new();
                let mut ids = Vec::new();
                for value in [11, 22] {
                    let n = answering.recv(&mut buf).await.unwrap();
                    seen.push(n.data().nr);
                    assert!(n.pid() > 0);
                    answering
                        .respond(n.id(), Response::Value(value))
                        .await
                        .unwrap();
                    ids.push(n.id());
                }
                let n = answering.recv(&mut buf).await.unwrap();
                seen.push(n.data().nr);
                answering.respond(n.id(), Response::Continue).await.unwrap();
                (seen, ids)
            });
            t.go.send(()).unwrap();
            let (seen, ids) = task.await.unwrap();
            let nr = |n| i32::try_from(Arch::native().syscall(n).unwrap()).unwrap();
            assert_eq!(seen, [nr("getppid"), nr("getppid"), nr("getpgid")]);
            let (first, second, pgid) =
                tokio::task::spawn_blocking(move || t.handle.join().unwrap())
                    .await
                    .unwrap();
            assert_eq!((first, second), (11, 22));
            assert!(pgid > 0, "getpgid ran: {pgid}");
            // An id whose call returned is stale.
            let e = listener
                .respond(ids[0], Response::Value(0))
                .await
                .unwrap_err();
            assert_eq!(e.errno(), Some(Errno::NOENT));
            // A short buffer fails before any syscall.
            let e = listener.recv(&mut [0_u8; NOTIF_LEN - 1]).await.unwrap_err();
            assert_eq!(
                e,
                Error::BufferTooSmall {
                    len: NOTIF_LEN - 1,
                    needed: NOTIF_LEN
                }
            );
        });
    }

    #[test]
    fn a_cancelled_recv_leaves_the_notification_for_the_next() {
        if util::in_child("seccomp::a_cancelled_recv_leaves_the_notification_for_the_next") {
            return;
        }
        let t = or_skip!(target(&["getppid"], || sys("getppid")));
        current().block_on(async {
            let listener = Async::new(t.listener).unwrap();
            let mut buf = [0_u8; NOTIF_LEN];
            tokio::select! {
                biased;
                n = listener.recv(&mut buf) => panic!("nothing is pending: {n:?}"),
                () = tokio::time::sleep(Duration::from_millis(1)) => {}
            }
            {
                let mut recv = pin!(listener.recv(&mut buf));
                assert!(pending_once(recv.as_mut()).await, "nothing pending yet");
                t.go.send(()).unwrap();
                // The call is pending once the listener is readable; the
                // future is dropped without being polled again.
                let mut pfd = [rustix::event::PollFd::new(
                    listener.get_ref(),
                    rustix::event::PollFlags::IN,
                )];
                rustix::event::poll(&mut pfd, None).unwrap();
            }
            let n = listener.recv(&mut buf).await.unwrap();
            assert_eq!(
                n.data().nr,
                i32::try_from(Arch::native().syscall("getppid").unwrap()).unwrap()
            );
            listener.respond(n.id(), Response::Value(77)).await.unwrap();
        });
        assert_eq!(t.handle.join().unwrap(), 77);
    }

    #[test]
    fn a_dead_target_is_skipped_and_a_hang_up_ends_recv_and_the_stream() {
        const NAME: &str =
            "seccomp::a_dead_target_is_skipped_and_a_hang_up_ends_recv_and_the_stream";
        if util::in_child(NAME) {
            return;
        }
        // The filtered thread forks a process that inherits its filter and
        // stops in `getppid`; it is killed with its call pending. The
        // thread itself stays (the filter keeps a user) until `done`.
        let (pid_tx, pid_rx) = std::sync::mpsc::channel();
        let (done, done_rx) = std::sync::mpsc::channel::<()>();
        let t = or_skip!(target(&["getppid"], move || {
            // SAFETY: the child makes one raw syscall and exits.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                // SAFETY: as above.
                unsafe {
                    libc::syscall(libc::SYS_getppid);
                    libc::_exit(0);
                }
            }
            pid_tx.send(pid).unwrap();
            done_rx.recv().unwrap();
        }));
        t.go.send(()).unwrap();
        let pid = pid_rx.recv().unwrap();
        assert!(pid > 0, "fork");
        let mut pfd = [rustix::event::PollFd::new(
            &t.listener,
            rustix::event::PollFlags::IN,
        )];
        rustix::event::poll(&mut pfd, None).unwrap();
        // SAFETY: plain integers; the process is ours.
        unsafe {
            assert_eq!(libc::kill(pid, libc::SIGKILL), 0);
            assert_eq!(libc::waitpid(pid, std::ptr::null_mut(), 0), pid);
        }
        current().block_on(async {
            let listener = Async::new(t.listener).unwrap();
            let mut buf = [0_u8; NOTIF_LEN];
            // Nothing to answer: the call waits, neither failing nor
            // blocking the thread (the timer fires).
            let got =
                tokio::time::timeout(Duration::from_millis(50), listener.recv(&mut buf)).await;
            assert!(got.is_err(), "{got:?}");
            // The last user of the filter goes: the listener hangs up.
            let mut stream = listener.stream();
            assert_quiet(&mut stream, "nothing yet").await;
            done.send(()).unwrap();
            let ended = tokio::time::timeout(Duration::from_secs(5), next(&mut stream)).await;
            assert!(matches!(ended, Ok(None)), "the stream ends: {ended:?}");
            let e = tokio::time::timeout(Duration::from_secs(5), listener.recv(&mut buf))
                .await
                .expect("not waiting")
                .unwrap_err();
            assert_eq!(
                e,
                Error::EndOfFile {
                    call: "SECCOMP_IOCTL_NOTIF_RECV"
                }
            );
        });
        t.handle.join().unwrap();
    }

    #[test]
    fn recv_waits_without_blocking_the_current_thread_runtime() {
        if util::in_child("seccomp::recv_waits_without_blocking_the_current_thread_runtime") {
            return;
        }
        let t = or_skip!(target(&["getppid"], || {
            std::thread::sleep(Duration::from_millis(200));
            sys("getppid")
        }));
        let rt = current();
        let listener = rt.block_on(async { Async::new(t.listener).unwrap() });
        assert!(listener.get_ref().is_nonblocking());
        t.go.send(()).unwrap();
        let mut buf = [0_u8; NOTIF_LEN];
        let (n, ticks) = ticks_while(&rt, listener.recv(&mut buf));
        assert!(ticks >= 5, "the interval kept ticking: {ticks}");
        rt.block_on(listener.respond(n.unwrap().id(), Response::Error(Errno::PERM)))
            .unwrap();
        assert_eq!(t.handle.join().unwrap(), -i64::from(libc::EPERM));
        let back = listener.into_inner().unwrap();
        assert!(!back.is_nonblocking(), "its mode restored");
    }

    #[test]
    fn the_stream_yields_every_notification() {
        const N: i64 = 200;
        if util::in_child("seccomp::the_stream_yields_every_notification") {
            return;
        }
        let t = or_skip!(target(&["getppid"], || {
            (0..N).map(|_| sys("getppid")).sum::<i64>()
        }));
        current().block_on(async {
            let listener = Async::new(t.listener).unwrap();
            let mut stream = listener.stream();
            assert_quiet(&mut stream, "nothing yet").await;
            t.go.send(()).unwrap();
            let mut last = None;
            for i in 0..N {
                let n = next(&mut stream).await.unwrap().unwrap();
                assert!(last.is_none_or(|l| n.id() > l), "ids count up");
                last = Some(n.id());
                listener.respond(n.id(), Response::Value(i)).await.unwrap();
            }
        });
        assert_eq!(t.handle.join().unwrap(), (0..N).sum::<i64>());
    }
}

// ---- AIO completions ----

mod aio {
    use super::*;
    use kernfd::aio::{Context, IoEvent, Iocb};
    use kernfd::tokio::AsyncAio;

    /// A file on tmpfs (`/dev/shm`) holding `len` bytes `0, 1, 2…`.
    fn tmpfs_file(len: usize) -> Result<(tempfile::TempDir, std::fs::File), String> {
        let dir = tempfile::tempdir_in("/dev/shm").map_err(|e| format!("/dev/shm: {e}"))?;
        let path = dir.path().join("data");
        let bytes: Vec<u8> = (0..len).map(|i| i as u8).collect();
        std::fs::write(&path, bytes).unwrap();
        Ok((dir, std::fs::File::open(path).unwrap()))
    }

    #[test]
    fn getevents_reaps_real_reads_on_tmpfs() {
        const N: usize = 64;
        let (_dir, file) = or_skip!(tmpfs_file(N * 512));
        current().block_on(async {
            let aio = AsyncAio::new(Context::new(N as u32).unwrap()).unwrap();
            let mut bufs = vec![[0_u8; 512]; N];
            let iocbs: Vec<Iocb> = bufs
                .iter_mut()
                .enumerate()
                .map(|(i, b)| {
                    Iocb::pread(&file, b.as_mut_ptr(), 512, (i * 512) as u64)
                        .with_data(i as u64)
                        .with_eventfd(aio.eventfd())
                })
                .collect();
            let refs: Vec<&Iocb> = iocbs.iter().collect();
            // SAFETY: `bufs` is not touched until every completion is
            // reaped below, and outlives the context.
            assert_eq!(unsafe { aio.context().submit(&refs) }, Ok(N));
            let mut events = [IoEvent::ZERO; 16];
            let mut done = [false; N];
            let mut count = 0;
            while count < N {
                for e in aio.getevents(&mut events).await.unwrap() {
                    let e = e.unwrap();
                    assert_eq!(e.result(), Ok(512));
                    let i = usize::try_from(e.data()).unwrap();
                    assert!(!std::mem::replace(&mut done[i], true), "{i} once");
                    count += 1;
                }
            }
            for (i, b) in bufs.iter().enumerate() {
                let want: Vec<u8> = (i * 512..(i + 1) * 512).map(|j| j as u8).collect();
                assert_eq!(&b[..], &want[..], "block {i}");
            }
            // Nothing more: the next call waits.
            let mut more = pin!(aio.getevents(&mut events));
            assert!(pending_once(more.as_mut()).await);
        });
    }

    #[test]
    fn two_tasks_reaping_one_context_get_each_completion_once() {
        const N: usize = 256;
        let (_dir, file) = or_skip!(tmpfs_file(N * 64));
        multi().block_on(async {
            let aio = Arc::new(AsyncAio::new(Context::new(N as u32).unwrap()).unwrap());
            let reaped = Arc::new(AtomicUsize::new(0));
            let task = |aio: Arc<AsyncAio>, reaped: Arc<AtomicUsize>| async move {
                let mut mine = Vec::new();
                let mut events = [IoEvent::ZERO; 8]; // a few per call
                while reaped.load(Ordering::SeqCst) < N {
                    let Ok(got) =
                        tokio::time::timeout(Duration::from_millis(50), aio.getevents(&mut events))
                            .await
                    else {
                        continue;
                    };
                    for e in got.unwrap() {
                        let e = e.unwrap();
                        assert_eq!(e.result(), Ok(64));
                        mine.push(e.data());
                        reaped.fetch_add(1, Ordering::SeqCst);
                    }
                }
                mine
            };
            let one = tokio::spawn(task(aio.clone(), reaped.clone()));
            let two = tokio::spawn(task(aio.clone(), reaped.clone()));
            let mut bufs = vec![[0_u8; 64]; N];
            let iocbs: Vec<Iocb> = bufs
                .iter_mut()
                .enumerate()
                .map(|(i, b)| {
                    Iocb::pread(&file, b.as_mut_ptr(), 64, (i * 64) as u64)
                        .with_data(i as u64)
                        .with_eventfd(aio.eventfd())
                })
                .collect();
            for chunk in iocbs.chunks(16) {
                let refs: Vec<&Iocb> = chunk.iter().collect();
                // SAFETY: `bufs` is not touched until both tasks are done
                // (every completion reaped), and outlives the context.
                assert_eq!(unsafe { aio.context().submit(&refs) }, Ok(refs.len()));
                tokio::task::yield_now().await;
            }
            let (one, two) = (one.await.unwrap(), two.await.unwrap());
            let mut all: Vec<u64> = one.iter().chain(&two).copied().collect();
            all.sort_unstable();
            assert_eq!(all, (0..N as u64).collect::<Vec<_>>(), "each once");
            for (i, b) in bufs.iter().enumerate() {
                assert_eq!(b[0], (i * 64) as u8, "block {i}");
            }
        });
    }

    #[test]
    fn an_empty_array_is_einval() {
        current().block_on(async {
            let aio = AsyncAio::new(Context::new(1).unwrap()).unwrap();
            let e = aio.getevents(&mut []).await.unwrap_err();
            assert_eq!(e, Error::os("io_getevents", Errno::INVAL));
            let ctx = aio.into_context();
            assert_eq!(ctx.nr_events(), 1);
        });
    }

    /// An AIO poll of a pipe's read end: completes when the pipe is
    /// written. `Err` when the kernel lacks `IOCB_CMD_POLL` (before 4.18).
    fn submit_poll(aio: &AsyncAio, fd: &impl std::os::fd::AsFd) -> Result<(), String> {
        let iocb = Iocb::poll(fd, rustix::event::PollFlags::IN)
            .with_data(9)
            .with_eventfd(aio.eventfd());
        // SAFETY: a poll request touches no buffer.
        unsafe { aio.context().submit(&[&iocb]) }
            .map(drop)
            .map_err(|p| format!("IOCB_CMD_POLL: {}", p.error()))
    }

    #[test]
    fn a_cancelled_getevents_leaves_the_completion_for_the_next() {
        let (r, w) = rustix::pipe::pipe().unwrap();
        current().block_on(async {
            let aio = AsyncAio::new(Context::new(4).unwrap()).unwrap();
            or_skip!(submit_poll(&aio, &r));
            let mut events = [IoEvent::ZERO; 4];
            {
                let mut reap = pin!(aio.getevents(&mut events));
                assert!(pending_once(reap.as_mut()).await, "the pipe is empty");
                rustix::io::write(&w, b"x").unwrap();
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let got: Vec<_> = aio
                .getevents(&mut events)
                .await
                .unwrap()
                .map(|e| e.unwrap().data())
                .collect();
            assert_eq!(got, [9]);
        });
    }

    #[test]
    fn getevents_waits_without_blocking_the_current_thread_runtime() {
        let (r, w) = rustix::pipe::pipe().unwrap();
        let rt = current();
        let aio = rt.block_on(async { AsyncAio::new(Context::new(4).unwrap()).unwrap() });
        or_skip!(submit_poll(&aio, &r));
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            rustix::io::write(&w, b"x").unwrap();
        });
        let mut events = [IoEvent::ZERO; 4];
        let (got, ticks) = ticks_while(&rt, aio.getevents(&mut events));
        assert_eq!(got.unwrap().count(), 1);
        assert!(ticks >= 5, "the interval kept ticking: {ticks}");
        writer.join().unwrap();
    }
}

/// Every new future and stream can go to `tokio::spawn` on a multi-thread
/// runtime (a raw pointer held across an await would make one `!Send`).
#[test]
fn the_futures_and_streams_are_send() {
    fn send<T: Send>(_: &T) {}
    // Checked when compiled: making a group needs a privilege.
    fn _fanotify(stream: &kernfd::tokio::Stream<'_, kernfd::fanotify::Fanotify>) {
        send(stream);
    }
    current().block_on(async {
        let dir = util::tempdir();
        let tree =
            util::within_inotify_limits(kernfd::inotify::Tree::new(dir.path(), WatchFlags::CREATE));
        let mut tree = kernfd::tokio::AsyncTree::new(tree).unwrap();
        let mut buf = [0_u8; 4096];
        send(&tree.read::<_, Error, _>(&mut buf, |_| ()));
        send(&tree.stream());
        let aio = kernfd::tokio::AsyncAio::new(kernfd::aio::Context::new(1).unwrap()).unwrap();
        let mut events = [kernfd::aio::IoEvent::ZERO; 1];
        send(&aio.getevents(&mut events));
        let timer = Async::new(TimerFd::new().unwrap()).unwrap();
        send(&timer.stream());
        let counter = Async::new(EventFd::new(0).unwrap()).unwrap();
        send(&counter.stream());
    });
    // A listener needs a filter: any descriptor adopted as one will do for
    // the types (nothing is polled).
    let rt = current();
    rt.block_on(async {
        let (r, _w) = rustix::pipe::pipe().unwrap();
        let listener = Async::new(kernfd::seccomp::Listener::from(r)).unwrap();
        let mut buf = [0_u8; kernfd::seccomp::NOTIF_LEN];
        send(&listener.recv(&mut buf));
        send(&listener.respond(1, kernfd::seccomp::Response::Continue));
        send(&listener.stream());
    });
}
