//! Reading events: pidfd and tid reporting, the queue's limit and its
//! overflow record, owning (and taking) event descriptors, bounded waits.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use kernfd::fanotify::{self, EventError, EventFlags, Info, InitFlags, MarkType};
use kernfd::{Errno, Error};
use rustix::fd::{AsFd, AsRawFd, OwnedFd};

use crate::{find, me, util};

/// The queue length a new group gets.
const QUEUE_LIMIT: &str = "/proc/sys/fs/fanotify/max_queued_events";

#[test]
fn pidfd_records_are_owned_and_name_the_process() {
    if util::in_mount_ns() {
        return;
    }
    let before = util::count_fds();
    let (dir, fan) = or_skip!(util::fanotify::watched_tmpfs(
        InitFlags::REPORT_PIDFD,
        MarkType::Mount,
        EventFlags::CLOSE_WRITE,
    ));
    fs::write(dir.path().join("x"), b"1").unwrap();
    let mut buf = vec![0_u8; 4096];
    let mut events = fan.read(&mut buf[..]).unwrap();
    let mut e = events.next().unwrap().unwrap();
    assert!(e.pidfd().is_some());
    assert!(e.infos().any(|i| matches!(i, Info::Pidfd(n) if n >= 0)));
    let pidfd = e.borrow_pidfd().unwrap();
    let info = fs::read_to_string(format!("/proc/self/fdinfo/{}", pidfd.as_raw_fd())).unwrap();
    assert!(info.contains(&format!("Pid:\t{}\n", me())), "{info}");
    let taken = e.take_pidfd().unwrap();
    drop(e);
    drop(events);
    // The taken pidfd is still open; the event fd was closed.
    assert_eq!(util::count_fds(), before + 2, "fanotify + taken pidfd");
    drop(taken);
    drop(fan);
    assert_eq!(util::count_fds(), before);
}

#[test]
fn report_tid_reports_the_thread() {
    if util::in_mount_ns() {
        return;
    }
    let (dir, fan) = or_skip!(util::fanotify::watched_tmpfs(
        InitFlags::REPORT_TID,
        MarkType::Mount,
        EventFlags::CLOSE_WRITE,
    ));
    let p = dir.path().join("t");
    let tid = std::thread::spawn(move || {
        fs::write(p, b"1").unwrap();
        rustix::thread::gettid().as_raw_nonzero().get()
    })
    .join()
    .unwrap();
    assert_ne!(tid, me());
    let (_, pid, _) = find(&fan, |_| true).unwrap();
    assert_eq!(pid, tid);
}

#[test]
fn queue_overflow_is_reported() {
    if util::in_mount_ns() {
        return;
    }
    let dir = util::tmpfs();
    // The group copies the limit at init: later changes do not reach it.
    let (fan, limit) = util::with_limit(QUEUE_LIMIT, || {
        util::fanotify::group(InitFlags::REPORT_DFID_NAME)
    });
    let fan = or_skip!(fan);
    fan.add(MarkType::Filesystem, EventFlags::CREATE, dir.path())
        .unwrap();
    for i in 0..limit + 10 {
        fs::File::create(dir.path().join(i.to_string())).unwrap();
    }
    let mut buf = vec![0_u8; 65536];
    let (mut events, mut overflows) = (0, 0);
    fan.set_nonblocking(true).unwrap();
    let n = fan
        .drain(&mut buf[..], |e| match e {
            Ok(_) => events += 1,
            Err(EventError::QueueOverflow) => overflows += 1,
            Err(e) => panic!("{e}"),
        })
        .unwrap();
    assert_eq!(
        overflows, 1,
        "one overflow record ({QUEUE_LIMIT} was {limit})"
    );
    assert_eq!(
        events, limit,
        "the queue held {QUEUE_LIMIT} = {limit} events"
    );
    assert_eq!(n, limit + 1, "{QUEUE_LIMIT} = {limit}");
}

#[test]
fn unlimited_queue_does_not_overflow() {
    if util::in_mount_ns() {
        return;
    }
    let (dir, fan) = or_skip!(util::fanotify::watched_tmpfs(
        InitFlags::REPORT_DFID_NAME | InitFlags::UNLIMITED_QUEUE | InitFlags::UNLIMITED_MARKS,
        MarkType::Filesystem,
        EventFlags::CREATE,
    ));
    for i in 0..17_000 {
        fs::File::create(dir.path().join(i.to_string())).unwrap();
    }
    let mut buf = vec![0_u8; 65536];
    let mut events = 0;
    let n = fan
        .drain(&mut buf[..], |e| {
            e.unwrap();
            events += 1;
        })
        .unwrap();
    assert_eq!((n, events), (17_000, 17_000));
}

#[test]
fn take_fd_keeps_it_open_and_parse_never_adopts() {
    if util::in_mount_ns() {
        return;
    }
    let (dir, fan) = or_skip!(util::fanotify::watched_tmpfs(
        InitFlags::CLASS_NOTIF | InitFlags::NONBLOCK,
        MarkType::Mount,
        EventFlags::CLOSE_WRITE,
    ));
    fs::write(dir.path().join("a"), b"1").unwrap();
    let mut buf = vec![0_u8; 4096];
    let taken = {
        let mut events = fan.read(&mut buf[..]).unwrap();
        let mut e = events.next().unwrap().unwrap();
        e.take_fd().unwrap()
    };
    let mut p = [0_u8; 256];
    assert_eq!(
        fanotify::fd_path(&taken, &mut p).unwrap(),
        dir.path().join("a").as_os_str().as_bytes()
    );
    assert_eq!(
        fanotify::fd_path(&taken, &mut p[..4]),
        Err(Errno::NAMETOOLONG)
    );
    drop(taken);

    // Raw bytes from a bare read(2): parse yields numbers and closes nothing.
    fs::write(dir.path().join("b"), b"1").unwrap();
    let n = rustix::io::read(&fan, &mut buf[..]).unwrap();
    let fds: Vec<i32> = fanotify::parse(&buf[..n])
        .filter_map(|e| e.unwrap().fd())
        .collect();
    assert_eq!(fds.len(), 1);
    for _ in 0..2 {
        assert_eq!(fanotify::parse(&buf[..n]).count(), 1);
    }
    // Still open after two parses: close it ourselves.
    // SAFETY: the read installed this fd for us and nothing owns it.
    let owned = unsafe { <OwnedFd as rustix::fd::FromRawFd>::from_raw_fd(fds[0]) };
    assert!(rustix::io::fcntl_getfd(&owned).is_ok());
    drop(owned);
}

#[test]
fn read_wait_times_out_and_try_from_checks_the_fd() {
    let fan = or_skip!(util::fanotify::group(InitFlags::REPORT_FID));
    let mut buf = vec![0_u8; 4096];
    let events = fan
        .read_wait(
            &mut buf[..],
            kernfd::wait::Wait::new().timeout(std::time::Duration::from_millis(10)),
        )
        .unwrap();
    assert!(events.is_empty());
    drop(events);
    let owned: OwnedFd = fan.into();
    let fan = fanotify::Fanotify::try_from(owned).unwrap();
    let raw = fan.as_raw_fd();
    assert!(raw >= 0);
    let efd = rustix::event::eventfd(0, rustix::event::EventfdFlags::CLOEXEC).unwrap();
    assert_eq!(
        fanotify::Fanotify::try_from(efd).err(),
        Some(Error::os("fanotify_mark", Errno::INVAL))
    );
    assert!(fan.as_fd().as_raw_fd() >= 0);
    assert_eq!(fan.queued_bytes().unwrap(), 0);
}

#[test]
fn ten_thousand_events_leak_no_descriptor() {
    if util::in_mount_ns() {
        return;
    }
    let dir = util::tmpfs();
    // Opens of one file by one process merge in the queue: use distinct files.
    let files: Vec<PathBuf> = (0..10_500)
        .map(|i| dir.path().join(i.to_string()))
        .collect();
    for f in &files {
        fs::write(f, b"x").unwrap();
    }
    let before = util::list_fds();
    let fan = or_skip!(util::fanotify::group(
        InitFlags::CLASS_NOTIF | InitFlags::UNLIMITED_QUEUE
    ));
    fan.add(MarkType::Mount, EventFlags::OPEN, dir.path())
        .unwrap();
    for f in &files {
        drop(fs::File::open(f).unwrap());
    }
    let mut buf = vec![0_u8; 4096];
    let mut seen = 0;
    let mut taken = 0;
    fan.set_nonblocking(true).unwrap();
    loop {
        match fan.read(&mut buf[..]) {
            Ok(mut events) => {
                // Iterate half of each read by hand, take one fd, and let
                // the iterator's drop close the rest.
                let n = events.size_hint().1.unwrap() / 2;
                for e in events.by_ref().take(n.max(1)) {
                    let mut e = e.unwrap();
                    assert!(e.borrow_fd().is_some());
                    if seen % 1000 == 0 {
                        drop(e.take_fd());
                        taken += 1;
                    }
                    seen += 1;
                }
                // Count the rest without iterating: parse the remainder.
                seen += fanotify::parse(events.remainder()).count();
            }
            Err(err) if err.errno() == Some(Errno::AGAIN) => break,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(seen, 10_500);
    assert!(taken > 0);
    drop(fan);
    assert_eq!(util::list_fds(), before);
}
