//! FID mode: file handles, directory handles with names, rename
//! records, and what `FIONREAD` counts.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;

use kernfd::Errno;
use kernfd::fanotify::{self, EventFlags, FidKind, Info, InitFlags, MarkType};
use rustix::fs::OFlags;

use crate::{fid_events, util};

#[test]
fn filesystem_mark_fid_dfid_name_target_and_rename() {
    if util::in_mount_ns() {
        return;
    }
    let dir = util::tmpfs();
    let fan = or_skip!(util::fanotify::group(InitFlags::REPORT_DFID_NAME_TARGET));
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
    // Unprivileged, the kernel refuses before it looks the handle up.
    let want = if util::is_root() {
        Errno::STALE
    } else {
        Errno::PERM
    };
    assert_eq!(
        fanotify::open_by_handle_at(&mount, target, OFlags::RDONLY).unwrap_err(),
        want
    );
}

#[test]
fn dfid_without_name_and_fid_only() {
    if util::in_mount_ns() {
        return;
    }
    let dir = util::tmpfs();
    let mount = rustix::fs::open(dir.path(), OFlags::RDONLY | OFlags::DIRECTORY, 0.into()).unwrap();
    let root_ino = fs::metadata(dir.path()).unwrap().ino();
    // REPORT_DIR_FID alone: a DFID record without name.
    let fan = or_skip!(util::fanotify::group(InitFlags::REPORT_DIR_FID));
    fan.add(MarkType::Filesystem, EventFlags::CREATE, dir.path())
        .unwrap();
    // REPORT_FID alone: create reports the directory as FID.
    let fan2 = or_skip!(util::fanotify::group(InitFlags::REPORT_FID));
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
fn names_of_every_length_read_back_exactly() {
    // Every name length 1..=255 (NAME_MAX), so every amount of the
    // kernel's padding (0 to 3 NULs after the name's own) is met, through
    // both ways `fid()` decodes: one DFID_NAME record checked whole, and
    // the walk over two records (DFID_NAME then FID, `REPORT_TARGET_FID`).
    if util::in_mount_ns() {
        return;
    }
    for flags in [
        InitFlags::REPORT_DFID_NAME,
        InitFlags::REPORT_DFID_NAME_TARGET,
    ] {
        let dir = util::tmpfs();
        let fan = or_skip!(util::fanotify::group(flags));
        fan.add(MarkType::Filesystem, EventFlags::CREATE, dir.path())
            .unwrap();
        let mut buf = vec![0_u8; 64 * 1024];
        for len in 1..=255_usize {
            // Distinct bytes in every position, and no NUL.
            let name: Vec<u8> = (0..len).map(|i| b'a' + ((i + len) % 26) as u8).collect();
            let path = dir.path().join(std::ffi::OsStr::from_bytes(&name));
            fs::write(&path, b"").unwrap();
            let mut events = fan.read(&mut buf[..]).unwrap();
            let e = events.next().unwrap().unwrap();
            assert_eq!(e.mask(), EventFlags::CREATE);
            let fid = e.fid().unwrap();
            assert_eq!(fid.kind(), FidKind::DfidName);
            assert_eq!(fid.name_bytes(), Some(&name[..]), "length {len}");
            assert_eq!(fid.name().map(std::ffi::CStr::to_bytes), Some(&name[..]));
            // The same record through the full walk.
            let first = e.infos().find_map(|i| match i {
                Info::Fid(f) => Some(f),
                _ => None,
            });
            assert_eq!(first, Some(fid));
            assert_eq!(
                e.infos().count(),
                if flags == InitFlags::REPORT_DFID_NAME {
                    1
                } else {
                    2
                }
            );
            drop(e);
            assert!(events.next().is_none());
        }
    }
}
