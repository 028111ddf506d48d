//! Groups and marks: mount, inode (with `EVENT_ON_CHILD`), ignore marks,
//! flush, evictable marks, mount-namespace marks.

use std::fs;

use kernfd::Errno;
use kernfd::fanotify::{EventFlags, Info, InitFlags, MarkFlags, MarkType};
use rustix::fs::{CWD, OFlags};

use crate::{collect, find, me, util};

#[test]
fn fd_mode_mount_mark_reports_open_and_close_with_path() {
    if util::in_mount_ns() {
        return;
    }
    let (dir, fan) = or_skip!(util::fanotify::watched_tmpfs(
        InitFlags::CLASS_NOTIF,
        MarkType::Mount,
        EventFlags::OPEN | EventFlags::CLOSE_WRITE,
    ));
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

#[test]
fn inode_mark_on_a_directory_with_event_on_child() {
    if util::in_mount_ns() {
        return;
    }
    let dir = util::tmpfs();
    fs::create_dir(dir.path().join("watched")).unwrap();
    fs::create_dir(dir.path().join("other")).unwrap();
    let fan = or_skip!(util::fanotify::group(InitFlags::CLASS_NOTIF));
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

#[test]
fn ignore_marks_and_flush() {
    if util::in_mount_ns() {
        return;
    }
    let dir = util::tmpfs();
    let (quiet, loud) = (dir.path().join("quiet"), dir.path().join("loud"));
    fs::write(&quiet, b"").unwrap();
    fs::write(&loud, b"").unwrap();
    let fan = or_skip!(util::fanotify::group(InitFlags::CLASS_NOTIF));
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
    if util::in_mount_ns() {
        return;
    }
    let dir = util::tmpfs();
    let f = dir.path().join("f");
    fs::write(&f, b"").unwrap();
    let fan = or_skip!(util::fanotify::group(InitFlags::CLASS_NOTIF));
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
fn mntns_mark_reports_mount_attach_and_detach() {
    if util::in_mount_ns() {
        return;
    }
    let dir = util::tmpfs();
    let fan = match kernfd::fanotify::Fanotify::new(InitFlags::REPORT_MNT) {
        Err(err) if err.errno() == Some(Errno::INVAL) => skip!("FAN_REPORT_MNT needs Linux 6.14"),
        r => or_skip!(util::fanotify::privileged(r, "fanotify_init(REPORT_MNT)")),
    };
    // The child's own mount namespace (unshared before exec).
    let ns = rustix::fs::open("/proc/self/ns/mnt", OFlags::RDONLY, 0.into()).unwrap();
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
