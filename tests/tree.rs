//! The recursive watcher (`inotify::Tree`) against the real kernel: deep
//! trees, bursts of new directories, moves in, out and within, renames,
//! deleted subtrees, queue overflow and rescan, the watch limit, the
//! options, zero allocations per event, and the `tree_watch` example.

#[macro_use]
mod util;

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kernfd::inotify::{EventFlags, Inotify, Tree, TreeItem, WatchFlags};
use kernfd::wait::Wait;
use kernfd::{Errno, Error, Limit};

#[global_allocator]
static ALLOC: util::CountingAlloc = util::CountingAlloc;

/// One item, owned, so tests can compare lists.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Rec {
    Ev {
        mask: EventFlags,
        path: String,
        scanned: bool,
        cookie: u32,
    },
    Unwatched(String, Error),
    Rescan,
}

impl Rec {
    fn of(item: TreeItem<'_>) -> Self {
        match item {
            TreeItem::Event(e) => {
                assert!(e.full_path_bytes().ends_with(e.path_bytes()));
                Rec::Ev {
                    mask: e.mask(),
                    path: String::from_utf8_lossy(e.path_bytes()).into_owned(),
                    scanned: e.found_by_scan(),
                    cookie: e.cookie(),
                }
            }
            TreeItem::Unwatched { path, error } => {
                Rec::Unwatched(String::from_utf8_lossy(path).into_owned(), error)
            }
            TreeItem::RescanNeeded => Rec::Rescan,
            _ => panic!("unknown item"),
        }
    }

    /// Whether this is an event with `mask`'s bits at `path`.
    fn is(&self, mask: EventFlags, at: &str) -> bool {
        matches!(self, Rec::Ev { mask: m, path, .. } if m.contains(mask) && path == at)
    }
}

/// Reads (with short timeouts) until `done` holds for what was read, or 5 s
/// pass; returns everything read.
fn read_until(tree: &mut Tree, done: impl Fn(&[Rec]) -> bool) -> Vec<Rec> {
    let mut buf = vec![0_u8; 64 * 1024];
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done(&got) {
        assert!(
            Instant::now() < deadline,
            "timed out; read so far: {got:#?}"
        );
        let wait = Wait::new().timeout(Duration::from_millis(100));
        tree.read_wait(&mut buf, wait, |item| got.push(Rec::of(item)))
            .unwrap();
    }
    got
}

/// Reads whatever comes within `quiet` of the last item.
fn read_quiet(tree: &mut Tree, quiet: Duration) -> Vec<Rec> {
    let mut buf = vec![0_u8; 64 * 1024];
    let mut got = Vec::new();
    loop {
        let wait = Wait::new().timeout(quiet);
        if tree
            .read_wait(&mut buf, wait, |item| got.push(Rec::of(item)))
            .unwrap()
            == 0
        {
            return got;
        }
    }
}

fn has(got: &[Rec], mask: EventFlags, path: &str) -> bool {
    got.iter().any(|r| r.is(mask, path))
}

/// A temporary directory on tmpfs (`/dev/shm`) when there is one, for
/// tests that make thousands of entries; `/tmp` otherwise.
fn fast_tempdir() -> tempfile::TempDir {
    tempfile::tempdir_in("/dev/shm").unwrap_or_else(|_| util::tempdir())
}

const C: EventFlags = EventFlags::CREATE;
const CD: EventFlags = EventFlags::CREATE.union(EventFlags::ISDIR);

#[test]
fn setup_watches_every_directory_and_paths_join_to_the_root() {
    let dir = util::tempdir();
    let root = dir.path();
    for p in ["a/b/c", "a/d", "e", "f/g/h/i"] {
        fs::create_dir_all(root.join(p)).unwrap();
    }
    fs::write(root.join("a/file"), b"x").unwrap();
    let mut tree = Tree::new(root, WatchFlags::CLOSE_WRITE).unwrap();
    assert_eq!(
        tree.watches(),
        10,
        "root, a, a/b, a/b/c, a/d, e, f, f/g, f/g/h, f/g/h/i"
    );
    assert_eq!(tree.root_path(), root);
    for p in ["a/b/c/x", "a/d/y", "e/z", "f/g/h/i/w", "top"] {
        fs::write(root.join(p), b"1").unwrap();
    }
    let mut buf = [0_u8; 4096];
    let mut seen = Vec::new();
    while seen.len() < 5 {
        tree.read(&mut buf, |item| {
            let TreeItem::Event(e) = item else {
                panic!("{item:?}")
            };
            assert!(!e.found_by_scan());
            assert_eq!(e.mask(), EventFlags::CLOSE_WRITE);
            assert_eq!(e.full_path(), root.join(e.path()));
            assert_eq!(e.full_path(), tree_root_join(root, e.path_bytes()));
            assert_eq!(e.path().file_name().unwrap().as_bytes(), e.name_bytes());
            seen.push(e.path().to_str().unwrap().to_string());
        })
        .unwrap();
    }
    seen.sort();
    assert_eq!(seen, ["a/b/c/x", "a/d/y", "e/z", "f/g/h/i/w", "top"]);
}

fn tree_root_join(root: &Path, rel: &[u8]) -> std::path::PathBuf {
    root.join(std::ffi::OsStr::from_bytes(rel))
}

#[test]
fn root_given_with_trailing_slashes_or_as_slash() {
    let dir = util::tempdir();
    fs::create_dir(dir.path().join("sub")).unwrap();
    let mut with_slash = dir.path().as_os_str().to_owned();
    with_slash.push("//");
    let mut tree = Tree::new(&with_slash, WatchFlags::CREATE).unwrap();
    assert_eq!(tree.root_path(), dir.path());
    fs::write(dir.path().join("sub/f"), b"").unwrap();
    let got = read_until(&mut tree, |g| has(g, C, "sub/f"));
    let Rec::Ev { path, .. } = &got[0] else {
        panic!()
    };
    assert_eq!(path, "sub/f");
    // "/" as the root: full paths must not start with "//". A depth limit
    // of 0 keeps it to one watch.
    let tree = Tree::options().max_depth(0).watch("/").unwrap();
    assert_eq!(tree.root(), b"/");
    assert_eq!(tree.watches(), 1);
}

#[test]
fn a_deep_tree_and_long_paths() {
    let dir = util::tempdir();
    // 120 levels with 20-byte names: paths of about 2.5 KB, far past any
    // small-path buffer.
    let mut deep = dir.path().to_path_buf();
    let name = "twenty-byte-name-xyz";
    for _ in 0..120 {
        deep.push(name);
    }
    fs::create_dir_all(&deep).unwrap();
    let mut tree = Tree::new(dir.path(), WatchFlags::CREATE | WatchFlags::DELETE).unwrap();
    assert_eq!(tree.watches(), 121);
    fs::write(deep.join("leaf"), b"").unwrap();
    fs::create_dir(deep.join("deeper")).unwrap();
    fs::write(deep.join("deeper/leaf2"), b"").unwrap();
    let rel = deep
        .strip_prefix(dir.path())
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let leaf = format!("{rel}/leaf");
    let leaf2 = format!("{rel}/deeper/leaf2");
    let got = read_until(&mut tree, |g| has(g, C, &leaf) && has(g, C, &leaf2));
    assert!(has(&got, CD, &format!("{rel}/deeper")));
    assert_eq!(tree.watches(), 122);
    // Deleting the whole chain drops every watch but the root's.
    fs::remove_dir_all(dir.path().join(name)).unwrap();
    read_until(&mut tree, |g| {
        g.iter()
            .any(|r| r.is(EventFlags::DELETE | EventFlags::ISDIR, name))
    });
    let _ = read_quiet(&mut tree, Duration::from_millis(50));
    assert_eq!(tree.watches(), 1);
}

/// `mkdir -p a/b/c/d && touch a/b/c/d/f`, many times over, faster than the
/// tree can add watches: every file is reported, by the kernel or by the
/// scan of its new directory, with its whole path.
#[test]
fn bursts_of_mkdir_p_lose_no_file() {
    let dir = fast_tempdir();
    let root = dir.path().to_path_buf();
    let mut tree = Tree::new(&root, WatchFlags::CREATE).unwrap();
    // Half made before the tree reads anything, half while it reads.
    for i in 0..100 {
        fs::create_dir_all(root.join(format!("a{i}/b/c/d"))).unwrap();
        fs::write(root.join(format!("a{i}/b/c/d/f")), b"").unwrap();
    }
    let maker = {
        let root = root.clone();
        std::thread::spawn(move || {
            for i in 100..200 {
                fs::create_dir_all(root.join(format!("a{i}/b/c/d"))).unwrap();
                fs::write(root.join(format!("a{i}/b/c/d/f")), b"").unwrap();
            }
        })
    };
    let want: Vec<String> = (0..200).map(|i| format!("a{i}/b/c/d/f")).collect();
    let got = read_until(&mut tree, |g| want.iter().all(|w| has(g, C, w)));
    maker.join().unwrap();
    let _ = read_quiet(&mut tree, Duration::from_millis(50));
    assert_eq!(tree.watches(), 1 + 200 * 4);
    // The early ones had to be found by the scans.
    assert!(
        got.iter()
            .any(|r| matches!(r, Rec::Ev { scanned: true, .. }))
    );
    // Every scanned directory came after its parent's CREATE.
    for i in 0..200 {
        let pos = |p: &str| got.iter().position(|r| r.is(CD, p)).unwrap();
        assert!(pos(&format!("a{i}")) < pos(&format!("a{i}/b/c")), "{i}");
    }
    assert!(
        !got.iter()
            .any(|r| matches!(r, Rec::Unwatched(..) | Rec::Rescan))
    );
    // And the new directories are watched: a file in each is reported.
    for i in [0, 150, 199] {
        fs::write(root.join(format!("a{i}/b/c/d/late")), b"").unwrap();
    }
    read_until(&mut tree, |g| {
        [0, 150, 199]
            .iter()
            .all(|i| has(g, C, &format!("a{i}/b/c/d/late")))
    });
}

#[test]
fn renames_of_the_roots_children_rewrite_paths_below() {
    let dir = util::tempdir();
    let root = dir.path();
    fs::create_dir_all(root.join("x/y/z")).unwrap();
    fs::create_dir_all(root.join("other")).unwrap();
    let mut tree = Tree::new(root, WatchFlags::CREATE | WatchFlags::MOVE).unwrap();
    fs::rename(root.join("x"), root.join("renamed")).unwrap();
    fs::write(root.join("renamed/y/z/f"), b"").unwrap();
    let got = read_until(&mut tree, |g| has(g, C, "renamed/y/z/f"));
    let from = got
        .iter()
        .position(|r| r.is(EventFlags::MOVED_FROM | EventFlags::ISDIR, "x"));
    let to = got
        .iter()
        .position(|r| r.is(EventFlags::MOVED_TO | EventFlags::ISDIR, "renamed"));
    assert!(from.unwrap() < to.unwrap(), "{got:#?}");
    let (Rec::Ev { cookie: a, .. }, Rec::Ev { cookie: b, .. }) =
        (&got[from.unwrap()], &got[to.unwrap()])
    else {
        panic!()
    };
    assert_eq!(a, b);
    assert_ne!(*a, 0);
    assert_eq!(tree.watches(), 5, "the watches were kept, not made again");
    // Within the tree, across directories: renamed/y into other.
    fs::rename(root.join("renamed/y"), root.join("other/y2")).unwrap();
    fs::write(root.join("other/y2/z/g"), b"").unwrap();
    read_until(&mut tree, |g| has(g, C, "other/y2/z/g"));
    assert_eq!(tree.watches(), 5);
    // A rename over an existing empty directory replaces it.
    fs::create_dir(root.join("victim")).unwrap();
    read_until(&mut tree, |g| has(g, CD, "victim"));
    assert_eq!(tree.watches(), 6);
    fs::rename(root.join("other/y2"), root.join("victim")).unwrap();
    fs::write(root.join("victim/z/h"), b"").unwrap();
    read_until(&mut tree, |g| has(g, C, "victim/z/h"));
    let _ = read_quiet(&mut tree, Duration::from_millis(50));
    assert_eq!(tree.watches(), 5);
}

#[test]
fn moves_out_and_in() {
    let dir = util::tempdir();
    let outside = util::tempdir();
    let root = dir.path();
    fs::create_dir_all(root.join("leaving/inner")).unwrap();
    fs::create_dir_all(outside.path().join("coming/sub")).unwrap();
    fs::write(outside.path().join("coming/sub/file"), b"").unwrap();
    let mut tree = Tree::new(root, WatchFlags::CREATE | WatchFlags::MOVE).unwrap();
    assert_eq!(tree.watches(), 3);

    // Out: its watches go, and what happens there is not reported.
    fs::rename(root.join("leaving"), outside.path().join("left")).unwrap();
    read_until(&mut tree, |g| {
        has(g, EventFlags::MOVED_FROM | EventFlags::ISDIR, "leaving")
    });
    let _ = read_quiet(&mut tree, Duration::from_millis(50));
    assert_eq!(tree.watches(), 1);
    fs::write(outside.path().join("left/inner/ghost"), b"").unwrap();
    fs::write(root.join("marker"), b"").unwrap();
    let got = read_until(&mut tree, |g| has(g, C, "marker"));
    assert_eq!(got.len(), 1, "{got:#?}");

    // In: watched, and its contents reported as found by the scan.
    fs::rename(outside.path().join("coming"), root.join("arrived")).unwrap();
    let got = read_until(&mut tree, |g| has(g, C, "arrived/sub/file"));
    assert!(has(
        &got,
        EventFlags::MOVED_TO | EventFlags::ISDIR,
        "arrived"
    ));
    let scanned = |p: &str| {
        got.iter()
            .any(|r| matches!(r, Rec::Ev { path, scanned: true, .. } if path == p))
    };
    assert!(
        scanned("arrived/sub") && scanned("arrived/sub/file"),
        "{got:#?}"
    );
    assert_eq!(tree.watches(), 3);
    fs::write(root.join("arrived/sub/new"), b"").unwrap();
    read_until(&mut tree, |g| has(g, C, "arrived/sub/new"));
}

#[test]
fn deleting_subtrees_drops_their_watches_and_consumes_ignored() {
    let dir = util::tempdir();
    let root = dir.path();
    for i in 0..5 {
        fs::create_dir_all(root.join(format!("t{i}/a/b"))).unwrap();
        fs::write(root.join(format!("t{i}/a/b/f")), b"").unwrap();
    }
    let mut tree = Tree::new(root, WatchFlags::ALL_EVENTS).unwrap();
    assert_eq!(tree.watches(), 16);
    for i in 0..5 {
        fs::remove_dir_all(root.join(format!("t{i}"))).unwrap();
    }
    let got = read_until(&mut tree, |g| {
        (0..5).all(|i| has(g, EventFlags::DELETE | EventFlags::ISDIR, &format!("t{i}")))
    });
    let _ = read_quiet(&mut tree, Duration::from_millis(50));
    assert_eq!(tree.watches(), 1);
    assert!(has(&got, EventFlags::DELETE, "t3/a/b/f"));
    assert!(has(&got, EventFlags::DELETE_SELF, "t3/a/b"));
    assert!(
        !got.iter()
            .any(|r| matches!(r, Rec::Ev { mask, .. } if mask.contains(EventFlags::IGNORED))),
        "IGNORED is consumed"
    );
    // The root itself: the tree empties.
    let path = root.to_path_buf();
    drop(dir);
    assert!(!path.exists());
    read_until(&mut tree, |g| has(g, EventFlags::DELETE_SELF, ""));
    let _ = read_quiet(&mut tree, Duration::from_millis(50));
    assert_eq!(tree.watches(), 0);
    // A rescan cannot watch a root that is not there…
    let e = tree.rescan(|_| ()).unwrap_err();
    assert_eq!(
        e,
        Error::Os {
            call: "inotify_add_watch",
            errno: Errno::NOENT
        }
    );
    // …and starts again from it once it is back.
    fs::create_dir_all(path.join("back/again")).unwrap();
    let mut got = Vec::new();
    tree.rescan(|item| got.push(Rec::of(item))).unwrap();
    assert!(
        has(&got, CD, "back") && has(&got, CD, "back/again"),
        "{got:#?}"
    );
    assert_eq!(tree.watches(), 3);
    fs::remove_dir_all(&path).unwrap();
}

/// More events than `max_queued_events` (read when it matters, never
/// changed): the overflow is an explicit item, and `rescan` finds what
/// changed while events were lost.
#[test]
fn overflow_then_rescan() {
    let dir = fast_tempdir();
    let root = dir.path();
    fs::create_dir_all(root.join("stays/inner")).unwrap();
    fs::create_dir_all(root.join("goes/inner")).unwrap();
    fs::create_dir_all(root.join("moves")).unwrap();
    fs::create_dir(root.join("files")).unwrap();
    let files = [
        fs::File::create(root.join("files/a")).unwrap(),
        fs::File::create(root.join("files/b")).unwrap(),
    ];
    let mut tree = Tree::new(
        root,
        WatchFlags::CREATE | WatchFlags::DELETE | WatchFlags::MOVE | WatchFlags::MODIFY,
    )
    .unwrap();
    assert_eq!(tree.watches(), 7);

    let max: usize = fs::read_to_string("/proc/sys/fs/inotify/max_queued_events")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    if max > 200_000 {
        skip!("max_queued_events is {max}: too many files to make here");
    }
    // One MODIFY each (alternating files, so that none merges with the
    // one before): the queue fills and overflows.
    for i in 0..=max {
        std::io::Write::write_all(&mut &files[i % 2], b"x").unwrap();
    }
    // Now, with the queue full, the tree changes unseen.
    fs::remove_dir_all(root.join("goes")).unwrap();
    fs::create_dir_all(root.join("new/deeper")).unwrap();
    fs::write(root.join("new/deeper/file"), b"").unwrap();
    fs::rename(root.join("moves"), root.join("stays/moved")).unwrap();

    let mut buf = vec![0_u8; 256 * 1024];
    let mut rescan_needed = false;
    let mut creates = 0;
    while !rescan_needed {
        tree.read(&mut buf, |item| match item {
            TreeItem::RescanNeeded => rescan_needed = true,
            TreeItem::Event(e) => {
                assert!(e.path_bytes().starts_with(b"files/"), "{e:?}");
                assert_eq!(e.mask(), EventFlags::MODIFY);
                creates += 1;
            }
            other => panic!("{other:?}"),
        })
        .unwrap();
    }
    assert!(creates < max + 1 && creates > 0, "{creates} of {max}");

    let mut got = Vec::new();
    tree.rescan(|item| got.push(Rec::of(item))).unwrap();
    let dd = EventFlags::DELETE | EventFlags::ISDIR;
    let expected = [
        (CD, "new"),
        (CD, "new/deeper"),
        (C, "new/deeper/file"),
        (dd, "goes"),
        (dd, "goes/inner"),
        (EventFlags::MOVED_FROM | EventFlags::ISDIR, "moves"),
        (EventFlags::MOVED_TO | EventFlags::ISDIR, "stays/moved"),
    ];
    for (mask, path) in expected {
        assert!(
            got.iter().any(|r| matches!(r, Rec::Ev { mask: m, path: p, scanned: true, .. } if *m == mask && p == path)),
            "{mask} {path} in {got:#?}"
        );
    }
    // Files made or removed in known directories are not reported: nothing
    // else.
    assert_eq!(got.len(), expected.len(), "{got:#?}");
    assert_eq!(
        tree.watches(),
        7,
        "root, stays, stays/inner, stays/moved, files, new, new/deeper"
    );

    // The events still queued are read as usual, and the tree works on.
    let _ = read_quiet(&mut tree, Duration::from_millis(50));
    fs::write(root.join("new/deeper/after"), b"").unwrap();
    fs::write(root.join("stays/moved/after"), b"").unwrap();
    read_until(&mut tree, |g| {
        has(g, C, "new/deeper/after") && has(g, C, "stays/moved/after")
    });
}

/// `max_user_watches` is per user namespace: lowered in a child's own.
#[test]
fn watch_limit_is_named_and_leaves_the_tree_consistent() {
    if util::in_child_ns(
        "watch_limit_is_named_and_leaves_the_tree_consistent",
        rustix::thread::UnshareFlags::NEWUSER,
    ) {
        return;
    }
    if fs::write("/proc/sys/user/max_inotify_watches", "5").is_err() {
        skip!("cannot set the user namespace's inotify watch limit");
    }
    let dir = util::tempdir();
    let root = dir.path();
    for i in 0..8 {
        fs::create_dir(root.join(format!("d{i}"))).unwrap();
    }
    // Setup: a named error with the count, the sysctl in its message, and
    // no watch left behind.
    let err = Tree::new(root, WatchFlags::CREATE).unwrap_err();
    assert_eq!(err, Error::TreeWatchLimit { watches: 5 });
    assert_eq!(err.errno(), Some(Errno::NOSPC));
    assert_eq!(err.call(), Some("inotify_add_watch"));
    let text = err.to_string();
    assert!(text.contains(Limit::InotifyWatches.sysctl()), "{text}");
    assert!(text.contains("after 5 watches"), "{text}");
    let io: std::io::Error = err.into();
    assert_eq!(io.kind(), std::io::ErrorKind::StorageFull);
    let probe = Inotify::new().unwrap();
    for i in 0..5 {
        probe
            .add_watch(root.join(format!("d{i}")), WatchFlags::CREATE)
            .unwrap();
    }
    drop(probe);

    // At run time: what cannot be watched is reported, holds no watch, and
    // the rest goes on.
    for i in 3..8 {
        fs::remove_dir(root.join(format!("d{i}"))).unwrap();
    }
    let mut tree = Tree::new(root, WatchFlags::CREATE | WatchFlags::DELETE).unwrap();
    assert_eq!(tree.watches(), 4);
    fs::create_dir_all(root.join("x/y/z")).unwrap();
    let got = read_until(&mut tree, |g| {
        g.iter().any(|r| matches!(r, Rec::Unwatched(..)))
    });
    let _ = read_quiet(&mut tree, Duration::from_millis(50));
    assert_eq!(tree.watches(), 5);
    let unwatched: Vec<_> = got
        .iter()
        .filter_map(|r| match r {
            Rec::Unwatched(p, e) => Some((p.as_str(), *e)),
            _ => None,
        })
        .collect();
    assert_eq!(unwatched, [("x/y", Error::TreeWatchLimit { watches: 5 })]);
    // x is watched and was listed: y is reported; z (below the unwatched
    // y) is not.
    assert!(has(&got, CD, "x") && has(&got, CD, "x/y"), "{got:#?}");
    assert!(!has(&got, CD, "x/y/z"), "{got:#?}");
    // Freeing watches makes room again.
    fs::remove_dir_all(root.join("x")).unwrap();
    read_until(&mut tree, |g| {
        has(g, EventFlags::DELETE | EventFlags::ISDIR, "x")
    });
    let _ = read_quiet(&mut tree, Duration::from_millis(50));
    assert_eq!(tree.watches(), 4);
    fs::create_dir(root.join("room")).unwrap();
    fs::write(root.join("room/f"), b"").unwrap();
    read_until(&mut tree, |g| has(g, C, "room/f"));
    assert_eq!(tree.watches(), 5);
}

#[test]
fn options_depth_exclude_symlinks() {
    let dir = util::tempdir();
    let root = dir.path();
    fs::create_dir_all(root.join("a/b/c")).unwrap();
    fs::create_dir_all(root.join("skip/me")).unwrap();
    let target = util::tempdir();
    fs::create_dir(target.path().join("t")).unwrap();
    std::os::unix::fs::symlink(target.path(), root.join("link")).unwrap();
    // A link to an ancestor: no loop.
    std::os::unix::fs::symlink(root, root.join("a/up")).unwrap();

    let tree = Tree::options().watch(root).unwrap();
    assert_eq!(tree.watches(), 6, "links not followed by default");
    let tree = Tree::options().max_depth(1).watch(root).unwrap();
    assert_eq!(tree.watches(), 3, "root, a, skip");
    let mut seen = Vec::new();
    let tree = Tree::options()
        .exclude(move |p| {
            seen.push(p.to_vec());
            p == b"skip"
        })
        .watch(root)
        .unwrap();
    assert_eq!(tree.watches(), 4, "root, a, a/b, a/b/c");
    let mut tree = Tree::options()
        .follow_symlinks(true)
        .events(WatchFlags::CREATE)
        .watch(root)
        .unwrap();
    assert_eq!(
        tree.watches(),
        8,
        "link and link/t too; a/up is the root again"
    );
    fs::write(target.path().join("t/f"), b"").unwrap();
    read_until(&mut tree, |g| has(g, C, "link/t/f"));
    // A new link to a directory is followed too.
    let other = util::tempdir();
    fs::create_dir(other.path().join("o")).unwrap();
    std::os::unix::fs::symlink(other.path(), root.join("a/link2")).unwrap();
    let got = read_until(&mut tree, |g| has(g, CD, "a/link2/o"));
    assert!(has(&got, C, "a/link2"));
    assert_eq!(tree.watches(), 10);

    // One filesystem: /dev/shm (tmpfs) bind... without mounting, check
    // that a tree on one filesystem is all watched, and that the option
    // skips a mount point when one exists below the root.
    let tree = Tree::options().one_filesystem(true).watch(root).unwrap();
    assert_eq!(tree.watches(), 6);
}

#[test]
fn one_filesystem_skips_mount_points() {
    use rustix::thread::UnshareFlags;
    let Some(ns) = util::sandbox_ns(UnshareFlags::NEWNS) else {
        skip!("no user namespaces here");
    };
    if util::in_child_ns("one_filesystem_skips_mount_points", ns) {
        return;
    }
    let dir = util::tempdir();
    let root = dir.path();
    fs::create_dir_all(root.join("mnt")).unwrap();
    fs::create_dir_all(root.join("here/deeper")).unwrap();
    if let Err(e) = rustix::mount::mount(
        "none",
        root.join("mnt"),
        "tmpfs",
        rustix::mount::MountFlags::empty(),
        None,
    ) {
        skip!("cannot mount tmpfs: {e}");
    }
    fs::create_dir_all(root.join("mnt/inside/more")).unwrap();
    assert_eq!(Tree::options().watch(root).unwrap().watches(), 6);
    let mut tree = Tree::options()
        .one_filesystem(true)
        .events(WatchFlags::CREATE)
        .watch(root)
        .unwrap();
    assert_eq!(tree.watches(), 3, "root, here, here/deeper");
    fs::write(root.join("mnt/inside/f"), b"").unwrap();
    fs::write(root.join("here/deeper/f"), b"").unwrap();
    let got = read_until(&mut tree, |g| has(g, C, "here/deeper/f"));
    assert!(!has(&got, C, "mnt/inside/f"));
}

#[test]
fn setup_errors() {
    let dir = util::tempdir();
    let file = dir.path().join("file");
    fs::write(&file, b"").unwrap();
    let e = Tree::new(dir.path().join("missing"), WatchFlags::CREATE).unwrap_err();
    assert_eq!(
        e,
        Error::Os {
            call: "inotify_add_watch",
            errno: Errno::NOENT
        }
    );
    let e = Tree::new(&file, WatchFlags::CREATE).unwrap_err();
    assert_eq!(
        e,
        Error::Os {
            call: "inotify_add_watch",
            errno: Errno::NOTDIR
        }
    );
    let e = Tree::new("", WatchFlags::CREATE).unwrap_err();
    assert_eq!(e.errno(), Some(Errno::NOENT));
    // A read buffer too small is refused before any syscall.
    let mut tree = Tree::new(dir.path(), WatchFlags::CREATE).unwrap();
    let mut small = [0_u8; 16];
    let e = tree.read(&mut small, |_| ()).unwrap_err();
    assert!(matches!(e, Error::BufferTooSmall { .. }), "{e:?}");
    // Non-blocking and empty: EAGAIN.
    tree.inotify().set_nonblocking(true).unwrap();
    let mut buf = [0_u8; 4096];
    let e = tree.read(&mut buf, |_| ()).unwrap_err();
    assert_eq!(e.errno(), Some(Errno::AGAIN));
}

/// A directory the user cannot read fails the setup with the kernel's
/// `EACCES`; one made later is reported as unwatched, and holds no watch.
#[test]
fn unreadable_directories() {
    if util::in_child("unreadable_directories") {
        return;
    }
    if util::is_root() {
        // Root reads everything: be nobody, in a directory nobody owns.
        util::drop_to_nobody();
    }
    let dir = util::tempdir();
    let root = dir.path();
    let mode = |p: &Path, m: u32| {
        fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(m)).unwrap();
    };
    fs::create_dir_all(root.join("closed/inner")).unwrap();
    mode(&root.join("closed"), 0o000);
    let e = Tree::new(root, WatchFlags::CREATE).unwrap_err();
    assert_eq!(
        e,
        Error::Os {
            call: "inotify_add_watch",
            errno: Errno::ACCESS
        }
    );
    mode(&root.join("closed"), 0o755);
    fs::remove_dir_all(root.join("closed")).unwrap();

    let mut tree = Tree::new(root, WatchFlags::CREATE).unwrap();
    fs::DirBuilder::new()
        .mode(0o000)
        .create(root.join("late"))
        .unwrap();
    fs::DirBuilder::new()
        .mode(0o755)
        .create(root.join("open"))
        .unwrap();
    let got = read_until(&mut tree, |g| has(g, CD, "open"));
    assert!(
        got.contains(&Rec::Unwatched(
            "late".into(),
            Error::Os {
                call: "inotify_add_watch",
                errno: Errno::ACCESS
            }
        )),
        "{got:#?}"
    );
    assert_eq!(tree.watches(), 2, "the root and open");
    mode(&root.join("late"), 0o755);
}

/// A callback's own error.
#[derive(Debug)]
struct Stop;

impl From<Error> for Stop {
    fn from(_: Error) -> Self {
        Stop
    }
}

#[test]
fn callback_errors_stop_handing_out_but_the_tree_stays_right() {
    let dir = util::tempdir();
    let root = dir.path();
    let mut tree = Tree::new(root, WatchFlags::CREATE).unwrap();
    fs::create_dir_all(root.join("a/b")).unwrap();
    fs::create_dir_all(root.join("c/d")).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let mut buf = [0_u8; 4096];
    let mut calls = 0;
    let r = tree.read(&mut buf, |_item| {
        calls += 1;
        Err::<(), Stop>(Stop)
    });
    assert!(r.is_err());
    assert_eq!(calls, 1);
    // Everything read was applied: both new directories are watched.
    let _ = read_quiet(&mut tree, Duration::from_millis(50));
    assert_eq!(tree.watches(), 5);
    // ControlFlow::Break stops too, and counts what it handed over.
    fs::write(root.join("a/b/1"), b"").unwrap();
    fs::write(root.join("c/d/2"), b"").unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let n = tree
        .read(&mut buf, |_| std::ops::ControlFlow::Break(()))
        .unwrap();
    assert_eq!(n, 1);
}

/// Reading events allocates nothing, however deep the paths: the path of
/// each event is rebuilt in a buffer the tree keeps.
#[test]
fn zero_allocations_per_event() {
    let dir = util::tempdir();
    let root = dir.path();
    fs::create_dir_all(root.join("one/two/three/four")).unwrap();
    fs::create_dir_all(root.join("x/y")).unwrap();
    let files: Vec<_> = ["one/two/three/four/f", "x/y/g", "h"]
        .iter()
        .map(|p| fs::File::create(root.join(p)).unwrap())
        .collect();
    let mut tree = Tree::new(root, WatchFlags::MODIFY | WatchFlags::CREATE).unwrap();
    let mut buf = vec![0_u8; 64 * 1024];
    // Warm up: one event for each path, so the path buffer has its size.
    for mut f in &files {
        std::io::Write::write_all(&mut f, b"w").unwrap();
    }
    let _ = read_quiet(&mut tree, Duration::from_millis(20));
    let rounds = 300;
    for _ in 0..rounds {
        for mut f in &files {
            std::io::Write::write_all(&mut f, b"w").unwrap();
        }
    }
    let mut total = 0_usize;
    let mut sum = 0_usize;
    let ((), allocs) = util::count_allocs(|| {
        let mut events = 0;
        while events < rounds * files.len() {
            // The kernel merges identical consecutive events; interleaved
            // writes to three files keep every one.
            match tree.read_wait(
                &mut buf,
                Wait::new().timeout(Duration::from_millis(200)),
                |item| {
                    if let TreeItem::Event(e) = item {
                        sum += e.path_bytes().len();
                        events += 1;
                    }
                },
            ) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => panic!("{e}"),
            }
        }
        total = events;
    });
    assert_eq!(total, rounds * files.len());
    assert_eq!(
        sum,
        rounds * ("one/two/three/four/f".len() + "x/y/g".len() + 1)
    );
    assert_eq!(allocs, 0, "allocations while reading {total} events");
}

/// Setup allocates far less than once per directory.
#[test]
fn setup_allocates_less_than_once_per_directory() {
    let dir = util::tempdir();
    for i in 0..40 {
        for j in 0..25 {
            fs::create_dir_all(dir.path().join(format!("{i}/{j}"))).unwrap();
        }
    }
    let (tree, allocs) = util::count_allocs(|| Tree::new(dir.path(), WatchFlags::CREATE).unwrap());
    assert_eq!(tree.watches(), 1 + 40 + 1000);
    assert!(allocs < 100, "{allocs} allocations for 1041 directories");
}

// ---- the tree_watch example ----

struct Watcher {
    child: std::process::Child,
    out: std::process::ChildStdout,
}

fn start(bin: &Path, dir: &Path) -> Watcher {
    let mut child = Command::new(bin)
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert_eq!(line, "Watches established.\n");
    let out = child.stdout.take().unwrap();
    Watcher { child, out }
}

impl Watcher {
    /// Stops the watcher and returns its output lines.
    fn finish(mut self) -> Vec<Vec<u8>> {
        std::thread::sleep(Duration::from_millis(200));
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        let mut bytes = Vec::new();
        self.out.read_to_end(&mut bytes).unwrap();
        bytes
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(<[u8]>::to_vec)
            .collect()
    }
}

/// The lines an operation on files and directories surely gives, whatever
/// the scans add: those that are not about opening or reading directories.
fn structural(lines: &[Vec<u8>]) -> Vec<String> {
    lines
        .iter()
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .filter(|l| {
            let names = l.split(' ').next().unwrap();
            !(names.ends_with(",ISDIR")
                && (names.starts_with("OPEN")
                    || names.starts_with("ACCESS")
                    || names.starts_with("CLOSE_NOWRITE")))
        })
        .collect()
}

#[test]
fn tree_watch_example_prints_events_by_path() {
    let bin = util::example_bin("tree_watch");
    let dir = util::tempdir();
    let root = dir.path();
    fs::create_dir_all(root.join("sub/deep")).unwrap();
    let w = start(&bin, root);
    fs::write(root.join("sub/deep/file"), b"data").unwrap();
    std::thread::sleep(Duration::from_millis(50));
    fs::rename(root.join("sub"), root.join("moved")).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    fs::remove_file(root.join("moved/deep/file")).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    // A name that is not UTF-8, printed as its bytes.
    let odd = std::ffi::OsStr::from_bytes(b"caf\xe9");
    fs::write(root.join(odd), b"").unwrap();
    let lines = w.finish();
    assert!(lines.contains(&b"CREATE caf\xe9".to_vec()), "{lines:?}");
    let got = structural(&lines);
    let want = [
        "CREATE sub/deep/file",
        "OPEN sub/deep/file",
        "MODIFY sub/deep/file",
        "CLOSE_WRITE,CLOSE sub/deep/file",
        "MOVED_FROM,ISDIR sub",
        "MOVED_TO,ISDIR moved",
        "MOVE_SELF moved",
        "DELETE moved/deep/file",
        "CREATE caf\u{fffd}",
        "OPEN caf\u{fffd}",
        "CLOSE_WRITE,CLOSE caf\u{fffd}",
    ];
    assert_eq!(got, want);
}

/// The example against Debian's `inotifywait -m -r --format '%e %w%f'` on
/// the same operations: the same lines, once each tool's directory prefix
/// is taken off. New directories are made one level at a time with pauses,
/// so neither tool races.
#[test]
fn tree_watch_matches_inotifywait() {
    if Command::new("inotifywait").arg("--help").output().is_err() {
        skip!("inotifywait (inotify-tools) is not installed");
    }
    let bin = util::example_bin("tree_watch");
    let dir = util::tempdir();
    let root = dir.path();
    fs::create_dir_all(root.join("a/b")).unwrap();
    fs::write(root.join("a/b/f"), b"").unwrap();

    let mut iw = Command::new("inotifywait")
        .args(["-m", "-r", "--format", "%e %w%f"])
        .arg(root)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut iw_err = BufReader::new(iw.stderr.take().unwrap());
    loop {
        let mut line = String::new();
        assert_ne!(iw_err.read_line(&mut line).unwrap(), 0, "inotifywait ended");
        if line.contains("Watches established.") {
            break;
        }
    }
    let ours = start(&bin, root);
    let pause = || std::thread::sleep(Duration::from_millis(100));
    fs::write(root.join("a/b/f"), b"more").unwrap();
    pause();
    fs::create_dir(root.join("a/new")).unwrap();
    pause();
    fs::write(root.join("a/new/g"), b"").unwrap();
    pause();
    fs::rename(root.join("a/b/f"), root.join("a/new/f2")).unwrap();
    pause();
    fs::set_permissions(
        root.join("a/new/g"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    pause();
    fs::remove_file(root.join("a/new/g")).unwrap();
    pause();
    let odd = std::ffi::OsStr::from_bytes(b"\xff\xfe name");
    fs::write(root.join("a").join(odd), b"").unwrap();
    pause();
    let ours = ours.finish();
    std::thread::sleep(Duration::from_millis(100));
    iw.kill().unwrap();
    iw.wait().unwrap();
    let mut bytes = Vec::new();
    iw.stdout.take().unwrap().read_to_end(&mut bytes).unwrap();
    let mut prefix = root.as_os_str().as_bytes().to_vec();
    prefix.push(b'/');
    let theirs: Vec<Vec<u8>> = bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            // "EVENTS DIR/path" -> "EVENTS path"
            let sp = l.iter().position(|&b| b == b' ').unwrap();
            let mut v = l[..=sp].to_vec();
            let path = &l[sp + 1..];
            v.extend_from_slice(path.strip_prefix(prefix.as_slice()).unwrap_or(path));
            v
        })
        .collect();
    // The kernel merges an event with an identical one queued just before
    // it if that one was not read yet, so runs of one line depend on when
    // each tool read: compare without repeats.
    let runs = |mut v: Vec<String>| {
        v.dedup();
        v
    };
    assert_eq!(runs(structural(&ours)), runs(structural(&theirs)));
    assert!(ours.contains(&b"CREATE a/\xff\xfe name".to_vec()));
}

#[test]
fn tree_watch_usage_and_errors() {
    let bin = util::example_bin("tree_watch");
    let out = Command::new(&bin).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: tree_watch DIR"));
    let out = Command::new(&bin).arg("/no/such/dir").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Couldn't watch /no/such/dir"), "{err}");
    assert!(err.contains("No such file or directory"), "{err}");
    assert!(out.stdout.is_empty());
    // It ends when its directory is gone.
    let dir = util::tempdir();
    let path = dir.path().to_path_buf();
    let w = start(&bin, &path);
    drop(dir);
    let started = Instant::now();
    let mut w = w;
    let status = loop {
        if let Some(s) = w.child.try_wait().unwrap() {
            break s;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "still running");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success());
    let mut bytes = Vec::new();
    w.out.read_to_end(&mut bytes).unwrap();
    assert!(
        bytes.ends_with(b"DELETE_SELF \n"),
        "{}",
        String::from_utf8_lossy(&bytes)
    );
}

/// On an instance of one's own (non-blocking here), in a poll loop.
#[test]
fn watch_with_a_nonblocking_instance_in_a_poll_loop() {
    use rustix::event::{PollFd, PollFlags, poll};
    let dir = util::tempdir();
    let inotify = Inotify::with_flags(
        kernfd::inotify::InitFlags::NONBLOCK | kernfd::inotify::InitFlags::CLOEXEC,
    )
    .unwrap();
    let mut tree = Tree::options()
        .events(WatchFlags::CREATE | WatchFlags::DELETE)
        .watch_with(inotify, dir.path())
        .unwrap();
    assert!(tree.inotify().is_nonblocking());
    let mut buf = [0_u8; 4096];
    assert_eq!(
        tree.read(&mut buf, |_| ()).unwrap_err().errno(),
        Some(Errno::AGAIN)
    );
    fs::create_dir(dir.path().join("d")).unwrap();
    let mut fds = [PollFd::new(&tree, PollFlags::IN)];
    assert_eq!(poll(&mut fds, None).unwrap(), 1);
    let mut got = Vec::new();
    tree.read(&mut buf, |item| {
        let TreeItem::Event(e) = item else {
            panic!("{item:?}")
        };
        got.push((e.is_dir(), e.name_bytes().to_vec(), e.cookie()));
    })
    .unwrap();
    assert_eq!(got, [(true, b"d".to_vec(), 0)]);
    assert_eq!(tree.watches(), 2);
    // A root that is not there, on an instance of one's own.
    let e = Tree::options()
        .watch_with(Inotify::new().unwrap(), dir.path().join("missing"))
        .unwrap_err();
    assert_eq!(e.errno(), Some(Errno::NOENT));
}

/// Hundreds of renames: the names they leave behind are compacted away,
/// and every path stays right.
#[test]
fn many_renames_keep_paths_right() {
    let dir = fast_tempdir();
    let root = dir.path();
    let name = |d: usize, round: usize| format!("directory-number-{d:02}-generation-{round:03}");
    for d in 0..10 {
        fs::create_dir_all(root.join(name(d, 0)).join("inner")).unwrap();
    }
    let mut tree = Tree::new(root, WatchFlags::CREATE | WatchFlags::MOVE).unwrap();
    assert_eq!(tree.watches(), 21);
    let mut buf = vec![0_u8; 64 * 1024];
    for round in 1..=60 {
        for d in 0..10 {
            fs::rename(root.join(name(d, round - 1)), root.join(name(d, round))).unwrap();
        }
        // Keep the queue short: read as we go.
        tree.read_wait(&mut buf, Wait::new().timeout(Duration::ZERO), |_| ())
            .unwrap();
    }
    let _ = read_quiet(&mut tree, Duration::from_millis(50));
    assert_eq!(tree.watches(), 21);
    for d in 0..10 {
        fs::write(root.join(name(d, 60)).join("inner/f"), b"").unwrap();
    }
    read_until(&mut tree, |g| {
        (0..10).all(|d| has(g, C, &format!("{}/inner/f", name(d, 60))))
    });
}

/// `mkdir new && mv old new/`, both before the tree reads: the kernel has
/// no `MOVED_TO` (new was not watched yet); the scan of new finds old's
/// watch there and relinks it instead of dropping it.
#[test]
fn a_directory_moved_into_a_new_one_before_its_watch() {
    let dir = util::tempdir();
    let root = dir.path();
    fs::create_dir_all(root.join("old/sub")).unwrap();
    fs::write(root.join("old/sub/f"), b"").unwrap();
    let mut tree = Tree::new(root, WatchFlags::CREATE | WatchFlags::MOVE).unwrap();
    assert_eq!(tree.watches(), 3);
    fs::create_dir(root.join("new")).unwrap();
    fs::rename(root.join("old"), root.join("new/old")).unwrap();
    let got = read_until(&mut tree, |g| {
        has(g, EventFlags::MOVED_FROM | EventFlags::ISDIR, "old")
    });
    let _ = read_quiet(&mut tree, Duration::from_millis(50));
    assert!(has(&got, CD, "new/old"), "{got:#?}");
    assert!(
        has(&got, C, "new/old/sub/f"),
        "its contents, as found: {got:#?}"
    );
    assert_eq!(tree.watches(), 4, "old and old/sub kept, new added");
    fs::write(root.join("new/old/sub/g"), b"").unwrap();
    read_until(&mut tree, |g| has(g, C, "new/old/sub/g"));
}
