//! `examples/inotifywait/` against the real `inotifywait` (Debian's
//! inotify-tools): the same options on the same tree must print the same
//! bytes and exit with the same status.
//!
//! How a comparison runs: both programs are started on one tree, in one
//! working directory (so relative paths print alike); the test waits until
//! both have said "Watches established." and until the kernel shows both
//! watching what they should (`/proc/PID/fdinfo`); then it changes the tree,
//! and both end by themselves through `-t` once the tree is quiet. Both read
//! the same kernel events, so their outputs must be equal byte for byte.
//!
//! Races that cannot be removed, and how the tests stay clear of them:
//! - The kernel merges an event into the previous one when both are the same
//!   and the first is still queued. Whether that happens depends on when each
//!   reader reads, so no test makes two identical events back to back.
//! - With `-r`, a watcher lists every new directory itself, which makes
//!   `OPEN`/`ACCESS`/`CLOSE_NOWRITE` events that the *other* watcher sees at
//!   unpredictable moments. Side-by-side `-r` runs therefore leave those
//!   three events out of the mask, and the all-events `-r` test runs the two
//!   programs one after the other on identical trees instead.
//! - A new directory is watched only once the watcher has handled its
//!   CREATE event, so what happens in it before then is lost (inotifywait's
//!   man page, BUGS). Tests wait for both watches before using a new
//!   directory; the one test that does not checks that each program lost
//!   only a prefix of that directory's events.
#![allow(clippy::missing_panics_doc)]

#[macro_use]
mod util;

use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use std::{fs, thread};

const REAL: &str = "/usr/bin/inotifywait";

/// How long a watcher may take to set up or to finish before the test fails.
///
/// The watchers themselves end through `-t`, an idle timeout: 6 s
/// between events, so that a busy machine (tests run in parallel, CI
/// compiling beside them, a cold start of either binary) cannot end a run
/// in the middle of its steps or before the other watcher is ready.
const SETUP_LIMIT: Duration = Duration::from_secs(30);

/// The example binary. `cargo test` builds examples before it runs tests,
/// next to this test binary (`target/<profile>/examples/`); when it is
/// missing or older than its source (say `cargo test --test inotifywait`),
/// it is built here, in a target directory of its own so as not to wait on
/// the lock of the running `cargo test`; cargo's output is shown only if
/// that build fails.
fn example() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("current_exe");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>");
        let bin = profile_dir.join("examples").join("inotifywait");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mtime = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
        // The example's sources and the library's: the newest of them.
        let mut newest = None;
        let mut dirs = vec![root.join("examples/inotifywait"), root.join("src")];
        while let Some(d) = dirs.pop() {
            for e in fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    dirs.push(p);
                } else {
                    newest = newest.max(mtime(&p));
                }
            }
        }
        if bin.exists() && mtime(&bin) >= newest {
            return bin;
        }
        let target = profile_dir.join("inotifywait-example-build");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let build = Command::new(cargo)
            .args(["build", "--example", "inotifywait", "--target-dir"])
            .arg(&target)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("run cargo build --example inotifywait");
        assert!(
            build.status.success(),
            "cargo build --example inotifywait failed:\n{}{}",
            String::from_utf8_lossy(&build.stdout),
            String::from_utf8_lossy(&build.stderr)
        );
        target.join("debug/examples/inotifywait")
    })
}

/// Whether the real inotifywait is there; tests skip visibly without it.
fn have_real() -> bool {
    Path::new(REAL).exists()
}

/// A running watcher with its output collected by two threads.
struct Running {
    child: Child,
    out: Arc<Mutex<Vec<u8>>>,
    err: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
}

/// What a finished watcher left.
#[derive(Debug)]
struct Outcome {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

fn collect(mut r: impl Read + Send + 'static, into: Arc<Mutex<Vec<u8>>>) -> JoinHandle<()> {
    thread::spawn(move || {
        let mut buf = [0_u8; 8192];
        while let Ok(n) = r.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    })
}

fn start(bin: &Path, args: &[OsString], cwd: &Path) -> Running {
    let mut child = Command::new(bin)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
    let out = Arc::new(Mutex::new(Vec::new()));
    let err = Arc::new(Mutex::new(Vec::new()));
    let readers = vec![
        collect(child.stdout.take().unwrap(), out.clone()),
        collect(child.stderr.take().unwrap(), err.clone()),
    ];
    Running {
        child,
        out,
        err,
        readers,
    }
}

impl Running {
    /// Waits until standard error holds `needle`.
    fn wait_stderr(&mut self, needle: &str) {
        let deadline = Instant::now() + SETUP_LIMIT;
        loop {
            let text = String::from_utf8_lossy(&self.err.lock().unwrap()).into_owned();
            if text.contains(needle) {
                return;
            }
            if let Ok(Some(st)) = self.child.try_wait() {
                thread::sleep(Duration::from_millis(50));
                let text = String::from_utf8_lossy(&self.err.lock().unwrap()).into_owned();
                if text.contains(needle) {
                    return;
                }
                panic!("watcher exited ({st}) before printing {needle:?}: {text}");
            }
            assert!(Instant::now() < deadline, "no {needle:?} on stderr: {text}");
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits until the process's inotify descriptor watches `path`'s inode.
    fn wait_watching(&mut self, path: &Path) {
        let ino = fs::metadata(path).expect("stat watched path").ino();
        let deadline = Instant::now() + SETUP_LIMIT;
        while !watched_inodes(self.child.id()).contains(&ino) {
            assert!(
                Instant::now() < deadline,
                "pid {} never watched {}",
                self.child.id(),
                path.display()
            );
            if let Some(st) = self.child.try_wait().unwrap() {
                thread::sleep(Duration::from_millis(50));
                let err = String::from_utf8_lossy(&self.err.lock().unwrap()).into_owned();
                let out = String::from_utf8_lossy(&self.out.lock().unwrap()).into_owned();
                panic!("watcher exited ({st}) before watching: stderr {err:?}, stdout {out:?}");
            }
            thread::sleep(Duration::from_millis(2));
        }
    }

    fn finish(mut self) -> Outcome {
        let deadline = Instant::now() + SETUP_LIMIT;
        let status = loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                break st;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("watcher did not exit by itself");
            }
            thread::sleep(Duration::from_millis(10));
        };
        for r in self.readers.drain(..) {
            r.join().unwrap();
        }
        let stdout = std::mem::take(&mut *self.out.lock().unwrap());
        let stderr = std::mem::take(&mut *self.err.lock().unwrap());
        Outcome {
            status,
            stdout,
            stderr,
        }
    }
}

/// The inodes an inotify descriptor of `pid` watches, from
/// `/proc/PID/fdinfo` (`inotify wd:.. ino:HEX ...` lines).
fn watched_inodes(pid: u32) -> Vec<u64> {
    let mut inodes = Vec::new();
    let Ok(dir) = fs::read_dir(format!("/proc/{pid}/fdinfo")) else {
        return inodes;
    };
    for e in dir.flatten() {
        let Ok(text) = fs::read_to_string(e.path()) else {
            continue;
        };
        for line in text.lines().filter(|l| l.starts_with("inotify wd:")) {
            if let Some(hex) = line.split_whitespace().find_map(|w| w.strip_prefix("ino:")) {
                inodes.push(u64::from_str_radix(hex, 16).unwrap());
            }
        }
    }
    inodes
}

fn args(list: &[&str]) -> Vec<OsString> {
    list.iter().map(OsString::from).collect()
}

/// Runs both programs side by side with `args` in `cwd`; `ops` changes the
/// tree once both are ready (it gets both, to wait on new watches).
fn side_by_side(
    args: &[OsString],
    cwd: &Path,
    quiet: bool,
    ops: impl FnOnce(&mut [&mut Running]),
) -> (Outcome, Outcome) {
    // Find (or build) the example first: the real watcher's idle timeout
    // must not run while cargo builds.
    let bin = example();
    let mut real = start(Path::new(REAL), args, cwd);
    let mut ours = start(bin, args, cwd);
    if !quiet {
        real.wait_stderr("Watches established.\n");
        ours.wait_stderr("Watches established.\n");
    }
    ops(&mut [&mut real, &mut ours]);
    (real.finish(), ours.finish())
}

/// Runs one program alone, as [`side_by_side`] does.
fn alone(bin: &Path, args: &[OsString], cwd: &Path, ops: impl FnOnce(&mut Running)) -> Outcome {
    let mut w = start(bin, args, cwd);
    w.wait_stderr("Watches established.\n");
    ops(&mut w);
    w.finish()
}

/// Asserts equal stdout, with a readable diff when not.
fn assert_same_stdout(real: &Outcome, ours: &Outcome) {
    if real.stdout != ours.stdout {
        let r = String::from_utf8_lossy(&real.stdout);
        let o = String::from_utf8_lossy(&ours.stdout);
        let first = r.lines().zip(o.lines()).position(|(a, b)| a != b);
        panic!(
            "stdout differs (first differing line {first:?}, {} vs {} lines)\n--- inotifywait\n{r}\n--- example\n{o}\n--- stderr\n{}\n{}",
            r.lines().count(),
            o.lines().count(),
            String::from_utf8_lossy(&real.stderr),
            String::from_utf8_lossy(&ours.stderr),
        );
    }
}

fn assert_same(real: &Outcome, ours: &Outcome) {
    assert_same_stdout(real, ours);
    assert_eq!(real.status.code(), ours.status.code(), "exit status");
    assert_eq!(
        String::from_utf8_lossy(&real.stderr),
        String::from_utf8_lossy(&ours.stderr),
        "stderr"
    );
}

fn lines(out: &[u8]) -> Vec<&[u8]> {
    out.split_inclusive(|&b| b == b'\n').collect()
}

#[test]
fn every_event_kind_in_two_directories_and_a_file() {
    if !have_real() {
        skip!("{REAL} is not installed (apt-get install inotify-tools)");
    }
    let base = util::tempdir();
    let cwd = base.path();
    fs::create_dir_all(cwd.join("d/sub")).unwrap();
    fs::create_dir(cwd.join("e")).unwrap();
    fs::write(cwd.join("e/watched.txt"), b"x").unwrap();
    let a = args(&["-m", "-t", "6", "d", "e/", "e/watched.txt"]);
    let (real, ours) = side_by_side(&a, cwd, false, |_| {
        let d = cwd.join("d");
        fs::write(d.join("a"), b"hello").unwrap();
        assert_eq!(fs::read(d.join("a")).unwrap(), b"hello");
        fs::set_permissions(
            d.join("a"),
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
        fs::rename(d.join("a"), d.join("b")).unwrap();
        std::os::unix::fs::symlink("b", d.join("link")).unwrap();
        fs::hard_link(d.join("b"), d.join("hard")).unwrap();
        fs::create_dir(d.join("new")).unwrap();
        fs::remove_dir(d.join("new")).unwrap();
        fs::rename(d.join("sub"), d.join("sub2")).unwrap();
        fs::OpenOptions::new()
            .append(true)
            .open(cwd.join("e/watched.txt"))
            .unwrap();
        fs::write(cwd.join("e/watched.txt"), b"yy").unwrap();
        fs::rename(cwd.join("e/watched.txt"), cwd.join("e/moved.txt")).unwrap();
        fs::remove_file(cwd.join("e/moved.txt")).unwrap();
        fs::remove_file(d.join("link")).unwrap();
        fs::remove_file(d.join("hard")).unwrap();
        fs::remove_file(d.join("b")).unwrap();
    });
    assert_same(&real, &ours);
    assert_eq!(
        ours.status.code(),
        Some(2),
        "-m -t ends with the timeout status"
    );
    let text = String::from_utf8_lossy(&ours.stdout);
    for want in [
        "d/ CLOSE_WRITE,CLOSE a\n",
        "d/ CLOSE_NOWRITE,CLOSE a\n",
        "d/ CREATE,ISDIR new\n",
        "d/ MOVED_TO,ISDIR sub2\n",
        "e/watched.txt MODIFY \n",
        "e/watched.txt DELETE_SELF \n",
        "e/ DELETE moved.txt\n",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
}

#[test]
fn renames_pair_their_cookies() {
    if !have_real() {
        skip!("{REAL} is not installed");
    }
    let base = util::tempdir();
    let cwd = base.path();
    fs::create_dir_all(cwd.join("d1")).unwrap();
    fs::create_dir_all(cwd.join("d2")).unwrap();
    for i in 0..20 {
        fs::write(cwd.join(format!("d1/f{i}")), b"").unwrap();
    }
    let a = args(&[
        "-m",
        "-t",
        "6",
        "-e",
        "moved_from",
        "-e",
        "moved_to,create",
        "--format",
        "%w|%f|%e|%c",
        "d1",
        "d2",
    ]);
    let (real, ours) = side_by_side(&a, cwd, false, |_| {
        for i in 0..20 {
            let to = if i % 2 == 0 { "d2" } else { "d1" };
            fs::rename(cwd.join(format!("d1/f{i}")), cwd.join(format!("{to}/g{i}"))).unwrap();
        }
        fs::create_dir(cwd.join("d1/dir")).unwrap();
        fs::rename(cwd.join("d1/dir"), cwd.join("d2/dir")).unwrap();
    });
    assert_same(&real, &ours);
    // Each MOVED_FROM is followed by its MOVED_TO with the same, fresh cookie.
    let text = String::from_utf8(ours.stdout).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('|').collect()).collect();
    let moves: Vec<_> = rows.iter().filter(|r| r[2].starts_with("MOVED")).collect();
    assert_eq!(moves.len(), 42, "{text}");
    let mut cookies = std::collections::HashSet::new();
    for pair in moves.chunks(2) {
        assert!(pair[0][2].starts_with("MOVED_FROM") && pair[1][2].starts_with("MOVED_TO"));
        assert_eq!(pair[0][3], pair[1][3], "cookies pair up: {pair:?}");
        assert_ne!(pair[0][3], "0");
        assert!(cookies.insert(pair[0][3]), "a cookie per rename");
    }
    assert!(rows.iter().all(|r| r[2] != "CREATE" || r[3] == "0"));
}

#[test]
fn names_are_raw_bytes_even_non_utf8_and_255_long() {
    if !have_real() {
        skip!("{REAL} is not installed");
    }
    let base = util::tempdir();
    let cwd = base.path();
    fs::create_dir(cwd.join("d")).unwrap();
    let names: Vec<Vec<u8>> = vec![
        b"caf\xe9 latin-1".to_vec(),
        b"\xff\xfe\x80".to_vec(),
        b"new\nline".to_vec(),
        b" lead and trail ".to_vec(),
        b"comma,and\"quote".to_vec(),
        b"percent %w %e".to_vec(),
        vec![b'L'; 255],
        [vec![0xc3_u8; 254], vec![b'x']].concat(),
    ];
    for fmt in [None, Some("-c"), Some("%f|%w|%e")] {
        let mut a = args(&["-m", "-t", "6", "-e", "create,delete,moved_to"]);
        match fmt {
            Some("-c") => a.push("-c".into()),
            Some(f) => a.extend(["--format".into(), f.into()]),
            None => {}
        }
        a.push("d".into());
        let (real, ours) = side_by_side(&a, cwd, false, |_| {
            for n in &names {
                fs::write(cwd.join("d").join(OsStr::from_bytes(n)), b"").unwrap();
            }
            for n in &names {
                fs::remove_file(cwd.join("d").join(OsStr::from_bytes(n))).unwrap();
            }
        });
        assert_same(&real, &ours);
        // CSV quotes names with commas and quotes; the others are verbatim.
        for n in names.iter().filter(|_| fmt != Some("-c")) {
            assert!(
                ours.stdout.windows(n.len()).any(|w| w == n.as_slice()),
                "{fmt:?}: name {n:?} printed as raw bytes"
            );
        }
    }
}

#[test]
fn bursts_of_hundreds_of_files() {
    if !have_real() {
        skip!("{REAL} is not installed");
    }
    let base = util::tempdir();
    let cwd = base.path();
    fs::create_dir(cwd.join("d")).unwrap();
    let n = 600;
    let a = args(&[
        "-m",
        "-q",
        "-t",
        "6",
        "-e",
        "create",
        "-e",
        "close_write,delete",
        "d",
    ]);
    let (real, ours) = side_by_side(&a, cwd, true, |w| {
        // -q prints nothing on stderr: wait on the kernel instead.
        for r in w.iter_mut() {
            r.wait_watching(&cwd.join("d"));
        }
        for i in 0..n {
            fs::write(cwd.join(format!("d/file-{i:04}")), b"").unwrap();
        }
        for i in 0..n {
            fs::remove_file(cwd.join(format!("d/file-{i:04}"))).unwrap();
        }
    });
    assert_same(&real, &ours);
    assert!(ours.stderr.is_empty(), "-q: no setup lines");
    assert_eq!(
        lines(&ours.stdout).len(),
        3 * n,
        "CREATE, CLOSE_WRITE, DELETE per file"
    );
}

#[test]
fn format_timefmt_and_no_newline() {
    if !have_real() {
        skip!("{REAL} is not installed");
    }
    let base = util::tempdir();
    let cwd = base.path();
    fs::create_dir(cwd.join("d")).unwrap();
    // %T with a year only, so both agree even across a second boundary.
    let cases: [&[&str]; 4] = [
        &[
            "--format",
            "[%w%f] %e %:e %;e %% %x %c%n%0 %T",
            "--timefmt",
            "%Y",
        ],
        &["--format", "%w%f%0", "--no-newline"],
        &["--format", "%e", "--timefmt", "%F"],
        &["--format", "100%%%Xe -- %w"],
    ];
    for case in cases {
        let mut a = args(&["-m", "-t", "6"]);
        a.extend(args(case));
        a.push("d".into());
        let (real, ours) = side_by_side(&a, cwd, false, |_| {
            fs::write(cwd.join("d/f"), b"1").unwrap();
            fs::create_dir(cwd.join("d/sub")).unwrap();
            fs::remove_dir(cwd.join("d/sub")).unwrap();
            fs::remove_file(cwd.join("d/f")).unwrap();
        });
        assert_same(&real, &ours);
        assert!(!ours.stdout.is_empty(), "{case:?}");
    }
}

#[test]
fn exclude_and_include_filters() {
    if !have_real() {
        skip!("{REAL} is not installed");
    }
    let base = util::tempdir();
    let cwd = base.path();
    fs::create_dir(cwd.join("d")).unwrap();
    let cases: [&[&str]; 5] = [
        &["--exclude", r"\.tmp$"],
        &["--excludei", "^D/(A|B)[0-9]+"],
        &["--include", "keep"],
        &["--includei", "KEEP[[:digit:]]{2}"],
        &["--exclude", "a{2,}|x?y+z"],
    ];
    for case in cases {
        let mut a = args(&["-m", "-t", "6"]);
        a.extend(args(case));
        a.push("d".into());
        let (real, ours) = side_by_side(&a, cwd, false, |_| {
            for n in [
                "a1", "b22", "c.tmp", "keep12", "keep3", "aa", "yyz", "xz", "dir.tmp",
            ] {
                fs::write(cwd.join("d").join(n), b"").unwrap();
            }
            fs::create_dir(cwd.join("d/keepdir")).unwrap();
            fs::remove_dir(cwd.join("d/keepdir")).unwrap();
        });
        assert_same(&real, &ours);
    }
}

/// The mask for side-by-side `-r` runs: everything but the events a
/// watcher's own directory listing makes (see the module comment).
const NO_LISTING: &str =
    "create,modify,attrib,close_write,moved_from,moved_to,delete,delete_self,move_self";

#[test]
fn recursive_follows_new_moved_and_renamed_directories() {
    if !have_real() {
        skip!("{REAL} is not installed");
    }
    let base = util::tempdir();
    let cwd = base.path();
    fs::create_dir_all(cwd.join("d/s1/s2/s3")).unwrap();
    fs::create_dir_all(cwd.join("d/s1/t2")).unwrap();
    fs::create_dir_all(cwd.join("outside/o1/o2/o3")).unwrap();
    let a = args(&["-m", "-r", "-t", "6", "-e", NO_LISTING, "d"]);
    let (real, ours) = side_by_side(&a, cwd, false, |w| {
        let wait = |w: &mut [&mut Running], p: &str| {
            for r in w.iter_mut() {
                r.wait_watching(&cwd.join(p));
            }
        };
        // A new directory, used once both watch it.
        fs::create_dir(cwd.join("d/new")).unwrap();
        wait(w, "d/new");
        fs::write(cwd.join("d/new/f1"), b"1").unwrap();
        // A tree moved in from outside: watched whole, deepest level too.
        fs::rename(cwd.join("outside/o1"), cwd.join("d/s1/o1")).unwrap();
        wait(w, "d/s1/o1/o2/o3");
        fs::write(cwd.join("d/s1/o1/o2/o3/deep"), b"2").unwrap();
        // A renamed directory: its watches are renamed by libinotifytools'
        // tree walk, which misses some of them; the example must print the
        // same (old or new) names.
        fs::rename(cwd.join("d/s1"), cwd.join("d/r1")).unwrap();
        for p in [
            "d/r1/f",
            "d/r1/s2/f",
            "d/r1/s2/s3/f",
            "d/r1/t2/f",
            "d/r1/o1/f",
            "d/r1/o1/o2/f",
            "d/r1/o1/o2/o3/f",
        ] {
            fs::write(cwd.join(p), b"3").unwrap();
        }
        // A directory moved out: no longer watched after the next event
        // (its events are not made here, as their timing would race).
        fs::rename(cwd.join("d/r1/t2"), cwd.join("outside/t2")).unwrap();
        fs::write(cwd.join("d/after-move-out"), b"4").unwrap();
        // A deleted tree.
        fs::remove_dir_all(cwd.join("d/new")).unwrap();
    });
    assert_same(&real, &ours);
    let text = String::from_utf8_lossy(&ours.stdout);
    assert!(text.contains("d/new/ CREATE f1\n"), "{text}");
    assert!(text.contains("d/s1/o1/o2/o3/ CREATE deep\n"), "{text}");
    assert!(text.contains("d/ MOVED_TO,ISDIR r1\n"), "{text}");
    assert!(text.contains("d/new/ DELETE_SELF \n"), "{text}");
}

#[test]
fn recursive_files_made_right_after_mkdir() {
    if !have_real() {
        skip!("{REAL} is not installed");
    }
    let base = util::tempdir();
    let cwd = base.path();
    fs::create_dir(cwd.join("d")).unwrap();
    let a = args(&["-m", "-r", "-t", "6", "-e", NO_LISTING, "d"]);
    let (real, ours) = side_by_side(&a, cwd, false, |_| {
        for k in 0..5 {
            let dir = cwd.join(format!("d/n{k}"));
            fs::create_dir(&dir).unwrap();
            for i in 0..20 {
                fs::write(dir.join(format!("f{i}")), b"x").unwrap();
            }
        }
        fs::write(cwd.join("d/last"), b"x").unwrap();
    });
    assert_eq!(real.status.code(), ours.status.code());
    // Events outside the new directories: identical. Inside each: whatever
    // came before that watcher's watch is lost, so each program has a
    // suffix of the directory's events, and the shorter is a suffix of the
    // longer.
    let split = |out: &[u8]| {
        let mut top = Vec::new();
        let mut per_dir = std::collections::BTreeMap::<Vec<u8>, Vec<Vec<u8>>>::new();
        for l in lines(out) {
            if l.starts_with(b"d/n") {
                let dir = l.split(|&b| b == b' ').next().unwrap().to_vec();
                per_dir.entry(dir).or_default().push(l.to_vec());
            } else {
                top.push(l.to_vec());
            }
        }
        (top, per_dir)
    };
    let (real_top, real_dirs) = split(&real.stdout);
    let (ours_top, ours_dirs) = split(&ours.stdout);
    assert_eq!(real_top, ours_top, "events outside the new directories");
    assert_eq!(
        real_top.len(),
        5 + 3,
        "5 CREATE,ISDIR, then last's CREATE/MODIFY/CLOSE_WRITE"
    );
    for k in 0..5 {
        let key = format!("d/n{k}/").into_bytes();
        let r = real_dirs.get(&key).cloned().unwrap_or_default();
        let o = ours_dirs.get(&key).cloned().unwrap_or_default();
        let (short, long) = if r.len() <= o.len() {
            (&r, &o)
        } else {
            (&o, &r)
        };
        assert_eq!(
            short[..],
            long[long.len() - short.len()..],
            "d/n{k}/: suffix of the other"
        );
    }
}

#[test]
fn recursive_all_events_one_after_the_other() {
    if !have_real() {
        skip!("{REAL} is not installed");
    }
    // All events, own directory listings included: run one program at a
    // time on the same fresh tree at the same path, with the same steps.
    let base = util::tempdir();
    let cwd = base.path();
    let run = |bin: &Path| {
        let _ = fs::remove_dir_all(cwd.join("d"));
        fs::create_dir_all(cwd.join("d/a/b")).unwrap();
        fs::write(cwd.join("d/a/b/old"), b"x").unwrap();
        let a = args(&["-m", "-r", "-t", "6", "d"]);
        alone(bin, &a, cwd, |w| {
            fs::create_dir(cwd.join("d/n")).unwrap();
            w.wait_watching(&cwd.join("d/n"));
            fs::write(cwd.join("d/n/f"), b"1").unwrap();
            assert_eq!(fs::read(cwd.join("d/a/b/old")).unwrap(), b"x");
            fs::rename(cwd.join("d/a"), cwd.join("d/a2")).unwrap();
            fs::write(cwd.join("d/a2/b/g"), b"2").unwrap();
            fs::remove_dir_all(cwd.join("d/n")).unwrap();
        })
    };
    let real = run(Path::new(REAL));
    let ours = run(example());
    assert_same(&real, &ours);
    let text = String::from_utf8_lossy(&ours.stdout);
    assert!(
        text.contains("d/ OPEN,ISDIR n\n"),
        "the watcher's own listing: {text}"
    );
}

#[test]
fn exit_statuses_and_messages() {
    type Step = fn(&Path);
    /// How to know the watchers are ready: their stderr line, the kernel's
    /// view (for -q), or not at all (they fail before watching).
    #[derive(Clone, Copy)]
    enum Ready {
        Stderr,
        Kernel,
        No,
    }
    use Ready::{Kernel, No, Stderr};
    if !have_real() {
        skip!("{REAL} is not installed");
    }
    let base = util::tempdir();
    let cwd = base.path();
    let nothing: Step = |_| {};
    let touch: Step = |cwd| fs::write(cwd.join("d/x"), b"").unwrap();
    // `d` is empty: remove_dir reads no directory, so no pair of identical
    // ACCESS events can merge or not depending on when each watcher reads.
    let rmdir: Step = |cwd| fs::remove_dir(cwd.join("d")).unwrap();
    let cases: [(&[&str], Ready, Step, i32); 12] = [
        (&["-t", "1", "d"], Stderr, nothing, 2),
        (&["-t", "9", "d"], Stderr, touch, 0),
        (
            &["-t", "9", "-e", "create", "-e", "delete", "d"],
            Stderr,
            touch,
            0,
        ),
        (&["-t", "9", "-e", "create", "d"], Stderr, rmdir, 1),
        (&["-m", "-t", "6", "d"], Stderr, rmdir, 2),
        (&["-m", "-t", "6", "-qq", "d"], Kernel, touch, 2),
        (&["-t", "9", "-q", "d"], Kernel, touch, 0),
        (&["-t", "1", "missing"], No, nothing, 1),
        (&["-e", "bogus", "d"], No, nothing, 1),
        (&["-t", "1x", "d"], No, nothing, 1),
        (&["--format", "%T", "d"], No, nothing, 1),
        (&["-t", "1"], No, nothing, 1),
    ];
    for (case, ready, step, code) in cases {
        let _ = fs::remove_dir_all(cwd.join("d"));
        fs::create_dir(cwd.join("d")).unwrap();
        let a = args(case);
        let (real, ours) = side_by_side(&a, cwd, true, |w| {
            for r in w.iter_mut() {
                match ready {
                    Stderr => r.wait_stderr("Watches established.\n"),
                    Kernel => r.wait_watching(&cwd.join("d")),
                    No => {}
                }
            }
            step(cwd);
        });
        assert_same(&real, &ours);
        assert_eq!(ours.status.code(), Some(code), "{case:?}");
    }
    // Option errors name the program; compare without it.
    for case in [
        &["-x", "d"][..],
        &["--bogus", "d"],
        &["-t"],
        &["--e", "create", "d"],
    ] {
        let a = args(case);
        let real = start(Path::new(REAL), &a, cwd).finish();
        let ours = start(example(), &a, cwd).finish();
        assert_eq!(real.status.code(), Some(1));
        assert_eq!(ours.status.code(), Some(1), "{case:?}");
        let strip = |o: &Outcome| {
            let t = String::from_utf8_lossy(&o.stderr).into_owned();
            t.split_once(": ")
                .map(|(_, rest)| rest.to_owned())
                .unwrap_or(t)
        };
        assert_eq!(strip(&real), strip(&ours), "{case:?}");
    }
}

#[test]
fn first_event_only_without_monitor() {
    if !have_real() {
        skip!("{REAL} is not installed");
    }
    let base = util::tempdir();
    let cwd = base.path();
    fs::create_dir(cwd.join("d")).unwrap();
    let bytes_of = |s: &str| OsString::from(s).into_vec();
    let (real, ours) = side_by_side(&args(&["-t", "9", "d"]), cwd, false, |_| {
        // Many events at once: only the first is printed.
        fs::write(cwd.join("d/one"), b"1").unwrap();
        fs::write(cwd.join("d/two"), b"2").unwrap();
    });
    assert_same(&real, &ours);
    assert_eq!(ours.stdout, bytes_of("d/ CREATE one\n"));
}

#[test]
fn outfile_fromfile_and_excluded_subtrees() {
    if !have_real() {
        skip!("{REAL} is not installed");
    }
    let base = util::tempdir();
    let cwd = base.path();
    fs::create_dir_all(cwd.join("d/skip/inner")).unwrap();
    fs::create_dir_all(cwd.join("d/keep")).unwrap();
    fs::write(cwd.join("list"), "d\n@d/skip\n\n@\n").unwrap();
    // Each program writes its own -o file (opened in append mode).
    let run_args = |out: &str| {
        args(&[
            "-m",
            "-r",
            "-t",
            "6",
            "-e",
            NO_LISTING,
            "--fromfile",
            "list",
            "-o",
            out,
        ])
    };
    let bin = example();
    let mut real = start(Path::new(REAL), &run_args("real.out"), cwd);
    let mut ours = start(bin, &run_args("ours.out"), cwd);
    real.wait_stderr("Watches established.\n");
    ours.wait_stderr("Watches established.\n");
    for p in ["d/skip/x", "d/skip/inner/y", "d/keep/z", "d/top"] {
        fs::write(cwd.join(p), b"1").unwrap();
    }
    let (real, ours) = (real.finish(), ours.finish());
    assert!(
        real.stdout.is_empty() && ours.stdout.is_empty(),
        "-o takes the events"
    );
    let real_out = Outcome {
        stdout: fs::read(cwd.join("real.out")).unwrap(),
        ..real
    };
    let ours_out = Outcome {
        stdout: fs::read(cwd.join("ours.out")).unwrap(),
        ..ours
    };
    assert_same(&real_out, &ours_out);
    let text = String::from_utf8_lossy(&ours_out.stdout);
    assert!(
        text.contains("d/keep/ CREATE z\n") && text.contains("d/ CREATE top\n"),
        "{text}"
    );
    assert!(!text.contains("skip"), "@d/skip is not watched: {text}");
    let mode = fs::metadata(cwd.join("ours.out")).unwrap().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn symlinks_and_non_utf8_watched_paths() {
    if !have_real() {
        skip!("{REAL} is not installed");
    }
    let base = util::tempdir();
    let cwd = base.path();
    let odd = OsStr::from_bytes(b"dir-\xff\xfe");
    fs::create_dir(cwd.join(odd)).unwrap();
    fs::create_dir(cwd.join("target")).unwrap();
    std::os::unix::fs::symlink("target", cwd.join("link")).unwrap();
    // Without -P the link is followed, and, not being a directory itself,
    // printed without a slash; with -P the link itself is watched.
    for p in [None, Some("-P")] {
        let mut a = args(&["-m", "-t", "6", "-e", "create,delete"]);
        a.extend(p.map(OsString::from));
        a.extend([OsString::from("link"), odd.to_owned()]);
        let (real, ours) = side_by_side(&a, cwd, false, |_| {
            fs::write(cwd.join("target/t"), b"").unwrap();
            fs::write(cwd.join(odd).join("u"), b"").unwrap();
            fs::remove_file(cwd.join("target/t")).unwrap();
            fs::remove_file(cwd.join(odd).join("u")).unwrap();
        });
        assert_same(&real, &ours);
        let want: &[u8] = b"dir-\xff\xfe/ CREATE u\n";
        assert!(ours.stdout.windows(want.len()).any(|w| w == want), "{p:?}");
        let followed = ours.stdout.starts_with(b"link CREATE t\n");
        assert_eq!(
            followed,
            p.is_none(),
            "{:?}",
            String::from_utf8_lossy(&ours.stdout)
        );
    }
}
