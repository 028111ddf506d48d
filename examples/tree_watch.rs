//! `tree_watch DIR`: watches DIR and everything below it with
//! [`kernfd::inotify::Tree`], printing one line per event:
//!
//! ```text
//! CREATE,ISDIR a
//! CREATE a/b
//! CLOSE_WRITE,CLOSE a/b
//! ```
//!
//! the event's names as inotifywait spells and orders them, a space, and
//! the path relative to DIR (bytes as they are, UTF-8 or not; empty for DIR
//! itself). Entries found by listing a directory that was just watched are
//! printed as `CREATE` lines, like the kernel's. `Watches established.` goes
//! to stderr once the initial watches are set, as inotifywait says it. A
//! queue overflow prints `Q_OVERFLOW` then what the rescan found. It exits
//! when DIR itself is gone.

use std::io::Write;
use std::process::ExitCode;

use kernfd::inotify::{Tree, TreeItem, WatchFlags};

#[allow(dead_code)]
#[path = "inotifywait/names.rs"]
mod names;

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    let [dir] = args.as_slice() else {
        eprintln!("usage: tree_watch DIR");
        return ExitCode::FAILURE;
    };
    let mut tree = match Tree::new(dir.as_os_str(), WatchFlags::ALL_EVENTS) {
        Ok(tree) => tree,
        Err(e) => {
            eprintln!("Couldn't watch {}: {e}", dir.to_string_lossy());
            return ExitCode::FAILURE;
        }
    };
    eprintln!("Watches established.");
    let mut stdout = std::io::stdout().lock();
    let mut line = Vec::with_capacity(4096);
    let mut buf = vec![0_u8; 64 * 1024];
    let mut print = |item: TreeItem<'_>, rescan: &mut bool| -> std::io::Result<()> {
        line.clear();
        match item {
            TreeItem::Event(e) => {
                names::event_to_str(e.mask().bits(), b',', &mut line);
                line.push(b' ');
                line.extend_from_slice(e.path_bytes());
            }
            TreeItem::RescanNeeded => {
                *rescan = true;
                line.extend_from_slice(b"Q_OVERFLOW ");
            }
            TreeItem::Unwatched { path, error } => {
                let mut err = std::io::stderr().lock();
                err.write_all(b"Couldn't watch ")?;
                err.write_all(path)?;
                return writeln!(err, ": {error}");
            }
            _ => return Ok(()),
        }
        line.push(b'\n');
        stdout.write_all(&line)?;
        stdout.flush()
    };
    while tree.watches() > 0 {
        let mut rescan = false;
        let mut step = tree.read(&mut buf, |item| print(item, &mut rescan));
        if step.is_ok() && rescan {
            step = tree.rescan(|item| print(item, &mut rescan));
        }
        match step {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return ExitCode::SUCCESS,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                eprintln!("tree_watch: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
