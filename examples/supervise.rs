//! Runs a command with every `open`, `openat` and `openat2` of it (and of
//! every process it starts) routed to this supervisor through seccomp user
//! notification.
//!
//! ```text
//! supervise [--deny PATH]... [--replace PATH=OTHER]... -- COMMAND [ARG]...
//! ```
//!
//! One line per call on stderr:
//! `supervise: PID openat "PATH" -> continue|denied|replaced`.
//! `--deny PATH` answers `EACCES`; `--replace PATH=OTHER` opens OTHER here
//! and installs it in the caller with `SECCOMP_IOCTL_NOTIF_ADDFD` +
//! `SEND`, so the command reads OTHER's bytes. PATH is compared with the
//! file the caller names, made absolute against its working directory (or
//! its `dirfd`) and normalised (`.`, `..`, `//`), and also after resolving
//! symlinks when both exist. The exit status is COMMAND's, or 128 + the
//! signal that killed it. The command runs with `no_new_privs`.
//!
//! The calls `--deny` and `--replace` match are answered by the supervisor
//! itself (an errno, or a descriptor it opened). Every other call is let
//! through with `CONTINUE`, which is not a security boundary (the caller
//! can change the path after it was read, so it can show the supervisor
//! one path and the kernel another): this tool watches and rewrites, it
//! does not confine.

use std::ffi::{OsStr, OsString};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, ExitCode};

use kernfd::Errno;
use kernfd::seccomp::{
    self, Action, AddFd, Arch, Builder, FilterFlags, Instruction, Listener, NOTIF_LEN,
    Notification, Response, SyscallRule,
};
use rustix::event::{PollFd, PollFlags};

/// Writes one line to stderr in one `write`, so lines from the supervised
/// command cannot cut into it.
fn say(line: &str) {
    use std::io::Write;
    let mut b = Vec::with_capacity(line.len() + 1);
    b.extend_from_slice(line.as_bytes());
    b.push(b'\n');
    let _ = std::io::stderr().lock().write_all(&b);
}

fn usage() -> ExitCode {
    eprintln!("usage: supervise [--deny PATH]... [--replace PATH=OTHER]... -- COMMAND [ARG]...");
    ExitCode::from(2)
}

/// `path` made absolute against `base` and normalised lexically.
fn normalise(base: &Path, path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    };
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// A path on the command line, with its symlink-resolved form if it exists.
struct Target {
    path: PathBuf,
    real: Option<PathBuf>,
}

impl Target {
    fn new(arg: &OsStr) -> Self {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        let path = normalise(&cwd, Path::new(arg));
        let real = std::fs::canonicalize(&path).ok();
        Self { path, real }
    }

    fn matches(&self, path: &Path, real: Option<&Path>) -> bool {
        self.path == path || (self.real.is_some() && self.real.as_deref() == real)
    }
}

/// Writes `bytes` between quotes: text as is, `"` `\` and control
/// characters escaped, bytes that are not UTF-8 as `\xHH`.
fn quoted(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::from("\"");
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => s.push_str("\\\""),
                '\\' => s.push_str("\\\\"),
                '\n' => s.push_str("\\n"),
                '\t' => s.push_str("\\t"),
                c if c.is_control() => {
                    let _ = write!(s, "\\x{:02x}", c as u32);
                }
                c => s.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(s, "\\x{b:02x}");
        }
    }
    s.push('"');
    s
}

struct Supervisor {
    listener: Listener,
    arch: Arch,
    deny: Vec<Target>,
    replace: Vec<(Target, PathBuf)>,
}

/// What the call asks: the syscall's name, its dirfd, path address and
/// open flags.
struct OpenCall {
    name: &'static str,
    dirfd: i32,
    path: u64,
    flags: Option<u64>,
    mode: u64,
}

impl Supervisor {
    fn describe(&self, n: &Notification) -> Option<OpenCall> {
        let d = n.data();
        let name = self.arch.syscall_name(d.nr as u32)?;
        let a = d.args;
        match name {
            "open" => Some(OpenCall {
                name,
                dirfd: libc::AT_FDCWD,
                path: a[0],
                flags: Some(a[1]),
                mode: a[2],
            }),
            "openat" => Some(OpenCall {
                name,
                dirfd: a[0] as i32,
                path: a[1],
                flags: Some(a[2]),
                mode: a[3],
            }),
            "openat2" => {
                // struct open_how { u64 flags; u64 mode; u64 resolve; }
                let mut how = [0_u8; 16];
                let ok =
                    a[3] >= 16 && matches!(self.listener.read_memory(n, a[2], &mut how), Ok(16));
                let word = |i: usize| u64::from_ne_bytes(how[i..i + 8].try_into().unwrap());
                Some(OpenCall {
                    name,
                    dirfd: a[0] as i32,
                    path: a[1],
                    flags: ok.then(|| word(0)),
                    mode: if ok { word(8) } else { 0 },
                })
            }
            _ => None,
        }
    }

    /// The directory a relative path of `pid`'s is resolved against.
    fn base(pid: u32, dirfd: i32) -> Option<PathBuf> {
        let link = if dirfd == libc::AT_FDCWD {
            format!("/proc/{pid}/cwd")
        } else {
            format!("/proc/{pid}/fd/{dirfd}")
        };
        std::fs::read_link(link).ok()
    }

    fn handle(&self, n: &Notification) {
        let Some(call) = self.describe(n) else {
            // Not a call this filter sends; let it run.
            let _ = self.listener.respond(n.id(), Response::Continue);
            return;
        };
        let mut buf = [0_u8; 4096];
        let named = match self.listener.read_cstr(n, call.path, &mut buf) {
            Ok(p) => p.to_vec(),
            Err(e) if e.errno() == Some(Errno::NOENT) => return, // the caller is gone
            Err(_) => {
                // Unreadable (a bad pointer): the kernel answers it (EFAULT).
                let _ = self.listener.respond(n.id(), Response::Continue);
                say(&format!(
                    "supervise: {} {} {} -> continue",
                    n.pid(),
                    call.name,
                    quoted(&[])
                ));
                return;
            }
        };
        let path = Path::new(OsStr::from_bytes(&named));
        let resolved = if path.is_absolute() {
            Some(normalise(Path::new("/"), path))
        } else {
            Self::base(n.pid(), call.dirfd).map(|b| normalise(&b, path))
        };
        let real = resolved
            .as_deref()
            .and_then(|p| std::fs::canonicalize(p).ok());
        let replacement = resolved.as_deref().and_then(|p| {
            if self.deny.iter().any(|t| t.matches(p, real.as_deref())) {
                return None;
            }
            self.replace
                .iter()
                .find(|(t, _)| t.matches(p, real.as_deref()))
                .map(|(_, other)| other)
        });
        let denied = resolved
            .as_deref()
            .is_some_and(|p| self.deny.iter().any(|t| t.matches(p, real.as_deref())));
        // Decide, print, then answer: the caller stays blocked until the
        // answer, so its own output cannot cut into the line.
        let (verdict, response) = if denied {
            ("denied", Response::Error(Errno::ACCESS))
        } else if let Some(other) = replacement {
            match Self::open_other(&call, other) {
                Ok(fd) => {
                    Self::say(n, &call, &named, "replaced");
                    let add = AddFd::new(rustix::fd::AsFd::as_fd(&fd))
                        .cloexec(call.cloexec())
                        .send(true);
                    if let Err(e) = self.listener.add_fd(n.id(), &add) {
                        if e.errno() != Some(Errno::NOENT) {
                            say(&format!("supervise: {}: {e}", n.pid()));
                        }
                    }
                    return;
                }
                // OTHER cannot be opened: the call fails as that open did.
                Err(e) => ("denied", Response::Error(e)),
            }
        } else {
            ("continue", Response::Continue)
        };
        Self::say(n, &call, &named, verdict);
        match self.listener.respond(n.id(), response) {
            // NOENT: the caller died meanwhile.
            Ok(()) => {}
            Err(e) if e.errno() == Some(Errno::NOENT) => {}
            Err(e) => say(&format!("supervise: {}: {e}", n.pid())),
        }
    }

    /// Answers calls until no process uses the filter any more (`POLLHUP`).
    fn serve(&self) {
        let mut buf = [0_u8; NOTIF_LEN];
        loop {
            let mut pfd = [PollFd::new(&self.listener, PollFlags::IN)];
            match rustix::event::poll(&mut pfd, None) {
                Ok(_) => {}
                Err(Errno::INTR) => continue,
                Err(e) => {
                    eprintln!("supervise: poll: {e}");
                    break;
                }
            }
            let ev = pfd[0].revents();
            if ev.contains(PollFlags::IN) {
                match self.listener.recv(&mut buf) {
                    Ok(n) => self.handle(&n),
                    // The caller went away before we took its call.
                    Err(e) if matches!(e.errno(), Some(Errno::NOENT | Errno::INTR)) => {}
                    Err(e) => {
                        eprintln!("supervise: {e}");
                        break;
                    }
                }
            } else if ev.intersects(PollFlags::HUP | PollFlags::ERR) {
                break;
            }
        }
    }

    fn say(n: &Notification, call: &OpenCall, named: &[u8], verdict: &str) {
        say(&format!(
            "supervise: {} {} {} -> {verdict}",
            n.pid(),
            call.name,
            quoted(named)
        ));
    }

    /// Opens `other` as the caller asked to open its own file.
    fn open_other(call: &OpenCall, other: &Path) -> Result<OwnedFd, Errno> {
        use rustix::fs::{Mode, OFlags};
        let asked = OFlags::from_bits_retain(call.flags.unwrap_or(0) as u32);
        let keep = OFlags::RWMODE
            | OFlags::APPEND
            | OFlags::TRUNC
            | OFlags::CREATE
            | OFlags::NONBLOCK
            | OFlags::DIRECTORY
            | OFlags::PATH
            | OFlags::NOFOLLOW;
        let flags = (asked & keep) | OFlags::CLOEXEC;
        rustix::fs::open(other, flags, Mode::from_bits_truncate(call.mode as u32))
    }
}

impl OpenCall {
    /// Whether the caller asked for `O_CLOEXEC`.
    fn cloexec(&self) -> bool {
        self.flags.unwrap_or(0) & u64::from(rustix::fs::OFlags::CLOEXEC.bits()) != 0
    }
}

/// Sends `fd` over the unix socket `sock` (`SCM_RIGHTS`). Runs between fork
/// and exec: stack only, no allocation.
fn send_fd(sock: i32, fd: i32) -> std::io::Result<()> {
    let mut byte = [0_u8; 1];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    // Room for one cmsghdr carrying one int (aligned as cmsghdr).
    let mut space = [0_u64; 4];
    // SAFETY: msghdr is plain data; zero is a valid empty header.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = space.as_mut_ptr().cast();
    // SAFETY: CMSG_SPACE only computes a size.
    msg.msg_controllen = unsafe { libc::CMSG_SPACE(size_of::<i32>() as u32) } as _;
    // SAFETY: the control buffer is large enough for one int's cmsg, and
    // CMSG_FIRSTHDR/CMSG_DATA point inside it.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&raw const msg);
        (*c).cmsg_level = libc::SOL_SOCKET;
        (*c).cmsg_type = libc::SCM_RIGHTS;
        (*c).cmsg_len = libc::CMSG_LEN(size_of::<i32>() as u32) as _;
        libc::CMSG_DATA(c).cast::<i32>().write_unaligned(fd);
        if libc::sendmsg(sock, &raw const msg, 0) < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Receives one descriptor sent with [`send_fd`].
fn recv_fd(sock: i32) -> std::io::Result<OwnedFd> {
    let mut byte = [0_u8; 1];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    let mut space = [0_u64; 4];
    // SAFETY: as in `send_fd`.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = space.as_mut_ptr().cast();
    msg.msg_controllen = size_of_val(&space) as _;
    // SAFETY: the buffers outlive the call; the cmsg is checked before its
    // data is read, and the descriptor it carries is ours alone.
    unsafe {
        if libc::recvmsg(sock, &raw mut msg, libc::MSG_CMSG_CLOEXEC) <= 0 {
            return Err(std::io::Error::last_os_error());
        }
        let c = libc::CMSG_FIRSTHDR(&raw const msg);
        if c.is_null() || (*c).cmsg_type != libc::SCM_RIGHTS {
            return Err(std::io::Error::other("no descriptor received"));
        }
        Ok(OwnedFd::from_raw_fd(
            libc::CMSG_DATA(c).cast::<i32>().read_unaligned(),
        ))
    }
}

/// The command line: what to deny, what to replace, where COMMAND starts.
type Options = (Vec<Target>, Vec<(Target, PathBuf)>, usize);

fn parse_args(args: &[OsString]) -> Result<Options, ExitCode> {
    let usage = || Err(usage());
    let mut deny = Vec::new();
    let mut replace = Vec::new();
    let mut i = 0;
    let command_at = loop {
        let Some(a) = args.get(i) else { return usage() };
        let bytes = a.as_bytes();
        let (opt, inline) = match bytes.iter().position(|&b| b == b'=') {
            Some(p) if bytes.starts_with(b"--") => (&bytes[..p], Some(&bytes[p + 1..])),
            _ => (bytes, None),
        };
        let value = match (opt, inline) {
            (b"--deny" | b"--replace", Some(v)) => {
                i += 1;
                Some(OsStr::from_bytes(v).to_os_string())
            }
            (b"--deny" | b"--replace", None) => {
                let Some(v) = args.get(i + 1) else {
                    return usage();
                };
                i += 2;
                Some(v.clone())
            }
            _ => None,
        };
        match (opt, value) {
            (b"--deny", Some(v)) => deny.push(Target::new(&v)),
            (b"--replace", Some(v)) => {
                let v = v.into_vec();
                let Some(eq) = v.iter().rposition(|&b| b == b'=') else {
                    eprintln!("supervise: --replace needs PATH=OTHER");
                    return usage();
                };
                let (from, to) = (OsStr::from_bytes(&v[..eq]), OsStr::from_bytes(&v[eq + 1..]));
                let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
                replace.push((Target::new(from), normalise(&cwd, Path::new(to))));
            }
            (b"--", _) => break i + 1,
            (b"-h" | b"--help", _) => return usage(),
            (o, _) if o.starts_with(b"-") => {
                eprintln!("supervise: unknown option {}", a.to_string_lossy());
                return usage();
            }
            _ => break i,
        }
    };
    Ok((deny, replace, command_at))
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let (deny, replace, command_at) = match parse_args(&args) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let Some(command) = args.get(command_at) else {
        return usage();
    };
    let arch = Arch::native();
    let (mut child, listener) = match start(arch, command, &args[command_at + 1..]) {
        Ok(started) => started,
        Err(code) => return code,
    };
    let sup = Supervisor {
        listener,
        arch,
        deny,
        replace,
    };
    sup.serve();
    let status = match child.wait() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("supervise: wait: {e}");
            return ExitCode::from(1);
        }
    };
    match status.code() {
        Some(c) => ExitCode::from(c as u8),
        None => ExitCode::from((128 + status.signal().unwrap_or(0)) as u8),
    }
}

/// Starts COMMAND with the filter installed, and receives its listener.
fn start(
    arch: Arch,
    command: &OsStr,
    args: &[OsString],
) -> Result<(std::process::Child, Listener), ExitCode> {
    let rules: Vec<SyscallRule<'_>> = ["open", "openat", "openat2"]
        .iter()
        .filter_map(|n| arch.syscall(n))
        .map(|nr| SyscallRule::new(nr, Action::UserNotif))
        .collect();
    let mut storage = [Instruction::default(); 64];
    let filter = Builder::new(arch, Action::Allow)
        .build(&rules, &mut storage)
        .expect("three rules fit");
    let program = filter.instructions().to_vec();

    let mut socks = [0_i32; 2];
    // SAFETY: `socks` receives two descriptors, owned right below.
    if unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            socks.as_mut_ptr(),
        )
    } != 0
    {
        eprintln!("supervise: socketpair: {}", std::io::Error::last_os_error());
        return Err(ExitCode::from(1));
    }
    // SAFETY: fresh descriptors from socketpair.
    let (ours, theirs) = unsafe {
        (
            OwnedFd::from_raw_fd(socks[0]),
            OwnedFd::from_raw_fd(socks[1]),
        )
    };
    let theirs_raw = theirs.as_raw_fd();

    let mut cmd = Command::new(command);
    cmd.args(args);
    // SAFETY: between fork and exec the closure makes syscalls on stack
    // memory only and allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            seccomp::set_no_new_privs()?;
            // SAFETY: the builder wrote the program (USER_NOTIF and ALLOW).
            let listener = seccomp::install_raw(&program, FilterFlags::NEW_LISTENER)
                .map_err(std::io::Error::from)?
                .ok_or_else(|| std::io::Error::other("no listener"))?;
            // The descriptor in flight keeps the listener open after exec
            // closes this copy (it is close-on-exec).
            send_fd(theirs_raw, listener.as_raw_fd())?;
            drop(listener);
            Ok(())
        });
    }
    let name = command.to_string_lossy().into_owned();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("supervise: {name}: {e}");
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            };
            return Err(ExitCode::from(code));
        }
    };
    drop(theirs);
    let listener = match recv_fd(ours.as_raw_fd()) {
        Ok(fd) => Listener::from(fd),
        Err(e) => {
            eprintln!("supervise: receiving the listener: {e}");
            let _ = child.kill();
            let _ = child.wait();
            return Err(ExitCode::from(1));
        }
    };
    Ok((child, listener))
}
