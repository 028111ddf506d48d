//! The fanotify uapi (`<linux/fanotify.h>`, Linux 6.18) that `linux-raw-sys`
//! lacks: constants and `#[repr(C)]` structs, each struct with `const`
//! size and offset assertions against the kernel's layout.
//!
//! The parser never forms references to these structs: it reads their
//! fields out of byte slices with `crate::record::field!`, which takes each
//! offset from `offset_of!` and each type from the struct. They are also
//! the wire format of responses.

#![allow(dead_code)] // the full uapi is written down; not every name is used

use core::mem::{offset_of, size_of};

// Event bits.
pub(crate) const FAN_ACCESS: u64 = 0x0000_0001;
pub(crate) const FAN_MODIFY: u64 = 0x0000_0002;
pub(crate) const FAN_ATTRIB: u64 = 0x0000_0004;
pub(crate) const FAN_CLOSE_WRITE: u64 = 0x0000_0008;
pub(crate) const FAN_CLOSE_NOWRITE: u64 = 0x0000_0010;
pub(crate) const FAN_OPEN: u64 = 0x0000_0020;
pub(crate) const FAN_MOVED_FROM: u64 = 0x0000_0040;
pub(crate) const FAN_MOVED_TO: u64 = 0x0000_0080;
pub(crate) const FAN_CREATE: u64 = 0x0000_0100;
pub(crate) const FAN_DELETE: u64 = 0x0000_0200;
pub(crate) const FAN_DELETE_SELF: u64 = 0x0000_0400;
pub(crate) const FAN_MOVE_SELF: u64 = 0x0000_0800;
pub(crate) const FAN_OPEN_EXEC: u64 = 0x0000_1000;
pub(crate) const FAN_Q_OVERFLOW: u64 = 0x0000_4000;
pub(crate) const FAN_FS_ERROR: u64 = 0x0000_8000;
pub(crate) const FAN_OPEN_PERM: u64 = 0x0001_0000;
pub(crate) const FAN_ACCESS_PERM: u64 = 0x0002_0000;
pub(crate) const FAN_OPEN_EXEC_PERM: u64 = 0x0004_0000;
pub(crate) const FAN_PRE_ACCESS: u64 = 0x0010_0000;
pub(crate) const FAN_MNT_ATTACH: u64 = 0x0100_0000;
pub(crate) const FAN_MNT_DETACH: u64 = 0x0200_0000;
pub(crate) const FAN_EVENT_ON_CHILD: u64 = 0x0800_0000;
pub(crate) const FAN_RENAME: u64 = 0x1000_0000;
pub(crate) const FAN_ONDIR: u64 = 0x4000_0000;

// fanotify_init flags.
pub(crate) const FAN_CLOEXEC: u32 = 0x0000_0001;
pub(crate) const FAN_NONBLOCK: u32 = 0x0000_0002;
pub(crate) const FAN_CLASS_NOTIF: u32 = 0x0000_0000;
pub(crate) const FAN_CLASS_CONTENT: u32 = 0x0000_0004;
pub(crate) const FAN_CLASS_PRE_CONTENT: u32 = 0x0000_0008;
pub(crate) const FAN_UNLIMITED_QUEUE: u32 = 0x0000_0010;
pub(crate) const FAN_UNLIMITED_MARKS: u32 = 0x0000_0020;
pub(crate) const FAN_ENABLE_AUDIT: u32 = 0x0000_0040;
pub(crate) const FAN_REPORT_PIDFD: u32 = 0x0000_0080;
pub(crate) const FAN_REPORT_TID: u32 = 0x0000_0100;
pub(crate) const FAN_REPORT_FID: u32 = 0x0000_0200;
pub(crate) const FAN_REPORT_DIR_FID: u32 = 0x0000_0400;
pub(crate) const FAN_REPORT_NAME: u32 = 0x0000_0800;
pub(crate) const FAN_REPORT_TARGET_FID: u32 = 0x0000_1000;
pub(crate) const FAN_REPORT_FD_ERROR: u32 = 0x0000_2000;
pub(crate) const FAN_REPORT_MNT: u32 = 0x0000_4000;

// fanotify_mark flags.
pub(crate) const FAN_MARK_ADD: u32 = 0x0000_0001;
pub(crate) const FAN_MARK_REMOVE: u32 = 0x0000_0002;
pub(crate) const FAN_MARK_DONT_FOLLOW: u32 = 0x0000_0004;
pub(crate) const FAN_MARK_ONLYDIR: u32 = 0x0000_0008;
pub(crate) const FAN_MARK_IGNORED_MASK: u32 = 0x0000_0020;
pub(crate) const FAN_MARK_IGNORED_SURV_MODIFY: u32 = 0x0000_0040;
pub(crate) const FAN_MARK_FLUSH: u32 = 0x0000_0080;
pub(crate) const FAN_MARK_EVICTABLE: u32 = 0x0000_0200;
pub(crate) const FAN_MARK_IGNORE: u32 = 0x0000_0400;
pub(crate) const FAN_MARK_INODE: u32 = 0x0000_0000;
pub(crate) const FAN_MARK_MOUNT: u32 = 0x0000_0010;
pub(crate) const FAN_MARK_FILESYSTEM: u32 = 0x0000_0100;
pub(crate) const FAN_MARK_MNTNS: u32 = 0x0000_0110;

pub(crate) const FANOTIFY_METADATA_VERSION: u8 = 3;

// Info record types.
pub(crate) const FAN_EVENT_INFO_TYPE_FID: u8 = 1;
pub(crate) const FAN_EVENT_INFO_TYPE_DFID_NAME: u8 = 2;
pub(crate) const FAN_EVENT_INFO_TYPE_DFID: u8 = 3;
pub(crate) const FAN_EVENT_INFO_TYPE_PIDFD: u8 = 4;
pub(crate) const FAN_EVENT_INFO_TYPE_ERROR: u8 = 5;
pub(crate) const FAN_EVENT_INFO_TYPE_RANGE: u8 = 6;
pub(crate) const FAN_EVENT_INFO_TYPE_MNT: u8 = 7;
pub(crate) const FAN_EVENT_INFO_TYPE_OLD_DFID_NAME: u8 = 10;
pub(crate) const FAN_EVENT_INFO_TYPE_NEW_DFID_NAME: u8 = 12;

// Responses.
pub(crate) const FAN_ALLOW: u32 = 0x01;
pub(crate) const FAN_DENY: u32 = 0x02;
pub(crate) const FAN_AUDIT: u32 = 0x10;
pub(crate) const FAN_INFO: u32 = 0x20;
pub(crate) const FAN_ERRNO_BITS: u32 = 8;
pub(crate) const FAN_ERRNO_SHIFT: u32 = 32 - FAN_ERRNO_BITS;
pub(crate) const FAN_ERRNO_MASK: u32 = (1 << FAN_ERRNO_BITS) - 1;
pub(crate) const FAN_RESPONSE_INFO_AUDIT_RULE: u8 = 1;

pub(crate) const FAN_NOFD: i32 = -1;
pub(crate) const FAN_EPIDFD: i32 = -2;

/// `struct fanotify_event_metadata`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct fanotify_event_metadata {
    pub(crate) event_len: u32,
    pub(crate) vers: u8,
    pub(crate) reserved: u8,
    pub(crate) metadata_len: u16,
    /// `__aligned_u64`: 8-aligned on every ABI.
    pub(crate) mask: u64,
    pub(crate) fd: i32,
    pub(crate) pid: i32,
}

/// `struct fanotify_event_info_header`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct fanotify_event_info_header {
    pub(crate) info_type: u8,
    pub(crate) pad: u8,
    pub(crate) len: u16,
}

/// `__kernel_fsid_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct kernel_fsid_t {
    pub(crate) val: [i32; 2],
}

/// `struct fanotify_event_info_fid`, without its flexible `handle[]`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct fanotify_event_info_fid {
    pub(crate) hdr: fanotify_event_info_header,
    pub(crate) fsid: kernel_fsid_t,
}

/// `struct file_handle`, without its flexible `f_handle[]`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct file_handle {
    pub(crate) handle_bytes: u32,
    pub(crate) handle_type: i32,
}

/// An FID-type info record up to its file handle's `f_handle`:
/// `struct fanotify_event_info_fid`, then the `struct file_handle` header
/// that its flexible `handle[]` holds.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct fanotify_event_info_fid_handle {
    pub(crate) fid: fanotify_event_info_fid,
    pub(crate) handle: file_handle,
}

/// `MAX_HANDLE_SZ`: the largest `f_handle` the kernel hands out.
pub(crate) const MAX_HANDLE_SZ: usize = 128;

/// `struct fanotify_event_info_pidfd`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct fanotify_event_info_pidfd {
    pub(crate) hdr: fanotify_event_info_header,
    pub(crate) pidfd: i32,
}

/// `struct fanotify_event_info_error`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct fanotify_event_info_error {
    pub(crate) hdr: fanotify_event_info_header,
    pub(crate) error: i32,
    pub(crate) error_count: u32,
}

/// `struct fanotify_event_info_range` (Linux 6.14, `FAN_PRE_ACCESS`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct fanotify_event_info_range {
    pub(crate) hdr: fanotify_event_info_header,
    pub(crate) pad: u32,
    pub(crate) offset: u64,
    pub(crate) count: u64,
}

/// `struct fanotify_event_info_mnt` (Linux 6.14, `FAN_REPORT_MNT`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct fanotify_event_info_mnt {
    pub(crate) hdr: fanotify_event_info_header,
    pub(crate) mnt_id: u64,
}

/// `struct fanotify_response`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct fanotify_response {
    pub(crate) fd: i32,
    pub(crate) response: u32,
}

/// `struct fanotify_response_info_header`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct fanotify_response_info_header {
    pub(crate) info_type: u8,
    pub(crate) pad: u8,
    pub(crate) len: u16,
}

/// `struct fanotify_response_info_audit_rule`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct fanotify_response_info_audit_rule {
    pub(crate) hdr: fanotify_response_info_header,
    pub(crate) rule_number: u32,
    pub(crate) subj_trust: u32,
    pub(crate) obj_trust: u32,
}

// Layout assertions: these are the offsets the parser reads by hand.
const _: () = {
    assert!(size_of::<fanotify_event_metadata>() == 24);
    assert!(offset_of!(fanotify_event_metadata, event_len) == 0);
    assert!(offset_of!(fanotify_event_metadata, vers) == 4);
    assert!(offset_of!(fanotify_event_metadata, reserved) == 5);
    assert!(offset_of!(fanotify_event_metadata, metadata_len) == 6);
    assert!(offset_of!(fanotify_event_metadata, mask) == 8);
    assert!(offset_of!(fanotify_event_metadata, fd) == 16);
    assert!(offset_of!(fanotify_event_metadata, pid) == 20);

    assert!(size_of::<fanotify_event_info_header>() == 4);
    assert!(offset_of!(fanotify_event_info_header, info_type) == 0);
    assert!(offset_of!(fanotify_event_info_header, pad) == 1);
    assert!(offset_of!(fanotify_event_info_header, len) == 2);

    assert!(size_of::<fanotify_event_info_fid>() == 12);
    assert!(offset_of!(fanotify_event_info_fid, fsid) == 4);
    assert!(size_of::<file_handle>() == 8);
    assert!(offset_of!(file_handle, handle_bytes) == 0);
    assert!(offset_of!(file_handle, handle_type) == 4);
    assert!(size_of::<fanotify_event_info_fid_handle>() == 20);
    assert!(offset_of!(fanotify_event_info_fid_handle, fid.fsid) == 4);
    assert!(offset_of!(fanotify_event_info_fid_handle, handle.handle_bytes) == 12);
    assert!(offset_of!(fanotify_event_info_fid_handle, handle.handle_type) == 16);

    assert!(size_of::<fanotify_event_info_pidfd>() == 8);
    assert!(offset_of!(fanotify_event_info_pidfd, pidfd) == 4);

    assert!(size_of::<fanotify_event_info_error>() == 12);
    assert!(offset_of!(fanotify_event_info_error, error) == 4);
    assert!(offset_of!(fanotify_event_info_error, error_count) == 8);

    assert!(size_of::<fanotify_event_info_range>() == 24);
    assert!(offset_of!(fanotify_event_info_range, offset) == 8);
    assert!(offset_of!(fanotify_event_info_range, count) == 16);

    assert!(size_of::<fanotify_event_info_mnt>() == 16);
    assert!(offset_of!(fanotify_event_info_mnt, mnt_id) == 8);

    assert!(size_of::<fanotify_response>() == 8);
    assert!(offset_of!(fanotify_response, response) == 4);
    assert!(size_of::<fanotify_response_info_header>() == 4);
    assert!(size_of::<fanotify_response_info_audit_rule>() == 16);
    assert!(offset_of!(fanotify_response_info_audit_rule, rule_number) == 4);
    assert!(offset_of!(fanotify_response_info_audit_rule, subj_trust) == 8);
    assert!(offset_of!(fanotify_response_info_audit_rule, obj_trust) == 12);
};
