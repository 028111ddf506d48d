//! inotify against the real kernel: every watch flag and event type, every
//! error a test can provoke, overflow, non-blocking and timed reads.

#[macro_use]
mod util;

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::{Duration, Instant};

use kernfd::Errno;
use kernfd::inotify::{
    self, Event, EventError, EventFlags, InitFlags, Inotify, MIN_BUFFER_LEN, WatchFlags,
};
use kernfd::wait::{Wait, Waker};
use kernfd::{Error, Limit};
use rustix::fd::{AsFd, AsRawFd, OwnedFd};

/// A plain record of one event, so tests can compare lists.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ev {
    wd: i32,
    mask: EventFlags,
    cookie: u32,
    name: Vec<u8>,
}

impl From<Event<'_>> for Ev {
    fn from(e: Event<'_>) -> Self {
        Ev {
            wd: e.wd(),
            mask: e.mask(),
            cookie: e.cookie(),
            name: e.name_bytes().to_vec(),
        }
    }
}

fn ev(wd: i32, mask: EventFlags, name: &str) -> Ev {
    Ev {
        wd,
        mask,
        cookie: 0,
        name: name.as_bytes().to_vec(),
    }
}

/// Everything queued now, without blocking.
fn drain(inotify: &Inotify) -> Vec<Ev> {
    let mut out = Vec::new();
    let mut buf = [0_u8; 4096];
    inotify
        .drain(&mut buf, |e| {
            out.push(e.expect("well-formed kernel record").into());
        })
        .unwrap();
    out
}

/// Close-on-exec, and the instance's mode. The descriptor itself is always
/// `O_NONBLOCK` in the kernel (so a bounded wait can never block in read).
fn fd_flags(i: &Inotify) -> (bool, bool) {
    let cloexec = rustix::io::fcntl_getfd(i)
        .unwrap()
        .contains(rustix::io::FdFlags::CLOEXEC);
    util::assert_kernel_nonblocking(i);
    (cloexec, i.is_nonblocking())
}

#[test]
fn new_is_cloexec_and_blocking_by_default() {
    let i = Inotify::new().unwrap();
    assert_eq!(fd_flags(&i), (true, false));
    let i = Inotify::with_flags(InitFlags::empty()).unwrap();
    assert_eq!(fd_flags(&i), (false, false));
    let i = Inotify::with_flags(InitFlags::NONBLOCK | InitFlags::CLOEXEC).unwrap();
    assert_eq!(fd_flags(&i), (true, true));
    i.set_nonblocking(false).unwrap();
    assert_eq!(fd_flags(&i), (true, false));
    i.set_nonblocking(true).unwrap();
    assert_eq!(fd_flags(&i), (true, true));
}

#[test]
fn init_rejects_unknown_flags() {
    assert_eq!(
        Inotify::with_flags(InitFlags::from_bits_retain(0x1))
            .unwrap_err()
            .errno(),
        Some(Errno::INVAL)
    );
    assert_eq!(
        inotify::init(InitFlags::from_bits_retain(0x4)).unwrap_err(),
        Errno::INVAL
    );
}

#[test]
fn owned_fd_round_trip() {
    let dir = util::tempdir();
    let i = Inotify::new().unwrap();
    let raw = i.as_raw_fd();
    let fd: OwnedFd = i.into();
    assert_eq!(fd.as_raw_fd(), raw);
    let i = Inotify::from(fd);
    let wd = i.add_watch(dir.path(), WatchFlags::CREATE).unwrap();
    fs::write(dir.path().join("x"), "").unwrap();
    assert_eq!(drain(&i), [ev(wd, EventFlags::CREATE, "x")]);
    // The syscall layer works on any borrowed descriptor.
    assert_eq!(
        inotify::add_watch(&i, dir.path(), WatchFlags::CREATE).unwrap(),
        wd
    );
    inotify::rm_watch(i.as_fd(), wd).unwrap();
}

#[test]
fn every_event_type_on_a_directory_and_a_file() {
    let dir = util::tempdir();
    let d = dir.path();
    fs::write(d.join("f"), b"x").unwrap();
    fs::create_dir(d.join("sub")).unwrap();
    let i = Inotify::new().unwrap();
    let wd = i.add_watch(d, WatchFlags::ALL_EVENTS).unwrap();
    let fwd = i.add_watch(d.join("f"), WatchFlags::ALL_EVENTS).unwrap();
    assert_ne!(wd, fwd);

    // OPEN, ACCESS, CLOSE_NOWRITE: reported for the child and on the file.
    let _ = fs::read(d.join("f")).unwrap();
    let want = |m: EventFlags| [ev(wd, m, "f"), ev(fwd, m, "")];
    let got = drain(&i);
    let mut expect = Vec::new();
    for m in [
        EventFlags::OPEN,
        EventFlags::ACCESS,
        EventFlags::CLOSE_NOWRITE,
    ] {
        expect.extend(want(m));
    }
    assert_eq!(got, expect);

    // OPEN, MODIFY (truncation), MODIFY (the write), CLOSE_WRITE. The two
    // MODIFYs are not merged: each is followed by the other watch's copy.
    fs::write(d.join("f"), b"more").unwrap();
    let got = drain(&i);
    let mut expect = Vec::new();
    for m in [
        EventFlags::OPEN,
        EventFlags::MODIFY,
        EventFlags::MODIFY,
        EventFlags::CLOSE_WRITE,
    ] {
        expect.extend(want(m));
    }
    assert_eq!(got, expect);

    // ATTRIB.
    let f = fs::File::open(d.join("f")).unwrap();
    drain(&i);
    f.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .unwrap();
    assert_eq!(drain(&i), want(EventFlags::ATTRIB));
    drop(f);
    drain(&i);

    // CREATE and DELETE with ISDIR for a directory.
    fs::create_dir(d.join("newdir")).unwrap();
    fs::remove_dir(d.join("newdir")).unwrap();
    let isdir = EventFlags::ISDIR;
    assert_eq!(
        drain(&i),
        [
            ev(wd, EventFlags::CREATE | isdir, "newdir"),
            ev(wd, EventFlags::DELETE | isdir, "newdir")
        ]
    );

    // MOVED_FROM / MOVED_TO share a non-zero cookie; MOVE_SELF on the file.
    fs::rename(d.join("f"), d.join("g")).unwrap();
    let got = drain(&i);
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(
        (got[0].mask, got[0].name.as_slice()),
        (EventFlags::MOVED_FROM, &b"f"[..])
    );
    assert_eq!(
        (got[1].mask, got[1].name.as_slice()),
        (EventFlags::MOVED_TO, &b"g"[..])
    );
    assert_ne!(got[0].cookie, 0);
    assert_eq!(got[0].cookie, got[1].cookie);
    assert_eq!(got[2], ev(fwd, EventFlags::MOVE_SELF, ""));

    // Unlinking the last link: ATTRIB (link count), DELETE_SELF and IGNORED
    // on the file's watch as the inode goes, then DELETE in the directory.
    fs::remove_file(d.join("g")).unwrap();
    assert_eq!(
        drain(&i),
        [
            ev(fwd, EventFlags::ATTRIB, ""),
            ev(fwd, EventFlags::DELETE_SELF, ""),
            ev(fwd, EventFlags::IGNORED, ""),
            ev(wd, EventFlags::DELETE, "g"),
        ]
    );

    // Removing the watch queues IGNORED; later changes are not reported.
    i.rm_watch(wd).unwrap();
    fs::write(d.join("later"), b"").unwrap();
    assert_eq!(drain(&i), [ev(wd, EventFlags::IGNORED, "")]);
}

#[test]
fn onlydir_accepts_directories_and_refuses_files() {
    let dir = util::tempdir();
    fs::write(dir.path().join("file"), b"").unwrap();
    let i = Inotify::new().unwrap();
    i.add_watch(dir.path(), WatchFlags::CREATE | WatchFlags::ONLYDIR)
        .unwrap();
    assert_eq!(
        i.add_watch(
            dir.path().join("file"),
            WatchFlags::CREATE | WatchFlags::ONLYDIR
        )
        .map_err(|e| e.errno()),
        Err(Some(Errno::NOTDIR))
    );
}

#[test]
fn dont_follow_watches_the_link_itself() {
    let dir = util::tempdir();
    let target = dir.path().join("target");
    let link = dir.path().join("link");
    fs::write(&target, b"").unwrap();
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let i = Inotify::new().unwrap();
    let t = i.add_watch(&target, WatchFlags::ATTRIB).unwrap();
    assert_eq!(
        i.add_watch(&link, WatchFlags::ATTRIB).unwrap(),
        t,
        "followed: same inode"
    );
    let l = i
        .add_watch(&link, WatchFlags::ATTRIB | WatchFlags::DONT_FOLLOW)
        .unwrap();
    assert_ne!(l, t, "not followed: the link's own inode");
    // A dangling link can only be watched without following it.
    let dangling = dir.path().join("dangling");
    std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
    assert_eq!(
        i.add_watch(&dangling, WatchFlags::ATTRIB)
            .map_err(|e| e.errno()),
        Err(Some(Errno::NOENT))
    );
    i.add_watch(&dangling, WatchFlags::ATTRIB | WatchFlags::DONT_FOLLOW)
        .unwrap();
}

#[test]
fn excl_unlink_stops_events_for_unlinked_children() {
    use std::io::Write;
    let dir = util::tempdir();
    for (flags, want_modify) in [
        (WatchFlags::empty(), true),
        (WatchFlags::EXCL_UNLINK, false),
    ] {
        let path = dir.path().join("f");
        let mut f = fs::File::create(&path).unwrap();
        let i = Inotify::new().unwrap();
        let wd = i
            .add_watch(dir.path(), WatchFlags::MODIFY | WatchFlags::DELETE | flags)
            .unwrap();
        fs::remove_file(&path).unwrap();
        f.write_all(b"after unlink").unwrap();
        let mut want = vec![ev(wd, EventFlags::DELETE, "f")];
        if want_modify {
            want.push(ev(wd, EventFlags::MODIFY, "f"));
        }
        assert_eq!(drain(&i), want, "flags {flags}");
    }
}

#[test]
fn mask_add_mask_create_and_replacement() {
    let dir = util::tempdir();
    let d = dir.path();
    let i = Inotify::new().unwrap();
    let wd = i.add_watch(d, WatchFlags::CREATE).unwrap();
    // Re-adding replaces the mask: now only DELETE.
    assert_eq!(i.add_watch(d, WatchFlags::DELETE).unwrap(), wd);
    fs::write(d.join("a"), b"").unwrap();
    fs::remove_file(d.join("a")).unwrap();
    assert_eq!(drain(&i), [ev(wd, EventFlags::DELETE, "a")]);
    // MASK_ADD ORs CREATE back in.
    assert_eq!(
        i.add_watch(d, WatchFlags::CREATE | WatchFlags::MASK_ADD)
            .unwrap(),
        wd
    );
    fs::write(d.join("b"), b"").unwrap();
    fs::remove_file(d.join("b")).unwrap();
    assert_eq!(
        drain(&i),
        [
            ev(wd, EventFlags::CREATE, "b"),
            ev(wd, EventFlags::DELETE, "b")
        ]
    );
    // MASK_CREATE refuses an object that is already watched.
    assert_eq!(
        i.add_watch(d, WatchFlags::CREATE | WatchFlags::MASK_CREATE)
            .map_err(|e| e.errno()),
        Err(Some(Errno::EXIST))
    );
    let other = util::tempdir();
    i.add_watch(other.path(), WatchFlags::CREATE | WatchFlags::MASK_CREATE)
        .unwrap();
    // The two together are contradictory.
    assert_eq!(
        i.add_watch(
            d,
            WatchFlags::CREATE | WatchFlags::MASK_CREATE | WatchFlags::MASK_ADD
        )
        .map_err(|e| e.errno()),
        Err(Some(Errno::INVAL))
    );
}

#[test]
fn oneshot_reports_once_then_ignored() {
    let dir = util::tempdir();
    let i = Inotify::new().unwrap();
    let wd = i
        .add_watch(dir.path(), WatchFlags::CREATE | WatchFlags::ONESHOT)
        .unwrap();
    fs::write(dir.path().join("1"), b"").unwrap();
    fs::write(dir.path().join("2"), b"").unwrap();
    assert_eq!(
        drain(&i),
        [
            ev(wd, EventFlags::CREATE, "1"),
            ev(wd, EventFlags::IGNORED, "")
        ]
    );
    assert_eq!(
        i.rm_watch(wd).map_err(|e| e.errno()),
        Err(Some(Errno::INVAL)),
        "the watch is gone"
    );
}

#[test]
fn add_watch_errors() {
    let dir = util::tempdir();
    let i = Inotify::new().unwrap();
    assert_eq!(
        i.add_watch(dir.path().join("missing"), WatchFlags::CREATE)
            .map_err(|e| e.errno()),
        Err(Some(Errno::NOENT))
    );
    assert_eq!(
        i.add_watch(dir.path().join("missing/below"), WatchFlags::CREATE)
            .map_err(|e| e.errno()),
        Err(Some(Errno::NOENT))
    );
    fs::write(dir.path().join("file"), b"").unwrap();
    assert_eq!(
        i.add_watch(dir.path().join("file/below"), WatchFlags::CREATE)
            .map_err(|e| e.errno()),
        Err(Some(Errno::NOTDIR))
    );
    // No bit at all, or a bit the kernel does not know.
    assert_eq!(
        i.add_watch(dir.path(), WatchFlags::empty())
            .map_err(|e| e.errno()),
        Err(Some(Errno::INVAL))
    );
    let unknown = WatchFlags::CREATE | WatchFlags::from_bits_retain(0x0800_0000);
    assert_eq!(
        i.add_watch(dir.path(), unknown).map_err(|e| e.errno()),
        Err(Some(Errno::INVAL))
    );
    // A name longer than NAME_MAX.
    let long = dir.path().join("n".repeat(300));
    assert_eq!(
        i.add_watch(&long, WatchFlags::CREATE)
            .map_err(|e| e.errno()),
        Err(Some(Errno::NAMETOOLONG))
    );
    // A path with an interior NUL never reaches the kernel.
    assert_eq!(
        i.add_watch(OsStr::from_bytes(b"a\0b"), WatchFlags::CREATE)
            .map_err(|e| e.errno()),
        Err(Some(Errno::INVAL))
    );
    // Not an inotify descriptor.
    let file = fs::File::open(dir.path()).unwrap();
    assert_eq!(
        inotify::add_watch(&file, dir.path(), WatchFlags::CREATE),
        Err(Errno::INVAL)
    );
    assert_eq!(inotify::rm_watch(&file, 1), Err(Errno::INVAL));
    // An O_PATH descriptor is no descriptor at all to these calls.
    let opath = rustix::fs::open(
        dir.path(),
        rustix::fs::OFlags::PATH,
        rustix::fs::Mode::empty(),
    )
    .unwrap();
    assert_eq!(
        inotify::add_watch(&opath, dir.path(), WatchFlags::CREATE),
        Err(Errno::BADF)
    );
    assert_eq!(inotify::rm_watch(&opath, 1), Err(Errno::BADF));
    let mut buf = [0_u8; 4096];
    assert_eq!(
        inotify::read(&opath, &mut buf).map(|_| ()),
        Err(Errno::BADF)
    );
}

#[test]
fn add_watch_eacces_without_search_permission() {
    let root = util::is_root();
    // Root reads everything: its child drops to nobody (changing its own
    // credentials only). Anyone else lacks permission as they are.
    if root && util::in_child("add_watch_eacces_without_search_permission") {
        return;
    }
    let dir = util::tempdir();
    let locked = dir.path().join("locked");
    fs::create_dir(&locked).unwrap();
    let mode = |p: &Path, m: u32| {
        fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(m)).unwrap();
    };
    mode(dir.path(), 0o755);
    mode(&locked, if root { 0o700 } else { 0o000 });
    if root {
        let nobody = rustix::process::Uid::from_raw(65534);
        rustix::thread::set_thread_uid(nobody).unwrap();
    }
    let i = Inotify::new().unwrap();
    let results = [
        i.add_watch(&locked, WatchFlags::CREATE)
            .map_err(|e| e.errno()),
        i.add_watch(locked.join("x"), WatchFlags::CREATE)
            .map_err(|e| e.errno()),
    ];
    if !root {
        // Let the temp dir go.
        mode(&locked, 0o700);
    }
    assert_eq!(
        results,
        [Err(Some(Errno::ACCESS)), Err(Some(Errno::ACCESS))]
    );
}

#[test]
fn rm_watch_unknown_wd_is_einval() {
    let i = Inotify::new().unwrap();
    assert_eq!(
        i.rm_watch(12345).map_err(|e| e.errno()),
        Err(Some(Errno::INVAL))
    );
    assert_eq!(
        i.rm_watch(-1).map_err(|e| e.errno()),
        Err(Some(Errno::INVAL))
    );
}

#[test]
fn short_buffers_are_refused_up_front_and_the_kernel_agrees() {
    let dir = util::tempdir();
    let i = Inotify::with_flags(InitFlags::CLOEXEC | InitFlags::NONBLOCK).unwrap();
    i.add_watch(dir.path(), WatchFlags::CREATE).unwrap();
    fs::write(dir.path().join("a-name-that-needs-32-bytes"), b"").unwrap();
    let mut small = [0_u8; MIN_BUFFER_LEN - 1];
    let err = i.read(&mut small).unwrap_err();
    assert_eq!(
        err,
        Error::BufferTooSmall {
            len: MIN_BUFFER_LEN - 1,
            needed: 272
        }
    );
    assert_eq!(err.errno(), Some(Errno::INVAL));
    assert!(err.to_string().contains("272"), "{err}");
    assert_eq!(
        i.drain(&mut small, |_| ()).unwrap_err(),
        Error::BufferTooSmall {
            len: 271,
            needed: 272
        }
    );
    assert!(matches!(
        i.read_wait(&mut small, Wait::new()),
        Err(Error::BufferTooSmall { .. })
    ));
    // The bare syscall shows why: the kernel refuses with EINVAL, and the
    // event stays queued.
    let mut tiny = [0_u8; 32];
    assert_eq!(inotify::read(&i, &mut tiny).map(|_| ()), Err(Errno::INVAL));
    assert_eq!(i.queued_bytes().unwrap(), 16 + 32);
    let mut buf = [0_u8; MIN_BUFFER_LEN];
    let e = i.read(&mut buf).unwrap().next().unwrap().unwrap();
    assert_eq!(e.name_bytes(), b"a-name-that-needs-32-bytes");
}

#[test]
fn uninit_and_misaligned_buffers() {
    use std::mem::MaybeUninit;
    let dir = util::tempdir();
    let i = Inotify::new().unwrap();
    let wd = i.add_watch(dir.path(), WatchFlags::CREATE).unwrap();
    fs::write(dir.path().join("one"), b"").unwrap();
    let mut raw = [MaybeUninit::<u8>::uninit(); 4097];
    let events: Vec<Ev> = i
        .read(&mut raw[1..])
        .unwrap()
        .map(|e| e.unwrap().into())
        .collect();
    assert_eq!(events, [ev(wd, EventFlags::CREATE, "one")]);
    fs::write(dir.path().join("two"), b"").unwrap();
    let mut bytes = vec![0_u8; 4099];
    let events: Vec<Ev> = i
        .read(&mut bytes[3..])
        .unwrap()
        .map(|e| e.unwrap().into())
        .collect();
    assert_eq!(events, [ev(wd, EventFlags::CREATE, "two")]);
}

#[test]
fn names_are_bytes_up_to_name_max() {
    let dir = util::tempdir();
    let i = Inotify::new().unwrap();
    let wd = i.add_watch(dir.path(), WatchFlags::CREATE).unwrap();
    let odd = OsStr::from_bytes(b"caf\xe9 \xff\xfe\x01tab\there");
    let long = "L".repeat(255);
    fs::write(dir.path().join(odd), b"").unwrap();
    fs::write(dir.path().join(&long), b"").unwrap();
    let mut buf = [0_u8; MIN_BUFFER_LEN];
    let first = i.read(&mut buf).unwrap().next().unwrap().unwrap();
    assert_eq!(first.name_os(), odd);
    assert_eq!(first.path(), Path::new(odd));
    assert_eq!(first.name().unwrap().to_bytes(), odd.as_bytes());
    // The longest name fills a minimal buffer exactly.
    let mut events = i.read(&mut buf).unwrap();
    let second = events.next().unwrap().unwrap();
    assert_eq!((second.wd(), second.name_bytes()), (wd, long.as_bytes()));
    assert_eq!(second.record_len(), MIN_BUFFER_LEN);
    assert!(events.next().is_none());
}

#[test]
fn nonblocking_read_says_eagain() {
    let i = Inotify::with_flags(InitFlags::NONBLOCK).unwrap();
    let mut buf = [0_u8; 4096];
    assert_eq!(
        i.read(&mut buf).map(|_| ()).map_err(|e| e.errno()),
        Err(Some(Errno::AGAIN))
    );
    assert_eq!(i.queued_bytes().unwrap(), 0);
    assert_eq!(
        i.drain(&mut buf, |_| -> std::ops::ControlFlow<()> {
            panic!("nothing queued")
        })
        .unwrap(),
        0
    );
}

#[test]
fn read_wait_times_out_with_no_events() {
    let i = Inotify::new().unwrap();
    let mut buf = [0_u8; 4096];
    let t = Instant::now();
    let events = i
        .read_wait(&mut buf, Wait::new().timeout(Duration::from_millis(50)))
        .unwrap();
    assert!(events.is_empty());
    assert!(
        t.elapsed() >= Duration::from_millis(50),
        "waited {:?}",
        t.elapsed()
    );
    let events = i
        .read_wait(&mut buf, Wait::new().timeout(Duration::ZERO))
        .unwrap();
    assert_eq!(events.count(), 0);
}

#[test]
fn read_wait_returns_events_and_read_delay_gathers_a_burst() {
    let dir = util::tempdir();
    let i = Inotify::new().unwrap();
    let wd = i.add_watch(dir.path(), WatchFlags::CREATE).unwrap();
    let mut buf = [0_u8; 4096];
    fs::write(dir.path().join("ready"), b"").unwrap();
    let got: Vec<Ev> = i
        .read_wait(&mut buf, Wait::new().timeout(Duration::from_secs(5)))
        .unwrap()
        .map(|e| e.unwrap().into())
        .collect();
    assert_eq!(got, [ev(wd, EventFlags::CREATE, "ready")]);

    // A writer makes one file now and one 30 ms later; with a 300 ms read
    // delay a single read sees both.
    let d = dir.path().to_owned();
    let writer = std::thread::spawn(move || {
        fs::write(d.join("first"), b"").unwrap();
        std::thread::sleep(Duration::from_millis(30));
        fs::write(d.join("second"), b"").unwrap();
    });
    let wait = Wait::new()
        .timeout(Duration::from_secs(5))
        .read_delay(Duration::from_millis(300));
    let names: Vec<Vec<u8>> = i
        .read_wait(&mut buf, wait)
        .unwrap()
        .map(|e| e.unwrap().name_bytes().to_vec())
        .collect();
    writer.join().unwrap();
    assert_eq!(names, [b"first".to_vec(), b"second".to_vec()]);
}

#[test]
fn a_waker_ends_a_blocked_read_from_another_thread() {
    let dir = util::tempdir();
    let i = Inotify::new().unwrap();
    i.add_watch(dir.path(), WatchFlags::CREATE).unwrap();
    let waker = Waker::new().unwrap();
    let mut buf = [0_u8; 4096];
    let t = Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(50));
            waker.wake().unwrap();
        });
        let events = i.read_wait(&mut buf, Wait::new().waker(&waker)).unwrap();
        assert!(events.is_empty());
        assert!(t.elapsed() >= Duration::from_millis(50));
    });
    // Woken stays woken for every waiter until reset.
    assert!(waker.is_woken().unwrap());
    assert!(
        i.read_wait(&mut buf, Wait::new().waker(&waker))
            .unwrap()
            .is_empty()
    );
    assert!(waker.reset().unwrap());
    assert!(!waker.reset().unwrap());
    // After a reset, events come through again.
    fs::write(dir.path().join("after"), b"").unwrap();
    let n = i
        .read_wait(&mut buf, Wait::new().waker(&waker))
        .unwrap()
        .count();
    assert_eq!(n, 1);
}

#[test]
fn drain_reads_past_one_buffer_on_blocking_and_nonblocking_fds() {
    let dir = util::tempdir();
    for flags in [InitFlags::CLOEXEC, InitFlags::CLOEXEC | InitFlags::NONBLOCK] {
        let i = Inotify::with_flags(flags).unwrap();
        let wd = i
            .add_watch(dir.path(), WatchFlags::CREATE | WatchFlags::DELETE)
            .unwrap();
        for n in 0..200 {
            fs::write(dir.path().join(format!("file-{n:04}")), b"").unwrap();
        }
        let queued = i.queued_bytes().unwrap();
        assert_eq!(queued, 200 * (16 + 16), "FIONREAD counts whole records");
        let mut seen = Vec::new();
        let mut buf = [0_u8; MIN_BUFFER_LEN];
        let n = i
            .drain(&mut buf, |e| seen.push(Ev::from(e.unwrap())))
            .unwrap();
        assert_eq!(n, 200);
        for (k, e) in seen.iter().enumerate() {
            assert_eq!(*e, ev(wd, EventFlags::CREATE, &format!("file-{k:04}")));
        }
        assert_eq!(i.queued_bytes().unwrap(), 0);
        for n in 0..200 {
            fs::remove_file(dir.path().join(format!("file-{n:04}"))).unwrap();
        }
        drain(&i);
    }
}

#[test]
fn queue_overflow_is_reported_and_unmissable() {
    const QUEUE_LIMIT: &str = "/proc/sys/fs/inotify/max_queued_events";
    // The instance copies the limit when it is made: read it then, so a
    // program changing it meanwhile cannot change what this test expects.
    let (i, max) = util::with_limit(QUEUE_LIMIT, || Inotify::new().unwrap());
    if max > 1_000_000 {
        skip!("{QUEUE_LIMIT} is {max}: too many events to overflow in a test");
    }
    let dir = util::tempdir();
    let path = dir.path().join("f");
    fs::write(&path, b"").unwrap();
    let wd = i
        .add_watch(&path, WatchFlags::OPEN | WatchFlags::CLOSE_NOWRITE)
        .unwrap();
    // Each open/close pair queues two distinct events (no coalescing).
    let cpath = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    for _ in 0..max / 2 + 10 {
        drop(
            rustix::fs::open(
                cpath.as_c_str(),
                rustix::fs::OFlags::RDONLY,
                rustix::fs::Mode::empty(),
            )
            .unwrap(),
        );
    }
    let mut ok = 0;
    let mut overflows = 0;
    let mut buf = vec![0_u8; 65536];
    i.drain(&mut buf, |e| match e {
        Ok(e) => {
            assert_eq!(e.wd(), wd);
            ok += 1;
        }
        Err(EventError::QueueOverflow) => overflows += 1,
        Err(e) => panic!("{e}"),
    })
    .unwrap();
    assert_eq!(
        overflows, 1,
        "exactly one overflow record ({QUEUE_LIMIT} was {max})"
    );
    assert_eq!(ok, max, "the queue held {QUEUE_LIMIT} = {max} events");
}

#[test]
fn unmount_event_in_a_private_mount_namespace() {
    if util::in_mount_ns() {
        return;
    }
    let dir = util::tmpfs();
    let mnt = dir.path();
    fs::write(mnt.join("inside"), b"").unwrap();
    let i = Inotify::new().unwrap();
    let wd = i
        .add_watch(mnt.join("inside"), WatchFlags::ALL_EVENTS)
        .unwrap();
    rustix::mount::unmount(mnt, rustix::mount::UnmountFlags::empty()).unwrap();
    assert_eq!(
        drain(&i),
        [
            ev(wd, EventFlags::UNMOUNT, ""),
            ev(wd, EventFlags::IGNORED, "")
        ]
    );
}

#[test]
fn watch_limit_is_explained() {
    if util::in_child_ns(
        "watch_limit_is_explained",
        rustix::thread::UnshareFlags::NEWUSER,
    ) {
        return;
    }
    // In our own user namespace, its watch limit is ours to lower.
    if fs::write("/proc/sys/user/max_inotify_watches", "2").is_err() {
        skip!("cannot set the user namespace's inotify watch limit");
    }
    let dirs: Vec<_> = (0..3).map(|_| util::tempdir()).collect();
    let i = util::within_inotify_limits(Inotify::new());
    for d in &dirs[..2] {
        util::within_inotify_limits(i.add_watch(d.path(), WatchFlags::CREATE));
    }
    let err = i.add_watch(dirs[2].path(), WatchFlags::CREATE).unwrap_err();
    assert_eq!(
        err,
        Error::Limit {
            call: "inotify_add_watch",
            limit: Limit::InotifyWatches
        }
    );
    assert_eq!(err.errno(), Some(Errno::NOSPC));
    assert!(
        err.to_string()
            .contains("/proc/sys/fs/inotify/max_user_watches")
    );
    assert!(err.to_string().contains("max_user_watches"), "{err}");
    let io: std::io::Error = err.into();
    assert_eq!(io.kind(), std::io::ErrorKind::StorageFull);
    // The bare syscall layer reports the kernel's errno.
    assert_eq!(
        inotify::add_watch(&i, dirs[2].path(), WatchFlags::CREATE),
        Err(Errno::NOSPC)
    );
}

#[test]
fn instance_limit_is_explained_and_told_from_the_fd_limit() {
    if util::in_child_ns(
        "instance_limit_is_explained_and_told_from_the_fd_limit",
        rustix::thread::UnshareFlags::NEWUSER,
    ) {
        return;
    }
    if fs::write("/proc/sys/user/max_inotify_instances", "1").is_err() {
        skip!("cannot set the user namespace's inotify instance limit");
    }
    let first = util::within_inotify_limits(Inotify::new());
    let err = Inotify::new().unwrap_err();
    assert_eq!(
        err,
        Error::Limit {
            call: "inotify_init1",
            limit: Limit::InotifyInstances
        }
    );
    assert_eq!(err.errno(), Some(Errno::MFILE));
    assert!(err.to_string().contains("max_user_instances"), "{err}");
    drop(first);
    // Out of descriptors instead: RLIMIT_NOFILE at the current count.
    fs::write("/proc/sys/user/max_inotify_instances", "100").unwrap();
    // The next descriptor would be the lowest free number: cap it there.
    let lowest_free = rustix::io::dup(std::io::stderr()).unwrap();
    let cap = lowest_free.as_raw_fd() as u64;
    drop(lowest_free);
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    rustix::process::setrlimit(
        rustix::process::Resource::Nofile,
        rustix::process::Rlimit {
            current: Some(cap),
            maximum: limit.maximum,
        },
    )
    .unwrap();
    assert_eq!(Inotify::new().unwrap_err().errno(), Some(Errno::MFILE));
}

#[test]
fn eintr_is_returned_from_a_blocking_read() {
    extern "C" fn on_signal(_: libc::c_int) {}
    if util::in_child("eintr_is_returned_from_a_blocking_read") {
        return;
    }
    // SAFETY: installs a no-op handler without SA_RESTART in this child.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
        assert_eq!(
            libc::sigaction(libc::SIGUSR1, &raw const sa, std::ptr::null_mut()),
            0
        );
    }
    let tid = rustix::thread::gettid();
    let i = Inotify::new().unwrap();
    let mut buf = [0_u8; 4096];
    let kicker = util::signal_thread_after(tid, libc::SIGUSR1, Duration::from_millis(100));
    assert_eq!(
        i.read(&mut buf).map(|_| ()).map_err(|e| e.errno()),
        Err(Some(Errno::INTR))
    );
    let t = Wait::new().timeout(Duration::from_secs(10));
    let kicker2 = util::signal_thread_after(tid, libc::SIGUSR1, Duration::from_millis(100));
    assert_eq!(
        i.read_wait(&mut buf, t).map(|_| ()).map_err(|e| e.errno()),
        Err(Some(Errno::INTR))
    );
    kicker.join().unwrap();
    kicker2.join().unwrap();
}

/// Writes the raw bytes of real kernel reads into the fuzz corpus as seeds.
/// Run by hand when the seeds should change:
/// `cargo test --test inotify capture_fuzz_seeds -- --ignored`.
#[test]
#[ignore = "writes fuzz/corpus seeds; run by hand"]
fn capture_fuzz_seeds() {
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/inotify_parse");
    fs::create_dir_all(&out).unwrap();
    let dir = util::tempdir();
    let d = dir.path();
    let i = Inotify::with_flags(InitFlags::NONBLOCK).unwrap();
    i.add_watch(d, WatchFlags::ALL_EVENTS).unwrap();
    fs::create_dir(d.join("sub")).unwrap();
    fs::write(d.join("file.txt"), b"x").unwrap();
    fs::rename(d.join("file.txt"), d.join("renamed.txt")).unwrap();
    fs::write(d.join(OsStr::from_bytes(b"\xff\xfe-not-utf8")), b"").unwrap();
    fs::write(d.join("L".repeat(255)), b"").unwrap();
    let f = d.join("f");
    fs::write(&f, b"").unwrap();
    let fwd = i.add_watch(&f, WatchFlags::ALL_EVENTS).unwrap();
    fs::remove_file(&f).unwrap();
    i.rm_watch(i.add_watch(d.join("sub"), WatchFlags::CREATE).unwrap())
        .unwrap();
    let _ = fwd;
    let mut buf = vec![0_u8; 65536];
    let mut n = 0;
    while let Ok(events) = inotify::read(&i, &mut buf) {
        let bytes = events.as_bytes();
        fs::write(out.join(format!("seed-{n}")), bytes).unwrap();
        // Also every single record on its own.
        let mut at = 0;
        for e in inotify::parse(bytes) {
            let len = e.map_or(16, |e| e.record_len());
            fs::write(out.join(format!("seed-{n}-{at}")), &bytes[at..at + len]).unwrap();
            at += len;
        }
        n += 1;
    }
    // An overflow record as the kernel writes it.
    let mut overflow = Vec::new();
    for w in [-1_i32 as u32, EventFlags::Q_OVERFLOW.bits(), 0, 0] {
        overflow.extend_from_slice(&w.to_ne_bytes());
    }
    fs::write(out.join("seed-overflow"), overflow).unwrap();
    assert!(n > 0);
}
