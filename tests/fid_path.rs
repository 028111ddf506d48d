//! From a fanotify FID record to a path: a live file, a deleted directory
//! (`ESTALE`, its own outcome) and a non-UTF-8 name.

mod util;

use std::fs;
use std::os::unix::ffi::OsStrExt;

use kernfd::fanotify::{self, EventFlags, Fanotify, FidKind, FidPath, InitFlags, MarkType};
use kernfd::{Errno, Error};

#[test]
fn fid_records_resolve_to_paths_and_a_vanished_directory_is_stale() {
    if util::in_mount_ns() {
        return;
    }
    let dir = util::tmpfs();
    let root = dir.path();
    let sub = root.join("sub");
    fs::create_dir(&sub).unwrap();
    let fan = or_skip!(Fanotify::new(InitFlags::REPORT_DFID_NAME_TARGET));
    or_skip!(fan.add(
        MarkType::Filesystem,
        EventFlags::CREATE | EventFlags::ONDIR,
        root
    ));
    let mount = fs::File::open(root).unwrap();
    let odd = std::ffi::OsStr::from_bytes(b"caf\xe9 \xff.txt");
    fs::write(sub.join(odd), b"").unwrap();

    let mut buf = [0_u8; 4096];
    let event = fan.read(&mut buf).unwrap().next().unwrap().unwrap();
    let fids: Vec<_> = event
        .infos()
        .filter_map(|i| match i {
            fanotify::Info::Fid(f) => Some(f),
            _ => None,
        })
        .collect();
    let dfid_name = fids.iter().find(|f| f.kind() == FidKind::DfidName).unwrap();
    let child = fids.iter().find(|f| f.kind() == FidKind::Fid).unwrap();

    let mut path = [0_u8; 4096 + 256];
    if !util::is_root() {
        // Opening a handle needs CAP_DAC_READ_SEARCH in the initial namespace.
        assert_eq!(
            fanotify::fid_path(&mount, dfid_name, &mut path),
            Err(Error::os("open_by_handle_at", Errno::PERM))
        );
        skip!("open_by_handle_at needs CAP_DAC_READ_SEARCH");
    }
    let mut want = sub.as_os_str().as_bytes().to_vec();
    want.push(b'/');
    want.extend_from_slice(odd.as_bytes());
    // The directory and the name, non-UTF-8 bytes as they are.
    assert_eq!(
        fanotify::fid_path(&mount, dfid_name, &mut path),
        Ok(FidPath::Path(&want[..]))
    );
    // The object itself.
    assert_eq!(
        fanotify::fid_path(&mount, child, &mut path),
        Ok(FidPath::Path(&want[..]))
    );
    assert_eq!(
        fanotify::fid_path_buf(&mount, dfid_name).unwrap().unwrap(),
        std::path::PathBuf::from(std::ffi::OsStr::from_bytes(&want))
    );
    // Too small a buffer for the path and the name: ENAMETOOLONG.
    let mut small = [0_u8; 8];
    assert_eq!(
        fanotify::fid_path(&mount, dfid_name, &mut small),
        Err(Error::os("readlink", Errno::NAMETOOLONG))
    );
    // Gone: the file and its directory deleted, no reference left.
    fs::remove_file(sub.join(odd)).unwrap();
    fs::remove_dir(&sub).unwrap();
    assert_eq!(
        fanotify::fid_path(&mount, dfid_name, &mut path),
        Ok(FidPath::Stale)
    );
    assert_eq!(fanotify::fid_path_buf(&mount, child).unwrap(), None);
}
