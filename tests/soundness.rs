//! The defects an adversarial review found (issue 8), each reproduced as it
//! was reported: every test here failed (or hung, bounded here by a
//! deadline) before its fix.

mod util;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use kernfd::fanotify::{EventFlags, Fanotify, InitFlags, MarkType, Response};
use kernfd::inotify::{Inotify, WatchFlags};
use kernfd::signalfd::SignalFd;
use kernfd::wait::{Wait, Waker};
use kernfd::{Errno, Error, Rule};
use rustix::fd::{AsRawFd, OwnedFd};
use rustix::thread::UnshareFlags;

/// Runs `f` on another thread and returns its result, or panics with
/// `what` if it has not returned within `limit` (the defect was a hang).
fn within<T: Send + 'static>(
    limit: Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("{what}: still blocked after {limit:?}"))
}

/// Opens `path` on a thread of its own (it blocks until a permission
/// event for it is answered) and reports the outcome on a channel.
fn open_later(path: &Path) -> mpsc::Receiver<std::io::Result<()>> {
    let (tx, rx) = mpsc::channel();
    let path = path.to_path_buf();
    thread::spawn(move || {
        let _ = tx.send(fs::File::open(path).map(drop));
    });
    rx
}

/// A tmpfs of this child's own (its mount namespace is private).
fn own_tmpfs() -> (tempfile::TempDir, PathBuf) {
    let dir = util::tempdir();
    rustix::mount::mount(
        "tmpfs",
        dir.path(),
        "tmpfs",
        rustix::mount::MountFlags::empty(),
        None,
    )
    .expect("mount a tmpfs");
    let file = dir.path().join("file");
    fs::write(&file, b"x").unwrap();
    (dir, file)
}

/// A permission group watching `OPEN_PERM` on `files`; `None` (after a
/// visible skip message) without `CAP_SYS_ADMIN`.
fn permission_group(files: &[&Path]) -> Option<Fanotify> {
    let fan = match Fanotify::new(InitFlags::CLASS_CONTENT) {
        Ok(f) => f,
        Err(e) if e.errno() == Some(Errno::PERM) => return None,
        Err(e) => panic!("fanotify_init: {e}"),
    };
    for f in files {
        fan.add(MarkType::Inode, EventFlags::OPEN_PERM, *f).unwrap();
    }
    Some(fan)
}

const QUICK: Duration = Duration::from_secs(5);

/// Item 2: a permission event dropped unanswered is answered (ALLOW by
/// default) before its fd closes, so a later event that reuses the fd
/// number gets its own answer, and the first process is not left blocked.
#[test]
fn dropped_permission_event_is_answered_before_its_fd_closes() {
    if util::in_child_ns(
        "dropped_permission_event_is_answered_before_its_fd_closes",
        UnshareFlags::NEWNS,
    ) {
        return;
    }
    if !util::is_root() {
        skip!("permission events need CAP_SYS_ADMIN");
    }
    let (_dir, file) = own_tmpfs();
    let Some(fan) = permission_group(&[&file]) else {
        skip!("permission events need CAP_SYS_ADMIN");
    };
    let mut buf = [0_u8; 4096];

    // Event A: read, then dropped without an answer.
    let a = open_later(&file);
    let fd_a = {
        let e = fan.read(&mut buf).unwrap().next().unwrap().unwrap();
        assert!(e.needs_answer());
        e.borrow_fd().unwrap().as_raw_fd()
    };
    // A's process goes on at once, allowed by the default response.
    a.recv_timeout(QUICK)
        .expect("A's open is still blocked: the dropped event was not answered")
        .expect("A's open is allowed by the default response");

    // Event B reuses A's fd number; denying B reaches B's process only.
    let b = open_later(&file);
    let e = fan.read(&mut buf).unwrap().next().unwrap().unwrap();
    assert_eq!(
        e.borrow_fd().unwrap().as_raw_fd(),
        fd_a,
        "the kernel reuses the lowest free descriptor number"
    );
    fan.respond(&e, Response::DENY).unwrap();
    assert!(!e.needs_answer());
    drop(e);
    let err = b.recv_timeout(QUICK).unwrap().unwrap_err();
    assert_eq!(err.raw_os_error(), Some(Errno::PERM.raw_os_error()));
}

/// Item 2, part-way: an iterator dropped before its end answers the events
/// it did not yield, with the group's configured default.
#[test]
fn iterator_dropped_part_way_answers_the_rest_with_the_default() {
    if util::in_child_ns(
        "iterator_dropped_part_way_answers_the_rest_with_the_default",
        UnshareFlags::NEWNS,
    ) {
        return;
    }
    if !util::is_root() {
        skip!("permission events need CAP_SYS_ADMIN");
    }
    let (dir, first) = own_tmpfs();
    let second = dir.path().join("second");
    fs::write(&second, b"y").unwrap();
    let Some(mut fan) = permission_group(&[&first, &second]) else {
        skip!("permission events need CAP_SYS_ADMIN");
    };
    fan.set_default_response(Response::DENY);
    assert_eq!(fan.default_response(), Response::DENY);
    let a = open_later(&first);
    let b = open_later(&second);
    // Both events queued before the one read.
    let deadline = Instant::now() + QUICK;
    while fan.queued_bytes().unwrap() < 2 * kernfd::fanotify::METADATA_LEN {
        assert!(
            Instant::now() < deadline,
            "two permission events never queued"
        );
        thread::sleep(Duration::from_millis(5));
    }
    let mut buf = [0_u8; 4096];
    let mut events = fan.read(&mut buf).unwrap();
    let one = events.next().unwrap().unwrap();
    fan.respond(&one, Response::ALLOW).unwrap();
    drop(one);
    drop(events); // the second event was never yielded
    let outcomes = [
        a.recv_timeout(QUICK).unwrap(),
        b.recv_timeout(QUICK).unwrap(),
    ];
    // One open was allowed by the answer, the other denied by the default.
    assert_eq!(
        outcomes.iter().filter(|r| r.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    let denied = outcomes.iter().find_map(|r| r.as_ref().err()).unwrap();
    assert_eq!(denied.raw_os_error(), Some(Errno::PERM.raw_os_error()));
}

/// Item 3: `TryFrom<OwnedFd>` asks the kernel, not `/proc`, so a pipe
/// dressed up as `anon_inode:[fanotify]` by a forged `/proc` is refused
/// (before the fix it was adopted, and reads then closed fds it did not
/// own).
#[test]
fn forged_proc_cannot_pass_a_pipe_off_as_a_fanotify_group() {
    let ns = if util::is_root() {
        UnshareFlags::NEWNS
    } else {
        UnshareFlags::NEWNS | UnshareFlags::NEWUSER
    };
    if util::in_child_ns("forged_proc_cannot_pass_a_pipe_off_as_a_fanotify_group", ns) {
        return;
    }
    let (r, _w) = rustix::pipe::pipe().unwrap();
    let group = kernfd::fanotify::init(InitFlags::REPORT_FID, rustix::fs::OFlags::RDONLY);
    // A tmpfs over /proc, with the link a naive check reads.
    rustix::mount::mount(
        "tmpfs",
        "/proc",
        "tmpfs",
        rustix::mount::MountFlags::empty(),
        None,
    )
    .expect("mount a tmpfs over /proc in this private namespace");
    fs::create_dir_all("/proc/self/fd").unwrap();
    let link = format!("/proc/self/fd/{}", r.as_raw_fd());
    std::os::unix::fs::symlink("anon_inode:[fanotify]", &link).unwrap();
    assert_eq!(
        fs::read_link(&link).unwrap().as_os_str(),
        "anon_inode:[fanotify]"
    );
    assert_eq!(
        Fanotify::try_from(r).err(),
        Some(Error::os("fanotify_mark", Errno::INVAL))
    );
    // A real group still passes, /proc or not.
    match group {
        Ok(fd) => assert!(Fanotify::try_from(fd).is_ok()),
        Err(e) => eprintln!("SKIPPED real-group half: fanotify_init(REPORT_FID): {e}"),
    }
}

/// Item 4: with two threads waiting on one instance and one event, the
/// thread that loses the event still returns when its timeout passes.
#[test]
fn bounded_wait_holds_when_another_thread_takes_the_event() {
    let dir = util::tempdir();
    let inotify = Inotify::new().unwrap();
    inotify.add_watch(dir.path(), WatchFlags::CREATE).unwrap();
    let timeout = Duration::from_millis(300);
    let (tx, rx) = mpsc::channel();
    thread::scope(|s| {
        for _ in 0..2 {
            let tx = tx.clone();
            let inotify = &inotify;
            s.spawn(move || {
                let mut buf = [0_u8; 4096];
                let t = Instant::now();
                let n = inotify
                    .read_wait(&mut buf, Wait::new().timeout(timeout))
                    .unwrap()
                    .count();
                tx.send((n, t.elapsed())).unwrap();
            });
        }
        thread::sleep(Duration::from_millis(50));
        fs::File::create(dir.path().join("one")).unwrap();
        let mut results = Vec::new();
        for _ in 0..2 {
            let Ok(r) = rx.recv_timeout(Duration::from_secs(3)) else {
                // Release the stuck reader so the test ends, then fail.
                fs::File::create(dir.path().join("two")).unwrap();
                panic!("a reader with a {timeout:?} timeout was still blocked after 3 s");
            };
            results.push(r);
        }
        results.sort();
        assert_eq!(results.iter().map(|r| r.0).sum::<usize>(), 1, "{results:?}");
        for (_, took) in results {
            assert!(took < timeout + Duration::from_millis(700), "took {took:?}");
        }
    });
}

/// Item 4, drain: an empty queue ends a drain at once on a blocking-mode
/// instance, whoever else reads it.
#[test]
fn drain_never_blocks_in_blocking_mode() {
    let inotify = Inotify::new().unwrap();
    assert!(!inotify.is_nonblocking());
    let n = within(QUICK, "drain of an empty queue", move || {
        let mut buf = [0_u8; 4096];
        inotify.drain(&mut buf, |_| ()).unwrap()
    });
    assert_eq!(n, 0);
}

fn dev_null() -> OwnedFd {
    fs::File::open("/dev/null").unwrap().into()
}

/// Item 5: a descriptor that reads as end of file ends `drain` with
/// `EndOfFile` (before the fix it spun forever), and `read` says so too.
#[test]
fn end_of_file_ends_drain_and_read() {
    let got = within(QUICK, "Inotify::drain on /dev/null", || {
        let inotify = Inotify::from(dev_null());
        let mut buf = [0_u8; 4096];
        let drained = inotify.drain(&mut buf, |_| ());
        let read = inotify.read(&mut buf).map(|_| ());
        (drained, read)
    });
    let eof = Error::EndOfFile { call: "read" };
    assert_eq!(got, (Err(eof), Err(eof)));
    assert_eq!(eof.errno(), None);
    assert_eq!(
        std::io::Error::from(eof).kind(),
        std::io::ErrorKind::UnexpectedEof
    );
    let got = within(QUICK, "SignalFd::drain on /dev/null", || {
        let sfd = SignalFd::from(dev_null());
        let mut buf = [0_u8; 128];
        sfd.drain(&mut buf, |_| ())
    });
    assert_eq!(got, Err(eof));
}

/// Item 6: the reserved signals are the C library's own: with glibc, 32
/// and 33 only, so a program can block its `SIGRTMIN` (34), which is what
/// `Signal::rt(0)` is and how it prints.
#[test]
fn glibc_programs_can_block_their_own_sigrtmin() {
    use kernfd::signal::{self, RESERVED, SigSet, Signal};
    if !cfg!(target_env = "gnu") {
        skip!("this binary is not linked with glibc");
    }
    assert_eq!(
        RESERVED.iter().map(Signal::as_raw).collect::<Vec<_>>(),
        [32, 33]
    );
    let rtmin = Signal::rt(0).unwrap();
    assert_eq!(rtmin.as_raw(), 34);
    assert_eq!(rtmin.to_string(), "SIGRTMIN");
    assert_eq!(Signal::rt(3).unwrap().to_string(), "SIGRTMIN+3");
    thread::spawn(move || {
        signal::block(&SigSet::from(rtmin)).unwrap();
        assert!(signal::thread_mask().unwrap().contains(rtmin));
        assert_eq!(
            signal::block(&SigSet::from(Signal::new(33).unwrap())),
            Err(Error::ReservedSignal(Signal::new(33).unwrap()))
        );
    })
    .join()
    .unwrap();
}

/// Item 7: an errno the response's 8-bit field cannot hold is an error,
/// not another errno.
#[test]
fn deny_with_refuses_an_errno_it_would_truncate() {
    let busy = Response::deny_with(Errno::BUSY).unwrap();
    assert_eq!(busy.bits() >> 24, Errno::BUSY.raw_os_error() as u32);
    // 272 & 0xff == 16 == EBUSY: it used to come out as EBUSY.
    assert_eq!(
        Response::deny_with(Errno::from_raw_os_error(272)),
        Err(Error::Rule(Rule::FanotifyDenyErrno))
    );
}

/// Suspected: a waker whose eventfd was switched to blocking mode still
/// resets without blocking.
#[test]
fn waker_reset_never_blocks() {
    let woken = within(QUICK, "Waker::reset", || {
        let waker = Waker::new().unwrap();
        waker.as_eventfd().set_nonblocking(false).unwrap();
        let first = waker.reset().unwrap();
        waker.wake().unwrap();
        (first, waker.reset().unwrap(), waker.reset().unwrap())
    });
    assert_eq!(woken, (false, true, false));
}
