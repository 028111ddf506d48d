//! kernfd beside its peers, built as a user's program builds it (a separate
//! package, kernfd by path, the default release profile). One process runs
//! one reader over `N` kernel events it queues first; the reader is an
//! `#[inline(never)]` function named `bench_loop_*`, so
//! `valgrind --tool=callgrind --toggle-collect='*bench_loop_*'` counts only
//! the loop and what it calls (reads, parsing, closes). `callgrind.sh` runs
//! every reader and prints instructions per event.
//!
//! Two kinds of hand-written loop bound the library readers from below.
//! `hand` (fanotify) and `c-strlen` (inotify) trust the kernel and check
//! nothing. The checked hand loops (`hand-checked` for fanotify,
//! `hand-checked-fields` and `hand-checked-name` for inotify) make every
//! check kernfd's parser promises (a whole header left, the lengths fit,
//! the version and metadata length, the overflow record, the FID record's
//! type, length, handle and NUL-terminated name; any failure ends the
//! process) as plain straight-line Rust over the bytes, with word-at-a-time
//! (SWAR) name scans and no SIMD: the floor of what the checks alone cost.
//!
//! Usage: `kernfd-peers inotify READER N MIX` (MIX: `rand` for names of 4 to
//! 40 random bytes, or a fixed length such as `15`), or
//! `kernfd-peers fid|fd READER N` (root: a private mount namespace with a
//! fresh tmpfs). Prints `events checksum`. `kernfd-peers list MODE` prints
//! the readers of a mode.

#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]

use std::error::Error;
use std::fs::{self, File};
use std::hint::black_box;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use kernfd::Errno;
use kernfd::fanotify::{self as fan, EventFlags, Fanotify, Info, InitFlags, MarkType};
use kernfd::inotify::{self as ino, Inotify, WatchFlags};

const INOTIFY_READERS: &[&str] = &[
    "kernfd-fields",
    "kernfd-name",
    "kernfd-catchall",
    "kernfd-try",
    "rustix-fields",
    "rustix-name",
    "rustix-try",
    "inotify",
    "nix",
    "c-strlen",
    "hand-checked-fields",
    "hand-checked-name",
];
const FID_READERS: &[&str] = &[
    "hand",
    "hand-checked",
    "kernfd-fields",
    "kernfd-fid",
    "kernfd-infos",
    "kernfd-catchall",
    "kernfd-try",
    "fanotify-fid",
    "nix-fields",
];
const FD_READERS: &[&str] = &[
    "hand",
    "hand-checked",
    "kernfd-close",
    "kernfd-take",
    "kernfd-catchall",
    "kernfd-try",
    "nix",
    "fanotify-fid",
    "fanotify-rs",
];

/// What every reader sums, so runs can be compared: event count and a
/// checksum of the fields it read.
#[derive(Default, Clone, Copy)]
struct Tally {
    n: u64,
    sum: u64,
}

impl Tally {
    #[inline(always)]
    fn add(&mut self, x: u64) {
        self.n += 1;
        self.sum = self.sum.wrapping_add(x);
    }
}

fn die(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("{what}: {e}");
    std::process::exit(1)
}

// ---------------------------------------------------------------------------
// inotify readers: wd + mask + cookie (+ the name's length).

/// Fields only, one arm per error variant.
#[inline(never)]
fn bench_loop_ino_kernfd_fields(i: &Inotify, buf: &mut [u8]) -> Tally {
    let mut t = Tally::default();
    loop {
        match i.read(buf) {
            Ok(events) => {
                for item in events {
                    match item {
                        Ok(e) => t.add(
                            e.wd() as u64 + u64::from(e.mask().bits()) + u64::from(e.cookie()),
                        ),
                        Err(ino::EventError::QueueOverflow) => die("kernfd", "overflow"),
                        Err(ino::EventError::Malformed(p)) => die("kernfd", p),
                        Err(e) => die("kernfd", e),
                    }
                }
            }
            Err(e) if e.errno() == Some(Errno::AGAIN) => return black_box(t),
            Err(e) => die("kernfd read", e),
        }
    }
}

/// Fields and the name's length, one arm per error variant.
#[inline(never)]
fn bench_loop_ino_kernfd_name(i: &Inotify, buf: &mut [u8]) -> Tally {
    let mut t = Tally::default();
    loop {
        match i.read(buf) {
            Ok(events) => {
                for item in events {
                    match item {
                        Ok(e) => t.add(
                            e.wd() as u64
                                + u64::from(e.mask().bits())
                                + u64::from(e.cookie())
                                + e.name_bytes().len() as u64,
                        ),
                        Err(ino::EventError::QueueOverflow) => die("kernfd", "overflow"),
                        Err(ino::EventError::Malformed(p)) => die("kernfd", p),
                        Err(e) => die("kernfd", e),
                    }
                }
            }
            Err(e) if e.errno() == Some(Errno::AGAIN) => return black_box(t),
            Err(e) => die("kernfd read", e),
        }
    }
}

/// Fields and name, one catch-all `Err(e)` arm.
#[inline(never)]
fn bench_loop_ino_kernfd_catchall(i: &Inotify, buf: &mut [u8]) -> Tally {
    let mut t = Tally::default();
    loop {
        match i.read(buf) {
            Ok(events) => {
                for item in events {
                    match item {
                        Ok(e) => t.add(
                            e.wd() as u64
                                + u64::from(e.mask().bits())
                                + u64::from(e.cookie())
                                + e.name_bytes().len() as u64,
                        ),
                        Err(e) => panic!("kernfd: {e}"),
                    }
                }
            }
            Err(e) if e.errno() == Some(Errno::AGAIN) => return black_box(t),
            Err(e) => die("kernfd read", e),
        }
    }
}

/// Fields and name, `let e = item?;` into a `Box<dyn Error>`.
#[inline(never)]
fn bench_loop_ino_kernfd_try(i: &Inotify, buf: &mut [u8]) -> Result<Tally, Box<dyn Error>> {
    let mut t = Tally::default();
    loop {
        match i.read(buf) {
            Ok(events) => {
                for item in events {
                    let e = item?;
                    t.add(
                        e.wd() as u64
                            + u64::from(e.mask().bits())
                            + u64::from(e.cookie())
                            + e.name_bytes().len() as u64,
                    );
                }
            }
            Err(e) if e.errno() == Some(Errno::AGAIN) => return Ok(black_box(t)),
            Err(e) => return Err(e.into()),
        }
    }
}

#[inline(never)]
fn bench_loop_ino_rustix_fields(fd: &OwnedFd, buf: &mut [MaybeUninit<u8>]) -> Tally {
    let mut t = Tally::default();
    let mut r = rustix::fs::inotify::Reader::new(fd, buf);
    loop {
        match r.next() {
            Ok(e) => t.add(e.wd() as u64 + u64::from(e.events().bits()) + u64::from(e.cookie())),
            Err(rustix::io::Errno::AGAIN) => return black_box(t),
            Err(e) => die("rustix", e),
        }
    }
}

#[inline(never)]
fn bench_loop_ino_rustix_name(fd: &OwnedFd, buf: &mut [MaybeUninit<u8>]) -> Tally {
    let mut t = Tally::default();
    let mut r = rustix::fs::inotify::Reader::new(fd, buf);
    loop {
        match r.next() {
            Ok(e) => t.add(
                e.wd() as u64
                    + u64::from(e.events().bits())
                    + u64::from(e.cookie())
                    + e.file_name().map_or(0, |n| n.to_bytes().len()) as u64,
            ),
            Err(rustix::io::Errno::AGAIN) => return black_box(t),
            Err(e) => die("rustix", e),
        }
    }
}

#[inline(never)]
fn bench_loop_ino_rustix_try(
    fd: &OwnedFd,
    buf: &mut [MaybeUninit<u8>],
) -> Result<Tally, Box<dyn Error>> {
    let mut t = Tally::default();
    let mut r = rustix::fs::inotify::Reader::new(fd, buf);
    loop {
        let e = match r.next() {
            Err(rustix::io::Errno::AGAIN) => return Ok(black_box(t)),
            other => other?,
        };
        t.add(
            e.wd() as u64
                + u64::from(e.events().bits())
                + u64::from(e.cookie())
                + e.file_name().map_or(0, |n| n.to_bytes().len()) as u64,
        );
    }
}

#[inline(never)]
fn bench_loop_ino_inotify(i: &mut inotify::Inotify, buf: &mut [u8]) -> Tally {
    let mut t = Tally::default();
    loop {
        match i.read_events(buf) {
            Ok(events) => {
                for e in events {
                    t.add(
                        e.wd.get_watch_descriptor_id() as u64
                            + u64::from(e.mask.bits())
                            + u64::from(e.cookie)
                            + e.name.map_or(0, std::ffi::OsStr::len) as u64,
                    );
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return black_box(t),
            Err(e) => die("inotify", e),
        }
    }
}

#[inline(never)]
fn bench_loop_ino_nix(i: &nix::sys::inotify::Inotify) -> Tally {
    let mut t = Tally::default();
    loop {
        match i.read_events() {
            Ok(events) => {
                for e in &events {
                    t.add(
                        e.wd.as_raw() as u64
                            + u64::from(e.mask.bits())
                            + u64::from(e.cookie)
                            + e.name.as_ref().map_or(0, |n| n.len()) as u64,
                    );
                }
            }
            Err(nix::errno::Errno::EAGAIN) => return black_box(t),
            Err(e) => die("nix", e),
        }
    }
}

/// One read for the checked hand loops: the bytes it filled, `None` when
/// nothing is queued (`EAGAIN`).
#[allow(clippy::inline_always)] // part of each loop, as written in it
#[inline(always)]
fn read_some<'a>(fd: &OwnedFd, buf: &'a mut [u8]) -> Option<&'a [u8]> {
    let len = match rustix::io::read(fd, &mut *buf) {
        Ok(len) => len,
        Err(rustix::io::Errno::AGAIN) => return None,
        Err(e) => die("read", e),
    };
    Some(buf.get(..len).unwrap_or_else(|| die("read", "too long")))
}

/// The checked hand loop: the floor of what a loop costs that makes every
/// check kernfd's parser promises, as straight-line code over the bytes
/// (no iterator, no error type). Per record: 16 header bytes left, the
/// `len`-byte name field fits in what is left, no `IN_Q_OVERFLOW`; any
/// failure ends the process. With `NAME`, the name's length by kernfd's
/// rule: the first NUL of the field's last 16 bytes (two 8-byte words and
/// the has-zero-byte test, the second only when the first has no NUL), or
/// of a shorter field (byte by byte); no name in a 0-byte field.
#[inline(never)]
fn bench_loop_ino_hand_checked<const NAME: bool>(fd: &OwnedFd, buf: &mut [u8]) -> Tally {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut t = Tally::default();
    loop {
        let Some(mut rest) = read_some(fd, buf) else {
            return black_box(t);
        };
        while let Some((head, after)) = rest.split_first_chunk::<16>() {
            let word = |i: usize| [head[i], head[i + 1], head[i + 2], head[i + 3]];
            let Some((field, tail)) = after.split_at_checked(u32::from_ne_bytes(word(12)) as usize)
            else {
                die("inotify", "truncated name")
            };
            let mask = u32::from_ne_bytes(word(4));
            if mask & 0x4000 != 0 {
                die("inotify", "overflow");
            }
            let mut x = i32::from_ne_bytes(word(0)) as u64
                + u64::from(mask)
                + u64::from(u32::from_ne_bytes(word(8)));
            if NAME {
                x += match field.split_last_chunk::<16>() {
                    // The first zero byte of the last 16, as two words
                    // (16 if none: a zero word has 64 trailing zeros).
                    Some((_, last)) => {
                        let (lo, hi) = last.split_at(8);
                        let word = |b: &[u8]| {
                            let w = u64::from_le_bytes([
                                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                            ]);
                            w.wrapping_sub(LO) & !w & HI
                        };
                        let zero = word(lo);
                        let end = if zero != 0 {
                            zero.trailing_zeros() / 8
                        } else {
                            8 + word(hi).trailing_zeros() / 8
                        };
                        field.len() - 16 + end as usize
                    }
                    None => field.iter().position(|&b| b == 0).unwrap_or(field.len()),
                } as u64;
            }
            t.add(x);
            rest = tail;
        }
        // Less than a header left: a truncated record.
        if !rest.is_empty() {
            die("inotify", "truncated header");
        }
    }
}

unsafe extern "C" {
    /// `c/strlen.c`, the inotify(7) loop (gcc -O2).
    fn bench_loop_c_strlen(fd: i32, count: *mut u64) -> u64;
}

/// The file names of a mix: `rand` (4 to 40 bytes, a fixed pseudo-random
/// sequence) or one fixed length (at least 4).
fn names(mix: &str, files: usize) -> Vec<String> {
    let mut seed: u32 = 0x2545_f491;
    (0..files)
        .map(|i| {
            let len = if mix == "rand" {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                4 + (seed >> 16) as usize % 37
            } else {
                mix.parse::<usize>()
                    .unwrap_or_else(|e| die("mix", e))
                    .max(4)
            };
            let mut s = format!("{i:04}");
            while s.len() < len {
                s.push((b'a' + (s.len() % 26) as u8) as char);
            }
            s
        })
        .collect()
}

fn run_inotify(reader: &str, n: usize, mix: &str) -> Tally {
    let dir = tempfile::Builder::new()
        .prefix("kernfd-peers")
        .tempdir_in("/dev/shm")
        .unwrap_or_else(|e| die("tempdir", e));
    let files: Vec<File> = names(mix, 1024)
        .iter()
        .map(|name| File::create(dir.path().join(name)).unwrap_or_else(|e| die("create", e)))
        .collect();
    let mut buf = vec![0_u8; 4096];
    let mut ubuf = vec![MaybeUninit::<u8>::uninit(); 4096];
    let flags =
        rustix::fs::inotify::CreateFlags::NONBLOCK | rustix::fs::inotify::CreateFlags::CLOEXEC;
    let fd = rustix::fs::inotify::init(flags).unwrap_or_else(|e| die("inotify_init", e));
    rustix::fs::inotify::add_watch(&fd, dir.path(), rustix::fs::inotify::WatchFlags::MODIFY)
        .unwrap_or_else(|e| die("add_watch", e));
    let _ = WatchFlags::MODIFY; // the same bit for every reader
    for i in 0..n {
        files[i % files.len()]
            .write_at(b"x", 0)
            .unwrap_or_else(|e| die("pwrite", e));
    }
    match reader {
        "kernfd-fields" | "kernfd-name" | "kernfd-catchall" | "kernfd-try" => {
            let i = Inotify::from(fd);
            match reader {
                "kernfd-fields" => bench_loop_ino_kernfd_fields(&i, &mut buf),
                "kernfd-name" => bench_loop_ino_kernfd_name(&i, &mut buf),
                "kernfd-catchall" => bench_loop_ino_kernfd_catchall(&i, &mut buf),
                _ => bench_loop_ino_kernfd_try(&i, &mut buf).unwrap_or_else(|e| die("kernfd", e)),
            }
        }
        "rustix-fields" => bench_loop_ino_rustix_fields(&fd, &mut ubuf),
        "hand-checked-fields" => bench_loop_ino_hand_checked::<false>(&fd, &mut buf),
        "hand-checked-name" => bench_loop_ino_hand_checked::<true>(&fd, &mut buf),
        "rustix-name" => bench_loop_ino_rustix_name(&fd, &mut ubuf),
        "rustix-try" => {
            bench_loop_ino_rustix_try(&fd, &mut ubuf).unwrap_or_else(|e| die("rustix", e))
        }
        "inotify" => {
            // SAFETY: the inotify fd is handed over whole.
            let mut i = unsafe { inotify::Inotify::from_raw_fd(fd.into_raw_fd()) };
            bench_loop_ino_inotify(&mut i, &mut buf)
        }
        "nix" => {
            // SAFETY: as above.
            let i = unsafe { nix::sys::inotify::Inotify::from_raw_fd(fd.into_raw_fd()) };
            bench_loop_ino_nix(&i)
        }
        "c-strlen" => {
            let mut count = 0;
            // SAFETY: `fd` is an open inotify fd; `count` is writable.
            let sum = unsafe { bench_loop_c_strlen(fd.as_raw_fd(), &mut count) };
            Tally { n: count, sum }
        }
        _ => die("unknown inotify reader", reader),
    }
}

// ---------------------------------------------------------------------------
// fanotify readers. FID mode (`REPORT_DFID_NAME`, `CREATE`): mask + pid
// (+ the handle's length + the name's length). fd mode (`OPEN`): mask + pid
// + whether there is an fd; every event fd is closed.

#[inline(always)]
fn fid_sum(e: &fan::Event<'_>) -> u64 {
    let f = e.fid();
    e.mask().bits()
        + e.pid() as u64
        + f.map_or(0, |f| {
            f.handle().bytes().len() + f.name_bytes().map_or(0, <[u8]>::len)
        }) as u64
}

/// Metadata only, one arm per error variant.
#[inline(never)]
fn bench_loop_fid_kernfd_fields(f: &Fanotify, buf: &mut [u8]) -> Tally {
    let mut t = Tally::default();
    loop {
        match f.read(buf) {
            Ok(events) => {
                for item in events {
                    match item {
                        Ok(e) => t.add(e.mask().bits() + e.pid() as u64),
                        Err(fan::EventError::QueueOverflow) => die("kernfd", "overflow"),
                        Err(fan::EventError::Malformed(p)) => die("kernfd", p),
                        Err(e) => die("kernfd", e),
                    }
                }
            }
            Err(e) if e.errno() == Some(Errno::AGAIN) => return black_box(t),
            Err(e) => die("kernfd read", e),
        }
    }
}

/// `fid()` → handle length and name length, one arm per error variant.
#[inline(never)]
fn bench_loop_fid_kernfd_fid(f: &Fanotify, buf: &mut [u8]) -> Tally {
    let mut t = Tally::default();
    loop {
        match f.read(buf) {
            Ok(events) => {
                for item in events {
                    match item {
                        Ok(e) => t.add(fid_sum(&e)),
                        Err(fan::EventError::QueueOverflow) => die("kernfd", "overflow"),
                        Err(fan::EventError::Malformed(p)) => die("kernfd", p),
                        Err(e) => die("kernfd", e),
                    }
                }
            }
            Err(e) if e.errno() == Some(Errno::AGAIN) => return black_box(t),
            Err(e) => die("kernfd read", e),
        }
    }
}

/// The same through `infos()`, every record looked at.
#[inline(never)]
fn bench_loop_fid_kernfd_infos(f: &Fanotify, buf: &mut [u8]) -> Tally {
    let mut t = Tally::default();
    loop {
        match f.read(buf) {
            Ok(events) => {
                for item in events {
                    match item {
                        Ok(e) => {
                            let mut x = e.mask().bits() + e.pid() as u64;
                            for i in e.infos() {
                                if let Info::Fid(f) = i {
                                    x += (f.handle().bytes().len()
                                        + f.name_bytes().map_or(0, <[u8]>::len))
                                        as u64;
                                }
                            }
                            t.add(x);
                        }
                        Err(fan::EventError::QueueOverflow) => die("kernfd", "overflow"),
                        Err(fan::EventError::Malformed(p)) => die("kernfd", p),
                        Err(e) => die("kernfd", e),
                    }
                }
            }
            Err(e) if e.errno() == Some(Errno::AGAIN) => return black_box(t),
            Err(e) => die("kernfd read", e),
        }
    }
}

/// FID mode with one catch-all `Err(e)` arm.
#[inline(never)]
fn bench_loop_fid_kernfd_catchall(f: &Fanotify, buf: &mut [u8]) -> Tally {
    let mut t = Tally::default();
    loop {
        match f.read(buf) {
            Ok(events) => {
                for item in events {
                    match item {
                        Ok(e) => t.add(fid_sum(&e)),
                        Err(e) => panic!("kernfd: {e}"),
                    }
                }
            }
            Err(e) if e.errno() == Some(Errno::AGAIN) => return black_box(t),
            Err(e) => die("kernfd read", e),
        }
    }
}

/// FID mode with `let e = item?;`.
#[inline(never)]
fn bench_loop_fid_kernfd_try(f: &Fanotify, buf: &mut [u8]) -> Result<Tally, Box<dyn Error>> {
    let mut t = Tally::default();
    loop {
        match f.read(buf) {
            Ok(events) => {
                for item in events {
                    let e = item?;
                    t.add(fid_sum(&e));
                }
            }
            Err(e) if e.errno() == Some(Errno::AGAIN) => return Ok(black_box(t)),
            Err(e) => return Err(e.into()),
        }
    }
}

/// fd mode: the event closes its fd when dropped; one arm per variant.
#[inline(never)]
fn bench_loop_fd_kernfd_close(f: &Fanotify, buf: &mut [u8]) -> Tally {
    let mut t = Tally::default();
    loop {
        match f.read(buf) {
            Ok(events) => {
                for item in events {
                    match item {
                        Ok(e) => t.add(
                            e.mask().bits() + e.pid() as u64 + u64::from(e.borrow_fd().is_some()),
                        ),
                        Err(fan::EventError::QueueOverflow) => die("kernfd", "overflow"),
                        Err(fan::EventError::Malformed(p)) => die("kernfd", p),
                        Err(e) => die("kernfd", e),
                    }
                }
            }
            Err(e) if e.errno() == Some(Errno::AGAIN) => return black_box(t),
            Err(e) => die("kernfd read", e),
        }
    }
}

/// fd mode: the fd taken out of the event (`take_fd`) and dropped.
#[inline(never)]
fn bench_loop_fd_kernfd_take(f: &Fanotify, buf: &mut [u8]) -> Tally {
    let mut t = Tally::default();
    loop {
        match f.read(buf) {
            Ok(events) => {
                for item in events {
                    match item {
                        Ok(mut e) => {
                            let fd = e.take_fd();
                            t.add(e.mask().bits() + e.pid() as u64 + u64::from(fd.is_some()));
                            drop(fd);
                        }
                        Err(fan::EventError::QueueOverflow) => die("kernfd", "overflow"),
                        Err(fan::EventError::Malformed(p)) => die("kernfd", p),
                        Err(e) => die("kernfd", e),
                    }
                }
            }
            Err(e) if e.errno() == Some(Errno::AGAIN) => return black_box(t),
            Err(e) => die("kernfd read", e),
        }
    }
}

#[inline(never)]
fn bench_loop_fd_kernfd_catchall(f: &Fanotify, buf: &mut [u8]) -> Tally {
    let mut t = Tally::default();
    loop {
        match f.read(buf) {
            Ok(events) => {
                for item in events {
                    match item {
                        Ok(e) => t.add(
                            e.mask().bits() + e.pid() as u64 + u64::from(e.borrow_fd().is_some()),
                        ),
                        Err(e) => panic!("kernfd: {e}"),
                    }
                }
            }
            Err(e) if e.errno() == Some(Errno::AGAIN) => return black_box(t),
            Err(e) => die("kernfd read", e),
        }
    }
}

#[inline(never)]
fn bench_loop_fd_kernfd_try(f: &Fanotify, buf: &mut [u8]) -> Result<Tally, Box<dyn Error>> {
    let mut t = Tally::default();
    loop {
        match f.read(buf) {
            Ok(events) => {
                for item in events {
                    let e = item?;
                    t.add(e.mask().bits() + e.pid() as u64 + u64::from(e.borrow_fd().is_some()));
                }
            }
            Err(e) if e.errno() == Some(Errno::AGAIN) => return Ok(black_box(t)),
            Err(e) => return Err(e.into()),
        }
    }
}

/// The loop a C programmer writes, trusting the kernel: unaligned loads,
/// the first info record's handle length, `strlen` of the name, `close`.
#[inline(never)]
fn bench_loop_fan_hand(fd: &OwnedFd, fid: bool, buf: &mut [u8]) -> Tally {
    let mut t = Tally::default();
    loop {
        // SAFETY: `buf` is valid for `buf.len()` writes.
        let r = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if r < 0 {
            if std::io::Error::last_os_error().kind() != std::io::ErrorKind::WouldBlock {
                die("read", std::io::Error::last_os_error());
            }
            return black_box(t);
        }
        let len = r as usize;
        let p = buf.as_ptr();
        let mut off = 0;
        while off + 24 <= len {
            // SAFETY: the kernel wrote whole events within `len`.
            unsafe {
                let event_len = p.add(off).cast::<u32>().read_unaligned() as usize;
                let meta_len = p.add(off + 6).cast::<u16>().read_unaligned() as usize;
                let mask = p.add(off + 8).cast::<u64>().read_unaligned();
                let efd = p.add(off + 16).cast::<i32>().read_unaligned();
                let pid = p.add(off + 20).cast::<i32>().read_unaligned();
                let mut x = mask + pid as u64;
                if fid {
                    let info = off + meta_len;
                    let hb = p.add(info + 12).cast::<u32>().read_unaligned() as usize;
                    let name = p.add(info + 20 + hb).cast::<libc::c_char>();
                    x += (hb + libc::strlen(name)) as u64;
                } else if efd >= 0 {
                    x += 1;
                    libc::close(efd);
                }
                t.add(x);
                off += event_len;
            }
        }
    }
}

/// Version 3, reserved 0, `metadata_len` 24: bytes 4..8 of every event
/// header the kernel writes, as one word.
const FAN_HEAD: u32 = {
    let ml = 24_u16.to_ne_bytes();
    u32::from_ne_bytes([3, 0, ml[0], ml[1]])
};

/// The checked hand loop in FID mode: the floor of what a loop costs that
/// makes every check kernfd's parser promises, as straight-line code over
/// the bytes. Per event: 24 header bytes left; version, reserved and
/// `metadata_len` as one word; `event_len` from 24 to what is left; no
/// `FAN_Q_OVERFLOW`; the info region one named FID record spanning it
/// (type, `hdr.len`, the handle fits, the region ends in NUL); the name's
/// length by a word scan from its start; the event fd closed if there is
/// one. Any failure ends the process.
#[inline(never)]
fn bench_loop_fid_hand_checked(fd: &OwnedFd, buf: &mut [u8]) -> Tally {
    let mut t = Tally::default();
    loop {
        let Some(mut rest) = read_some(fd, buf) else {
            return black_box(t);
        };
        while let Some(meta) = rest.first_chunk::<24>() {
            let word = |i: usize| [meta[i], meta[i + 1], meta[i + 2], meta[i + 3]];
            if u32::from_ne_bytes(word(4)) != FAN_HEAD {
                die("fanotify", "version or metadata_len");
            }
            let event_len = u32::from_ne_bytes(word(0)) as usize;
            let Some((record, tail)) = rest.split_at_checked(event_len) else {
                die("fanotify", "truncated event")
            };
            let Some(region) = record.get(24..) else {
                die("fanotify", "event_len < 24")
            };
            let mask = u64::from_ne_bytes(meta[8..16].try_into().unwrap());
            if mask & 0x4000 != 0 {
                die("fanotify", "overflow");
            }
            // One FID record: hdr (info_type, pad, len), fsid, then
            // `struct file_handle` (handle_bytes, handle_type, f_handle).
            let Some(info) = region.first_chunk::<20>() else {
                die("fanotify", "no FID record")
            };
            let hdr_len = usize::from(u16::from_ne_bytes([info[2], info[3]]));
            let hb = u32::from_ne_bytes([info[12], info[13], info[14], info[15]]) as usize;
            if hdr_len != region.len()
                || !matches!(info[0], 2 | 10 | 12)
                || hb >= region.len() - 20
                || region.last() != Some(&0)
            {
                die("fanotify", "bad FID record");
            }
            let Some(name) = region.get(20 + hb..) else {
                die("fanotify", "bad handle")
            };
            // kernfd's rule: the first NUL of the name field's last 4
            // bytes (the kernel pads to 4), one has-zero-byte word test.
            let name_len = match name.last_chunk::<4>() {
                Some(w) => {
                    let w = u32::from_le_bytes(*w);
                    let zero = w.wrapping_sub(0x0101_0101) & !w & 0x8080_8080;
                    name.len() - 4 + (zero.trailing_zeros() / 8) as usize
                }
                None => name.iter().position(|&b| b == 0).unwrap_or(0),
            };
            let efd = i32::from_ne_bytes(word(16));
            if efd >= 0 {
                // SAFETY: the event's fd is ours to close.
                unsafe { libc::close(efd) };
            }
            let x = mask + i32::from_ne_bytes(word(20)) as u64 + (hb + name_len) as u64;
            t.add(x);
            rest = tail;
        }
        // Less than a header left: a truncated record.
        if !rest.is_empty() {
            die("fanotify", "truncated header");
        }
    }
}

/// The checked hand loop in fd mode: the header checks as in FID mode,
/// `event_len` exactly 24 (fd-mode events carry no info records), no
/// `FAN_Q_OVERFLOW`, the event fd closed. Any failure ends the process.
#[inline(never)]
fn bench_loop_fd_hand_checked(fd: &OwnedFd, buf: &mut [u8]) -> Tally {
    let mut t = Tally::default();
    loop {
        let Some(mut rest) = read_some(fd, buf) else {
            return black_box(t);
        };
        while let Some((meta, tail)) = rest.split_first_chunk::<24>() {
            let word = |i: usize| [meta[i], meta[i + 1], meta[i + 2], meta[i + 3]];
            if u32::from_ne_bytes(word(4)) != FAN_HEAD {
                die("fanotify", "version or metadata_len");
            }
            if u32::from_ne_bytes(word(0)) != 24 {
                die("fanotify", "event_len is not 24");
            }
            let mask = u64::from_ne_bytes(meta[8..16].try_into().unwrap());
            if mask & 0x4000 != 0 {
                die("fanotify", "overflow");
            }
            let efd = i32::from_ne_bytes(word(16));
            let mut x = mask + i32::from_ne_bytes(word(20)) as u64;
            if efd >= 0 {
                x += 1;
                // SAFETY: the event's fd is ours to close.
                unsafe { libc::close(efd) };
            }
            t.add(x);
            rest = tail;
        }
        // Less than a header left: a truncated record.
        if !rest.is_empty() {
            die("fanotify", "truncated header");
        }
    }
}

#[inline(never)]
fn bench_loop_fan_nix(f: &nix::sys::fanotify::Fanotify) -> Tally {
    let mut t = Tally::default();
    loop {
        match f.read_events() {
            Ok(events) => {
                for e in events {
                    t.add(e.mask().bits() + e.pid() as u64 + u64::from(e.fd().is_some()));
                } // each event closes its fd on drop
            }
            Err(nix::errno::Errno::EAGAIN) => return black_box(t),
            Err(e) => die("nix", e),
        }
    }
}

#[inline(never)]
fn bench_loop_fid_fanotify_fid(f: &fanotify_fid::Fanotify, cap: usize) -> Tally {
    let mut t = Tally::default();
    let mut r = fanotify_fid::EventReader::new(f, cap);
    loop {
        match r.read() {
            Ok(events) => {
                for e in events.iter() {
                    // Its handle is the whole `struct file_handle`, with the
                    // 8-byte header (`handle_bytes`, `handle_type`).
                    let handle = e.dfid_name_handle().map_or(0, |h| h.len() - 8);
                    t.add(e.mask() + e.pid() as u64 + (handle + e.dfid_name_raw().len()) as u64);
                }
            }
            Err(e) if e.is_would_block() => return black_box(t),
            Err(e) => die("fanotify-fid", e),
        }
    }
}

#[inline(never)]
fn bench_loop_fd_fanotify_fid(f: &fanotify_fid::Fanotify, cap: usize) -> Tally {
    let mut t = Tally::default();
    let mut r = fanotify_fid::FdEventReader::new(f, cap);
    loop {
        match r.read() {
            Ok(events) => {
                for e in events {
                    t.add(e.mask() + e.pid() as u64 + u64::from(e.fd().is_some()));
                }
            }
            Err(e) if e.is_would_block() => return black_box(t),
            Err(e) => die("fanotify-fid", e),
        }
    }
}

/// fanotify-rs 0.3 in fd mode, through its fastest path: the low-level
/// `fanotify_read` (one read into a boxed buffer of 200 records, copied
/// into a `Vec` of metadata) and `close_fd` for each event's descriptor.
/// (Its high-level `read_event` also `readlink`s every descriptor.)
#[inline(never)]
fn bench_loop_fd_fanotify_rs(fd: i32) -> Tally {
    let mut t = Tally::default();
    loop {
        let events = fanotify::low_level::fanotify_read(fd);
        if events.is_empty() {
            return black_box(t);
        }
        for e in &events {
            t.add(e.mask + e.pid as u64 + u64::from(e.fd >= 0));
            if e.fd >= 0 {
                fanotify::low_level::close_fd(e.fd);
            }
        }
    }
}

/// Enters a private mount namespace with a fresh tmpfs; `None` without root.
fn private_tmpfs() -> Option<tempfile::TempDir> {
    if !rustix::process::geteuid().is_root() {
        return None;
    }
    // SAFETY: single-threaded, first thing.
    unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNS) }
        .unwrap_or_else(|e| die("unshare", e));
    use rustix::mount::{MountFlags, MountPropagationFlags};
    rustix::mount::mount_change(
        "/",
        MountPropagationFlags::PRIVATE | MountPropagationFlags::REC,
    )
    .unwrap_or_else(|e| die("make-rprivate", e));
    let dir = tempfile::tempdir().unwrap_or_else(|e| die("tempdir", e));
    rustix::mount::mount("tmpfs", dir.path(), "tmpfs", MountFlags::empty(), None)
        .unwrap_or_else(|e| die("mount", e));
    Some(dir)
}

fn run_fanotify(fid: bool, reader: &str, n: usize, root: &Path) -> Tally {
    let files: Vec<PathBuf> = if fid {
        Vec::new()
    } else {
        (0..n)
            .map(|i| {
                let p = root.join(i.to_string());
                fs::write(&p, b"x").unwrap_or_else(|e| die("write", e));
                p
            })
            .collect()
    };
    let (fan_fid, fd) = if reader == "fanotify-fid" {
        use fanotify_fid::consts as c;
        let flags = if fid { c::FAN_REPORT_DFID_NAME } else { 0 }
            | c::FAN_UNLIMITED_QUEUE
            | c::FAN_NONBLOCK
            | 1;
        let f_flags = (libc::O_RDONLY | libc::O_CLOEXEC | libc::O_LARGEFILE) as u32;
        let g = fanotify_fid::Fanotify::init(flags, f_flags).unwrap_or_else(|e| die("init", e));
        if fid {
            g.mark(
                c::FAN_MARK_ADD | c::FAN_MARK_FILESYSTEM,
                c::FAN_CREATE,
                root,
            )
        } else {
            g.mark(c::FAN_MARK_ADD | c::FAN_MARK_MOUNT, c::FAN_OPEN, root)
        }
        .unwrap_or_else(|e| die("mark", e));
        (Some(g), None)
    } else {
        let flags = if fid {
            InitFlags::REPORT_DFID_NAME
        } else {
            InitFlags::CLASS_NOTIF
        } | InitFlags::UNLIMITED_QUEUE
            | InitFlags::NONBLOCK;
        let g = Fanotify::new(flags).unwrap_or_else(|e| die("fanotify_init", e));
        if fid {
            g.add(MarkType::Filesystem, EventFlags::CREATE, root)
        } else {
            g.add(MarkType::Mount, EventFlags::OPEN, root)
        }
        .unwrap_or_else(|e| die("fanotify_mark", e));
        (None, Some(OwnedFd::from(g)))
    };
    if fid {
        let dir = root.join("fid");
        fs::create_dir(&dir).unwrap_or_else(|e| die("mkdir", e));
        for i in 0..n {
            drop(File::create(dir.join(format!("f{i:06}"))).unwrap_or_else(|e| die("create", e)));
        }
    } else {
        for f in &files {
            drop(File::open(f).unwrap_or_else(|e| die("open", e)));
        }
    }
    // 64 KiB reads in FID mode, 4 KiB in fd mode (a read installs one fd
    // per event it returns), for every reader.
    let cap = if fid { 65536 } else { 4096 };
    let mut buf = vec![0_u8; cap];
    if let Some(g) = fan_fid {
        return if fid {
            bench_loop_fid_fanotify_fid(&g, cap)
        } else {
            bench_loop_fd_fanotify_fid(&g, cap)
        };
    }
    let fd = fd.unwrap_or_else(|| die("group", "none"));
    match reader {
        "hand" => bench_loop_fan_hand(&fd, fid, &mut buf),
        "hand-checked" if fid => bench_loop_fid_hand_checked(&fd, &mut buf),
        "hand-checked" => bench_loop_fd_hand_checked(&fd, &mut buf),
        "fanotify-rs" if !fid => bench_loop_fd_fanotify_rs(fd.as_raw_fd()),
        "nix" | "nix-fields" => {
            // SAFETY: the fanotify fd is handed over whole.
            let f = unsafe { nix::sys::fanotify::Fanotify::from_raw_fd(fd.into_raw_fd()) };
            bench_loop_fan_nix(&f)
        }
        _ => {
            let f = Fanotify::try_from(fd).unwrap_or_else(|e| die("adopt", e));
            match (fid, reader) {
                (true, "kernfd-fields") => bench_loop_fid_kernfd_fields(&f, &mut buf),
                (true, "kernfd-fid") => bench_loop_fid_kernfd_fid(&f, &mut buf),
                (true, "kernfd-infos") => bench_loop_fid_kernfd_infos(&f, &mut buf),
                (true, "kernfd-catchall") => bench_loop_fid_kernfd_catchall(&f, &mut buf),
                (true, "kernfd-try") => {
                    bench_loop_fid_kernfd_try(&f, &mut buf).unwrap_or_else(|e| die("kernfd", e))
                }
                (false, "kernfd-close") => bench_loop_fd_kernfd_close(&f, &mut buf),
                (false, "kernfd-take") => bench_loop_fd_kernfd_take(&f, &mut buf),
                (false, "kernfd-catchall") => bench_loop_fd_kernfd_catchall(&f, &mut buf),
                (false, "kernfd-try") => {
                    bench_loop_fd_kernfd_try(&f, &mut buf).unwrap_or_else(|e| die("kernfd", e))
                }
                _ => die("unknown fanotify reader", reader),
            }
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map_or("", String::as_str);
    if arg(0) == "list" {
        let readers = match arg(1) {
            "inotify" => INOTIFY_READERS,
            "fid" => FID_READERS,
            _ => FD_READERS,
        };
        println!("{}", readers.join(" "));
        return;
    }
    let n: usize = arg(2).parse().unwrap_or_else(|e| die("N", e));
    let t = match arg(0) {
        "inotify" => run_inotify(arg(1), n, if arg(3).is_empty() { "rand" } else { arg(3) }),
        mode @ ("fid" | "fd") => {
            let Some(root) = private_tmpfs() else {
                println!("SKIPPED fanotify: needs root");
                return;
            };
            let mut t = run_fanotify(mode == "fid", arg(1), n, root.path());
            let _ = rustix::mount::unmount(root.path(), rustix::mount::UnmountFlags::DETACH);
            // Every event is this process's own: take its pid out of the
            // checksum, so that runs compare.
            let pid = rustix::process::getpid().as_raw_nonzero().get() as u64;
            t.sum = t.sum.wrapping_sub(t.n * pid);
            t
        }
        _ => die(
            "usage",
            "kernfd-peers inotify|fid|fd READER N [MIX] | list MODE",
        ),
    };
    println!("{} {}", t.n, t.sum);
}
