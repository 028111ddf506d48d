//! The crate's own raw system calls, for what rustix does not wrap.
//!
//! One file per architecture issues the `syscall`/`svc` instruction with
//! inline assembly; this file is the only place where a raw kernel return
//! value becomes a [`Result`]. Nothing but raw syscalls lives here.
//!
//! Every function is `unsafe`: the kernel reads and writes memory through the
//! pointer arguments, so the caller must uphold the man page's contract for
//! the syscall it issues.

#[cfg(target_arch = "aarch64")]
#[path = "aarch64.rs"]
mod arch;
#[cfg(target_arch = "x86_64")]
#[path = "x86_64.rs"]
mod arch;

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
compile_error!("kernfd's raw syscalls exist for x86_64 and aarch64 Linux only");

#[allow(unused_imports)] // each subsystem uses the arities it needs
pub(crate) use arch::{syscall0, syscall1, syscall2, syscall3, syscall4, syscall5, syscall6};

use rustix::io::Errno;

/// Syscall numbers for this architecture, from `linux-raw-sys`.
#[allow(unused_imports)]
pub(crate) mod nr {
    pub(crate) use linux_raw_sys::general::*;
}

/// Turns a raw kernel return value into a `Result`.
///
/// The kernel reports failure as a value in `-4095..=-1`; anything else is
/// success (a count, an fd, an address).
#[inline]
pub(crate) fn check(ret: usize) -> Result<usize, Errno> {
    if ret > (-4096_isize) as usize {
        Err(Errno::from_raw_os_error(ret.wrapping_neg() as i32))
    } else {
        Ok(ret)
    }
}

/// Like [`check`], for calls that return a file descriptor.
///
/// # Safety
/// `ret` must come straight from a syscall whose success value is a new file
/// descriptor that nothing else owns.
#[inline]
pub(crate) unsafe fn check_fd(ret: usize) -> Result<rustix::fd::OwnedFd, Errno> {
    use rustix::fd::FromRawFd;
    let fd = check(ret)?;
    // SAFETY: the kernel returned a fresh descriptor (caller's contract), and
    // descriptors are below `i32::MAX`.
    Ok(unsafe { rustix::fd::OwnedFd::from_raw_fd(fd as i32) })
}

/// `getpid()`, issued raw. Used to test this module against rustix.
#[cfg(test)]
pub(crate) fn getpid() -> Result<usize, Errno> {
    // SAFETY: getpid takes no arguments and touches no memory.
    check(unsafe { syscall0(nr::__NR_getpid as usize) })
}

/// `gettid()`, issued raw. Used to test this module against rustix.
#[cfg(test)]
pub(crate) fn gettid() -> Result<usize, Errno> {
    // SAFETY: gettid takes no arguments and touches no memory.
    check(unsafe { syscall0(nr::__NR_gettid as usize) })
}

/// Test helpers for code that runs under qemu-user too.
#[cfg(test)]
pub(crate) mod tests_support {
    extern crate std;

    /// Whether this aarch64 test binary runs under qemu-user on another
    /// architecture (qemu passes the host's `/proc/cpuinfo` through), where
    /// a few calls are emulated by qemu rather than the kernel.
    pub(crate) fn under_qemu_user() -> bool {
        cfg!(target_arch = "aarch64")
            && std::fs::read_to_string("/proc/cpuinfo")
                .is_ok_and(|s| s.contains("vendor_id") || s.contains("GenuineIntel"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(miri, ignore = "issues real syscalls (inline asm)")]
    fn getpid_and_gettid_agree_with_rustix() {
        let pid = rustix::process::getpid().as_raw_nonzero().get();
        assert_eq!(getpid().unwrap(), pid as usize);
        let tid = rustix::thread::gettid().as_raw_nonzero().get();
        assert_eq!(gettid().unwrap(), tid as usize);
        let other = std::thread::spawn(|| {
            (
                gettid().unwrap(),
                rustix::thread::gettid().as_raw_nonzero().get() as usize,
            )
        })
        .join()
        .unwrap();
        assert_eq!(other.0, other.1);
        assert_ne!(other.0, tid as usize, "another thread has another tid");
    }

    #[test]
    #[cfg_attr(miri, ignore = "issues real syscalls (inline asm)")]
    fn errors_map_to_errno() {
        // close(-1) fails with EBADF.
        // SAFETY: closing an invalid descriptor touches no memory.
        let r = check(unsafe { syscall1(nr::__NR_close as usize, -1_isize as usize) });
        assert_eq!(r, Err(Errno::BADF));
        // An unknown syscall number fails with ENOSYS.
        // SAFETY: the kernel rejects the number before doing anything.
        let r = check(unsafe { syscall0(100_000) });
        assert_eq!(r, Err(Errno::NOSYS));
    }

    #[test]
    #[cfg_attr(miri, ignore = "issues real syscalls (inline asm)")]
    fn two_to_six_arguments_reach_the_kernel() {
        // pipe2 into a buffer, then write 5 bytes and read them back through
        // the three-argument path; ppoll exercises four, splice six.
        let mut fds = [0_i32; 2];
        // SAFETY: `fds` is valid for two i32 writes.
        check(unsafe { syscall2(nr::__NR_pipe2 as usize, fds.as_mut_ptr() as usize, 0x80000) })
            .unwrap();
        let (r, w) = (fds[0] as usize, fds[1] as usize);
        // SAFETY: the buffer outlives the call.
        let n =
            check(unsafe { syscall3(nr::__NR_write as usize, w, b"hello".as_ptr() as usize, 5) });
        assert_eq!(n, Ok(5));
        let mut fds2 = [0_i32; 2];
        // SAFETY: as above.
        check(unsafe { syscall2(nr::__NR_pipe2 as usize, fds2.as_mut_ptr() as usize, 0x80000) })
            .unwrap();
        // splice(r, NULL, w2, NULL, 3, 0): six arguments.
        // SAFETY: null offsets are allowed for pipes.
        let n =
            check(unsafe { syscall6(nr::__NR_splice as usize, r, 0, fds2[1] as usize, 0, 3, 0) });
        assert_eq!(n, Ok(3));
        // tee(r2, w3, 2, 0): four arguments; the bytes stay in the source.
        let mut fds3 = [0_i32; 2];
        // SAFETY: as above.
        check(unsafe { syscall2(nr::__NR_pipe2 as usize, fds3.as_mut_ptr() as usize, 0x80000) })
            .unwrap();
        // SAFETY: pipes this test owns.
        let n = check(unsafe {
            syscall4(
                nr::__NR_tee as usize,
                fds2[0] as usize,
                fds3[1] as usize,
                2,
                0,
            )
        });
        assert_eq!(n, Ok(2));
        // ppoll(&pfd, 1, &zero, NULL, 8): five arguments; fds3 is readable.
        let mut pfd = [fds3[0], 1_i32 /* POLLIN */];
        let zero = [0_i64; 2];
        // SAFETY: `pfd` is one `struct pollfd` (int fd, short events, short
        // revents: two i32s), `zero` one timespec; both outlive the call.
        let n = check(unsafe {
            syscall5(
                nr::__NR_ppoll as usize,
                pfd.as_mut_ptr() as usize,
                1,
                zero.as_ptr() as usize,
                0,
                8,
            )
        });
        assert_eq!(n, Ok(1));
        assert_eq!(pfd[1] >> 16, 1, "revents = POLLIN");
        let mut out = [0_u8; 8];
        // SAFETY: `out` is valid for 8 bytes.
        let n = check(unsafe {
            syscall3(
                nr::__NR_read as usize,
                fds2[0] as usize,
                out.as_mut_ptr() as usize,
                8,
            )
        });
        assert_eq!(n, Ok(3));
        assert_eq!(&out[..3], b"hel");
        for fd in [fds[0], fds[1], fds2[0], fds2[1], fds3[0], fds3[1]] {
            // SAFETY: closing descriptors this test owns.
            check(unsafe { syscall1(nr::__NR_close as usize, fd as usize) }).unwrap();
        }
    }
}
