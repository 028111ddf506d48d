//! Mounts against the kernel. Every test that mounts runs in a child
//! process in a fresh, private mount namespace (and a user namespace when
//! not root), on a tmpfs laid over `/tmp` in that namespace only: the
//! machine's mount table never changes.

mod util;

use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use kernfd::mount::{
    self, FsConfig, FsContext, FsMountFlags, FsOpenFlags, FsPickFlags, Mount, MountAttr,
    MountAttrFlags, MountFlags, MoveMountFlags, OpenTreeFlags, Propagation, SetAttrFlags,
    UnmountFlags,
};
use kernfd::{Errno, Error};
use rustix::fd::{AsFd, BorrowedFd};
use rustix::fs::CWD;
use rustix::thread::UnshareFlags;

/// Runs the rest of the test in a child in a fresh mount namespace, or
/// skips when this user cannot have one.
macro_rules! in_mount_ns {
    ($name:literal) => {
        let Some(ns) = util::sandbox_ns(UnshareFlags::NEWNS) else {
            skip!("this user cannot create a user namespace");
        };
        if util::in_child_ns($name, ns) {
            return;
        }
    };
}

/// A tmpfs over `/tmp`, in this (private) mount namespace only: a scratch
/// area whose files vanish with the namespace, leaving the host's `/tmp`
/// untouched.
fn scratch() -> PathBuf {
    mount::mount("tmpfs", "/tmp", "tmpfs", MountFlags::empty(), None).unwrap();
    PathBuf::from("/tmp")
}

fn mkdir(base: &Path, name: &str) -> PathBuf {
    let p = base.join(name);
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn tmpfs(target: &Path) {
    mount::mount("tmpfs", target, "tmpfs", MountFlags::empty(), None).unwrap();
}

/// The errno of creating a file in `dir`, or `None` when it worked.
fn write_errno(dir: &Path) -> Option<Errno> {
    match std::fs::File::create(dir.join("probe")) {
        Ok(mut f) => {
            f.write_all(b"x").unwrap();
            None
        }
        Err(e) => Some(Errno::from_io_error(&e).unwrap()),
    }
}

/// The last `/proc/thread-self/mountinfo` line for mount point `path`.
fn mountinfo(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string("/proc/thread-self/mountinfo").unwrap();
    text.lines()
        .rfind(|l| l.split(' ').nth(4) == Some(path.to_str().unwrap()))
        .map(str::to_owned)
}

/// The per-mount options (field 6) and the optional fields (propagation).
fn mount_opts(path: &Path) -> (String, String) {
    let line = mountinfo(path).unwrap_or_else(|| panic!("{} is not a mount", path.display()));
    let fields: Vec<&str> = line.split(' ').collect();
    let dash = fields.iter().position(|f| *f == "-").unwrap();
    (fields[5].to_owned(), fields[6..dash].join(" "))
}

/// Whether a mount sits at `path` (a tmpfs, in these tests).
fn is_tmpfs(path: &Path) -> bool {
    rustix::fs::statfs(path).unwrap().f_type == 0x0102_1994 && mountinfo(path).is_some()
}

/// A descriptor number far above any open one: EBADF from the kernel.
fn bad_fd() -> BorrowedFd<'static> {
    // SAFETY: the number is not open, so no owner's descriptor is borrowed;
    // calls given it fail with EBADF before touching anything.
    unsafe { BorrowedFd::borrow_raw(1 << 20) }
}

#[test]
fn mount_tmpfs_then_umount() {
    in_mount_ns!("mount_tmpfs_then_umount");
    let base = scratch();
    let a = mkdir(&base, "a");
    mount::mount(
        "kernfd-test",
        &a,
        "tmpfs",
        MountFlags::NOSUID | MountFlags::NODEV,
        Some(c"size=1m,mode=0700"),
    )
    .unwrap();
    assert!(is_tmpfs(&a));
    let line = mountinfo(&a).unwrap();
    assert!(line.contains("nosuid,nodev"), "{line}");
    assert!(
        line.contains("kernfd-test") && line.contains("size=1024k"),
        "{line}"
    );
    assert_eq!(write_errno(&a), None);
    mount::umount2(&a, UnmountFlags::empty()).unwrap();
    assert!(!a.join("probe").exists());
    // No longer a mount point.
    assert_eq!(mount::umount2(&a, UnmountFlags::empty()), Err(Errno::INVAL));
    // Unknown filesystem type, missing target, a bit the kernel refuses.
    assert_eq!(
        mount::mount("none", &a, "kernfd-no-such-fs", MountFlags::empty(), None),
        Err(Errno::NODEV)
    );
    assert_eq!(
        mount::mount(
            "none",
            base.join("missing"),
            "tmpfs",
            MountFlags::empty(),
            None
        ),
        Err(Errno::NOENT)
    );
    assert_eq!(
        mount::mount(
            "none",
            &a,
            "tmpfs",
            MountFlags::from_bits_retain(1 << 31), // MS_NOUSER
            None
        ),
        Err(Errno::INVAL)
    );
    // A bad option reaches tmpfs: EINVAL.
    assert_eq!(
        mount::mount(
            "none",
            &a,
            "tmpfs",
            MountFlags::empty(),
            Some(c"nosuchopt=1")
        ),
        Err(Errno::INVAL)
    );
}

#[test]
fn bind_and_recursive_bind() {
    in_mount_ns!("bind_and_recursive_bind");
    let base = scratch();
    let a = mkdir(&base, "a");
    std::fs::write(a.join("top"), b"1").unwrap();
    let sub = mkdir(&a, "sub");
    tmpfs(&sub);
    std::fs::write(sub.join("inner"), b"2").unwrap();
    let b = mkdir(&base, "b");
    let c = mkdir(&base, "c");
    mount::bind(&a, &b).unwrap();
    assert!(b.join("top").exists());
    assert!(
        !b.join("sub/inner").exists(),
        "plain bind leaves submounts out"
    );
    mount::bind_recursive(&a, &c).unwrap();
    assert!(c.join("sub/inner").exists(), "recursive bind brings them");
    // A file can be bound onto a file.
    std::fs::write(base.join("f1"), b"one").unwrap();
    std::fs::write(base.join("f2"), b"two").unwrap();
    mount::bind(base.join("f1"), base.join("f2")).unwrap();
    assert_eq!(std::fs::read(base.join("f2")).unwrap(), b"one");
    assert_eq!(mount::bind(base.join("missing"), &b), Err(Errno::NOENT));
    assert_eq!(
        mount::bind_recursive(&a, base.join("missing")),
        Err(Errno::NOENT)
    );
}

#[test]
fn read_only_remounts_give_erofs() {
    in_mount_ns!("read_only_remounts_give_erofs");
    let base = scratch();
    let a = mkdir(&base, "a");
    let b = mkdir(&base, "b");
    mount::bind(&a, &b).unwrap();
    mount::remount_bind(&b, MountFlags::RDONLY).unwrap();
    assert_eq!(write_errno(&b), Some(Errno::ROFS));
    assert_eq!(write_errno(&a), None, "the bind's source stays writable");
    assert!(mount_opts(&b).0.starts_with("ro"));
    mount::remount_bind(&b, MountFlags::empty()).unwrap();
    assert_eq!(write_errno(&b), None);
    // The superblock itself: every mount of it goes read-only.
    let c = mkdir(&base, "c");
    tmpfs(&c);
    let d = mkdir(&base, "d");
    mount::bind(&c, &d).unwrap();
    mount::remount(&c, MountFlags::RDONLY, None).unwrap();
    assert_eq!(write_errno(&c), Some(Errno::ROFS));
    assert_eq!(write_errno(&d), Some(Errno::ROFS));
    mount::remount(&c, MountFlags::empty(), Some(c"size=2m")).unwrap();
    assert_eq!(write_errno(&d), None);
    // Not a mount point.
    assert_eq!(
        mount::remount_bind(&a, MountFlags::RDONLY),
        Err(Errno::INVAL)
    );
    assert_eq!(
        mount::remount(base.join("missing"), MountFlags::RDONLY, None),
        Err(Errno::NOENT)
    );
}

#[test]
fn propagation_types() {
    in_mount_ns!("propagation_types");
    let base = scratch();
    let a = mkdir(&base, "a");
    tmpfs(&a);
    mount::set_propagation(&a, Propagation::Shared, false).unwrap();
    assert!(mount_opts(&a).1.contains("shared:"));
    let b = mkdir(&base, "b");
    mount::bind(&a, &b).unwrap(); // b joins a's peer group
    mkdir(&a, "x");
    tmpfs(&a.join("x"));
    assert!(is_tmpfs(&b.join("x")), "a mount under shared a reaches b");
    // b a slave of a: events flow a -> b only.
    mount::set_propagation(&b, Propagation::Slave, false).unwrap();
    assert!(mount_opts(&b).1.contains("master:"));
    mkdir(&a, "y");
    tmpfs(&a.join("y"));
    assert!(is_tmpfs(&b.join("y")));
    std::fs::create_dir(b.join("z")).unwrap();
    tmpfs(&b.join("z"));
    assert!(!is_tmpfs(&a.join("z")), "nothing flows back from a slave");
    // Recursive private: a and every mount below lose "shared:".
    mount::set_propagation(&a, Propagation::Private, true).unwrap();
    assert!(!mount_opts(&a).1.contains("shared:"));
    assert!(!mount_opts(&a.join("x")).1.contains("shared:"));
    mkdir(&a, "w");
    tmpfs(&a.join("w"));
    assert!(!is_tmpfs(&b.join("w")), "private: nothing flows");
    // Unbindable: a bind of it fails.
    mount::set_propagation(&a, Propagation::Unbindable, false).unwrap();
    assert!(mount_opts(&a).1.contains("unbindable"));
    let c = mkdir(&base, "c");
    assert_eq!(mount::bind(&a, &c), Err(Errno::INVAL));
    // Through mount() with the raw flags too.
    mount::mount("", &a, "", MountFlags::SHARED | MountFlags::REC, None).unwrap();
    assert!(mount_opts(&a.join("x")).1.contains("shared:"));
    // Not a mount point, missing.
    assert_eq!(
        mount::set_propagation(base.join("c"), Propagation::Private, false),
        Err(Errno::INVAL)
    );
    assert_eq!(
        mount::set_propagation(base.join("missing"), Propagation::Private, false),
        Err(Errno::NOENT)
    );
}

#[test]
fn move_mount_legacy_moves() {
    in_mount_ns!("move_mount_legacy_moves");
    let base = scratch();
    let a = mkdir(&base, "a");
    let b = mkdir(&base, "b");
    tmpfs(&a);
    std::fs::write(a.join("f"), b"moved").unwrap();
    mount::move_mount_legacy(&a, &b).unwrap();
    assert_eq!(std::fs::read(b.join("f")).unwrap(), b"moved");
    assert!(mountinfo(&a).is_none());
    assert_eq!(mount::move_mount_legacy(&a, &b), Err(Errno::INVAL));
}

#[test]
fn umount2_flags() {
    in_mount_ns!("umount2_flags");
    let base = scratch();
    let a = mkdir(&base, "a");
    tmpfs(&a);
    // Busy: an open directory inside.
    let dir = std::fs::File::open(&a).unwrap();
    assert_eq!(mount::umount2(&a, UnmountFlags::empty()), Err(Errno::BUSY));
    // DETACH: gone from the tree at once, though still busy.
    mount::umount2(&a, UnmountFlags::DETACH).unwrap();
    assert!(mountinfo(&a).is_none());
    drop(dir);
    // EXPIRE: the first call marks (EAGAIN), the second unmounts.
    tmpfs(&a);
    assert_eq!(mount::umount2(&a, UnmountFlags::EXPIRE), Err(Errno::AGAIN));
    mount::umount2(&a, UnmountFlags::EXPIRE).unwrap();
    assert!(mountinfo(&a).is_none());
    // EXPIRE with DETACH or FORCE is refused.
    tmpfs(&a);
    assert_eq!(
        mount::umount2(&a, UnmountFlags::EXPIRE | UnmountFlags::DETACH),
        Err(Errno::INVAL)
    );
    // FORCE on a filesystem without umount_begin: a plain unmount.
    mount::umount2(&a, UnmountFlags::FORCE).unwrap();
    // NOFOLLOW: a symlink to a mount point is not one.
    tmpfs(&a);
    std::os::unix::fs::symlink(&a, base.join("link")).unwrap();
    assert_eq!(
        mount::umount2(base.join("link"), UnmountFlags::NOFOLLOW),
        Err(Errno::INVAL)
    );
    mount::umount2(base.join("link"), UnmountFlags::empty()).unwrap();
    assert!(mountinfo(&a).is_none());
    // Unknown flag, missing path, not a mount point.
    tmpfs(&a);
    assert_eq!(
        mount::umount2(&a, UnmountFlags::from_bits_retain(0x100)),
        Err(Errno::INVAL)
    );
    assert_eq!(
        mount::umount2(base.join("missing"), UnmountFlags::empty()),
        Err(Errno::NOENT)
    );
    let plain = mkdir(&base, "plain");
    assert_eq!(
        mount::umount2(&plain, UnmountFlags::empty()),
        Err(Errno::INVAL)
    );
}

#[test]
fn pivot_root_then_detach_the_old_root() {
    in_mount_ns!("pivot_root_then_detach_the_old_root");
    let base = scratch();
    let new = mkdir(&base, "new");
    tmpfs(&new);
    std::fs::write(new.join("marker"), b"new root").unwrap();
    mkdir(&new, "old");
    mount::pivot_root(&new, new.join("old")).unwrap();
    std::env::set_current_dir("/").unwrap();
    assert_eq!(std::fs::read("/marker").unwrap(), b"new root");
    // The old root, with the scratch tmpfs still on its /tmp; the new
    // root's mount has left /old/tmp/new, an empty directory now.
    assert!(Path::new("/old/tmp/new").is_dir());
    assert!(!Path::new("/old/tmp/new/marker").exists());
    mount::umount2("/old", UnmountFlags::DETACH).unwrap();
    std::fs::remove_dir("/old").unwrap();
    let names: Vec<_> = std::fs::read_dir("/")
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["marker"]);
}

#[test]
fn pivot_root_dot_dot() {
    in_mount_ns!("pivot_root_dot_dot");
    let base = scratch();
    let new = mkdir(&base, "new");
    tmpfs(&new);
    std::fs::write(new.join("marker"), b"x").unwrap();
    std::env::set_current_dir(&new).unwrap();
    // The old root is stacked on the new one, then detached.
    mount::pivot_root(".", ".").unwrap();
    mount::umount2(".", UnmountFlags::DETACH).unwrap();
    std::env::set_current_dir("/").unwrap();
    assert!(Path::new("/marker").exists());
}

#[test]
fn pivot_root_misuse() {
    in_mount_ns!("pivot_root_misuse");
    let base = scratch();
    let plain = mkdir(&base, "plain/old");
    let new = mkdir(&base, "new");
    tmpfs(&new);
    mkdir(&new, "old");
    // new_root not a mount point.
    assert_eq!(
        mount::pivot_root(base.join("plain"), &plain),
        Err(Errno::INVAL)
    );
    // put_old not at or below new_root.
    assert_eq!(mount::pivot_root(&new, &plain), Err(Errno::INVAL));
    assert_eq!(
        mount::pivot_root(base.join("missing"), new.join("old")),
        Err(Errno::NOENT)
    );
    std::fs::write(base.join("file"), b"").unwrap();
    assert_eq!(
        mount::pivot_root(base.join("file"), new.join("old")),
        Err(Errno::NOTDIR)
    );
    // A shared new_root parent is refused too.
    mount::set_propagation(&base, Propagation::Shared, false).unwrap();
    assert_eq!(mount::pivot_root(&new, new.join("old")), Err(Errno::INVAL));
    mount::set_propagation(&base, Propagation::Private, false).unwrap();
    // new_root is the current root: busy. In a user namespace the root
    // mount is locked (and pivot_root hands the lock to the new root), which
    // the kernel checks first and reports as EINVAL.
    let busy = if in_initial_user_ns() {
        Errno::BUSY
    } else {
        Errno::INVAL
    };
    assert_eq!(mount::pivot_root("/", "/tmp"), Err(busy));
    mount::pivot_root(&new, new.join("old")).unwrap();
    mount::umount2("/old", UnmountFlags::DETACH).unwrap();
    assert_eq!(mount::pivot_root("/", "/old"), Err(busy));
}

/// Whether this process is in the machine's user namespace (real root in
/// CI) rather than one the test made.
fn in_initial_user_ns() -> bool {
    std::fs::read_to_string("/proc/self/uid_map")
        .unwrap()
        .split_whitespace()
        .eq(["0", "0", "4294967295"])
}

#[test]
fn new_mount_api_owned() {
    in_mount_ns!("new_mount_api_owned");
    let base = scratch();
    let a = mkdir(&base, "a");
    let fs = FsContext::new("tmpfs").unwrap();
    fs.set_string("size", "1m").unwrap();
    fs.set_string("mode", "0755").unwrap();
    fs.create().unwrap();
    let mnt = fs
        .mount(MountAttrFlags::RDONLY | MountAttrFlags::NOEXEC)
        .unwrap();
    mnt.attach(&a).unwrap();
    assert!(is_tmpfs(&a));
    assert_eq!(write_errno(&a), Some(Errno::ROFS));
    let (opts, _) = mount_opts(&a);
    assert!(opts.starts_with("ro,") && opts.contains("noexec"), "{opts}");
    // Errors carry the call's name.
    assert_eq!(
        FsContext::new("kernfd-no-such-fs").err(),
        Some(Error::Os {
            call: "fsopen",
            errno: Errno::NODEV
        })
    );
    let fs = FsContext::new("tmpfs").unwrap();
    assert_eq!(
        fs.set_string("kernfd-no-such-key", "1").err(),
        Some(Error::Os {
            call: "fsconfig",
            errno: Errno::INVAL
        })
    );
    // fsmount before create: EINVAL.
    assert_eq!(
        fs.mount(MountAttrFlags::empty())
            .err()
            .and_then(|e| e.errno()),
        Some(Errno::INVAL)
    );
    // A flag parameter: "ro" makes the superblock read-only.
    fs.set_flag("ro").unwrap();
    fs.create().unwrap();
    let b = mkdir(&base, "b");
    fs.mount(MountAttrFlags::empty())
        .unwrap()
        .attach(&b)
        .unwrap();
    assert_eq!(write_errno(&b), Some(Errno::ROFS));
    // A context mounts once.
    let m = fs.mount(MountAttrFlags::empty());
    assert_eq!(
        m.err().and_then(|e| e.errno()),
        Some(Errno::BUSY),
        "one fsmount per context"
    );
    // fspick + reconfigure: make b's superblock writable again.
    let picked = FsContext::pick(&b).unwrap();
    picked.set_flag("rw").unwrap();
    picked.reconfigure().unwrap();
    assert_eq!(write_errno(&b), None);
    assert_eq!(
        FsContext::pick(base.join("missing")).err(),
        Some(Error::Os {
            call: "fspick",
            errno: Errno::NOENT
        })
    );
}

#[test]
fn new_mount_api_one_to_one() {
    in_mount_ns!("new_mount_api_one_to_one");
    let base = scratch();
    let a = mkdir(&base, "a");
    let fs = mount::fsopen("tmpfs", FsOpenFlags::CLOEXEC).unwrap();
    mount::fsconfig(&fs, FsConfig::String(c"size", c"64k")).unwrap();
    // tmpfs takes no binary, path or fd parameters: the kernel says so.
    assert_eq!(
        mount::fsconfig(&fs, FsConfig::Binary(c"size", b"1")),
        Err(Errno::INVAL)
    );
    assert_eq!(
        mount::fsconfig(&fs, FsConfig::Fd(c"size", fs.as_fd())),
        Err(Errno::INVAL)
    );
    mount::fsconfig(&fs, FsConfig::CreateExclusive).unwrap();
    // Created already: EBUSY.
    assert_eq!(mount::fsconfig(&fs, FsConfig::Create), Err(Errno::BUSY));
    let mnt = mount::fsmount(&fs, FsMountFlags::CLOEXEC, MountAttrFlags::NODEV).unwrap();
    mount::move_mount(&mnt, "", CWD, &a, MoveMountFlags::F_EMPTY_PATH).unwrap();
    assert!(is_tmpfs(&a));
    assert!(mount_opts(&a).0.contains("nodev"));
    // move_mount of an attached mount by path: moves it.
    let b = mkdir(&base, "b");
    mount::move_mount(CWD, &a, CWD, &b, MoveMountFlags::empty()).unwrap();
    assert!(is_tmpfs(&b) && !is_tmpfs(&a));
    assert_eq!(
        mount::move_mount(CWD, base.join("missing"), CWD, &a, MoveMountFlags::empty()),
        Err(Errno::NOENT)
    );
    assert_eq!(
        mount::move_mount(bad_fd(), "rel", CWD, &a, MoveMountFlags::empty()),
        Err(Errno::BADF)
    );
    // fspick the moved mount, by descriptor and empty path.
    let dir = std::fs::File::open(&b).unwrap();
    let picked = mount::fspick(&dir, "", FsPickFlags::CLOEXEC | FsPickFlags::EMPTY_PATH).unwrap();
    mount::fsconfig(&picked, FsConfig::Flag(c"ro")).unwrap();
    mount::fsconfig(&picked, FsConfig::Reconfigure).unwrap();
    assert_eq!(write_errno(&b), Some(Errno::ROFS));
    assert_eq!(
        mount::fspick(bad_fd(), "rel", FsPickFlags::CLOEXEC).err(),
        Some(Errno::BADF)
    );
    // fsconfig, fsmount on a descriptor that is no context; on none.
    assert_eq!(mount::fsconfig(&dir, FsConfig::Create), Err(Errno::INVAL));
    assert_eq!(
        mount::fsconfig(bad_fd(), FsConfig::Create),
        Err(Errno::BADF)
    );
    assert_eq!(
        mount::fsmount(bad_fd(), FsMountFlags::empty(), MountAttrFlags::empty()).err(),
        Some(Errno::BADF)
    );
    assert_eq!(
        mount::fsopen("tmpfs", FsOpenFlags::from_bits_retain(0x100)).err(),
        Some(Errno::INVAL)
    );
}

/// An overlay built with a descriptor parameter: the success path of
/// `FSCONFIG_SET_FD`. The path commands reach the kernel, whose VFS takes
/// them; no filesystem a test can mount accepts a parameter of path type
/// (overlay's directories are strings or files), so the filesystem's
/// answer to them is `EINVAL`.
#[test]
fn fsconfig_fd_and_path_parameters() {
    in_mount_ns!("fsconfig_fd_and_path_parameters");
    let base = scratch();
    let lower = mkdir(&base, "lower");
    std::fs::write(lower.join("from-lower"), b"l").unwrap();
    let upper = mkdir(&base, "upper");
    let work = mkdir(&base, "work");
    let merged = mkdir(&base, "merged");
    let fs = match mount::fsopen("overlay", FsOpenFlags::CLOEXEC) {
        Err(Errno::NODEV) => skip!("no overlay filesystem in this kernel"),
        r => r.unwrap(),
    };
    let lower_fd = std::fs::File::open(&lower).unwrap();
    match mount::fsconfig(&fs, FsConfig::Fd(c"lowerdir+", lower_fd.as_fd())) {
        Err(Errno::INVAL) => skip!("overlay takes no lowerdir+ descriptor here (before 6.13)"),
        r => r.unwrap(),
    }
    // A descriptor that is not open: EBADF before the filesystem sees it.
    assert_eq!(
        mount::fsconfig(&fs, FsConfig::Fd(c"lowerdir+", bad_fd())),
        Err(Errno::BADF)
    );
    let root = std::fs::File::open("/").unwrap();
    let upper_rel =
        std::ffi::CString::new(upper.strip_prefix("/").unwrap().as_os_str().as_bytes()).unwrap();
    assert_eq!(
        mount::fsconfig(&fs, FsConfig::Path(c"upperdir", root.as_fd(), &upper_rel)),
        Err(Errno::INVAL)
    );
    assert_eq!(
        mount::fsconfig(&fs, FsConfig::PathEmpty(c"upperdir", root.as_fd())),
        Err(Errno::INVAL)
    );
    mount::fsconfig(&fs, FsConfig::String(c"upperdir", &cstr(&upper))).unwrap();
    mount::fsconfig(&fs, FsConfig::String(c"workdir", &cstr(&work))).unwrap();
    mount::fsconfig(&fs, FsConfig::Create).unwrap();
    let mnt = mount::fsmount(&fs, FsMountFlags::CLOEXEC, MountAttrFlags::empty()).unwrap();
    mount::move_mount(&mnt, "", CWD, &merged, MoveMountFlags::F_EMPTY_PATH).unwrap();
    assert!(merged.join("from-lower").exists());
    std::fs::write(merged.join("new"), b"u").unwrap();
    assert!(upper.join("new").exists());
}

fn cstr(p: &Path) -> std::ffi::CString {
    std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap()
}

#[test]
fn open_tree_and_mount_setattr() {
    in_mount_ns!("open_tree_and_mount_setattr");
    let base = scratch();
    let a = mkdir(&base, "a");
    tmpfs(&a);
    mkdir(&a, "sub");
    tmpfs(&a.join("sub"));
    std::fs::write(a.join("sub/inner"), b"i").unwrap();
    // A detached, read-only, recursive copy, attached at b.
    let copy = Mount::clone_tree(&a, true).unwrap();
    copy.set_attr(
        &MountAttr {
            set: MountAttrFlags::RDONLY,
            ..MountAttr::default()
        },
        true,
    )
    .unwrap();
    let b = mkdir(&base, "b");
    copy.attach(&b).unwrap();
    assert!(b.join("sub/inner").exists());
    assert_eq!(write_errno(&b), Some(Errno::ROFS));
    assert_eq!(write_errno(&b.join("sub")), Some(Errno::ROFS), "recursive");
    assert_eq!(write_errno(&a), None, "the original is untouched");
    // Non-recursive clone: no submount.
    let c = mkdir(&base, "c");
    Mount::clone_tree(&a, false).unwrap().attach(&c).unwrap();
    assert!(!c.join("sub/inner").exists());
    // mount_setattr by path: clear RDONLY on b, set NOSUID, propagation.
    mount::mount_setattr(
        CWD,
        &b,
        SetAttrFlags::empty(),
        &MountAttr {
            set: MountAttrFlags::NOSUID,
            clear: MountAttrFlags::RDONLY,
            propagation: Some(Propagation::Shared),
            userns: None,
        },
    )
    .unwrap();
    assert_eq!(write_errno(&b), None);
    let (opts, prop) = mount_opts(&b);
    assert!(opts.starts_with("rw,nosuid"), "{opts}");
    assert!(prop.contains("shared:"), "{prop}");
    assert_eq!(
        write_errno(&b.join("sub")),
        Some(Errno::ROFS),
        "not recursive"
    );
    // Atime mode: clear the field, set one mode.
    mount::mount_setattr(
        CWD,
        &b,
        SetAttrFlags::empty(),
        &MountAttr {
            set: MountAttrFlags::NOATIME,
            clear: MountAttrFlags::ATIME_MASK,
            ..MountAttr::default()
        },
    )
    .unwrap();
    assert!(mount_opts(&b).0.contains("noatime"));
    // The O_PATH flavour of open_tree: a handle, not a copy.
    let handle = mount::open_tree(CWD, &a, OpenTreeFlags::CLOEXEC).unwrap();
    assert!(rustix::fs::fstatfs(&handle).unwrap().f_type == 0x0102_1994);
    assert_eq!(
        mount::open_tree(CWD, base.join("missing"), OpenTreeFlags::CLOEXEC).err(),
        Some(Errno::NOENT)
    );
    assert_eq!(
        mount::open_tree(bad_fd(), "rel", OpenTreeFlags::CLONE).err(),
        Some(Errno::BADF)
    );
}

#[test]
fn mount_setattr_and_open_tree_errors() {
    in_mount_ns!("mount_setattr_and_open_tree_errors");
    let base = scratch();
    let a = mkdir(&base, "a");
    tmpfs(&a);
    let b = mkdir(&base, "b");
    tmpfs(&b);
    mkdir(&b, "sub");
    let c = mkdir(&base, "c");
    tmpfs(&c);
    // Errors.
    let set_ro = MountAttr {
        set: MountAttrFlags::RDONLY,
        ..MountAttr::default()
    };
    mount::mount_setattr(CWD, &c, SetAttrFlags::empty(), &set_ro).unwrap();
    assert_eq!(write_errno(&c), Some(Errno::ROFS));
    assert_eq!(
        mount::mount_setattr(CWD, base.join("b/sub"), SetAttrFlags::empty(), &set_ro),
        Err(Errno::INVAL),
        "not a mount point"
    );
    assert_eq!(
        mount::mount_setattr(CWD, base.join("missing"), SetAttrFlags::empty(), &set_ro),
        Err(Errno::NOENT)
    );
    assert_eq!(
        mount::mount_setattr(bad_fd(), "rel", SetAttrFlags::empty(), &set_ro),
        Err(Errno::BADF)
    );
    // Unknown flags, refused by each call.
    assert_eq!(
        mount::open_tree(CWD, &a, OpenTreeFlags::from_bits_retain(1 << 30)).err(),
        Some(Errno::INVAL)
    );
    assert_eq!(
        mount::fspick(CWD, &a, FsPickFlags::from_bits_retain(1 << 30)).err(),
        Some(Errno::INVAL)
    );
    assert_eq!(
        mount::move_mount(CWD, &a, CWD, &c, MoveMountFlags::from_bits_retain(1 << 30)),
        Err(Errno::INVAL)
    );
    let unknown = MountAttr {
        set: MountAttrFlags::from_bits_retain(1 << 30),
        ..MountAttr::default()
    };
    assert_eq!(
        mount::mount_setattr(CWD, &b, SetAttrFlags::empty(), &unknown),
        Err(Errno::INVAL)
    );
    assert_eq!(
        mount::mount_setattr(CWD, &b, SetAttrFlags::from_bits_retain(0x1), &set_ro),
        Err(Errno::INVAL)
    );
    // IDMAP without a user namespace descriptor; with a bad one.
    let idmap = MountAttr {
        set: MountAttrFlags::IDMAP,
        ..MountAttr::default()
    };
    let detached = Mount::clone_tree(&a, false).unwrap();
    assert_eq!(
        detached
            .set_attr(&idmap, false)
            .err()
            .and_then(|e| e.errno()),
        Some(Errno::INVAL)
    );
    assert_eq!(
        detached
            .set_attr(
                &MountAttr {
                    userns: Some(bad_fd()),
                    ..idmap
                },
                false
            )
            .err()
            .and_then(|e| e.errno()),
        Some(Errno::BADF)
    );
    let not_userns = std::fs::File::open(&a).unwrap();
    assert_eq!(
        detached
            .set_attr(
                &MountAttr {
                    userns: Some(not_userns.as_fd()),
                    ..idmap
                },
                false
            )
            .err()
            .and_then(|e| e.errno()),
        Some(Errno::INVAL)
    );
    assert_eq!(
        Mount::clone_tree(base.join("missing"), false).err(),
        Some(Error::Os {
            call: "open_tree",
            errno: Errno::NOENT
        })
    );
}

/// An idmapped tmpfs. As real root: files owned by root in the filesystem
/// show as uid 1000 through the mount, whose user namespace maps 0 to
/// 1000. In a user namespace (one uid mapped): that namespace maps 1 to our
/// 0, so root's files show as the overflow uid (nobody) through the mount.
#[test]
fn idmapped_tmpfs() {
    in_mount_ns!("idmapped_tmpfs");
    let (map, want) = if in_initial_user_ns() {
        ("0 1000 1", (1000, 1000))
    } else {
        let overflow = |f: &str| -> u32 {
            std::fs::read_to_string(format!("/proc/sys/fs/{f}"))
                .unwrap()
                .trim()
                .parse()
                .unwrap()
        };
        ("1 0 1", (overflow("overflowuid"), overflow("overflowgid")))
    };
    let base = scratch();
    let a = mkdir(&base, "a");
    tmpfs(&a);
    std::fs::write(a.join("f"), b"x").unwrap();
    assert_eq!(std::fs::metadata(a.join("f")).unwrap().uid(), 0);
    // A process in a new user namespace with that mapping.
    let mut holder = std::process::Command::new("/bin/sleep");
    holder.arg("30");
    // SAFETY: between fork and exec; one syscall, no allocation.
    unsafe {
        holder.pre_exec(|| {
            rustix::thread::unshare_unsafe(UnshareFlags::NEWUSER).map_err(std::io::Error::from)
        });
    }
    let mut holder = holder.spawn().unwrap();
    // Wait until it has unshared (its user ns differs from ours).
    let proc = PathBuf::from(format!("/proc/{}", holder.id()));
    let ours = std::fs::read_link("/proc/self/ns/user").unwrap();
    while std::fs::read_link(proc.join("ns/user")).unwrap() == ours {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    std::fs::write(proc.join("uid_map"), map).unwrap();
    std::fs::write(proc.join("gid_map"), map).unwrap();
    let userns = std::fs::File::open(proc.join("ns/user")).unwrap();
    let detached = Mount::clone_tree(&a, false).unwrap();
    let attr = MountAttr {
        set: MountAttrFlags::IDMAP,
        userns: Some(userns.as_fd()),
        ..MountAttr::default()
    };
    match detached.set_attr(&attr, false) {
        Err(e) if e.errno() == Some(Errno::INVAL) => {
            let _ = holder.kill();
            let _ = holder.wait();
            skip!("tmpfs cannot be idmapped on this kernel (before 6.3)");
        }
        r => r.unwrap(),
    }
    let b = mkdir(&base, "b");
    detached.attach(&b).unwrap();
    let _ = holder.kill();
    let _ = holder.wait();
    let meta = std::fs::metadata(b.join("f")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), want);
    assert_eq!(std::fs::metadata(a.join("f")).unwrap().uid(), 0);
    // An attached mount cannot be idmapped.
    assert_eq!(
        mount::mount_setattr(CWD, &a, SetAttrFlags::empty(), &attr),
        Err(Errno::INVAL)
    );
}

#[test]
fn eperm_without_cap_sys_admin() {
    if util::in_child("eperm_without_cap_sys_admin") {
        return;
    }
    util::drop_to_nobody();
    let dir = std::env::temp_dir();
    let perm = Some(Errno::PERM);
    assert_eq!(
        mount::mount("none", &dir, "tmpfs", MountFlags::empty(), None).err(),
        perm
    );
    assert_eq!(mount::bind("/", &dir).err(), perm);
    assert_eq!(mount::remount_bind("/", MountFlags::RDONLY).err(), perm);
    assert_eq!(
        mount::set_propagation("/", Propagation::Private, true).err(),
        perm
    );
    assert_eq!(mount::umount2("/proc", UnmountFlags::DETACH).err(), perm);
    assert_eq!(mount::pivot_root("/tmp", "/tmp").err(), perm);
    assert_eq!(mount::fsopen("tmpfs", FsOpenFlags::CLOEXEC).err(), perm);
    assert_eq!(
        FsContext::new("tmpfs").err(),
        Some(Error::Os {
            call: "fsopen",
            errno: Errno::PERM
        })
    );
    assert_eq!(mount::fspick(CWD, "/", FsPickFlags::CLOEXEC).err(), perm);
    assert_eq!(
        mount::open_tree(CWD, "/", OpenTreeFlags::CLONE | OpenTreeFlags::CLOEXEC).err(),
        perm
    );
    assert_eq!(
        mount::mount_setattr(
            CWD,
            "/",
            SetAttrFlags::empty(),
            &MountAttr {
                set: MountAttrFlags::RDONLY,
                ..MountAttr::default()
            }
        )
        .err(),
        perm
    );
    assert_eq!(
        mount::move_mount(CWD, "/proc", CWD, "/tmp", MoveMountFlags::empty()).err(),
        perm
    );
}

/// The descriptor-making calls leak nothing, on success or failure, and
/// the owned types adopt and give back their descriptors.
#[test]
fn no_descriptor_leaks() {
    in_mount_ns!("no_descriptor_leaks");
    let base = scratch();
    let a = mkdir(&base, "a");
    let before = util::count_fds();
    for _ in 0..3 {
        let fs = FsContext::new("tmpfs").unwrap();
        fs.create().unwrap();
        let mnt = fs.mount(MountAttrFlags::empty()).unwrap();
        mnt.attach(&a).unwrap();
        let _ = FsContext::new("kernfd-no-such-fs").unwrap_err();
        let _ = FsContext::pick(base.join("missing")).unwrap_err();
        let _ = Mount::clone_tree(base.join("missing"), true).unwrap_err();
        let copy = Mount::clone_tree(&a, true).unwrap();
        // Through OwnedFd and back.
        let fd: rustix::fd::OwnedFd = copy.into();
        let copy = Mount::from(fd);
        copy.set_attr(
            &MountAttr {
                set: MountAttrFlags::NOEXEC,
                ..MountAttr::default()
            },
            false,
        )
        .unwrap();
        let ctx = FsContext::from(mount::fsopen("tmpfs", FsOpenFlags::CLOEXEC).unwrap());
        ctx.set_string("size", "1m").unwrap();
        let picked = mount::fspick(CWD, &a, FsPickFlags::CLOEXEC).unwrap();
        drop((ctx, copy, picked, mnt, fs));
        mount::umount2(&a, UnmountFlags::empty()).unwrap();
    }
    assert_eq!(util::count_fds(), before);
    // Close-on-exec, as documented.
    let fs = FsContext::new("tmpfs").unwrap();
    let flags = rustix::io::fcntl_getfd(&fs).unwrap();
    assert!(flags.contains(rustix::io::FdFlags::CLOEXEC));
}
