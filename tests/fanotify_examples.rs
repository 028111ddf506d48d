//! The FID + `DFID_NAME` and permission-deny examples, run for real on a
//! fresh tmpfs in a private mount namespace.

#[macro_use]
mod util;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn example(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let p = exe.parent()?.parent()?.join("examples").join(name);
    p.exists().then_some(p)
}

/// Waits until process `pid` holds a fanotify mark.
fn wait_marked(pid: u32) {
    for _ in 0..500 {
        if let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fdinfo")) {
            for e in dir.flatten() {
                if std::fs::read_to_string(e.path())
                    .is_ok_and(|s| s.lines().any(|l| l.starts_with("fanotify ")))
                {
                    return;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("process {pid} never marked anything");
}

#[test]
fn dirents_example_names_changes_anywhere_on_the_filesystem() {
    if !util::is_root() {
        skip!(
            "the example resolves file handles with open_by_handle_at, which needs CAP_DAC_READ_SEARCH"
        );
    }
    if util::in_mount_ns() {
        return;
    }
    let Some(bin) = example("fanotify_dirents") else {
        skip!("examples not built (run `cargo test`)");
    };
    let dir = util::tmpfs();
    let d = dir.path();
    std::fs::create_dir_all(d.join("deep/er")).unwrap();
    let child = Command::new(bin)
        .arg(d)
        .arg("2")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    wait_marked(child.id());
    std::fs::write(d.join("deep/er/new.txt"), b"").unwrap();
    std::fs::create_dir(d.join("deep/sub")).unwrap();
    std::fs::rename(d.join("deep/er/new.txt"), d.join("deep/sub/old.txt")).unwrap();
    std::fs::remove_file(d.join("deep/sub/old.txt")).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let p = |s: &str| Path::new(d).join(s).display().to_string();
    let want = format!(
        "CREATE     {}\nCREATE/DIR {}\nRENAME     {} -> {}\nDELETE     {}\n",
        p("deep/er/new.txt"),
        p("deep/sub"),
        p("deep/er/new.txt"),
        p("deep/sub/old.txt"),
        p("deep/sub/old.txt"),
    );
    assert_eq!(text, want);
}

#[test]
fn deny_example_denies_one_file_and_allows_the_rest() {
    if !util::is_root() {
        skip!("the example's permission group needs CAP_SYS_ADMIN");
    }
    if util::in_mount_ns() {
        return;
    }
    let Some(bin) = example("fanotify_deny") else {
        skip!("examples not built (run `cargo test`)");
    };
    let dir = util::tmpfs();
    let (secret, public) = (dir.path().join("secret"), dir.path().join("public"));
    std::fs::write(&secret, b"s").unwrap();
    std::fs::write(&public, b"p").unwrap();
    let child = Command::new(bin)
        .arg(&secret)
        .arg("2")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    wait_marked(child.id());
    let cat = |p: &Path| Command::new("cat").arg(p).output().unwrap();
    let denied = cat(&secret);
    let allowed = cat(&public);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(!denied.status.success());
    assert!(String::from_utf8_lossy(&denied.stderr).contains("Operation not permitted"));
    assert_eq!(allowed.stdout, b"p");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("denied pid "), "{text}");
    assert!(text.contains(&secret.display().to_string()), "{text}");
    assert!(!text.contains(&public.display().to_string()), "{text}");
}
