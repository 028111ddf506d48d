//! The async layer's cost: draining the same inotify events through
//! kernfd's blocking `Inotify::read`, the tokio `Async::<Inotify>::read`,
//! and its `Stream` of owned events, in one run: time and heap allocations
//! per event.
//!
//! The `inotify` crate's `EventStream` (tokio, owned events) runs beside
//! them as the peer.
//!
//! Each round queues `N` events (opens of 1024 rotating files in one
//! directory) in four instances watching that directory, so every reader
//! drains the very same events, then each reader reads its instance until it
//! has seen `N` events through a 4096-byte buffer, on a current-thread
//! runtime. Rounds rotate the order; min and median are shown, with the
//! ratio to the blocking read.
//!
//! `cargo bench --features tokio --bench async_inotify`
//!
//! `N` is `KERNFD_BENCH_EVENTS` (default 100,000), rounds
//! `KERNFD_BENCH_ROUNDS` (default 5). All events are queued before the
//! drain, so `N` must fit `/proc/sys/fs/inotify/max_queued_events`: as root
//! the limit is raised for the run and restored afterwards; otherwise `N`
//! is lowered to the limit (it says so). Without `--bench` (as under
//! `cargo test --benches`) it makes a quick smoke run: 2,000 events, one
//! round.
#![allow(clippy::cast_precision_loss, clippy::missing_panics_doc)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::fs::File;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kernfd::inotify::{Inotify, WatchFlags};
use kernfd::tokio::Async;

/// Counts allocations process-wide (the runtime is single-threaded).
struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded; `ptr` came from `alloc` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded with the caller's arguments.
        unsafe { System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const BUF_LEN: usize = 4096;
const FILES: usize = 1024;
const QUEUE_SYSCTL: &str = "/proc/sys/fs/inotify/max_queued_events";
const READERS: [&str; 4] = [
    "kernfd blocking read",
    "kernfd async read",
    "kernfd async Stream",
    "inotify EventStream",
];

/// Restores the queue limit on drop (also on panic).
struct QueueLimit(Option<String>);

impl Drop for QueueLimit {
    fn drop(&mut self) {
        if let Some(old) = &self.0 {
            let _ = std::fs::write(QUEUE_SYSCTL, old);
        }
    }
}

/// Makes room for `n` queued events, or says how many fit.
fn queue_room(n: usize) -> (QueueLimit, usize) {
    let old = std::fs::read_to_string(QUEUE_SYSCTL).unwrap();
    let limit: usize = old.trim().parse().unwrap();
    if n <= limit {
        return (QueueLimit(None), n);
    }
    if std::fs::write(QUEUE_SYSCTL, (n + 16).to_string()).is_ok() {
        return (QueueLimit(Some(old)), n);
    }
    eprintln!(
        "max_queued_events is {limit} and cannot be raised (not root): {limit} events instead of {n}"
    );
    (QueueLimit(None), limit)
}

fn queue(files: &[PathBuf], n: usize) {
    for i in 0..n {
        File::open(&files[i % FILES]).unwrap();
    }
}

/// Drains `n` events with the blocking API (the instance in non-blocking
/// mode, so the drain ends with `EAGAIN`); returns the checksum.
fn blocking(ino: &Inotify, buf: &mut [u8; BUF_LEN], n: usize) -> u64 {
    let (mut seen, mut sum) = (0, 0_u64);
    while seen < n {
        for e in ino.read(buf).unwrap() {
            let e = e.unwrap();
            sum = sum.wrapping_add(
                e.wd() as u64 + u64::from(e.mask().bits()) + e.name_bytes().len() as u64,
            );
            seen += 1;
        }
    }
    sum
}

async fn async_read(ino: &Async<Inotify>, buf: &mut [u8; BUF_LEN], n: usize) -> u64 {
    let (mut seen, mut sum) = (0, 0_u64);
    while seen < n {
        for e in ino.read(buf).await.unwrap() {
            let e = e.unwrap();
            sum = sum.wrapping_add(
                e.wd() as u64 + u64::from(e.mask().bits()) + e.name_bytes().len() as u64,
            );
            seen += 1;
        }
    }
    sum
}

async fn async_stream(ino: &Async<Inotify>, n: usize) -> u64 {
    let mut stream = ino.stream();
    let mut sum = 0_u64;
    for _ in 0..n {
        let e =
            std::future::poll_fn(|cx| futures_core::Stream::poll_next(Pin::new(&mut stream), cx))
                .await
                .unwrap()
                .unwrap()
                .unwrap();
        sum = sum.wrapping_add(e.wd as u64 + u64::from(e.mask.bits()) + e.name.len() as u64);
    }
    sum
}

async fn peer_stream(ino: inotify::Inotify, n: usize) -> u64 {
    let mut stream = ino.into_event_stream([0_u8; BUF_LEN]).unwrap();
    let mut sum = 0_u64;
    for _ in 0..n {
        let e =
            std::future::poll_fn(|cx| futures_core::Stream::poll_next(Pin::new(&mut stream), cx))
                .await
                .unwrap()
                .unwrap();
        let name_len = e.name.map_or(0, |n| n.len());
        sum = sum.wrapping_add(
            e.wd.get_watch_descriptor_id() as u64 + u64::from(e.mask.bits()) + name_len as u64,
        );
    }
    sum
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ns_per(d: Duration, n: usize) -> f64 {
    d.as_nanos() as f64 / n as f64
}

fn env_usize(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let (n, rounds) = if bench {
        (
            env_usize("KERNFD_BENCH_EVENTS", 100_000),
            env_usize("KERNFD_BENCH_ROUNDS", 5),
        )
    } else {
        (2_000, 1)
    };
    let (_limit, n) = queue_room(n);
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = (0..FILES)
        .map(|i| dir.path().join(format!("file-{i:06}.txt")))
        .collect();
    for f in &files {
        File::create(f).unwrap();
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut buf = Box::new([0_u8; BUF_LEN]);
    let mut times: [Vec<Duration>; 4] = Default::default();
    let mut allocs = [0_usize; 4];
    for round in 0..rounds {
        let watch = |p: &Path| {
            let ino = Inotify::new().unwrap();
            ino.add_watch(p, WatchFlags::OPEN).unwrap();
            ino
        };
        let plain = watch(dir.path());
        plain.set_nonblocking(true).unwrap();
        let (read, stream) = rt.block_on(async {
            (
                Async::new(watch(dir.path())).unwrap(),
                Async::new(watch(dir.path())).unwrap(),
            )
        });
        let mut peer = Some(inotify::Inotify::init().unwrap());
        if let Some(p) = &mut peer {
            p.watches()
                .add(dir.path(), inotify::WatchMask::OPEN)
                .unwrap();
        }
        queue(&files, n);
        let mut sums = [0_u64; 4];
        for k in 0..4 {
            let which = (k + round) % 4;
            let before = ALLOCS.load(Ordering::Relaxed);
            let start = Instant::now();
            sums[which] = match which {
                0 => blocking(&plain, &mut buf, n),
                1 => rt.block_on(async_read(&read, &mut buf, n)),
                2 => rt.block_on(async_stream(&stream, n)),
                _ => rt.block_on(peer_stream(peer.take().unwrap(), n)),
            };
            times[which].push(start.elapsed());
            allocs[which] += ALLOCS.load(Ordering::Relaxed) - before;
        }
        assert!(
            sums.iter().all(|&s| s == sums[0]),
            "readers disagree: {sums:?}"
        );
        black_box(sums);
    }
    println!(
        "draining {n} inotify events, {rounds} rounds, {BUF_LEN}-byte buffer, current-thread runtime"
    );
    println!(
        "{:<24} {:>12} {:>12} {:>10} {:>14}",
        "reader", "min ns/ev", "median ns/ev", "ratio", "allocs/event"
    );
    let base = ns_per(median(&mut times[0].clone()), n);
    for (i, name) in READERS.iter().enumerate() {
        let min = ns_per(*times[i].iter().min().unwrap(), n);
        let med = ns_per(median(&mut times[i]), n);
        let per = allocs[i] as f64 / (n * rounds) as f64;
        println!(
            "{name:<24} {min:>12.1} {med:>12.1} {:>9.3}x {per:>14.3}",
            med / base
        );
    }
}
