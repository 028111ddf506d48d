//! `kernfd::pipe` against the real kernel: splice, tee, vmsplice, pipe
//! sizing and its limits, and the copy loop on every kind of pair.
#![allow(clippy::missing_panics_doc, clippy::many_single_char_names)]

#[macro_use]
mod util;

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use kernfd::pipe::{self, Copier, Pipe, SpliceFlags};
use kernfd::rustix::pipe::{IoSliceRaw, PipeFlags};
use kernfd::{Errno, Error, Limit, Rule, rustix};

#[global_allocator]
static A: util::CountingAlloc = util::CountingAlloc;

const FIVE_GIB: u64 = 5 << 30;

fn file_with(bytes: &[u8]) -> File {
    let mut f = tempfile::tempfile().unwrap();
    f.write_all(bytes).unwrap();
    f.rewind().unwrap();
    f
}

fn read_all(fd: std::os::fd::OwnedFd) -> Vec<u8> {
    let mut v = Vec::new();
    File::from(fd).read_to_end(&mut v).unwrap();
    v
}

fn nonblocking_pipe() -> Pipe {
    Pipe::with_flags(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK).unwrap()
}

/// Fills a non-blocking pipe's write end until `EAGAIN`.
fn fill(p: &Pipe) -> usize {
    let chunk = [7_u8; 4096];
    let mut total = 0;
    loop {
        match rustix::io::write(p.write_end(), &chunk) {
            Ok(n) => total += n,
            Err(Errno::AGAIN) => return total,
            Err(e) => panic!("{e}"),
        }
    }
}

// ---- splice ----

#[test]
fn splice_file_to_pipe_with_offset_keeps_the_file_position() {
    let mut f = file_with(b"0123456789");
    let p = Pipe::new().unwrap();
    let mut off = 3_u64;
    let n = pipe::splice(
        &f,
        Some(&mut off),
        p.write_end(),
        None,
        4,
        SpliceFlags::empty(),
    )
    .unwrap();
    assert_eq!((n, off), (4, 7));
    assert_eq!(f.stream_position().unwrap(), 0);
    // Without an offset the file position is used and advanced.
    let n = pipe::splice(&f, None, p.write_end(), None, 2, SpliceFlags::MOVE).unwrap();
    assert_eq!(n, 2);
    assert_eq!(f.stream_position().unwrap(), 2);
    let (r, w) = p.into_ends();
    drop(w);
    assert_eq!(read_all(r), b"345601");
}

#[test]
fn splice_pipe_to_file_and_back_past_4_gib() {
    let f = tempfile::tempfile().unwrap();
    let p = Pipe::new().unwrap();
    rustix::io::write(p.write_end(), b"far away").unwrap();
    let mut off = FIVE_GIB;
    let n = pipe::splice(
        p.read_end(),
        None,
        &f,
        Some(&mut off),
        8,
        SpliceFlags::empty(),
    )
    .unwrap();
    assert_eq!((n, off), (8, FIVE_GIB + 8));
    assert_eq!(f.metadata().unwrap().len(), FIVE_GIB + 8);
    let mut back = [0_u8; 8];
    f.read_exact_at(&mut back, FIVE_GIB).unwrap();
    assert_eq!(&back, b"far away");

    // And out of the file from past 4 GiB.
    let mut off = FIVE_GIB + 4;
    let n = pipe::splice(
        &f,
        Some(&mut off),
        p.write_end(),
        None,
        100,
        SpliceFlags::empty(),
    )
    .unwrap();
    assert_eq!((n, off), (4, FIVE_GIB + 8));
    let mut got = [0_u8; 4];
    assert_eq!(rustix::io::read(p.read_end(), &mut got).unwrap(), 4);
    assert_eq!(&got, b"away");
    // At end of file: 0.
    let n = pipe::splice(
        &f,
        Some(&mut off),
        p.write_end(),
        None,
        100,
        SpliceFlags::empty(),
    )
    .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn splice_offset_on_a_pipe_is_espipe() {
    let f = file_with(b"abc");
    let p = Pipe::new().unwrap();
    let mut off = 0;
    assert_eq!(
        pipe::splice(
            &f,
            None,
            p.write_end(),
            Some(&mut off),
            3,
            SpliceFlags::empty()
        ),
        Err(Errno::SPIPE)
    );
    assert_eq!(
        pipe::splice(
            p.read_end(),
            Some(&mut off),
            &f,
            None,
            3,
            SpliceFlags::empty()
        ),
        Err(Errno::SPIPE)
    );
}

#[test]
fn splice_without_a_pipe_is_einval() {
    let a = file_with(b"abc");
    let b = tempfile::tempfile().unwrap();
    assert_eq!(
        pipe::splice(&a, None, &b, None, 3, SpliceFlags::empty()),
        Err(Errno::INVAL)
    );
}

#[test]
fn splice_into_an_append_file_is_einval() {
    let dir = util::tempdir();
    let path = dir.path().join("log");
    let f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap();
    let p = Pipe::new().unwrap();
    rustix::io::write(p.write_end(), b"x").unwrap();
    assert_eq!(
        pipe::splice(p.read_end(), None, &f, None, 1, SpliceFlags::empty()),
        Err(Errno::INVAL)
    );
}

#[test]
fn splice_wrong_direction_is_ebadf() {
    let p = Pipe::new().unwrap();
    let f = tempfile::tempfile().unwrap();
    // The write end as input.
    assert_eq!(
        pipe::splice(p.write_end(), None, &f, None, 1, SpliceFlags::empty()),
        Err(Errno::BADF)
    );
    // A read-only file as output.
    let ro = File::open("/dev/null").unwrap();
    rustix::io::write(p.write_end(), b"x").unwrap();
    assert_eq!(
        pipe::splice(p.read_end(), None, &ro, None, 1, SpliceFlags::empty()),
        Err(Errno::BADF)
    );
}

#[test]
fn splice_nonblock_empty_and_full_is_eagain() {
    let p = Pipe::new().unwrap();
    let f = tempfile::tempfile().unwrap();
    assert_eq!(
        pipe::splice(p.read_end(), None, &f, None, 1, SpliceFlags::NONBLOCK),
        Err(Errno::AGAIN)
    );
    let full = nonblocking_pipe();
    assert!(fill(&full) > 0);
    let src = file_with(b"more");
    assert_eq!(
        pipe::splice(&src, None, full.write_end(), None, 4, SpliceFlags::empty()),
        Err(Errno::AGAIN)
    );
}

#[test]
fn splice_to_eof_of_a_closed_pipe_returns_zero() {
    let (r, w) = Pipe::new().unwrap().into_ends();
    drop(w);
    let f = tempfile::tempfile().unwrap();
    assert_eq!(
        pipe::splice(&r, None, &f, None, 10, SpliceFlags::empty()),
        Ok(0)
    );
}

// ---- tee ----

#[test]
fn tee_duplicates_without_consuming() {
    let a = Pipe::new().unwrap();
    let b = Pipe::new().unwrap();
    rustix::io::write(a.write_end(), b"twice").unwrap();
    assert_eq!(
        pipe::tee(a.read_end(), b.write_end(), 100, SpliceFlags::empty()),
        Ok(5)
    );
    assert_eq!(a.len().unwrap(), 5);
    assert_eq!(b.len().unwrap(), 5);
    // A shorter len duplicates a prefix.
    let c = Pipe::new().unwrap();
    assert_eq!(
        pipe::tee(a.read_end(), c.write_end(), 3, SpliceFlags::MORE),
        Ok(3)
    );
    let (ar, aw) = a.into_ends();
    let (br, bw) = b.into_ends();
    let (cr, cw) = c.into_ends();
    drop((aw, bw, cw));
    assert_eq!(read_all(ar), b"twice");
    assert_eq!(read_all(br), b"twice");
    assert_eq!(read_all(cr), b"twi");
}

#[test]
fn tee_errors() {
    let a = Pipe::new().unwrap();
    let b = Pipe::new().unwrap();
    let f = tempfile::tempfile().unwrap();
    assert_eq!(
        pipe::tee(&f, b.write_end(), 1, SpliceFlags::empty()),
        Err(Errno::INVAL)
    );
    assert_eq!(
        pipe::tee(a.read_end(), b.write_end(), 1, SpliceFlags::NONBLOCK),
        Err(Errno::AGAIN)
    );
    assert_eq!(
        pipe::tee(a.write_end(), b.write_end(), 1, SpliceFlags::empty()),
        Err(Errno::BADF)
    );
    // Empty with no writer: end of input.
    let (r, w) = a.into_ends();
    drop(w);
    assert_eq!(pipe::tee(&r, b.write_end(), 1, SpliceFlags::empty()), Ok(0));
}

// ---- vmsplice ----

#[test]
fn vmsplice_copies_into_the_pipe() {
    let p = Pipe::new().unwrap();
    let mut first = *b"hello ";
    let second = b"world";
    let n = pipe::vmsplice(
        p.write_end(),
        &[
            IoSliceRaw::from_slice(&first),
            IoSliceRaw::from_slice(second),
        ],
        SpliceFlags::empty(),
    )
    .unwrap();
    assert_eq!(n, 11);
    // The pipe holds references to the caller's pages, not a copy: a change
    // made before the reader reads shows through (documented on
    // `pipe::vmsplice`). Should a kernel start copying, this fails and the
    // documentation must change with it.
    first.copy_from_slice(b"HELLO ");
    let mut out = [0_u8; 11];
    assert_eq!(
        pipe::vmsplice_read(p.read_end(), &mut out, SpliceFlags::empty()).unwrap(),
        11
    );
    assert_eq!(&out, b"HELLO world", "vmsplice copied: update the docs");
}

#[test]
fn vmsplice_refuses_gift_and_the_wrong_direction() {
    let p = Pipe::new().unwrap();
    let data = [1_u8; 8];
    let iov = [IoSliceRaw::from_slice(&data)];
    assert_eq!(
        pipe::vmsplice(p.write_end(), &iov, SpliceFlags::GIFT),
        Err(Error::Rule(Rule::VmspliceGift))
    );
    assert_eq!(
        pipe::vmsplice(p.read_end(), &iov, SpliceFlags::empty()),
        Err(Error::Rule(Rule::VmspliceDirection))
    );
    let mut buf = [0_u8; 8];
    assert_eq!(
        pipe::vmsplice_read(p.write_end(), &mut buf, SpliceFlags::empty()),
        Err(Error::Rule(Rule::VmspliceDirection))
    );
    assert_eq!(
        pipe::vmsplice_read(p.read_end(), &mut buf, SpliceFlags::GIFT),
        Err(Error::Rule(Rule::VmspliceGift))
    );
    assert_eq!(Rule::VmspliceDirection.errno(), Errno::BADF);
    assert!(p.is_empty().unwrap());
}

#[test]
fn vmsplice_errors_from_the_kernel() {
    // Not a pipe: EBADF.
    let f = tempfile::tempfile().unwrap();
    let data = [1_u8; 8];
    let err =
        pipe::vmsplice(&f, &[IoSliceRaw::from_slice(&data)], SpliceFlags::empty()).unwrap_err();
    assert_eq!(err, Error::os("vmsplice", Errno::BADF));
    // Full / empty with SPLICE_F_NONBLOCK: EAGAIN. (vmsplice ignores the
    // pipe's own O_NONBLOCK: only the flag counts.)
    let p = nonblocking_pipe();
    fill(&p);
    let err = pipe::vmsplice(
        p.write_end(),
        &[IoSliceRaw::from_slice(&data)],
        SpliceFlags::NONBLOCK,
    )
    .unwrap_err();
    assert_eq!(err, Error::os("vmsplice", Errno::AGAIN));
    let q = Pipe::new().unwrap();
    let mut buf = [0_u8; 8];
    let err = pipe::vmsplice_read(q.read_end(), &mut buf, SpliceFlags::NONBLOCK).unwrap_err();
    assert_eq!(err, Error::os("vmsplice", Errno::AGAIN));
    // Unknown flag bits: EINVAL.
    let err = pipe::vmsplice(
        q.write_end(),
        &[IoSliceRaw::from_slice(&data)],
        SpliceFlags::from_bits_retain(0x100),
    )
    .unwrap_err();
    assert_eq!(err, Error::os("vmsplice", Errno::INVAL));
}

#[test]
fn vmsplice_unchecked_gifts_whole_pages() {
    let page = 4096;
    let layout = std::alloc::Layout::from_size_align(page, page).unwrap();
    // SAFETY: a non-zero-size layout.
    let mem = unsafe { std::alloc::alloc(layout) };
    assert!(!mem.is_null());
    // SAFETY: `mem` is `page` writable bytes we own.
    let pagebuf = unsafe { std::slice::from_raw_parts_mut(mem, page) };
    pagebuf.fill(b'g');
    let p = Pipe::new().unwrap();
    let iov = [IoSliceRaw::from_slice(pagebuf)];
    // SAFETY: the page is page-aligned and a page long, the write end is
    // passed, and the memory is leaked below: never written or freed again.
    let n = unsafe { pipe::vmsplice_unchecked(p.write_end(), &iov, SpliceFlags::GIFT) }.unwrap();
    assert_eq!(n, page);
    let (r, w) = p.into_ends();
    drop(w);
    let got = read_all(r);
    assert_eq!(got.len(), page);
    assert!(got.iter().all(|&b| b == b'g'));
    // Leaked on purpose: the gift contract forbids reuse.
}

// ---- sizing ----

#[test]
fn pipe_size_get_and_set() {
    let p = Pipe::new().unwrap();
    let default = p.size().unwrap();
    assert_eq!(pipe::pipe_size(p.read_end()), Ok(default));
    // Rounded up to a power of two pages.
    assert_eq!(pipe::set_pipe_size(p.write_end(), 5000), Ok(8192));
    assert_eq!(p.size().unwrap(), 8192);
    assert_eq!(p.set_size(64 * 1024).unwrap(), 64 * 1024);
    let q = Pipe::with_size(128 * 1024).unwrap();
    assert_eq!(q.size().unwrap(), 128 * 1024);
}

#[test]
fn pipe_size_errors() {
    let f = tempfile::tempfile().unwrap();
    assert_eq!(pipe::pipe_size(&f), Err(Errno::BADF));
    assert_eq!(pipe::set_pipe_size(&f, 4096), Err(Errno::BADF));
    let p = Pipe::new().unwrap();
    assert_eq!(
        pipe::set_pipe_size(p.write_end(), pipe::MAX_PIPE_SIZE + 1),
        Err(Errno::INVAL)
    );
    assert_eq!(
        pipe::set_pipe_size(p.write_end(), usize::MAX),
        Err(Errno::INVAL)
    );
    assert_eq!(
        pipe::resize(p.write_end(), usize::MAX),
        Err(Error::os("fcntl", Errno::INVAL))
    );
    // Shrinking below what the pipe holds: EBUSY.
    let data = vec![0_u8; 32 * 1024];
    let mut w = File::from(p.write_end().try_clone_to_owned().unwrap());
    w.write_all(&data).unwrap();
    assert_eq!(pipe::set_pipe_size(p.write_end(), 4096), Err(Errno::BUSY));
}

fn pipe_max_size() -> usize {
    std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Runs the rest of a child test as an unprivileged user: root switches to
/// uid/gid 54321 (a user of its own, so its pipe accounting is fresh and
/// shared with no one); anyone else already is unprivileged.
fn become_unprivileged() {
    if util::is_root() {
        // SAFETY: plain syscalls in a child test process running one test.
        unsafe {
            assert_eq!(libc::setgroups(0, std::ptr::null()), 0);
            assert_eq!(libc::setresgid(54321, 54321, 54321), 0);
            assert_eq!(libc::setresuid(54321, 54321, 54321), 0);
        }
    }
}

#[test]
fn resize_past_pipe_max_size_is_a_named_limit_unprivileged() {
    if util::in_child("resize_past_pipe_max_size_is_a_named_limit_unprivileged") {
        return;
    }
    become_unprivileged();
    let max = pipe_max_size();
    let p = Pipe::new().unwrap();
    let want = (max + 1).next_power_of_two();
    assert_eq!(pipe::set_pipe_size(p.write_end(), want), Err(Errno::PERM));
    let err = p.set_size(want).unwrap_err();
    assert_eq!(
        err,
        Error::Limit {
            call: "fcntl",
            limit: Limit::PipeMaxSize
        }
    );
    assert_eq!(err.errno(), Some(Errno::PERM));
    assert!(
        err.to_string().contains("/proc/sys/fs/pipe-max-size"),
        "{err}"
    );
    // Up to the limit is allowed.
    assert_eq!(p.set_size(max).unwrap(), max);
}

/// Whether this process has `CAP_SYS_RESOURCE` in its effective set (root
/// in a container may not).
fn has_cap_sys_resource() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .map(|v| u64::from_str_radix(v.trim(), 16).unwrap())
        .unwrap();
    eff & (1 << 24) != 0
}

#[test]
fn resize_past_pipe_max_size_works_with_cap_sys_resource() {
    if !has_cap_sys_resource() {
        skip!("needs CAP_SYS_RESOURCE");
    }
    let max = pipe_max_size();
    let p = Pipe::new().unwrap();
    let want = (max + 1).next_power_of_two();
    assert_eq!(p.set_size(want).unwrap(), want);
}

#[test]
fn resize_over_the_user_page_limit_is_a_named_limit() {
    if !util::is_root() {
        skip!("needs root to run as a user of its own (the limit is per user)");
    }
    if util::in_child("resize_over_the_user_page_limit_is_a_named_limit") {
        return;
    }
    let soft: usize = std::fs::read_to_string("/proc/sys/fs/pipe-user-pages-soft")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    if soft == 0 {
        skip!("pipe-user-pages-soft is 0 (no limit)");
    }
    become_unprivileged();
    let page = 4096;
    let size = pipe_max_size().min(1 << 20);
    let per_pipe = size / page;
    let mut pipes = Vec::new();
    // Grow pipes until the user's pages pass the soft limit.
    for _ in 0..=(soft / per_pipe + 2) {
        let p = Pipe::new().unwrap();
        match p.set_size(size) {
            Ok(_) => pipes.push(p),
            Err(e) => {
                assert_eq!(
                    e,
                    Error::Limit {
                        call: "fcntl",
                        limit: Limit::PipeUserPages
                    }
                );
                assert!(pipes.len() * per_pipe >= soft - 16 * (pipes.len() + 1));
                return;
            }
        }
    }
    panic!("{} pipes of {size} bytes and no EPERM", pipes.len());
}

// ---- Pipe ----

#[test]
fn pipe_ends_and_no_leak() {
    if util::in_child("pipe_ends_and_no_leak") {
        return;
    }
    let _serial = util::serial();
    let before = util::count_fds();
    {
        let p = Pipe::new().unwrap();
        assert_eq!(util::count_fds(), before + 2);
        rustix::io::write(p.write_end(), b"abc").unwrap();
        assert_eq!(p.len().unwrap(), 3);
        assert!(!p.is_empty().unwrap());
        let ends = p.into_ends();
        let p = Pipe::from(ends);
        let r = p.into_read_end();
        assert_eq!(util::count_fds(), before + 1);
        assert_eq!(read_all(r), b"abc");
    }
    assert_eq!(util::count_fds(), before);
    // Close-on-exec by default.
    let p = Pipe::new().unwrap();
    let fl = rustix::io::fcntl_getfd(p.read_end()).unwrap();
    assert!(fl.contains(rustix::io::FdFlags::CLOEXEC));
}

// ---- copy ----

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

#[test]
fn copy_file_to_file() {
    // Two regular files: copy_file_range.
    let data = pattern(300_000);
    let a = file_with(&data);
    let mut b = tempfile::tempfile().unwrap();
    assert_eq!(pipe::copy(&a, &b).unwrap(), data.len() as u64);
    b.rewind().unwrap();
    let mut got = Vec::new();
    b.read_to_end(&mut got).unwrap();
    assert_eq!(got, data);
}

#[test]
fn copy_through_the_internal_pipe_closes_it() {
    // Counting descriptors needs a process of its own: other tests open
    // and close theirs meanwhile.
    if util::in_child("copy_through_the_internal_pipe_closes_it") {
        return;
    }
    // A file into a socket: neither is a pipe, so a pipe is made for the
    // call, and closed after it.
    let data = pattern(300_000);
    let a = file_with(&data);
    let (b, mut c) = UnixStream::pair().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        c.read_to_end(&mut v).unwrap();
        v
    });
    let _serial = util::serial();
    let before = util::count_fds();
    assert_eq!(pipe::copy(&a, &b).unwrap(), data.len() as u64);
    assert_eq!(util::count_fds(), before, "the internal pipe is closed");
    drop(b);
    assert_eq!(reader.join().unwrap(), data);
}

#[test]
fn copy_file_to_pipe_and_pipe_to_file() {
    let data = pattern(200_000);
    let a = file_with(&data);
    let p = Pipe::new().unwrap();
    let (r, w) = p.into_ends();
    let reader = std::thread::spawn(move || read_all(r));
    assert_eq!(pipe::copy(&a, &w).unwrap(), data.len() as u64);
    drop(w);
    assert_eq!(reader.join().unwrap(), data);

    let (r, w) = Pipe::new().unwrap().into_ends();
    let d2 = data.clone();
    let writer = std::thread::spawn(move || File::from(w).write_all(&d2).unwrap());
    let mut out = tempfile::tempfile().unwrap();
    assert_eq!(pipe::copy(&r, &out).unwrap(), data.len() as u64);
    writer.join().unwrap();
    out.rewind().unwrap();
    let mut got = Vec::new();
    out.read_to_end(&mut got).unwrap();
    assert_eq!(got, data);
}

#[test]
fn copy_with_a_limit_and_a_caller_pipe() {
    let data = pattern(100_000);
    let a = file_with(&data);
    let mut b = tempfile::tempfile().unwrap();
    let p = Pipe::with_size(1 << 20).unwrap();
    assert_eq!(
        Copier::new().pipe(&p).limit(70_000).copy(&a, &b).unwrap(),
        70_000
    );
    assert!(p.is_empty().unwrap());
    assert_eq!(Copier::new().pipe(&p).copy(&a, &b).unwrap(), 30_000);
    assert_eq!(Copier::new().pipe(&p).copy(&a, &b).unwrap(), 0);
    b.rewind().unwrap();
    let mut got = Vec::new();
    b.read_to_end(&mut got).unwrap();
    assert_eq!(got, data);
}

#[test]
fn copy_falls_back_for_an_append_output() {
    let dir = util::tempdir();
    let path = dir.path().join("log");
    std::fs::write(&path, b"head:").unwrap();
    let out = OpenOptions::new().append(true).open(&path).unwrap();
    let data = pattern(50_000);
    // File to append file (through the internal pipe), and pipe to append
    // file (direct): both refused by splice, both completed.
    let a = file_with(&data);
    assert_eq!(pipe::copy(&a, &out).unwrap(), data.len() as u64);
    let (r, w) = Pipe::new().unwrap().into_ends();
    let d2 = data.clone();
    let writer = std::thread::spawn(move || File::from(w).write_all(&d2).unwrap());
    let mut buf = [0_u8; 1000];
    assert_eq!(
        Copier::new().buffer(&mut buf).copy(&r, &out).unwrap(),
        data.len() as u64
    );
    writer.join().unwrap();
    let got = std::fs::read(&path).unwrap();
    assert_eq!(&got[..5], b"head:");
    assert_eq!(&got[5..5 + data.len()], &data[..]);
    assert_eq!(&got[5 + data.len()..], &data[..]);
}

#[test]
fn copy_waits_on_nonblocking_ends() {
    // Input: a non-blocking pipe fed slowly. Output: a non-blocking pipe
    // drained slowly. Every byte arrives, in order.
    let data = pattern(400_000);
    let (ir, iw) = Pipe::with_flags(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)
        .unwrap()
        .into_ends();
    let (or, ow) = Pipe::with_flags(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)
        .unwrap()
        .into_ends();
    let d2 = data.clone();
    let writer = std::thread::spawn(move || {
        rustix::fs::fcntl_setfl(&iw, rustix::fs::OFlags::empty()).unwrap();
        let mut w = File::from(iw);
        for c in d2.chunks(50_000) {
            std::thread::sleep(Duration::from_millis(5));
            w.write_all(c).unwrap();
        }
    });
    let reader = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        rustix::fs::fcntl_setfl(&or, rustix::fs::OFlags::empty()).unwrap();
        read_all(or)
    });
    assert_eq!(pipe::copy(&ir, &ow).unwrap(), data.len() as u64);
    drop(ow);
    writer.join().unwrap();
    assert_eq!(reader.join().unwrap(), data);
}

#[test]
fn copy_between_sockets() {
    let data = pattern(150_000);
    let (mut a, b) = UnixStream::pair().unwrap();
    let (c, d) = UnixStream::pair().unwrap();
    let d2 = data.clone();
    let writer = std::thread::spawn(move || {
        a.write_all(&d2).unwrap();
    });
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let mut d = d;
        d.read_to_end(&mut v).unwrap();
        v
    });
    assert_eq!(pipe::copy(&b, &c).unwrap(), data.len() as u64);
    writer.join().unwrap();
    drop(c);
    assert_eq!(reader.join().unwrap(), data);
}

#[test]
fn copy_from_a_large_sparse_file_offset() {
    // Past 4 GiB: the file position is a 64-bit quantity all the way.
    let mut f = tempfile::tempfile().unwrap();
    f.write_all_at(b"tail", FIVE_GIB).unwrap();
    f.seek(SeekFrom::Start(FIVE_GIB - 4)).unwrap();
    let mut out = tempfile::tempfile().unwrap();
    assert_eq!(pipe::copy(&f, &out).unwrap(), 8);
    out.rewind().unwrap();
    let mut got = Vec::new();
    out.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"\0\0\0\0tail");
}

#[test]
fn copy_errors_name_the_call() {
    let dir = util::tempdir();
    let d = File::open(dir.path()).unwrap();
    let out = tempfile::tempfile().unwrap();
    // A directory: splice refuses it, read says EISDIR.
    assert_eq!(pipe::copy(&d, &out), Err(Error::os("read", Errno::ISDIR)));
    // Not open for reading.
    let wo = OpenOptions::new()
        .write(true)
        .open(dir.path().join("x").as_path())
        .or_else(|_| {
            OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(true)
                .open(dir.path().join("x"))
        });
    let wo = wo.unwrap();
    assert_eq!(pipe::copy(&wo, &out), Err(Error::os("splice", Errno::BADF)));
    // Output pipe with no reader: EPIPE (SIGPIPE is ignored by Rust's runtime).
    let (r, w) = Pipe::new().unwrap().into_ends();
    drop(r);
    let a = file_with(b"x");
    assert_eq!(pipe::copy(&a, &w), Err(Error::os("splice", Errno::PIPE)));
}

#[test]
fn copy_allocates_nothing() {
    let data = pattern(100_000);
    let a = file_with(&data);
    let b = tempfile::tempfile().unwrap();
    let dir = util::tempdir();
    let app = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.path().join("a"))
        .unwrap();
    let (res, allocs) = util::count_allocs(|| {
        let n1 = pipe::copy(&a, &b).unwrap();
        rustix::fs::seek(&a, rustix::fs::SeekFrom::Start(0)).unwrap();
        let n2 = pipe::copy(&a, &app).unwrap();
        (n1, n2)
    });
    assert_eq!(res, (100_000, 100_000));
    assert_eq!(allocs, 0);
}

#[test]
fn unknown_flag_bits_are_einval() {
    let f = file_with(b"abc");
    let p = Pipe::new().unwrap();
    let q = Pipe::new().unwrap();
    let bad = SpliceFlags::from_bits_retain(0x100);
    assert!(
        bad.contains(SpliceFlags::from_bits_retain(0x100)),
        "unknown bits are kept"
    );
    assert_eq!(
        pipe::splice(&f, None, p.write_end(), None, 3, bad),
        Err(Errno::INVAL)
    );
    rustix::io::write(p.write_end(), b"x").unwrap();
    assert_eq!(
        pipe::tee(p.read_end(), q.write_end(), 1, bad),
        Err(Errno::INVAL)
    );
}
