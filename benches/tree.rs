//! Recursive watch setup: [`kernfd::inotify::Tree`] against Debian's
//! `inotifywait -r`, on the same tree, with the same event mask (all
//! events).
//!
//! The tree is made on tmpfs (`/dev/shm`, or `KERNFD_BENCH_DIR`): `N`
//! directories (50,000 by default, `KERNFD_BENCH_DIRS`) three levels deep,
//! no files. Each round times:
//!
//! - kernfd: `Tree::new(dir, ALL_EVENTS)` in this process, from the call
//!   until it returns with every watch set; its heap allocations are
//!   counted too;
//! - inotifywait: `inotifywait -m -r DIR` from spawning it until it prints
//!   `Watches established.` on stderr (its start-up is a millisecond or
//!   two of that).
//!
//! Rounds (`KERNFD_BENCH_ROUNDS`, default 5) alternate which goes first;
//! min and median are shown, and the ratio of the medians. Without
//! `--bench` (as under `cargo test --benches`) it makes a quick smoke run
//! on 500 directories, one round.

#![allow(clippy::cast_precision_loss, clippy::missing_panics_doc)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kernfd::inotify::{Tree, WatchFlags};

#[path = "../tests/util/mod.rs"]
mod util;

#[global_allocator]
static ALLOC: util::CountingAlloc = util::CountingAlloc;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Makes `n` directories under `root`, three levels deep, breadth first.
fn make_tree(root: &Path, n: usize) {
    let fan = (1..=n.max(1)).find(|f| f * f * f >= n).unwrap_or(1);
    let mut made = 0;
    let mut level: Vec<std::path::PathBuf> = vec![root.to_path_buf()];
    while made < n {
        let mut next = Vec::new();
        for parent in &level {
            for i in 0..fan {
                if made == n {
                    break;
                }
                let d = parent.join(format!("d{i:03}"));
                std::fs::create_dir(&d).unwrap();
                next.push(d);
                made += 1;
            }
        }
        level = next;
    }
}

fn time_kernfd(dir: &Path) -> (Duration, usize, usize) {
    let ((tree, took), allocs) = util::count_allocs(|| {
        let t = Instant::now();
        let tree = Tree::new(dir, WatchFlags::ALL_EVENTS).expect("Tree::new");
        (tree, t.elapsed())
    });
    let watches = tree.watches();
    drop(tree);
    (took, allocs, watches)
}

fn time_inotifywait(dir: &Path) -> Option<Duration> {
    let t = Instant::now();
    let mut child = Command::new("inotifywait")
        .args(["-m", "-r"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let stderr = child.stderr.take()?;
    let mut took = None;
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        if line.contains("Watches established.") {
            took = Some(t.elapsed());
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    took
}

fn summary(v: &mut [Duration]) -> (Duration, Duration) {
    v.sort();
    (v[0], v[v.len() / 2])
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let n = if full {
        env_or("KERNFD_BENCH_DIRS", 50_000)
    } else {
        500
    };
    let rounds = if full {
        env_or("KERNFD_BENCH_ROUNDS", 5).max(1)
    } else {
        1
    };
    let base = std::env::var_os("KERNFD_BENCH_DIR").unwrap_or_else(|| "/dev/shm".into());
    let tmp = tempfile::Builder::new()
        .prefix("kernfd-tree-bench")
        .tempdir_in(&base)
        .or_else(|_| tempfile::tempdir())
        .expect("a temp dir");
    let dir = tmp.path();
    make_tree(dir, n);
    println!(
        "tree setup: {n} directories under {} (+ the root), {rounds} round(s)",
        dir.display()
    );

    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    let mut allocs = 0;
    for round in 0..rounds {
        let mut run_ours = || {
            let (took, a, watches) = time_kernfd(dir);
            assert_eq!(watches, n + 1, "every directory watched");
            allocs = a;
            ours.push(took);
        };
        if round % 2 == 0 {
            run_ours();
            theirs.extend(time_inotifywait(dir));
        } else {
            theirs.extend(time_inotifywait(dir));
            run_ours();
        }
    }
    let (min, med) = summary(&mut ours);
    println!(
        "kernfd Tree::new     min {:>8.1} ms  median {:>8.1} ms  {allocs} heap allocations ({:.4} per directory)",
        min.as_secs_f64() * 1e3,
        med.as_secs_f64() * 1e3,
        allocs as f64 / (n + 1) as f64
    );
    assert!(allocs <= n + 1, "at most one allocation per directory");
    if theirs.is_empty() {
        println!("inotifywait -m -r    not run (is inotify-tools installed?)");
        return;
    }
    let (tmin, tmed) = summary(&mut theirs);
    println!(
        "inotifywait -m -r    min {:>8.1} ms  median {:>8.1} ms",
        tmin.as_secs_f64() * 1e3,
        tmed.as_secs_f64() * 1e3
    );
    println!(
        "ratio (median): kernfd takes {:.2} of inotifywait's time",
        med.as_secs_f64() / tmed.as_secs_f64()
    );
}
