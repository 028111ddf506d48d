//! Flag types of the AIO control block.

bitflags::bitflags! {
    /// Per-request read/write flags (`aio_rw_flags`, the `RWF_*` of
    /// `preadv2(2)`), for the read and write opcodes.
    ///
    /// Unknown bits are kept and passed on; the kernel rejects them with
    /// `EOPNOTSUPP` (or `EINVAL`) at submission.
    #[doc(alias = "aio_rw_flags")]
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct RwFlags: i32 {
        /// `RWF_HIPRI`: high-priority request, polled for completion where
        /// the block device supports polling (`O_DIRECT` only).
        const HIPRI = linux_raw_sys::general::RWF_HIPRI as i32;
        /// `RWF_DSYNC`: this write is `O_DSYNC` (data and the metadata
        /// needed to read it are on stable storage at completion).
        const DSYNC = linux_raw_sys::general::RWF_DSYNC as i32;
        /// `RWF_SYNC`: this write is `O_SYNC`.
        const SYNC = linux_raw_sys::general::RWF_SYNC as i32;
        /// `RWF_NOWAIT`: fail with `EAGAIN` instead of blocking (on a page
        /// cache miss, a lock, a block allocation). With AIO the `EAGAIN`
        /// comes back from `io_submit` itself or in the completion.
        const NOWAIT = linux_raw_sys::general::RWF_NOWAIT as i32;
        /// `RWF_APPEND`: this write appends, as with `O_APPEND` (the offset
        /// is ignored).
        const APPEND = linux_raw_sys::general::RWF_APPEND as i32;
        // Any other bit is passed to the kernel as is.
        const _ = !0;
    }
}

crate::shared::display_flags!(RwFlags);
