//! `examples/fatrace.rs` against the real `fatrace` (Debian package): both
//! watch the same fresh tmpfs (`-c`) in a private mount namespace, both are
//! stopped while a shell script works there (so the kernel queues and merges
//! the same events for both), then both are resumed; their outputs must be
//! identical line for line.

#[macro_use]
mod util;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

/// The example binary, built by `cargo test` next to this test binary.
fn example() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let p = exe.parent()?.parent()?.join("examples/fatrace");
    p.exists().then_some(p)
}

/// Waits until `child` has a fanotify mark (its fdinfo shows one).
fn wait_marked(child: &Child) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(dir) = std::fs::read_dir(format!("/proc/{}/fdinfo", child.id())) {
            for e in dir.flatten() {
                if std::fs::read_to_string(e.path())
                    .is_ok_and(|s| s.lines().any(|l| l.starts_with("fanotify ")))
                {
                    return true;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn signal(child: &Child, sig: Signal) {
    kill_process(Pid::from_raw(child.id() as i32).unwrap(), sig).unwrap();
}

fn run(cmd: &Path, args: &[&str], dir: &Path) -> Child {
    Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .spawn()
        .unwrap()
}

#[test]
fn example_output_matches_the_real_fatrace() {
    if !util::is_root() {
        skip!("fatrace and the example watch in fd mode, which needs CAP_SYS_ADMIN");
    }
    if util::in_mount_ns() {
        return;
    }
    let Some(ours) = example() else {
        skip!("examples/fatrace not built (run `cargo test`, which builds examples)");
    };
    if Command::new("fatrace").arg("-h").output().is_err() {
        skip!("fatrace is not installed (apt-get install fatrace)");
    }
    let dir = util::tmpfs();
    let out = util::tempdir();
    let (theirs_out, ours_out) = (out.path().join("fatrace.out"), out.path().join("ours.out"));

    let theirs = run(
        Path::new("fatrace"),
        &["-c", "-s", "4", "-o", theirs_out.to_str().unwrap()],
        dir.path(),
    );
    assert!(wait_marked(&theirs), "fatrace did not start");
    // Ours ignores fatrace, whose handle lookups open files on the tmpfs.
    let theirs_pid = theirs.id().to_string();
    let ours = run(
        &ours,
        &[
            "-c",
            "-s",
            "4",
            "-p",
            &theirs_pid,
            "-o",
            ours_out.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(wait_marked(&ours), "the example did not start");

    let ours_pid = format!("({}): ", ours.id());
    signal(&theirs, Signal::STOP);
    signal(&ours, Signal::STOP);
    let script = "echo x > f; cat f > /dev/null; rm f; mkdir dd; touch dd/x; \
                  mv dd/x dd/y; echo hi >> dd/y; cat dd/y > /dev/null; mv dd/y dd/z";
    let st = Command::new("sh")
        .args(["-c", script])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(st.success());
    signal(&theirs, Signal::CONT);
    signal(&ours, Signal::CONT);
    let (mut theirs, mut ours) = (theirs, ours);
    assert!(theirs.wait().unwrap().success());
    assert!(ours.wait().unwrap().success());

    // fatrace sees the example start up (it opens the mount point); the
    // example ignores fatrace with `-p`. Drop those lines of the set-up.
    let theirs: String = std::fs::read_to_string(&theirs_out)
        .unwrap()
        .lines()
        .filter(|l| !l.contains(&ours_pid))
        .flat_map(|l| [l, "\n"])
        .collect();
    let ours = std::fs::read_to_string(&ours_out).unwrap();
    eprintln!("fatrace:\n{theirs}\nexample:\n{ours}");
    assert!(ours.lines().count() >= 8, "{ours}");
    // Every flag letter and the `(deleted)` form appear.
    for needle in ["+   ", "CWO ", "RCO ", "D   ", "(deleted)", "<", ">"] {
        assert!(ours.contains(needle), "{needle:?} missing:\n{ours}");
    }
    assert_eq!(ours, theirs);
}
