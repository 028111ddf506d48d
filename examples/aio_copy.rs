//! `aio_copy [--depth N] [--block BYTES] SRC DST`: copies SRC to DST with
//! `O_DIRECT` reads and writes through native AIO, `N` requests in flight
//! (default 32), in blocks of `BYTES` (default 1 MiB, a multiple of 4096).
//!
//! DST ends up byte-identical to SRC, whatever its size. Holes of a sparse
//! SRC (found with `SEEK_DATA`/`SEEK_HOLE`) are not read and stay holes in
//! DST. `O_DIRECT` moves whole 4096-byte blocks, so the last, partial block
//! is written padded with zeros and DST is then truncated to SRC's size.
//!
//! Where a filesystem refuses `O_DIRECT` (ramfs: `EINVAL` at open), it says
//! so and exits 1 before DST is created or truncated.
//!
//! The copy runs in one [`Scope`](kernfd::aio::Scope): each buffer cycles
//! read → write → read, and the borrow checker sees to it that no buffer is
//! touched while the kernel owns it.

use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::ffi::OsString;
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use kernfd::aio::{Context, InFlight, IoEvent, Op};
use kernfd::rustix::fs::{OFlags, SeekFrom, seek};

const ALIGN: usize = 4096;

struct Args {
    depth: usize,
    block: usize,
    src: PathBuf,
    dst: PathBuf,
}

fn usage(why: &str) -> ExitCode {
    eprintln!("aio_copy: {why}");
    eprintln!("usage: aio_copy [--depth N] [--block BYTES] SRC DST");
    ExitCode::from(2)
}

fn parse_args() -> Result<Args, ExitCode> {
    let mut depth = 32;
    let mut block = 1 << 20;
    let mut paths: Vec<OsString> = Vec::new();
    let mut args = std::env::args_os().skip(1);
    let mut options = true;
    while let Some(a) = args.next() {
        let flag = a.as_bytes();
        if options && (flag == b"--depth" || flag == b"--block") {
            let Some(v) = args.next() else {
                return Err(usage("missing value"));
            };
            let Some(n) = v.to_str().and_then(|s| s.parse::<usize>().ok()) else {
                return Err(usage(&format!("bad number {}", v.to_string_lossy())));
            };
            if flag == b"--depth" {
                depth = n;
            } else {
                block = n;
            }
        } else if options && flag == b"--" {
            options = false;
        } else if options && flag.starts_with(b"-") && flag.len() > 1 {
            return Err(usage(&format!("unknown option {}", a.to_string_lossy())));
        } else {
            paths.push(a);
        }
    }
    if depth == 0 || depth > 65536 {
        return Err(usage("--depth must be 1 to 65536"));
    }
    if block == 0 || block % ALIGN != 0 || block > (1 << 30) {
        return Err(usage(
            "--block must be a positive multiple of 4096, at most 1 GiB",
        ));
    }
    let [src, dst]: [OsString; 2] = paths
        .try_into()
        .map_err(|_| usage("expected SRC and DST"))?;
    Ok(Args {
        depth,
        block,
        src: src.into(),
        dst: dst.into(),
    })
}

/// A zeroed, 4096-aligned heap buffer.
struct Aligned {
    ptr: *mut u8,
    len: usize,
}

impl Aligned {
    fn new(len: usize) -> Self {
        let layout = Layout::from_size_align(len, ALIGN).unwrap();
        // SAFETY: `len` is non-zero (checked by the argument parser).
        let ptr = unsafe { alloc_zeroed(layout) };
        assert!(!ptr.is_null(), "out of memory");
        Self { ptr, len }
    }

    fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: `ptr` is a live, initialised allocation of `len` bytes,
        // borrowed mutably through `self`.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for Aligned {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { dealloc(self.ptr, Layout::from_size_align(self.len, ALIGN).unwrap()) }
    }
}

fn refuses_direct(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc_einval())
}

const fn libc_einval() -> i32 {
    22
}

fn open_direct(path: &Path, opts: &mut std::fs::OpenOptions) -> std::io::Result<File> {
    opts.custom_flags(OFlags::DIRECT.bits() as i32).open(path)
}

/// The byte ranges of `src` holding data, aligned out to 4096, in order.
fn data_extents(src: &File, size: u64) -> std::io::Result<Vec<(u64, u64)>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < size {
        let start = match seek(src, SeekFrom::Data(at)) {
            Ok(s) => s,
            Err(kernfd::Errno::NXIO) => break,
            // No SEEK_DATA here: all of it is data.
            Err(kernfd::Errno::INVAL | kernfd::Errno::OPNOTSUPP) => {
                out.clear();
                out.push((0, size));
                return Ok(out);
            }
            Err(e) => return Err(e.into()),
        };
        let end = match seek(src, SeekFrom::Hole(start)) {
            Ok(e) => e.min(size),
            Err(e) => return Err(e.into()),
        };
        let start = start / ALIGN as u64 * ALIGN as u64;
        let end = end.div_ceil(ALIGN as u64) * ALIGN as u64;
        if let Some(last) = out.last_mut().filter(|l: &&mut (u64, u64)| l.1 >= start) {
            last.1 = last.1.max(end);
        } else if end > start {
            out.push((start, end));
        }
        at = end;
    }
    Ok(out)
}

/// A message for stderr.
type Failure = String;

fn fail(what: &Path, e: impl std::fmt::Display) -> Failure {
    format!("{}: {e}", what.display())
}

fn run(a: &Args) -> Result<(), Failure> {
    let src = match open_direct(&a.src, std::fs::OpenOptions::new().read(true)) {
        Ok(f) => f,
        Err(e) if refuses_direct(&e) => {
            return Err(fail(
                &a.src,
                "the filesystem refuses O_DIRECT (EINVAL at open)",
            ));
        }
        Err(e) => return Err(fail(&a.src, e)),
    };
    let meta = src.metadata().map_err(|e| fail(&a.src, e))?;
    if meta.is_dir() {
        return Err(fail(&a.src, "is a directory"));
    }
    let size = meta.len();

    // Check DST's side before creating or truncating anything.
    let dst = match std::fs::metadata(&a.dst) {
        Ok(m) => {
            if m.dev() == meta.dev() && m.ino() == meta.ino() {
                return Err(format!(
                    "{} and {} are the same file",
                    a.src.display(),
                    a.dst.display()
                ));
            }
            // The open fails (EINVAL) before O_TRUNC would truncate.
            match open_direct(
                &a.dst,
                std::fs::OpenOptions::new().write(true).truncate(true),
            ) {
                Ok(f) => f,
                Err(e) if refuses_direct(&e) => {
                    return Err(fail(
                        &a.dst,
                        "the filesystem refuses O_DIRECT (EINVAL at open)",
                    ));
                }
                Err(e) => return Err(fail(&a.dst, e)),
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            probe_directory(&a.dst)?;
            open_direct(
                &a.dst,
                std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .mode(meta.mode() & 0o777),
            )
            .map_err(|e| fail(&a.dst, e))?
        }
        Err(e) => return Err(fail(&a.dst, e)),
    };

    let extents = data_extents(&src, size).map_err(|e| fail(&a.src, e))?;
    copy(a, &src, &dst, &extents, size)?;
    dst.set_len(size).map_err(|e| fail(&a.dst, e))?;
    Ok(())
}

/// Whether DST's directory accepts `O_DIRECT`: creates and removes a
/// hidden probe file there (DST itself is not touched).
fn probe_directory(dst: &Path) -> Result<(), Failure> {
    let dir = match dst.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let probe = dir.join(format!(".aio_copy-probe-{}", std::process::id()));
    let r = open_direct(
        &probe,
        std::fs::OpenOptions::new().write(true).create_new(true),
    );
    let _ = std::fs::remove_file(&probe);
    match r {
        Ok(_) => Ok(()),
        Err(e) if refuses_direct(&e) => Err(fail(
            dst,
            "the filesystem refuses O_DIRECT (EINVAL at open)",
        )),
        Err(e) => Err(fail(dst, e)),
    }
}

/// One buffer's state in the pipeline.
enum Stage<'s> {
    Reading(InFlight<'s, &'s mut [u8]>, u64, usize),
    Writing(InFlight<'s, &'s mut [u8]>, usize),
}

fn copy(
    a: &Args,
    src: &File,
    dst: &File,
    extents: &[(u64, u64)],
    size: u64,
) -> Result<(), Failure> {
    let mut chunks = extents.iter().flat_map(|&(start, end)| {
        let block = a.block as u64;
        (0..(end - start).div_ceil(block)).map(move |i| {
            let off = start + i * block;
            (off, (end - off).min(block) as usize)
        })
    });
    let depth = a
        .depth
        .min(
            extents
                .iter()
                .map(|e| (e.1 - e.0).div_ceil(a.block as u64))
                .sum::<u64>() as usize,
        )
        .max(1);
    let mut buffers: Vec<Aligned> = (0..depth).map(|_| Aligned::new(a.block)).collect();
    let mut ctx = Context::new(depth as u32).map_err(|e| format!("io_setup: {e}"))?;
    let mut events = vec![IoEvent::ZERO; depth];

    ctx.scope(|s| {
        let mut idle: Vec<&mut [u8]> = buffers.iter_mut().map(Aligned::as_mut_slice).collect();
        let mut stages: Vec<Stage<'_>> = Vec::with_capacity(depth);
        loop {
            while let Some(buf) = idle.pop() {
                let Some((off, len)) = chunks.next() else {
                    idle.push(buf);
                    break;
                };
                let op = s
                    .submit(Op::read(src, buf, off).len(len))
                    .map_err(|r| fail(&a.src, r.error))?;
                stages.push(Stage::Reading(op, off, len));
            }
            if stages.is_empty() {
                return Ok(());
            }
            let done = loop {
                match s.getevents(1, &mut events, None) {
                    Ok(c) => break c,
                    Err(e) if e.errno() == Some(kernfd::Errno::INTR) => {}
                    Err(e) => return Err(e.to_string()),
                }
            };
            for c in done {
                let Some(i) = stages.iter().position(|st| match st {
                    Stage::Reading(h, ..) | Stage::Writing(h, _) => h.id() == c.id(),
                }) else {
                    continue;
                };
                match stages.swap_remove(i) {
                    Stage::Reading(h, off, len) => {
                        let (buf, res) = h.finish(&c).expect("matched by id");
                        let n = res.map_err(|e| fail(&a.src, e))? as usize;
                        // Short only at the end of the file.
                        if n < len && off + n as u64 != size {
                            return Err(fail(&a.src, "short read: the file changed while copied"));
                        }
                        if n == 0 {
                            idle.push(buf);
                            continue;
                        }
                        let padded = n.div_ceil(ALIGN) * ALIGN;
                        buf[n..padded].fill(0);
                        let op = s
                            .submit(Op::write_mut(dst, buf, off).len(padded))
                            .map_err(|r| fail(&a.dst, r.error))?;
                        stages.push(Stage::Writing(op, padded));
                    }
                    Stage::Writing(h, padded) => {
                        let (buf, res) = h.finish(&c).expect("matched by id");
                        let n = res.map_err(|e| fail(&a.dst, e))? as usize;
                        if n != padded {
                            return Err(fail(
                                &a.dst,
                                format!("short write: {n} of {padded} bytes"),
                            ));
                        }
                        idle.push(buf);
                    }
                }
            }
        }
    })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(code) => return code,
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(m) => {
            eprintln!("aio_copy: {m}");
            ExitCode::from(1)
        }
    }
}
