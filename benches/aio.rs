//! Native AIO benchmark: random 4 KiB `O_DIRECT` reads of one file at
//! queue depth 1, 8 and 32 through kernfd's safe [`Scope`] path, against
//! synchronous `pread` (depth 1) and against
//! `fio --ioengine=libaio --direct=1 --rw=randread --bs=4k` (Debian's fio)
//! on the same file, the same depth and the same number of I/Os, in one
//! run. Then `aio_copy` against `dd iflag=direct oflag=direct bs=1M` and
//! `cp` copying that file.
//!
//! kernfd runs twice: one `io_submit` per read (as fio's libaio engine does
//! by default), and batched ([`Scope::submit_batch`], one `io_submit` per
//! reap). Reported per reader: IOPS, and CPU time per I/O (user + system time of
//! the thread issuing the I/O, from `getrusage(RUSAGE_THREAD)`; fio's from
//! its own `usr_cpu`/`sys_cpu` percentages of its runtime).
//!
//! Environment: `KERNFD_AIO_BENCH_SIZE` (file size in bytes, default
//! 1 GiB), `KERNFD_AIO_BENCH_IOS` (I/Os per reader and depth, default
//! 100,000), `KERNFD_AIO_BENCH_DIR` (where the file lives, default the
//! target directory: the root filesystem). Without `--bench` (as under
//! `cargo test --benches`) it makes a smoke run: a 16 MiB file, 2,000 I/Os,
//! fio and the copy tools only if installed.

#![allow(clippy::cast_precision_loss, clippy::missing_panics_doc)]

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use kernfd::aio::{Context, InFlight, IoEvent, Op};
use rustix::fs::OFlags;

const BS: usize = 4096;

/// A zeroed, 4096-aligned heap buffer.
struct Aligned {
    ptr: *mut u8,
    len: usize,
}

impl Aligned {
    fn new(len: usize) -> Self {
        let layout = std::alloc::Layout::from_size_align(len, BS).unwrap();
        // SAFETY: `len` is non-zero.
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
        assert!(!ptr.is_null());
        Self { ptr, len }
    }
    fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: a live, initialised allocation of `len` bytes.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for Aligned {
    fn drop(&mut self) {
        let layout = std::alloc::Layout::from_size_align(self.len, BS).unwrap();
        // SAFETY: allocated in `new` with this layout.
        unsafe { std::alloc::dealloc(self.ptr, layout) }
    }
}

/// xorshift64: block numbers, the same sequence for every reader.
struct Rng(u64);

impl Rng {
    fn block(&mut self, blocks: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % blocks
    }
}

/// User + system CPU time of the calling thread.
fn thread_cpu() -> Duration {
    // SAFETY: `getrusage` fills the zeroed struct.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_THREAD, &raw mut ru), 0);
        ru
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// IOPS and CPU time per I/O.
#[derive(Clone, Copy)]
struct Figure {
    iops: f64,
    cpu_us: f64,
}

fn figure(ios: usize, wall: Duration, cpu: Duration) -> Figure {
    Figure {
        iops: ios as f64 / wall.as_secs_f64(),
        cpu_us: cpu.as_secs_f64() * 1e6 / ios as f64,
    }
}

/// The test file, filled with data (not sparse: holes would not reach the
/// device), made once and reused while its size matches.
fn prepare(dir: &Path, size: u64) -> PathBuf {
    let path = dir.join(format!("kernfd-aio-bench-{size}"));
    if std::fs::metadata(&path).is_ok_and(|m| m.len() == size) {
        return path;
    }
    let mut f = File::create(&path).unwrap();
    let mut chunk = vec![0_u8; 1 << 20];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut left = size;
    while left > 0 {
        for b in chunk.chunks_mut(8) {
            b.copy_from_slice(&rng.block(u64::MAX).to_ne_bytes()[..b.len()]);
        }
        let n = left.min(chunk.len() as u64) as usize;
        f.write_all(&chunk[..n]).unwrap();
        left -= n as u64;
    }
    f.sync_all().unwrap();
    path
}

fn open_direct(path: &Path) -> File {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(OFlags::DIRECT.bits() as i32)
        .open(path)
        .unwrap()
}

/// kernfd: `depth` reads in flight in one scope; each completion's buffer
/// goes straight back out at the next random block.
fn kernfd_randread(path: &Path, size: u64, depth: usize, ios: usize) -> Figure {
    let file = open_direct(path);
    let blocks = size / BS as u64;
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut bufs: Vec<Aligned> = (0..depth).map(|_| Aligned::new(BS)).collect();
    let mut ctx = Context::new(depth as u32).unwrap();
    let mut events = vec![IoEvent::ZERO; depth];
    let (cpu0, t0) = (thread_cpu(), Instant::now());
    ctx.scope(|s| {
        let mut flying: Vec<InFlight<'_, &mut [u8]>> = Vec::with_capacity(depth);
        let mut submitted = 0;
        let mut done = 0;
        for b in &mut bufs {
            if submitted == ios {
                break;
            }
            let off = rng.block(blocks) * BS as u64;
            flying.push(s.submit(Op::read(&file, b.as_mut_slice(), off)).unwrap());
            submitted += 1;
        }
        while done < ios {
            for c in s.getevents(1, &mut events, None).unwrap() {
                let i = flying.iter().position(|h| h.id() == c.id()).unwrap();
                let (buf, res) = flying.swap_remove(i).finish(&c).unwrap();
                assert_eq!(res, Ok(BS as u64));
                done += 1;
                if submitted < ios {
                    let off = rng.block(blocks) * BS as u64;
                    flying.push(s.submit(Op::read(&file, buf, off)).unwrap());
                    submitted += 1;
                }
            }
        }
    });
    figure(ios, t0.elapsed(), thread_cpu().saturating_sub(cpu0))
}

/// kernfd, batched: every buffer whose read completed goes back out in one
/// `io_submit` ([`Scope::submit_batch`](kernfd::aio::Scope::submit_batch))
/// per `io_getevents`.
fn kernfd_randread_batch(path: &Path, size: u64, depth: usize, ios: usize) -> Figure {
    let file = open_direct(path);
    let blocks = size / BS as u64;
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut bufs: Vec<Aligned> = (0..depth).map(|_| Aligned::new(BS)).collect();
    let mut ctx = Context::new(depth as u32).unwrap();
    let mut events = vec![IoEvent::ZERO; depth];
    let (cpu0, t0) = (thread_cpu(), Instant::now());
    ctx.scope(|s| {
        let mut ops: Vec<Option<Op<&mut [u8]>>> = Vec::with_capacity(depth);
        let mut flying: Vec<Option<InFlight<'_, &mut [u8]>>> = (0..depth).map(|_| None).collect();
        for b in bufs.iter_mut().take(ios) {
            let off = rng.block(blocks) * BS as u64;
            ops.push(Some(Op::read(&file, b.as_mut_slice(), off)));
        }
        let mut submitted = ops.len();
        let mut slots: Vec<usize> = (0..ops.len()).collect();
        let mut done = 0;
        let mut batch: Vec<Option<InFlight<'_, &mut [u8]>>> = (0..depth).map(|_| None).collect();
        loop {
            // Submit the batch, then file the handles into the free slots.
            let n = ops.len();
            assert_eq!(s.submit_batch(&mut ops, &mut batch[..n]).unwrap(), n);
            for (h, &slot) in batch.iter_mut().zip(&slots) {
                flying[slot] = h.take();
            }
            ops.clear();
            slots.clear();
            if done == ios {
                break;
            }
            for c in s.getevents(1, &mut events, None).unwrap() {
                let i = flying
                    .iter()
                    .position(|h| h.as_ref().is_some_and(|h| h.id() == c.id()))
                    .unwrap();
                let (buf, res) = flying[i].take().unwrap().finish(&c).unwrap();
                assert_eq!(res, Ok(BS as u64));
                done += 1;
                if submitted < ios {
                    let off = rng.block(blocks) * BS as u64;
                    ops.push(Some(Op::read(&file, buf, off)));
                    slots.push(i);
                    submitted += 1;
                }
            }
        }
    });
    figure(ios, t0.elapsed(), thread_cpu().saturating_sub(cpu0))
}

/// Synchronous `pread`, one at a time.
fn pread_randread(path: &Path, size: u64, ios: usize) -> Figure {
    let file = open_direct(path);
    let blocks = size / BS as u64;
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut buf = Aligned::new(BS);
    let (cpu0, t0) = (thread_cpu(), Instant::now());
    for _ in 0..ios {
        let off = rng.block(blocks) * BS as u64;
        assert_eq!(file.read_at(buf.as_mut_slice(), off).unwrap(), BS);
    }
    figure(ios, t0.elapsed(), thread_cpu().saturating_sub(cpu0))
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// fio, terse output version 3: field 8 is read IOPS, 9 the read runtime
/// in ms, 88 and 89 the user and system CPU percentages.
fn fio_randread(path: &Path, size: u64, depth: usize, ios: usize) -> Option<Figure> {
    let out = Command::new("fio")
        .args([
            "--name=kernfd-aio-bench",
            "--ioengine=libaio",
            "--direct=1",
            "--rw=randread",
            "--bs=4k",
            "--output-format=terse",
            "--terse-version=3",
        ])
        .arg(format!("--filename={}", path.display()))
        .arg(format!("--size={size}"))
        .arg(format!("--iodepth={depth}"))
        .arg(format!("--number_ios={ios}"))
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("fio failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("3;"))?;
    let f: Vec<&str> = line.split(';').collect();
    let num = |i: usize| -> Option<f64> { f.get(i - 1)?.trim_end_matches('%').parse().ok() };
    let (rate, runtime_ms, usr, sys) = (num(8)?, num(9)?, num(88)?, num(89)?);
    let n = rate * runtime_ms / 1000.0;
    Some(Figure {
        iops: rate,
        cpu_us: (usr + sys) / 100.0 * runtime_ms * 1000.0 / n,
    })
}

/// The release build of `examples/aio_copy.rs` (built into a target
/// directory of its own if missing).
fn aio_copy_bin() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("aio-bench-build");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let st = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--example",
            "aio_copy",
            "--target-dir",
        ])
        .arg(&target)
        .current_dir(root)
        .status()
        .unwrap();
    assert!(st.success());
    target.join("release/examples/aio_copy")
}

fn time_cmd(cmd: &mut Command) -> Option<Duration> {
    let t0 = Instant::now();
    let out = cmd.output().ok()?;
    if !out.status.success() {
        eprintln!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    Some(t0.elapsed())
}

fn copies(src: &Path, dir: &Path, size: u64) {
    let dst = dir.join("kernfd-aio-bench-copy");
    let mb = size as f64 / f64::from(1 << 20);
    let show = |name: &str, t: Option<Duration>| match t {
        Some(t) => println!(
            "{name:<44} {:>8.3} s {:>9.1} MiB/s",
            t.as_secs_f64(),
            mb / t.as_secs_f64()
        ),
        None => println!("{name:<44} (not available)"),
    };
    let bin = aio_copy_bin();
    let _ = std::fs::remove_file(&dst);
    let t = time_cmd(Command::new(&bin).arg(src).arg(&dst));
    assert!(same(src, &dst), "aio_copy made a different file");
    show("aio_copy (depth 32, 1 MiB blocks)", t);
    let _ = std::fs::remove_file(&dst);
    let t = have("dd").then(|| {
        time_cmd(
            Command::new("dd")
                .arg(format!("if={}", src.display()))
                .arg(format!("of={}", dst.display()))
                .args(["iflag=direct", "oflag=direct", "bs=1M", "status=none"]),
        )
    });
    show("dd iflag=direct oflag=direct bs=1M", t.flatten());
    let _ = std::fs::remove_file(&dst);
    let t = time_cmd(Command::new("cp").arg(src).arg(&dst));
    show("cp (buffered; written back by the kernel later)", t);
    let _ = std::fs::remove_file(&dst);
}

fn same(a: &Path, b: &Path) -> bool {
    Command::new("cmp")
        .arg(a)
        .arg(b)
        .status()
        .is_ok_and(|s| s.success())
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let (size, ios) = if bench {
        (
            env_u64("KERNFD_AIO_BENCH_SIZE", 1 << 30),
            env_u64("KERNFD_AIO_BENCH_IOS", 100_000) as usize,
        )
    } else {
        println!("smoke run (no --bench): checks only, the figures mean nothing");
        (16 << 20, 2_000)
    };
    let size = size / BS as u64 * BS as u64;
    let dir = std::env::var_os("KERNFD_AIO_BENCH_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")), PathBuf::from);
    std::fs::create_dir_all(&dir).unwrap();
    let path = prepare(&dir, size);
    println!(
        "random 4 KiB O_DIRECT reads, {} MiB file in {}, {ios} I/Os per reader",
        size >> 20,
        dir.display()
    );
    let fio = have("fio");
    if !fio {
        println!("(fio not installed: apt-get install fio)");
    }
    println!(
        "{:>5} {:>12} {:>12} {:>12} {:>7} {:>14} {:>14} {:>14} {:>12}",
        "depth",
        "kernfd IOPS",
        "batch IOPS",
        "fio IOPS",
        "ratio",
        "kernfd CPU/IO",
        "batch CPU/IO",
        "fio CPU/IO",
        "pread IOPS"
    );
    for depth in [1, 8, 32] {
        let k = kernfd_randread(&path, size, depth, ios);
        let kb = kernfd_randread_batch(&path, size, depth, ios);
        let f = if fio {
            fio_randread(&path, size, depth, ios)
        } else {
            None
        };
        let p = (depth == 1).then(|| pread_randread(&path, size, ios));
        println!(
            "{depth:>5} {:>12.0} {:>12.0} {:>12} {:>7} {:>12.2}µs {:>12.2}µs {:>14} {:>12}",
            k.iops,
            kb.iops,
            f.map_or("-".into(), |f| format!("{:.0}", f.iops)),
            f.map_or("-".into(), |f| format!("{:.3}", k.iops / f.iops)),
            k.cpu_us,
            kb.cpu_us,
            f.map_or("-".into(), |f| format!("{:.2}µs", f.cpu_us)),
            p.map_or("-".into(), |p| format!("{:.0}", p.iops)),
        );
    }
    println!("\ncopying the same file:");
    copies(&path, &dir, size);
}
