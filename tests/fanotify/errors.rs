//! The errors the kernel gives for bad groups, marks and reads, and those
//! of a caller without the capabilities fanotify checks.

use std::fs;

use kernfd::fanotify::{self, EventFlags, InitFlags, MarkFlags, MarkType};
use kernfd::{Errno, Error};
use rustix::fs::{CWD, OFlags};

use crate::util;

#[test]
#[allow(clippy::too_many_lines)]
fn error_paths_of_init_and_mark() {
    if util::in_mount_ns() {
        return;
    }
    let dir = util::tmpfs();
    let file = dir.path().join("file");
    fs::write(&file, b"").unwrap();
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(dir.path(), &link).unwrap();
    // Unprivileged, fanotify_init answers EPERM before it checks flags.
    let fan = or_skip!(util::fanotify::group(InitFlags::CLASS_NOTIF));
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
    // Mark requests the kernel refuses, each with the rule it breaks.
    let (add, open) = (MarkFlags::ADD, EventFlags::OPEN);
    let (ignore_both, onlydir) = (
        add | MarkFlags::IGNORE | MarkFlags::IGNORED_MASK,
        add | MarkFlags::ONLYDIR,
    );
    for (flags, mask, path, want, rule) in [
        (
            add | MarkFlags::REMOVE,
            open,
            &file,
            Errno::INVAL,
            "ADD and REMOVE together",
        ),
        (
            MarkFlags::empty(),
            open,
            &file,
            Errno::INVAL,
            "neither ADD nor REMOVE",
        ),
        (
            add,
            EventFlags::empty(),
            &file,
            Errno::INVAL,
            "an empty mask",
        ),
        (
            add,
            EventFlags::CREATE,
            &dir.path().to_owned(),
            Errno::INVAL,
            "dirent events need FID mode",
        ),
        (
            ignore_both,
            open,
            &file,
            Errno::INVAL,
            "IGNORE and IGNORED_MASK together",
        ),
        (onlydir, open, &file, Errno::NOTDIR, "ONLYDIR on a file"),
        (
            onlydir | MarkFlags::DONT_FOLLOW,
            open,
            &link,
            Errno::NOTDIR,
            "ONLYDIR on a symlink not followed",
        ),
    ] {
        assert_eq!(
            fan.mark(flags, mask, CWD, path).map_err(|e| e.errno()),
            Err(Some(want)),
            "{rule}"
        );
    }
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
    if util::in_mount_ns() {
        return;
    }
    let dir = util::tmpfs();
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
    let fan = or_skip!(util::fanotify::group(InitFlags::REPORT_FID));
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
    if util::is_root() {
        fanotify::open_by_handle_at(&mount, handle, OFlags::PATH).unwrap();
        caps.effective -= rustix::thread::CapabilitySet::DAC_READ_SEARCH;
        rustix::thread::set_capabilities(None, caps).unwrap();
    }
    // Unprivileged, the capability in our own user namespace is not enough.
    assert_eq!(
        fanotify::open_by_handle_at(&mount, handle, OFlags::PATH).err(),
        Some(Errno::PERM)
    );
}
