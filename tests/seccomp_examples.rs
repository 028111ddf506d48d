//! examples/sandbox.rs and examples/supervise.rs, run as a user would. The
//! filters are installed in the commands they start, never here.

#[macro_use]
mod util;

use std::path::PathBuf;
use std::process::{Command, Output};

fn example(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let p = exe.parent()?.parent()?.join("examples").join(name);
    p.exists().then_some(p)
}

fn run(name: &str, args: &[&str]) -> Option<Output> {
    let exe = example(name)?;
    Some(
        Command::new(exe)
            .args(args)
            .output()
            .expect("run the example"),
    )
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn sandbox_refuses_uname_like_the_kernel_would() {
    let Some(real) = Command::new("uname").output().ok() else {
        skip!("no uname");
    };
    assert!(real.status.success());
    let Some(out) = run(
        "sandbox",
        &["--rule", "uname => errno:EPERM", "--", "uname"],
    ) else {
        skip!("examples not built");
    };
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("Operation not permitted"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    // Without the rule it prints what uname prints.
    let out = run("sandbox", &["--", "uname"]).unwrap();
    assert_eq!(out.stdout, real.stdout);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn sandbox_reports_the_killing_signal() {
    let Some(out) = run(
        "sandbox",
        &["--rule", "getppid => kill", "--", "sh", "-c", "echo $PPID"],
    ) else {
        skip!("examples not built");
    };
    assert_eq!(out.status.code(), Some(128 + libc::SIGSYS));
    assert_eq!(text(&out.stderr), "sandbox: sh killed by SIGSYS\n");
    // A signal the command sends itself counts too.
    let out = run("sandbox", &["--", "sh", "-c", "kill -TERM $$"]).unwrap();
    assert_eq!(out.status.code(), Some(128 + libc::SIGTERM));
    assert_eq!(text(&out.stderr), "sandbox: sh killed by SIGTERM\n");
    // The exit status passes through.
    let out = run("sandbox", &["--", "sh", "-c", "exit 7"]).unwrap();
    assert_eq!(out.status.code(), Some(7));
}

#[test]
fn sandbox_conditions_and_actions() {
    let Some(out) = run(
        "sandbox",
        &[
            "--rule",
            "openat(arg2 & 0x3 == 1) => errno:EACCES",
            "--rule",
            "openat(arg2 & 0x3 == 2) => errno:EROFS",
            "--",
            "sh",
            "-c",
            "cat /dev/null && echo read; echo x > /dev/null || echo nowrite",
        ],
    ) else {
        skip!("examples not built");
    };
    assert_eq!(
        text(&out.stdout),
        "read\nnowrite\n",
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).contains("Permission denied"));
    // 64-bit comparisons: write(1, ...) with a count > 3 fails, <= 3 passes.
    let out = run(
        "sandbox",
        &[
            "--rule",
            "write(arg0 == 1, arg2 > 3) => errno:ENOSPC",
            "--",
            "sh",
            "-c",
            "printf ab; printf abcdef",
        ],
    )
    .unwrap();
    assert_eq!(text(&out.stdout), "ab");
    // trap and kill-thread kill a single-threaded command with SIGSYS; log
    // and allow let the call through; the default action applies.
    for (action, code) in [
        ("trap", 128 + libc::SIGSYS),
        ("kill-thread", 128 + libc::SIGSYS),
        ("log", 0),
        ("allow", 0),
    ] {
        let rule = format!("getppid => {action}");
        let out = run(
            "sandbox",
            &["--rule", &rule, "--", "sh", "-c", "echo $PPID"],
        )
        .unwrap();
        assert_eq!(out.status.code(), Some(code), "{action}");
    }
    let out = run(
        "sandbox",
        &[
            "--default",
            "errno:EPERM",
            "--rule",
            "uname => allow",
            "--",
            "sh",
            "-c",
            "true",
        ],
    )
    .unwrap();
    assert_ne!(
        out.status.code(),
        Some(0),
        "execve itself is refused by the default"
    );
}

#[test]
fn sandbox_rejects_bad_rules_and_missing_commands() {
    for args in [
        &["--rule", "nosuchcall => allow", "--", "true"][..],
        &["--rule", "uname => nope", "--", "true"],
        &["--rule", "uname(arg6 == 1) => allow", "--", "true"],
        &["--rule", "uname(arg0 ~ 1) => allow", "--", "true"],
        &["--rule", "uname(arg0 == zz) => allow", "--", "true"],
        &["--rule", "uname(arg0 == 1 => allow", "--", "true"],
        &["--default", "errno:ENOTANERRNO", "--", "true"],
        &["--"],
        &[],
    ] {
        let Some(out) = run("sandbox", args) else {
            skip!("examples not built");
        };
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(text(&out.stderr).contains("usage"), "{args:?}");
    }
    let out = run("sandbox", &["--", "/nonexistent/command"]).unwrap();
    assert_eq!(out.status.code(), Some(127));
    // Full 64-bit hex values and negative decimals parse.
    let out = run(
        "sandbox",
        &[
            "--rule",
            "openat(arg0 == -100, arg1 >= 0xffffffffffffffff) => kill",
            "--",
            "true",
        ],
    )
    .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

fn supervise_lines(stderr: &[u8]) -> Vec<String> {
    text(stderr)
        .lines()
        .filter_map(|l| l.find("supervise: ").map(|at| l[at..].to_owned()))
        .collect()
}

#[test]
fn supervise_denies_replaces_and_continues() {
    let dir = util::tempdir();
    let d = dir.path();
    std::fs::write(d.join("secret"), b"secret bytes\n").unwrap();
    std::fs::write(d.join("plain"), b"plain bytes\n").unwrap();
    std::fs::write(d.join("other"), b"other bytes\n").unwrap();
    let p = |n: &str| d.join(n).to_str().unwrap().to_owned();
    let replace = format!("{}={}", p("plain"), p("other"));
    let script = "cat secret; cat plain; cat ./sub/../other; exit 3";
    std::fs::create_dir(d.join("sub")).unwrap();
    let Some(exe) = example("supervise") else {
        skip!("examples not built");
    };
    let out = Command::new(exe)
        .current_dir(d)
        .args([
            "--deny",
            &p("secret"),
            "--replace",
            &replace,
            "--",
            "sh",
            "-c",
            script,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(text(&out.stdout), "other bytes\nother bytes\n");
    let lines = supervise_lines(&out.stderr);
    let find = |suffix: &str| {
        lines
            .iter()
            .find(|l| l.ends_with(suffix))
            .unwrap_or_else(|| panic!("no line ending {suffix:?} in {lines:#?}"))
            .clone()
    };
    let denied = find("openat \"secret\" -> denied");
    let replaced = find("openat \"plain\" -> replaced");
    find("openat \"./sub/../other\" -> continue");
    // The PID is that of the cat that made the call, not the shell.
    let pid = |l: &str| l.split(' ').nth(1).unwrap().parse::<u32>().unwrap();
    assert_ne!(pid(&denied), pid(&replaced));
    assert!(text(&out.stderr).contains("Permission denied"));
}

#[test]
fn supervise_passes_the_status_and_signal_through() {
    let Some(out) = run("supervise", &["--", "sh", "-c", "exit 9"]) else {
        skip!("examples not built");
    };
    assert_eq!(out.status.code(), Some(9));
    let out = run("supervise", &["--", "sh", "-c", "kill -KILL $$"]).unwrap();
    assert_eq!(out.status.code(), Some(128 + libc::SIGKILL));
    let out = run("supervise", &["--", "/nonexistent/command"]).unwrap();
    assert_eq!(out.status.code(), Some(127));
    let out = run("supervise", &["--replace", "no-equals-sign", "--", "true"]).unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn supervise_resolves_relative_paths_against_the_cwd() {
    let dir = util::tempdir();
    let d = dir.path();
    std::fs::create_dir(d.join("sub")).unwrap();
    std::fs::write(d.join("sub/secret"), b"x").unwrap();
    // `find` opens directories and goes on relative to them with openat.
    let deny = d.join("sub/secret");
    let Some(out) = run(
        "supervise",
        &[
            "--deny",
            deny.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            &format!("cd {} && cat sub/secret", d.display()),
        ],
    ) else {
        skip!("examples not built");
    };
    assert_ne!(out.status.code(), Some(0));
    let lines = supervise_lines(&out.stderr);
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("openat \"sub/secret\" -> denied")),
        "{lines:#?}"
    );
}

/// Run by `supervise_resolves_dirfd_relative_paths` under the supervisor:
/// opens `secret` relative to a directory descriptor; passes when that is
/// refused with `EACCES`. Does nothing in a normal run.
#[test]
fn dirfd_helper() {
    let Some(dir) = std::env::var_os("KERNFD_DIRFD_HELPER") else {
        return;
    };
    let dirfd = rustix::fs::open(
        &dir,
        rustix::fs::OFlags::DIRECTORY,
        rustix::fs::Mode::empty(),
    )
    .unwrap();
    let r = rustix::fs::openat(
        &dirfd,
        "secret",
        rustix::fs::OFlags::RDONLY,
        rustix::fs::Mode::empty(),
    );
    assert_eq!(r.err(), Some(rustix::io::Errno::ACCESS));
    let r = rustix::fs::openat(
        &dirfd,
        "plain",
        rustix::fs::OFlags::RDONLY,
        rustix::fs::Mode::empty(),
    );
    assert!(r.is_ok());
}

#[test]
fn supervise_resolves_dirfd_relative_paths_against_the_dirfd() {
    let dir = util::tempdir();
    let d = dir.path().join("sub");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("secret"), b"x").unwrap();
    std::fs::write(d.join("plain"), b"y").unwrap();
    let Some(exe) = example("supervise") else {
        skip!("examples not built");
    };
    let me = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .current_dir("/")
        .env("KERNFD_DIRFD_HELPER", &d)
        .args(["--deny", d.join("secret").to_str().unwrap(), "--"])
        .arg(me)
        .args(["dirfd_helper", "--exact", "--nocapture", "--test-threads=1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("1 passed"));
    let lines = supervise_lines(&out.stderr);
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("openat \"secret\" -> denied")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("openat \"plain\" -> continue")),
        "{lines:#?}"
    );
}
