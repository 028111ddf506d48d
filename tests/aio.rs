//! Native AIO against the real kernel: every opcode on the root filesystem
//! and on tmpfs with `O_DIRECT`, vectored I/O, eventfd notification,
//! cancellation, timeouts, `io_pgetevents` with a mask, partial submission,
//! each errno a test can provoke, and no allocation on submit/reap.

mod util;

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use kernfd::aio::{Context, IoEvent, IoSlice, IoSliceMut, Iocb, Op, RwFlags, ioprio};
use kernfd::eventfd::EventFd;
use kernfd::{Errno, Error, Limit};
use rustix::event::PollFlags;
use rustix::fs::OFlags;

#[global_allocator]
static ALLOC: util::CountingAlloc = util::CountingAlloc;

const ALIGN: usize = 4096;

/// A zeroed, 4096-aligned heap buffer.
struct Aligned {
    ptr: *mut u8,
    len: usize,
}

impl Aligned {
    fn new(len: usize) -> Self {
        let layout = std::alloc::Layout::from_size_align(len, ALIGN).unwrap();
        // SAFETY: `len` is non-zero in every caller.
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
        let layout = std::alloc::Layout::from_size_align(self.len, ALIGN).unwrap();
        // SAFETY: allocated in `new` with this layout.
        unsafe { std::alloc::dealloc(self.ptr, layout) }
    }
}

/// The filesystems to test `O_DIRECT` on: the root filesystem (the target
/// directory) and tmpfs (`/dev/shm`), each as a fresh temp dir. A
/// filesystem that refuses `O_DIRECT` is skipped visibly.
fn direct_dirs() -> Vec<(&'static str, tempfile::TempDir)> {
    let mut out = Vec::new();
    let mut try_dir = |name: &'static str, dir: Result<tempfile::TempDir, String>| {
        let dir = match dir {
            Ok(d) => d,
            Err(e) => return eprintln!("SKIPPED {name}: no temp dir: {e}"),
        };
        match open_direct(&dir.path().join("probe")) {
            Ok(_) => out.push((name, dir)),
            Err(e) => eprintln!("SKIPPED {name}: O_DIRECT refused: {e}"),
        }
    };
    try_dir("rootfs", util::disk_tempdir());
    let shm = Path::new("/dev/shm");
    if rustix::fs::statfs(shm).is_ok_and(|s| s.f_type == 0x0102_1994) {
        try_dir(
            "tmpfs",
            tempfile::tempdir_in(shm).map_err(|e| e.to_string()),
        );
    } else {
        eprintln!("SKIPPED tmpfs: /dev/shm is not tmpfs here");
    }
    out
}

fn open_direct(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .custom_flags(OFlags::DIRECT.bits() as i32)
        .open(path)
}

fn pattern(buf: &mut [u8], seed: u8) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(31).wrapping_add(seed);
    }
}

fn pipe() -> (rustix::fd::OwnedFd, rustix::fd::OwnedFd) {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap()
}

#[test]
fn setup_rejects_zero_events() {
    assert_eq!(
        Context::new(0).unwrap_err(),
        Error::Os {
            call: "io_setup",
            errno: Errno::INVAL
        }
    );
}

#[test]
fn setup_beyond_aio_max_nr_is_the_named_limit() {
    let read = |p: &str| -> u64 { std::fs::read_to_string(p).unwrap().trim().parse().unwrap() };
    // `aio-nr` is machine-wide: other tests of this binary hold contexts
    // and free them concurrently, so a count one past what was free when
    // read may fit by the time `io_setup` runs. Then read again and retry;
    // the call must end in the named limit.
    let mut attempts = 0;
    let err = loop {
        let max = read("/proc/sys/fs/aio-max-nr");
        let used = read("/proc/sys/fs/aio-nr");
        // The kernel turns a count this large into EINVAL instead (overflow
        // guard: twice the count times 32 bytes must stay under 256 MiB).
        let ask = max.saturating_sub(used) + 1;
        if ask > 4_000_000 {
            skip!("aio-max-nr ({max}) is too large to exceed without hitting EINVAL first");
        }
        match Context::new(ask as u32) {
            Err(err) => break err,
            Ok(ctx) => {
                drop(ctx);
                attempts += 1;
                assert!(
                    attempts < 50,
                    "{ask} events past aio-nr {used} kept fitting"
                );
            }
        }
    };
    assert_eq!(
        err,
        Error::Limit {
            call: "io_setup",
            limit: Limit::AioMaxNr
        }
    );
    assert_eq!(err.errno(), Some(Errno::AGAIN));
    assert!(err.to_string().contains("/proc/sys/fs/aio-max-nr"), "{err}");
    // A context within the limit still works.
    drop(Context::new(1).unwrap());
}

#[test]
fn each_opcode_with_o_direct() {
    for (fs, dir) in direct_dirs() {
        let file = open_direct(&dir.path().join("data")).unwrap();
        let mut ctx = Context::new(8).unwrap();
        let mut wbuf = Aligned::new(2 * ALIGN);
        pattern(wbuf.as_mut_slice(), 7);
        let mut rbuf = Aligned::new(2 * ALIGN);
        let mut events = [IoEvent::ZERO; 8];
        ctx.scope(|s| {
            // PWRITE, with a best-effort priority and DSYNC.
            let w = s
                .submit(
                    Op::write(&file, wbuf.as_mut_slice(), ALIGN as u64)
                        .priority(ioprio(2, 4))
                        .rw_flags(RwFlags::DSYNC),
                )
                .unwrap();
            let c = s.getevents(1, &mut events, None).unwrap().next().unwrap();
            let (_, res) = w.finish(&c).unwrap();
            assert_eq!(res, Ok(2 * ALIGN as u64), "{fs}: pwrite");
            // FSYNC and FDSYNC complete with 0.
            let f1 = s.submit(Op::fsync(&file)).unwrap();
            let f2 = s.submit(Op::fdsync(&file)).unwrap();
            let mut left = vec![f1, f2];
            while !left.is_empty() {
                for c in s.getevents(1, &mut events, None).unwrap() {
                    let i = left.iter().position(|h| h.id() == c.id()).unwrap();
                    let ((), res) = left.swap_remove(i).finish(&c).unwrap();
                    assert_eq!(res, Ok(0), "{fs}: fsync/fdsync");
                }
            }
            // PREAD, with SYNC (ignored by reads) and HIPRI.
            let r = s
                .submit(Op::read(&file, rbuf.as_mut_slice(), ALIGN as u64).rw_flags(RwFlags::HIPRI))
                .unwrap();
            assert_eq!(s.in_flight(), 1);
            let c = s.getevents(1, &mut events, None).unwrap().next().unwrap();
            assert_eq!(s.in_flight(), 0);
            let (buf, res) = r.finish(&c).unwrap();
            assert_eq!(res, Ok(2 * ALIGN as u64), "{fs}: pread");
            let mut want = vec![0; 2 * ALIGN];
            pattern(&mut want, 7);
            assert_eq!(buf, &want[..], "{fs}: read back what was written");
        });
        assert_eq!(file.metadata().unwrap().len(), 3 * ALIGN as u64, "{fs}");
    }
}

#[test]
#[allow(clippy::many_single_char_names)]
fn vectored_read_and_write() {
    for (fs, dir) in direct_dirs() {
        let file = open_direct(&dir.path().join("v")).unwrap();
        let mut ctx = Context::new(4).unwrap();
        let (mut a, mut b) = (Aligned::new(ALIGN), Aligned::new(2 * ALIGN));
        pattern(a.as_mut_slice(), 1);
        pattern(b.as_mut_slice(), 2);
        let (mut c, mut d) = (Aligned::new(2 * ALIGN), Aligned::new(ALIGN));
        let mut events = [IoEvent::ZERO; 4];
        let mut want = a.as_mut_slice().to_vec();
        want.extend_from_slice(b.as_mut_slice());
        // The iovec arrays are part of the request's borrow: declared
        // outside the scope.
        let wiov = [
            IoSlice::new(a.as_mut_slice()),
            IoSlice::new(b.as_mut_slice()),
        ];
        let mut riov = [
            IoSliceMut::new(c.as_mut_slice()),
            IoSliceMut::new(d.as_mut_slice()),
        ];
        ctx.scope(|s| {
            let iov = &wiov;
            let w = s.submit(Op::writev(&file, iov, 0)).unwrap();
            let ev = s.getevents(1, &mut events, None).unwrap().next().unwrap();
            assert_eq!(w.finish(&ev).unwrap().1, Ok(3 * ALIGN as u64), "{fs}");
        });
        // Read it back split the other way: 2 pages, then 1.
        ctx.scope(|s| {
            let r = s.submit(Op::readv(&file, &mut riov, 0)).unwrap();
            let ev = s.getevents(1, &mut events, None).unwrap().next().unwrap();
            let (iov, res) = r.finish(&ev).unwrap();
            assert_eq!(res, Ok(3 * ALIGN as u64), "{fs}");
            let mut all = iov[0].as_slice().to_vec();
            all.extend_from_slice(iov[1].as_slice());
            assert_eq!(all, want, "{fs}: readv sees what writev wrote");
        });
    }
}

#[test]
fn append_flag_writes_at_the_end() {
    let dir = util::tempdir();
    let path = dir.path().join("f");
    std::fs::write(&path, b"0123").unwrap();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    let mut ctx = Context::new(2).unwrap();
    let mut events = [IoEvent::ZERO; 2];
    ctx.scope(|s| {
        let w = s
            .submit(Op::write(&file, b"ab", 0).rw_flags(RwFlags::APPEND))
            .unwrap();
        let c = s.getevents(1, &mut events, None).unwrap().next().unwrap();
        assert_eq!(w.finish(&c).unwrap().1, Ok(2));
    });
    assert_eq!(std::fs::read(&path).unwrap(), b"0123ab");
}

#[test]
fn nowait_on_a_cached_buffered_read_succeeds_and_unknown_rwf_is_refused() {
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(b"cached").unwrap();
    let mut ctx = Context::new(2).unwrap();
    let mut events = [IoEvent::ZERO; 2];
    let mut buf = [0_u8; 6];
    ctx.scope(|s| {
        let r = s
            .submit(Op::read(&file, &mut buf, 0).rw_flags(RwFlags::NOWAIT))
            .unwrap();
        let c = s.getevents(1, &mut events, None).unwrap().next().unwrap();
        let (buf, res) = r.finish(&c).unwrap();
        assert_eq!(res, Ok(6));
        assert_eq!(buf, b"cached");
    });
    let mut buf = [0_u8; 6];
    ctx.scope(|s| {
        let rej = s
            .submit(Op::read(&file, &mut buf, 0).rw_flags(RwFlags::from_bits_retain(1 << 30)))
            .unwrap_err();
        assert_eq!(rej.error.errno(), Some(Errno::OPNOTSUPP));
        assert_eq!(s.in_flight(), 0);
    });
}

#[test]
fn poll_completes_when_ready() {
    let (r, w) = pipe();
    let mut ctx = Context::new(2).unwrap();
    let mut events = [IoEvent::ZERO; 2];
    ctx.scope(|s| {
        let p = s.submit(Op::poll(&r, PollFlags::IN)).unwrap();
        assert_eq!(
            s.getevents(0, &mut events, Some(Duration::ZERO))
                .unwrap()
                .len(),
            0,
            "nothing ready yet"
        );
        rustix::io::write(&w, b"x").unwrap();
        let c = s.getevents(1, &mut events, None).unwrap().next().unwrap();
        let ((), res) = p.finish(&c).unwrap();
        assert!(Iocb::poll_mask(res.unwrap()).contains(PollFlags::IN));
    });
}

#[test]
fn eventfd_counts_completions() {
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(&[5; 64]).unwrap();
    let efd = EventFd::new(0).unwrap();
    let mut ctx = Context::new(4).unwrap();
    let mut bufs = [[0_u8; 16]; 3];
    let mut events = [IoEvent::ZERO; 4];
    ctx.scope(|s| {
        let [a, b, c] = &mut bufs;
        let mut ops = vec![];
        for (i, buf) in [a, b, c].into_iter().enumerate() {
            ops.push(
                s.submit(Op::read(&file, buf, 16 * i as u64).eventfd(&efd))
                    .unwrap(),
            );
        }
        let mut got = 0;
        while got < 3 {
            got += s.getevents(1, &mut events, None).unwrap().len();
        }
    });
    assert_eq!(efd.read().unwrap(), 3, "one eventfd count per completion");
    assert_eq!(bufs, [[5; 16]; 3]);
}

#[test]
fn eventfd_errors_at_submission() {
    let file = tempfile::tempfile().unwrap();
    let mut ctx = Context::new(2).unwrap();
    let mut buf = [0_u8; 4];
    ctx.scope(|s| {
        // Not an eventfd: EINVAL; the buffer comes back with the error.
        let rej = s
            .submit(Op::read(&file, &mut buf, 0).eventfd(&file))
            .unwrap_err();
        assert_eq!(rej.error.errno(), Some(Errno::INVAL));
        let buf = rej.op.into_buf();
        // A closed descriptor: EBADF.
        // SAFETY: used only as a number the kernel looks up and rejects.
        let closed = unsafe { rustix::fd::BorrowedFd::borrow_raw(1_000_000) };
        let rej = s
            .submit(Op::read(&file, buf, 0).eventfd(closed))
            .unwrap_err();
        assert_eq!(rej.error.errno(), Some(Errno::BADF));
    });
}

#[test]
fn cancel_a_poll_through_the_raw_path() {
    let (r, _w) = pipe();
    let ctx = Context::new(2).unwrap();
    let iocb = Iocb::poll(&r, PollFlags::IN).with_data(42);
    // SAFETY: a POLL request points to no memory.
    assert_eq!(unsafe { ctx.submit(&[&iocb]) }, Ok(1));
    ctx.cancel(&iocb).unwrap();
    let mut events = [IoEvent::ZERO; 2];
    let e = ctx
        .getevents(1, &mut events, Some(Duration::from_secs(5)))
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(e.data(), 42);
    assert_eq!(e.obj(), iocb.addr(), "obj is the address submitted from");
    assert_eq!(e.result(), Ok(0), "a cancelled poll completes with mask 0");
    // Nothing left to cancel from that address: EINVAL.
    assert_eq!(
        ctx.cancel(&iocb),
        Err(Error::Os {
            call: "io_cancel",
            errno: Errno::INVAL
        })
    );
}

#[test]
fn file_reads_are_not_cancellable() {
    let file = tempfile::tempfile().unwrap();
    let ctx = Context::new(2).unwrap();
    let mut buf = [0_u8; 8];
    let iocb = Iocb::pread(&file, buf.as_mut_ptr(), buf.len(), 0);
    // SAFETY: `buf` outlives the request, which is reaped below.
    unsafe { ctx.submit(&[&iocb]) }.unwrap();
    assert_eq!(ctx.cancel(&iocb).unwrap_err().errno(), Some(Errno::INVAL));
    let mut events = [IoEvent::ZERO; 2];
    assert_eq!(ctx.getevents(1, &mut events, None).unwrap().len(), 1);
}

#[test]
fn getevents_times_out() {
    let (r, w) = pipe();
    let mut ctx = Context::new(2).unwrap();
    let mut events = [IoEvent::ZERO; 2];
    let start = Instant::now();
    assert_eq!(
        ctx.getevents(1, &mut events, Some(Duration::from_millis(50)))
            .unwrap()
            .len(),
        0
    );
    assert!(start.elapsed() >= Duration::from_millis(45));
    ctx.scope(|s| {
        let p = s.submit(Op::poll(&r, PollFlags::IN)).unwrap();
        let start = Instant::now();
        let got = s
            .getevents(1, &mut events, Some(Duration::from_millis(50)))
            .unwrap();
        assert_eq!(got.len(), 0);
        assert!(start.elapsed() >= Duration::from_millis(45));
        assert_eq!(s.in_flight(), 1);
        // Leave nothing pending: make the pipe readable so the scope can end.
        rustix::io::write(&w, b"x").unwrap();
        drop(p);
    });
}

#[test]
fn pgetevents_swaps_the_mask_while_waiting() {
    use kernfd::signal::{SigSet, Signal};
    extern "C" fn on_usr1(_: i32) {}
    if util::in_child("pgetevents_swaps_the_mask_while_waiting") {
        return;
    }
    // SAFETY: installs a handler that does nothing, in this child process.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_usr1 as *const () as usize;
        assert_eq!(
            libc::sigaction(libc::SIGUSR1, &raw const sa, std::ptr::null_mut()),
            0
        );
    }
    let usr1 = SigSet::empty().with(Signal::USR1);
    kernfd::signal::block(&usr1).unwrap();
    kernfd::signal::raise(Signal::USR1).unwrap(); // pending, blocked
    let ctx = Context::new(2).unwrap();
    let mut events = [IoEvent::ZERO; 2];
    // A mask that keeps USR1 blocked: the wait times out normally.
    let got = ctx
        .pgetevents(1, &mut events, Some(Duration::from_millis(20)), &usr1)
        .unwrap();
    assert_eq!(got.len(), 0);
    // A mask that unblocks it: the pending signal interrupts the wait.
    let err = ctx
        .pgetevents(
            1,
            &mut events,
            Some(Duration::from_secs(5)),
            &SigSet::empty(),
        )
        .unwrap_err();
    assert_eq!(
        err,
        Error::Os {
            call: "io_pgetevents",
            errno: Errno::INTR
        }
    );
    // The thread's own mask is back: USR1 blocked.
    assert!(
        kernfd::signal::thread_mask()
            .unwrap()
            .contains(Signal::USR1)
    );
}

#[test]
fn partial_submission_is_reported_exactly() {
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(b"abcdefgh").unwrap();
    let ctx = Context::new(8).unwrap();
    let (mut a, mut b) = ([0_u8; 4], [0_u8; 4]);
    let good1 = Iocb::pread(&file, a.as_mut_ptr(), 4, 0).with_data(1);
    let bad = Iocb::noop(&file).with_data(2);
    let good2 = Iocb::pread(&file, b.as_mut_ptr(), 4, 4).with_data(3);
    // SAFETY: `a` and `b` outlive the requests, reaped below.
    let p = unsafe { ctx.submit(&[&good1, &bad, &good2]) }.unwrap_err();
    assert_eq!(p.submitted(), 1);
    assert_eq!(
        p.error(),
        Error::Os {
            call: "io_submit",
            errno: Errno::INVAL
        }
    );
    assert!(p.to_string().contains("1 request(s) submitted"), "{p}");
    // Only the first went in.
    let mut events = [IoEvent::ZERO; 8];
    let got: Vec<_> = ctx
        .getevents(1, &mut events, Some(Duration::from_secs(5)))
        .unwrap()
        .map(|e| e.unwrap().data())
        .collect();
    assert_eq!(got, [1]);
    assert_eq!(&a, b"abcd");
    assert_eq!(b, [0; 4], "the third was never submitted");
    // Refused at the first: 0 submitted. All accepted: Ok(count).
    // SAFETY: as above.
    let p = unsafe { ctx.submit(&[&bad]) }.unwrap_err();
    assert_eq!(p.submitted(), 0);
    // SAFETY: as above.
    assert_eq!(unsafe { ctx.submit(&[&good1, &good2]) }, Ok(2));
    let mut n = 0;
    while n < 2 {
        n += ctx.getevents(1, &mut events, None).unwrap().len();
    }
    assert_eq!(&b, b"efgh");
    // SAFETY: an empty batch touches nothing.
    assert_eq!(unsafe { ctx.submit(&[]) }, Ok(0));
}

#[test]
fn bad_context_is_einval() {
    let file = tempfile::tempfile().unwrap();
    let iocb = Iocb::fsync(&file);
    // SAFETY: an fsync request points to no memory; the id is no context.
    let r = unsafe { kernfd::aio::io_submit(0xdead_0000, &[&iocb]) };
    assert_eq!(r, Err(Errno::INVAL));
    let mut events = [IoEvent::ZERO; 1];
    assert_eq!(
        kernfd::aio::io_getevents(0xdead_0000, 0, &mut events, Some(Duration::ZERO)),
        Err(Errno::INVAL)
    );
    assert_eq!(
        kernfd::aio::io_cancel(0xdead_0000, &iocb),
        Err(Errno::INVAL)
    );
    // SAFETY: not a context anyone owns.
    let r = unsafe { kernfd::aio::io_destroy(0xdead_0000) };
    assert_eq!(r, Err(Errno::INVAL));
    // min_nr larger than the array.
    let ctx = Context::new(1).unwrap();
    assert_eq!(
        ctx.getevents(2, &mut events, None).unwrap_err().errno(),
        Some(Errno::INVAL)
    );
}

/// Misaligned `O_DIRECT` is refused (`EINVAL`, in the completion) by block
/// devices. Filesystems differ: ext4 quietly falls back to buffered I/O and
/// tmpfs has no alignment rule, so the test reads the block device under
/// the target directory, read-only (root only).
#[test]
fn misaligned_o_direct_fails_in_the_completion() {
    if !util::is_root() {
        skip!("opening a block device needs root");
    }
    let dev = std::fs::metadata(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let dev = {
        use std::os::unix::fs::MetadataExt;
        dev.dev()
    };
    let (major, minor) = (rustix::fs::major(dev), rustix::fs::minor(dev));
    // /dev/block/M:m where udev runs; /sys's DEVNAME otherwise.
    let uevent = std::fs::read_to_string(format!("/sys/dev/block/{major}:{minor}/uevent"))
        .unwrap_or_default();
    let path = match uevent.lines().find_map(|l| l.strip_prefix("DEVNAME=")) {
        Some(name) => format!("/dev/{name}"),
        None => format!("/dev/block/{major}:{minor}"),
    };
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(OFlags::DIRECT.bits() as i32)
        .open(&path)
    {
        Ok(f) => f,
        Err(e) => skip!("{path}: {e} (not a block device here)"),
    };
    let mut ctx = Context::new(4).unwrap();
    let mut buf = Aligned::new(3 * ALIGN);
    let mut events = [IoEvent::ZERO; 4];
    ctx.scope(|s| {
        // Aligned: fine.
        let r = s
            .submit(Op::read(&file, buf.as_mut_slice(), 0).len(ALIGN))
            .unwrap();
        let c = s.getevents(1, &mut events, None).unwrap().next().unwrap();
        let (buf, res) = r.finish(&c).unwrap();
        assert_eq!(res, Ok(ALIGN as u64), "{path}: aligned read");
        // A buffer one byte off the alignment.
        let (_, rest) = buf.split_at_mut(1);
        let (off_by_one, rest) = rest.split_at_mut(ALIGN);
        let r = s.submit(Op::read(&file, off_by_one, 0)).unwrap();
        let c = s.getevents(1, &mut events, None).unwrap().next().unwrap();
        assert_eq!(
            r.finish(&c).unwrap().1,
            Err(Errno::INVAL),
            "{path}: misaligned buffer"
        );
        // An aligned buffer at a misaligned offset.
        let aligned = &mut rest[ALIGN - 1..];
        let r = s.submit(Op::read(&file, aligned, 1).len(ALIGN)).unwrap();
        let c = s.getevents(1, &mut events, None).unwrap().next().unwrap();
        assert_eq!(
            r.finish(&c).unwrap().1,
            Err(Errno::INVAL),
            "{path}: misaligned offset"
        );
    });
}

#[test]
fn bad_descriptor_is_ebadf_and_gives_the_buffer_back() {
    let mut ctx = Context::new(2).unwrap();
    let mut buf = [7_u8; 8];
    ctx.scope(|s| {
        // SAFETY: used only as a number the kernel looks up and rejects.
        let closed = unsafe { rustix::fd::BorrowedFd::borrow_raw(1_000_000) };
        let rej = s.submit(Op::read(closed, &mut buf, 0)).unwrap_err();
        assert_eq!(
            rej.error,
            Error::Os {
                call: "io_submit",
                errno: Errno::BADF
            }
        );
        let buf = rej.op.into_buf();
        buf[0] = 1; // ours again
        assert_eq!(s.in_flight(), 0);
    });
    assert_eq!(buf[0], 1);
}

#[test]
fn bad_buffer_address_is_efault_through_the_raw_path() {
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(&[1; 64]).unwrap();
    let ctx = Context::new(2).unwrap();
    // Page 0 is never mapped (vm.mmap_min_addr).
    let iocb = Iocb::pread(&file, 16 as *mut u8, 64, 0);
    // SAFETY: the kernel only tries to write to an unmapped address, which it
    // reports; no memory of this process is touched.
    unsafe { ctx.submit(&[&iocb]) }.unwrap();
    let mut events = [IoEvent::ZERO; 2];
    let e = ctx
        .getevents(1, &mut events, None)
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(e.result(), Err(Errno::FAULT));
}

#[test]
fn realtime_priority_needs_privilege() {
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(b"x").unwrap();
    let mut ctx = Context::new(2).unwrap();
    let mut buf = [0_u8; 1];
    let mut other = [0_u8; 1];
    let mut events = [IoEvent::ZERO; 2];
    let admin = rustix::thread::capabilities(None).is_ok_and(|c| {
        c.effective
            .contains(rustix::thread::CapabilitySet::SYS_ADMIN)
    });
    ctx.scope(|s| {
        let r = s.submit(Op::read(&file, &mut buf, 0).priority(ioprio(1, 0)));
        if admin {
            let r = r.unwrap();
            let c = s.getevents(1, &mut events, None).unwrap().next().unwrap();
            assert_eq!(r.finish(&c).unwrap().1, Ok(1));
        } else {
            assert_eq!(r.unwrap_err().error.errno(), Some(Errno::PERM));
        }
        // An unknown class is EINVAL for everyone.
        let rej = s
            .submit(Op::read(&file, &mut other, 0).priority(ioprio(7, 0)))
            .unwrap_err();
        assert_eq!(rej.error.errno(), Some(Errno::INVAL));
    });
}

#[test]
fn scope_waits_for_requests_left_in_flight() {
    // A poll made ready 100 ms later by another thread: the scope must not
    // return before it completed, even though its handle was forgotten.
    let (r, w) = pipe();
    let mut ctx = Context::new(2).unwrap();
    let start = Instant::now();
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        rustix::io::write(&w, b"x").unwrap();
    });
    ctx.scope(|s| {
        // Forgetting a handle is harmless: the scope still waits.
        #[allow(clippy::forget_non_drop)]
        std::mem::forget(s.submit(Op::poll(&r, PollFlags::IN)).unwrap());
        assert_eq!(s.in_flight(), 1);
    });
    assert!(start.elapsed() >= Duration::from_millis(90));
    writer.join().unwrap();
    // The context is usable again, with nothing left in its ring.
    let mut events = [IoEvent::ZERO; 2];
    assert_eq!(
        ctx.getevents(0, &mut events, Some(Duration::ZERO))
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn scope_waits_when_the_closure_panics() {
    let (r, w) = pipe();
    let mut ctx = Context::new(2).unwrap();
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        rustix::io::write(&w, b"x").unwrap();
    });
    let start = Instant::now();
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ctx.scope(|s| {
            let _op = s.submit(Op::poll(&r, PollFlags::IN)).unwrap();
            panic!("boom");
        })
    }));
    assert!(res.is_err());
    assert!(
        start.elapsed() >= Duration::from_millis(90),
        "drained on unwind"
    );
    writer.join().unwrap();
}

#[test]
fn completion_of_another_request_gives_the_handle_back() {
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(b"abcd").unwrap();
    let mut ctx = Context::new(4).unwrap();
    let (mut a, mut b) = ([0_u8; 2], [0_u8; 2]);
    let mut events = [IoEvent::ZERO; 4];
    ctx.scope(|s| {
        let ha = s.submit(Op::read(&file, &mut a, 0)).unwrap();
        let hb = s.submit(Op::read(&file, &mut b, 2)).unwrap();
        assert_ne!(ha.id(), hb.id());
        let mut cs = vec![];
        while cs.len() < 2 {
            cs.extend(s.getevents(1, &mut events, None).unwrap());
        }
        let cb = cs.iter().find(|c| c.id() == hb.id()).unwrap();
        let ca = cs.iter().find(|c| c.id() == ha.id()).unwrap();
        let ha = ha.finish(cb).unwrap_err(); // not its completion
        let (a, _) = ha.finish(ca).unwrap();
        let (b, _) = hb.finish(cb).unwrap();
        assert_eq!((&a[..], &b[..]), (&b"ab"[..], &b"cd"[..]));
    });
}

#[test]
fn submit_and_reap_allocate_nothing() {
    let dirs = direct_dirs();
    let Some((_, dir)) = dirs.first() else {
        skip!("no filesystem with O_DIRECT");
    };
    let file = open_direct(&dir.path().join("z")).unwrap();
    file.set_len(64 * ALIGN as u64).unwrap();
    let mut ctx = Context::new(8).unwrap();
    let mut bufs: Vec<Aligned> = (0..4).map(|_| Aligned::new(ALIGN)).collect();
    let mut events = [IoEvent::ZERO; 8];
    let ((), n) = util::count_allocs(|| {
        ctx.scope(|s| {
            let mut slots: [Option<_>; 4] = [None, None, None, None];
            let mut idle: [Option<&mut [u8]>; 4] = [None, None, None, None];
            for (slot, b) in idle.iter_mut().zip(bufs.iter_mut()) {
                *slot = Some(b.as_mut_slice());
            }
            for round in 0..64_u64 {
                let i = (round % 4) as usize;
                while slots[i].is_some() {
                    for c in s.getevents(1, &mut events, None).unwrap() {
                        let j = slots
                            .iter()
                            .position(|h: &Option<kernfd::aio::InFlight<'_, &mut [u8]>>| {
                                h.as_ref().is_some_and(|h| h.id() == c.id())
                            })
                            .unwrap();
                        let (buf, res) = slots[j].take().unwrap().finish(&c).unwrap();
                        assert_eq!(res, Ok(ALIGN as u64));
                        idle[j] = Some(buf);
                    }
                }
                let buf = idle[i].take().unwrap();
                slots[i] = Some(
                    s.submit(Op::read(&file, buf, round * ALIGN as u64))
                        .unwrap(),
                );
            }
        });
        // A batch from caller storage, the buffers coming back each round.
        ctx.scope(|s| {
            let mut idle: [Option<&mut [u8]>; 4] = [None, None, None, None];
            for (slot, b) in idle.iter_mut().zip(bufs.iter_mut()) {
                *slot = Some(b.as_mut_slice());
            }
            for _ in 0..8 {
                let mut ops: [Option<Op<&mut [u8]>>; 4] = [None, None, None, None];
                for (i, (op, buf)) in ops.iter_mut().zip(idle.iter_mut()).enumerate() {
                    *op = Some(Op::read(&file, buf.take().unwrap(), 4096 * i as u64));
                }
                let mut handles = [None, None, None, None];
                assert_eq!(s.submit_batch(&mut ops, &mut handles), Ok(4));
                let mut n = 0;
                while n < 4 {
                    for c in s.getevents(1, &mut events, None).unwrap() {
                        let j = handles
                            .iter()
                            .position(|h: &Option<kernfd::aio::InFlight<'_, &mut [u8]>>| {
                                h.as_ref().is_some_and(|h| h.id() == c.id())
                            })
                            .unwrap();
                        idle[j] = Some(handles[j].take().unwrap().finish(&c).unwrap().0);
                        n += 1;
                    }
                }
            }
        });
        // The raw path too.
        let iocb = Iocb::fsync(&file).with_data(9);
        for _ in 0..16 {
            // SAFETY: fsync points to no memory.
            unsafe { ctx.submit(&[&iocb]) }.unwrap();
            let e = ctx
                .getevents(1, &mut events, None)
                .unwrap()
                .next()
                .unwrap()
                .unwrap();
            assert_eq!(e.data(), 9);
        }
    });
    assert_eq!(n, 0, "allocations on the submit/reap path");
}

/// Real completions (a read, a short read at end of file, an `EFAULT`, a
/// poll mask, a cancelled poll) parse cleanly; with `KERNFD_FUZZ_SEEDS=DIR`
/// their bytes are written there for the `aio_parse` fuzz target
/// (`fuzz/corpus/aio_parse/`).
#[test]
fn kernel_completions_parse_and_seed_the_fuzzer() {
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(&[3; 100]).unwrap();
    let (ready, ready_w) = pipe();
    rustix::io::write(&ready_w, b"x").unwrap();
    let (r2, _w2) = pipe();
    let ctx = Context::new(8).unwrap();
    let (mut a, mut b) = ([0_u8; 64], [0_u8; 64]);
    let poll = Iocb::poll(&r2, PollFlags::IN).with_data(5);
    let iocbs = [
        Iocb::pread(&file, a.as_mut_ptr(), 64, 0).with_data(1),
        Iocb::pread(&file, b.as_mut_ptr(), 64, 64).with_data(2),
        Iocb::pread(&file, 16 as *mut u8, 64, 0).with_data(3),
        Iocb::poll(&ready, PollFlags::IN).with_data(4),
        poll,
    ];
    let refs: Vec<&Iocb> = iocbs.iter().take(4).chain([&poll]).collect();
    // SAFETY: `a` and `b` outlive the requests, all reaped below; the bad
    // address is unmapped; polls point to no memory.
    assert_eq!(unsafe { ctx.submit(&refs) }, Ok(5));
    ctx.cancel(&poll).unwrap();
    let mut events = [IoEvent::ZERO; 8];
    let mut bytes = Vec::new();
    let mut seen = Vec::new();
    while seen.len() < 5 {
        let got = ctx
            .getevents(1, &mut events, Some(Duration::from_secs(5)))
            .unwrap();
        bytes.extend_from_slice(got.remainder());
        for event in got {
            let event = event.unwrap();
            seen.push((event.data(), event.result()));
        }
    }
    seen.sort_by_key(|s| s.0);
    assert_eq!(seen[0], (1, Ok(64)));
    assert_eq!(seen[1], (2, Ok(36)), "short read at end of file");
    assert_eq!(seen[2], (3, Err(Errno::FAULT)));
    assert_eq!(seen[3].0, 4);
    assert!(Iocb::poll_mask(seen[3].1.unwrap()).contains(PollFlags::IN));
    assert_eq!(seen[4], (5, Ok(0)), "cancelled poll");
    assert_eq!(bytes.len(), 5 * kernfd::aio::IO_EVENT_LEN);
    assert!(kernfd::aio::parse(&bytes).all(|e| e.is_ok()));
    if let Some(dir) = std::env::var_os("KERNFD_FUZZ_SEEDS") {
        let dir = Path::new(&dir);
        std::fs::write(dir.join("seed-kernel-mix"), &bytes).unwrap();
        std::fs::write(dir.join("seed-one-plus-partial"), &bytes[..32 + 20]).unwrap();
    }
}

#[test]
fn scope_batch_submission_reports_partial_exactly() {
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(b"abcdefghijkl").unwrap();
    let mut ctx = Context::new(64).unwrap();
    let (mut a, mut b, mut c) = ([0_u8; 4], [0_u8; 4], [0_u8; 4]);
    let mut events = [IoEvent::ZERO; 64];
    ctx.scope(|s| {
        // SAFETY: used only as a number the kernel looks up and rejects.
        let closed = unsafe { rustix::fd::BorrowedFd::borrow_raw(1_000_000) };
        let mut ops = [
            Some(Op::read(&file, &mut a[..], 0)),
            Some(Op::read(closed, &mut b[..], 4)),
            Some(Op::read(&file, &mut c[..], 8)),
        ];
        let mut handles = [None, None, None];
        // Too few handle slots: nothing submitted.
        let p = s.submit_batch(&mut ops, &mut handles[..2]).unwrap_err();
        assert_eq!(p.submitted(), 0);
        assert!(matches!(
            p.error(),
            Error::BufferTooSmall { len: 2, needed: 3 }
        ));
        assert!(ops.iter().all(Option::is_some));
        // The second is refused: one went in, the rest stay in `ops`.
        let p = s.submit_batch(&mut ops, &mut handles).unwrap_err();
        assert_eq!(p.submitted(), 1);
        assert_eq!(p.error().errno(), Some(Errno::BADF));
        assert!(ops[0].is_none() && handles[0].is_some());
        assert!(ops[1].is_some() && ops[2].is_some() && handles[1].is_none());
        assert_eq!(s.in_flight(), 1);
        // Fix the second, submit the rest.
        let b = ops[1].take().unwrap().into_buf();
        ops[1] = Some(Op::read(&file, b, 4));
        assert_eq!(s.submit_batch(&mut ops, &mut handles), Ok(2));
        assert!(ops.iter().all(Option::is_none));
        let mut got = Vec::new();
        while got.len() < 3 {
            for comp in s.getevents(1, &mut events, None).unwrap() {
                let slot = handles
                    .iter()
                    .position(|h| h.as_ref().is_some_and(|h| h.id() == comp.id()))
                    .unwrap();
                let (buf, res) = handles[slot].take().unwrap().finish(&comp).unwrap();
                assert_eq!(res, Ok(4));
                got.push((slot, buf.to_vec()));
            }
        }
        got.sort();
        assert_eq!(
            got,
            [
                (0, b"abcd".to_vec()),
                (1, b"efgh".to_vec()),
                (2, b"ijkl".to_vec())
            ]
        );
    });
}

#[test]
fn scope_batch_larger_than_one_io_submit_call() {
    let mut file = tempfile::tempfile().unwrap();
    let data: Vec<u8> = (0..=199_u8).collect();
    file.write_all(&data).unwrap();
    let mut ctx = Context::new(64).unwrap();
    let mut bufs = [[0_u8; 4]; 50];
    let mut events = [IoEvent::ZERO; 64];
    ctx.scope(|s| {
        let mut ops: Vec<_> = bufs
            .iter_mut()
            .enumerate()
            .map(|(i, b)| Some(Op::read(&file, &mut b[..], 4 * i as u64)))
            .collect();
        let mut handles: Vec<_> = (0..50).map(|_| None).collect();
        assert_eq!(s.submit_batch(&mut ops, &mut handles), Ok(50));
        let mut n = 0;
        while n < 50 {
            for comp in s.getevents(1, &mut events, None).unwrap() {
                let slot = handles
                    .iter()
                    .position(|h: &Option<kernfd::aio::InFlight<'_, &mut [u8]>>| {
                        h.as_ref().is_some_and(|h| h.id() == comp.id())
                    })
                    .unwrap();
                let (buf, _) = handles[slot].take().unwrap().finish(&comp).unwrap();
                assert_eq!(buf, &data[4 * slot..4 * slot + 4]);
                n += 1;
            }
        }
    });
}

#[test]
fn scope_pgetevents_reaps_with_a_mask() {
    let (r, w) = pipe();
    let mut ctx = Context::new(3).unwrap();
    assert_eq!(ctx.nr_events(), 3);
    let mut events = [IoEvent::ZERO; 2];
    // The thread's own mask: the call swaps in an identical one, so the
    // machine's signal state is not changed even for the wait.
    let mask = kernfd::signal::thread_mask().unwrap();
    ctx.scope(|s| {
        let p = s.submit(Op::poll(&r, PollFlags::IN)).unwrap();
        let none = s
            .pgetevents(1, &mut events, Some(Duration::from_millis(20)), &mask)
            .unwrap();
        assert_eq!(none.len(), 0, "timed out");
        rustix::io::write(&w, b"x").unwrap();
        let c = s
            .pgetevents(1, &mut events, None, &mask)
            .unwrap()
            .next()
            .unwrap();
        let ((), res) = p.finish(&c).unwrap();
        assert!(Iocb::poll_mask(res.unwrap()).contains(PollFlags::IN));
        assert_eq!(s.in_flight(), 0);
    });
}
