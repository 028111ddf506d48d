//! `examples/aio_copy.rs` from outside: the copy must be byte-identical to
//! SRC and to what `cp` makes, for sizes 0, 1, 4095, 4097, 1 MiB + 1, an
//! odd block and depth, and a sparse file over 4 GiB (on tmpfs, so it stays
//! fast and takes no disk); ramfs, which refuses `O_DIRECT`, is an error
//! that leaves DST untouched.

mod util;

use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn aio_copy(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(util::example_bin("aio_copy"))
        .args(args)
        .output()
        .expect("run aio_copy")
}

fn copy_ok(src: &Path, dst: &Path, extra: &[&str]) {
    let mut args: Vec<&std::ffi::OsStr> = extra.iter().map(std::ffi::OsStr::new).collect();
    args.push(src.as_os_str());
    args.push(dst.as_os_str());
    let out = aio_copy(&args);
    assert!(
        out.status.success(),
        "aio_copy {extra:?} {}: {}",
        src.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether two files have the same bytes, compared with `cmp`.
fn same(a: &Path, b: &Path) -> bool {
    Command::new("cmp")
        .arg(a)
        .arg(b)
        .status()
        .expect("run cmp")
        .success()
}

/// The data extents of a file (`SEEK_DATA`/`SEEK_HOLE`).
fn extents(path: &Path) -> Vec<(u64, u64)> {
    use rustix::fs::{SeekFrom as S, seek};
    let f = fs::File::open(path).unwrap();
    let len = f.metadata().unwrap().len();
    let mut out = vec![];
    let mut at = 0;
    while at < len {
        let Ok(start) = seek(&f, S::Data(at)) else {
            break;
        };
        let end = seek(&f, S::Hole(start)).unwrap();
        out.push((start, end));
        at = end;
    }
    out
}

fn read_at(path: &Path, start: u64, end: u64) -> Vec<u8> {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0; (end - start) as usize];
    fs::File::open(path)
        .unwrap()
        .read_exact_at(&mut buf, start)
        .unwrap();
    buf
}

fn cp(src: &Path, dst: &Path) {
    let st = Command::new("cp").arg(src).arg(dst).status().unwrap();
    assert!(st.success());
}

/// The root filesystem's temp dir (the target directory) and tmpfs.
fn dirs() -> Vec<(&'static str, PathBuf, tempfile::TempDir)> {
    let mut out = Vec::new();
    for (name, dir) in [
        ("rootfs", util::disk_tempdir()),
        (
            "tmpfs",
            tempfile::tempdir_in("/dev/shm").map_err(|e| e.to_string()),
        ),
    ] {
        match dir {
            Ok(d) => out.push((name, d.path().to_path_buf(), d)),
            Err(e) => eprintln!("SKIPPED aio_copy on {name}: {e}"),
        }
    }
    out
}

fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn copies_every_size_like_cp() {
    for (fs, dir, _keep) in dirs() {
        for (i, size) in [0, 1, 4095, 4096, 4097, (1 << 20) + 1]
            .into_iter()
            .enumerate()
        {
            let src = dir.join(format!("src{size}"));
            fs::write(&src, random_bytes(size, i as u64 + 1)).unwrap();
            let dst = dir.join(format!("dst{size}"));
            // An existing, longer DST is truncated.
            fs::write(&dst, vec![0xee; size + 10_000]).unwrap();
            copy_ok(&src, &dst, &[]);
            let by_cp = dir.join(format!("cp{size}"));
            cp(&src, &by_cp);
            assert!(same(&src, &dst), "{fs}: size {size}");
            assert!(same(&by_cp, &dst), "{fs}: size {size} against cp");
            assert_eq!(fs::metadata(&dst).unwrap().len(), size as u64);
        }
    }
}

#[test]
fn depth_and_block_options() {
    let (_, dir, _keep) = dirs().into_iter().next().expect("a temp dir");
    let data = random_bytes(3 * 8192 + 100, 9);
    let src = dir.join("src");
    fs::write(&src, &data).unwrap();
    for (depth, block) in [("1", "4096"), ("3", "8192"), ("64", "1048576")] {
        let dst = dir.join(format!("dst-{depth}-{block}"));
        copy_ok(&src, &dst, &["--depth", depth, "--block", block]);
        assert_eq!(
            fs::read(&dst).unwrap(),
            data,
            "--depth {depth} --block {block}"
        );
    }
}

#[test]
fn sparse_source_over_4_gib() {
    let shm = Path::new("/dev/shm");
    let Ok(dir) = tempfile::tempdir_in(shm) else {
        skip!("no /dev/shm");
    };
    let src = dir.path().join("sparse");
    let mut f = fs::File::create(&src).unwrap();
    f.write_all(b"head").unwrap();
    let far = (4_u64 << 30) + 12_345;
    f.seek(SeekFrom::Start(far)).unwrap();
    f.write_all(b"tail past 4 GiB").unwrap();
    f.set_len(far + 5000).unwrap();
    drop(f);
    let dst = dir.path().join("copy");
    copy_ok(&src, &dst, &[]);
    let meta = fs::metadata(&dst).unwrap();
    assert_eq!(meta.len(), far + 5000);
    {
        use std::os::unix::fs::MetadataExt;
        assert!(
            meta.blocks() * 512 < 1 << 24,
            "the holes stayed holes ({} blocks)",
            meta.blocks()
        );
    }
    // Same data extents (holes read as zeros), same bytes in each.
    let (a, b) = (extents(&src), extents(&dst));
    assert_eq!(a, b, "data extents");
    assert_eq!(a.len(), 2, "{a:?}");
    for &(start, end) in &a {
        assert_eq!(read_at(&src, start, end), read_at(&dst, start, end));
    }
    let mut tail = vec![0; 15];
    {
        use std::os::unix::fs::FileExt;
        fs::File::open(&dst)
            .unwrap()
            .read_exact_at(&mut tail, far)
            .unwrap();
    }
    assert_eq!(tail, b"tail past 4 GiB");
}

#[test]
fn bad_arguments_and_missing_source() {
    let (_, dir, _keep) = dirs().into_iter().next().expect("a temp dir");
    let src = dir.join("s");
    fs::write(&src, b"x").unwrap();
    let dst = dir.join("d");
    for args in [
        vec!["--block", "1000"],
        vec!["--block", "0"],
        vec!["--depth", "0"],
        vec!["--depth"],
        vec!["--frob"],
        vec![],
    ] {
        let mut a: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
        if !args.is_empty() && args != ["--depth"] {
            a.push(src.as_os_str());
            a.push(dst.as_os_str());
        }
        let out = aio_copy(&a);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!dst.exists(), "{args:?} touched DST");
    }
    let out = aio_copy(&[dir.join("missing").as_os_str(), dst.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing"));
    assert!(!dst.exists());
    // SRC and DST the same file: refused, SRC intact.
    let out = aio_copy(&[src.as_os_str(), src.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(fs::read(&src).unwrap(), b"x");
}

#[test]
fn non_utf8_names() {
    use std::os::unix::ffi::OsStrExt;
    let (_, dir, _keep) = dirs().into_iter().next().expect("a temp dir");
    let src = dir.join(std::ffi::OsStr::from_bytes(b"s\xff"));
    let dst = dir.join(std::ffi::OsStr::from_bytes(b"d\xfe"));
    fs::write(&src, b"bytes").unwrap();
    copy_ok(&src, &dst, &[]);
    assert_eq!(fs::read(&dst).unwrap(), b"bytes");
}

/// ramfs refuses `O_DIRECT` at open: as SRC, as an existing DST and as the
/// directory of a new DST, `aio_copy` says so and exits 1, and DST is left
/// as it was (absent, or with its old bytes).
#[test]
fn ramfs_refuses_o_direct_and_dst_is_untouched() {
    use rustix::thread::UnshareFlags;
    let ns = if util::is_root() {
        UnshareFlags::NEWNS
    } else {
        UnshareFlags::NEWUSER | UnshareFlags::NEWNS
    };
    if std::env::var_os(util::CHILD_ENV).is_none() {
        // Namespaces unavailable (unprivileged user namespaces off): skip.
        if !util::is_root()
            && fs::read_to_string("/proc/sys/kernel/unprivileged_userns_clone")
                .is_ok_and(|s| s.trim() == "0")
        {
            skip!("no user namespaces for an unprivileged ramfs mount");
        }
    }
    // Built (if need be) here, outside the namespaces.
    util::example_bin("aio_copy");
    if util::in_child_ns("ramfs_refuses_o_direct_and_dst_is_untouched", ns) {
        return;
    }
    let mnt = tempfile::tempdir().unwrap();
    if let Err(e) = rustix::mount::mount(
        "none",
        mnt.path(),
        "ramfs",
        rustix::mount::MountFlags::empty(),
        None,
    ) {
        skip!("cannot mount ramfs: {e}");
    }
    let good = tempfile::NamedTempFile::new().unwrap();
    fs::write(good.path(), b"source").unwrap();
    let on_ramfs = mnt.path().join("src");
    fs::write(&on_ramfs, b"ramfs data").unwrap();

    // SRC on ramfs.
    let dst = tempfile::tempdir().unwrap();
    let new = dst.path().join("new");
    let out = aio_copy(&[on_ramfs.as_os_str(), new.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.contains("O_DIRECT"), "{msg}");
    assert!(!new.exists());

    // An existing DST on ramfs keeps its bytes.
    let old = mnt.path().join("old");
    fs::write(&old, b"keep me").unwrap();
    let out = aio_copy(&[good.path().as_os_str(), old.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("O_DIRECT"));
    assert_eq!(fs::read(&old).unwrap(), b"keep me");

    // A new DST on ramfs is not created, and no probe file is left behind.
    let before: Vec<_> = fs::read_dir(mnt.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let fresh = mnt.path().join("fresh");
    let out = aio_copy(&[good.path().as_os_str(), fresh.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!fresh.exists());
    let after: Vec<_> = fs::read_dir(mnt.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(before.len(), after.len());
    let _ = rustix::mount::unmount(mnt.path(), rustix::mount::UnmountFlags::DETACH);
}
