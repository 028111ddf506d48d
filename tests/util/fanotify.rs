//! fanotify fixtures: groups that skip (rather than fail) where the kernel
//! wants a privilege we lack, and the permission-event set-up the
//! permission tests share.

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use kernfd::fanotify::{EventFlags, Fanotify, InitFlags, MarkType, OwnedEvent};
use kernfd::{Errno, Error};

/// `result`, or `Err(why)` to skip when it is the `EPERM` a non-root user
/// gets for `what` (most fanotify modes check `CAP_SYS_ADMIN` in the
/// initial user namespace, which a child's own user namespace does not
/// give). Any other error panics: as root, `EPERM` is a failure too.
pub fn privileged<T>(result: Result<T, Error>, what: &str) -> Result<T, String> {
    match result {
        Ok(value) => Ok(value),
        Err(err) if err.errno() == Some(Errno::PERM) && !super::is_root() => Err(format!(
            "{what} needs CAP_SYS_ADMIN in the initial user namespace ({err})"
        )),
        Err(err) => panic!("{what}: {err}"),
    }
}

/// A group with `flags` (see [`privileged`]).
pub fn group(flags: InitFlags) -> Result<Fanotify, String> {
    privileged(Fanotify::new(flags), &format!("fanotify_init({flags:?})"))
}

/// The set-up every permission test repeats: a file on a fresh tmpfs and a
/// group of `init` (a permission class) whose inode mark asks
/// `OPEN_PERM` for it. Call in a child started by `util::in_mount_ns`.
pub struct Permission {
    /// The tmpfs; the mount goes with the child.
    pub dir: tempfile::TempDir,
    /// The marked file (content `x`).
    pub file: PathBuf,
    /// The group.
    pub fan: Fanotify,
    /// A read buffer.
    pub buf: Vec<u8>,
}

impl Permission {
    /// The file, the group and the mark; `Err(why)` to skip without the
    /// privilege permission classes need.
    pub fn new(init: InitFlags) -> Result<Self, String> {
        Ok(Self::with_group(group(init)?))
    }

    /// The file and the mark, on a group the caller made.
    pub fn with_group(fan: Fanotify) -> Self {
        let dir = super::tmpfs();
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        fan.add(MarkType::Inode, EventFlags::OPEN_PERM, &file)
            .unwrap();
        Self {
            dir,
            file,
            fan,
            buf: vec![0_u8; 4096],
        }
    }
}

/// Opens `file` from another thread (which blocks until the event is
/// answered) and reads, into `buf`, the permission event it caused from
/// `fan`. Returns the opener, whose result tells how the answer reached it,
/// and the event.
pub fn blocked_open<'a>(
    fan: &'a Fanotify,
    file: &Path,
    buf: &'a mut [u8],
) -> (JoinHandle<std::io::Result<()>>, OwnedEvent<'a>) {
    let opener = open_in_thread(file);
    let event = fan
        .read(buf)
        .unwrap()
        .next()
        .expect("the open's permission event")
        .unwrap();
    assert!(event.is_permission(), "mask {:?}", event.mask());
    (opener, event)
}

/// Opens `path` (and closes it) from a new thread.
pub fn open_in_thread(path: &Path) -> JoinHandle<std::io::Result<()>> {
    let path = path.to_owned();
    std::thread::spawn(move || std::fs::File::open(path).map(drop))
}

/// A fresh tmpfs (see `util::tmpfs`) and a group of `init` marking it
/// (a `kind` mark on its root directory) for `events`; `Err(why)` to skip
/// without the privilege the group needs.
pub fn watched_tmpfs(
    init: InitFlags,
    kind: MarkType,
    events: EventFlags,
) -> Result<(tempfile::TempDir, Fanotify), String> {
    let dir = super::tmpfs();
    let fan = group(init)?;
    fan.add(kind, events, dir.path()).unwrap();
    Ok((dir, fan))
}
