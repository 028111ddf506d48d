//! One tokio program over three kernel event sources, all in one
//! `tokio::select!`:
//!
//! - a recursive inotify watch on a directory tree
//!   ([`AsyncTree`](kernfd::tokio::AsyncTree): files created, written,
//!   deleted, moved anywhere below it; new directories are watched as they
//!   appear),
//! - a signalfd for SIGINT (which ends the program cleanly, exit status 0),
//! - a periodic timerfd that ticks every `TICK_MS` milliseconds (default
//!   1000).
//!
//! ```text
//! cargo run --features tokio --example async_watch -- DIR [TICK_MS]
//! ```
//!
//! It prints one line per inotify event (`event <mask> <path>`, the path
//! relative to DIR), per timer expiration batch (`tick <n>`), and `SIGINT`
//! before it exits. After a queue overflow it prints `rescan` and walks the
//! tree again (what changed meanwhile follows as events); a directory it
//! cannot watch is `unwatched <path>: <why>`. SIGINT is
//! blocked in `main` before the runtime starts its threads, so every thread
//! inherits the mask and the signal waits in the signalfd.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use futures_core::Stream;
use kernfd::inotify::{Tree, WatchFlags};
use kernfd::signal::{self, SigSet, Signal};
use kernfd::signalfd::SignalFd;
use kernfd::timerfd::{Outcome, TimerFd};
use kernfd::tokio::{Async, AsyncTree, OwnedTreeItem};

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(dir), tick, None) = (args.next(), args.next(), args.next()) else {
        eprintln!("usage: async_watch DIR [TICK_MS]");
        return ExitCode::from(2);
    };
    let tick = match tick.map(|t| t.to_str().and_then(|t| t.parse::<u64>().ok())) {
        None => 1000,
        Some(Some(ms)) if ms > 0 => ms,
        Some(_) => {
            eprintln!("async_watch: TICK_MS must be a positive number of milliseconds");
            return ExitCode::from(2);
        }
    };
    // Before any thread exists: the runtime's threads inherit the mask.
    let sigint = SigSet::from(Signal::INT);
    if let Err(e) = signal::block(&sigint) {
        eprintln!("async_watch: {e}");
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("async_watch: tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(watch(&dir, Duration::from_millis(tick), &sigint)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("async_watch: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The next item of a stream (futures-core has no `StreamExt`).
async fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    std::future::poll_fn(|cx| std::pin::Pin::new(&mut *stream).poll_next(cx)).await
}

async fn watch(
    dir: &std::ffi::OsStr,
    tick: Duration,
    sigint: &SigSet,
) -> Result<(), Box<dyn std::error::Error>> {
    let mask = WatchFlags::CREATE
        | WatchFlags::CLOSE_WRITE
        | WatchFlags::DELETE
        | WatchFlags::MOVED_FROM
        | WatchFlags::MOVED_TO;
    let tree = Tree::new(dir, mask).map_err(|e| format!("{}: {e}", dir.to_string_lossy()))?;
    let mut tree = AsyncTree::new(tree)?;
    let signals = Async::new(SignalFd::new(sigint)?)?;
    let timer = Async::new(TimerFd::new()?)?;
    timer.get_ref().set_after(tick, tick)?;

    let mut events = tree.stream();
    let mut signals = signals.stream();
    let mut ticks = timer.stream();
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "watching {}", dir.to_string_lossy())?;
    stdout.flush()?;
    loop {
        // Every branch is cancellation safe: a stream keeps what it read,
        // so the losers lose no record.
        tokio::select! {
            Some(item) = next(&mut events) => match item? {
                OwnedTreeItem::Event(e) => {
                    writeln!(stdout, "event {} {}", e.mask, String::from_utf8_lossy(&e.path))?;
                }
                OwnedTreeItem::Unwatched { path, error } => {
                    writeln!(stdout, "unwatched {}: {error}", String::from_utf8_lossy(&path))?;
                }
                OwnedTreeItem::RescanNeeded => {
                    writeln!(stdout, "rescan")?;
                    events.rescan()?;
                }
                _ => {}
            },
            Some(info) = next(&mut signals) => {
                if info?.is_ok_and(|s| s.signal == Some(Signal::INT)) {
                    writeln!(stdout, "SIGINT")?;
                    stdout.flush()?;
                    return Ok(());
                }
            }
            Some(expired) = next(&mut ticks) => {
                if let Outcome::Expired(n) = expired? {
                    writeln!(stdout, "tick {n}")?;
                }
            }
        }
        stdout.flush()?;
    }
}
