//! Process ids and namespaces against the kernel.

mod util;

use kernfd::Errno;
use kernfd::process::{self, NamespaceFlags};
use rustix::fd::AsFd;
use rustix::thread::UnshareFlags;

/// The parent pid `/proc/self/stat` reports (field 4).
fn proc_ppid() -> i32 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    after.split(' ').nth(1).unwrap().parse().unwrap()
}

#[test]
fn ids_match_the_kernel() {
    assert_eq!(
        process::getpid().as_raw_nonzero().get() as u32,
        std::process::id()
    );
    assert_eq!(
        process::getppid().unwrap().as_raw_nonzero().get(),
        proc_ppid()
    );
    let main_tid = process::gettid();
    let tid = std::fs::read_link("/proc/thread-self")
        .unwrap()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .parse::<i32>()
        .unwrap();
    assert_eq!(main_tid.as_raw_nonzero().get(), tid);
    let other = std::thread::spawn(process::gettid).join().unwrap();
    assert_ne!(other, main_tid);
}

/// A raw `clone(SIGCHLD)` (no libc fork hooks run): the child asks the
/// kernel for its pid and parent pid and writes them to a pipe.
fn raw_clone_report() -> (i32, [i32; 2]) {
    let (r, w) = rustix::pipe::pipe().unwrap();
    // SAFETY: clone without CLONE_VM is fork-like: the child gets a copy of
    // the address space and runs on, from this point, with only async-
    // signal-safe calls (getpid, write, _exit).
    let ret = unsafe { libc::syscall(libc::SYS_clone, libc::SIGCHLD, 0, 0, 0, 0) };
    assert!(ret >= 0, "clone failed");
    if ret == 0 {
        let pid = process::getpid().as_raw_nonzero().get();
        let parent = process::getppid().map_or(0, |p| p.as_raw_nonzero().get());
        let mut msg = [0_u8; 8];
        msg[..4].copy_from_slice(&pid.to_ne_bytes());
        msg[4..].copy_from_slice(&parent.to_ne_bytes());
        let ok = rustix::io::write(&w, &msg) == Ok(8);
        // SAFETY: ends the cloned child without running the parent's
        // destructors or atexit handlers.
        unsafe { libc::_exit(i32::from(!ok)) };
    }
    drop(w);
    let mut msg = [0_u8; 8];
    assert_eq!(rustix::io::read(&r, &mut msg), Ok(8));
    let mut status = 0;
    // SAFETY: waits for the child just created; `status` is a valid int.
    let waited = unsafe { libc::waitpid(ret as i32, &raw mut status, 0) };
    assert_eq!(waited, ret as i32);
    assert_eq!(status, 0);
    (
        ret as i32,
        [
            i32::from_ne_bytes(msg[..4].try_into().unwrap()),
            i32::from_ne_bytes(msg[4..].try_into().unwrap()),
        ],
    )
}

#[test]
fn getpid_after_raw_clone_is_the_kernels() {
    let me = process::getpid().as_raw_nonzero().get();
    let (child, [pid, parent]) = raw_clone_report();
    assert_eq!(pid, child, "the child's getpid is its new pid");
    assert_ne!(pid, me);
    assert_eq!(parent, me);
    // And the parent's answer did not change either.
    assert_eq!(process::getpid().as_raw_nonzero().get(), me);
}

#[test]
fn getpid_in_a_new_pid_namespace_is_1() {
    // As root, no namespace; otherwise a user namespace for the capability.
    let Some(ns) = util::sandbox_ns(UnshareFlags::empty()) else {
        skip!("this user cannot create a user namespace");
    };
    if util::in_child_ns("getpid_in_a_new_pid_namespace_is_1", ns) {
        return;
    }
    // libtest runs the test on a thread of its own: unshare(CLONE_NEWPID)
    // here puts this thread's next child in a new PID namespace (unshared
    // before exec, it would have stopped libtest from starting the thread).
    process::unshare(NamespaceFlags::NEWPID).unwrap();
    // That child is PID 1 there and its parent is outside (getppid 0).
    let (child, [pid, parent]) = raw_clone_report();
    assert!(child > 1);
    assert_eq!(pid, 1);
    assert_eq!(parent, 0);
}

#[test]
fn unshare_uts_then_setns_back() {
    let Some(ns) = util::sandbox_ns(UnshareFlags::NEWUTS) else {
        skip!("this user cannot create a user namespace");
    };
    if util::in_child_ns("unshare_uts_then_setns_back", ns) {
        return;
    }
    // The test runs on a thread of its own: namespaces are per thread.
    let first = std::fs::File::open("/proc/thread-self/ns/uts").unwrap();
    kernfd::hostname::sethostname(b"first").unwrap();
    process::unshare(NamespaceFlags::NEWUTS).unwrap();
    kernfd::hostname::sethostname(b"second").unwrap();
    assert_ne!(
        std::fs::read_link("/proc/thread-self/ns/uts").unwrap(),
        std::fs::read_link(
            "/proc/self/fd/".to_owned()
                + &{
                    use std::os::fd::AsRawFd;
                    first.as_raw_fd().to_string()
                }
        )
        .unwrap()
    );
    // The wrong type: EINVAL, and nothing moved.
    assert_eq!(
        process::setns(&first, NamespaceFlags::NEWNET),
        Err(Errno::INVAL)
    );
    assert_eq!(kernfd::hostname::hostname().as_bytes(), b"second");
    process::setns(&first, NamespaceFlags::NEWUTS).unwrap();
    assert_eq!(kernfd::hostname::hostname().as_bytes(), b"first");
    // Any type (empty) is accepted too.
    process::setns(&first, NamespaceFlags::empty()).unwrap();
}

#[test]
fn unshare_refuses_clone_files_and_unknown_bits() {
    // Neither reaches a state change: refused before or by the kernel.
    assert_eq!(
        process::unshare(NamespaceFlags::from_bits_retain(libc::CLONE_FILES as u32)),
        Err(Errno::INVAL)
    );
    assert_eq!(
        process::unshare(NamespaceFlags::from_bits_retain(0x1)),
        Err(Errno::INVAL)
    );
}

#[test]
fn unshare_newuser_in_a_threaded_process_is_einval() {
    // A second thread is alive during the call, so the kernel must refuse.
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let t = std::thread::spawn(move || rx.recv());
    assert_eq!(process::unshare(NamespaceFlags::NEWUSER), Err(Errno::INVAL));
    drop(tx);
    let _ = t.join();
}

#[test]
fn setns_on_a_non_namespace_fd_or_bad_fd() {
    let file = std::fs::File::open("/proc/self/stat").unwrap();
    assert_eq!(
        process::setns(&file, NamespaceFlags::empty()),
        Err(Errno::INVAL)
    );
    // A descriptor number far above any open one.
    // SAFETY: the number is not open, so nothing is borrowed from an
    // owner; the kernel answers EBADF without touching anything.
    let bad = unsafe { rustix::fd::BorrowedFd::borrow_raw(1 << 20) };
    assert_eq!(
        process::setns(bad.as_fd(), NamespaceFlags::NEWUTS),
        Err(Errno::BADF)
    );
}

#[test]
fn eperm_without_cap_sys_admin() {
    if util::in_child("eperm_without_cap_sys_admin") {
        return;
    }
    let host_uts = std::fs::File::open("/proc/thread-self/ns/uts").unwrap();
    util::drop_to_nobody();
    assert_eq!(process::unshare(NamespaceFlags::NEWNS), Err(Errno::PERM));
    assert_eq!(process::unshare(NamespaceFlags::NEWUTS), Err(Errno::PERM));
    assert_eq!(
        process::setns(&host_uts, NamespaceFlags::NEWUTS),
        Err(Errno::PERM)
    );
}
