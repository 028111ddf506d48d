//! Runs a command under a seccomp filter built from rules on the command
//! line.
//!
//! ```text
//! sandbox [--default ACTION] [--rule RULE]... -- COMMAND [ARG]...
//!
//! RULE    SYSCALL => ACTION
//!         SYSCALL(COND[, COND]...) => ACTION
//! COND    argN OP VALUE            N 0-5, OP one of == != < <= > >=
//!         argN & MASK == VALUE     numbers decimal or 0x-hex, 64-bit
//! ACTION  allow | kill | kill-thread | trap | log | errno:NAME (errno:EPERM)
//! ```
//!
//! The default action is `allow`. The filter checks the architecture first
//! and, on `x86_64`, kills x32 syscall numbers. Rules for the same syscall
//! are tried in order; the first whose conditions all hold decides.
//!
//! The exit status is the command's, or 128 + the signal that killed it,
//! after a line `sandbox: COMMAND killed by SIGNAME` on stderr. The command
//! runs with `no_new_privs` (set-user-ID bits no longer raise privileges),
//! which lets an unprivileged user install the filter.
//!
//! ```text
//! $ sandbox --rule 'uname => errno:EPERM' -- uname
//! uname: cannot get system name: Operation not permitted
//! $ sandbox --rule 'getppid => kill' -- sh -c 'echo $PPID'
//! sandbox: sh killed by SIGSYS
//! ```

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitCode};

use kernfd::seccomp::{
    self, Action, Arch, Builder, Cmp, Cond, FilterFlags, Instruction, SyscallRule,
};
use kernfd::signal::Signal;

/// errno names this example understands, from the C library's values.
macro_rules! errnos {
    ($($name:ident),* $(,)?) => {
        const ERRNOS: &[(&str, i32)] = &[$((stringify!($name), libc::$name)),*];
    };
}

errnos![
    EPERM,
    ENOENT,
    ESRCH,
    EINTR,
    EIO,
    ENXIO,
    E2BIG,
    ENOEXEC,
    EBADF,
    ECHILD,
    EAGAIN,
    ENOMEM,
    EACCES,
    EFAULT,
    ENOTBLK,
    EBUSY,
    EEXIST,
    EXDEV,
    ENODEV,
    ENOTDIR,
    EISDIR,
    EINVAL,
    ENFILE,
    EMFILE,
    ENOTTY,
    ETXTBSY,
    EFBIG,
    ENOSPC,
    ESPIPE,
    EROFS,
    EMLINK,
    EPIPE,
    EDOM,
    ERANGE,
    EDEADLK,
    ENAMETOOLONG,
    ENOLCK,
    ENOSYS,
    ENOTEMPTY,
    ELOOP,
    EWOULDBLOCK,
    ENOMSG,
    EIDRM,
    ENOSTR,
    ENODATA,
    ETIME,
    ENOSR,
    ENOLINK,
    EPROTO,
    EBADMSG,
    EOVERFLOW,
    EILSEQ,
    EUSERS,
    ENOTSOCK,
    EDESTADDRREQ,
    EMSGSIZE,
    EPROTOTYPE,
    ENOPROTOOPT,
    EPROTONOSUPPORT,
    ESOCKTNOSUPPORT,
    EOPNOTSUPP,
    ENOTSUP,
    EPFNOSUPPORT,
    EAFNOSUPPORT,
    EADDRINUSE,
    EADDRNOTAVAIL,
    ENETDOWN,
    ENETUNREACH,
    ENETRESET,
    ECONNABORTED,
    ECONNRESET,
    ENOBUFS,
    EISCONN,
    ENOTCONN,
    ESHUTDOWN,
    ETOOMANYREFS,
    ETIMEDOUT,
    ECONNREFUSED,
    EHOSTDOWN,
    EHOSTUNREACH,
    EALREADY,
    EINPROGRESS,
    ESTALE,
    EDQUOT,
    ECANCELED,
    EOWNERDEAD,
    ENOTRECOVERABLE,
    ERFKILL,
    EHWPOISON,
];

fn usage() -> ExitCode {
    eprintln!(
        "usage: sandbox [--default ACTION] [--rule RULE]... -- COMMAND [ARG]...\n\
         RULE: SYSCALL => ACTION | SYSCALL(argN OP VALUE[, argN & MASK == VALUE]...) => ACTION\n\
         ACTION: allow | kill | kill-thread | trap | log | errno:NAME"
    );
    ExitCode::from(2)
}

fn parse_action(s: &str) -> Result<Action, String> {
    let s = s.trim();
    Ok(match s {
        "allow" => Action::Allow,
        "kill" => Action::KillProcess,
        "kill-thread" => Action::KillThread,
        "trap" => Action::Trap(0),
        "log" => Action::Log,
        _ => {
            let Some(name) = s.strip_prefix("errno:") else {
                return Err(format!("unknown action {s:?}"));
            };
            let n = ERRNOS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|&(_, v)| v)
                .or_else(|| name.parse::<i32>().ok())
                .filter(|n| (1..=4095).contains(n))
                .ok_or_else(|| format!("unknown errno {name:?}"))?;
            Action::Errno(n as u16)
        }
    })
}

fn parse_number(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let r = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16)
    } else if let Some(d) = s.strip_prefix('-') {
        // A negative decimal (AT_FDCWD = -100) is its 64-bit two's complement.
        d.parse::<u64>().map(u64::wrapping_neg)
    } else {
        s.parse::<u64>()
    };
    r.map_err(|_| format!("bad number {s:?}"))
}

fn parse_cond(s: &str) -> Result<Cond, String> {
    let s = s.trim();
    let rest = s
        .strip_prefix("arg")
        .ok_or_else(|| format!("condition {s:?} does not start with argN"))?;
    let (n, rest) = rest.split_at(
        rest.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len()),
    );
    let arg: u8 = n
        .parse()
        .ok()
        .filter(|n| *n <= 5)
        .ok_or_else(|| format!("condition {s:?}: argument index must be 0 to 5"))?;
    let rest = rest.trim_start();
    if let Some(masked) = rest.strip_prefix('&') {
        let (mask, value) = masked
            .split_once("==")
            .ok_or_else(|| format!("condition {s:?}: expected `argN & MASK == VALUE`"))?;
        return Ok(Cond::masked_eq(
            arg,
            parse_number(mask)?,
            parse_number(value)?,
        ));
    }
    // Two-character operators first.
    for (op, cmp) in [
        ("==", Cmp::Eq),
        ("!=", Cmp::Ne),
        ("<=", Cmp::Le),
        (">=", Cmp::Ge),
        ("<", Cmp::Lt),
        (">", Cmp::Gt),
    ] {
        if let Some(v) = rest.strip_prefix(op) {
            return Ok(Cond::new(arg, cmp, parse_number(v)?));
        }
    }
    Err(format!(
        "condition {s:?}: expected an operator (== != < <= > >=)"
    ))
}

/// A rule as parsed: syscall number, conditions, action.
type RuleSpec = (u32, Vec<Cond>, Action);

fn parse_rule(arch: Arch, s: &str) -> Result<RuleSpec, String> {
    let (lhs, action) = s
        .rsplit_once("=>")
        .ok_or_else(|| format!("rule {s:?}: expected `SYSCALL => ACTION`"))?;
    let action = parse_action(action)?;
    let lhs = lhs.trim();
    let (name, conds) = match lhs.split_once('(') {
        Some((name, rest)) => {
            let inner = rest
                .trim_end()
                .strip_suffix(')')
                .ok_or_else(|| format!("rule {s:?}: missing `)`"))?;
            let conds = inner
                .split(',')
                .map(parse_cond)
                .collect::<Result<Vec<_>, _>>()?;
            (name.trim(), conds)
        }
        None => (lhs, Vec::new()),
    };
    let nr = arch
        .syscall(name)
        .ok_or_else(|| format!("rule {s:?}: no syscall {name:?} on this architecture"))?;
    Ok((nr, conds, action))
}

/// The command line: the default action, the rules, where COMMAND starts.
type Options = (Action, Vec<RuleSpec>, usize);

fn parse_args(arch: Arch, args: &[std::ffi::OsString]) -> Result<Options, String> {
    let mut default = Action::Allow;
    let mut specs = Vec::new();
    let mut at = 0;
    loop {
        let Some(word) = args.get(at) else {
            return Err(String::new());
        };
        let word = word.to_string_lossy();
        // `--option value` or `--option=value`.
        let (option, inline) = match word.split_once('=') {
            Some((o, v)) if o == "--default" || o == "--rule" => (o, Some(v.to_owned())),
            _ => (&*word, None),
        };
        match option {
            "--" => return Ok((default, specs, at + 1)),
            "--default" | "--rule" => {
                let value = if let Some(v) = inline {
                    v
                } else {
                    at += 1;
                    let v = args.get(at).ok_or_else(String::new)?;
                    v.to_string_lossy().into_owned()
                };
                if option == "--default" {
                    default = parse_action(&value)?;
                } else {
                    specs.push(parse_rule(arch, &value)?);
                }
                at += 1;
            }
            "-h" | "--help" => return Err(String::new()),
            o if o.starts_with('-') => return Err(format!("unknown option {o}")),
            _ => return Ok((default, specs, at)),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let arch = Arch::native();
    let (default, specs, command_at) = match parse_args(arch, &args) {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("sandbox: {e}");
            }
            return usage();
        }
    };
    let Some(command) = args.get(command_at) else {
        return usage();
    };

    let rules: Vec<SyscallRule<'_>> = specs
        .iter()
        .map(|(nr, conds, action)| SyscallRule::new(*nr, *action).when(conds))
        .collect();
    let mut storage = vec![Instruction::default(); seccomp::MAX_INSTRUCTIONS + rules.len()];
    let filter = match Builder::new(arch, default).build(&rules, &mut storage) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("sandbox: {e}");
            return ExitCode::from(2);
        }
    };
    let program = filter.instructions().to_vec();

    let mut cmd = Command::new(command);
    cmd.args(&args[command_at + 1..]);
    // SAFETY: between fork and exec the closure makes two syscalls on memory
    // it owns and allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            seccomp::set_no_new_privs()?;
            // SAFETY: the builder wrote the program and refuses Errno(0).
            seccomp::install_raw(&program, FilterFlags::empty()).map_err(std::io::Error::from)?;
            Ok(())
        });
    }
    let name = command.to_string_lossy();
    let status = match cmd.status() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sandbox: {name}: {e}");
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            };
            return ExitCode::from(code);
        }
    };
    if let Some(code) = status.code() {
        return ExitCode::from(code as u8);
    }
    let sig = status.signal().unwrap_or(0);
    let signame =
        Signal::from_raw(sig as u32).map_or_else(|| format!("signal {sig}"), |s| s.to_string());
    // One write, so the line stays whole beside the command's own output.
    let line = format!("sandbox: {name} killed by {signame}\n");
    let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), line.as_bytes());
    ExitCode::from((128 + sig) as u8)
}
