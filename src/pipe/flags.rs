//! The flag argument of `splice(2)`, `tee(2)` and `vmsplice(2)`.

use linux_raw_sys::general as c;

bitflags::bitflags! {
    /// `SPLICE_F_*`: the `flags` of [`splice`](super::splice),
    /// [`tee`](super::tee) and the `vmsplice` calls.
    ///
    /// Unknown bits are kept and passed on; the kernel rejects them with
    /// `EINVAL` (`splice`, `tee` and `vmsplice` alike).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
    pub struct SpliceFlags: u32 {
        /// `SPLICE_F_MOVE`: move pages instead of copying them, where the
        /// kernel can. A hint; a no-op since Linux 2.6.21, kept for the ABI.
        const MOVE = c::SPLICE_F_MOVE;
        /// `SPLICE_F_NONBLOCK`: do not block on the pipe(s) the call works
        /// on (`EAGAIN` instead). The other, non-pipe descriptor still
        /// blocks unless it is itself `O_NONBLOCK`.
        const NONBLOCK = c::SPLICE_F_NONBLOCK;
        /// `SPLICE_F_MORE`: more data follows in a later call; a hint for a
        /// socket output (like `MSG_MORE`).
        const MORE = c::SPLICE_F_MORE;
        /// `SPLICE_F_GIFT`: `vmsplice` only: the user pages are given to the
        /// kernel. Accepted only by the `unsafe`
        /// [`vmsplice_unchecked`](super::vmsplice_unchecked); the safe
        /// [`vmsplice`](super::vmsplice) refuses it.
        const GIFT = c::SPLICE_F_GIFT;
        // Any other bit is passed to the kernel as is.
        const _ = !0;
    }
}

crate::shared::display_flags!(SpliceFlags);

impl SpliceFlags {
    /// The same bits as rustix's type.
    pub(crate) const fn rustix(self) -> rustix::pipe::SpliceFlags {
        rustix::pipe::SpliceFlags::from_bits_retain(self.bits())
    }
}
