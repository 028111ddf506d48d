//! `syscall` on `x86_64`: number in `rax`, arguments in `rdi rsi rdx r10 r8 r9`,
//! result in `rax`; the instruction clobbers `rcx` and `r11`.

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
        asm!("syscall", inlateout("rax") nr => ret, lateout("rcx") _, lateout("r11") _,
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
        asm!("syscall", inlateout("rax") nr => ret, in("rdi") a0,
             lateout("rcx") _, lateout("r11") _, options(nostack, preserves_flags));
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
        asm!("syscall", inlateout("rax") nr => ret, in("rdi") a0, in("rsi") a1,
             lateout("rcx") _, lateout("r11") _, options(nostack, preserves_flags));
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
        asm!("syscall", inlateout("rax") nr => ret, in("rdi") a0, in("rsi") a1, in("rdx") a2,
             lateout("rcx") _, lateout("r11") _, options(nostack, preserves_flags));
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
        asm!("syscall", inlateout("rax") nr => ret, in("rdi") a0, in("rsi") a1, in("rdx") a2,
             in("r10") a3, lateout("rcx") _, lateout("r11") _, options(nostack, preserves_flags));
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
        asm!("syscall", inlateout("rax") nr => ret, in("rdi") a0, in("rsi") a1, in("rdx") a2,
             in("r10") a3, in("r8") a4, lateout("rcx") _, lateout("r11") _,
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
        asm!("syscall", inlateout("rax") nr => ret, in("rdi") a0, in("rsi") a1, in("rdx") a2,
             in("r10") a3, in("r8") a4, in("r9") a5, lateout("rcx") _, lateout("r11") _,
             options(nostack, preserves_flags));
    }
    ret
}
