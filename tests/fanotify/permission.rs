//! Permission events: allow, deny, deny with an errno, audit responses,
//! and pre-content events with their ranges.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;

use kernfd::fanotify::{self, AuditRule, EventFlags, Info, InitFlags, MarkType, Response};
use kernfd::{Errno, Error};

use crate::util;
use crate::util::fanotify::{Permission, blocked_open};

/// Runs `cat path` as a second process in a thread; returns its handle.
fn cat(path: &Path) -> std::thread::JoinHandle<std::process::Output> {
    let path = path.to_owned();
    std::thread::spawn(move || Command::new("cat").arg(path).output().unwrap())
}

#[test]
fn permission_allow_and_deny_seen_from_a_second_process() {
    if util::in_mount_ns() {
        return;
    }
    let dir = util::tmpfs();
    let secret = dir.path().join("secret");
    let public = dir.path().join("public");
    fs::write(&secret, b"no").unwrap();
    fs::write(&public, b"yes").unwrap();
    let fan = or_skip!(util::fanotify::group(InitFlags::CLASS_CONTENT));
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
    if util::in_mount_ns() {
        return;
    }
    let mut p = or_skip!(Permission::new(InitFlags::CLASS_PRE_CONTENT));
    let (opener, e) = blocked_open(&p.fan, &p.file, &mut p.buf);
    // A custom errno outside the kernel's list is refused...
    let refused = p
        .fan
        .respond(&e, Response::deny_with(Errno::NOENT).unwrap());
    // ...and one inside it reaches the opener.
    match p.fan.respond(&e, Response::deny_with(Errno::BUSY).unwrap()) {
        Ok(()) => {
            assert_eq!(refused.map_err(|e| e.errno()), Err(Some(Errno::INVAL)));
            let err = opener.join().unwrap().unwrap_err();
            assert_eq!(err.raw_os_error(), Some(Errno::BUSY.raw_os_error()));
        }
        Err(err) if err.errno() == Some(Errno::INVAL) => {
            p.fan.respond(&e, Response::DENY).unwrap();
            opener.join().unwrap().unwrap_err();
            skip!("FAN_DENY_ERRNO needs Linux 6.14");
        }
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn custom_errno_is_einval_outside_pre_content() {
    if util::in_mount_ns() {
        return;
    }
    let mut p = or_skip!(Permission::new(InitFlags::CLASS_CONTENT));
    let (opener, e) = blocked_open(&p.fan, &p.file, &mut p.buf);
    assert_eq!(
        p.fan
            .respond(&e, Response::deny_with(Errno::BUSY).unwrap())
            .map_err(|e| e.errno()),
        Err(Some(Errno::INVAL))
    );
    // Auditing without ENABLE_AUDIT is EINVAL too.
    assert_eq!(
        p.fan
            .respond(&e, Response::ALLOW.audit())
            .map_err(|e| e.errno()),
        Err(Some(Errno::INVAL))
    );
    p.fan.respond(&e, Response::ALLOW).unwrap();
    opener.join().unwrap().unwrap();
}

#[test]
fn audit_responses_with_enable_audit() {
    if util::in_mount_ns() {
        return;
    }
    let fan = match fanotify::Fanotify::new(InitFlags::CLASS_CONTENT | InitFlags::ENABLE_AUDIT) {
        // Root without CAP_AUDIT_WRITE gets EPERM too.
        Err(err) if err.errno() == Some(Errno::PERM) && util::is_root() => {
            skip!("ENABLE_AUDIT needs CAP_AUDIT_WRITE")
        }
        r => or_skip!(util::fanotify::privileged(
            r,
            "fanotify_init(CLASS_CONTENT|ENABLE_AUDIT)"
        )),
    };
    let mut p = Permission::with_group(fan);
    for response in [
        Response::ALLOW.audit(),
        Response::ALLOW.audit().audit_rule(AuditRule {
            rule_number: 42,
            subj_trust: 2,
            obj_trust: 2,
        }),
    ] {
        let (opener, e) = blocked_open(&p.fan, &p.file, &mut p.buf);
        match p.fan.respond(&e, response) {
            Ok(()) => opener.join().unwrap().unwrap(),
            // Kernels without audit support refuse FAN_AUDIT / FAN_INFO.
            Err(Error::Os { errno: err, .. }) => {
                p.fan.respond(&e, Response::ALLOW).unwrap();
                opener.join().unwrap().unwrap();
                skip!("audit response refused with {err}: no audit support in this kernel");
            }
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn pre_access_reports_a_range_on_ext4() {
    if util::in_mount_ns() {
        return;
    }
    let dir = util::tmpfs();
    // tmpfs has no pre-content hooks: the mark is refused.
    let fan = or_skip!(util::fanotify::group(InitFlags::CLASS_PRE_CONTENT));
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
