//! fanotify against the real kernel. Every test that marks anything runs in
//! a child process, in a private mount namespace, on a fresh tmpfs: other
//! processes' activity cannot reach its marks, and its mounts vanish with
//! it. Tests needing something this kernel lacks skip visibly.

#[macro_use]
mod util;

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use kernfd::fanotify::{
    self, AuditRule, EventError, EventFlags, FidKind, Info, InitFlags, MarkFlags, MarkType,
    OwnedEvent, Response,
};
use kernfd::{Errno, Error};
use rustix::fd::{AsFd, AsRawFd, OwnedFd};
use rustix::fs::{CWD, OFlags};

/// In the child: a private mount namespace with a fresh tmpfs on a new
/// temporary directory. Returns the directory (kept alive by the caller).
fn tmpfs() -> tempfile::TempDir {
    util::private_mount_ns().expect("private mount namespace");
    let dir = util::tempdir();
    rustix::mount::mount(
        "kernfd-test",
        dir.path(),
        "tmpfs",
        rustix::mount::MountFlags::empty(),
        None,
    )
    .expect("mount tmpfs");
    dir
}

/// Reads events until one satisfies `pred` or none comes within a second.
fn find(
    fan: &fanotify::Fanotify,
    mut pred: impl FnMut(&OwnedEvent<'_>) -> bool,
) -> Option<(u64, i32, Option<PathBuf>)> {
    let mut buf = vec![0_u8; fanotify::DEFAULT_BUFFER_LEN];
    for _ in 0..50 {
        let events = fan
            .read_wait(
                &mut buf[..],
                kernfd::wait::Wait::new().timeout(std::time::Duration::from_millis(100)),
            )
            .unwrap();
        for e in events {
            let e = e.unwrap();
            if pred(&e) {
                let path = e.borrow_fd().map(|fd| {
                    let mut p = [0_u8; 4096];
                    PathBuf::from(OsStr::from_bytes(fanotify::fd_path(fd, &mut p).unwrap()))
                });
                return Some((e.mask().bits(), e.pid(), path));
            }
        }
    }
    None
}

fn me() -> i32 {
    rustix::process::getpid().as_raw_nonzero().get()
}

#[test]
fn fd_mode_mount_mark_reports_open_and_close_with_path() {
    if util::in_child("fd_mode_mount_mark_reports_open_and_close_with_path") {
        return;
    }
    let dir = tmpfs();
    let fan = fanotify::Fanotify::new(InitFlags::CLASS_NOTIF).unwrap();
    fan.add(
        MarkType::Mount,
        EventFlags::OPEN | EventFlags::CLOSE_WRITE,
        dir.path(),
    )
    .unwrap();
    let file = dir.path().join("hello.txt");
    fs::write(&file, b"hi").unwrap();
    // OPEN and CLOSE_WRITE of one file by one process may merge into one
    // event while queued: check the union, and every event's pid and path.
    let events = collect(&fan);
    let all = events.iter().fold(EventFlags::empty(), |m, e| m | e.0);
    assert_eq!(all, EventFlags::OPEN | EventFlags::CLOSE_WRITE);
    for (_, pid, path) in events {
        assert_eq!((pid, path), (me(), Some(file.clone())));
    }
}

/// Reads every event that arrives within 100 ms, as (mask, pid, path).
fn collect(fan: &fanotify::Fanotify) -> Vec<(EventFlags, i32, Option<PathBuf>)> {
    let mut out = Vec::new();
    let mut buf = vec![0_u8; fanotify::DEFAULT_BUFFER_LEN];
    loop {
        let events = fan
            .read_wait(
                &mut buf[..],
                kernfd::wait::Wait::new().timeout(std::time::Duration::from_millis(100)),
            )
            .unwrap();
        if events.is_empty() {
            return out;
        }
        for e in events {
            let e = e.unwrap();
            let path = e.borrow_fd().map(|fd| {
                let mut p = [0_u8; 4096];
                PathBuf::from(OsStr::from_bytes(fanotify::fd_path(fd, &mut p).unwrap()))
            });
            out.push((e.mask(), e.pid(), path));
        }
    }
}

#[test]
fn inode_mark_on_a_directory_with_event_on_child() {
    if util::in_child("inode_mark_on_a_directory_with_event_on_child") {
        return;
    }
    let dir = tmpfs();
    fs::create_dir(dir.path().join("watched")).unwrap();
    fs::create_dir(dir.path().join("other")).unwrap();
    let fan = fanotify::Fanotify::new(InitFlags::CLASS_NOTIF).unwrap();
    fan.add(
        MarkType::Inode,
        EventFlags::CLOSE_WRITE | EventFlags::EVENT_ON_CHILD,
        dir.path().join("watched"),
    )
    .unwrap();
    fs::write(dir.path().join("other/x"), b"1").unwrap();
    fs::write(dir.path().join("watched/y"), b"1").unwrap();
    let (_, _, path) = find(&fan, |_| true).unwrap();
    assert_eq!(
        path.unwrap(),
        dir.path().join("watched/y"),
        "other/ is not marked"
    );
    // Removing the mark stops events; removing it again is ENOENT.
    fan.remove(
        MarkType::Inode,
        EventFlags::CLOSE_WRITE | EventFlags::EVENT_ON_CHILD,
        dir.path().join("watched"),
    )
    .unwrap();
    fs::write(dir.path().join("watched/z"), b"1").unwrap();
    assert!(find(&fan, |_| true).is_none());
    assert_eq!(
        fan.remove(
            MarkType::Inode,
            EventFlags::CLOSE_WRITE,
            dir.path().join("watched")
        )
        .map_err(|e| e.errno()),
        Err(Some(Errno::NOENT))
    );
}

/// One decoded FID-mode event, owned.
#[derive(Debug, Clone, PartialEq)]
struct FidEvent {
    mask: EventFlags,
    records: Vec<(FidKind, Option<Vec<u8>>, u64)>,
}

/// Reads FID-mode events for up to `ms`, resolving each handle to an inode
/// number through `open_by_handle_at` (while the object exists).
fn fid_events(fan: &fanotify::Fanotify, mount: &OwnedFd, ms: u64) -> Vec<FidEvent> {
    let mut out = Vec::new();
    let mut buf = vec![0_u8; 65536];
    loop {
        let events = fan
            .read_wait(
                &mut buf[..],
                kernfd::wait::Wait::new().timeout(std::time::Duration::from_millis(ms)),
            )
            .unwrap();
        if events.is_empty() {
            return out;
        }
        for e in events {
            let e = e.unwrap();
            assert_eq!(e.fd(), None, "FID mode carries no fd");
            let records = e
                .infos()
                .filter_map(|i| match i {
                    Info::Fid(f) => {
                        let ino = fanotify::open_by_handle_at(mount, f.handle(), OFlags::PATH)
                            .map_or(0, |fd| rustix::fs::fstat(fd).unwrap().st_ino);
                        Some((f.kind(), f.name_bytes().map(<[u8]>::to_vec), ino))
                    }
                    _ => None,
                })
                .collect();
            out.push(FidEvent {
                mask: e.mask(),
                records,
            });
        }
    }
}

#[test]
fn filesystem_mark_fid_dfid_name_target_and_rename() {
    if util::in_child("filesystem_mark_fid_dfid_name_target_and_rename") {
        return;
    }
    let dir = tmpfs();
    let fan = fanotify::Fanotify::new(InitFlags::REPORT_DFID_NAME_TARGET).unwrap();
    let mask = EventFlags::CREATE
        | EventFlags::DELETE
        | EventFlags::RENAME
        | EventFlags::MOVED_FROM
        | EventFlags::MOVED_TO
        | EventFlags::ONDIR;
    fan.add(MarkType::Filesystem, mask, dir.path()).unwrap();
    let mount = rustix::fs::open(dir.path(), OFlags::RDONLY | OFlags::DIRECTORY, 0.into()).unwrap();
    let root_ino = fs::metadata(dir.path()).unwrap().ino();

    // Events on one object merge while queued: read between operations.
    fs::create_dir(dir.path().join("sub")).unwrap();
    let sub_ino = fs::metadata(dir.path().join("sub")).unwrap().ino();
    let mut events = fid_events(&fan, &mount, 50);
    fs::write(dir.path().join("a"), b"").unwrap();
    let a_ino = fs::metadata(dir.path().join("a")).unwrap().ino();
    events.extend(fid_events(&fan, &mount, 50));
    fs::rename(dir.path().join("a"), dir.path().join("sub/b")).unwrap();
    events.extend(fid_events(&fan, &mount, 50));

    let mkdir = &events[0];
    assert_eq!(mkdir.mask, EventFlags::CREATE | EventFlags::ONDIR);
    assert_eq!(
        mkdir.records,
        [
            (FidKind::DfidName, Some(b"sub".to_vec()), root_ino),
            (FidKind::Fid, None, sub_ino)
        ]
    );
    let create = &events[1];
    assert_eq!(create.mask, EventFlags::CREATE);
    assert_eq!(
        create.records,
        [
            (FidKind::DfidName, Some(b"a".to_vec()), root_ino),
            (FidKind::Fid, None, a_ino)
        ]
    );
    // The rename: MOVED_FROM, MOVED_TO and RENAME (old + new dir/name).
    let rename = events
        .iter()
        .find(|e| e.mask.contains(EventFlags::RENAME))
        .expect("a RENAME event");
    assert_eq!(
        rename.records,
        [
            (FidKind::OldDfidName, Some(b"a".to_vec()), root_ino),
            (FidKind::NewDfidName, Some(b"b".to_vec()), sub_ino),
            (FidKind::Fid, None, a_ino)
        ]
    );
    assert!(events.iter().any(|e| e.mask == EventFlags::MOVED_FROM
        && e.records[0] == (FidKind::DfidName, Some(b"a".to_vec()), root_ino)));
    assert!(events.iter().any(|e| e.mask == EventFlags::MOVED_TO
        && e.records[0] == (FidKind::DfidName, Some(b"b".to_vec()), sub_ino)));

    // Delete: the handle of the deleted file is stale afterwards.
    fs::remove_file(dir.path().join("sub/b")).unwrap();
    let mut buf = vec![0_u8; 4096];
    let mut events = fan.read(&mut buf[..]).unwrap();
    let e = events.next().unwrap().unwrap();
    assert_eq!(e.mask(), EventFlags::DELETE);
    let target = e
        .infos()
        .find_map(|i| match i {
            Info::Fid(f) if f.kind() == FidKind::Fid => Some(f.handle()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        fanotify::open_by_handle_at(&mount, target, OFlags::RDONLY).unwrap_err(),
        Errno::STALE
    );
}

#[test]
fn dfid_without_name_and_fid_only() {
    if util::in_child("dfid_without_name_and_fid_only") {
        return;
    }
    let dir = tmpfs();
    let mount = rustix::fs::open(dir.path(), OFlags::RDONLY | OFlags::DIRECTORY, 0.into()).unwrap();
    let root_ino = fs::metadata(dir.path()).unwrap().ino();
    // REPORT_DIR_FID alone: a DFID record without name.
    let fan = fanotify::Fanotify::new(InitFlags::REPORT_DIR_FID).unwrap();
    fan.add(MarkType::Filesystem, EventFlags::CREATE, dir.path())
        .unwrap();
    // REPORT_FID alone: create reports the directory as FID.
    let fan2 = fanotify::Fanotify::new(InitFlags::REPORT_FID).unwrap();
    fan2.add(
        MarkType::Filesystem,
        EventFlags::CREATE | EventFlags::ATTRIB,
        dir.path(),
    )
    .unwrap();
    fs::write(dir.path().join("f"), b"").unwrap();
    // FIONREAD counts only the 24-byte metadata of FID-mode events, not
    // their info records (documented on `queued_bytes`).
    let queued = fan.queued_bytes().unwrap();
    let mut raw = vec![0_u8; 4096];
    let n = rustix::io::read(&fan, &mut raw[..]).unwrap();
    assert_eq!(queued, fanotify::METADATA_LEN);
    assert!(n > queued, "{n} bytes read, FIONREAD said {queued}");
    fs::write(dir.path().join("f2"), b"").unwrap();
    let ev = fid_events(&fan, &mount, 100);
    assert_eq!(ev[0].records, [(FidKind::Dfid, None, root_ino)]);
    let ev = fid_events(&fan2, &mount, 100);
    assert_eq!(ev[0].records, [(FidKind::Fid, None, root_ino)]);
    // ATTRIB on the file itself: FID of the file.
    let f_ino = fs::metadata(dir.path().join("f")).unwrap().ino();
    rustix::fs::chmod(dir.path().join("f"), 0o600.into()).unwrap();
    let ev = fid_events(&fan2, &mount, 100);
    assert_eq!(ev[0].mask, EventFlags::ATTRIB);
    assert_eq!(ev[0].records, [(FidKind::Fid, None, f_ino)]);
}

#[test]
fn pidfd_records_are_owned_and_name_the_process() {
    if util::in_child("pidfd_records_are_owned_and_name_the_process") {
        return;
    }
    let dir = tmpfs();
    let before = util::count_fds();
    let fan = fanotify::Fanotify::new(InitFlags::REPORT_PIDFD).unwrap();
    fan.add(MarkType::Mount, EventFlags::CLOSE_WRITE, dir.path())
        .unwrap();
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
    if util::in_child("report_tid_reports_the_thread") {
        return;
    }
    let dir = tmpfs();
    let fan = fanotify::Fanotify::new(InitFlags::REPORT_TID).unwrap();
    fan.add(MarkType::Mount, EventFlags::CLOSE_WRITE, dir.path())
        .unwrap();
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
    if util::in_child("queue_overflow_is_reported") {
        return;
    }
    let dir = tmpfs();
    let limit: usize = fs::read_to_string("/proc/sys/fs/fanotify/max_queued_events")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let fan = fanotify::Fanotify::new(InitFlags::REPORT_DFID_NAME).unwrap();
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
    assert_eq!(overflows, 1);
    assert_eq!(events, limit);
    assert_eq!(n, limit + 1);
}

#[test]
fn unlimited_queue_does_not_overflow() {
    if util::in_child("unlimited_queue_does_not_overflow") {
        return;
    }
    let dir = tmpfs();
    let fan = fanotify::Fanotify::new(
        InitFlags::REPORT_DFID_NAME | InitFlags::UNLIMITED_QUEUE | InitFlags::UNLIMITED_MARKS,
    )
    .unwrap();
    fan.add(MarkType::Filesystem, EventFlags::CREATE, dir.path())
        .unwrap();
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
fn mntns_mark_reports_mount_attach_and_detach() {
    if util::in_child("mntns_mark_reports_mount_attach_and_detach") {
        return;
    }
    let dir = tmpfs();
    let fan = match fanotify::Fanotify::new(InitFlags::REPORT_MNT) {
        Err(err) if err.errno() == Some(Errno::INVAL) => skip!("FAN_REPORT_MNT needs Linux 6.14"),
        r => r.unwrap(),
    };
    // The test thread unshared its own mount namespace: name it through
    // thread-self (self is the main thread's, the host's).
    let ns = rustix::fs::open("/proc/thread-self/ns/mnt", OFlags::RDONLY, 0.into()).unwrap();
    fan.mark_fd(
        MarkFlags::ADD | MarkFlags::MNTNS,
        EventFlags::MNT_ATTACH | EventFlags::MNT_DETACH,
        &ns,
    )
    .unwrap();
    let target = dir.path().join("m");
    fs::create_dir(&target).unwrap();
    rustix::mount::mount(
        "inner",
        &target,
        "tmpfs",
        rustix::mount::MountFlags::empty(),
        None,
    )
    .unwrap();
    let stx = rustix::fs::statx(
        CWD,
        &target,
        rustix::fs::AtFlags::empty(),
        rustix::fs::StatxFlags::from_bits_retain(0x4000), // STATX_MNT_ID_UNIQUE
    )
    .unwrap();
    rustix::mount::unmount(&target, rustix::mount::UnmountFlags::empty()).unwrap();
    let mut buf = vec![0_u8; 4096];
    let mut seen = Vec::new();
    fan.set_nonblocking(true).unwrap();
    fan.drain(&mut buf[..], |e| {
        let e = e.unwrap();
        assert_eq!(e.fd(), None);
        let ids: Vec<_> = e
            .infos()
            .map(|i| match i {
                Info::Mnt { mnt_id } => mnt_id,
                other => panic!("{other:?}"),
            })
            .collect();
        seen.push((e.mask(), ids));
    })
    .unwrap();
    assert_eq!(
        seen,
        [
            (EventFlags::MNT_ATTACH, vec![stx.stx_mnt_id]),
            (EventFlags::MNT_DETACH, vec![stx.stx_mnt_id])
        ]
    );
}

/// Runs `cat path` as a second process in a thread; returns its handle.
fn cat(path: &Path) -> std::thread::JoinHandle<std::process::Output> {
    let path = path.to_owned();
    std::thread::spawn(move || Command::new("cat").arg(path).output().unwrap())
}

#[test]
fn permission_allow_and_deny_seen_from_a_second_process() {
    if util::in_child("permission_allow_and_deny_seen_from_a_second_process") {
        return;
    }
    let dir = tmpfs();
    let secret = dir.path().join("secret");
    let public = dir.path().join("public");
    fs::write(&secret, b"no").unwrap();
    fs::write(&public, b"yes").unwrap();
    let fan = fanotify::Fanotify::new(InitFlags::CLASS_CONTENT).unwrap();
    fan.add(MarkType::Mount, EventFlags::OPEN_PERM, dir.path())
        .unwrap();
    let mut buf = vec![0_u8; 4096];
    let mut path = [0_u8; 4096];
    for (file, allow) in [(&public, true), (&secret, false)] {
        let child = cat(file);
        let mut answered = false;
        while !answered {
            for e in fan.read(&mut buf[..]).unwrap() {
                let e = e.unwrap();
                assert!(e.is_permission());
                let p = fanotify::fd_path(e.borrow_fd().unwrap(), &mut path).unwrap();
                // `cat` is exec'd from a path outside the tmpfs; only its
                // open of `file` is on the marked mount.
                assert_eq!(p, file.as_os_str().as_bytes());
                let r = if allow {
                    Response::ALLOW
                } else {
                    Response::DENY
                };
                fan.respond(&e, r).unwrap();
                // Answering twice: the kernel no longer knows the event.
                assert_eq!(
                    fan.respond(&e, r).map_err(|e| e.errno()),
                    Err(Some(Errno::NOENT))
                );
                answered = true;
            }
        }
        let out = child.join().unwrap();
        assert_eq!(out.status.success(), allow, "{out:?}");
        if allow {
            assert_eq!(out.stdout, b"yes");
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("Operation not permitted"), "{err}");
        }
    }
}

#[test]
fn deny_with_a_custom_errno_in_a_pre_content_group() {
    if util::in_child("deny_with_a_custom_errno_in_a_pre_content_group") {
        return;
    }
    let dir = tmpfs();
    let file = dir.path().join("busy");
    fs::write(&file, b"x").unwrap();
    let fan = fanotify::Fanotify::new(InitFlags::CLASS_PRE_CONTENT).unwrap();
    fan.add(MarkType::Inode, EventFlags::OPEN_PERM, &file)
        .unwrap();
    let f2 = file.clone();
    let opener = std::thread::spawn(move || fs::File::open(f2).map(drop));
    let mut buf = vec![0_u8; 4096];
    let e = fan.read(&mut buf[..]).unwrap().next().unwrap().unwrap();
    // A custom errno outside the kernel's list is refused...
    let refused = fan.respond(&e, Response::deny_with(Errno::NOENT).unwrap());
    // ...and one inside it reaches the opener.
    match fan.respond(&e, Response::deny_with(Errno::BUSY).unwrap()) {
        Ok(()) => {
            assert_eq!(refused.map_err(|e| e.errno()), Err(Some(Errno::INVAL)));
            let err = opener.join().unwrap().unwrap_err();
            assert_eq!(err.raw_os_error(), Some(Errno::BUSY.raw_os_error()));
        }
        Err(err) if err.errno() == Some(Errno::INVAL) => {
            fan.respond(&e, Response::DENY).unwrap();
            opener.join().unwrap().unwrap_err();
            skip!("FAN_DENY_ERRNO needs Linux 6.14");
        }
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn custom_errno_is_einval_outside_pre_content() {
    if util::in_child("custom_errno_is_einval_outside_pre_content") {
        return;
    }
    let dir = tmpfs();
    let file = dir.path().join("f");
    fs::write(&file, b"x").unwrap();
    let fan = fanotify::Fanotify::new(InitFlags::CLASS_CONTENT).unwrap();
    fan.add(MarkType::Inode, EventFlags::OPEN_PERM, &file)
        .unwrap();
    let f2 = file.clone();
    let opener = std::thread::spawn(move || fs::File::open(f2).map(drop));
    let mut buf = vec![0_u8; 4096];
    let e = fan.read(&mut buf[..]).unwrap().next().unwrap().unwrap();
    assert_eq!(
        fan.respond(&e, Response::deny_with(Errno::BUSY).unwrap())
            .map_err(|e| e.errno()),
        Err(Some(Errno::INVAL))
    );
    // Auditing without ENABLE_AUDIT is EINVAL too.
    assert_eq!(
        fan.respond(&e, Response::ALLOW.audit())
            .map_err(|e| e.errno()),
        Err(Some(Errno::INVAL))
    );
    fan.respond(&e, Response::ALLOW).unwrap();
    opener.join().unwrap().unwrap();
}

#[test]
fn audit_responses_with_enable_audit() {
    if util::in_child("audit_responses_with_enable_audit") {
        return;
    }
    let dir = tmpfs();
    let file = dir.path().join("f");
    fs::write(&file, b"x").unwrap();
    let fan = match fanotify::Fanotify::new(InitFlags::CLASS_CONTENT | InitFlags::ENABLE_AUDIT) {
        Err(err) if err.errno() == Some(Errno::PERM) => skip!("ENABLE_AUDIT needs CAP_AUDIT_WRITE"),
        r => r.unwrap(),
    };
    fan.add(MarkType::Inode, EventFlags::OPEN_PERM, &file)
        .unwrap();
    let mut buf = vec![0_u8; 4096];
    for response in [
        Response::ALLOW.audit(),
        Response::ALLOW.audit().audit_rule(AuditRule {
            rule_number: 42,
            subj_trust: 2,
            obj_trust: 2,
        }),
    ] {
        let f2 = file.clone();
        let opener = std::thread::spawn(move || fs::File::open(f2).map(drop));
        let e = fan.read(&mut buf[..]).unwrap().next().unwrap().unwrap();
        match fan.respond(&e, response) {
            Ok(()) => opener.join().unwrap().unwrap(),
            // Kernels without audit support refuse FAN_AUDIT / FAN_INFO.
            Err(Error::Os { errno: err, .. }) => {
                fan.respond(&e, Response::ALLOW).unwrap();
                opener.join().unwrap().unwrap();
                skip!("audit response refused with {err}: no audit support in this kernel");
            }
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn pre_access_reports_a_range_on_ext4() {
    if util::in_child("pre_access_reports_a_range_on_ext4") {
        return;
    }
    let dir = tmpfs();
    // tmpfs has no pre-content hooks: the mark is refused.
    let fan = fanotify::Fanotify::new(InitFlags::CLASS_PRE_CONTENT).unwrap();
    let on_tmpfs = fan.add(MarkType::Filesystem, EventFlags::PRE_ACCESS, dir.path());
    assert!(on_tmpfs.is_err(), "tmpfs does not support PRE_ACCESS");
    // An ext4 image, loop-mounted in this private namespace.
    let img = dir.path().join("img");
    fs::File::create(&img).unwrap().set_len(8 << 20).unwrap();
    let mk = Command::new("mkfs.ext4")
        .args(["-q", "-F"])
        .arg(&img)
        .output();
    if !mk.as_ref().is_ok_and(|o| o.status.success()) {
        skip!("mkfs.ext4 unavailable: {mk:?}");
    }
    let mnt = dir.path().join("mnt");
    fs::create_dir(&mnt).unwrap();
    let m = Command::new("mount")
        .args(["-o", "loop"])
        .arg(&img)
        .arg(&mnt)
        .output()
        .unwrap();
    if !m.status.success() {
        skip!("no loop mount here: {}", String::from_utf8_lossy(&m.stderr));
    }
    let file = mnt.join("data");
    fs::write(&file, vec![7_u8; 10_000]).unwrap();
    match fan.add(MarkType::Inode, EventFlags::PRE_ACCESS, &file) {
        Ok(()) => {}
        Err(e) => {
            let _ = rustix::mount::unmount(&mnt, rustix::mount::UnmountFlags::DETACH);
            skip!("PRE_ACCESS mark refused on ext4: {e}");
        }
    }
    let f2 = file.clone();
    let reader = std::thread::spawn(move || {
        use std::io::{Read, Seek};
        let mut f = fs::File::open(f2).unwrap();
        f.seek(std::io::SeekFrom::Start(4096)).unwrap();
        let mut b = [0_u8; 100];
        f.read(&mut b)
    });
    let mut buf = vec![0_u8; 4096];
    let mut ranges = Vec::new();
    loop {
        let mut done = false;
        for e in fan.read(&mut buf[..]).unwrap() {
            let e = e.unwrap();
            assert!(e.mask().contains(EventFlags::PRE_ACCESS));
            for i in e.infos() {
                if let Info::Range { offset, count } = i {
                    ranges.push((offset, count));
                }
            }
            fan.respond(&e, Response::ALLOW).unwrap();
            done = e
                .infos()
                .any(|i| matches!(i, Info::Range { offset: 4096, .. }));
        }
        if done {
            break;
        }
    }
    assert!(reader.join().unwrap().is_ok());
    assert!(
        ranges.iter().any(|&(o, c)| o == 4096 && c > 0),
        "{ranges:?}"
    );
    drop(fan);
    rustix::mount::unmount(&mnt, rustix::mount::UnmountFlags::empty()).unwrap();
}

#[test]
fn ignore_marks_and_flush() {
    if util::in_child("ignore_marks_and_flush") {
        return;
    }
    let dir = tmpfs();
    let (quiet, loud) = (dir.path().join("quiet"), dir.path().join("loud"));
    fs::write(&quiet, b"").unwrap();
    fs::write(&loud, b"").unwrap();
    let fan = fanotify::Fanotify::new(InitFlags::CLASS_NOTIF).unwrap();
    fan.add(MarkType::Mount, EventFlags::OPEN, dir.path())
        .unwrap();
    fan.mark(
        MarkFlags::ADD | MarkFlags::IGNORE_SURV,
        EventFlags::OPEN,
        CWD,
        &quiet,
    )
    .unwrap();
    fs::read(&quiet).unwrap();
    fs::read(&loud).unwrap();
    let (_, _, p) = find(&fan, |_| true).unwrap();
    assert_eq!(p.unwrap(), loud, "the ignored file is skipped");
    // EEXIST: an old-style ignore mask over a new-style IGNORE mark.
    assert_eq!(
        fan.mark(
            MarkFlags::ADD | MarkFlags::IGNORED_MASK,
            EventFlags::OPEN,
            CWD,
            &quiet
        )
        .map_err(|e| e.errno()),
        Err(Some(Errno::EXIST))
    );
    // Flushing the mount marks silences everything.
    fan.flush(MarkType::Mount).unwrap();
    fs::read(&loud).unwrap();
    assert!(find(&fan, |_| true).is_none());
}

#[test]
fn evictable_over_a_pinned_mark_is_eexist() {
    if util::in_child("evictable_over_a_pinned_mark_is_eexist") {
        return;
    }
    let dir = tmpfs();
    let f = dir.path().join("f");
    fs::write(&f, b"").unwrap();
    let fan = fanotify::Fanotify::new(InitFlags::CLASS_NOTIF).unwrap();
    fan.add(MarkType::Inode, EventFlags::OPEN, &f).unwrap();
    assert_eq!(
        fan.mark(
            MarkFlags::ADD | MarkFlags::EVICTABLE,
            EventFlags::OPEN,
            CWD,
            &f
        )
        .map_err(|e| e.errno()),
        Err(Some(Errno::EXIST))
    );
    // On a fresh inode an evictable mark works.
    let g = dir.path().join("g");
    fs::write(&g, b"").unwrap();
    fan.mark(
        MarkFlags::ADD | MarkFlags::EVICTABLE,
        EventFlags::OPEN,
        CWD,
        &g,
    )
    .unwrap();
}

#[test]
#[allow(clippy::too_many_lines)]
fn error_paths_of_init_and_mark() {
    if util::in_child("error_paths_of_init_and_mark") {
        return;
    }
    let dir = tmpfs();
    let file = dir.path().join("file");
    fs::write(&file, b"").unwrap();
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(dir.path(), &link).unwrap();
    let einval = Err(Some(Errno::INVAL));
    // Both class bits.
    assert_eq!(
        fanotify::Fanotify::new(InitFlags::CLASS_CONTENT | InitFlags::CLASS_PRE_CONTENT)
            .err()
            .and_then(|e| e.errno()),
        Some(Errno::INVAL)
    );
    // REPORT_NAME without REPORT_DIR_FID; TARGET_FID without the others.
    assert_eq!(
        fanotify::Fanotify::new(InitFlags::REPORT_NAME)
            .err()
            .and_then(|e| e.errno()),
        Some(Errno::INVAL)
    );
    assert_eq!(
        fanotify::Fanotify::new(InitFlags::REPORT_TARGET_FID)
            .err()
            .and_then(|e| e.errno()),
        Some(Errno::INVAL)
    );
    // Unknown init bits.
    assert_eq!(
        fanotify::init(InitFlags::from_bits_retain(1 << 30), OFlags::RDONLY).err(),
        Some(Errno::INVAL)
    );
    let fan = fanotify::Fanotify::new(InitFlags::CLASS_NOTIF).unwrap();
    // ADD and REMOVE together; neither; an empty mask.
    assert_eq!(
        fan.mark(
            MarkFlags::ADD | MarkFlags::REMOVE,
            EventFlags::OPEN,
            CWD,
            &file
        )
        .map_err(|e| e.errno()),
        einval
    );
    assert_eq!(
        fan.mark(MarkFlags::empty(), EventFlags::OPEN, CWD, &file)
            .map_err(|e| e.errno()),
        einval
    );
    assert_eq!(
        fan.add(MarkType::Inode, EventFlags::empty(), &file)
            .map_err(|e| e.errno()),
        einval
    );
    // Directory-entry events need FID mode.
    assert_eq!(
        fan.add(MarkType::Inode, EventFlags::CREATE, dir.path())
            .map_err(|e| e.errno()),
        einval
    );
    // IGNORE and IGNORED_MASK together.
    assert_eq!(
        fan.mark(
            MarkFlags::ADD | MarkFlags::IGNORE | MarkFlags::IGNORED_MASK,
            EventFlags::OPEN,
            CWD,
            &file
        )
        .map_err(|e| e.errno()),
        einval
    );
    // ENOTDIR with ONLYDIR, also through a symlink not followed.
    assert_eq!(
        fan.mark(
            MarkFlags::ADD | MarkFlags::ONLYDIR,
            EventFlags::OPEN,
            CWD,
            &file
        )
        .map_err(|e| e.errno()),
        Err(Some(Errno::NOTDIR))
    );
    assert_eq!(
        fan.mark(
            MarkFlags::ADD | MarkFlags::ONLYDIR | MarkFlags::DONT_FOLLOW,
            EventFlags::OPEN,
            CWD,
            &link
        )
        .map_err(|e| e.errno()),
        Err(Some(Errno::NOTDIR))
    );
    fan.mark(
        MarkFlags::ADD | MarkFlags::ONLYDIR,
        EventFlags::OPEN,
        CWD,
        &link,
    )
    .unwrap();
    // ENOENT for a missing path; EBADF for a bad dirfd.
    assert_eq!(
        fan.add(MarkType::Inode, EventFlags::OPEN, dir.path().join("nope"))
            .map_err(|e| e.errno()),
        Err(Some(Errno::NOENT))
    );
    // SAFETY: nothing is open at this number (the child has few fds), so
    // nothing is borrowed; the kernel answers EBADF.
    let bad = unsafe { rustix::fd::BorrowedFd::borrow_raw(999_999) };
    assert_eq!(
        fan.mark(MarkFlags::ADD, EventFlags::OPEN, bad, "relative")
            .map_err(|e| e.errno()),
        Err(Some(Errno::BADF))
    );
    // Relative to a dirfd.
    let d = rustix::fs::open(dir.path(), OFlags::RDONLY | OFlags::DIRECTORY, 0.into()).unwrap();
    fan.mark(MarkFlags::ADD, EventFlags::OPEN, &d, "file")
        .unwrap();
    // fanotify_mark on something that is not a fanotify fd.
    assert_eq!(
        fanotify::mark(&d, MarkFlags::ADD, EventFlags::OPEN, CWD, &file),
        Err(Errno::INVAL)
    );
    // A read buffer too small is refused before the kernel sees it.
    let mut small = [0_u8; 100];
    assert_eq!(
        fan.read(&mut small).err(),
        Some(Error::BufferTooSmall {
            len: 100,
            needed: fanotify::MIN_BUFFER_LEN
        })
    );
    // And the kernel's own EINVAL for a bare read with a tiny buffer.
    fs::read(&file).unwrap();
    let mut tiny = [0_u8; 8];
    assert_eq!(rustix::io::read(&fan, &mut tiny), Err(Errno::INVAL));
}

#[test]
fn eperm_without_cap_sys_admin() {
    if util::in_child("eperm_without_cap_sys_admin") {
        return;
    }
    let dir = tmpfs();
    let path = dir.path().to_owned();
    // Drop CAP_SYS_ADMIN from this thread's effective set (capabilities are
    // per thread), then try what needs it.
    let mut caps = rustix::thread::capabilities(None).unwrap();
    caps.effective -= rustix::thread::CapabilitySet::SYS_ADMIN;
    rustix::thread::set_capabilities(None, caps).unwrap();
    assert_eq!(
        fanotify::Fanotify::new(InitFlags::CLASS_NOTIF)
            .err()
            .map(|e| e.errno()),
        Some(Some(Errno::PERM)),
        "fd mode needs CAP_SYS_ADMIN"
    );
    assert_eq!(
        fanotify::Fanotify::new(InitFlags::REPORT_FID | InitFlags::CLASS_CONTENT)
            .err()
            .map(|e| e.errno()),
        Some(Some(Errno::PERM)),
        "permission classes need CAP_SYS_ADMIN"
    );
    // FID mode is allowed unprivileged, but not mount or filesystem marks.
    let fan = fanotify::Fanotify::new(InitFlags::REPORT_FID).unwrap();
    assert_eq!(
        fan.add(MarkType::Mount, EventFlags::CLOSE_WRITE, &path)
            .map_err(|e| e.errno()),
        Err(Some(Errno::PERM))
    );
    assert_eq!(
        fan.add(MarkType::Filesystem, EventFlags::CLOSE_WRITE, &path)
            .map_err(|e| e.errno()),
        Err(Some(Errno::PERM))
    );
    fan.add(
        MarkType::Inode,
        EventFlags::CLOSE_WRITE | EventFlags::EVENT_ON_CHILD,
        &path,
    )
    .unwrap();

    // open_by_handle_at needs CAP_DAC_READ_SEARCH: get a handle from an
    // event, drop the capability, and try.
    fs::write(path.join("h"), b"").unwrap();
    let mut buf = vec![0_u8; 4096];
    let mut events = fan.read(&mut buf[..]).unwrap();
    let e = events.next().unwrap().unwrap();
    let handle = e.fid().unwrap().handle();
    let mount = rustix::fs::open(&path, OFlags::RDONLY | OFlags::DIRECTORY, 0.into()).unwrap();
    fanotify::open_by_handle_at(&mount, handle, OFlags::PATH).unwrap();
    caps.effective -= rustix::thread::CapabilitySet::DAC_READ_SEARCH;
    rustix::thread::set_capabilities(None, caps).unwrap();
    assert_eq!(
        fanotify::open_by_handle_at(&mount, handle, OFlags::PATH).err(),
        Some(Errno::PERM)
    );
}

#[test]
fn take_fd_keeps_it_open_and_parse_never_adopts() {
    if util::in_child("take_fd_keeps_it_open_and_parse_never_adopts") {
        return;
    }
    let dir = tmpfs();
    let fan = fanotify::Fanotify::new(InitFlags::CLASS_NOTIF | InitFlags::NONBLOCK).unwrap();
    fan.add(MarkType::Mount, EventFlags::CLOSE_WRITE, dir.path())
        .unwrap();
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
    let fan = fanotify::Fanotify::new(InitFlags::REPORT_FID).unwrap();
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
    if util::in_child("ten_thousand_events_leak_no_descriptor") {
        return;
    }
    let dir = tmpfs();
    // Opens of one file by one process merge in the queue: use distinct files.
    let files: Vec<PathBuf> = (0..10_500)
        .map(|i| dir.path().join(i.to_string()))
        .collect();
    for f in &files {
        fs::write(f, b"x").unwrap();
    }
    let before = util::list_fds();
    let fan = fanotify::Fanotify::new(InitFlags::CLASS_NOTIF | InitFlags::UNLIMITED_QUEUE).unwrap();
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
