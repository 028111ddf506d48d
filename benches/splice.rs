//! The splice copy loop ([`kernfd::pipe::copy`]) against its peers, in one
//! run: file→pipe, pipe→file and file→file, from a source file in the page
//! cache.
//!
//! Contenders on each pair:
//! - `kernfd::pipe::copy` (straight `splice` when one side is a pipe,
//!   `copy_file_range` between two files);
//! - a 128 KiB `read`/`write` loop;
//! - `std::io::copy` between `File`s (std itself picks `copy_file_range`,
//!   `sendfile` or `splice` from what the descriptors are);
//! - coreutils `cat` (one process per run, stdin/stdout on the same
//!   descriptors).
//!
//! The other end of each pipe is the same for all contenders and cheap: a
//! thread that splices the pipe into `/dev/null` (file→pipe), or that
//! splices the source file into the pipe (pipe→file). Output files are
//! truncated before every run. Each figure is the best of the rounds, in
//! GiB/s, with its ratio to the read/write loop.
//!
//! A second table shows the effect of the pipe size (64 KiB, the default,
//! vs 1 MiB) on the kernfd copy: for file→pipe the size of the destination
//! pipe; for file→`/dev/null` (neither side a pipe, so the copy goes
//! through a pipe of its own) the size of that internal pipe.
//!
//! Environment: `KERNFD_BENCH_SPLICE_BYTES` (default 1 GiB; 16 MiB for the
//! smoke run that `cargo test --benches` makes), `KERNFD_BENCH_ROUNDS`
//! (default 5), `KERNFD_BENCH_DIR` (where the files go; default the
//! system's temp dir).
#![allow(clippy::cast_precision_loss, clippy::missing_panics_doc)]

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kernfd::pipe::{self, Copier, Pipe, SpliceFlags};
use kernfd::rustix;

const RW_BUF: usize = 128 * 1024;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The ways to copy.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Way {
    Kernfd,
    ReadWrite,
    StdCopy,
    Cat,
}

const WAYS: [Way; 4] = [Way::Kernfd, Way::ReadWrite, Way::StdCopy, Way::Cat];

impl Way {
    fn name(self) -> &'static str {
        match self {
            Way::Kernfd => "kernfd::pipe::copy",
            Way::ReadWrite => "read/write 128 KiB",
            Way::StdCopy => "std::io::copy",
            Way::Cat => "coreutils cat",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Pair {
    FileToPipe,
    PipeToFile,
    FileToFile,
}

impl Pair {
    fn name(self) -> &'static str {
        match self {
            Pair::FileToPipe => "file→pipe",
            Pair::PipeToFile => "pipe→file",
            Pair::FileToFile => "file→file",
        }
    }
}

/// Copies `from` to `to` (both at their current positions) the `way` says;
/// returns the bytes copied.
fn copy_with(way: Way, from: &File, to: &File) -> u64 {
    match way {
        Way::Kernfd => pipe::copy(from, to).unwrap(),
        Way::ReadWrite => {
            let mut buf = vec![0_u8; RW_BUF];
            let mut total = 0;
            loop {
                let n = rustix::io::read(from, &mut buf).unwrap();
                if n == 0 {
                    return total;
                }
                let mut out = &buf[..n];
                while !out.is_empty() {
                    let k = rustix::io::write(to, out).unwrap();
                    out = &out[k..];
                }
                total += n as u64;
            }
        }
        Way::StdCopy => {
            let mut r = from;
            let mut w = to;
            std::io::copy(&mut r, &mut w).unwrap()
        }
        Way::Cat => {
            let status = Command::new("cat")
                .stdin(OwnedFd::from(from.try_clone().unwrap()))
                .stdout(OwnedFd::from(to.try_clone().unwrap()))
                .stderr(Stdio::inherit())
                .status()
                .unwrap();
            assert!(status.success());
            0
        }
    }
}

fn devnull() -> File {
    OpenOptions::new().write(true).open("/dev/null").unwrap()
}

/// One timed run of `way` on `pair`; returns the time it took.
fn run(way: Way, pair: Pair, src: &Path, dst: &Path, len: u64, pipe_size: usize) -> Duration {
    match pair {
        Pair::FileToPipe => {
            let (r, w) = Pipe::with_size(pipe_size).unwrap().into_ends();
            let from = File::open(src).unwrap();
            let to = File::from(w);
            let sink = std::thread::spawn(move || {
                let null = devnull();
                let mut total = 0_u64;
                loop {
                    let n =
                        pipe::splice(&r, None, &null, None, 1 << 30, SpliceFlags::empty()).unwrap();
                    if n == 0 {
                        return total;
                    }
                    total += n as u64;
                }
            });
            let t = Instant::now();
            copy_with(way, &from, &to);
            drop(to);
            let got = sink.join().unwrap();
            let el = t.elapsed();
            assert_eq!(got, len, "{way:?} {pair:?}");
            el
        }
        Pair::PipeToFile => {
            let (r, w) = Pipe::with_size(pipe_size).unwrap().into_ends();
            let to = File::create(dst).unwrap();
            let from = File::from(r);
            let src = src.to_path_buf();
            let t = Instant::now();
            let feeder = std::thread::spawn(move || {
                let f = File::open(src).unwrap();
                pipe::copy(&f, &w).unwrap()
            });
            copy_with(way, &from, &to);
            let el = t.elapsed();
            assert_eq!(feeder.join().unwrap(), len);
            assert_eq!(to.metadata().unwrap().len(), len, "{way:?} {pair:?}");
            el
        }
        Pair::FileToFile => {
            let from = File::open(src).unwrap();
            let to = File::create(dst).unwrap();
            let t = Instant::now();
            copy_with(way, &from, &to);
            let el = t.elapsed();
            assert_eq!(to.metadata().unwrap().len(), len, "{way:?} {pair:?}");
            el
        }
    }
}

fn gibs(len: u64, d: Duration) -> f64 {
    len as f64 / d.as_secs_f64() / f64::from(1 << 30)
}

fn make_source(dir: &Path, len: u64) -> PathBuf {
    let path = dir.join("splice-bench-source");
    let mut f = File::create(&path).unwrap();
    let block: Vec<u8> = (0..1 << 20)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut left = len;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        f.write_all(&block[..n]).unwrap();
        left -= n as u64;
    }
    f.sync_all().unwrap();
    // Read it once: the runs copy from the page cache.
    let null = devnull();
    pipe::copy(File::open(&path).unwrap(), &null).unwrap();
    path
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let len = env_u64(
        "KERNFD_BENCH_SPLICE_BYTES",
        if bench { 1 << 30 } else { 16 << 20 },
    );
    let rounds = env_u64("KERNFD_BENCH_ROUNDS", if bench { 5 } else { 1 }).max(1);
    if !bench {
        println!("smoke run (no --bench): checks only, the figures mean nothing");
    }
    let have_cat = Command::new("cat")
        .arg("/dev/null")
        .status()
        .is_ok_and(|s| s.success());
    let base = std::env::var_os("KERNFD_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let dir = tempfile::tempdir_in(base).unwrap();
    let src = make_source(dir.path(), len);
    let dst = dir.path().join("splice-bench-dest");
    println!(
        "copying {} MiB from the page cache, best of {rounds} rounds, GiB/s (ratio to the read/write loop)",
        len >> 20
    );

    for pair in [Pair::FileToPipe, Pair::PipeToFile, Pair::FileToFile] {
        let mut best = [Duration::MAX; WAYS.len()];
        for round in 0..rounds {
            // Rotate the order so no contender always runs first.
            for k in 0..WAYS.len() {
                let i = (k + round as usize) % WAYS.len();
                let way = WAYS[i];
                if way == Way::Cat && !have_cat {
                    continue;
                }
                let d = run(way, pair, &src, &dst, len, 64 * 1024);
                best[i] = best[i].min(d);
                let _ = std::fs::remove_file(&dst);
            }
        }
        let rw = best[WAYS.iter().position(|w| *w == Way::ReadWrite).unwrap()];
        println!("\n{}:", pair.name());
        for (i, way) in WAYS.iter().enumerate() {
            if best[i] == Duration::MAX {
                println!("  {:<22} (not run)", way.name());
                continue;
            }
            println!(
                "  {:<22} {:>6.2} GiB/s  {:>5.2}x",
                way.name(),
                gibs(len, best[i]),
                rw.as_secs_f64() / best[i].as_secs_f64()
            );
        }
    }

    println!("\npipe size, kernfd::pipe::copy:");
    for (pair, what) in [
        (Pair::FileToPipe, "file→pipe, destination pipe of"),
        (Pair::FileToFile, "file→/dev/null, internal pipe of"),
    ] {
        for size in [64 * 1024, 1 << 20] {
            let mut best = Duration::MAX;
            for _ in 0..rounds {
                let d = match pair {
                    Pair::FileToFile => {
                        let p = Pipe::with_size(size).unwrap();
                        let from = File::open(&src).unwrap();
                        let to = devnull();
                        let t = Instant::now();
                        Copier::new().pipe(&p).copy(&from, &to).unwrap();
                        t.elapsed()
                    }
                    _ => run(Way::Kernfd, pair, &src, &dst, len, size),
                };
                best = best.min(d);
                let _ = std::fs::remove_file(&dst);
            }
            println!(
                "  {what} {:>5} KiB: {:>6.2} GiB/s",
                size >> 10,
                gibs(len, best)
            );
        }
    }
}
