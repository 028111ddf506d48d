//! seccomp filter benchmarks: kernfd's builder against seccompiler and
//! libseccomp, on one allow-list policy, in one run of
//! `cargo bench --bench seccomp`.
//!
//! The policy is a typical server's 60 syscalls ([`ALLOW_LIST`]) allowed,
//! everything else killing the process. For each compiler:
//!
//! 1. **Program length** in BPF instructions.
//! 2. **Instructions executed** per allowed syscall, from kernfd's
//!    evaluator ([`kernfd::seccomp::evaluate`]): mean and worst over the 60.
//!    Every program is also checked to allow each of the 60 and to kill a
//!    call outside the list (`reboot`), and an x32 call.
//! 3. **Time per `getppid`** (allowed by the policy) in a child process
//!    with the filter installed, against a child with no filter. Rounds
//!    rotate the order; the median of the rounds is shown.
//!
//! libseccomp's program is exported by Debian's `python3-seccomp`
//! (`/usr/bin/python3`, `SyscallFilter.export_bpf`) with its binary-tree
//! optimisation (`CTL_OPTIMIZE` = 2); without it that column is skipped and
//! the run says so.
//!
//! Without `--bench` (as under `cargo test --benches`) it makes a quick
//! smoke run: the same checks, 10,000 calls, one round.
//!
//! Environment: `KERNFD_BENCH_CALLS` (default 2,000,000),
//! `KERNFD_BENCH_ROUNDS` (default 5).

#![allow(clippy::cast_precision_loss, clippy::missing_panics_doc)]

use std::collections::BTreeMap;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::time::Instant;

use kernfd::seccomp::{
    self, Action, Arch, Builder, FilterFlags, Instruction, SeccompData, SyscallRule,
    X32_SYSCALL_BIT, evaluate,
};

/// A typical network server's syscalls: memory, files, sockets, epoll,
/// timers, signals, threads, process exit. Names present on both `x86_64`
/// and `aarch64`.
const ALLOW_LIST: [&str; 60] = [
    "read",
    "write",
    "readv",
    "writev",
    "pread64",
    "pwrite64",
    "openat",
    "close",
    "fstat",
    "newfstatat",
    "statx",
    "lseek",
    "getdents64",
    "fcntl",
    "ioctl",
    "dup3",
    "pipe2",
    "mmap",
    "munmap",
    "mprotect",
    "mremap",
    "madvise",
    "brk",
    "socket",
    "bind",
    "listen",
    "accept4",
    "connect",
    "getsockname",
    "getpeername",
    "setsockopt",
    "getsockopt",
    "sendto",
    "recvfrom",
    "sendmsg",
    "recvmsg",
    "shutdown",
    "epoll_create1",
    "epoll_ctl",
    "epoll_pwait",
    "eventfd2",
    "timerfd_create",
    "timerfd_settime",
    "clock_gettime",
    "clock_nanosleep",
    "nanosleep",
    "futex",
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "sigaltstack",
    "getpid",
    "getppid",
    "gettid",
    "getrandom",
    "clone3",
    "set_robust_list",
    "rseq",
    "exit",
    "exit_group",
];

struct Program {
    name: &'static str,
    insns: Vec<Instruction>,
}

fn numbers(arch: Arch) -> Vec<u32> {
    ALLOW_LIST
        .iter()
        .map(|n| {
            arch.syscall(n)
                .unwrap_or_else(|| panic!("no {n} on {arch:?}"))
        })
        .collect()
}

fn kernfd_program(arch: Arch) -> Program {
    let rules: Vec<_> = numbers(arch)
        .into_iter()
        .map(|nr| SyscallRule::new(nr, Action::Allow))
        .collect();
    let mut st = vec![Instruction::default(); seccomp::MAX_INSTRUCTIONS + rules.len()];
    let f = Builder::new(arch, Action::KillProcess)
        .build(&rules, &mut st)
        .unwrap();
    Program {
        name: "kernfd",
        insns: f.instructions().to_vec(),
    }
}

fn seccompiler_program(arch: Arch) -> Program {
    use seccompiler::{BpfProgram, SeccompAction, SeccompFilter, TargetArch};
    let rules: BTreeMap<i64, Vec<seccompiler::SeccompRule>> = numbers(arch)
        .into_iter()
        .map(|nr| (i64::from(nr), vec![]))
        .collect();
    let target = if arch == Arch::Aarch64 {
        TargetArch::aarch64
    } else {
        TargetArch::x86_64
    };
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::KillProcess,
        SeccompAction::Allow,
        target,
    )
    .unwrap();
    let prog: BpfProgram = filter.try_into().unwrap();
    Program {
        name: "seccompiler",
        insns: prog
            .iter()
            .map(|i| Instruction::jump(i.code, i.k, i.jt, i.jf))
            .collect(),
    }
}

/// libseccomp's program, exported by python3-seccomp with the binary-tree
/// optimisation; `None` (and a note) when it is not installed.
fn libseccomp_program() -> Option<Program> {
    let script = "import seccomp, sys\n\
        f = seccomp.SyscallFilter(defaction=seccomp.KILL_PROCESS)\n\
        [f.add_rule(seccomp.ALLOW, n) for n in sys.argv[1:]]\n\
        f.set_attr(seccomp.Attr.CTL_OPTIMIZE, 2)\n\
        f.export_bpf(sys.stdout)\n";
    let out = std::process::Command::new("/usr/bin/python3")
        .arg("-c")
        .arg(script)
        .args(ALLOW_LIST)
        .output();
    match out {
        Ok(o) if o.status.success() && o.stdout.len() % 8 == 0 && !o.stdout.is_empty() => {
            let insns = o
                .stdout
                .chunks_exact(8)
                .map(|c| Instruction {
                    code: u16::from_ne_bytes([c[0], c[1]]),
                    jt: c[2],
                    jf: c[3],
                    k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
                })
                .collect();
            Some(Program {
                name: "libseccomp",
                insns,
            })
        }
        other => {
            println!(
                "SKIPPED libseccomp: /usr/bin/python3 with python3-seccomp is needed \
                 (apt-get install python3-seccomp): {:?}",
                other.map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
            );
            None
        }
    }
}

/// Mean and worst instructions executed over the allow-list; checks the
/// program allows each and kills what it should.
fn cost(p: &Program, arch: Arch) -> (f64, usize) {
    let mut total = 0;
    let mut worst = 0;
    for nr in numbers(arch) {
        let v = evaluate(&p.insns, &SeccompData::new(arch, nr, [0; 6])).unwrap();
        assert_eq!(v.action(), Action::Allow, "{} on {nr}", p.name);
        total += v.executed;
        worst = worst.max(v.executed);
    }
    let reboot = arch.syscall("reboot").unwrap();
    let v = evaluate(&p.insns, &SeccompData::new(arch, reboot, [0; 6])).unwrap();
    assert_eq!(v.action(), Action::KillProcess, "{} on reboot", p.name);
    if arch == Arch::X86_64 && p.name != "seccompiler" {
        // seccompiler does not guard x32 numbers (its issue #74).
        let getpid = arch.syscall("getpid").unwrap();
        let x32 = SeccompData::new(arch, X32_SYSCALL_BIT | getpid, [0; 6]);
        // libseccomp kills the thread on a bad arch (its ACT_BADARCH).
        let a = evaluate(&p.insns, &x32).unwrap().action();
        assert!(
            matches!(a, Action::KillProcess | Action::KillThread),
            "{} on x32 getpid: {a}",
            p.name
        );
    }
    (total as f64 / ALLOW_LIST.len() as f64, worst)
}

/// Nanoseconds per `getppid` in a forked child with `program` installed
/// (none for `None`).
fn time_getppid(program: Option<&[Instruction]>, calls: u64) -> f64 {
    let (r, w) = rustix::pipe::pipe().unwrap();
    // SAFETY: the benchmark is single-threaded here; the child makes
    // syscalls and exits without returning.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        if let Some(p) = program {
            seccomp::set_no_new_privs().unwrap();
            // SAFETY: an allow-list program fabricates no result.
            unsafe { seccomp::install_raw(p, FilterFlags::empty()) }.unwrap();
        }
        let start = Instant::now();
        for _ in 0..calls {
            // SAFETY: getppid touches no memory.
            std::hint::black_box(unsafe { libc::syscall(libc::SYS_getppid) });
        }
        let ns = start.elapsed().as_nanos() as f64 / calls as f64;
        let _ = rustix::io::write(&w, &ns.to_ne_bytes());
        // SAFETY: ends the child.
        unsafe { libc::_exit(0) }
    }
    drop(w);
    let mut b = [0_u8; 8];
    let mut file = std::fs::File::from(r);
    file.read_exact(&mut b).expect("the child reports its time");
    let mut status = 0;
    // SAFETY: reaps our own child.
    unsafe { libc::waitpid(pid, &raw mut status, 0) };
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    let _ = file.as_raw_fd();
    f64::from_ne_bytes(b)
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let (calls, rounds) = if bench {
        (
            env("KERNFD_BENCH_CALLS", 2_000_000),
            env("KERNFD_BENCH_ROUNDS", 5) as usize,
        )
    } else {
        (10_000, 1)
    };
    let arch = Arch::native();
    let mut programs = vec![kernfd_program(arch), seccompiler_program(arch)];
    programs.extend(libseccomp_program());

    println!(
        "allow-list of {} syscalls, default KILL_PROCESS, {arch:?}",
        ALLOW_LIST.len()
    );
    println!(
        "{:<12} {:>8} {:>14} {:>14}",
        "filter", "length", "executed mean", "executed worst"
    );
    let kernfd_len = programs[0].insns.len();
    let mut costs = Vec::new();
    for p in &programs {
        let (mean, worst) = cost(p, arch);
        costs.push((mean, worst));
        println!(
            "{:<12} {:>8} {:>14.2} {:>14}",
            p.name,
            p.insns.len(),
            mean,
            worst
        );
    }
    for (p, (mean, worst)) in programs.iter().zip(&costs).skip(1) {
        println!(
            "kernfd / {}: length {:.2}x, mean executed {:.2}x, worst {:.2}x",
            p.name,
            kernfd_len as f64 / p.insns.len() as f64,
            costs[0].0 / mean,
            costs[0].1 as f64 / *worst as f64
        );
    }

    // Time per getppid, rounds rotating the order.
    let names: Vec<&str> = std::iter::once("no filter")
        .chain(programs.iter().map(|p| p.name))
        .collect();
    let mut samples = vec![Vec::new(); names.len()];
    for round in 0..rounds {
        for k in 0..names.len() {
            let i = (k + round) % names.len();
            let prog = (i > 0).then(|| programs[i - 1].insns.as_slice());
            samples[i].push(time_getppid(prog, calls));
        }
    }
    println!("getppid, {calls} calls x {rounds} rounds (median ns per call):");
    let medians: Vec<f64> = samples
        .iter_mut()
        .map(|s| {
            s.sort_by(f64::total_cmp);
            s[s.len() / 2]
        })
        .collect();
    for (name, m) in names.iter().zip(&medians) {
        println!(
            "{name:<12} {m:>8.1} ns  (+{:.1} ns over no filter)",
            m - medians[0]
        );
    }
}
