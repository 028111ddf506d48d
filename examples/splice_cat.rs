//! `splice_cat [FILE]...`: coreutils `cat` without options, copying through
//! the kernel with `kernfd::pipe`.
//!
//! Each FILE (`-` or none: standard input) is copied to standard output by
//! [`Copier`]: `splice` through one reused 1 MiB pipe when neither side is a
//! pipe, straight when one is, and `read`/`write` where the kernel refuses
//! to splice (an `O_APPEND` output such as `>>`, a terminal, a directory).
//! The bytes written are the same for any kind of output.
//!
//! Like `cat`: a file that cannot be read prints `splice_cat: FILE:
//! <strerror>` (the name quoted as coreutils quotes it) and the others are
//! still copied; a regular file that is also the output and not read to its
//! end is refused (`input file is output file`); a write error ends the
//! program (`splice_cat: write error: ...`); the exit status is 1 after any
//! error. A reader that goes away ends it by `SIGPIPE`, as it ends `cat`.
//!
//!
//! `main` is the C `main` (`no_main`): Rust's runtime would reopen a closed
//! standard input or output on `/dev/null` and ignore `SIGPIPE`, and `cat`
//! must see both as they are.
//!
//! ```text
//! cargo run --example splice_cat -- /etc/hostname - < /etc/os-release > out
//! ```
#![no_main]

#[path = "common/quote.rs"]
mod quote;

use std::ffi::OsString;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

use kernfd::pipe::{Copier, Pipe};
use kernfd::rustix::fs::{self, FileType, Mode, OFlags, SeekFrom};
use kernfd::rustix::io::fcntl_dupfd_cloexec;
use kernfd::{Errno, Error};
use quote::{complain, quotef, strerror};

const PROG: &str = "splice_cat";

/// The fallback buffer for pairs the kernel will not splice: cat's size.
const BUF_LEN: usize = 128 * 1024;

/// Errnos that can only come from the output side of a copy.
fn is_write_error(e: &Error) -> bool {
    match *e {
        Error::Os { call: "write", .. } => true,
        Error::Os { call: "read", .. } => false,
        _ => matches!(
            e.errno(),
            Some(Errno::PIPE | Errno::NOSPC | Errno::FBIG | Errno::DQUOT | Errno::ROFS)
        ),
    }
}

/// A pipe whose ends are above the standard descriptors, so that a closed
/// standard input stays closed (and is reported as such) instead of
/// becoming the pipe.
fn internal_pipe() -> kernfd::Result<Pipe> {
    let (r, w) = Pipe::new()?.into_ends();
    let up = |fd: OwnedFd| -> kernfd::Result<OwnedFd> {
        use std::os::fd::AsRawFd;
        if fd.as_raw_fd() > 2 {
            return Ok(fd);
        }
        fcntl_dupfd_cloexec(&fd, 3).map_err(|e| Error::os("fcntl", e))
    };
    Ok(Pipe::from((up(r)?, up(w)?)))
}

fn usage_error(what: &str) -> ExitCode {
    eprintln!("{PROG}: {what}\nTry '{PROG} --help' for more information.");
    ExitCode::FAILURE
}

/// The C entry point: std's start-up (which would reopen closed standard
/// descriptors and ignore `SIGPIPE`) does not run; `args_os` still works
/// (glibc hands the arguments to std through `.init_array`).
#[unsafe(no_mangle)]
extern "C" fn main(_argc: libc::c_int, _argv: *const *const libc::c_char) -> libc::c_int {
    i32::from(run() != ExitCode::SUCCESS)
}

fn run() -> ExitCode {
    let mut names: Vec<OsString> = Vec::new();
    let mut options_done = false;
    for arg in std::env::args_os().skip(1) {
        let b = arg.as_bytes();
        if !options_done && b == b"--" {
            options_done = true;
        } else if !options_done && b.starts_with(b"--") {
            return usage_error(&format!("unrecognized option '{}'", arg.to_string_lossy()));
        } else if !options_done && b.len() > 1 && b[0] == b'-' {
            return usage_error(&format!("invalid option -- '{}'", char::from(b[1])));
        } else {
            names.push(arg);
        }
    }
    if names.is_empty() {
        names.push("-".into());
    }

    let stdout = std::io::stdout();
    let out = stdout.as_fd();
    let out_stat = match fs::fstat(out) {
        Ok(st) => st,
        Err(e) => {
            complain(PROG, b"standard output", &strerror(e.raw_os_error()));
            return ExitCode::FAILURE;
        }
    };
    let out_isreg = FileType::from_raw_mode(out_stat.st_mode) == FileType::RegularFile;

    // One pipe for every file; a larger pipe moves more per splice. The
    // default size is fine when the limit forbids a larger one.
    let pipe = match internal_pipe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{PROG}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let _ = pipe.set_size(1 << 20);
    let mut buf = vec![0_u8; BUF_LEN];

    let stdin = std::io::stdin();
    let mut read_stdin = false;
    let mut ok = true;
    for name in &names {
        let owned: OwnedFd;
        let input: BorrowedFd<'_> = if name.as_bytes() == b"-" {
            read_stdin = true;
            stdin.as_fd()
        } else {
            match fs::open(
                name.as_os_str(),
                OFlags::RDONLY | OFlags::CLOEXEC,
                Mode::empty(),
            ) {
                Ok(fd) => {
                    owned = fd;
                    owned.as_fd()
                }
                Err(e) => {
                    complain(PROG, &quotef(name), &strerror(e.raw_os_error()));
                    ok = false;
                    continue;
                }
            }
        };
        let st = match fs::fstat(input) {
            Ok(st) => st,
            Err(e) => {
                complain(PROG, &quotef(name), &strerror(e.raw_os_error()));
                ok = false;
                continue;
            }
        };
        // cat's check: copying a regular file onto itself, from before its
        // end, would only fill the disk.
        if out_isreg && st.st_dev == out_stat.st_dev && st.st_ino == out_stat.st_ino {
            let pos = fs::seek(input, SeekFrom::Current(0)).unwrap_or(0);
            if i64::try_from(pos).unwrap_or(i64::MAX) < st.st_size {
                complain(PROG, &quotef(name), "input file is output file");
                ok = false;
                continue;
            }
        }
        if let Err(e) = Copier::new().pipe(&pipe).buffer(&mut buf).copy(input, out) {
            let msg = e
                .errno()
                .map_or_else(|| e.to_string(), |n| strerror(n.raw_os_error()));
            if is_write_error(&e) {
                complain(PROG, b"write error", &msg);
                return ExitCode::FAILURE;
            }
            complain(PROG, &quotef(name), &msg);
            ok = false;
        }
    }
    // SAFETY: closes descriptor 0, which nothing else in this process uses
    // any more, to learn (as cat does) whether standard input was valid.
    if read_stdin && unsafe { libc::close(0) } != 0 {
        let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        complain(PROG, b"closing standard input", &strerror(errno));
        return ExitCode::FAILURE;
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
