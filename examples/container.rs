//! `container [--hostname NAME] -- COMMAND [ARG]...`: runs COMMAND as PID 1
//! of new mount, UTS, IPC and PID namespaces (and a user namespace when not
//! root), with host name NAME (default `kernfd`), on a fresh tmpfs root:
//!
//! - read-only bind mounts of the host's `/usr`, `/etc`, `/bin`, `/sbin`,
//!   `/lib`, `/lib64` (those present; a merged-usr symlink such as
//!   `/bin -> usr/bin` is recreated as the same symlink);
//! - a fresh `/proc` and `/tmp`;
//! - a minimal `/dev`: `null`, `zero`, `full`, `random`, `urandom`, `tty`,
//!   each bound from the host's;
//!
//! entered with `pivot_root`, the old root detached (`umount2(MNT_DETACH)`)
//! and its directory removed. The exit status is COMMAND's (128 + the
//! signal if a signal killed it); `container`'s own failures exit 125, and
//! a COMMAND that cannot be run 127 (not found) or 126. SIGINT, SIGTERM,
//! SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 sent to `container` are forwarded
//! to COMMAND (as PID 1 of its namespace, COMMAND only sees those it has a
//! handler for, exactly as under `unshare --fork --pid`; SIGKILL from the
//! host always ends it). The host keeps its host name and mount table: everything
//! happens in the new namespaces.
//!
//! ```text
//! $ container -- /bin/sh -c 'echo $$; hostname; ls /'
//! 1
//! kernfd
//! bin  dev  etc  lib  lib64  proc  sbin  tmp  usr
//! ```
//!
//! Needs Linux 5.12 (`mount_setattr`) and, when not root, unprivileged user
//! namespaces.

use std::ffi::{CString, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitCode};

use kernfd::mount::{self, MountAttr, MountAttrFlags, MountFlags, Propagation, SetAttrFlags};
use kernfd::process::{self, NamespaceFlags};
use kernfd::signal::{self, SigSet, Signal};
use kernfd::signalfd::SignalFd;
use kernfd::{Errno, hostname};
use rustix::fs::{CWD, Mode, OFlags};

/// Where the new root is assembled: a tmpfs laid over the host's `/tmp`,
/// in the new mount namespace only.
const STAGE: &str = "/tmp";
/// Host directories bound read-only into the new root.
const BINDS: [&str; 6] = ["usr", "etc", "bin", "sbin", "lib", "lib64"];
/// Host devices bound into the new `/dev`.
const DEVICES: [&str; 6] = ["null", "zero", "full", "random", "urandom", "tty"];
/// Signals forwarded to COMMAND.
const FORWARD: [Signal; 6] = [
    Signal::INT,
    Signal::TERM,
    Signal::HUP,
    Signal::QUIT,
    Signal::USR1,
    Signal::USR2,
];

fn usage() -> ExitCode {
    eprintln!("usage: container [--hostname NAME] -- COMMAND [ARG]...");
    ExitCode::from(125)
}

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let mut name = OsString::from("kernfd");
    let command: Vec<OsString> = loop {
        match args.next() {
            Some(a) if a == "--hostname" => match args.next() {
                Some(n) => name = n,
                None => return usage(),
            },
            Some(a) if a.as_bytes().starts_with(b"--hostname=") => {
                name = OsString::from_vec(a.as_bytes()[11..].to_vec());
            }
            Some(a) if a == "--" => break args.collect(),
            _ => return usage(),
        }
    };
    if command.is_empty() {
        return usage();
    }
    match run(name.as_bytes(), &command) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("container: {msg}");
            ExitCode::from(125)
        }
    }
}

/// One entry of the new root, decided on the host before the fork.
enum Entry {
    /// `STAGE/name` becomes a read-only recursive bind of `/name`.
    Bind { source: CString, target: CString },
    /// `STAGE/name` becomes a symlink to `to` (merged `/usr`).
    Symlink { to: CString, at: CString },
}

/// Every path the child needs, as C strings made before the fork, so that
/// the child allocates nothing between fork and exec.
struct Plan {
    entries: Vec<Entry>,
    devices: Vec<(CString, CString)>,
    stage: CString,
    proc_dir: CString,
    tmp_dir: CString,
    dev_dir: CString,
    old_root: CString,
}

fn c(s: impl AsRef<[u8]>) -> CString {
    CString::new(s.as_ref()).expect("no NUL in a path")
}

fn plan() -> Plan {
    let mut entries = Vec::new();
    for d in BINDS {
        let host = format!("/{d}");
        let target = c(format!("{STAGE}/{d}"));
        match std::fs::symlink_metadata(&host) {
            Ok(m) if m.file_type().is_symlink() => {
                if let Ok(to) = std::fs::read_link(&host) {
                    entries.push(Entry::Symlink {
                        to: c(to.as_os_str().as_bytes()),
                        at: target,
                    });
                }
            }
            Ok(m) if m.is_dir() => entries.push(Entry::Bind {
                source: c(host),
                target,
            }),
            _ => {} // absent (lib64 on some machines): left out
        }
    }
    let devices = DEVICES
        .iter()
        .filter(|d| std::path::Path::new(&format!("/dev/{d}")).exists())
        .map(|d| (c(format!("/dev/{d}")), c(format!("{STAGE}/dev/{d}"))))
        .collect();
    Plan {
        entries,
        devices,
        stage: c(STAGE),
        proc_dir: c(format!("{STAGE}/proc")),
        tmp_dir: c(format!("{STAGE}/tmp")),
        dev_dir: c(format!("{STAGE}/dev")),
        old_root: c(format!("{STAGE}/.oldroot")),
    }
}

/// Unshares, sets the host name, starts COMMAND as PID 1 in the new root,
/// forwards signals to it and returns its exit status.
fn run(name: &[u8], command: &[OsString]) -> Result<ExitCode, String> {
    let root = rustix::process::geteuid().is_root();
    let (uid, gid) = (rustix::process::getuid(), rustix::process::getgid());
    let mut ns = NamespaceFlags::NEWNS
        | NamespaceFlags::NEWUTS
        | NamespaceFlags::NEWIPC
        | NamespaceFlags::NEWPID;
    if !root {
        ns |= NamespaceFlags::NEWUSER;
    }
    process::unshare(ns).map_err(|e| format!("unshare: {e}"))?;
    if !root {
        // Map our ids to root inside, so the namespaces' capabilities are ours.
        let write = |file: &str, text: String| {
            std::fs::write(format!("/proc/self/{file}"), text).map_err(|e| format!("{file}: {e}"))
        };
        write("setgroups", "deny".into())?;
        write("uid_map", format!("0 {} 1", uid.as_raw()))?;
        write("gid_map", format!("0 {} 1", gid.as_raw()))?;
    }
    hostname::set_hostname(name).map_err(|e| e.to_string())?;
    // Nothing mounted from here on may reach the host's namespace.
    mount::set_propagation("/", Propagation::Private, true)
        .map_err(|e| format!("making / private: {e}"))?;

    let forward: SigSet = FORWARD.into();
    signal::block(&forward).map_err(|e| e.to_string())?;
    let signals = SignalFd::new(&forward).map_err(|e| e.to_string())?;

    // The child reports "set up, about to exec" through this pipe, so a
    // failed spawn is told apart: set-up failure or exec failure.
    let (ready_r, ready_w) =
        rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(|e| e.to_string())?;
    let plan = plan();
    let mut cmd = Command::new(&command[0]);
    cmd.args(&command[1..]);
    // SAFETY: runs in the child between fork and exec. This process is
    // single-threaded, so the forked child owns its whole heap (the error
    // path formats a message); otherwise the closure makes system calls on
    // the C strings prepared above.
    unsafe {
        cmd.pre_exec(move || {
            // std reset the signal mask already; build the root, enter it.
            build_root(&plan).map_err(|(step, errno)| {
                let _ = rustix::io::write(
                    rustix::stdio::stderr(),
                    format!("container: {step}: {errno}\n").as_bytes(),
                );
                std::io::Error::from(errno)
            })?;
            rustix::io::write(&ready_w, b"1")?;
            Ok(())
        });
    }
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            let mut b = [0_u8; 1];
            let ready = rustix::io::read(&ready_r, &mut b) == Ok(1);
            if !ready {
                return Err("setting up the new root failed".into());
            }
            eprintln!("container: {}: {e}", command[0].to_string_lossy());
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            };
            return Ok(ExitCode::from(code));
        }
    };
    drop(ready_r);

    // Wait for the child's exit or a signal to forward, whichever first.
    let pid = rustix::process::Pid::from_child(&child);
    let pidfd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty())
        .map_err(|e| format!("pidfd_open: {e}"))?;
    loop {
        use rustix::event::{PollFd, PollFlags, poll};
        let mut fds = [
            PollFd::new(&pidfd, PollFlags::IN),
            PollFd::new(&signals, PollFlags::IN),
        ];
        match poll(&mut fds, None) {
            Ok(_) | Err(Errno::INTR) => {}
            Err(e) => return Err(format!("poll: {e}")),
        }
        if !fds[1].revents().is_empty() {
            let mut buf = [0_u8; 8 * kernfd::signalfd::SIGINFO_LEN];
            for info in signals.read(&mut buf).map_err(|e| e.to_string())? {
                let sig = info.ok().and_then(|i| i.signal());
                if let Some(sig) =
                    sig.and_then(|s| rustix::process::Signal::from_named_raw(s.into()))
                {
                    // The child may have exited meanwhile: ESRCH is fine.
                    let _ = rustix::process::kill_process(pid, sig);
                }
            }
        }
        if !fds[0].revents().is_empty() {
            break;
        }
    }
    let status = child.wait().map_err(|e| format!("wait: {e}"))?;
    let code = match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(sig)) => 128 + sig,
        (None, None) => 125,
    };
    Ok(ExitCode::from(code as u8))
}

/// In the child, PID 1 of the new PID namespace: the tmpfs root, its bind
/// mounts, `/proc`, `/tmp`, `/dev`, then `pivot_root` and the old root
/// detached. Returns the failing step and errno.
fn build_root(p: &Plan) -> Result<(), (&'static str, Errno)> {
    let dir = Mode::from_raw_mode(0o755);
    let tmpfs = |target: &CString, flags: MountFlags, data: &'static std::ffi::CStr| {
        mount::mount(c"tmpfs", target.as_c_str(), c"tmpfs", flags, Some(data))
    };
    tmpfs(&p.stage, MountFlags::NOSUID, c"mode=0755")
        .map_err(|e| ("mounting the root tmpfs", e))?;
    for entry in &p.entries {
        match entry {
            Entry::Symlink { to, at } => {
                rustix::fs::symlink(to.as_c_str(), at.as_c_str()).map_err(|e| ("symlink", e))?;
            }
            Entry::Bind { source, target } => {
                rustix::fs::mkdir(target.as_c_str(), dir).map_err(|e| ("mkdir", e))?;
                mount::bind_recursive(source.as_c_str(), target.as_c_str())
                    .map_err(|e| ("bind mount", e))?;
                // Read-only, submounts included; flags the host locked
                // (nosuid, nodev, ...) stay as they are.
                let ro = MountAttr {
                    set: MountAttrFlags::RDONLY,
                    ..MountAttr::default()
                };
                mount::mount_setattr(CWD, target.as_c_str(), SetAttrFlags::RECURSIVE, &ro)
                    .map_err(|e| ("read-only remount", e))?;
            }
        }
    }
    rustix::fs::mkdir(p.proc_dir.as_c_str(), dir).map_err(|e| ("mkdir /proc", e))?;
    mount::mount(
        c"proc",
        p.proc_dir.as_c_str(),
        c"proc",
        MountFlags::NOSUID | MountFlags::NODEV | MountFlags::NOEXEC,
        None,
    )
    .map_err(|e| ("mounting /proc", e))?;
    rustix::fs::mkdir(p.tmp_dir.as_c_str(), dir).map_err(|e| ("mkdir /tmp", e))?;
    tmpfs(
        &p.tmp_dir,
        MountFlags::NOSUID | MountFlags::NODEV,
        c"mode=1777",
    )
    .map_err(|e| ("mounting /tmp", e))?;
    rustix::fs::mkdir(p.dev_dir.as_c_str(), dir).map_err(|e| ("mkdir /dev", e))?;
    tmpfs(&p.dev_dir, MountFlags::NOSUID, c"mode=0755").map_err(|e| ("mounting /dev", e))?;
    for (host, target) in &p.devices {
        let flags = OFlags::CREATE | OFlags::WRONLY | OFlags::CLOEXEC;
        drop(
            rustix::fs::open(target.as_c_str(), flags, Mode::from_raw_mode(0o666))
                .map_err(|e| ("creating a /dev entry", e))?,
        );
        mount::bind(host.as_c_str(), target.as_c_str()).map_err(|e| ("binding a device", e))?;
    }
    rustix::fs::mkdir(p.old_root.as_c_str(), Mode::from_raw_mode(0o700))
        .map_err(|e| ("mkdir /.oldroot", e))?;
    mount::pivot_root(p.stage.as_c_str(), p.old_root.as_c_str()).map_err(|e| ("pivot_root", e))?;
    rustix::process::chdir(c"/").map_err(|e| ("chdir /", e))?;
    mount::umount2(c"/.oldroot", mount::UnmountFlags::DETACH)
        .map_err(|e| ("detaching the old root", e))?;
    rustix::fs::rmdir(c"/.oldroot").map_err(|e| ("removing /.oldroot", e))?;
    Ok(())
}
