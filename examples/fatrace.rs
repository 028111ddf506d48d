//! A drop-in for `fatrace` (Debian package `fatrace`): report file access
//! events of every process, system-wide or on the current mount, in
//! fatrace's own format:
//!
//! ```text
//! rsyslogd(875): W   /var/log/auth.log
//! sh(17869): +   /tmp/dir
//! unknown(17890): RCO /tmp/dir/a
//! ```
//!
//! `comm(pid): FLAGS path`, with the flags `R` (read), `C` (close), `W`
//! (write), `O` (open), `+` (create), `D` (delete), `<` and `>` (moved from
//! and to) padded to three columns. Like fatrace, it uses FID mode
//! (`FAN_REPORT_FID`) and filesystem marks where the kernel has them, turns
//! each file handle back into a path with `open_by_handle_at`, and prints
//! `(deleted)` when the object is gone. It opens handles with `O_PATH`, so
//! unlike fatrace its own lookups cause no events for other watchers.
//!
//! Usage (root): `cargo run --example fatrace -- [-c] [-s SECONDS] [-t]
//! [-f TYPES] [-C COMM] [-p PID] [-o FILE]`

use std::collections::HashMap;
use std::io::Write;
use std::process::exit;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kernfd::Errno;
use kernfd::fanotify::{self, Event, EventFlags, Fanotify, FidPath, Info, InitFlags, MarkType};
use kernfd::wait::Wait;
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::OFlags;

struct Options {
    current_mount: bool,
    output: Option<String>,
    seconds: Option<u64>,
    timestamp: u8,
    ignored: Vec<i32>,
    filter: EventFlags,
    comm: Option<String>,
}

const HELP: &str = "Usage: fatrace [options...] 

Options:
  -c, --current-mount\t\tOnly record events on partition/mount of current directory.
  -o FILE, --output=FILE\tWrite events to a file instead of standard output.
  -s SECONDS, --seconds=SECONDS\tStop after the given number of seconds.
  -t, --timestamp\t\tAdd timestamp to events. Give twice for seconds since the epoch.
  -p PID, --ignore-pid PID\tIgnore events for this process ID. Can be specified multiple times.
  -f TYPES, --filter=TYPES\tShow only the given event types; choose from C, R, O, W, +, D, <, >, e. g. --filter=OC.
  -C COMM, --command=COMM\tShow only events for this command.
  -h, --help\t\t\tShow help.";

fn die(msg: &str) -> ! {
    eprintln!("fatrace: {msg}");
    exit(1)
}

fn parse_filter(types: &str) -> EventFlags {
    let mut m = EventFlags::empty();
    for c in types.chars() {
        m |= match c.to_ascii_uppercase() {
            'R' => EventFlags::ACCESS,
            'C' => EventFlags::CLOSE,
            'W' => EventFlags::CLOSE_WRITE | EventFlags::MODIFY,
            'O' => EventFlags::OPEN,
            '+' => EventFlags::CREATE,
            'D' => EventFlags::DELETE,
            '<' | '>' => EventFlags::MOVE,
            _ => die(&format!("Error: Unknown --filter type '{c}'")),
        };
    }
    m
}

#[allow(clippy::many_single_char_names)]
fn parse_args() -> Options {
    let mut o = Options {
        current_mount: false,
        output: None,
        seconds: None,
        timestamp: 0,
        ignored: vec![rustix::process::getpid().as_raw_nonzero().get()],
        filter: EventFlags::all(),
        comm: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        // Split "--long=value" and "-xVALUE".
        let (flag, inline) = if let Some(long) = a.strip_prefix("--") {
            match long.split_once('=') {
                Some((f, v)) => (format!("--{f}"), Some(v.to_owned())),
                None => (a.clone(), None),
            }
        } else if a.len() > 2 && a.starts_with('-') && "osfpC".contains(&a[1..2]) {
            (a[..2].to_owned(), Some(a[2..].to_owned()))
        } else {
            (a.clone(), None)
        };
        let mut value = || {
            inline.clone().unwrap_or_else(|| {
                i += 1;
                args.get(i)
                    .cloned()
                    .unwrap_or_else(|| die(&format!("option '{flag}' requires an argument")))
            })
        };
        match flag.as_str() {
            "-c" | "--current-mount" => o.current_mount = true,
            "-o" | "--output" => o.output = Some(value()),
            "-s" | "--seconds" => {
                o.seconds = Some(
                    value()
                        .parse()
                        .ok()
                        .filter(|&s| s > 0)
                        .unwrap_or_else(|| die("Error: Invalid number of seconds")),
                );
            }
            "-t" | "--timestamp" => {
                o.timestamp += 1;
                if o.timestamp > 2 {
                    die("Error: --timestamp option can be given at most two times");
                }
            }
            "-tt" => o.timestamp = 2,
            "-p" | "--ignore-pid" => o.ignored.push(
                value()
                    .parse()
                    .ok()
                    .filter(|&p| p > 0)
                    .unwrap_or_else(|| die("Error: Invalid PID")),
            ),
            "-f" | "--filter" => o.filter = parse_filter(&value()),
            "-C" | "--command" => o.comm = Some(value()),
            "-h" | "--help" => {
                println!("{HELP}");
                exit(0);
            }
            other => die(&format!("unrecognized option '{other}'")),
        }
        i += 1;
    }
    o
}

/// fatrace's letters for a mask.
fn letters(mask: EventFlags) -> String {
    let mut s = String::new();
    for (bits, c) in [
        (EventFlags::ACCESS, 'R'),
        (EventFlags::CLOSE, 'C'),
        (EventFlags::MODIFY | EventFlags::CLOSE_WRITE, 'W'),
        (EventFlags::OPEN, 'O'),
        (EventFlags::CREATE, '+'),
        (EventFlags::DELETE, 'D'),
        (EventFlags::MOVED_FROM, '<'),
        (EventFlags::MOVED_TO, '>'),
    ] {
        if mask.intersects(bits) {
            s.push(c);
        }
    }
    s
}

/// Mount points to watch: `/` and every mount of a real device, as fatrace
/// picks them from `/proc/self/mounts`.
fn mounts() -> Vec<String> {
    let text = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    let unescape = |s: &str| {
        let mut out = Vec::new();
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(u8::is_ascii_digit) {
                out.push(u8::from_str_radix(&s[i + 1..i + 4], 8).unwrap_or(b'?'));
                i += 4;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    let mut v = vec!["/".to_owned()];
    for line in text.lines() {
        let mut f = line.split(' ');
        let (Some(dev), Some(dir)) = (f.next(), f.next()) else {
            continue;
        };
        let (dev, dir) = (unescape(dev), unescape(dir));
        if dev.starts_with('/') && std::path::Path::new(&dev).exists() && dir != "/" {
            v.push(dir);
        }
    }
    v
}

struct Tracer {
    fan: Fanotify,
    fid: bool,
    /// fsid (as `statvfs` packs it) → a descriptor on that filesystem, for
    /// `open_by_handle_at`.
    mount_fds: HashMap<u64, OwnedFd>,
    /// fatrace caches the last comm it read, for processes already gone.
    comm_cache: std::cell::RefCell<Option<(i32, String)>>,
    opts: Options,
}

impl Tracer {
    fn mark(&mut self, dir: &str, fatal: bool) {
        let mut mask = EventFlags::ACCESS
            | EventFlags::MODIFY
            | EventFlags::OPEN
            | EventFlags::CLOSE
            | EventFlags::ONDIR
            | EventFlags::EVENT_ON_CHILD;
        if self.fid {
            mask |= EventFlags::CREATE | EventFlags::DELETE | EventFlags::MOVE;
        }
        let mut r = self.fan.add(MarkType::Filesystem, mask, dir);
        if r.is_err_and(|e| e.errno() == Some(Errno::INVAL)) {
            r = self.fan.add(MarkType::Mount, mask, dir);
        }
        match r {
            Ok(()) => {
                if let Ok(fd) = rustix::fs::open(dir, OFlags::RDONLY | OFlags::NOFOLLOW, 0.into()) {
                    if let Ok(st) = rustix::fs::fstatvfs(&fd) {
                        self.mount_fds.entry(st.f_fsid).or_insert(fd);
                    }
                }
            }
            Err(e) if fatal => die(&format!("Failed to add watch for {dir}: {e}")),
            Err(e) => eprintln!("fatrace: Failed to add watch for {dir}: {e}"),
        }
    }

    fn comm(&self, pid: i32) -> String {
        if let Ok(mut b) = std::fs::read(format!("/proc/{pid}/comm")) {
            while b.last() == Some(&b'\n') {
                b.pop();
            }
            let s = String::from_utf8_lossy(&b).into_owned();
            *self.comm_cache.borrow_mut() = Some((pid, s.clone()));
            return s;
        }
        let mut cache = self.comm_cache.borrow_mut();
        match &*cache {
            Some((p, s)) if *p == pid => s.clone(),
            _ => {
                *cache = None;
                String::new()
            }
        }
    }

    /// The path of the event's object: its fd (fd mode) or its file handle
    /// opened `O_PATH` (FID mode).
    fn path(&self, event: &Event<'_>, fd: Option<rustix::fd::BorrowedFd<'_>>) -> String {
        let mut buf = [0_u8; 4096 + 256];
        let Some(fd) = fd else {
            // FID mode: the object's handle, opened on its filesystem.
            let Some(fid) = event.infos().find_map(|i| match i {
                Info::Fid(f) => Some(f),
                _ => None,
            }) else {
                return "(deleted)".into();
            };
            let [lo, hi] = fid.fsid();
            let packed = u64::from(lo as u32) | (u64::from(hi as u32) << 32);
            let mount = self
                .mount_fds
                .get(&packed)
                .map_or(rustix::fs::CWD, AsFd::as_fd);
            return match fanotify::fid_path(mount, &fid, &mut buf) {
                Ok(FidPath::Path(p)) => String::from_utf8_lossy(p).into_owned(),
                _ => "(deleted)".into(),
            };
        };
        match fanotify::fd_path(fd, &mut buf) {
            Ok(p) => String::from_utf8_lossy(p).into_owned(),
            Err(_) => match rustix::fs::fstat(fd) {
                Ok(st) => format!(
                    "device {}:{} inode {}",
                    rustix::fs::major(st.st_dev),
                    rustix::fs::minor(st.st_dev),
                    st.st_ino
                ),
                Err(_) => "(deleted)".into(),
            },
        }
    }
}

fn timestamp(mode: u8) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    match mode {
        1 => {
            let secs = now.as_secs() as libc::time_t;
            // SAFETY: an all-zero `tm` is valid; localtime_r fills it from
            // `secs` and touches nothing else.
            let tm = unsafe {
                let mut tm: libc::tm = std::mem::zeroed();
                libc::localtime_r(&raw const secs, &raw mut tm);
                tm
            };
            format!(
                "{:02}:{:02}:{:02}.{:06} ",
                tm.tm_hour,
                tm.tm_min,
                tm.tm_sec,
                now.subsec_micros()
            )
        }
        2 => format!("{}.{:06} ", now.as_secs(), now.subsec_micros()),
        _ => String::new(),
    }
}

fn main() {
    let opts = parse_args();
    // FID mode first (Linux 5.1), fd mode otherwise.
    let (fan, fid) = match Fanotify::with_flags(
        InitFlags::CLASS_NOTIF | InitFlags::REPORT_FID | InitFlags::CLOEXEC,
        OFlags::LARGEFILE,
    ) {
        Ok(f) => (f, true),
        Err(_) => match Fanotify::with_flags(
            InitFlags::CLASS_NOTIF | InitFlags::CLOEXEC,
            OFlags::LARGEFILE | OFlags::CLOEXEC,
        ) {
            Ok(f) => (f, false),
            Err(e) => {
                eprintln!("Cannot initialize fanotify: {e}");
                if e.errno() == Some(Errno::PERM) {
                    eprintln!("You need to run this program as root.");
                }
                exit(1);
            }
        },
    };
    let mut t = Tracer {
        fan,
        fid,
        mount_fds: HashMap::new(),
        comm_cache: std::cell::RefCell::new(None),
        opts,
    };
    if t.opts.current_mount {
        t.mark(".", true);
    } else {
        for m in mounts() {
            t.mark(&m, false);
        }
    }
    let mut out: Box<dyn Write> = match &t.opts.output {
        Some(path) => Box::new(
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .unwrap_or_else(|e| die(&format!("Failed to open output file: {e}"))),
        ),
        None => Box::new(std::io::stdout()),
    };
    let deadline = t
        .opts
        .seconds
        .map(|s| Instant::now() + Duration::from_secs(s));
    // 64 KiB in FID mode (records are small, fewer reads); 4 KiB in fd mode,
    // where every event in a read holds an open file until it is handled.
    let mut buf = vec![0_u8; if fid { 65536 } else { 4096 }];
    loop {
        let mut wait = Wait::new();
        if let Some(d) = deadline {
            let left = d.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            wait = wait.timeout(left);
        }
        let events = match t.fan.read_wait(&mut buf[..], wait) {
            Ok(events) => events,
            Err(err) if err.errno() == Some(Errno::INTR) => continue,
            Err(e) => die(&format!("read: {e}")),
        };
        let stamp = timestamp(t.opts.timestamp);
        for event in events {
            let event = match event {
                Ok(e) => e,
                Err(e) => {
                    eprintln!("fatrace: {e}");
                    continue;
                }
            };
            let pid = event.pid();
            if !event.mask().intersects(t.opts.filter) || t.opts.ignored.contains(&pid) {
                continue;
            }
            let comm = t.comm(pid);
            if t.opts.comm.as_ref().is_some_and(|c| *c != comm) {
                continue;
            }
            let path = t.path(&event, event.borrow_fd());
            let name = if comm.is_empty() { "unknown" } else { &comm };
            let line = format!(
                "{stamp}{name}({pid}): {:<3} {path}\n",
                letters(event.mask())
            );
            if out
                .write_all(line.as_bytes())
                .and_then(|()| out.flush())
                .is_err()
            {
                exit(1);
            }
        }
    }
}
