//! The flags of `signalfd4(2)`.

bitflags::bitflags! {
    /// Flags for [`create`](super::create) (`SFD_*` of `signalfd(2)`).
    ///
    /// Unknown bits are kept and passed on; the kernel rejects them with
    /// `EINVAL`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct SignalFdFlags: u32 {
        /// `SFD_CLOEXEC`: close the descriptor on `execve`.
        const CLOEXEC = linux_raw_sys::general::O_CLOEXEC;
        /// `SFD_NONBLOCK`: reads fail with `EAGAIN` instead of blocking.
        const NONBLOCK = linux_raw_sys::general::O_NONBLOCK;
        // Any other bit is passed to the kernel as is.
        const _ = !0;
    }
}

crate::shared::display_flags!(SignalFdFlags);
