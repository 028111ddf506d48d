//! `tee [-a] [-i] [FILE]...`: coreutils `tee`, copying standard input to
//! standard output and to each FILE, with `tee(2)` and `splice(2)` when
//! standard input and output are both pipes.
//!
//! - Pipes on both sides: `tee(2)` duplicates what standard input holds
//!   into standard output without consuming it; each FILE gets the same
//!   bytes by `tee(2)` into an internal pipe and `splice(2)` out of it (or
//!   `read`/`write` from it when the kernel refuses, as for `-a`'s
//!   `O_APPEND` files); then the bytes are consumed from standard input by
//!   a `splice(2)` to `/dev/null`. No byte passes through user memory on
//!   the main path.
//! - Otherwise an ordinary `read`/`write` loop.
//!
//! Like coreutils `tee`: `-a`/`--append` appends instead of truncating,
//! `-i`/`--ignore-interrupts` ignores `SIGINT`, `--` ends the options; a
//! FILE that cannot be opened or written prints `tee: FILE: <strerror>` and
//! the others go on; the exit status is 1 after any error; a reader that
//! goes away ends it by `SIGPIPE`.
//!
//! `main` is the C `main` (`no_main`), so closed standard descriptors stay
//! closed and `SIGPIPE` keeps its default action, as for the real `tee`.
//!
//! ```text
//! ls | cargo run --example tee -- -a listing.txt | wc -l
//! ```
#![no_main]

#[path = "common/quote.rs"]
mod quote;

use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

use kernfd::Errno;
use kernfd::pipe::{self, Pipe, SpliceFlags};
use kernfd::rustix::fs::{self, FileType, Mode, OFlags};
use kernfd::rustix::io::{self as rustix_io, fcntl_dupfd_cloexec};
use quote::{complain, quotef, strerror};

const PROG: &str = "tee";

const BUF_LEN: usize = 128 * 1024;

/// The C entry point: std's start-up (which would reopen closed standard
/// descriptors and ignore `SIGPIPE`) does not run.
#[unsafe(no_mangle)]
extern "C" fn main(_argc: libc::c_int, _argv: *const *const libc::c_char) -> libc::c_int {
    i32::from(run() != ExitCode::SUCCESS)
}

/// One destination: standard output or a FILE.
struct Output<'a> {
    /// The name in messages: `'standard output'` or the quoted FILE.
    label: Vec<u8>,
    fd: BorrowedFd<'a>,
    live: bool,
}

/// The run's state: the outputs and whether anything failed.
struct Tee<'a> {
    outputs: Vec<Output<'a>>,
    ok: bool,
}

impl Tee<'_> {
    fn fail(&mut self, i: usize, errno: Errno) {
        let out = &mut self.outputs[i];
        complain(PROG, &out.label, &strerror(errno.raw_os_error()));
        out.live = false;
        self.ok = false;
    }

    fn any_live(&self) -> bool {
        self.outputs.iter().any(|o| o.live)
    }
}

fn usage_error(what: &str) -> ExitCode {
    eprintln!("{PROG}: {what}\nTry '{PROG} --help' for more information.");
    ExitCode::FAILURE
}

fn run() -> ExitCode {
    let mut append = false;
    let mut names: Vec<OsString> = Vec::new();
    let mut options_done = false;
    for arg in std::env::args_os().skip(1) {
        let b = arg.as_bytes();
        if options_done || b == b"-" || !b.starts_with(b"-") {
            names.push(arg);
        } else if b == b"--" {
            options_done = true;
        } else if let Some(long) = b.strip_prefix(b"--") {
            // getopt_long: any unambiguous prefix of a long option.
            if b"append".starts_with(long) {
                append = true;
            } else if b"ignore-interrupts".starts_with(long) {
                // SAFETY: sets SIGINT to be ignored; no handler is involved.
                unsafe { libc::signal(libc::SIGINT, libc::SIG_IGN) };
            } else {
                return usage_error(&format!("unrecognized option '{}'", arg.to_string_lossy()));
            }
        } else {
            for &c in &b[1..] {
                match c {
                    b'a' => append = true,
                    // SAFETY: as above.
                    b'i' => unsafe {
                        libc::signal(libc::SIGINT, libc::SIG_IGN);
                    },
                    _ => return usage_error(&format!("invalid option -- '{}'", char::from(c))),
                }
            }
        }
    }

    let stdout = std::io::stdout();
    let stdin = std::io::stdin();
    let mut tee = Tee {
        outputs: vec![Output {
            label: quotef(OsStr::new("standard output")),
            fd: stdout.as_fd(),
            live: true,
        }],
        ok: true,
    };
    let mode = if append {
        OFlags::APPEND
    } else {
        OFlags::TRUNC
    };
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::CLOEXEC | mode;
    let mut files: Vec<(OsString, OwnedFd)> = Vec::new();
    for name in names {
        match fs::open(name.as_os_str(), flags, Mode::from_bits_truncate(0o666)) {
            Ok(fd) => files.push((name, fd)),
            Err(e) => {
                complain(PROG, &quotef(&name), &strerror(e.raw_os_error()));
                tee.ok = false;
            }
        }
    }
    for (name, fd) in &files {
        tee.outputs.push(Output {
            label: quotef(name),
            fd: fd.as_fd(),
            live: true,
        });
    }

    let mut buf = vec![0_u8; BUF_LEN];
    let input = stdin.as_fd();
    let is_fifo =
        |fd| fs::fstat(fd).is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Fifo);
    if is_fifo(input) && is_fifo(stdout.as_fd()) {
        if let Some(p) = internal_pipe(input) {
            if buf.len() < p.1 {
                buf.resize(p.1, 0);
            }
            spliced(&mut tee, input, &p.0, p.1, &mut buf);
        }
    }
    copied(&mut tee, input, &mut buf);
    if tee.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The internal pipe, as large as standard input's (so one `tee(2)` into
/// it always takes what standard input holds), with ends above the
/// standard descriptors; and its size. `None` when it cannot be made: the
/// ordinary copy does the work then.
fn internal_pipe(input: BorrowedFd<'_>) -> Option<(Pipe, usize)> {
    let (r, w) = Pipe::new().ok()?.into_ends();
    let up = |fd: OwnedFd| {
        if fd.as_raw_fd() > 2 {
            Some(fd)
        } else {
            fcntl_dupfd_cloexec(&fd, 3).ok()
        }
    };
    let p = Pipe::from((up(r)?, up(w)?));
    let want = pipe::pipe_size(input).ok()?.max(64 * 1024);
    let size = p.set_size(want).ok()?;
    Some((p, size))
}

/// The zero-copy loop, while standard output takes data. Returns at end of
/// input, or when standard output failed (the caller's ordinary copy then
/// serves the files).
fn spliced(tee: &mut Tee<'_>, input: BorrowedFd<'_>, p: &Pipe, cap: usize, buf: &mut [u8]) {
    let Ok(devnull) = fs::open("/dev/null", OFlags::WRONLY | OFlags::CLOEXEC, Mode::empty()) else {
        return;
    };
    loop {
        let n = match pipe::tee(input, tee.outputs[0].fd, cap, SpliceFlags::empty()) {
            Ok(0) => {
                // End of input: nothing left for the ordinary copy either.
                return;
            }
            Ok(n) => n,
            Err(Errno::INTR) => continue,
            Err(e) => {
                tee.fail(0, e);
                return;
            }
        };
        // Each file: duplicate the same n bytes into the internal pipe and
        // move them out. `lagging` holds files that got fewer.
        let mut lagging: Vec<(usize, usize)> = Vec::new();
        for i in 1..tee.outputs.len() {
            if !tee.outputs[i].live {
                continue;
            }
            let m = loop {
                match pipe::tee(input, p.write_end(), n, SpliceFlags::empty()) {
                    Err(Errno::INTR) => {}
                    other => break other,
                }
            };
            let m: usize = m.unwrap_or_default();
            if let Err(e) = drain_to(p, m, tee.outputs[i].fd, buf) {
                tee.fail(i, e);
                discard(p, &devnull, buf);
                continue;
            }
            if m < n {
                lagging.push((i, m));
            }
        }
        // Consume the n bytes from standard input.
        if lagging.is_empty() {
            if splice_exactly(input, &devnull, n).is_err() {
                return;
            }
        } else {
            if read_exactly(input, &mut buf[..n]).is_err() {
                return;
            }
            for (i, m) in lagging {
                if let Err(e) = write_all(tee.outputs[i].fd, &buf[m..n]) {
                    tee.fail(i, e);
                }
            }
        }
    }
}

/// Moves `len` bytes from `p` to `out`: by splice, or through `buf` when the
/// kernel refuses (`O_APPEND` files).
fn drain_to(p: &Pipe, mut len: usize, out: BorrowedFd<'_>, buf: &mut [u8]) -> Result<(), Errno> {
    while len > 0 {
        match pipe::splice(p.read_end(), None, out, None, len, SpliceFlags::empty()) {
            Ok(0) => return Err(Errno::IO),
            Ok(k) => len -= k,
            Err(Errno::INTR) => {}
            Err(Errno::INVAL) => {
                let want = len.min(buf.len());
                let k = read_exactly(p.read_end(), &mut buf[..want])?;
                write_all(out, &buf[..k])?;
                len -= k;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Empties `p` after a failed output, so the next file starts clean.
fn discard(p: &Pipe, devnull: &OwnedFd, buf: &mut [u8]) {
    while let Ok(len) = p.len() {
        if len == 0 {
            break;
        }
        if splice_exactly(p.read_end(), devnull, len).is_err()
            && read_exactly(p.read_end(), &mut buf[..len.min(BUF_LEN)]).is_err()
        {
            break;
        }
    }
}

fn splice_exactly(from: BorrowedFd<'_>, to: &OwnedFd, mut len: usize) -> Result<(), Errno> {
    while len > 0 {
        match pipe::splice(from, None, to, None, len, SpliceFlags::empty()) {
            Ok(0) => return Err(Errno::IO),
            Ok(k) => len -= k,
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn read_exactly(from: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize, Errno> {
    let mut got = 0;
    while got < buf.len() {
        match rustix_io::read(from, &mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

fn write_all(to: BorrowedFd<'_>, mut bytes: &[u8]) -> Result<(), Errno> {
    while !bytes.is_empty() {
        match rustix_io::write(to, bytes) {
            Ok(0) => return Err(Errno::IO),
            Ok(k) => bytes = &bytes[k..],
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The ordinary copy: read a block, write it to every live output.
fn copied(tee: &mut Tee<'_>, input: BorrowedFd<'_>, buf: &mut [u8]) {
    while tee.any_live() {
        let n = match rustix_io::read(input, &mut *buf) {
            Ok(0) => return,
            Ok(n) => n,
            Err(Errno::INTR) => continue,
            Err(e) => {
                complain(PROG, b"read error", &strerror(e.raw_os_error()));
                tee.ok = false;
                return;
            }
        };
        for i in 0..tee.outputs.len() {
            if tee.outputs[i].live {
                if let Err(e) = write_all(tee.outputs[i].fd, &buf[..n]) {
                    tee.fail(i, e);
                }
            }
        }
    }
}
