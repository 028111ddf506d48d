//! The uapi structs and constants of `<linux/aio_abi.h>` that linux-raw-sys
//! lacks, each with `const` size and offset assertions.
//!
//! `struct iocb` puts `aio_key` and `aio_rw_flags` in an order that depends
//! on the byte order (`__LITTLE_ENDIAN` / `__BIG_ENDIAN` in the header), so
//! that the pair reads as one 64-bit field either way; both orders are
//! written out below and the assertions check the one compiled.

use core::mem::{offset_of, size_of};

/// `aio_context_t`: the context id `io_setup` returns (`unsigned long`).
pub(crate) type AioContext = u64;

/// `IOCB_CMD_PREAD`.
pub(crate) const IOCB_CMD_PREAD: u16 = 0;
/// `IOCB_CMD_PWRITE`.
pub(crate) const IOCB_CMD_PWRITE: u16 = 1;
/// `IOCB_CMD_FSYNC`.
pub(crate) const IOCB_CMD_FSYNC: u16 = 2;
/// `IOCB_CMD_FDSYNC`.
pub(crate) const IOCB_CMD_FDSYNC: u16 = 3;
/// `IOCB_CMD_POLL`.
pub(crate) const IOCB_CMD_POLL: u16 = 5;
/// `IOCB_CMD_NOOP`.
pub(crate) const IOCB_CMD_NOOP: u16 = 6;
/// `IOCB_CMD_PREADV`.
pub(crate) const IOCB_CMD_PREADV: u16 = 7;
/// `IOCB_CMD_PWRITEV`.
pub(crate) const IOCB_CMD_PWRITEV: u16 = 8;

/// `IOCB_FLAG_RESFD`: signal the eventfd in `aio_resfd` on completion.
pub(crate) const IOCB_FLAG_RESFD: u32 = 1 << 0;
/// `IOCB_FLAG_IOPRIO`: `aio_reqprio` holds an I/O priority.
pub(crate) const IOCB_FLAG_IOPRIO: u32 = 1 << 1;

/// `struct iocb` (64 bytes), little-endian order of `aio_key`/`aio_rw_flags`.
#[cfg(target_endian = "little")]
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(non_camel_case_types, clippy::struct_field_names)]
pub(crate) struct iocb {
    pub(crate) aio_data: u64,
    pub(crate) aio_key: u32,
    pub(crate) aio_rw_flags: i32,
    pub(crate) aio_lio_opcode: u16,
    pub(crate) aio_reqprio: i16,
    pub(crate) aio_fildes: u32,
    pub(crate) aio_buf: u64,
    pub(crate) aio_nbytes: u64,
    pub(crate) aio_offset: i64,
    pub(crate) aio_reserved2: u64,
    pub(crate) aio_flags: u32,
    pub(crate) aio_resfd: u32,
}

/// `struct iocb` (64 bytes), big-endian order of `aio_rw_flags`/`aio_key`.
#[cfg(target_endian = "big")]
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(non_camel_case_types, clippy::struct_field_names)]
pub(crate) struct iocb {
    pub(crate) aio_data: u64,
    pub(crate) aio_rw_flags: i32,
    pub(crate) aio_key: u32,
    pub(crate) aio_lio_opcode: u16,
    pub(crate) aio_reqprio: i16,
    pub(crate) aio_fildes: u32,
    pub(crate) aio_buf: u64,
    pub(crate) aio_nbytes: u64,
    pub(crate) aio_offset: i64,
    pub(crate) aio_reserved2: u64,
    pub(crate) aio_flags: u32,
    pub(crate) aio_resfd: u32,
}

const _: () = {
    assert!(size_of::<iocb>() == 64);
    assert!(align_of::<iocb>() == 8);
    assert!(offset_of!(iocb, aio_data) == 0);
    #[cfg(target_endian = "little")]
    assert!(offset_of!(iocb, aio_key) == 8 && offset_of!(iocb, aio_rw_flags) == 12);
    #[cfg(target_endian = "big")]
    assert!(offset_of!(iocb, aio_rw_flags) == 8 && offset_of!(iocb, aio_key) == 12);
    assert!(offset_of!(iocb, aio_lio_opcode) == 16);
    assert!(offset_of!(iocb, aio_reqprio) == 18);
    assert!(offset_of!(iocb, aio_fildes) == 20);
    assert!(offset_of!(iocb, aio_buf) == 24);
    assert!(offset_of!(iocb, aio_nbytes) == 32);
    assert!(offset_of!(iocb, aio_offset) == 40);
    assert!(offset_of!(iocb, aio_reserved2) == 48);
    assert!(offset_of!(iocb, aio_flags) == 56);
    assert!(offset_of!(iocb, aio_resfd) == 60);
};

/// `struct io_event` (32 bytes): one completion.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub(crate) struct io_event {
    /// The `aio_data` of the request.
    pub(crate) data: u64,
    /// The address of the request's `iocb`, as submitted.
    pub(crate) obj: u64,
    /// The result: bytes transferred, a poll mask, or `-errno`.
    pub(crate) res: i64,
    /// A secondary result (0 for every opcode the kernel implements today).
    pub(crate) res2: i64,
}

const _: () = {
    assert!(size_of::<io_event>() == 32);
    assert!(offset_of!(io_event, data) == 0);
    assert!(offset_of!(io_event, obj) == 8);
    assert!(offset_of!(io_event, res) == 16);
    assert!(offset_of!(io_event, res2) == 24);
};

/// `struct __aio_sigset`: the mask argument of `io_pgetevents`.
#[repr(C)]
#[allow(non_camel_case_types)]
pub(crate) struct aio_sigset {
    /// `const sigset_t *sigmask`.
    pub(crate) sigmask: *const u64,
    /// `size_t sigsetsize`: the kernel's sigset size, 8.
    pub(crate) sigsetsize: usize,
}

const _: () = {
    assert!(size_of::<aio_sigset>() == 16);
    assert!(offset_of!(aio_sigset, sigmask) == 0);
    assert!(offset_of!(aio_sigset, sigsetsize) == 8);
};

/// `struct iovec` from linux-raw-sys, checked against the layout the vectored
/// opcodes rely on.
pub(crate) use linux_raw_sys::general::iovec;

const _: () = {
    assert!(size_of::<iovec>() == 16);
    assert!(offset_of!(iovec, iov_base) == 0);
    assert!(offset_of!(iovec, iov_len) == 8);
};
