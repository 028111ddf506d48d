//! inotify benchmarks: kernfd against its peers, on the same kernel events.
//!
//! Two measurements, in one run of `cargo bench --bench inotify`:
//!
//! 1. **Drain**: the kernel queues `N` events (100,000 by default) in one
//!    inotify instance per reader, all watching the same directory, so every
//!    reader drains the very same event stream. Each reader then reads its
//!    queue until `EAGAIN` through a 4096-byte buffer: kernfd
//!    ([`Inotify::read`] with an arm per error, the same with `item?`, and
//!    [`Inotify::drain`]), the `inotify` crate, `nix`, rustix's
//!    `fs::inotify::Reader`, and a bare `read()` loop that parses nothing
//!    (the floor). Every reader touches the same data per event: wd,
//!    mask, cookie and the name's length, summed into a checksum that must
//!    agree across readers. Rounds rotate the order; min and median are shown.
//! 2. **Parse only**: kernel bytes captured once are parsed again and again
//!    by kernfd's [`parse`] and by a header-only loop that skips names.
//!
//! Raising `/proc/sys/fs/inotify/max_queued_events` needs root; it is raised
//! for the run and restored afterwards, also on panic. Without root the drain
//! benchmark is skipped (it says so) and the parse benchmark uses what the
//! current limit allows.
//!
//! Callgrind mode (see `benches/callgrind.sh`): `inotify callgrind READER N`
//! queues `N` events and runs only `READER` (one of the drain readers, or
//! `parse-kernfd` / `parse-header` over a capture), inside a function named
//! `bench_reader_READER` (dashes as underscores), so
//! `valgrind --tool=callgrind --toggle-collect='*bench_reader_*'` counts the
//! user-space instructions of reading and parsing and nothing else. It
//! prints `events checksum`; `benches/inotify_strlen.c` does the same for
//! the inotify(7) man page's C loop.
//!
//! Without `--bench` (as under `cargo test --benches`) it makes a quick
//! smoke run: 2,000 events, one round, the same agreement checks.
//!
//! Environment: `KERNFD_BENCH_EVENTS` (default 100000), `KERNFD_BENCH_ROUNDS`
//! (default 5), `KERNFD_BENCH_NAME_KIND` (0 to 3: every file named like
//! `file-000123.txt`, `000123.rs`, `.file-000123.txt.swp` or
//! `Screenshot 2026-11-23 at 000123.png`, name fields of 16, 16, 32 and 48
//! bytes; by default the four kinds take turns).

// `inline(always)`: the per-event tally must not add a call to any reader.
#![allow(
    clippy::cast_precision_loss,
    clippy::missing_panics_doc,
    clippy::inline_always
)]

use std::fs::File;
use std::hint::black_box;
use std::mem::MaybeUninit;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kernfd::inotify::{Event, EventError, Inotify, WatchFlags, parse};
use rustix::io::Errno;

/// The read buffer every reader uses: one page, as inotify(7) suggests, and
/// what `nix` uses internally (it cannot be changed there).
const BUF_LEN: usize = 4096;

/// Distinct files the events rotate over; the kernel merges an event only
/// with an identical last one, so rotating keeps every event.
const FILES: usize = 1024;

const QUEUE_SYSCTL: &str = "/proc/sys/fs/inotify/max_queued_events";

/// A page-sized buffer aligned for `struct inotify_event` (rustix's Reader
/// skips bytes to align a misaligned buffer; this keeps all readers equal).
#[repr(C, align(8))]
struct Buf([MaybeUninit<u8>; BUF_LEN]);

impl Buf {
    fn new() -> Box<Self> {
        Box::new(Buf([MaybeUninit::new(0); BUF_LEN]))
    }
    fn bytes(&mut self) -> &mut [u8; BUF_LEN] {
        // SAFETY: every byte was initialised in `new`, and the kernel writes
        // only initialised bytes; `[MaybeUninit<u8>; N]` has `[u8; N]`'s layout.
        unsafe { &mut *self.0.as_mut_ptr().cast::<[u8; BUF_LEN]>() }
    }
}

/// What a reader saw: events, and a checksum of wd + mask + cookie + name
/// length over them, so no reader can skip work and all must agree.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Tally {
    events: u64,
    sum: u64,
}

impl Tally {
    #[inline(always)]
    fn add(&mut self, wd: i32, mask: u32, cookie: u32, name_len: usize) {
        self.events += 1;
        self.sum = self
            .sum
            .wrapping_add(u64::from(wd as u32))
            .wrapping_add(u64::from(mask))
            .wrapping_add(u64::from(cookie))
            .wrapping_add(name_len as u64);
    }
    #[inline(always)]
    fn add_kernfd(&mut self, item: Result<Event<'_>, EventError>) {
        match item {
            Ok(e) => self.add(e.wd(), e.mask().bits(), e.cookie(), e.name_bytes().len()),
            // An arm per error, as a caller who cares writes it: an overflow
            // means rescanning, a malformed record means a bug. (`EventError`
            // is non-exhaustive, so the last arm is needed, and dead.)
            Err(EventError::QueueOverflow) => panic!("kernfd: queue overflow"),
            Err(EventError::Malformed(p)) => bad_record(p),
            Err(e) => panic!("kernfd: {e}"),
        }
    }
}

// ---------------------------------------------------------------------------
// The readers. Each drains its own instance until EAGAIN. `#[inline(never)]`
// and the `bench_reader_` prefix let callgrind count exactly these.

/// The floor: `read()` until `EAGAIN`, no parsing at all.
#[inline(never)]
fn bench_reader_bare(fd: &rustix::fd::OwnedFd, buf: &mut Buf) -> u64 {
    let mut bytes = 0;
    loop {
        match rustix::io::read(fd, &mut buf.0) {
            Ok((filled, _)) => bytes += filled.len() as u64,
            Err(Errno::AGAIN) => return black_box(bytes),
            Err(e) => panic!("read: {e}"),
        }
    }
}

/// kernfd: `Inotify::read` until `EAGAIN`, iterating each batch.
#[inline(never)]
fn bench_reader_kernfd_read(ino: &Inotify, buf: &mut Buf) -> Tally {
    let mut t = Tally::default();
    loop {
        match ino.read(&mut buf.0) {
            Ok(events) => {
                for item in events {
                    t.add_kernfd(item);
                }
            }
            Err(e) if e.errno() == Some(Errno::AGAIN) => return black_box(t),
            Err(e) => panic!("kernfd read: {e}"),
        }
    }
}

/// kernfd: as [`bench_reader_kernfd_read`], but the way most code is
/// written: `let e = item?;` into a `Box<dyn Error>`, with no arm per error.
///
/// It costs what one arm per error variant costs (the parser's error path
/// is cold and out of line); shown so the figures say so.
#[inline(never)]
fn bench_reader_kernfd_try(ino: &Inotify, buf: &mut Buf) -> Tally {
    fn inner(ino: &Inotify, buf: &mut Buf) -> Result<Tally, Box<dyn std::error::Error>> {
        let mut t = Tally::default();
        loop {
            match ino.read(&mut buf.0) {
                Ok(events) => {
                    for item in events {
                        let e = item?;
                        t.add(e.wd(), e.mask().bits(), e.cookie(), e.name_bytes().len());
                    }
                }
                Err(e) if e.errno() == Some(Errno::AGAIN) => return Ok(black_box(t)),
                Err(e) => return Err(e.into()),
            }
        }
    }
    inner(ino, buf).expect("kernfd")
}

/// kernfd: `Inotify::drain`, the read-until-EAGAIN loop built in.
#[inline(never)]
fn bench_reader_kernfd_drain(ino: &Inotify, buf: &mut Buf) -> Tally {
    let mut t = Tally::default();
    ino.drain(&mut buf.0, |item| t.add_kernfd(item))
        .expect("kernfd drain");
    black_box(t)
}

/// The `inotify` crate (0.11): `read_events` until `WouldBlock`.
#[inline(never)]
fn bench_reader_inotify(ino: &mut inotify::Inotify, buf: &mut Buf) -> Tally {
    let mut t = Tally::default();
    loop {
        match ino.read_events(buf.bytes()) {
            Ok(events) => {
                for e in events {
                    let len = e.name.map_or(0, std::ffi::OsStr::len);
                    t.add(e.wd.get_watch_descriptor_id(), e.mask.bits(), e.cookie, len);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return black_box(t),
            Err(e) => panic!("inotify read_events: {e}"),
        }
    }
}

/// `nix` (0.31): `read_events` until `EAGAIN`. It reads into its own
/// 4096-byte buffer and returns a `Vec` of owned events.
#[inline(never)]
fn bench_reader_nix(ino: &nix::sys::inotify::Inotify) -> Tally {
    let mut t = Tally::default();
    loop {
        match ino.read_events() {
            Ok(events) => {
                for e in &events {
                    let len = e.name.as_ref().map_or(0, |n| n.len());
                    t.add(e.wd.as_raw(), e.mask.bits(), e.cookie, len);
                }
            }
            Err(nix::errno::Errno::EAGAIN) => return black_box(t),
            Err(e) => panic!("nix read_events: {e}"),
        }
    }
}

/// rustix (1.1): `fs::inotify::Reader::next` until `EAGAIN`.
#[inline(never)]
fn bench_reader_rustix(fd: &rustix::fd::OwnedFd, buf: &mut Buf) -> Tally {
    let mut t = Tally::default();
    let mut reader = rustix::fs::inotify::Reader::new(fd, &mut buf.0);
    loop {
        match reader.next() {
            Ok(e) => {
                let len = e.file_name().map_or(0, |n| n.to_bytes().len());
                t.add(e.wd(), e.events().bits(), e.cookie(), len);
            }
            Err(Errno::AGAIN) => return black_box(t),
            Err(e) => panic!("rustix Reader: {e}"),
        }
    }
}

// ---------------------------------------------------------------------------
// Parse only, on captured kernel bytes.

/// kernfd's `parse` over the whole capture.
#[inline(never)]
fn bench_reader_parse_kernfd(bytes: &[u8]) -> Tally {
    let mut t = Tally::default();
    for item in parse(black_box(bytes)) {
        t.add_kernfd(item);
    }
    black_box(t)
}

/// The header-only floor: reads wd, mask, cookie and `len`, skips the name
/// field without looking at it. Bounds-checked, so it is safe Rust too.
#[inline(never)]
fn bench_reader_parse_header(bytes: &[u8]) -> Tally {
    let mut t = Tally::default();
    let mut rest = black_box(bytes);
    while let Some((h, tail)) = rest.split_first_chunk::<16>() {
        let w = |i: usize| [h[i], h[i + 1], h[i + 2], h[i + 3]];
        let len = u32::from_ne_bytes(w(12)) as usize;
        t.add(
            i32::from_ne_bytes(w(0)),
            u32::from_ne_bytes(w(4)),
            u32::from_ne_bytes(w(8)),
            len,
        );
        let Some(next) = tail.get(len..) else { break };
        rest = next;
    }
    black_box(t)
}

// ---------------------------------------------------------------------------
// Setup: the queue limit, the watched directory, the event generator.

/// Raises `max_queued_events` to at least `need` and restores the old value
/// on drop, which also runs when a panic unwinds.
struct QueueLimit {
    old: Option<u64>,
}

impl QueueLimit {
    fn current() -> u64 {
        std::fs::read_to_string(QUEUE_SYSCTL)
            .expect("read max_queued_events")
            .trim()
            .parse()
            .expect("parse max_queued_events")
    }

    /// `Err` with the current limit when it is too low and we cannot raise it.
    fn raise(need: u64) -> Result<Self, u64> {
        let old = Self::current();
        if old >= need {
            return Ok(Self { old: None });
        }
        if !rustix::process::geteuid().is_root() {
            return Err(old);
        }
        std::fs::write(QUEUE_SYSCTL, need.to_string()).map_err(|_| old)?;
        eprintln!("# {QUEUE_SYSCTL}: {old} -> {need} (restored at exit)");
        Ok(Self { old: Some(old) })
    }
}

impl Drop for QueueLimit {
    fn drop(&mut self) {
        if let Some(old) = self.old {
            match std::fs::write(QUEUE_SYSCTL, old.to_string()) {
                Ok(()) => eprintln!("# {QUEUE_SYSCTL}: restored to {old}"),
                Err(e) => eprintln!("# {QUEUE_SYSCTL}: could not restore {old}: {e}"),
            }
        }
    }
}

/// A directory of `FILES` open files with names of realistic, mixed lengths
/// (name fields of 16, 16, 32 and 48 bytes once the kernel pads them).
struct Tree {
    dir: tempfile::TempDir,
    files: Vec<File>,
}

impl Tree {
    fn new() -> Self {
        let shm = Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            tempfile::tempdir_in(shm)
        } else {
            tempfile::tempdir()
        }
        .expect("temp dir");
        let files = (0..FILES)
            .map(|i| File::create(dir.path().join(name(i))).expect("create file"))
            .collect();
        Self { dir, files }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Queues exactly `n` `IN_MODIFY` events in every instance watching the
    /// directory: one one-byte `pwrite` each, rotating over the files.
    fn generate(&self, n: usize) {
        for i in 0..n {
            rustix::io::pwrite(&self.files[i % FILES], b"x", 0).expect("pwrite");
        }
    }
}

fn name(i: usize) -> PathBuf {
    let kind = std::env::var("KERNFD_BENCH_NAME_KIND")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .map_or(i % 4, |k| k % 4);
    PathBuf::from(match kind {
        0 => format!("file-{i:06}.txt"),
        1 => format!("{i:06}.rs"),
        2 => format!(".file-{i:06}.txt.swp"),
        _ => format!("Screenshot 2026-11-23 at {i:06}.png"),
    })
}

/// The watch every reader puts on the directory.
const MASK: u32 = 0x0000_0002; // IN_MODIFY

// ---------------------------------------------------------------------------
// One reader at a time, with its own instance.

const READERS: [&str; 7] = [
    "bare",
    "kernfd-read",
    "kernfd-drain",
    "kernfd-try",
    "inotify",
    "nix",
    "rustix",
];

/// The ways the benchmark reads with kernfd.
#[derive(Clone, Copy)]
enum KernfdReader {
    Read,
    Drain,
    Try,
}

/// An instance of one reader's crate, watching `dir`.
enum Instance {
    Bare(rustix::fd::OwnedFd),
    /// kernfd, with which of its readers.
    Kernfd(Inotify, KernfdReader),
    InotifyCrate(inotify::Inotify),
    Nix(nix::sys::inotify::Inotify),
    Rustix(rustix::fd::OwnedFd),
}

/// A non-blocking inotify descriptor watching `dir`, through rustix.
fn rustix_watch(dir: &Path) -> rustix::fd::OwnedFd {
    use rustix::fs::inotify as rx;
    let fd = rx::init(rx::CreateFlags::NONBLOCK | rx::CreateFlags::CLOEXEC).expect("rustix init");
    rx::add_watch(&fd, dir, rx::WatchFlags::from_bits_retain(MASK)).expect("rustix add_watch");
    fd
}

impl Instance {
    fn new(reader: &str, dir: &Path) -> Self {
        match reader {
            "bare" => Self::Bare(rustix_watch(dir)),
            "rustix" => Self::Rustix(rustix_watch(dir)),
            "kernfd-read" | "kernfd-drain" | "kernfd-try" => {
                let ino = Inotify::with_flags(
                    kernfd::inotify::InitFlags::NONBLOCK | kernfd::inotify::InitFlags::CLOEXEC,
                )
                .expect("kernfd init");
                ino.add_watch(dir, WatchFlags::from_bits_retain(MASK))
                    .expect("kernfd add_watch");
                Self::Kernfd(
                    ino,
                    match reader {
                        "kernfd-read" => KernfdReader::Read,
                        "kernfd-drain" => KernfdReader::Drain,
                        _ => KernfdReader::Try,
                    },
                )
            }
            "inotify" => {
                let ino = inotify::Inotify::init().expect("inotify init");
                ino.watches()
                    .add(dir, inotify::WatchMask::from_bits_retain(MASK))
                    .expect("inotify add");
                Self::InotifyCrate(ino)
            }
            "nix" => {
                use nix::sys::inotify as nx;
                let ino = nx::Inotify::init(nx::InitFlags::IN_NONBLOCK | nx::InitFlags::IN_CLOEXEC)
                    .expect("nix init");
                ino.add_watch(dir, nx::AddWatchFlags::from_bits_retain(MASK))
                    .expect("nix add_watch");
                Self::Nix(ino)
            }
            other => panic!("unknown reader {other:?}; readers: {READERS:?}"),
        }
    }

    /// Drains the queue; returns the tally (`None` for the bare loop, which
    /// parses nothing) and the bytes read (bare loop only).
    fn drain(&mut self, buf: &mut Buf) -> (Option<Tally>, u64) {
        match self {
            Self::Bare(fd) => (None, bench_reader_bare(fd, buf)),
            Self::Kernfd(ino, KernfdReader::Read) => (Some(bench_reader_kernfd_read(ino, buf)), 0),
            Self::Kernfd(ino, KernfdReader::Drain) => {
                (Some(bench_reader_kernfd_drain(ino, buf)), 0)
            }
            Self::Kernfd(ino, KernfdReader::Try) => (Some(bench_reader_kernfd_try(ino, buf)), 0),
            Self::InotifyCrate(ino) => (Some(bench_reader_inotify(ino, buf)), 0),
            Self::Nix(ino) => (Some(bench_reader_nix(ino)), 0),
            Self::Rustix(fd) => (Some(bench_reader_rustix(fd, buf)), 0),
        }
    }
}

/// Reads a whole queue into one byte vector, through `BUF_LEN` reads (each
/// read returns whole records, so the concatenation is a valid stream).
fn capture(fd: &rustix::fd::OwnedFd) -> Vec<u8> {
    let mut buf = Buf::new();
    let mut out = Vec::new();
    loop {
        match rustix::io::read(fd, &mut buf.0) {
            Ok((filled, _)) => out.extend_from_slice(filled),
            Err(Errno::AGAIN) => return out,
            Err(e) => panic!("read: {e}"),
        }
    }
}

fn env_usize(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` (or
    // `--all-targets`) passes nothing, and then gets a quick smoke run that
    // still checks that every reader sees the same events. Other flags are
    // ignored; words select a mode.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bench = args.iter().any(|a| a == "--bench");
    let words: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with('-'))
        .collect();
    match words.as_slice() {
        ["callgrind", reader, n] => callgrind(reader, n.parse().expect("event count")),
        _ if bench => timing(
            env_usize("KERNFD_BENCH_EVENTS", 100_000),
            env_usize("KERNFD_BENCH_ROUNDS", 5),
        ),
        _ => {
            println!("smoke run (no --bench): checks only, the figures mean nothing");
            timing(
                env_usize("KERNFD_BENCH_EVENTS", 2_000),
                env_usize("KERNFD_BENCH_ROUNDS", 1),
            );
        }
    }
}

/// One reader over `n` events, for callgrind. Prints `events checksum`.
fn callgrind(reader: &str, n: usize) {
    let limit = QueueLimit::raise(n as u64 + 1024).unwrap_or_else(|old| {
        eprintln!(
            "SKIPPED callgrind {reader}: max_queued_events is {old} and raising it needs root"
        );
        std::process::exit(77);
    });
    let tree = Tree::new();
    let mut buf = Buf::new();
    let tally = if let Some(which) = reader.strip_prefix("parse-") {
        let fd = rustix_watch(tree.path());
        tree.generate(n);
        let bytes = capture(&fd);
        match which {
            "kernfd" => bench_reader_parse_kernfd(&bytes),
            "header" => bench_reader_parse_header(&bytes),
            other => panic!("unknown parser {other:?}: kernfd or header"),
        }
    } else {
        let mut inst = Instance::new(reader, tree.path());
        tree.generate(n);
        match inst.drain(&mut buf) {
            (Some(t), _) => t,
            (None, bytes) => Tally {
                events: n as u64,
                sum: bytes,
            },
        }
    };
    println!("{} {}", tally.events, tally.sum);
    // Panic rather than exit: unwinding restores the queue limit.
    assert_eq!(tally.events, n as u64, "{reader}: events read");
    drop(limit);
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ns_per(d: Duration, n: usize) -> f64 {
    d.as_secs_f64() * 1e9 / n as f64
}

fn timing(n: usize, rounds: usize) {
    let rounds = rounds.max(1);
    println!("kernfd inotify benchmarks: {n} events, {rounds} rounds, {BUF_LEN}-byte buffer");
    let limit = QueueLimit::raise(n as u64 + 1024);
    let tree = Tree::new();
    let mut buf = Buf::new();

    let capture_n = match &limit {
        Ok(_) => {
            drain_bench(&tree, &mut buf, n, rounds);
            n
        }
        Err(old) => {
            println!(
                "SKIPPED drain: {n} events need max_queued_events >= {}, it is {old}, \
                 and raising it needs root",
                n + 1024
            );
            (*old as usize).saturating_sub(1).min(n)
        }
    };
    parse_bench(&tree, capture_n, rounds);
    drop(limit);
}

fn drain_bench(tree: &Tree, buf: &mut Buf, n: usize, rounds: usize) {
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); READERS.len()];
    let mut reference: Option<Tally> = None;
    for round in 0..rounds {
        let mut instances: Vec<Instance> = READERS
            .iter()
            .map(|r| Instance::new(r, tree.path()))
            .collect();
        tree.generate(n);
        // Rotate who goes first, so no reader always meets a cold cache.
        for k in 0..READERS.len() {
            let i = (k + round) % READERS.len();
            let start = Instant::now();
            let (tally, bytes) = instances[i].drain(buf);
            times[i].push(start.elapsed());
            match tally {
                None => assert!(bytes > 0, "bare loop read nothing"),
                Some(t) => {
                    assert_eq!(t.events, n as u64, "{} missed events", READERS[i]);
                    match reference {
                        None => reference = Some(t),
                        Some(r) => assert_eq!(r, t, "{} disagrees", READERS[i]),
                    }
                }
            }
        }
    }
    let bare_min = times[0].iter().min().copied().unwrap_or_default();
    let bare_med = median(&mut times[0].clone());
    println!("\n## drain: {n} kernel events per reader, read until EAGAIN");
    println!(
        "{:<16} {:>12} {:>12} {:>14} {:>14}",
        "reader", "min ns/event", "med ns/event", "min vs bare", "med vs bare"
    );
    for (i, r) in READERS.iter().enumerate() {
        let min = times[i].iter().min().copied().unwrap_or_default();
        let med = median(&mut times[i]);
        println!(
            "{:<16} {:>12.2} {:>12.2} {:>13.3}x {:>13.3}x",
            r,
            ns_per(min, n),
            ns_per(med, n),
            min.as_secs_f64() / bare_min.as_secs_f64(),
            med.as_secs_f64() / bare_med.as_secs_f64(),
        );
    }
}

fn parse_bench(tree: &Tree, n: usize, rounds: usize) {
    let fd = rustix_watch(tree.path());
    tree.generate(n);
    let bytes = capture(&fd);
    let k = bench_reader_parse_kernfd(&bytes);
    assert_eq!(k.events, n as u64, "capture holds {} events", k.events);
    // Repeat each parser until about 0.2 s per round.
    let reps = (200_000_000 / (bytes.len().max(1) * 2)).clamp(1, 1000);
    println!(
        "\n## parse only: {} bytes of captured kernel events ({n} events), {reps} passes per round",
        bytes.len()
    );
    println!(
        "{:<14} {:>12} {:>12} {:>12}",
        "parser", "max MB/s", "med MB/s", "min ns/event"
    );
    let mut results = Vec::new();
    for (label, f) in [
        (
            "kernfd parse",
            bench_reader_parse_kernfd as fn(&[u8]) -> Tally,
        ),
        ("header-only", bench_reader_parse_header),
    ] {
        let mut times = Vec::new();
        for _ in 0..rounds {
            let start = Instant::now();
            for _ in 0..reps {
                black_box(f(&bytes));
            }
            times.push(start.elapsed() / reps as u32);
        }
        let min = times.iter().min().copied().unwrap_or_default();
        let med = median(&mut times);
        let mbs = |d: Duration| bytes.len() as f64 / d.as_secs_f64() / 1e6;
        println!(
            "{:<14} {:>12.0} {:>12.0} {:>12.2}",
            label,
            mbs(min),
            mbs(med),
            ns_per(min, n)
        );
        results.push((min, med));
    }
    println!(
        "kernfd parse / header-only throughput: {:.3} (best), {:.3} (median)",
        results[1].0.as_secs_f64() / results[0].0.as_secs_f64(),
        results[1].1.as_secs_f64() / results[0].1.as_secs_f64(),
    );
}

/// What the benchmark does with a malformed record: there should be none.
#[cold]
#[inline(never)]
fn bad_record(p: kernfd::inotify::ParseError) -> ! {
    panic!("kernfd: {p}")
}
