//! fanotify against the real kernel, one test binary in modules by concept
//! (the layout rustix uses for its tests): groups and marks
//! (`init_mark`), FID-mode records (`fid`), reading and owning events
//! (`events`), permission events and responses (`permission`), and the
//! errors the kernel gives (`errors`).
//!
//! Every test that marks anything runs in a child process, in a private
//! mount namespace (and a user namespace when not root), on a fresh tmpfs:
//! other processes' activity cannot reach its marks, and its mounts vanish
//! with it. Tests needing a privilege or a kernel feature we lack skip
//! visibly (`SKIPPED <test>: <why>`).

#[macro_use]
#[path = "../util/mod.rs"]
mod util;

mod errors;
mod events;
mod fid;
mod init_mark;
mod permission;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use kernfd::Errno;
use kernfd::fanotify::{self, EventFlags, FidKind, FileHandle, Info, OwnedEvent};
use rustix::fd::OwnedFd;
use rustix::fs::OFlags;

/// The path of an event's descriptor, through `/proc/self/fd`.
fn event_path(e: &OwnedEvent<'_>) -> Option<PathBuf> {
    e.borrow_fd().map(|fd| {
        let mut p = [0_u8; 4096];
        PathBuf::from(OsStr::from_bytes(fanotify::fd_path(fd, &mut p).unwrap()))
    })
}

/// Reads events until one satisfies `pred` or none comes within a second.
fn find(
    fan: &fanotify::Fanotify,
    mut pred: impl FnMut(&OwnedEvent<'_>) -> bool,
) -> Option<(u64, i32, Option<PathBuf>)> {
    let mut buf = vec![0_u8; fanotify::DEFAULT_BUFFER_LEN];
    for _ in 0..50 {
        let events = fan
            .read_wait(
                &mut buf[..],
                kernfd::wait::Wait::new().timeout(std::time::Duration::from_millis(100)),
            )
            .unwrap();
        for e in events {
            let e = e.unwrap();
            if pred(&e) {
                return Some((e.mask().bits(), e.pid(), event_path(&e)));
            }
        }
    }
    None
}

/// Reads every event that arrives within 100 ms, as (mask, pid, path).
fn collect(fan: &fanotify::Fanotify) -> Vec<(EventFlags, i32, Option<PathBuf>)> {
    let mut out = Vec::new();
    let mut buf = vec![0_u8; fanotify::DEFAULT_BUFFER_LEN];
    loop {
        let events = fan
            .read_wait(
                &mut buf[..],
                kernfd::wait::Wait::new().timeout(std::time::Duration::from_millis(100)),
            )
            .unwrap();
        if events.is_empty() {
            return out;
        }
        for e in events {
            let e = e.unwrap();
            out.push((e.mask(), e.pid(), event_path(&e)));
        }
    }
}

/// This process's id.
fn me() -> i32 {
    rustix::process::getpid().as_raw_nonzero().get()
}

/// One decoded FID-mode event, owned.
#[derive(Debug, Clone, PartialEq)]
struct FidEvent {
    mask: EventFlags,
    records: Vec<(FidKind, Option<Vec<u8>>, u64)>,
}

/// The inode number a tmpfs file handle names, or 0 for a stale handle.
/// Root resolves it with `open_by_handle_at` (and checks the handle's
/// layout against the answer); an unprivileged user, whom that call refuses
/// (it needs `CAP_DAC_READ_SEARCH`), reads it from the handle: tmpfs
/// encodes (generation, inode low 32 bits, inode high 32 bits), native
/// endian, as handle type 1.
fn ino_of(mount: &OwnedFd, handle: FileHandle<'_>) -> u64 {
    let b = handle.bytes();
    let word = |i: usize| u64::from(u32::from_ne_bytes(b[i..i + 4].try_into().unwrap()));
    let decoded = (handle.handle_type() == 1 && b.len() == 12).then(|| word(4) | word(8) << 32);
    match fanotify::open_by_handle_at(mount, handle, OFlags::PATH) {
        Ok(fd) => {
            let ino = rustix::fs::fstat(fd).unwrap().st_ino;
            assert_eq!(decoded, Some(ino), "tmpfs handle layout: {handle:?}");
            ino
        }
        Err(Errno::PERM) if !util::is_root() => decoded.expect("a tmpfs handle"),
        Err(_) => 0,
    }
}

/// Reads FID-mode events for up to `ms`, resolving each handle to an inode
/// number (while the object exists).
fn fid_events(fan: &fanotify::Fanotify, mount: &OwnedFd, ms: u64) -> Vec<FidEvent> {
    let mut out = Vec::new();
    let mut buf = vec![0_u8; 65536];
    loop {
        let events = fan
            .read_wait(
                &mut buf[..],
                kernfd::wait::Wait::new().timeout(std::time::Duration::from_millis(ms)),
            )
            .unwrap();
        if events.is_empty() {
            return out;
        }
        for e in events {
            let e = e.unwrap();
            assert_eq!(e.fd(), None, "FID mode carries no fd");
            let records = e
                .infos()
                .filter_map(|i| match i {
                    Info::Fid(f) => Some((
                        f.kind(),
                        f.name_bytes().map(<[u8]>::to_vec),
                        ino_of(mount, f.handle()),
                    )),
                    _ => None,
                })
                .collect();
            out.push(FidEvent {
                mask: e.mask(),
                records,
            });
        }
    }
}
