//! Directory-entry changes on a whole filesystem, with names: what inotify
//! cannot do without one watch per directory.
//!
//! One `FAN_MARK_FILESYSTEM` mark in FID + `DFID_NAME` mode reports every
//! create, delete and rename anywhere on the filesystem holding PATH. Each
//! event names its directory by file handle and the entry by name; the
//! example turns the handle back into a path with `open_by_handle_at` and
//! `/proc/self/fd`, all without allocating on the read path.
//!
//! Usage (root): `cargo run --example fanotify_dirents -- PATH [SECONDS]`
//!
//! ```text
//! CREATE     /mnt/data/projects/new.txt
//! CREATE/DIR /mnt/data/projects/sub
//! RENAME     /mnt/data/projects/new.txt -> /mnt/data/projects/sub/old.txt
//! DELETE     /mnt/data/projects/sub/old.txt
//! ```

use std::io::Write;
use std::time::{Duration, Instant};

use kernfd::fanotify::{
    self, EventFlags, Fanotify, Fid, FidKind, FidPath, Info, InitFlags, MarkType,
};
use kernfd::wait::Wait;
use rustix::fd::BorrowedFd;
use rustix::fs::OFlags;

/// Writes `dir/name` for a DFID_NAME-type record into `out`.
fn write_path(out: &mut impl Write, mount: BorrowedFd<'_>, fid: &Fid<'_>) -> std::io::Result<()> {
    let mut buf = [0_u8; 4096 + 256];
    match fanotify::fid_path(mount, fid, &mut buf) {
        Ok(FidPath::Path(path)) => out.write_all(path),
        // The directory is gone already: show its handle instead.
        Ok(_) => {
            write!(out, "<stale dir {:?}>", fid.handle())?;
            match fid.name_bytes() {
                Some(b".") | None => Ok(()),
                Some(name) => {
                    out.write_all(b"/")?;
                    out.write_all(name)
                }
            }
        }
        Err(e) => write!(out, "<{e}>"),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: fanotify_dirents PATH [SECONDS]")?;
    let seconds: Option<u64> = args.next().map(|s| s.parse()).transpose()?;

    let fan = Fanotify::new(InitFlags::REPORT_DFID_NAME)?;
    fan.add(
        MarkType::Filesystem,
        EventFlags::CREATE | EventFlags::DELETE | EventFlags::RENAME | EventFlags::ONDIR,
        &path,
    )?;
    // Any fd on the filesystem serves as the mount fd for its handles.
    let mount = rustix::fs::open(&path, OFlags::RDONLY | OFlags::DIRECTORY, 0.into())?;
    let deadline = seconds.map(|s| Instant::now() + Duration::from_secs(s));
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut buf = vec![0_u8; 65536];
    loop {
        let mut wait = Wait::new();
        if let Some(d) = deadline {
            let left = d.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            wait = wait.timeout(left);
        }
        for event in fan.read_wait(&mut buf[..], wait)? {
            let event = match event {
                Ok(e) => e,
                Err(e) => {
                    eprintln!("{e}");
                    continue;
                }
            };
            let m = event.mask();
            let dir = if m.contains(EventFlags::ONDIR) {
                "/DIR"
            } else {
                ""
            };
            let what = if m.contains(EventFlags::RENAME) {
                "RENAME"
            } else if m.contains(EventFlags::CREATE) {
                "CREATE"
            } else {
                "DELETE"
            };
            write!(out, "{:<10} ", format!("{what}{dir}"))?;
            let mut first = true;
            for info in event.infos() {
                if let Info::Fid(fid) = info {
                    if !fid.kind().has_name() {
                        continue;
                    }
                    if !first {
                        out.write_all(b" -> ")?;
                    }
                    first = false;
                    debug_assert!(matches!(
                        fid.kind(),
                        FidKind::DfidName | FidKind::OldDfidName | FidKind::NewDfidName
                    ));
                    write_path(&mut out, rustix::fd::AsFd::as_fd(&mount), &fid)?;
                }
            }
            out.write_all(b"\n")?;
        }
        out.flush()?;
    }
}
