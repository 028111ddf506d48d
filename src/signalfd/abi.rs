//! The signalfd uapi (`<linux/signalfd.h>`) that `linux-raw-sys` lacks:
//! `struct signalfd_siginfo`, with `const` size and offset assertions
//! against the kernel's layout.
//!
//! The parser never forms a reference to it: it reads fields out of the
//! record's bytes with `crate::record::field!`, which takes each offset
//! from `offset_of!` and each type from this struct.

use core::mem::{offset_of, size_of};

/// `struct signalfd_siginfo`: 128 bytes, whatever the signal.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
#[allow(clippy::struct_field_names)] // the kernel's names
pub(crate) struct signalfd_siginfo {
    pub(crate) ssi_signo: u32,
    pub(crate) ssi_errno: i32,
    pub(crate) ssi_code: i32,
    pub(crate) ssi_pid: u32,
    pub(crate) ssi_uid: u32,
    pub(crate) ssi_fd: i32,
    pub(crate) ssi_tid: u32,
    pub(crate) ssi_band: u32,
    pub(crate) ssi_overrun: u32,
    pub(crate) ssi_trapno: u32,
    pub(crate) ssi_status: i32,
    pub(crate) ssi_int: i32,
    pub(crate) ssi_ptr: u64,
    pub(crate) ssi_utime: u64,
    pub(crate) ssi_stime: u64,
    pub(crate) ssi_addr: u64,
    pub(crate) ssi_addr_lsb: u16,
    pub(crate) __pad2: u16,
    pub(crate) ssi_syscall: i32,
    pub(crate) ssi_call_addr: u64,
    pub(crate) ssi_arch: u32,
    /// Room for the fields of future kernels (zero today).
    pub(crate) __pad: [u8; 28],
}

// Layout assertions: the offsets of `<linux/signalfd.h>`.
const _: () = {
    assert!(size_of::<signalfd_siginfo>() == 128);
    assert!(offset_of!(signalfd_siginfo, ssi_signo) == 0);
    assert!(offset_of!(signalfd_siginfo, ssi_errno) == 4);
    assert!(offset_of!(signalfd_siginfo, ssi_code) == 8);
    assert!(offset_of!(signalfd_siginfo, ssi_pid) == 12);
    assert!(offset_of!(signalfd_siginfo, ssi_uid) == 16);
    assert!(offset_of!(signalfd_siginfo, ssi_fd) == 20);
    assert!(offset_of!(signalfd_siginfo, ssi_tid) == 24);
    assert!(offset_of!(signalfd_siginfo, ssi_band) == 28);
    assert!(offset_of!(signalfd_siginfo, ssi_overrun) == 32);
    assert!(offset_of!(signalfd_siginfo, ssi_trapno) == 36);
    assert!(offset_of!(signalfd_siginfo, ssi_status) == 40);
    assert!(offset_of!(signalfd_siginfo, ssi_int) == 44);
    assert!(offset_of!(signalfd_siginfo, ssi_ptr) == 48);
    assert!(offset_of!(signalfd_siginfo, ssi_utime) == 56);
    assert!(offset_of!(signalfd_siginfo, ssi_stime) == 64);
    assert!(offset_of!(signalfd_siginfo, ssi_addr) == 72);
    assert!(offset_of!(signalfd_siginfo, ssi_addr_lsb) == 80);
    assert!(offset_of!(signalfd_siginfo, __pad2) == 82);
    assert!(offset_of!(signalfd_siginfo, ssi_syscall) == 84);
    assert!(offset_of!(signalfd_siginfo, ssi_call_addr) == 88);
    assert!(offset_of!(signalfd_siginfo, ssi_arch) == 96);
    assert!(offset_of!(signalfd_siginfo, __pad) == 100);
};
