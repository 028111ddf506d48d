//! fanotify readers side by side, in one run, in a private mount namespace
//! on a fresh tmpfs (needs root):
//!
//! 1. FID + `DFID_NAME` mode, 100,000 `CREATE` events (each reader looks at
//!    every entry name): kernfd, a hand-written read loop (64 KiB buffers,
//!    and both again with 4 KiB), `fanotify-fid` 0.9 (`EventReader`), and
//!    `nix` 0.31 (metadata only: it cannot reach info records).
//! 2. fd mode, 50,000 `OPEN` events, every event fd closed: kernfd (4 KiB
//!    and 64 KiB buffers), the hand loop (same two sizes), `nix`
//!    (`read_events`, 4 KiB inside), `fanotify-fid` (`FdEventReader`).
//!
//! Events are queued first (not timed); the time is that of reading and
//! handling them all, kernel copy and fd installation included, best of
//! `REPS` runs. `cargo bench --bench fanotify` prints ns/event and the ratio
//! to the hand loop. For user-space instructions per event, run one reader
//! under callgrind with collection limited to its read loop:
//!
//! ```text
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*run_reader*' \
//!     target/release/deps/fanotify-HASH fid kernfd 20000
//! ```
//! and divide the reported `Ir` total by the event count (the bench prints
//! it). `benches/fanotify-callgrind.sh` does that for every reader.

#[allow(unused_macros)]
#[path = "../tests/util/mod.rs"]
mod util;

use std::fs;
use std::hint::black_box;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kernfd::fanotify::{EventFlags, Fanotify, Info, InitFlags, MarkType};

const REPS: usize = 5;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Fid,
    Fd,
}

/// Makes a group for `mode` through kernfd (every reader reads the same
/// kind of group; the peers read its fd through their own types).
fn group(mode: Mode, dir: &Path) -> OwnedFd {
    let flags = match mode {
        Mode::Fid => InitFlags::REPORT_DFID_NAME,
        Mode::Fd => InitFlags::CLASS_NOTIF,
    } | InitFlags::UNLIMITED_QUEUE
        | InitFlags::NONBLOCK;
    let fan = Fanotify::new(flags).unwrap();
    match mode {
        Mode::Fid => fan
            .add(MarkType::Filesystem, EventFlags::CREATE, dir)
            .unwrap(),
        Mode::Fd => fan.add(MarkType::Mount, EventFlags::OPEN, dir).unwrap(),
    }
    fan.into()
}

/// kernfd: the owned-fd read iterator.
fn kernfd_loop(fd: OwnedFd, mode: Mode, buf: &mut [u8]) -> usize {
    let fan = Fanotify::try_from(fd).unwrap();
    let (mut n, mut names) = (0, 0);
    loop {
        let events = match fan.read(buf) {
            Ok(e) => e,
            Err(e) if e.errno() == Some(kernfd::Errno::AGAIN) => break,
            Err(e) => panic!("{e}"),
        };
        for e in events {
            let e = e.unwrap();
            n += 1;
            if mode == Mode::Fid {
                for i in e.infos() {
                    if let Info::Fid(f) = i {
                        names += f.name_bytes().map_or(0, <[u8]>::len);
                    }
                }
            } else {
                black_box(e.borrow_fd());
            }
            // `e` drops here: its fd closes.
        }
    }
    black_box(names);
    n
}

/// The hand-written loop a C programmer would write: read(2), then walk
/// metadata and the first info record with unaligned loads, strlen the
/// name, close(2) each fd.
fn hand_loop(fd: OwnedFd, mode: Mode, buf: &mut [u8]) -> usize {
    let (mut n, mut names) = (0, 0);
    loop {
        // SAFETY: `buf` is valid for `buf.len()` writes.
        let r = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if r < 0 {
            assert_eq!(
                std::io::Error::last_os_error().kind(),
                std::io::ErrorKind::WouldBlock
            );
            break;
        }
        let len = r as usize;
        let mut off = 0;
        let p = buf.as_ptr();
        while off + 24 <= len {
            // SAFETY: the kernel wrote whole events within `len`.
            unsafe {
                let event_len = p.add(off).cast::<u32>().read_unaligned() as usize;
                let meta_len = p.add(off + 6).cast::<u16>().read_unaligned() as usize;
                let efd = p.add(off + 16).cast::<i32>().read_unaligned();
                if mode == Mode::Fid {
                    let info = off + meta_len;
                    let hb = p.add(info + 12).cast::<u32>().read_unaligned() as usize;
                    let name = p.add(info + 20 + hb).cast::<libc::c_char>();
                    names += libc::strlen(name);
                } else if efd >= 0 {
                    libc::close(efd);
                }
                off += event_len;
            }
            n += 1;
        }
    }
    black_box(names);
    drop(fd); // the group closes here, after its events
    n
}

/// nix 0.31: `read_events()` (a `Vec` per read, 4 KiB buffer inside);
/// metadata only, so in FID mode it cannot see names.
fn nix_loop(fd: OwnedFd) -> usize {
    // SAFETY: nix's `Fanotify` adopts fds only through `FromRawFd`; the
    // fanotify fd is handed over and owned by nothing else.
    let fan = unsafe {
        nix::sys::fanotify::Fanotify::from_raw_fd(std::os::fd::IntoRawFd::into_raw_fd(fd))
    };
    let mut n = 0;
    loop {
        match fan.read_events() {
            Ok(events) => {
                for e in events {
                    black_box(e.fd());
                    n += 1;
                } // each event closes its fd on drop
            }
            Err(nix::errno::Errno::EAGAIN) => break,
            Err(e) => panic!("{e}"),
        }
    }
    n
}

/// fanotify-fid 0.9: its reusable readers (`EventReader` in FID mode,
/// `FdEventReader` in fd mode).
fn fanotify_fid_loop(fan: &fanotify_fid::Fanotify, mode: Mode, cap: usize) -> usize {
    let (mut n, mut names) = (0, 0);
    if mode == Mode::Fid {
        let mut r = fanotify_fid::EventReader::new(fan, cap);
        loop {
            match r.read() {
                Ok(events) => {
                    for e in events.iter() {
                        names += e.dfid_name_raw().len();
                        n += 1;
                    }
                }
                Err(e) if e.is_would_block() => break,
                Err(e) => panic!("{e}"),
            }
        }
    } else {
        let mut r = fanotify_fid::FdEventReader::new(fan, cap);
        loop {
            match r.read() {
                Ok(events) => {
                    for e in events {
                        black_box(e.fd());
                        n += 1;
                    }
                }
                Err(e) if e.is_would_block() => break,
                Err(e) => panic!("{e}"),
            }
        }
    }
    black_box(names);
    n
}

/// A group made through kernfd (read by kernfd, the hand loop and nix), or
/// through fanotify-fid (which cannot adopt a descriptor).
enum Group {
    Fd(OwnedFd),
    FanotifyFid(fanotify_fid::Fanotify),
}

fn make_group(reader: &str, mode: Mode, dir: &Path) -> Group {
    use fanotify_fid::consts as c;
    if reader != "fanotify-fid" {
        return Group::Fd(group(mode, dir));
    }
    let flags = match mode {
        Mode::Fid => c::FAN_REPORT_DFID_NAME,
        Mode::Fd => 0,
    } | c::FAN_UNLIMITED_QUEUE
        | c::FAN_NONBLOCK
        | 1; // FAN_CLOEXEC
    let f_flags = (libc::O_RDONLY | libc::O_CLOEXEC | libc::O_LARGEFILE) as u32;
    let fan = fanotify_fid::Fanotify::init(flags, f_flags).unwrap();
    match mode {
        Mode::Fid => fan.mark(c::FAN_MARK_ADD | c::FAN_MARK_FILESYSTEM, c::FAN_CREATE, dir),
        Mode::Fd => fan.mark(c::FAN_MARK_ADD | c::FAN_MARK_MOUNT, c::FAN_OPEN, dir),
    }
    .unwrap();
    Group::FanotifyFid(fan)
}

/// The timed part, one symbol for callgrind's `--toggle-collect`.
#[inline(never)]
fn run_reader(reader: &str, group: Group, mode: Mode) -> usize {
    let fd = match group {
        Group::Fd(fd) => fd,
        Group::FanotifyFid(fan) => {
            return fanotify_fid_loop(&fan, mode, if mode == Mode::Fid { 65536 } else { 4096 });
        }
    };
    let mut small = vec![0_u8; 4096];
    let mut big = vec![0_u8; 65536];
    match reader {
        "kernfd" => kernfd_loop(
            fd,
            mode,
            if mode == Mode::Fid {
                &mut big
            } else {
                &mut small
            },
        ),
        "kernfd-4k" => kernfd_loop(fd, mode, &mut small),
        "kernfd-64k" => kernfd_loop(fd, mode, &mut big),
        "hand" => hand_loop(
            fd,
            mode,
            if mode == Mode::Fid {
                &mut big
            } else {
                &mut small
            },
        ),
        "hand-4k" => hand_loop(fd, mode, &mut small),
        "hand-64k" => hand_loop(fd, mode, &mut big),
        "nix" => nix_loop(fd),
        other => panic!("unknown reader {other}"),
    }
}

/// Queues `n` events for a fresh group, then times `reader` on them.
fn one_run(
    mode: Mode,
    reader: &str,
    root: &Path,
    files: &[PathBuf],
    n: usize,
) -> (Duration, usize) {
    let g = make_group(reader, mode, root);
    match mode {
        Mode::Fid => {
            let dir = root.join("fid");
            fs::create_dir(&dir).unwrap();
            for i in 0..n {
                drop(fs::File::create(dir.join(i.to_string())).unwrap());
            }
        }
        Mode::Fd => {
            for f in &files[..n] {
                drop(fs::File::open(f).unwrap());
            }
        }
    }
    let t = Instant::now();
    let got = run_reader(reader, g, mode);
    let d = t.elapsed();
    if mode == Mode::Fid {
        fs::remove_dir_all(root.join("fid")).unwrap();
    }
    (d, got)
}

fn setup() -> (tempfile::TempDir, Vec<PathBuf>) {
    assert!(
        rustix::process::geteuid().is_root(),
        "the benchmark needs root"
    );
    // SAFETY: called first thing, single-threaded.
    unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNS).unwrap() };
    rustix::mount::mount_change(
        "/",
        rustix::mount::MountPropagationFlags::PRIVATE | rustix::mount::MountPropagationFlags::REC,
    )
    .unwrap();
    let root = util::mount_tmpfs();
    let files_dir = root.path().join("files");
    fs::create_dir(&files_dir).unwrap();
    let files: Vec<PathBuf> = (0..50_000)
        .map(|i| {
            let p = files_dir.join(i.to_string());
            fs::write(&p, b"x").unwrap();
            p
        })
        .collect();
    (root, files)
}

#[allow(clippy::cast_precision_loss)]
fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let (root, files) = setup();
    // Single-reader mode, for callgrind: `fid|fd READER [N]`.
    if let [mode, reader, rest @ ..] = &args[..] {
        let mode = if mode == "fid" { Mode::Fid } else { Mode::Fd };
        let n = rest.first().map_or(20_000, |s| s.parse().unwrap());
        let (_, got) = one_run(mode, reader, root.path(), &files, n);
        assert_eq!(got, n);
        println!("events={got}");
        return;
    }
    for (mode, n, readers) in [
        (
            Mode::Fid,
            100_000,
            &[
                "hand",
                "kernfd",
                "hand-4k",
                "kernfd-4k",
                "fanotify-fid",
                "nix",
            ][..],
        ),
        (
            Mode::Fd,
            50_000,
            &[
                "hand-4k",
                "kernfd-4k",
                "hand-64k",
                "kernfd-64k",
                "nix",
                "fanotify-fid",
            ][..],
        ),
    ] {
        println!("{mode:?} mode, {n} events (best of {REPS}):");
        // Round-robin over the readers, so that drift on a shared machine
        // hits them all alike; keep each reader's best run.
        let mut best = vec![Duration::MAX; readers.len()];
        for _ in 0..REPS {
            for (i, reader) in readers.iter().enumerate() {
                let (d, got) = one_run(mode, reader, root.path(), &files, n);
                assert_eq!(got, n, "{reader} saw {got} of {n} events");
                best[i] = best[i].min(d);
            }
        }
        let base = best[0].as_nanos() as f64 / n as f64;
        for (reader, best) in readers.iter().zip(best) {
            let ns = best.as_nanos() as f64 / n as f64;
            let b = base;
            println!("  {reader:<14} {ns:8.1} ns/event  {:5.3}x hand", ns / b);
        }
    }
}
