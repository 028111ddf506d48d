//! examples/container.rs from outside, beside util-linux `unshare --mount
//! --uts --ipc --pid --fork --mount-proc` on the same commands. The
//! example makes its own namespaces; these tests check that the host's
//! host name and mount table are the same afterwards.

mod util;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const UNSHARE: &str = "/usr/bin/unshare";

/// The container binary, or `None` (skip) when this user cannot make the
/// namespaces it needs.
fn container() -> Option<PathBuf> {
    util::sandbox_ns(rustix::thread::UnshareFlags::empty())?;
    Some(util::example_bin("container"))
}

/// `unshare` with the container's namespaces (and a user namespace mapping
/// us to root when not root), or `None` when util-linux is missing.
fn unshare() -> Option<Command> {
    if !Path::new(UNSHARE).exists() {
        return None;
    }
    let mut cmd = Command::new(UNSHARE);
    cmd.args([
        "--mount",
        "--uts",
        "--ipc",
        "--pid",
        "--fork",
        "--mount-proc",
    ]);
    if !util::is_root() {
        cmd.args(["--user", "--map-root-user"]);
    }
    Some(cmd)
}

/// The exit status as a shell shows it: the code, or 128 + the signal.
fn shell_status(o: &Output) -> i32 {
    o.status
        .code()
        .or_else(|| o.status.signal().map(|s| 128 + s))
        .unwrap()
}

fn run(mut cmd: Command) -> Output {
    cmd.stdin(Stdio::null()).output().unwrap()
}

fn run_container(bin: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(bin);
    cmd.args(args);
    run(cmd)
}

fn host_state() -> (Vec<u8>, String) {
    let mounts: Vec<String> = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    (
        kernfd::hostname::hostname().as_bytes().to_vec(),
        mounts.join("\n"),
    )
}

/// The entries the new root should hold: the bound or linked host
/// directories that exist, and dev, proc, tmp.
fn expected_root() -> Vec<String> {
    let mut v: Vec<String> = ["usr", "etc", "bin", "sbin", "lib", "lib64"]
        .iter()
        .filter(|d| Path::new("/").join(d).symlink_metadata().is_ok())
        .map(|d| (*d).to_owned())
        .chain(["dev", "proc", "tmp"].map(str::to_owned))
        .collect();
    v.sort();
    v
}

#[test]
fn pid_1_hostname_and_just_the_roots_entries() {
    let Some(bin) = container() else {
        skip!("this user cannot create a user namespace");
    };
    let before = host_state();
    let o = run_container(&bin, &["--", "/bin/sh", "-c", "echo $$; hostname; ls /"]);
    assert!(o.status.success(), "{o:?}");
    let text = String::from_utf8(o.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("1"));
    assert_eq!(lines.next(), Some("kernfd"));
    assert_eq!(
        lines.map(str::to_owned).collect::<Vec<_>>(),
        expected_root()
    );
    assert_eq!(host_state(), before, "host name and mount table unchanged");
    // unshare agrees on the pid and, given the name, on the host name.
    let Some(mut u) = unshare() else {
        skip!("util-linux unshare is not installed");
    };
    u.args(["/bin/sh", "-c", "hostname kernfd; echo $$; hostname"]);
    let uo = run(u);
    assert!(uo.status.success(), "{uo:?}");
    assert_eq!(String::from_utf8(uo.stdout).unwrap(), "1\nkernfd\n");
    assert_eq!(host_state(), before);
}

#[test]
fn hostname_option_and_isolation() {
    let Some(bin) = container() else {
        skip!("this user cannot create a user namespace");
    };
    let before = host_state();
    let o = run_container(
        &bin,
        &[
            "--hostname",
            "box-1",
            "--",
            "cat",
            "/proc/sys/kernel/hostname",
        ],
    );
    assert_eq!(o.stdout, b"box-1\n", "{o:?}");
    // Any bytes, as the kernel allows.
    let mut cmd = Command::new(&bin);
    cmd.arg("--hostname")
        .arg(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"n\xffx"))
        .args(["--", "cat", "/proc/sys/kernel/hostname"]);
    assert_eq!(run(cmd).stdout, b"n\xffx\n");
    // Over 64 bytes: refused by the container, status 125.
    let long = "h".repeat(65);
    let o = run_container(&bin, &["--hostname", &long, "--", "true"]);
    assert_eq!(o.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&o.stderr).contains("64 bytes"));
    assert_eq!(host_state(), before);
}

#[test]
fn exit_status_is_the_commands_like_unshare() {
    let Some(bin) = container() else {
        skip!("this user cannot create a user namespace");
    };
    for (script, want) in [("exit 0", 0), ("exit 3", 3), ("exit 255", 255)] {
        let o = run_container(&bin, &["--", "/bin/sh", "-c", script]);
        assert_eq!(shell_status(&o), want, "{script}");
        if let Some(mut u) = unshare() {
            u.args(["/bin/sh", "-c", script]);
            assert_eq!(shell_status(&run(u)), want, "unshare {script}");
        }
    }
    // Not found: 127; not executable: 126; usage: 125.
    assert_eq!(
        run_container(&bin, &["--", "/nonexistent/command"])
            .status
            .code(),
        Some(127)
    );
    assert_eq!(
        run_container(&bin, &["--", "/etc/passwd"]).status.code(),
        Some(126)
    );
    assert_eq!(run_container(&bin, &["true"]).status.code(), Some(125));
    assert_eq!(run_container(&bin, &["--"]).status.code(), Some(125));
    assert_eq!(
        run_container(&bin, &["--hostname"]).status.code(),
        Some(125)
    );
}

/// The pid of a child of `pid` (the command inside, seen from the host),
/// found by scanning `/proc/*/stat` for its parent pid, waiting for it.
fn child_of(pid: u32) -> u32 {
    for _ in 0..500 {
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
                continue;
            };
            let Some(after) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
                continue;
            };
            if after.split(' ').nth(1) == Some(pid.to_string().as_str()) {
                return e.file_name().to_str().unwrap().parse().unwrap();
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("process {pid} started no child");
}

/// Waits until `pid` runs `exe` (it has exec'd).
fn wait_exec(pid: u32, exe: &str) {
    for _ in 0..500 {
        if std::fs::read_link(format!("/proc/{pid}/exe"))
            .is_ok_and(|p| p.file_name().is_some_and(|n| n == exe))
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("process {pid} never ran {exe}");
}

#[test]
fn killed_command_gives_128_plus_signal_like_unshare() {
    let Some(bin) = container() else {
        skip!("this user cannot create a user namespace");
    };
    // A fault's signal kills even a namespace's PID 1: bash overflowing a
    // small stack dies of SIGSEGV, 139 through both tools.
    let segv = ["bash", "-c", "ulimit -s 128; f() { f; }; f"];
    let o = run_container(&bin, &[&["--"][..], &segv[..]].concat());
    assert_eq!(shell_status(&o), 139, "{o:?}");
    if let Some(mut u) = unshare() {
        u.args(segv);
        assert_eq!(shell_status(&run(u)), 139);
    }
    // SIGKILL from outside. (util-linux 2.38 `unshare` cannot re-raise
    // SIGKILL on itself and exits 1, so it is not compared here.)
    let mut child = Command::new(&bin)
        .args(["--", "sleep", "30"])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let inner = child_of(child.id());
    wait_exec(inner, "sleep");
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(inner as i32).unwrap(),
        rustix::process::Signal::KILL,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(137));
}

#[test]
fn signals_sent_to_the_container_reach_the_command() {
    let Some(bin) = container() else {
        skip!("this user cannot create a user namespace");
    };
    let mut child = Command::new(&bin)
        .args([
            "--",
            "/bin/sh",
            "-c",
            "trap 'exit 42' TERM; echo ready; while :; do sleep 0.01; done",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line, "ready\n");
    rustix::process::kill_process(
        rustix::process::Pid::from_child(&child),
        rustix::process::Signal::TERM,
    )
    .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(42));
}

#[test]
fn usr_is_read_only_and_tmp_writable() {
    let Some(bin) = container() else {
        skip!("this user cannot create a user namespace");
    };
    let o = run_container(&bin, &["--", "/bin/sh", "-c", "touch /usr/kernfd-probe"]);
    assert_ne!(o.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("Read-only file system"),
        "{o:?}"
    );
    assert!(!Path::new("/usr/kernfd-probe").exists());
    for dir in ["/etc", "/usr/bin"] {
        let o = run_container(&bin, &["--", "/bin/sh", "-c", &format!("touch {dir}/x")]);
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("Read-only file system"),
            "{dir}: {o:?}"
        );
    }
    let o = run_container(
        &bin,
        &[
            "--",
            "/bin/sh",
            "-c",
            "echo hi > /tmp/f && cat /tmp/f && echo x > /dev/null",
        ],
    );
    assert_eq!(o.stdout, b"hi\n", "{o:?}");
}

#[test]
fn fresh_proc_minimal_dev_and_no_old_root() {
    let Some(bin) = container() else {
        skip!("this user cannot create a user namespace");
    };
    let before = host_state();
    let o = run_container(
        &bin,
        &[
            "--",
            "/bin/sh",
            "-c",
            "ls /dev; echo --; cat /proc/1/comm; ls -a / | grep -c oldroot; \
             grep -c oldroot /proc/self/mountinfo; head -c 8 /dev/urandom | wc -c",
        ],
    );
    let text = String::from_utf8(o.stdout).unwrap();
    let (dev, rest) = text.split_once("--\n").unwrap();
    let mut want: Vec<&str> = ["full", "null", "random", "tty", "urandom", "zero"]
        .into_iter()
        .filter(|d| Path::new("/dev").join(d).exists())
        .collect();
    want.sort_unstable();
    assert_eq!(dev.lines().collect::<Vec<_>>(), want);
    // PID 1 is the shell; no /.oldroot entry, no mount of it.
    assert_eq!(rest, "sh\n0\n0\n8\n", "{text}");
    assert_eq!(host_state(), before);
}
