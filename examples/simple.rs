//! The seed example of inotify_simple, in Rust.
//!
//! In a fresh directory: watch `CREATE|DELETE|MODIFY|DELETE_SELF`, make and
//! remove a subdirectory and a file, remove the directory itself, then read
//! and print every event with its flags, as inotify_simple prints them.
//!
//! ```text
//! cargo run --example simple
//! ```

use std::fs;
use std::io::Write;

use kernfd::inotify::{DEFAULT_BUFFER_LEN, Inotify, WatchFlags};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = tempfile::tempdir()?;
    let dir = base.path().join("watched");
    fs::create_dir(&dir)?;

    let inotify = Inotify::new()?;
    let mask =
        WatchFlags::CREATE | WatchFlags::DELETE | WatchFlags::MODIFY | WatchFlags::DELETE_SELF;
    inotify.add_watch(&dir, mask)?;

    // Now create, delete and modify some files in the directory being watched:
    fs::create_dir(dir.join("foo"))?;
    fs::write(dir.join("test.txt"), b"hello")?;
    fs::OpenOptions::new()
        .append(true)
        .open(dir.join("test.txt"))?
        .write_all(b"world")?;
    fs::remove_file(dir.join("test.txt"))?;
    fs::remove_dir(dir.join("foo"))?;
    fs::remove_dir(&dir)?;

    // The directory's removal ends the watch: its IN_IGNORED is the last
    // event, so one drain sees everything.
    let mut buf = [0_u8; DEFAULT_BUFFER_LEN];
    inotify.drain(&mut buf, |event| match event {
        Ok(event) => {
            println!("{event}");
            for flag in event.mask().flags() {
                match flag.name() {
                    Some(name) => println!("    flags.{name}"),
                    None => println!("    flags.{:#x}", flag.bits()),
                }
            }
        }
        Err(e) => println!("{e}"),
    })?;
    Ok(())
}
