//! `svc 0` on aarch64: number in `x8`, arguments in `x0`..`x5`,
//! result in `x0`; nothing else is clobbered.

use core::arch::asm;

/// Issues syscall `nr` with no arguments.
///
/// # Safety
/// The caller upholds the contract of syscall `nr` (see `syscall(2)`).
#[inline]
pub(crate) unsafe fn syscall0(nr: usize) -> usize {
    let ret;
    // SAFETY: the caller upholds the syscall's contract; the asm touches only
    // the registers declared here and no stack.
    unsafe {
        asm!("svc 0", in("x8") nr, lateout("x0") ret,
             options(nostack, preserves_flags));
    }
    ret
}

/// Issues syscall `nr` with one argument.
///
/// # Safety
/// As [`syscall0`].
#[inline]
pub(crate) unsafe fn syscall1(nr: usize, a0: usize) -> usize {
    let ret;
    // SAFETY: as in `syscall0`.
    unsafe {
        asm!("svc 0", in("x8") nr, inlateout("x0") a0 => ret,
             options(nostack, preserves_flags));
    }
    ret
}

/// Issues syscall `nr` with two arguments.
///
/// # Safety
/// As [`syscall0`].
#[inline]
pub(crate) unsafe fn syscall2(nr: usize, a0: usize, a1: usize) -> usize {
    let ret;
    // SAFETY: as in `syscall0`.
    unsafe {
        asm!("svc 0", in("x8") nr, inlateout("x0") a0 => ret, in("x1") a1,
             options(nostack, preserves_flags));
    }
    ret
}

/// Issues syscall `nr` with three arguments.
///
/// # Safety
/// As [`syscall0`].
#[inline]
pub(crate) unsafe fn syscall3(nr: usize, a0: usize, a1: usize, a2: usize) -> usize {
    let ret;
    // SAFETY: as in `syscall0`.
    unsafe {
        asm!("svc 0", in("x8") nr, inlateout("x0") a0 => ret, in("x1") a1, in("x2") a2,
             options(nostack, preserves_flags));
    }
    ret
}

/// Issues syscall `nr` with four arguments.
///
/// # Safety
/// As [`syscall0`].
#[inline]
pub(crate) unsafe fn syscall4(nr: usize, a0: usize, a1: usize, a2: usize, a3: usize) -> usize {
    let ret;
    // SAFETY: as in `syscall0`.
    unsafe {
        asm!("svc 0", in("x8") nr, inlateout("x0") a0 => ret, in("x1") a1, in("x2") a2,
             in("x3") a3, options(nostack, preserves_flags));
    }
    ret
}

/// Issues syscall `nr` with five arguments.
///
/// # Safety
/// As [`syscall0`].
#[inline]
pub(crate) unsafe fn syscall5(
    nr: usize,
    a0: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
) -> usize {
    let ret;
    // SAFETY: as in `syscall0`.
    unsafe {
        asm!("svc 0", in("x8") nr, inlateout("x0") a0 => ret, in("x1") a1, in("x2") a2,
             in("x3") a3, in("x4") a4,
             options(nostack, preserves_flags));
    }
    ret
}

/// Issues syscall `nr` with six arguments.
///
/// # Safety
/// As [`syscall0`].
#[inline]
pub(crate) unsafe fn syscall6(
    nr: usize,
    a0: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
) -> usize {
    let ret;
    // SAFETY: as in `syscall0`.
    unsafe {
        asm!("svc 0", in("x8") nr, inlateout("x0") a0 => ret, in("x1") a1, in("x2") a2,
             in("x3") a3, in("x4") a4, in("x5") a5,
             options(nostack, preserves_flags));
    }
    ret
}
