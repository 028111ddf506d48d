//! seccomp against the real kernel.
//!
//! Every test runs in a child process of its own (`util::in_child`), and
//! every filter is installed there: in a process forked from it
//! ([`fork_run`]), or in one of its threads (filters are per thread), so the
//! test runner is never filtered.

#![allow(clippy::many_single_char_names)] // r, w, n, t: pipes, notifications, targets

#[macro_use]
mod util;

use std::sync::mpsc;

use kernfd::seccomp::{
    self, Action, AddFd, Arch, Builder, Cmp, Cond, FilterFlags, Instruction, Listener, NOTIF_LEN,
    Response, SeccompData, SyscallRule,
};
use kernfd::{Errno, Error};
use rustix::fd::{AsFd, AsRawFd};

/// How a forked child ended.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Outcome {
    Exit(i32),
    Signal(i32),
}

/// Runs `f` in a forked child (core dumps off) and returns how it ended:
/// its return value as exit status, or the signal that killed it. Call
/// only from a single-threaded `in_child` process.
fn fork_run(f: impl FnOnce() -> i32) -> Outcome {
    // SAFETY: the caller is single-threaded (an in_child process under
    // --test-threads=1), so the child may run ordinary code.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork");
    if pid == 0 {
        let zero = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: plain syscalls; `_exit` never returns.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, &raw const zero);
            let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(101);
            libc::_exit(code)
        }
    }
    wait_pid(pid)
}

fn wait_pid(pid: i32) -> Outcome {
    let mut status = 0;
    // SAFETY: waits for our own child.
    let r = unsafe { libc::waitpid(pid, &raw mut status, 0) };
    assert_eq!(r, pid);
    if libc::WIFEXITED(status) {
        Outcome::Exit(libc::WEXITSTATUS(status))
    } else {
        Outcome::Signal(libc::WTERMSIG(status))
    }
}

/// `syscall(nr, args...)`: the result, or `-errno`.
fn sys(nr: u32, a: [u64; 6]) -> i64 {
    // SAFETY: every caller passes a call that touches no memory of ours
    // (id getters, or pointers it owns).
    let r = unsafe { libc::syscall(i64::from(nr), a[0], a[1], a[2], a[3], a[4], a[5]) };
    if r == -1 {
        -i64::from(std::io::Error::last_os_error().raw_os_error().unwrap())
    } else {
        r
    }
}

fn nr(name: &str) -> u32 {
    Arch::native().syscall(name).unwrap()
}

/// Builds `rules` for the native arch into a fresh storage and installs
/// the result after `no_new_privs`.
fn install(
    rules: &[SyscallRule<'_>],
    default: Action,
    flags: FilterFlags,
) -> kernfd::Result<Option<Listener>> {
    let mut st = [Instruction::default(); 512];
    let f = Builder::new(Arch::native(), default)
        .build(rules, &mut st)
        .unwrap();
    seccomp::set_no_new_privs().unwrap();
    f.install(flags)
}

#[test]
fn strict_mode_allows_write_and_kills_the_rest() {
    if util::in_child("strict_mode_allows_write_and_kills_the_rest") {
        return;
    }
    let (r, w) = rustix::pipe::pipe().unwrap();
    let out = fork_run(|| {
        if seccomp::set_mode_strict().is_err() {
            return 2;
        }
        // write(2) is allowed...
        let ok = sys(
            nr("write"),
            [w.as_raw_fd() as u64, b"ok".as_ptr() as u64, 2, 0, 0, 0],
        );
        if ok != 2 {
            return 3;
        }
        // ...getpid is not: SIGKILL.
        sys(nr("getpid"), [0; 6]);
        4
    });
    assert_eq!(out, Outcome::Signal(libc::SIGKILL));
    drop(w);
    let mut buf = [0_u8; 8];
    assert_eq!(rustix::io::read(&r, &mut buf), Ok(2));
    assert_eq!(&buf[..2], b"ok");
}

#[test]
fn strict_mode_after_a_filter_is_einval() {
    if util::in_child("strict_mode_after_a_filter_is_einval") {
        return;
    }
    let out = fork_run(|| {
        install(&[], Action::Allow, FilterFlags::empty()).unwrap();
        match seccomp::set_mode_strict() {
            Err(Errno::INVAL) => 0,
            _ => 1,
        }
    });
    assert_eq!(out, Outcome::Exit(0));
}

#[test]
fn errno_rule_refuses_uname_and_leaves_the_rest() {
    if util::in_child("errno_rule_refuses_uname_and_leaves_the_rest") {
        return;
    }
    let out = fork_run(|| {
        let rules = [SyscallRule::new(nr("uname"), Action::Errno(1))];
        assert!(
            install(&rules, Action::Allow, FilterFlags::empty())
                .unwrap()
                .is_none()
        );
        assert_eq!(seccomp::no_new_privs(), Ok(true));
        let mut u = [0_u8; 512];
        assert_eq!(sys(nr("uname"), [u.as_mut_ptr() as u64, 0, 0, 0, 0, 0]), -1);
        assert!(sys(nr("getpid"), [0; 6]) > 0);
        0
    });
    assert_eq!(out, Outcome::Exit(0));
}

#[test]
fn every_action_as_the_kernel_takes_it() {
    if util::in_child("every_action_as_the_kernel_takes_it") {
        return;
    }
    let getppid = nr("getppid");
    let run = |a: Action| {
        fork_run(move || {
            let rules = [SyscallRule::new(getppid, a)];
            install(&rules, Action::Allow, FilterFlags::empty()).unwrap();
            let r = sys(getppid, [0; 6]);
            if r > 0 { 0 } else { (-r) as i32 }
        })
    };
    assert_eq!(run(Action::Allow), Outcome::Exit(0));
    assert_eq!(run(Action::Log), Outcome::Exit(0));
    assert_eq!(run(Action::Errno(13)), Outcome::Exit(13));
    // No tracer, no listener: ENOSYS.
    assert_eq!(run(Action::Trace(1)), Outcome::Exit(libc::ENOSYS));
    assert_eq!(run(Action::UserNotif), Outcome::Exit(libc::ENOSYS));
    assert_eq!(run(Action::Trap(5)), Outcome::Signal(libc::SIGSYS));
    assert_eq!(run(Action::KillThread), Outcome::Signal(libc::SIGSYS));
    assert_eq!(run(Action::KillProcess), Outcome::Signal(libc::SIGSYS));
}

#[test]
fn conditions_on_64_bit_arguments_reach_the_kernel() {
    if util::in_child("conditions_on_64_bit_arguments_reach_the_kernel") {
        return;
    }
    // getppid ignores its arguments, so the filter alone decides.
    let getppid = nr("getppid");
    let out = fork_run(move || {
        let c1 = [Cond::new(0, Cmp::Eq, 0x1_0000_0007)];
        let c2 = [Cond::masked_eq(
            1,
            0xff00_0000_0000_0000,
            0xab00_0000_0000_0000,
        )];
        let c3 = [
            Cond::new(2, Cmp::Gt, u64::MAX - 1),
            Cond::new(3, Cmp::Le, 3),
        ];
        let rules = [
            SyscallRule::new(getppid, Action::Errno(21)).when(&c1),
            SyscallRule::new(getppid, Action::Errno(22)).when(&c2),
            SyscallRule::new(getppid, Action::Errno(23)).when(&c3),
        ];
        install(&rules, Action::Allow, FilterFlags::empty()).unwrap();
        assert_eq!(sys(getppid, [0x1_0000_0007, 0, 0, 0, 0, 0]), -21);
        assert!(sys(getppid, [7, 0, 0, 0, 0, 0]) > 0, "the high half counts");
        assert_eq!(sys(getppid, [0, 0xab12_0000_0000_0001, 0, 0, 0, 0]), -22);
        assert!(sys(getppid, [0, 0xac00_0000_0000_0000, 0, 0, 0, 0]) > 0);
        assert_eq!(sys(getppid, [0, 0, u64::MAX, 3, 0, 0]), -23);
        assert!(sys(getppid, [0, 0, u64::MAX, 4, 0, 0]) > 0);
        0
    });
    assert_eq!(out, Outcome::Exit(0));
}

#[test]
fn x32_numbers_are_killed_unless_allowed() {
    if !cfg!(target_arch = "x86_64") {
        skip!("x32 exists on x86_64 only");
    }
    if util::in_child("x32_numbers_are_killed_unless_allowed") {
        return;
    }
    // getpid with the x32 bit: ENOSYS (or a pid) without a filter.
    let x32_getpid = nr("getpid") | seccomp::X32_SYSCALL_BIT;
    let free = fork_run(move || i32::from(sys(x32_getpid, [0; 6]) == -38));
    let guarded = fork_run(move || {
        install(&[], Action::Allow, FilterFlags::empty()).unwrap();
        sys(x32_getpid, [0; 6]);
        0
    });
    assert_eq!(guarded, Outcome::Signal(libc::SIGSYS));
    let opted_out = fork_run(move || {
        let mut st = [Instruction::default(); 16];
        let f = Builder::new(Arch::native(), Action::Allow)
            .allow_x32()
            .build(&[], &mut st)
            .unwrap();
        seccomp::set_no_new_privs().unwrap();
        f.install(FilterFlags::empty()).unwrap();
        i32::from(sys(x32_getpid, [0; 6]) == -38)
    });
    assert_eq!(
        opted_out, free,
        "without the guard the kernel answers as without a filter"
    );
    // Syscall number -1 is not killed: it goes to the default action.
    let minus_one = fork_run(|| {
        // exit_group must stay allowed for the child to end.
        let rules = [SyscallRule::new(nr("exit_group"), Action::Allow)];
        install(&rules, Action::Errno(7), FilterFlags::empty()).unwrap();
        (-sys(u32::MAX, [0; 6])) as i32
    });
    assert_eq!(minus_one, Outcome::Exit(7));
}

/// `getpid` through `int $0x80` (i386 number 20).
#[cfg(target_arch = "x86_64")]
fn int80_getpid() -> i64 {
    let ret: i64;
    // SAFETY: i386 getpid takes no arguments and touches no memory; int 0x80
    // clobbers nothing but eax and the flags.
    unsafe {
        std::arch::asm!("int 0x80", inlateout("rax") 20_i64 => ret);
    }
    ret
}

#[test]
fn int_0x80_is_killed_by_the_arch_check() {
    #[cfg(target_arch = "x86_64")]
    {
        if util::in_child("int_0x80_is_killed_by_the_arch_check") {
            return;
        }
        let plain = fork_run(|| {
            let pid = int80_getpid();
            i32::from(pid == i64::from(std::process::id() as i32))
        });
        if plain != Outcome::Exit(1) {
            skip!("no i386 emulation in this kernel ({plain:?})");
        }
        // A rule allowing number 20 (x86_64 `pause`) would match i386
        // getpid without the arch check; the check kills first.
        let out = fork_run(|| {
            let rules = [SyscallRule::new(20, Action::Allow)];
            install(&rules, Action::Allow, FilterFlags::empty()).unwrap();
            int80_getpid();
            0
        });
        assert_eq!(out, Outcome::Signal(libc::SIGSYS));
    }
    #[cfg(not(target_arch = "x86_64"))]
    skip!("int 0x80 exists on x86_64 only");
}

#[test]
fn install_without_no_new_privs_is_eacces() {
    if util::in_child("install_without_no_new_privs_is_eacces") {
        return;
    }
    let out = fork_run(|| {
        if util::is_root() {
            // Drop every capability, CAP_SYS_ADMIN with them.
            let none = rustix::thread::CapabilitySet::empty();
            rustix::thread::set_capabilities(
                None,
                rustix::thread::CapabilitySets {
                    effective: none,
                    permitted: none,
                    inheritable: none,
                },
            )
            .unwrap();
        }
        let mut st = [Instruction::default(); 16];
        let f = Builder::new(Arch::native(), Action::Allow)
            .build(&[], &mut st)
            .unwrap();
        match f.install(FilterFlags::empty()) {
            Err(e) if e.errno() == Some(Errno::ACCESS) && e.call() == Some("seccomp") => 0,
            other => {
                eprintln!("{other:?}");
                1
            }
        }
    });
    assert_eq!(out, Outcome::Exit(0));
}

#[test]
fn bad_flags_and_programs_are_einval() {
    if util::in_child("bad_flags_and_programs_are_einval") {
        return;
    }
    let out = fork_run(|| {
        seccomp::set_no_new_privs().unwrap();
        let ok = [Instruction::ret(Action::Allow.to_raw())];
        let einval = |r: Result<usize, Errno>| r == Err(Errno::INVAL);
        // SAFETY: every call fails, or installs an allow-all program.
        unsafe {
            assert!(einval(seccomp::set_mode_filter(
                FilterFlags::from_bits_retain(1 << 30),
                &ok
            )));
            assert!(einval(seccomp::set_mode_filter(FilterFlags::empty(), &[])));
            let bad = [Instruction::load(2), Instruction::ret(0)];
            assert!(einval(seccomp::set_mode_filter(FilterFlags::empty(), &bad)));
            let long = vec![Instruction::ret(Action::Allow.to_raw()); 4097];
            assert!(einval(seccomp::set_mode_filter(
                FilterFlags::empty(),
                &long
            )));
            // A scratch slot read where one path did not write it.
            let half = [
                Instruction::jump(
                    seccomp::op::JMP | seccomp::op::JEQ | seccomp::op::K,
                    0,
                    0,
                    1,
                ),
                Instruction::stmt(seccomp::op::ST, 3),
                Instruction::stmt(seccomp::op::LD | seccomp::op::MEM, 3),
                Instruction::ret(Action::Allow.to_raw()),
            ];
            assert!(einval(seccomp::set_mode_filter(
                FilterFlags::empty(),
                &half
            )));
            assert!(seccomp::check(&half).is_err());
            // TSYNC with NEW_LISTENER needs TSYNC_ESRCH.
            assert!(einval(seccomp::set_mode_filter(
                FilterFlags::TSYNC | FilterFlags::NEW_LISTENER,
                &ok
            )));
        }
        // The evaluator refuses what the kernel refused.
        assert!(seccomp::check(&[Instruction::load(2), Instruction::ret(0)]).is_err());
        0
    });
    assert_eq!(out, Outcome::Exit(0));
}

#[test]
fn raw_programs_and_every_flag_install() {
    if util::in_child("raw_programs_and_every_flag_install") {
        return;
    }
    for flags in [
        FilterFlags::LOG,
        FilterFlags::SPEC_ALLOW,
        FilterFlags::TSYNC,
        FilterFlags::TSYNC | FilterFlags::TSYNC_ESRCH,
        FilterFlags::NEW_LISTENER | FilterFlags::WAIT_KILLABLE_RECV,
        FilterFlags::NEW_LISTENER | FilterFlags::TSYNC | FilterFlags::TSYNC_ESRCH,
    ] {
        let out = fork_run(move || {
            seccomp::set_no_new_privs().unwrap();
            let prog = [Instruction::ret(Action::Allow.to_raw())];
            // SAFETY: an allow-all program fabricates nothing.
            match unsafe { seccomp::install_raw(&prog, flags) } {
                Ok(l) if l.is_some() == flags.contains(FilterFlags::NEW_LISTENER) => 0,
                Err(e) if e.errno() == Some(Errno::INVAL) => 2, // flag unknown to this kernel
                other => {
                    eprintln!("{flags:?}: {other:?}");
                    1
                }
            }
        });
        if out == Outcome::Exit(2) {
            eprintln!("SKIPPED {flags:?}: unknown to this kernel");
            continue;
        }
        assert_eq!(out, Outcome::Exit(0), "{flags:?}");
    }
}

#[test]
fn action_avail_and_notif_sizes() {
    for a in [
        Action::KillProcess,
        Action::KillThread,
        Action::Trap(0),
        Action::Errno(1),
        Action::UserNotif,
        Action::Trace(0),
        Action::Log,
        Action::Allow,
    ] {
        assert_eq!(seccomp::get_action_avail(a.without_data()), Ok(()), "{a}");
    }
    assert_eq!(
        seccomp::get_action_avail(0x7ffe_0000),
        Err(Errno::OPNOTSUPP)
    );
    let s = seccomp::get_notif_sizes().unwrap();
    assert_eq!((s.notif, s.resp, s.data), (80, 24, 64));
}

#[test]
fn tsync_failure_names_the_thread_or_is_esrch() {
    if util::in_child("tsync_failure_names_the_thread_or_is_esrch") {
        return;
    }
    seccomp::set_no_new_privs().unwrap();
    let (ready_tx, ready_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let other = std::thread::spawn(move || {
        // A filter of its own: not an ancestor of the main thread's.
        let prog = [Instruction::ret(Action::Allow.to_raw())];
        // SAFETY: allow-all.
        unsafe { seccomp::install_raw(&prog, FilterFlags::empty()) }.unwrap();
        ready_tx
            .send(rustix::thread::gettid().as_raw_nonzero().get())
            .unwrap();
        done_rx.recv().unwrap();
    });
    let tid = ready_rx.recv().unwrap();
    let prog = [Instruction::ret(Action::Allow.to_raw())];
    // SAFETY: allow-all.
    let r = unsafe { seccomp::install_raw(&prog, FilterFlags::TSYNC) };
    assert_eq!(r.unwrap_err(), Error::ThreadNotSynced { tid: tid as u32 });
    // SAFETY: allow-all.
    let r = unsafe { seccomp::install_raw(&prog, FilterFlags::TSYNC | FilterFlags::TSYNC_ESRCH) };
    assert_eq!(r.unwrap_err().errno(), Some(Errno::SRCH));
    done_tx.send(()).unwrap();
    other.join().unwrap();
}

#[test]
fn tsync_reaches_other_threads() {
    if util::in_child("tsync_reaches_other_threads") {
        return;
    }
    let getppid = nr("getppid");
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let other = std::thread::spawn(move || {
        go_rx.recv().unwrap();
        sys(getppid, [0; 6])
    });
    let rules = [SyscallRule::new(getppid, Action::Errno(9))];
    assert!(
        install(&rules, Action::Allow, FilterFlags::TSYNC)
            .unwrap()
            .is_none()
    );
    go_tx.send(()).unwrap();
    assert_eq!(other.join().unwrap(), -9);
}

#[test]
fn a_second_listener_is_ebusy() {
    if util::in_child("a_second_listener_is_ebusy") {
        return;
    }
    let out = fork_run(|| {
        let _first = install(&[], Action::Allow, FilterFlags::NEW_LISTENER)
            .unwrap()
            .unwrap();
        match install(&[], Action::Allow, FilterFlags::NEW_LISTENER) {
            Err(e) if e.errno() == Some(Errno::BUSY) => 0,
            _ => 1,
        }
    });
    assert_eq!(out, Outcome::Exit(0));
}

/// A thread with a `USER_NOTIF` filter on `names` (everything else
/// allowed), running `body` once its listener is handed to the caller.
struct Target<T> {
    listener: Listener,
    go: mpsc::Sender<()>,
    handle: std::thread::JoinHandle<T>,
}

fn target<T: Send + 'static>(
    names: &'static [&'static str],
    body: impl FnOnce() -> T + Send + 'static,
) -> Target<T> {
    let (tx, rx) = mpsc::channel();
    let (go, go_rx) = mpsc::channel::<()>();
    let handle = std::thread::spawn(move || {
        let rules: Vec<_> = names
            .iter()
            .map(|n| SyscallRule::new(nr(n), Action::UserNotif))
            .collect();
        let mut st = [Instruction::default(); 128];
        let f = Builder::new(Arch::native(), Action::Allow)
            .build(&rules, &mut st)
            .unwrap();
        seccomp::set_no_new_privs().unwrap();
        tx.send(f.install_listener(FilterFlags::empty()).unwrap())
            .unwrap();
        go_rx.recv().unwrap();
        body()
    });
    let listener = rx.recv().unwrap();
    Target {
        listener,
        go,
        handle,
    }
}

#[test]
fn notifications_are_answered_with_values_errors_and_continue() {
    if util::in_child("notifications_are_answered_with_values_errors_and_continue") {
        return;
    }
    let t = target(&["getppid", "uname", "getpgid"], || {
        let a = sys(nr("getppid"), [1, 2, 3, 4, 5, 6]);
        let mut u = [0_u8; 512];
        let b = sys(nr("uname"), [u.as_mut_ptr() as u64, 0, 0, 0, 0, 0]);
        let c = sys(nr("getpgid"), [0; 6]);
        (a, b, c, u[0])
    });
    t.go.send(()).unwrap();
    let mut buf = [0_u8; NOTIF_LEN];
    let n = t.listener.recv(&mut buf).unwrap();
    // Seeds for fuzz/corpus/seccomp_notif_parse: real kernel records.
    if let Some(dir) = std::env::var_os("KERNFD_SEED_DIR") {
        std::fs::write(std::path::Path::new(&dir).join("seed-getppid"), buf).unwrap();
    }
    assert_eq!(n.data().nr as u32, nr("getppid"));
    assert_eq!(n.data().arch, Arch::native().audit_arch());
    assert_eq!(n.data().args, [1, 2, 3, 4, 5, 6]);
    assert!(n.pid() > 0);
    assert!(t.listener.id_valid(n.id()).unwrap());
    t.listener.respond(n.id(), Response::Value(4242)).unwrap();
    assert!(
        !t.listener.id_valid(n.id()).unwrap(),
        "answered: no longer valid"
    );
    let first = n.id();

    let n = t.listener.recv(&mut buf).unwrap();
    if let Some(dir) = std::env::var_os("KERNFD_SEED_DIR") {
        std::fs::write(std::path::Path::new(&dir).join("seed-uname"), buf).unwrap();
    }
    assert_eq!(n.data().nr as u32, nr("uname"));
    t.listener
        .respond(n.id(), Response::Error(Errno::ACCESS))
        .unwrap();

    let n = t.listener.recv(&mut buf).unwrap();
    t.listener.respond(n.id(), Response::Continue).unwrap();
    let (a, b, c, _) = t.handle.join().unwrap();
    // An id whose call has returned: ENOENT.
    let e = t.listener.respond(first, Response::Value(1)).unwrap_err();
    assert_eq!(e.errno(), Some(Errno::NOENT));
    assert_eq!(e.call(), Some("SECCOMP_IOCTL_NOTIF_SEND"));
    assert_eq!(a, 4242);
    assert_eq!(b, -i64::from(libc::EACCES));
    assert!(c > 0, "getpgid ran: {c}");
}

#[test]
fn answers_before_receiving_are_einprogress() {
    if util::in_child("answers_before_receiving_are_einprogress") {
        return;
    }
    let t = target(&["getppid"], || {
        (sys(nr("getppid"), [0; 6]), sys(nr("getppid"), [0; 6]))
    });
    t.go.send(()).unwrap();
    let mut buf = [0_u8; NOTIF_LEN];
    let first = t.listener.recv(&mut buf).unwrap();
    t.listener.respond(first.id(), Response::Value(1)).unwrap();
    // The second call is pending once the listener is readable; ids count
    // up by one.
    wait_readable(&t.listener);
    let next = first.id() + 1;
    let e = t.listener.respond(next, Response::Value(2)).unwrap_err();
    assert_eq!(e.errno(), Some(Errno::INPROGRESS));
    let null = std::fs::File::open("/dev/null").unwrap();
    let e = t
        .listener
        .add_fd(next, &AddFd::new(null.as_fd()))
        .unwrap_err();
    assert_eq!(e.errno(), Some(Errno::INPROGRESS));
    let n = t.listener.recv(&mut buf).unwrap();
    assert_eq!(n.id(), next);
    t.listener.respond(n.id(), Response::Value(2)).unwrap();
    assert_eq!(t.handle.join().unwrap(), (1, 2));
}

fn wait_readable(l: &Listener) {
    let mut pfd = [rustix::event::PollFd::new(l, rustix::event::PollFlags::IN)];
    let n = rustix::event::poll(&mut pfd, None).unwrap();
    assert_eq!(n, 1);
}

#[test]
fn non_blocking_listener_in_epoll() {
    use rustix::event::epoll;
    if util::in_child("non_blocking_listener_in_epoll") {
        return;
    }
    let t = target(&["getppid"], || sys(nr("getppid"), [0; 6]));
    t.listener.set_nonblocking(true).unwrap();
    let mut buf = [0_u8; NOTIF_LEN];
    let e = t.listener.recv(&mut buf).unwrap_err();
    assert_eq!(e.errno(), Some(Errno::AGAIN), "nothing pending yet");
    let mut small = [0_u8; NOTIF_LEN - 1];
    assert_eq!(
        t.listener.recv(&mut small).unwrap_err(),
        Error::BufferTooSmall {
            len: NOTIF_LEN - 1,
            needed: NOTIF_LEN
        }
    );
    let ep = epoll::create(epoll::CreateFlags::CLOEXEC).unwrap();
    epoll::add(
        &ep,
        &t.listener,
        epoll::EventData::new_u64(7),
        epoll::EventFlags::IN,
    )
    .unwrap();
    t.go.send(()).unwrap();
    let mut events = [std::mem::MaybeUninit::uninit(); 4];
    let (ready, _) = epoll::wait(&ep, &mut events, None).unwrap();
    assert_eq!(ready.len(), 1);
    assert_eq!(ready[0].data.u64(), 7);
    let n = t.listener.recv(&mut buf).unwrap();
    t.listener.respond(n.id(), Response::Value(77)).unwrap();
    assert_eq!(t.handle.join().unwrap(), 77);
    // Adopting the descriptor keeps its non-blocking state.
    let fd: rustix::fd::OwnedFd = t.listener.into();
    let l = Listener::from(fd);
    assert!(l.is_nonblocking());
    // The target thread is gone: no task uses the filter, the listener
    // hangs up, and a non-blocking receive says so instead of `EAGAIN`.
    assert_eq!(
        l.recv(&mut buf).unwrap_err(),
        Error::EndOfFile {
            call: "SECCOMP_IOCTL_NOTIF_RECV"
        }
    );
}

#[test]
fn add_fd_with_send_and_setfd_installs_descriptors_in_the_target() {
    if util::in_child("add_fd_with_send_and_setfd_installs_descriptors_in_the_target") {
        return;
    }
    let dir = util::tempdir();
    let file = dir.path().join("other");
    std::fs::write(&file, b"replaced bytes").unwrap();
    let t = target(&["openat", "getppid"], || {
        let path = c"/nonexistent/kernfd-seccomp-probe";
        let fd = sys(
            nr("openat"),
            [libc::AT_FDCWD as u64, path.as_ptr() as u64, 0, 0, 0, 0],
        );
        let mut buf = [0_u8; 64];
        let n = sys(
            nr("read"),
            [fd as u64, buf.as_mut_ptr() as u64, 64, 0, 0, 0],
        );
        let set = sys(nr("getppid"), [0; 6]);
        let mut buf2 = [0_u8; 64];
        let n2 = sys(
            nr("pread64"),
            [set as u64, buf2.as_mut_ptr() as u64, 64, 0, 0, 0],
        );
        (
            fd,
            buf[..n.max(0) as usize].to_vec(),
            set,
            buf2[..n2.max(0) as usize].to_vec(),
        )
    });
    let before = util::count_fds();
    t.go.send(()).unwrap();
    let mut buf = [0_u8; NOTIF_LEN];
    let n = t.listener.recv(&mut buf).unwrap();
    assert_eq!(n.data().nr as u32, nr("openat"));
    // The path the target named, read from its memory.
    let mut path = [0_u8; 4096];
    let named = t
        .listener
        .read_cstr(&n, n.data().args[1], &mut path)
        .unwrap();
    assert_eq!(named, b"/nonexistent/kernfd-seccomp-probe");
    let mut four = [0_u8; 4];
    assert_eq!(
        t.listener
            .read_memory(&n, n.data().args[1], &mut four)
            .unwrap(),
        4
    );
    assert_eq!(&four, b"/non");
    // EFAULT for an address with nothing mapped.
    let e = t.listener.read_memory(&n, 8, &mut four).unwrap_err();
    assert_eq!(e.errno(), Some(Errno::FAULT));
    assert_eq!(e.call(), Some("process_vm_readv"));
    {
        let other = std::fs::File::open(&file).unwrap();
        let fd = t
            .listener
            .add_fd(n.id(), &AddFd::new(other.as_fd()).cloexec(true).send(true))
            .unwrap();
        assert!(fd >= 3);
    }
    let n = t.listener.recv(&mut buf).unwrap();
    {
        let other = std::fs::File::open(&file).unwrap();
        let at = t
            .listener
            .add_fd(n.id(), &AddFd::new(other.as_fd()).at(200))
            .unwrap();
        assert_eq!(at, 200);
    }
    assert!(
        t.listener.id_valid(n.id()).unwrap(),
        "ADDFD without SEND leaves it pending"
    );
    t.listener.respond(n.id(), Response::Value(200)).unwrap();
    let (fd, bytes, set, bytes2) = t.handle.join().unwrap();
    assert!(fd >= 3);
    assert_eq!(bytes, b"replaced bytes");
    assert_eq!(set, 200);
    assert_eq!(bytes2, b"replaced bytes");
    assert_eq!(
        util::count_fds(),
        before + 2,
        "the target's two new fds, no leak here"
    );
    // The target thread's descriptors are ours too (threads share them).
    // SAFETY: closes the two descriptors the kernel installed, owned by no
    // object.
    unsafe {
        libc::close(fd as i32);
        libc::close(set as i32);
    }
    assert_eq!(util::count_fds(), before);
}

#[test]
fn a_dead_target_makes_ids_stale() {
    if util::in_child("a_dead_target_makes_ids_stale") {
        return;
    }
    // The thread forks a process that inherits its filter and blocks in a
    // notified call; the process is killed while the call waits.
    let t = target(&["getppid"], || {
        // SAFETY: the child only makes raw calls, then exits.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            sys(nr("getppid"), [0; 6]);
            // SAFETY: exits the child.
            unsafe { libc::_exit(0) }
        }
        pid
    });
    t.go.send(()).unwrap();
    let pid = t.handle.join().unwrap();
    let mut buf = [0_u8; NOTIF_LEN];
    let n = t.listener.recv(&mut buf).unwrap();
    assert_eq!(n.pid(), pid as u32);
    assert!(t.listener.id_valid(n.id()).unwrap());
    // SAFETY: kills our own child.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    assert_eq!(wait_pid(pid), Outcome::Signal(libc::SIGKILL));
    assert!(!t.listener.id_valid(n.id()).unwrap());
    let e = t.listener.respond(n.id(), Response::Value(0)).unwrap_err();
    assert_eq!(e.errno(), Some(Errno::NOENT));
    let mut b = [0_u8; 8];
    let e = t.listener.read_memory(&n, 0x1000, &mut b).unwrap_err();
    assert!(
        matches!(e.errno(), Some(Errno::SRCH | Errno::NOENT | Errno::FAULT)),
        "{e}"
    );
}

/// xorshift64*, seeded: the property tests reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Calls that ignore their arguments and change nothing: whatever the
/// filter lets through is harmless.
const HARMLESS: [&str; 8] = [
    "getpid",
    "getppid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "gettid",
    "sched_yield",
];

fn random_action(rng: &mut Rng) -> Action {
    match rng.next() % 8 {
        0 => Action::KillProcess,
        1 => Action::KillThread,
        2 => Action::Trap(rng.next() as u16),
        3 => Action::Errno(1 + (rng.next() % 200) as u16),
        4 => Action::UserNotif,
        5 => Action::Trace(rng.next() as u16),
        6 => Action::Log,
        _ => Action::Allow,
    }
}

fn random_value(rng: &mut Rng) -> u64 {
    match rng.next() % 4 {
        0 => rng.next() % 8,
        1 => ((rng.next() % 4) << 32) | (rng.next() % 4),
        2 => u64::MAX - rng.next() % 4,
        _ => rng.next(),
    }
}

#[test]
fn kernel_agrees_with_the_evaluator_on_random_rule_sets() {
    if util::in_child("kernel_agrees_with_the_evaluator_on_random_rule_sets") {
        return;
    }
    let arch = Arch::native();
    let mut rng = Rng(0x00c0_ffee_5ecc);
    let mut cases = 0;
    for _ in 0..12 {
        // A rule set over the harmless calls.
        let n = 1 + rng.next() % 12;
        let mut specs = Vec::new();
        for _ in 0..n {
            let name = HARMLESS[(rng.next() % 8) as usize];
            let conds: Vec<Cond> = (0..rng.next() % 3)
                .map(|_| {
                    let cmp = match rng.next() % 7 {
                        0 => Cmp::Eq,
                        1 => Cmp::Ne,
                        2 => Cmp::Lt,
                        3 => Cmp::Le,
                        4 => Cmp::Gt,
                        5 => Cmp::Ge,
                        _ => Cmp::MaskedEq(random_value(&mut rng)),
                    };
                    Cond::new((rng.next() % 6) as u8, cmp, random_value(&mut rng))
                })
                .collect();
            specs.push((nr(name), conds, random_action(&mut rng)));
        }
        let default = random_action(&mut rng);
        let mut rules: Vec<_> = specs
            .iter()
            .map(|(nr, c, a)| SyscallRule::new(*nr, *a).when(c))
            .collect();
        // What the child needs after the call: report it and exit.
        for name in ["write", "exit_group", "exit"] {
            rules.push(SyscallRule::new(nr(name), Action::Allow));
        }
        let builder = Builder::new(arch, default);
        let mut st = [Instruction::default(); 1024];
        let filter = builder.build(&rules, &mut st).unwrap();
        // A sample of calls, each in a fresh process with the filter.
        for _ in 0..16 {
            let name = HARMLESS[(rng.next() % 8) as usize];
            let mut args = [0_u64; 6];
            for a in &mut args {
                *a = random_value(&mut rng);
            }
            if let Some(c) = specs
                .iter()
                .flat_map(|s| &s.1)
                .nth((rng.next() % 8) as usize)
            {
                args[usize::from(c.arg())] = c.value();
            }
            let data = SeccompData::new(arch, nr(name), args);
            let verdict = filter.evaluate(&data).unwrap();
            assert_eq!(verdict.action(), builder.decide(&rules, &data));
            let (r, w) = rustix::pipe::pipe().unwrap();
            let program = filter.instructions();
            let out = fork_run(|| {
                seccomp::set_no_new_privs().unwrap();
                // SAFETY: the builder refuses Errno(0); the calls are harmless.
                unsafe { seccomp::install_raw(program, FilterFlags::empty()) }.unwrap();
                let ret = sys(nr(name), args);
                let bytes = ret.to_ne_bytes();
                sys(
                    nr("write"),
                    [w.as_raw_fd() as u64, bytes.as_ptr() as u64, 8, 0, 0, 0],
                );
                0
            });
            drop(w);
            let mut b = [0_u8; 8];
            let got = rustix::io::read(&r, &mut b).unwrap();
            let ret = i64::from_ne_bytes(b);
            match verdict.action() {
                Action::KillProcess | Action::KillThread | Action::Trap(_) => {
                    assert_eq!(out, Outcome::Signal(libc::SIGSYS), "{data:?}");
                    assert_eq!(got, 0);
                }
                Action::Errno(e) => assert_eq!(ret, -i64::from(e), "{data:?}"),
                Action::UserNotif | Action::Trace(_) => assert_eq!(ret, -38, "{data:?}"),
                Action::Log | Action::Allow => assert!(ret >= 0, "{data:?}: {ret}"),
            }
            cases += 1;
        }
    }
    assert_eq!(cases, 12 * 16);
}

#[global_allocator]
static ALLOC: util::CountingAlloc = util::CountingAlloc;

#[test]
fn build_evaluate_receive_and_answer_allocate_nothing_and_leak_no_fd() {
    if util::in_child("build_evaluate_receive_and_answer_allocate_nothing_and_leak_no_fd") {
        return;
    }
    let getppid = nr("getppid");
    let ((), allocs) = util::count_allocs(|| {
        let conds = [Cond::new(0, Cmp::Ge, 1 << 40)];
        let rules = [
            SyscallRule::new(getppid, Action::Errno(3)).when(&conds),
            SyscallRule::new(getppid, Action::UserNotif),
        ];
        let mut st = [Instruction::default(); 64];
        let f = Builder::new(Arch::native(), Action::Allow)
            .build(&rules, &mut st)
            .unwrap();
        let v = f
            .evaluate(&SeccompData::new(
                Arch::native(),
                getppid,
                [1 << 41, 0, 0, 0, 0, 0],
            ))
            .unwrap();
        assert_eq!(v.action(), Action::Errno(3));
    });
    assert_eq!(allocs, 0, "building and evaluating allocate nothing");

    let fds = util::count_fds();
    let t = target(&["getppid"], || sys(nr("getppid"), [0; 6]));
    assert_eq!(util::count_fds(), fds + 1, "the listener");
    t.go.send(()).unwrap();
    wait_readable(&t.listener);
    let ((), allocs) = util::count_allocs(|| {
        let mut buf = [0_u8; NOTIF_LEN];
        let n = t.listener.recv(&mut buf).unwrap();
        assert!(t.listener.id_valid(n.id()).unwrap());
        let mut path = [0_u8; 8];
        t.listener
            .read_memory(&n, n.data().instruction_pointer, &mut path)
            .unwrap();
        t.listener.respond(n.id(), Response::Value(5)).unwrap();
    });
    assert_eq!(allocs, 0, "receiving and answering allocate nothing");
    assert_eq!(t.handle.join().unwrap(), 5);
    drop(t.listener);
    assert_eq!(util::count_fds(), fds, "no descriptor left behind");
}

#[test]
fn listener_flags() {
    if util::in_child("listener_flags") {
        return;
    }
    let t = target(&["getppid"], || sys(nr("getppid"), [0; 6]));
    match t.listener.set_sync_wake_up() {
        Ok(()) => {}
        Err(e) if e.errno() == Some(Errno::INVAL) => {
            eprintln!("SKIPPED listener_flags: before Linux 6.6");
        }
        Err(e) => panic!("{e}"),
    }
    assert_eq!(
        seccomp::notif_set_flags(&t.listener, 1 << 5),
        Err(Errno::INVAL)
    );
    // A descriptor that is not a listener.
    let null = std::fs::File::open("/dev/null").unwrap();
    let mut buf = [0_u8; NOTIF_LEN];
    assert!(seccomp::notif_recv(&null, &mut buf).is_err());
    assert!(seccomp::notif_id_valid(&null, 1).is_err());
    t.go.send(()).unwrap();
    let n = t.listener.recv(&mut buf).unwrap();
    t.listener.respond(n.id(), Response::Value(1)).unwrap();
    assert_eq!(t.handle.join().unwrap(), 1);
}
