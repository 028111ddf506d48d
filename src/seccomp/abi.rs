//! The seccomp uapi items linux-raw-sys lacks (the notification ioctl
//! numbers), and `const` checks that the structs it has (behind its `ptrace`
//! feature) have the layout this module reads and writes.

use core::mem::{offset_of, size_of};

pub(crate) use linux_raw_sys::ptrace::{
    seccomp_data, seccomp_notif, seccomp_notif_addfd, seccomp_notif_resp, seccomp_notif_sizes,
    sock_filter, sock_fprog,
};

/// `SECCOMP_IOC_MAGIC`: the ioctl group of seccomp listeners.
const MAGIC: u8 = b'!';

/// `SECCOMP_IOCTL_NOTIF_RECV`: `_IOWR('!', 0, struct seccomp_notif)`.
pub(crate) const IOCTL_NOTIF_RECV: u32 =
    rustix::ioctl::opcode::read_write::<seccomp_notif>(MAGIC, 0) as u32;
/// `SECCOMP_IOCTL_NOTIF_SEND`: `_IOWR('!', 1, struct seccomp_notif_resp)`.
pub(crate) const IOCTL_NOTIF_SEND: u32 =
    rustix::ioctl::opcode::read_write::<seccomp_notif_resp>(MAGIC, 1) as u32;
/// `SECCOMP_IOCTL_NOTIF_ID_VALID`: `_IOW('!', 2, __u64)`.
pub(crate) const IOCTL_NOTIF_ID_VALID: u32 = rustix::ioctl::opcode::write::<u64>(MAGIC, 2) as u32;
/// `SECCOMP_IOCTL_NOTIF_ADDFD`: `_IOW('!', 3, struct seccomp_notif_addfd)`.
pub(crate) const IOCTL_NOTIF_ADDFD: u32 =
    rustix::ioctl::opcode::write::<seccomp_notif_addfd>(MAGIC, 3) as u32;
/// `SECCOMP_IOCTL_NOTIF_SET_FLAGS`: `_IOW('!', 4, __u64)`.
pub(crate) const IOCTL_NOTIF_SET_FLAGS: u32 = rustix::ioctl::opcode::write::<u64>(MAGIC, 4) as u32;

// The numbers the kernel headers produce on x86_64 and aarch64 (both use the
// generic `_IOC` encoding: dir << 30 | size << 16 | type << 8 | nr).
const _: () = assert!(IOCTL_NOTIF_RECV == 0xc050_2100);
const _: () = assert!(IOCTL_NOTIF_SEND == 0xc018_2101);
const _: () = assert!(IOCTL_NOTIF_ID_VALID == 0x4008_2102);
const _: () = assert!(IOCTL_NOTIF_ADDFD == 0x4018_2103);
const _: () = assert!(IOCTL_NOTIF_SET_FLAGS == 0x4008_2104);

/// `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP`, the one flag of `SET_FLAGS`.
pub(crate) const USER_NOTIF_FD_SYNC_WAKE_UP: u64 =
    linux_raw_sys::ptrace::SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP as u64;

// struct sock_filter { __u16 code; __u8 jt; __u8 jf; __u32 k; }
const _: () = assert!(size_of::<sock_filter>() == 8);
const _: () = assert!(offset_of!(sock_filter, code) == 0);
const _: () = assert!(offset_of!(sock_filter, jt) == 2);
const _: () = assert!(offset_of!(sock_filter, jf) == 3);
const _: () = assert!(offset_of!(sock_filter, k) == 4);
const _: () = assert!(size_of::<sock_fprog>() == 16);

// struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; }
pub(crate) const DATA_LEN: usize = 64;
pub(crate) const DATA_NR: usize = offset_of!(seccomp_data, nr);
pub(crate) const DATA_ARCH: usize = offset_of!(seccomp_data, arch);
pub(crate) const DATA_IP: usize = offset_of!(seccomp_data, instruction_pointer);
pub(crate) const DATA_ARGS: usize = offset_of!(seccomp_data, args);
const _: () = assert!(size_of::<seccomp_data>() == DATA_LEN);
const _: () = assert!(DATA_NR == 0 && DATA_ARCH == 4 && DATA_IP == 8 && DATA_ARGS == 16);

// struct seccomp_notif { __u64 id; __u32 pid; __u32 flags; struct seccomp_data data; }
pub(crate) const NOTIF_LEN: usize = 80;
pub(crate) const NOTIF_ID: usize = offset_of!(seccomp_notif, id);
pub(crate) const NOTIF_PID: usize = offset_of!(seccomp_notif, pid);
pub(crate) const NOTIF_FLAGS: usize = offset_of!(seccomp_notif, flags);
pub(crate) const NOTIF_DATA: usize = offset_of!(seccomp_notif, data);
const _: () = assert!(size_of::<seccomp_notif>() == NOTIF_LEN);
const _: () = assert!(NOTIF_ID == 0 && NOTIF_PID == 8 && NOTIF_FLAGS == 12 && NOTIF_DATA == 16);

// struct seccomp_notif_resp { __u64 id; __s64 val; __s32 error; __u32 flags; }
const _: () = assert!(size_of::<seccomp_notif_resp>() == 24);
const _: () = assert!(offset_of!(seccomp_notif_resp, id) == 0);
const _: () = assert!(offset_of!(seccomp_notif_resp, val) == 8);
const _: () = assert!(offset_of!(seccomp_notif_resp, error) == 16);
const _: () = assert!(offset_of!(seccomp_notif_resp, flags) == 20);

// struct seccomp_notif_addfd { __u64 id; __u32 flags, srcfd, newfd, newfd_flags; }
const _: () = assert!(size_of::<seccomp_notif_addfd>() == 24);
const _: () = assert!(offset_of!(seccomp_notif_addfd, id) == 0);
const _: () = assert!(offset_of!(seccomp_notif_addfd, flags) == 8);
const _: () = assert!(offset_of!(seccomp_notif_addfd, srcfd) == 12);
const _: () = assert!(offset_of!(seccomp_notif_addfd, newfd) == 16);
const _: () = assert!(offset_of!(seccomp_notif_addfd, newfd_flags) == 20);

// struct seccomp_notif_sizes { __u16 seccomp_notif, seccomp_notif_resp, seccomp_data; }
const _: () = assert!(size_of::<seccomp_notif_sizes>() == 6);
