//! Captures real kernel reads of every fanotify record type this kernel
//! emits here (fd mode, `FID`, `DFID`, `DFID_NAME`, `OLD/NEW_DFID_NAME`, `PIDFD`, `MNT`,
//! overflow), checks that each parses cleanly, and with
//! `KERNFD_FUZZ_SEEDS=DIR` writes them there as `seed-*` files for the
//! `fanotify_parse` fuzz target (`fuzz/corpus/fanotify_parse/`).

#[macro_use]
mod util;

use std::fs;

use kernfd::fanotify::{self, EventFlags, Fanotify, Info, InitFlags, MarkFlags, MarkType};

/// Reads once, checks the bytes parse with no error, saves them.
fn capture(fan: &Fanotify, name: &str, want: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    let mut buf = vec![0_u8; 65536];
    let events = fan.read(&mut buf[..]).unwrap();
    let bytes = events.remainder().to_vec();
    drop(events); // closes any event fds
    for e in fanotify::parse(&bytes) {
        assert!(
            !matches!(e, Err(fanotify::EventError::Malformed(_))),
            "{name}: {e:?}"
        );
    }
    assert!(want(&bytes), "{name}: the capture lacks what it is for");
    if let Some(dir) = std::env::var_os("KERNFD_FUZZ_SEEDS") {
        fs::create_dir_all(&dir).unwrap();
        fs::write(
            std::path::Path::new(&dir).join(format!("seed-{name}")),
            &bytes,
        )
        .unwrap();
    }
    bytes
}

fn has(bytes: &[u8], f: impl Fn(&Info<'_>) -> bool) -> bool {
    fanotify::parse(bytes)
        .filter_map(Result::ok)
        .any(|e| e.infos().any(|i| f(&i)))
}

#[test]
#[allow(clippy::too_many_lines)]
fn capture_every_record_type() {
    if util::in_mount_ns() {
        return;
    }
    let dir = util::tmpfs();
    let d = dir.path();

    let fan = or_skip!(util::fanotify::group(InitFlags::CLASS_NOTIF));
    fan.add(MarkType::Mount, EventFlags::OPEN | EventFlags::CLOSE, d)
        .unwrap();
    fs::write(d.join("a"), b"1").unwrap();
    fs::read(d.join("a")).unwrap();
    capture(&fan, "fd-mode", |b| fanotify::parse(b).count() >= 1);

    let fan = or_skip!(util::fanotify::group(
        InitFlags::REPORT_DFID_NAME_TARGET | InitFlags::REPORT_PIDFD
    ));
    fan.add(
        MarkType::Filesystem,
        EventFlags::CREATE | EventFlags::RENAME | EventFlags::MOVE | EventFlags::ONDIR,
        d,
    )
    .unwrap();
    fs::create_dir(d.join("sub")).unwrap();
    fs::write(d.join("b"), b"").unwrap();
    fs::rename(d.join("b"), d.join("sub/c")).unwrap();
    capture(&fan, "fid-dfid-name-rename-pidfd", |b| {
        has(b, |i| matches!(i, Info::Pidfd(_)))
            && has(
                b,
                |i| matches!(i, Info::Fid(f) if f.kind() == fanotify::FidKind::OldDfidName),
            )
    });

    let fan = or_skip!(util::fanotify::group(
        InitFlags::REPORT_DIR_FID | InitFlags::REPORT_FID
    ));
    fan.add(
        MarkType::Filesystem,
        EventFlags::CREATE | EventFlags::ATTRIB,
        d,
    )
    .unwrap();
    fs::write(d.join("e"), b"").unwrap();
    rustix::fs::chmod(d.join("e"), 0o600.into()).unwrap();
    capture(&fan, "fid-dfid", |b| {
        has(
            b,
            |i| matches!(i, Info::Fid(f) if f.kind() == fanotify::FidKind::Dfid),
        )
    });

    if let Ok(fan) = Fanotify::new(InitFlags::REPORT_MNT) {
        let ns = rustix::fs::open(
            "/proc/thread-self/ns/mnt",
            rustix::fs::OFlags::RDONLY,
            0.into(),
        )
        .unwrap();
        fan.mark_fd(
            MarkFlags::ADD | MarkFlags::MNTNS,
            EventFlags::MNT_ATTACH | EventFlags::MNT_DETACH,
            &ns,
        )
        .unwrap();
        fs::create_dir(d.join("m")).unwrap();
        rustix::mount::mount(
            "x",
            d.join("m"),
            "tmpfs",
            rustix::mount::MountFlags::empty(),
            None,
        )
        .unwrap();
        rustix::mount::unmount(d.join("m"), rustix::mount::UnmountFlags::empty()).unwrap();
        capture(&fan, "mnt", |b| has(b, |i| matches!(i, Info::Mnt { .. })));
    } else {
        util::skipped(module_path!(), "no FAN_REPORT_MNT here, no mnt seed");
    }

    // The group copies max_queued_events at init: read it then.
    let (fan, limit) = util::with_limit("/proc/sys/fs/fanotify/max_queued_events", || {
        util::fanotify::group(InitFlags::REPORT_DFID_NAME | InitFlags::NONBLOCK)
    });
    let fan = or_skip!(fan);
    fan.add(MarkType::Filesystem, EventFlags::CREATE, d)
        .unwrap();
    fs::create_dir(d.join("many")).unwrap();
    for i in 0..=limit {
        fs::File::create(d.join("many").join(i.to_string())).unwrap();
    }
    // Read until the read that holds the overflow record.
    let mut buf = vec![0_u8; 65536];
    loop {
        let events = fan.read(&mut buf[..]).unwrap();
        let bytes = events.remainder().to_vec();
        drop(events);
        if fanotify::parse(&bytes).any(|e| e == Err(fanotify::EventError::QueueOverflow)) {
            // Keep the last three records: a fuzz input stays small.
            let mut ends = vec![0];
            let mut it = fanotify::parse(&bytes);
            while it.next().is_some() {
                ends.push(it.offset());
            }
            let tail = &bytes[ends[ends.len().saturating_sub(4)]..];
            assert!(fanotify::parse(tail).any(|e| e == Err(fanotify::EventError::QueueOverflow)));
            if let Some(dir) = std::env::var_os("KERNFD_FUZZ_SEEDS") {
                fs::write(std::path::Path::new(&dir).join("seed-overflow"), tail).unwrap();
            }
            break;
        }
    }
}
