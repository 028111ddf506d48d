//! A recursive watcher: one [`Inotify`] watching a directory and every
//! directory below it, reporting events by their path relative to the root.
//!
//! inotify watches one directory, not a tree: every program that wants a
//! tree rewrites the same bookkeeping (a wd→path map, new directories
//! watched as they appear, renamed ones given their new path, moved-out
//! ones dropped, `IN_IGNORED` consumed) and usually gets the hard parts
//! wrong: files created in a new directory before its watch exists, queue
//! overflows, and the watch limit. [`Tree`] does it once.
//!
//! # Storage
//! Each watched directory is one fixed-size slot (its wd, its parent's
//! slot, its place among its siblings) and its name, kept in one shared
//! byte arena. A path is never stored whole: it is rebuilt from the parent
//! links into one scratch buffer when an event is delivered, so renaming a
//! directory rewrites one slot whatever lies below it. Watch descriptors
//! map to slots through an open-addressing table. Setting up a tree of
//! `n` directories makes `O(log n)` heap allocations (the arena, the slots
//! and the table grow by doubling); reading events allocates nothing.
//!
//! # Checklist for a new kind of event handled structurally
//! [`Tree::handle`] (the dispatch), then the slot operations it calls
//! ([`Tree::register_new`], `relink`, `drop_subtree`), and a test in
//! `tests/tree.rs`.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ffi::CStr;
use core::fmt;
use core::mem::MaybeUninit;

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{AtFlags, CWD, FileType, OFlags, RawDir};
use rustix::io::Errno;

use super::{Event, EventFlags, Inotify, WatchFlags};
use crate::buffer::Buffer;
use crate::error::{Error, Result};
use crate::wait::{Flow, Wait};

/// "No slot": the root's parent, the end of a sibling list.
const NONE: u32 = u32::MAX;
/// The root directory's slot.
const ROOT: u32 = 0;
/// What the tree itself needs to hear from every directory, whatever the
/// caller asked for: entries appearing and leaving, and the directory's own
/// moves. (`IN_IGNORED` comes unasked.)
const NEEDED: WatchFlags = WatchFlags::CREATE
    .union(WatchFlags::MOVED_FROM)
    .union(WatchFlags::MOVED_TO)
    .union(WatchFlags::MOVE_SELF);
/// Filesystems whose directories have a link count of 2 plus their number
/// of subdirectories: tmpfs, ext2/3/4, XFS. (btrfs reports 1, which the
/// test below never takes for a leaf; others are not trusted.)
const LEAFY: [i64; 3] = [0x0102_1994, 0xef53, 0x5846_5342];
/// The size of the `getdents64` buffer, on the stack.
const DIRENT_BUF: usize = 8192;

/// One watched directory.
#[derive(Clone, Copy, Debug)]
struct Dir {
    /// Its watch descriptor; `-1` while the slot is free.
    wd: i32,
    /// Its parent's slot ([`NONE`] for the root); the next free slot while
    /// free.
    parent: u32,
    first_child: u32,
    next: u32,
    prev: u32,
    /// Its name in [`Tree::names`] (empty for the root).
    name_at: u32,
    name_len: u16,
    /// The rescan generation that last saw it.
    mark: u32,
}

/// Watch descriptor → slot: open addressing with linear probing and
/// backward-shift deletion; `wd == 0` (never a kernel wd) marks a hole.
#[derive(Debug, Default)]
struct WdMap {
    table: Vec<(i32, u32)>,
    len: usize,
}

impl WdMap {
    fn index(&self, wd: i32) -> usize {
        // Fibonacci hashing: wds are small consecutive integers.
        let h = (wd as u32).wrapping_mul(0x9e37_79b9);
        h as usize & (self.table.len() - 1)
    }

    fn get(&self, wd: i32) -> Option<u32> {
        if self.table.is_empty() || wd == 0 {
            return None;
        }
        let mask = self.table.len() - 1;
        let mut i = self.index(wd);
        loop {
            match self.table[i] {
                (0, _) => return None,
                (w, slot) if w == wd => return Some(slot),
                _ => i = (i + 1) & mask,
            }
        }
    }

    fn insert(&mut self, wd: i32, slot: u32) {
        if (self.len + 1) * 2 > self.table.len() {
            let old = core::mem::take(&mut self.table);
            self.table = alloc::vec![(0, 0); (old.len() * 2).max(64)];
            self.len = 0;
            for (w, s) in old {
                if w != 0 {
                    self.insert(w, s);
                }
            }
        }
        let mask = self.table.len() - 1;
        let mut i = self.index(wd);
        while self.table[i].0 != 0 && self.table[i].0 != wd {
            i = (i + 1) & mask;
        }
        if self.table[i].0 == 0 {
            self.len += 1;
        }
        self.table[i] = (wd, slot);
    }

    fn remove(&mut self, wd: i32) {
        if self.table.is_empty() || wd == 0 {
            return;
        }
        let mask = self.table.len() - 1;
        let mut i = self.index(wd);
        loop {
            match self.table[i].0 {
                0 => return,
                w if w == wd => break,
                _ => i = (i + 1) & mask,
            }
        }
        self.len -= 1;
        // Shift later members of the probe run back into the hole.
        let mut hole = i;
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let (w, _) = self.table[j];
            if w == 0 {
                break;
            }
            let ideal = self.index(w);
            // `w` may fill the hole unless its home lies in (hole, j].
            let stays = if hole <= j {
                hole < ideal && ideal <= j
            } else {
                hole < ideal || ideal <= j
            };
            if !stays {
                self.table[hole] = self.table[j];
                hole = j;
            }
        }
        self.table[hole] = (0, 0);
    }
}

/// The exclude predicate of [`TreeOptions::exclude`].
type Exclude = Box<dyn FnMut(&[u8]) -> bool + Send>;

/// How a [`Tree`] is set up: the events to report and which directories to
/// watch. Made by [`Tree::options`].
///
/// # Example
/// ```
/// use kernfd::inotify::{Tree, WatchFlags};
///
/// let dir = tempfile::tempdir()?;
/// std::fs::create_dir_all(dir.path().join("src/deep/deeper"))?;
/// std::fs::create_dir_all(dir.path().join(".git/objects"))?;
/// let tree = Tree::options()
///     .events(WatchFlags::CREATE | WatchFlags::CLOSE_WRITE)
///     .max_depth(2)
///     .exclude(|path| path == b".git" || path.ends_with(b"/.git"))
///     .watch(dir.path())?;
/// // The root, src and src/deep; not src/deep/deeper (depth 3) nor .git.
/// assert_eq!(tree.watches(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub struct TreeOptions {
    events: WatchFlags,
    follow_symlinks: bool,
    one_filesystem: bool,
    max_depth: u32,
    exclude: Option<Exclude>,
}

impl fmt::Debug for TreeOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TreeOptions")
            .field("events", &self.events)
            .field("follow_symlinks", &self.follow_symlinks)
            .field("one_filesystem", &self.one_filesystem)
            .field("max_depth", &self.max_depth)
            .field("exclude", &self.exclude.is_some())
            .finish()
    }
}

impl TreeOptions {
    /// The events to report (default [`WatchFlags::ALL_EVENTS`]). Only the
    /// event bits count; the tree adds the watch options it needs itself.
    /// The tree always watches creations and moves (it needs them), but
    /// reports only what is asked here.
    pub fn events(mut self, events: WatchFlags) -> Self {
        self.events = events & WatchFlags::ALL_EVENTS;
        self
    }

    /// Whether symbolic links to directories are watched as directories
    /// (default `false`: a link is an entry like a file, and its target is
    /// not watched through it). The root is followed if it is a link, either
    /// way. A directory reachable through several paths is watched once
    /// (inotify gives one wd per inode), under the first path found, so a
    /// link to an ancestor makes no loop.
    pub fn follow_symlinks(mut self, follow: bool) -> Self {
        self.follow_symlinks = follow;
        self
    }

    /// Stay on the root's filesystem (`find -xdev`, `du -x`): directories on
    /// another device (mount points below the root) are not watched.
    pub fn one_filesystem(mut self, one: bool) -> Self {
        self.one_filesystem = one;
        self
    }

    /// Watch directories at most `depth` levels below the root (the root is
    /// depth 0, its subdirectories 1…). The default is no limit.
    pub fn max_depth(mut self, depth: u32) -> Self {
        self.max_depth = depth;
        self
    }

    /// Directories for which `exclude(path)` is true (`path` relative to the
    /// root, as bytes: `b"src/.git"`) are not watched, nor anything below
    /// them. Events about them as entries of a watched directory (their
    /// creation, deletion…) are still reported.
    pub fn exclude(mut self, exclude: impl FnMut(&[u8]) -> bool + Send + 'static) -> Self {
        self.exclude = Some(Box::new(exclude));
        self
    }

    /// Watches `root` and the directories below it on a new [`Inotify`].
    ///
    /// `root` is kept as given and joined to relative paths for every watch
    /// added later: give an absolute path if the program changes its working
    /// directory.
    ///
    /// # Errors
    /// [`Error::TreeWatchLimit`] when the watch limit is reached (no watch is
    /// left behind: the instance is closed); [`Error::Os`] when the root
    /// cannot be watched (`ENOENT`, `ENOTDIR`, `EACCES`…) or a directory
    /// below it cannot be watched or listed for a reason other than having
    /// just disappeared; the errors of [`Inotify::new`].
    pub fn watch<P: rustix::path::Arg>(self, root: P) -> Result<Tree> {
        self.watch_with(Inotify::new()?, root)
    }

    /// As [`watch`](Self::watch), on an instance of your own (one made
    /// non-blocking, say). It must watch nothing yet.
    ///
    /// # Errors
    /// As [`watch`](Self::watch).
    pub fn watch_with<P: rustix::path::Arg>(self, inotify: Inotify, root: P) -> Result<Tree> {
        let root = root
            .into_c_str()
            .map_err(|e| Error::os("inotify_add_watch", e))?;
        Tree::setup(inotify, self, root.to_bytes())
    }
}

/// One event of a [`Tree`]: the kernel's, or one found by scanning a
/// directory that was just watched. Borrowed from the tree until the
/// callback returns.
///
/// # Example
/// A directory made with a file already in it, before the tree read its
/// `CREATE`: the file is reported by the scan of the new directory.
/// ```
/// use kernfd::inotify::{EventFlags, Tree, TreeItem, WatchFlags};
///
/// let dir = tempfile::tempdir()?;
/// let mut tree = Tree::new(dir.path(), WatchFlags::CREATE)?;
/// std::fs::create_dir(dir.path().join("new"))?;
/// std::fs::write(dir.path().join("new/early"), b"")?;
/// let mut buf = [0_u8; 4096];
/// let mut events = Vec::new();
/// tree.read(&mut buf, |item| {
///     if let TreeItem::Event(e) = item {
///         events.push((e.path_bytes().to_vec(), e.name_bytes().to_vec(), e.mask(), e.found_by_scan()));
///     }
/// })?;
/// assert_eq!(events, [
///     (b"new".to_vec(), b"new".to_vec(), EventFlags::CREATE | EventFlags::ISDIR, false),
///     (b"new/early".to_vec(), b"early".to_vec(), EventFlags::CREATE, true),
/// ]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TreeEvent<'a> {
    full: &'a [u8],
    rel_at: usize,
    mask: EventFlags,
    cookie: u32,
    scanned: bool,
}

impl<'a> TreeEvent<'a> {
    /// The event's mask (`CREATE`, `MODIFY|ISDIR`…), as the kernel gave it;
    /// for an event found by a scan, `CREATE` (or `DELETE` after a
    /// [`rescan`](Tree::rescan)), with `ISDIR` for a directory.
    #[must_use]
    pub fn mask(&self) -> EventFlags {
        self.mask
    }

    /// Whether the event is about a directory (`IN_ISDIR`).
    #[must_use]
    pub fn is_dir(&self) -> bool {
        self.mask.contains(EventFlags::ISDIR)
    }

    /// The cookie tying a `MOVED_FROM` to its `MOVED_TO`; 0 otherwise.
    #[must_use]
    pub fn cookie(&self) -> u32 {
        self.cookie
    }

    /// Whether the event was found by listing a newly watched directory (or
    /// by a [`rescan`](Tree::rescan)) rather than reported by the kernel:
    /// the entry existed when the directory was listed, and may also have
    /// been reported by the kernel (see [`Tree`]'s guarantees).
    #[must_use]
    pub fn found_by_scan(&self) -> bool {
        self.scanned
    }

    /// The path relative to the root, as bytes: `b"a/b/file"`, empty for
    /// the root itself.
    #[must_use]
    pub fn path_bytes(&self) -> &'a [u8] {
        self.full.get(self.rel_at..).unwrap_or_default()
    }

    /// The path with the root in front, as bytes: `b"/srv/data/a/b/file"`
    /// (the root as it was given).
    #[must_use]
    pub fn full_path_bytes(&self) -> &'a [u8] {
        self.full
    }

    /// The last component of the path: the entry's name (empty for the
    /// root).
    #[must_use]
    pub fn name_bytes(&self) -> &'a [u8] {
        let rel = self.path_bytes();
        match rel.iter().rposition(|&b| b == b'/') {
            Some(i) => rel.get(i + 1..).unwrap_or_default(),
            None => rel,
        }
    }

    /// The path relative to the root: join it to [`Tree::root`].
    #[cfg(feature = "std")]
    #[must_use]
    pub fn path(&self) -> &'a std::path::Path {
        use std::os::unix::ffi::OsStrExt;
        std::path::Path::new(std::ffi::OsStr::from_bytes(self.path_bytes()))
    }

    /// The path with the root in front.
    #[cfg(feature = "std")]
    #[must_use]
    pub fn full_path(&self) -> &'a std::path::Path {
        use std::os::unix::ffi::OsStrExt;
        std::path::Path::new(std::ffi::OsStr::from_bytes(self.full))
    }
}

impl fmt::Debug for TreeEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TreeEvent")
            .field("mask", &self.mask)
            .field("cookie", &self.cookie)
            .field("scanned", &self.scanned)
            .field("path", &ShowBytes(self.path_bytes()))
            .finish()
    }
}

/// What a [`Tree`] hands its callback.
///
/// # Example
/// ```
/// use kernfd::inotify::{Tree, TreeItem, WatchFlags};
///
/// fn show(item: TreeItem<'_>, rescan: &mut bool) {
///     match item {
///         TreeItem::Event(e) => println!("{} {}", e.mask(), e.path().display()),
///         TreeItem::Unwatched { path, error } => {
///             eprintln!("not watched: {}: {error}", String::from_utf8_lossy(path));
///         }
///         TreeItem::RescanNeeded => *rescan = true,
///         _ => {}
///     }
/// }
///
/// let dir = tempfile::tempdir()?;
/// let mut tree = Tree::new(dir.path(), WatchFlags::CREATE)?;
/// std::fs::write(dir.path().join("f"), b"")?;
/// let mut buf = [0_u8; 4096];
/// let mut rescan = false;
/// tree.read(&mut buf, |item| show(item, &mut rescan))?;
/// if rescan {
///     tree.rescan(|item| show(item, &mut rescan))?;
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TreeItem<'a> {
    /// An event, with its path.
    Event(TreeEvent<'a>),
    /// A directory that should have been watched is not (`path` relative to
    /// the root), and nothing below it is: `error` says why —
    /// [`Error::TreeWatchLimit`] at the watch limit, `EACCES`… The tree
    /// stays consistent: the directory holds no watch.
    Unwatched {
        /// The directory, relative to the root.
        path: &'a [u8],
        /// Why it could not be watched.
        error: Error,
    },
    /// The kernel's queue overflowed (or a record was malformed): events
    /// were lost, and the tree may no longer match the disk. Call
    /// [`Tree::rescan`].
    RescanNeeded,
}

/// A move seen leaving a directory, waiting for its other half.
#[derive(Clone, Copy, Debug)]
struct Pending {
    cookie: u32,
    slot: u32,
}

/// How [`Tree::populate`] reports what it finds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Walk {
    /// The first walk: report nothing.
    Setup,
    /// A new directory: report its entries, and its subdirectories' entries.
    Scan,
    /// A rescan: report directories not known before, and their entries.
    Rescan,
}

/// A directory and all the directories below it, watched on one
/// [`Inotify`], with events reported by path.
///
/// Set it up with [`Tree::new`] or [`Tree::options`], then read with
/// [`read`](Self::read) or [`read_wait`](Self::read_wait): each read fills
/// the caller's buffer once, as [`Inotify::read`] does, and hands each
/// [`TreeItem`] to a callback. The tree keeps itself up to date on the way:
///
/// - a directory created or moved in gets a watch, and is listed at once
///   (see below); so are the directories inside it;
/// - a directory renamed or moved within the tree keeps its watches, and
///   the paths below it change at once (one slot is rewritten);
/// - a directory moved out of the tree, or deleted, loses its watches and
///   those below it; `IN_IGNORED` records are consumed, never handed out;
/// - a queue overflow is handed out as [`TreeItem::RescanNeeded`]; then
///   [`rescan`](Self::rescan) walks the disk again, watches what is new and
///   reports what changed;
/// - at the watch limit, a directory that cannot be watched is reported as
///   [`TreeItem::Unwatched`], and holds no watch.
///
/// # The creation race: what is guaranteed
/// A directory made inside a watched one is only watched once the tree
/// has read its `CREATE` event, so entries may be made in it before its
/// watch exists (`mkdir -p a/b/c && touch a/b/c/f`). The tree therefore
/// lists each new directory *after* adding its watch and hands out every
/// entry it finds as a `CREATE` event ([`TreeEvent::found_by_scan`]), and
/// does the same, recursively, for the directories inside it. Hence:
///
/// - every entry present in a new directory when the tree lists it is
///   reported, by the scan or by the kernel; the scan event comes after
///   the directory's own `CREATE` event;
/// - an entry made after the watch was added and before the listing is
///   reported twice: by the scan and by the kernel (a `CREATE` that may
///   come later in the stream);
/// - an entry made *and* removed before the listing is not reported at all,
///   and nor is anything done to a file before its directory was listed
///   (a `MODIFY`, a `CLOSE_WRITE`): the scan reports that it exists, not
///   how it got there;
/// - an entry renamed before the listing is reported under its new name
///   only.
///
/// # The tree's own reads
/// Listing a directory opens and reads it, which inotify reports like any
/// other reader's: with `OPEN`, `ACCESS` or `CLOSE_NOWRITE` asked for, each
/// listing shows up as those events (with `ISDIR`) on the directory, as it
/// does with `inotifywait -r`. Setup skips listing a directory it knows
/// has no subdirectory (a link count of 2 on tmpfs, ext2/3/4 and XFS), so
/// most leaves of a large tree are never opened.
///
/// # The root
/// The root is known by the path it was given: the tree reports its
/// `DELETE_SELF` and `MOVE_SELF` (with an empty path) and, once it is gone,
/// [`watches`](Self::watches) is 0. If the root is moved, events go on
/// under it, but directories made in it afterwards are looked for at the
/// old path, not found, and not watched.
///
/// A filesystem mounted below the root and then unmounted takes its
/// watches with it (the kernel reports `UNMOUNT`, handed out, then drops
/// them); the directory under the mount point is not watched again until
/// a [`rescan`](Self::rescan).
///
/// # Moves
/// A `MOVED_FROM` of a watched directory is paired with the `MOVED_TO` of
/// the same cookie, which relinks it. Without a `MOVED_TO`, the
/// directory's own `MOVE_SELF` (which the kernel queues after both halves)
/// says it left the tree, and its watches go. The depth limit and the
/// exclude predicate are applied when directories are added; a directory
/// moved within the tree keeps its watches.
///
/// # Costs
/// Setup makes, per directory, one `inotify_add_watch`; on tmpfs, ext2/3/4
/// and XFS one `stat` that tells a leaf; and for a directory that may hold
/// subdirectories, `open`, `getdents64` (one call for a small directory,
/// plus one to see the end) and `close`. It makes no heap allocation per
/// directory: the slots, the name arena and the wd table grow by doubling.
/// Reading allocates nothing: the path of each event is built in one
/// scratch buffer. Finding a moved directory walks the names of its old
/// parent's subdirectories.
///
/// # References
/// [inotify(7)](https://man7.org/linux/man-pages/man7/inotify.7.html),
/// [inotify_add_watch(2)](https://man7.org/linux/man-pages/man2/inotify_add_watch.2.html)
///
/// # Example
/// ```
/// use kernfd::inotify::{Tree, TreeItem, WatchFlags};
///
/// let dir = tempfile::tempdir()?;
/// let mut tree = Tree::new(dir.path(), WatchFlags::CREATE | WatchFlags::CLOSE_WRITE)?;
/// std::fs::create_dir_all(dir.path().join("a/b"))?;
/// std::fs::write(dir.path().join("a/b/f"), b"hi")?;
///
/// let mut buf = [0_u8; 4096];
/// let mut seen = Vec::new();
/// while !seen.iter().any(|(p, _)| p == "a/b/f") {
///     tree.read(&mut buf, |item| {
///         if let TreeItem::Event(e) = item {
///             seen.push((e.path().display().to_string(), e.mask().to_string()));
///         }
///     })?;
/// }
/// // Whether b and f were seen by the kernel or by the scan of the new
/// // directories, they are reported, with their path from the root.
/// assert_eq!(seen[0], ("a".to_string(), "CREATE|ISDIR".to_string()));
/// assert!(seen.contains(&("a/b".to_string(), "CREATE|ISDIR".to_string())));
/// assert!(seen.contains(&("a/b/f".to_string(), "CREATE".to_string())));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Tree {
    inotify: Inotify,
    /// The events the caller asked for.
    events: WatchFlags,
    /// The mask given to `inotify_add_watch` below the root.
    watch_mask: WatchFlags,
    follow_symlinks: bool,
    /// The root's device, when staying on one filesystem.
    dev: Option<u64>,
    /// The root's device, when its filesystem counts subdirectories in a
    /// directory's link count (see [`Tree::is_leaf`]).
    leafy_dev: Option<u64>,
    max_depth: u32,
    exclude: Option<Exclude>,
    /// The root as given, trailing slashes trimmed (`/` stays).
    root: Box<[u8]>,
    /// Where relative paths start in a full path.
    prefix_len: usize,
    dirs: Vec<Dir>,
    free: u32,
    live: usize,
    wds: WdMap,
    names: Vec<u8>,
    garbage: usize,
    /// Scratch: a full path and its NUL.
    path: Vec<u8>,
    pending: Vec<Pending>,
    /// Scratch: slots to list, and whether to report their entries.
    stack: Vec<(u32, bool)>,
    /// Scratch: a subtree being dropped.
    doomed: Vec<u32>,
    mark: u32,
}

impl fmt::Debug for Tree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tree")
            .field("inotify", &self.inotify)
            .field("root", &ShowBytes(&self.root))
            .field("events", &self.events)
            .field("watches", &self.live)
            .finish_non_exhaustive()
    }
}

impl AsFd for Tree {
    /// The inotify descriptor, to register with epoll.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inotify.as_fd()
    }
}

/// Is `errno` what adding or listing a directory that was just removed or
/// replaced gives? Then it is skipped: its removal is (or will be) reported.
fn vanished(errno: Errno) -> bool {
    matches!(errno, Errno::NOENT | Errno::NOTDIR | Errno::LOOP)
}

impl Tree {
    /// Watches `root` and everything below it for `events`, with the default
    /// [`options`](Self::options).
    ///
    /// # Errors
    /// As [`TreeOptions::watch`].
    ///
    /// # Example
    /// ```
    /// use kernfd::inotify::{Tree, WatchFlags};
    ///
    /// let dir = tempfile::tempdir()?;
    /// std::fs::create_dir_all(dir.path().join("a/b"))?;
    /// let tree = Tree::new(dir.path(), WatchFlags::ALL_EVENTS)?;
    /// assert_eq!(tree.watches(), 3);
    /// let err = Tree::new("/no/such/dir", WatchFlags::ALL_EVENTS).unwrap_err();
    /// assert_eq!(err.errno(), Some(kernfd::Errno::NOENT));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new<P: rustix::path::Arg>(root: P, events: WatchFlags) -> Result<Self> {
        Self::options().events(events).watch(root)
    }

    /// The default options: all events, symbolic links not followed, any
    /// filesystem, any depth, nothing excluded. See [`TreeOptions`].
    ///
    /// # Example
    /// ```
    /// use kernfd::inotify::{Tree, WatchFlags};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let tree = Tree::options()
    ///     .events(WatchFlags::CLOSE_WRITE | WatchFlags::MOVED_TO)
    ///     .one_filesystem(true)
    ///     .watch(dir.path())?;
    /// assert_eq!(tree.root(), dir.path().as_os_str().as_encoded_bytes());
    /// assert_eq!(tree.watches(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn options() -> TreeOptions {
        TreeOptions {
            events: WatchFlags::ALL_EVENTS,
            follow_symlinks: false,
            one_filesystem: false,
            max_depth: u32::MAX,
            exclude: None,
        }
    }

    fn setup(inotify: Inotify, opts: TreeOptions, root: &[u8]) -> Result<Self> {
        let mut trimmed = root;
        while trimmed.len() > 1 && trimmed.last() == Some(&b'/') {
            trimmed = trimmed.get(..trimmed.len() - 1).unwrap_or_default();
        }
        if trimmed.is_empty() || trimmed.contains(&0) {
            return Err(Error::os("inotify_add_watch", Errno::NOENT));
        }
        let prefix_len = trimmed.len() + usize::from(trimmed != b"/");
        let mut watch_mask = opts.events | NEEDED | WatchFlags::ONLYDIR;
        if !opts.follow_symlinks {
            watch_mask |= WatchFlags::DONT_FOLLOW;
        }
        let mut tree = Self {
            inotify,
            events: opts.events,
            watch_mask,
            follow_symlinks: opts.follow_symlinks,
            dev: None,
            leafy_dev: None,
            max_depth: opts.max_depth,
            exclude: opts.exclude,
            root: trimmed.into(),
            prefix_len,
            dirs: Vec::new(),
            free: NONE,
            live: 0,
            wds: WdMap::default(),
            names: Vec::new(),
            garbage: 0,
            path: Vec::new(),
            pending: Vec::with_capacity(4),
            stack: Vec::new(),
            doomed: Vec::new(),
            mark: 0,
        };
        tree.path_of(ROOT);
        let wd = tree.add_watch(tree.watch_mask - WatchFlags::DONT_FOLLOW)?;
        let path = cstr(&tree.path).ok_or(Error::os("stat", Errno::NOENT))?;
        let st = rustix::fs::stat(path).map_err(|e| Error::os("stat", e))?;
        if opts.one_filesystem {
            tree.dev = Some(st.st_dev);
        }
        // `f_type` is a C long: 32 bits on 32-bit targets.
        #[allow(clippy::unnecessary_cast)]
        if rustix::fs::statfs(path).is_ok_and(|fs| LEAFY.contains(&(fs.f_type as i64))) {
            tree.leafy_dev = Some(st.st_dev);
        }
        tree.new_slot(wd, NONE, b"");
        tree.populate(ROOT, Walk::Setup, &mut |_| ())?;
        Ok(tree)
    }

    /// The root, as given (trailing slashes trimmed): join event paths to it.
    #[must_use]
    pub fn root(&self) -> &[u8] {
        &self.root
    }

    /// The root as a `Path`.
    #[cfg(feature = "std")]
    #[must_use]
    pub fn root_path(&self) -> &std::path::Path {
        use std::os::unix::ffi::OsStrExt;
        std::path::Path::new(std::ffi::OsStr::from_bytes(&self.root))
    }

    /// How many directories are watched (one inotify watch each). 0 once
    /// the root itself is gone (deleted, or its filesystem unmounted).
    #[must_use]
    pub fn watches(&self) -> usize {
        self.live
    }

    /// The inotify instance, to set its mode or register it with epoll.
    /// Adding or removing watches on it behind the tree's back is not
    /// supported.
    #[must_use]
    pub fn inotify(&self) -> &Inotify {
        &self.inotify
    }

    /// Reads once (waiting as the instance's mode says, as [`Inotify::read`]
    /// does) and hands every item to `f`; returns how many it handed over.
    ///
    /// `f` returns a [`Flow`] (`()`, a `ControlFlow`, or a `Result` so that
    /// `?` works). When it stops, the rest of the read is still applied to
    /// the tree (new directories watched, moved ones relinked), so the tree
    /// stays right, but not handed out.
    ///
    /// # Errors
    /// As [`Inotify::read`] (`EAGAIN` when non-blocking and empty,
    /// [`Error::BufferTooSmall`]…), and whatever `f` returns.
    ///
    /// # Example
    /// ```
    /// use kernfd::inotify::{Tree, TreeItem, WatchFlags};
    ///
    /// let dir = tempfile::tempdir()?;
    /// std::fs::create_dir(dir.path().join("sub"))?;
    /// let mut tree = Tree::new(dir.path(), WatchFlags::CLOSE_WRITE)?;
    /// std::fs::write(dir.path().join("sub/file"), b"x")?;
    /// let mut buf = [0_u8; 4096];
    /// let n = tree.read(&mut buf, |item| {
    ///     let TreeItem::Event(e) = item else { panic!("{item:?}") };
    ///     assert_eq!(e.path_bytes(), b"sub/file");
    ///     assert_eq!(e.full_path(), dir.path().join("sub/file"));
    /// })?;
    /// assert_eq!(n, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read<B, E, R>(
        &mut self,
        buf: &mut B,
        mut f: impl FnMut(TreeItem<'_>) -> R,
    ) -> core::result::Result<usize, E>
    where
        B: Buffer + ?Sized,
        E: From<Error>,
        R: Flow<E>,
    {
        let events = self.inotify.read(buf)?;
        self.apply(events, &mut f)
    }

    /// As [`read`](Self::read), waiting as `wait` says (a timeout, a
    /// [`Waker`](crate::wait::Waker)); hands nothing over when the wait
    /// ends first.
    ///
    /// # Errors
    /// As [`Inotify::read_wait`], and whatever `f` returns.
    ///
    /// # Example
    /// ```
    /// use std::time::Duration;
    /// use kernfd::inotify::{Tree, WatchFlags};
    /// use kernfd::wait::Wait;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let mut tree = Tree::new(dir.path(), WatchFlags::CREATE)?;
    /// let mut buf = [0_u8; 4096];
    /// let wait = Wait::new().timeout(Duration::from_millis(5));
    /// assert_eq!(tree.read_wait(&mut buf, wait, |_| ())?, 0, "nothing happened");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_wait<B, E, R>(
        &mut self,
        buf: &mut B,
        wait: Wait<'_>,
        mut f: impl FnMut(TreeItem<'_>) -> R,
    ) -> core::result::Result<usize, E>
    where
        B: Buffer + ?Sized,
        E: From<Error>,
        R: Flow<E>,
    {
        let events = self.inotify.read_wait(buf, wait)?;
        self.apply(events, &mut f)
    }

    /// After a [`TreeItem::RescanNeeded`]: walks the whole tree again,
    /// watches the directories that are new, drops those that are gone, and
    /// reports the difference to `f`; returns how many items it handed over.
    ///
    /// The tree knows directories, not files, so what is reported is:
    /// - each directory not watched before, as `CREATE|ISDIR`, and every
    ///   entry inside it as `CREATE` (as for a new directory);
    /// - each watched directory found elsewhere (renamed while events were
    ///   lost) as `MOVED_FROM|ISDIR` at its old path then `MOVED_TO|ISDIR`
    ///   at its new one, with cookie 0;
    /// - each watched directory gone as `DELETE|ISDIR` at its last path.
    ///
    /// All are [`found_by_scan`](TreeEvent::found_by_scan). Files created,
    /// changed or removed in directories that were already watched while
    /// events were lost are not reported: a caller that keeps state about
    /// files must revisit them. Events still queued after the overflow are
    /// read as usual afterwards; those about dropped directories are
    /// skipped.
    ///
    /// Directories that cannot be watched (the watch limit, `EACCES`) are
    /// handed out as [`TreeItem::Unwatched`], and hold no watch. When `f`
    /// stops, the rescan still completes; only the handing out ends.
    ///
    /// # Errors
    /// [`Error::Os`] or [`Error::TreeWatchLimit`] when the root itself
    /// cannot be watched again (then the tree is left as it was);
    /// whatever `f` returns.
    ///
    /// # Example
    /// ```
    /// use kernfd::inotify::{Tree, TreeItem, WatchFlags};
    ///
    /// let dir = tempfile::tempdir()?;
    /// std::fs::create_dir(dir.path().join("old"))?;
    /// let mut tree = Tree::new(dir.path(), WatchFlags::CREATE | WatchFlags::DELETE)?;
    /// // Pretend events were lost: the disk changes behind the tree's back
    /// // (the events queued meanwhile are simply never read here).
    /// std::fs::remove_dir(dir.path().join("old"))?;
    /// std::fs::create_dir_all(dir.path().join("new/inner"))?;
    /// let mut seen = Vec::new();
    /// tree.rescan(|item| {
    ///     if let TreeItem::Event(e) = item {
    ///         seen.push(format!("{} {}", e.mask(), e.path().display()));
    ///     }
    /// })?;
    /// seen.sort();
    /// assert_eq!(seen, ["CREATE|ISDIR new", "CREATE|ISDIR new/inner", "DELETE|ISDIR old"]);
    /// assert_eq!(tree.watches(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rescan<E, R>(
        &mut self,
        mut f: impl FnMut(TreeItem<'_>) -> R,
    ) -> core::result::Result<usize, E>
    where
        E: From<Error>,
        R: Flow<E>,
    {
        let mut sink = Sink::new(&mut f);
        self.rescan_into(&mut |item| sink.give(item))?;
        sink.finish()
    }

    /// Applies one read's events to the tree, handing items to `f`.
    pub(crate) fn apply<E, R>(
        &mut self,
        events: super::Events<'_>,
        f: &mut impl FnMut(TreeItem<'_>) -> R,
    ) -> core::result::Result<usize, E>
    where
        R: Flow<E>,
    {
        let mut sink = Sink::new(f);
        let mut out = |item: TreeItem<'_>| sink.give(item);
        for item in events {
            match item {
                Ok(event) => self.handle(&event, &mut out),
                // A queue overflow, or a record that does not parse: events
                // were lost either way.
                Err(_) => out(TreeItem::RescanNeeded),
            }
        }
        sink.finish()
    }

    /// One kernel event: update the tree, hand out what was asked for.
    fn handle(&mut self, event: &Event<'_>, out: &mut dyn FnMut(TreeItem<'_>)) {
        let Some(slot) = self.wds.get(event.wd()) else {
            // A watch the tree dropped: its last events and its IGNORED.
            return;
        };
        let mask = event.mask();
        if mask.contains(EventFlags::IGNORED) {
            // The kernel removed the watch: the directory is gone (or its
            // filesystem). Whatever is still below it goes too.
            self.drop_subtree(slot, false, false, out);
            return;
        }
        let name = event.name_bytes();
        let named_dir = !name.is_empty() && mask.contains(EventFlags::ISDIR);
        if named_dir && mask.contains(EventFlags::CREATE) {
            self.deliver(slot, event, out);
            self.register_new(slot, name, out);
        } else if named_dir && mask.contains(EventFlags::MOVED_FROM) {
            if let Some(child) = self.child_named(slot, name) {
                self.pending.push(Pending {
                    cookie: event.cookie(),
                    slot: child,
                });
            }
            self.deliver(slot, event, out);
        } else if named_dir && mask.contains(EventFlags::MOVED_TO) {
            if let Some(i) = self.pending.iter().position(|p| p.cookie == event.cookie()) {
                let child = self.pending.swap_remove(i).slot;
                self.relink(child, slot, name, out);
                self.deliver(slot, event, out);
            } else {
                // From outside the tree (or from a directory not watched).
                self.deliver(slot, event, out);
                self.register_new(slot, name, out);
            }
        } else if name.is_empty() && mask.contains(EventFlags::MOVE_SELF) && slot != ROOT {
            self.deliver(slot, event, out);
            if let Some(i) = self.pending.iter().position(|p| p.slot == slot) {
                // Its MOVED_FROM had no MOVED_TO here: it left the tree.
                self.pending.swap_remove(i);
                self.drop_subtree(slot, true, false, out);
            }
        } else if self.follow_symlinks
            && !name.is_empty()
            && mask.intersects(EventFlags::CREATE | EventFlags::MOVED_TO)
        {
            self.deliver(slot, event, out);
            self.path_of(slot);
            self.join(name);
            let target_is_dir = cstr(&self.path).is_some_and(|p| {
                rustix::fs::statat(CWD, p, AtFlags::empty())
                    .is_ok_and(|st| FileType::from_raw_mode(st.st_mode).is_dir())
            });
            if target_is_dir {
                self.register_new(slot, name, out);
            }
        } else {
            self.deliver(slot, event, out);
        }
    }

    /// Hands out a kernel event if the caller asked for it.
    fn deliver(&mut self, slot: u32, event: &Event<'_>, out: &mut dyn FnMut(TreeItem<'_>)) {
        let asked = self.events.bits() | EventFlags::UNMOUNT.bits();
        if event.mask().bits() & asked == 0 {
            return;
        }
        self.path_of(slot);
        if !event.name_bytes().is_empty() {
            self.join(event.name_bytes());
        }
        out(TreeItem::Event(TreeEvent {
            full: self.full(),
            rel_at: self.prefix_len,
            mask: event.mask(),
            cookie: event.cookie(),
            scanned: false,
        }));
    }

    /// Hands out an event found by a scan, for the path in `self.path`.
    fn deliver_scanned(&self, mask: EventFlags, out: &mut dyn FnMut(TreeItem<'_>)) {
        if mask.bits() & self.events.bits() == 0 {
            return;
        }
        out(TreeItem::Event(TreeEvent {
            full: self.full(),
            rel_at: self.prefix_len,
            mask,
            cookie: 0,
            scanned: true,
        }));
    }

    /// Hands out `error` for the directory in `self.path`.
    fn deliver_unwatched(&self, error: Error, out: &mut dyn FnMut(TreeItem<'_>)) {
        out(TreeItem::Unwatched {
            path: self.full().get(self.prefix_len..).unwrap_or_default(),
            error,
        });
    }

    /// A directory `name` appeared in `parent` (created or moved in): watch
    /// it, list it, and do the same below it.
    fn register_new(&mut self, parent: u32, name: &[u8], out: &mut dyn FnMut(TreeItem<'_>)) {
        let depth = self.path_of(parent).saturating_add(1);
        self.join(name);
        match self.consider(None, depth, None) {
            Ok(Found::New(wd)) => {
                let slot = self.new_slot(wd, parent, name);
                // Errors in Scan mode are handed out, never returned.
                let _ = self.populate(slot, Walk::Scan, out);
            }
            Ok(Found::Known(_) | Found::Skip) => {}
            Err(error) => self.deliver_unwatched(error, out),
        }
    }

    /// Checks the directory whose full path is in `self.path` against the
    /// options and watches it. `at` is the directory's parent descriptor and
    /// name when known (else the path is used); `dev` its device if already
    /// known.
    fn consider(
        &mut self,
        at: Option<(BorrowedFd<'_>, &CStr)>,
        depth: u32,
        dev: Option<u64>,
    ) -> Result<Found> {
        if depth > self.max_depth {
            return Ok(Found::Skip);
        }
        if let Some(root_dev) = self.dev {
            let dev = dev.map_or_else(
                || {
                    let flags = AtFlags::SYMLINK_NOFOLLOW;
                    match at {
                        Some((fd, name)) => rustix::fs::statat(fd, name, flags),
                        None => match cstr(&self.path) {
                            Some(p) => rustix::fs::statat(CWD, p, flags),
                            None => Err(Errno::NOENT),
                        },
                    }
                    .map(|st| st.st_dev)
                },
                Ok,
            );
            match dev {
                Ok(dev) if dev == root_dev => {}
                Ok(_) => return Ok(Found::Skip),
                Err(e) if vanished(e) => return Ok(Found::Skip),
                Err(e) => return Err(Error::os("stat", e)),
            }
        }
        if let Some(exclude) = &mut self.exclude {
            let rel = self
                .path
                .get(self.prefix_len..self.path.len().saturating_sub(1))
                .unwrap_or_default();
            if exclude(rel) {
                return Ok(Found::Skip);
            }
        }
        let wd = self.add_watch(self.watch_mask);
        match wd {
            Ok(wd) => Ok(match self.wds.get(wd) {
                Some(slot) => Found::Known(slot),
                None => Found::New(wd),
            }),
            Err(Error::Os { errno, .. }) if vanished(errno) => Ok(Found::Skip),
            Err(e) => Err(e),
        }
    }

    /// `inotify_add_watch` on the path in `self.path`.
    fn add_watch(&self, mask: WatchFlags) -> Result<i32> {
        let path = cstr(&self.path).ok_or(Error::os("inotify_add_watch", Errno::NOENT))?;
        super::add_watch(&self.inotify, path, mask).map_err(|errno| match errno {
            Errno::NOSPC => Error::TreeWatchLimit { watches: self.live },
            errno => Error::os("inotify_add_watch", errno),
        })
    }

    /// Lists `start` (already watched) and the directories found below it,
    /// watching each before listing it. In Setup mode the first error is
    /// returned; otherwise errors are handed out as [`TreeItem::Unwatched`]
    /// and the walk goes on. A directory that cannot be listed is unwatched
    /// again, so every watched directory has been listed.
    fn populate(
        &mut self,
        start: u32,
        mode: Walk,
        out: &mut dyn FnMut(TreeItem<'_>),
    ) -> Result<()> {
        let mut buf = [MaybeUninit::<u8>::uninit(); DIRENT_BUF];
        let mut stack = core::mem::take(&mut self.stack);
        stack.clear();
        stack.push((start, mode == Walk::Scan));
        let result = self.walk(&mut stack, &mut buf, mode, out);
        stack.clear();
        self.stack = stack;
        result
    }

    fn walk(
        &mut self,
        stack: &mut Vec<(u32, bool)>,
        buf: &mut [MaybeUninit<u8>],
        mode: Walk,
        out: &mut dyn FnMut(TreeItem<'_>),
    ) -> Result<()> {
        while let Some((slot, report)) = stack.pop() {
            if self.dirs[slot as usize].wd == -1 {
                // Dropped since it was queued (its parent's listing failed,
                // or a rename replaced it).
                continue;
            }
            let depth = self.path_of(slot);
            let dir_len = self.path.len() - 1;
            let mut flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
            if !self.follow_symlinks && slot != ROOT {
                flags |= OFlags::NOFOLLOW;
            }
            let opened = match cstr(&self.path) {
                Some(p) => rustix::fs::openat(CWD, p, flags, rustix::fs::Mode::empty()),
                None => Err(Errno::NOENT),
            };
            let fd = match opened {
                Ok(fd) => fd,
                Err(errno) => {
                    self.unlisted(slot, Error::os("open", errno), mode, out)?;
                    continue;
                }
            };
            if let Err(error) = self.list(&fd, slot, dir_len, depth, report, mode, stack, buf, out)
            {
                self.path_of(slot);
                self.unlisted(slot, error, mode, out)?;
            }
        }
        Ok(())
    }

    /// A watched directory could not be listed: unwatch it (and what was
    /// found below it so far), then report or return why.
    fn unlisted(
        &mut self,
        slot: u32,
        error: Error,
        mode: Walk,
        out: &mut dyn FnMut(TreeItem<'_>),
    ) -> Result<()> {
        self.drop_subtree(slot, true, false, out);
        if error.errno().is_some_and(vanished) && slot != ROOT {
            return Ok(());
        }
        if mode == Walk::Setup {
            return Err(error);
        }
        self.deliver_unwatched(error, out);
        Ok(())
    }

    /// Lists the directory `fd` (slot `slot`, its full path the first
    /// `dir_len` bytes of `self.path`).
    #[allow(clippy::too_many_arguments)]
    fn list(
        &mut self,
        fd: &OwnedFd,
        slot: u32,
        dir_len: usize,
        depth: u32,
        report: bool,
        mode: Walk,
        stack: &mut Vec<(u32, bool)>,
        buf: &mut [MaybeUninit<u8>],
        out: &mut dyn FnMut(TreeItem<'_>),
    ) -> Result<()> {
        let mut dir = RawDir::new(fd, buf);
        while let Some(entry) = dir.next() {
            let entry = entry.map_err(|e| Error::os("getdents64", e))?;
            let cname = entry.file_name();
            let name = cname.to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            // This directory's path, its NUL, then `/name` in its place.
            self.path.truncate(dir_len);
            self.path.push(0);
            self.join(name);
            let (is_dir, watchable, dev) = self.classify(fd.as_fd(), cname, entry.file_type());
            let found = if watchable {
                self.consider(Some((fd.as_fd(), cname)), depth.saturating_add(1), dev)
            } else {
                Ok(Found::Skip)
            };
            let dir_bit = if is_dir {
                EventFlags::ISDIR
            } else {
                EventFlags::empty()
            };
            match found {
                Ok(Found::New(wd)) => {
                    let child = self.new_slot(wd, slot, name);
                    // The first walk needs only the subdirectories of a
                    // directory, and a leaf has none.
                    if mode != Walk::Setup || !self.is_leaf(fd.as_fd(), cname) {
                        stack.push((child, mode != Walk::Setup));
                    }
                    if report || mode == Walk::Rescan {
                        self.deliver_scanned(EventFlags::CREATE | dir_bit, out);
                    }
                }
                Ok(Found::Known(known)) => {
                    let here = self.dirs[known as usize].parent == slot && self.name(known) == name;
                    let fresh = self.dirs[known as usize].mark != self.mark || mode != Walk::Rescan;
                    if !here && is_dir && fresh && !self.is_ancestor(known, slot) {
                        // The same directory, somewhere else: it moved
                        // while its events were not read yet.
                        if mode == Walk::Rescan {
                            self.path_of(known);
                            self.deliver_scanned(EventFlags::MOVED_FROM | dir_bit, out);
                        }
                        self.relink(known, slot, name, out);
                        self.path.truncate(0);
                        self.path_of(slot);
                        self.join(name);
                        let mask = if mode == Walk::Rescan {
                            EventFlags::MOVED_TO
                        } else {
                            EventFlags::CREATE
                        };
                        self.deliver_scanned(mask | dir_bit, out);
                        self.dirs[known as usize].mark = self.mark;
                        stack.push((known, mode == Walk::Scan));
                    } else if mode == Walk::Rescan && fresh && here {
                        self.dirs[known as usize].mark = self.mark;
                        if !self.is_leaf(fd.as_fd(), cname) {
                            stack.push((known, false));
                        }
                    } else if report {
                        self.deliver_scanned(EventFlags::CREATE | dir_bit, out);
                        if here && mode == Walk::Scan {
                            // Watched already (it came in with a directory
                            // moved here): what it holds is new here too.
                            stack.push((known, true));
                        }
                    }
                    // Restore this directory's path for the next entry.
                    self.path_of(slot);
                }
                Ok(Found::Skip) => {
                    if report {
                        self.deliver_scanned(EventFlags::CREATE | dir_bit, out);
                    }
                }
                Err(error) => {
                    if mode == Walk::Setup {
                        // The caller drops the whole tree.
                        return Err(error);
                    }
                    if report {
                        self.deliver_scanned(EventFlags::CREATE | dir_bit, out);
                    }
                    self.deliver_unwatched(error, out);
                }
            }
        }
        Ok(())
    }

    /// What a directory entry is: (a directory, one to watch, its device if
    /// a stat was needed anyway).
    fn classify(
        &self,
        dfd: BorrowedFd<'_>,
        name: &CStr,
        ty: FileType,
    ) -> (bool, bool, Option<u64>) {
        let stat = |flags| rustix::fs::statat(dfd, name, flags).ok();
        match ty {
            FileType::Directory => (true, true, None),
            FileType::Symlink if self.follow_symlinks => match stat(AtFlags::empty()) {
                Some(st) if FileType::from_raw_mode(st.st_mode).is_dir() => {
                    (false, true, Some(st.st_dev))
                }
                _ => (false, false, None),
            },
            FileType::Unknown => match stat(AtFlags::SYMLINK_NOFOLLOW) {
                Some(st) => match FileType::from_raw_mode(st.st_mode) {
                    FileType::Directory => (true, true, Some(st.st_dev)),
                    FileType::Symlink => self.classify(dfd, name, FileType::Symlink),
                    _ => (false, false, None),
                },
                None => (false, false, None),
            },
            _ => (false, false, None),
        }
    }

    /// Whether `name` in `dfd`, just watched, has no subdirectory, so that
    /// a walk that only looks for directories need not list it: a directory
    /// on the root's filesystem (one of [`LEAFY`]) with a link count of 2.
    /// The watch is set first, so a subdirectory made after this check is
    /// reported by the kernel.
    fn is_leaf(&self, dfd: BorrowedFd<'_>, name: &CStr) -> bool {
        self.leafy_dev.is_some_and(|dev| {
            rustix::fs::statat(dfd, name, AtFlags::SYMLINK_NOFOLLOW).is_ok_and(|st| {
                st.st_dev == dev && st.st_nlink == 2 && FileType::from_raw_mode(st.st_mode).is_dir()
            })
        })
    }

    fn rescan_into(&mut self, out: &mut dyn FnMut(TreeItem<'_>)) -> Result<()> {
        self.pending.clear();
        self.mark = self.mark.wrapping_add(1);
        self.path_of(ROOT);
        let wd = self.add_watch(self.watch_mask - WatchFlags::DONT_FOLLOW)?;
        let report_all = self.live == 0 || self.dirs[ROOT as usize].wd != wd;
        if report_all {
            // The root is new (made again since): start from nothing.
            if self.live > 0 {
                self.drop_subtree(ROOT, true, true, out);
            }
            self.dirs.clear();
            self.free = NONE;
            self.names.clear();
            self.garbage = 0;
            self.wds = WdMap::default();
            self.new_slot(wd, NONE, b"");
        }
        self.dirs[ROOT as usize].mark = self.mark;
        let mut stack = core::mem::take(&mut self.stack);
        stack.clear();
        stack.push((ROOT, report_all));
        let mut buf = [MaybeUninit::<u8>::uninit(); DIRENT_BUF];
        let walked = self.walk(&mut stack, &mut buf, Walk::Rescan, out);
        stack.clear();
        // The tops of the subtrees not seen: gone.
        for (slot, dir) in self.dirs.iter().enumerate() {
            if dir.wd != -1
                && dir.mark != self.mark
                && dir.parent != NONE
                && self.dirs[dir.parent as usize].mark == self.mark
            {
                stack.push((slot as u32, false));
            }
        }
        while let Some((slot, _)) = stack.pop() {
            if self.dirs[slot as usize].wd != -1 {
                self.drop_subtree(slot, true, true, out);
            }
        }
        self.stack = stack;
        walked
    }

    /// Writes the full path of `slot` and a NUL into `self.path`; returns
    /// its depth.
    fn path_of(&mut self, slot: u32) -> u32 {
        let mut len = self.root.len();
        let mut depth = 0_u32;
        let mut s = slot;
        while s != ROOT {
            let d = self.dirs[s as usize];
            len += usize::from(d.name_len) + 1;
            depth += 1;
            s = d.parent;
        }
        if depth > 0 && self.prefix_len == self.root.len() {
            // The root is `/`: its slash is the first separator.
            len -= 1;
        }
        self.path.clear();
        self.path.resize(len + 1, 0);
        self.path[..self.root.len()].copy_from_slice(&self.root);
        let mut end = len;
        let mut s = slot;
        while s != ROOT {
            let d = self.dirs[s as usize];
            let at = d.name_at as usize;
            let n = usize::from(d.name_len);
            self.path[end - n..end].copy_from_slice(&self.names[at..at + n]);
            self.path[end - n - 1] = b'/';
            end -= n + 1;
            s = d.parent;
        }
        depth
    }

    /// Appends `/name` and a NUL to the path in `self.path`.
    fn join(&mut self, name: &[u8]) {
        self.path.pop();
        if self.path.last() != Some(&b'/') {
            self.path.push(b'/');
        }
        self.path.extend_from_slice(name);
        self.path.push(0);
    }

    /// The path in `self.path`, without its NUL.
    fn full(&self) -> &[u8] {
        self.path
            .get(..self.path.len().saturating_sub(1))
            .unwrap_or_default()
    }

    fn name(&self, slot: u32) -> &[u8] {
        let d = self.dirs[slot as usize];
        let at = d.name_at as usize;
        self.names
            .get(at..at + usize::from(d.name_len))
            .unwrap_or_default()
    }

    fn child_named(&self, parent: u32, name: &[u8]) -> Option<u32> {
        let mut c = self.dirs[parent as usize].first_child;
        while c != NONE {
            if self.name(c) == name {
                return Some(c);
            }
            c = self.dirs[c as usize].next;
        }
        None
    }

    /// Whether `a` is `s` or one of its ancestors.
    fn is_ancestor(&self, a: u32, mut s: u32) -> bool {
        while s != NONE {
            if s == a {
                return true;
            }
            s = self.dirs[s as usize].parent;
        }
        false
    }

    /// Stores `name` in the arena; returns where.
    fn store_name(&mut self, name: &[u8]) -> (u32, u16) {
        if self.garbage > 4096 && self.garbage * 2 > self.names.len() {
            let mut names = Vec::with_capacity(self.names.len() - self.garbage + name.len());
            for d in &mut self.dirs {
                if d.wd != -1 {
                    let at = d.name_at as usize;
                    let n = usize::from(d.name_len);
                    d.name_at = names.len() as u32;
                    names.extend_from_slice(&self.names[at..at + n]);
                }
            }
            self.names = names;
            self.garbage = 0;
        }
        let at = self.names.len() as u32;
        self.names.extend_from_slice(name);
        (at, name.len().min(usize::from(u16::MAX)) as u16)
    }

    fn new_slot(&mut self, wd: i32, parent: u32, name: &[u8]) -> u32 {
        let (name_at, name_len) = self.store_name(name);
        let dir = Dir {
            wd,
            parent,
            first_child: NONE,
            next: NONE,
            prev: NONE,
            name_at,
            name_len,
            mark: self.mark,
        };
        let slot = if self.free == NONE {
            self.dirs.push(dir);
            (self.dirs.len() - 1) as u32
        } else {
            let slot = self.free;
            self.free = self.dirs[slot as usize].parent;
            self.dirs[slot as usize] = dir;
            slot
        };
        if parent != NONE {
            self.link(slot, parent);
        }
        self.wds.insert(wd, slot);
        self.live += 1;
        slot
    }

    fn link(&mut self, slot: u32, parent: u32) {
        let first = self.dirs[parent as usize].first_child;
        let d = &mut self.dirs[slot as usize];
        d.parent = parent;
        d.prev = NONE;
        d.next = first;
        if first != NONE {
            self.dirs[first as usize].prev = slot;
        }
        self.dirs[parent as usize].first_child = slot;
    }

    fn unlink(&mut self, slot: u32) {
        let d = self.dirs[slot as usize];
        if d.parent == NONE {
            return;
        }
        if d.prev == NONE {
            self.dirs[d.parent as usize].first_child = d.next;
        } else {
            self.dirs[d.prev as usize].next = d.next;
        }
        if d.next != NONE {
            self.dirs[d.next as usize].prev = d.prev;
        }
    }

    /// `slot` is now `name` in `parent`.
    fn relink(&mut self, slot: u32, parent: u32, name: &[u8], out: &mut dyn FnMut(TreeItem<'_>)) {
        if self.is_ancestor(slot, parent) {
            return;
        }
        // A directory of that name there was replaced by the rename.
        if let Some(old) = self.child_named(parent, name) {
            if old != slot {
                self.drop_subtree(old, true, false, out);
            }
        }
        self.unlink(slot);
        self.garbage += usize::from(self.dirs[slot as usize].name_len);
        let (name_at, name_len) = self.store_name(name);
        let d = &mut self.dirs[slot as usize];
        d.name_at = name_at;
        d.name_len = name_len;
        self.link(slot, parent);
    }

    /// Forgets `slot` and everything below it, removing their watches
    /// (`slot`'s own only if `rm_top`), reporting each as deleted if
    /// `report`.
    fn drop_subtree(
        &mut self,
        slot: u32,
        rm_top: bool,
        report: bool,
        out: &mut dyn FnMut(TreeItem<'_>),
    ) {
        let mut doomed = core::mem::take(&mut self.doomed);
        doomed.clear();
        doomed.push(slot);
        let mut i = 0;
        while let Some(&s) = doomed.get(i) {
            let mut c = self.dirs[s as usize].first_child;
            while c != NONE {
                doomed.push(c);
                c = self.dirs[c as usize].next;
            }
            i += 1;
        }
        if report {
            for &s in &doomed {
                self.path_of(s);
                self.deliver_scanned(EventFlags::DELETE | EventFlags::ISDIR, out);
            }
        }
        for &s in doomed.iter().rev() {
            let d = self.dirs[s as usize];
            if s != slot || rm_top {
                // EINVAL when the kernel removed it already: nothing to do.
                let _ = super::rm_watch(&self.inotify, d.wd);
            }
            self.unlink(s);
            self.wds.remove(d.wd);
            self.pending.retain(|p| p.slot != s);
            self.garbage += usize::from(d.name_len);
            let f = &mut self.dirs[s as usize];
            f.wd = -1;
            f.first_child = NONE;
            f.parent = self.free;
            self.free = s;
            self.live -= 1;
        }
        doomed.clear();
        self.doomed = doomed;
    }
}

/// What [`Tree::consider`] decided.
#[derive(Clone, Copy, Debug)]
enum Found {
    /// Not to be watched (options), or gone already.
    Skip,
    /// Watched now, with this new wd.
    New(i32),
    /// Already watched, in this slot.
    Known(u32),
}

/// `bytes` (a path and its NUL) as a C string.
fn cstr(bytes: &[u8]) -> Option<&CStr> {
    CStr::from_bytes_with_nul(bytes).ok()
}

/// Hands items to the caller's callback until it stops, counting them.
struct Sink<'f, F, E> {
    f: &'f mut F,
    count: usize,
    /// `Some(Ok(()))` once the callback said stop, `Some(Err)` once it failed.
    stop: Option<core::result::Result<(), E>>,
}

impl<'f, F, R, E> Sink<'f, F, E>
where
    F: FnMut(TreeItem<'_>) -> R,
    R: Flow<E>,
{
    fn new(f: &'f mut F) -> Self {
        Self {
            f,
            count: 0,
            stop: None,
        }
    }

    fn give(&mut self, item: TreeItem<'_>) {
        if self.stop.is_some() {
            return;
        }
        self.count += 1;
        match (self.f)(item).flow() {
            Ok(true) => {}
            Ok(false) => self.stop = Some(Ok(())),
            Err(e) => self.stop = Some(Err(e)),
        }
    }

    fn finish(self) -> core::result::Result<usize, E> {
        match self.stop {
            Some(Err(e)) => Err(e),
            _ => Ok(self.count),
        }
    }
}

/// Bytes shown with non-printable ones escaped.
struct ShowBytes<'a>(&'a [u8]);

impl fmt::Debug for ShowBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for chunk in self.0.utf8_chunks() {
            for c in chunk.valid().chars() {
                fmt::Display::fmt(&c.escape_debug(), f)?;
            }
            for b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        f.write_str("\"")
    }
}

#[cfg(test)]
mod tests {
    use super::WdMap;

    /// The wd table against a naive list, through inserts and removals
    /// that wrap around the table and collide.
    #[test]
    fn wd_map_matches_a_list() {
        let mut map = WdMap::default();
        let mut naive: alloc::vec::Vec<(i32, u32)> = alloc::vec::Vec::new();
        let mut x = 12345_u32;
        let steps = if cfg!(miri) { 1_000 } else { 20_000_u32 };
        for step in 0..steps {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let wd = (x >> 16) as i32 % 300 + 1;
            if x % 3 == 0 {
                map.remove(wd);
                naive.retain(|&(w, _)| w != wd);
            } else {
                map.insert(wd, step);
                naive.retain(|&(w, _)| w != wd);
                naive.push((wd, step));
            }
            if step % 97 == 0 {
                for w in 1..=300 {
                    let want = naive.iter().find(|&&(n, _)| n == w).map(|&(_, s)| s);
                    assert_eq!(map.get(w), want, "wd {w} at step {step}");
                }
                assert_eq!(map.len, naive.len());
            }
        }
    }
}
