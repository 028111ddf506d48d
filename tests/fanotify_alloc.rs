//! The fanotify read and parse paths make no heap allocation, in fd mode
//! (owned event fds) and in FID + `DFID_NAME` mode (info records walked in
//! place), proven with a counting global allocator.

#[macro_use]
mod util;

use std::fs;

use kernfd::fanotify::{self, EventFlags, Info, InitFlags, MarkType};

#[global_allocator]
static A: util::CountingAlloc = util::CountingAlloc;

#[test]
fn read_and_parse_do_not_allocate() {
    if util::in_mount_ns() {
        return;
    }
    let (dir, fid) = or_skip!(util::fanotify::watched_tmpfs(
        InitFlags::REPORT_DFID_NAME | InitFlags::REPORT_FID,
        MarkType::Filesystem,
        EventFlags::CREATE | EventFlags::DELETE | EventFlags::ONDIR,
    ));
    let fdm = or_skip!(util::fanotify::group(
        InitFlags::CLASS_NOTIF | InitFlags::NONBLOCK
    ));
    fdm.add(MarkType::Mount, EventFlags::CLOSE_WRITE, dir.path())
        .unwrap();
    for i in 0..200 {
        fs::write(dir.path().join(i.to_string()), b"x").unwrap();
    }
    let mut buf = [0_u8; 8192];
    let mut path = [0_u8; 4096];
    let ((names, fds, parsed), allocs) = util::count_allocs(|| {
        let (mut names, mut fds, mut parsed) = (0, 0, 0);
        for e in fid.read(&mut buf).unwrap() {
            let e = e.unwrap();
            for i in e.infos() {
                if let Info::Fid(f) = i {
                    names += usize::from(f.name_bytes().is_some_and(|n| !n.is_empty()));
                }
            }
        }
        parsed += fanotify::parse(&buf).take_while(Result::is_ok).count();
        let mut b2 = [0_u8; 4096];
        while let Ok(events) = fdm.read(&mut b2) {
            for e in events {
                let e = e.unwrap();
                fds += usize::from(fanotify::fd_path(e.borrow_fd().unwrap(), &mut path).is_ok());
            }
        }
        let _ = fdm.drain(&mut b2, |_| {});
        (names, fds, parsed)
    });
    assert!(names > 10, "{names}");
    assert_eq!(fds, 200);
    assert!(parsed > 10);
    assert_eq!(allocs, 0, "the read and parse paths allocated");
}
