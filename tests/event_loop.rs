//! Drives `examples/event_loop.rs` with real signals (sent with `kill(2)` to
//! the whole process), real files and real timer ticks, and proves that
//! its loop allocates nothing once started.
//!
//! No test harness (`harness = false`): the loop must block its signals in
//! the main thread before any thread exists, as a real program does, so
//! that process-directed signals reach its signalfd and nothing else.

#![allow(unreachable_pub)]

mod util;

#[path = "../examples/event_loop.rs"]
#[allow(dead_code)]
mod event_loop;

use std::io::Cursor;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rustix::process::{Signal, getpid, kill_process};

#[global_allocator]
static A: util::CountingAlloc = util::CountingAlloc;

fn main() {
    let dir = util::tempdir();
    // Start-up: may allocate (paths, the worker thread, Arcs).
    let mut lp = event_loop::EventLoop::new(
        dir.path(),
        Duration::from_millis(5),
        Duration::from_millis(2),
    )
    .expect("start the loop");
    let files = [dir.path().join("a.txt"), dir.path().join("b.txt")];
    let moved = dir.path().join("c.txt");
    let shared = std::sync::Arc::clone(&lp.shared);
    let mut out = vec![0_u8; 1 << 20];

    // The driver thread inherits the blocked mask from main. It starts its
    // work when `go` is set, just as the loop starts: its own start-up (and
    // the worker's) is start-up, not loop.
    let go = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let driver_go = std::sync::Arc::clone(&go);
    let driver = std::thread::spawn(move || {
        while !driver_go.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(&files[0], b"hello").unwrap(); // CREATE, CLOSE_WRITE
        std::fs::write(&files[1], b"").unwrap(); // CREATE, CLOSE_WRITE
        std::fs::rename(&files[1], &moved).unwrap(); // MOVED_FROM, MOVED_TO
        std::fs::remove_file(&files[0]).unwrap(); // DELETE
        kill_process(getpid(), Signal::HUP).unwrap();
        std::thread::sleep(Duration::from_millis(10));
        kill_process(getpid(), Signal::TERM).unwrap();
        // Let the worker write three times and the timer tick a few.
        while shared.sent.load(Ordering::Acquire) < 3 {
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(30));
        kill_process(getpid(), Signal::INT).unwrap();
    });

    while lp.shared.sent.load(Ordering::Acquire) < 1 {
        std::thread::sleep(Duration::from_millis(1));
    }
    let mut cursor = Cursor::new(&mut out[..]);
    let (stats, allocs) = util::count_allocs(|| {
        go.store(true, Ordering::Release);
        lp.run(&mut cursor)
    });
    let stats = stats.expect("the loop ran until SIGINT");
    let written = cursor.position() as usize;
    driver.join().unwrap();
    lp.shutdown();
    let text = String::from_utf8_lossy(&out[..written]);
    // The example's own output stays out of the log unless a check fails,
    // and then comes with the failure.
    let report = format!("{stats:?}, {allocs} allocations in the loop; the loop wrote:\n{text}");

    assert_eq!(
        allocs, 0,
        "the event loop allocated after start-up: {report}"
    );
    assert_eq!(
        stats.inotify_events, 7,
        "2 CREATE, 2 CLOSE_WRITE, MOVED_FROM, MOVED_TO, DELETE: {report}"
    );
    assert_eq!((stats.hups, stats.terms), (1, 1), "{report}");
    assert!(stats.ticks >= 3, "30 ms at a 5 ms period: {report}");
    assert!(stats.worker_total >= 3 && stats.wakeups >= 1, "{report}");
    for needle in [
        "signal: SIGHUP",
        "signal: SIGTERM",
        "signal: SIGINT",
        "name='a.txt'",
        "MOVED_TO",
        "timer: ",
        "worker: +",
        "SIGINT: bye",
    ] {
        assert!(text.contains(needle), "missing {needle:?}: {report}");
    }
    println!("event_loop: ok");
}
