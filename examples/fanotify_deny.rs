//! Deny opening one chosen file, allow everything else, through fanotify
//! permission events.
//!
//! A `FAN_CLASS_CONTENT` group with an `FAN_OPEN_PERM` mark on the mount
//! holding FILE gets a question for every open there; it answers `DENY`
//! when the opened object is FILE (same device and inode, so hard links
//! and renames are caught too) and `ALLOW` otherwise. The response borrows
//! each event's own fd, so it can never answer for a reused descriptor
//! number, and each event's fd closes when the event is dropped.
//!
//! Usage (root): `cargo run --example fanotify_deny -- FILE [SECONDS]`,
//! then `cat FILE` fails with "Operation not permitted".

use std::time::{Duration, Instant};

use kernfd::fanotify::{self, EventFlags, Fanotify, InitFlags, MarkType, Response};
use kernfd::wait::Wait;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let file = args.next().ok_or("usage: fanotify_deny FILE [SECONDS]")?;
    let seconds: Option<u64> = args.next().map(|s| s.parse()).transpose()?;
    let target = rustix::fs::stat(&file)?;
    let mount_point = std::path::Path::new(&file)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));

    let fan = Fanotify::new(InitFlags::CLASS_CONTENT)?;
    fan.add(MarkType::Mount, EventFlags::OPEN_PERM, mount_point)?;
    println!("denying opens of {file}");

    let deadline = seconds.map(|s| Instant::now() + Duration::from_secs(s));
    let mut buf = [0_u8; fanotify::DEFAULT_BUFFER_LEN];
    let mut path = [0_u8; 4096];
    loop {
        let mut wait = Wait::new();
        if let Some(d) = deadline {
            let left = d.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            wait = wait.timeout(left);
        }
        for event in fan.read_wait(&mut buf, wait)? {
            let event = event?;
            if !event.is_permission() {
                continue;
            }
            let Some(fd) = event.borrow_fd() else {
                continue;
            };
            let st = rustix::fs::fstat(fd)?;
            let deny = st.st_dev == target.st_dev && st.st_ino == target.st_ino;
            fan.respond(
                &event,
                if deny {
                    Response::DENY
                } else {
                    Response::ALLOW
                },
            )?;
            if deny {
                let p = fanotify::fd_path(fd, &mut path).unwrap_or(b"?");
                println!("denied pid {} {}", event.pid(), String::from_utf8_lossy(p));
            }
        }
    }
}
