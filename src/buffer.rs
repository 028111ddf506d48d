//! Caller-supplied read buffers, initialised or not, at any alignment.

use core::mem::MaybeUninit;

mod sealed {
    pub trait Sealed {}
}

/// A byte buffer the kernel can read records into: `[u8]`, `Vec<u8>` (its
/// length, with `alloc`),
/// `[MaybeUninit<u8>]`, or arrays of either, at any alignment.
///
/// Sealed: the crate relies on the kernel writing only initialised bytes.
pub trait Buffer: sealed::Sealed {
    /// The buffer as possibly-uninitialised bytes, for the kernel to fill.
    #[doc(hidden)]
    fn as_uninit(&mut self) -> &mut [MaybeUninit<u8>];
}

impl sealed::Sealed for [u8] {}
impl Buffer for [u8] {
    #[inline]
    fn as_uninit(&mut self) -> &mut [MaybeUninit<u8>] {
        // SAFETY: `MaybeUninit<u8>` has the layout of `u8`. The returned
        // slice is only ever handed to a `read` syscall, which writes
        // initialised bytes, so the `[u8]` stays initialised.
        unsafe { &mut *(core::ptr::from_mut(self) as *mut [MaybeUninit<u8>]) }
    }
}

impl sealed::Sealed for [MaybeUninit<u8>] {}
impl Buffer for [MaybeUninit<u8>] {
    #[inline]
    fn as_uninit(&mut self) -> &mut [MaybeUninit<u8>] {
        self
    }
}

impl<const N: usize> sealed::Sealed for [u8; N] {}
impl<const N: usize> Buffer for [u8; N] {
    #[inline]
    fn as_uninit(&mut self) -> &mut [MaybeUninit<u8>] {
        self.as_mut_slice().as_uninit()
    }
}

impl<const N: usize> sealed::Sealed for [MaybeUninit<u8>; N] {}
impl<const N: usize> Buffer for [MaybeUninit<u8>; N] {
    #[inline]
    fn as_uninit(&mut self) -> &mut [MaybeUninit<u8>] {
        self
    }
}

/// `read(2)` into `buf`, returning the bytes the kernel filled.
#[inline]
pub(crate) fn read_into<Fd: rustix::fd::AsFd>(
    fd: Fd,
    buf: &mut [MaybeUninit<u8>],
) -> rustix::io::Result<&[u8]> {
    let (filled, _) = rustix::io::read(fd, buf)?;
    Ok(filled)
}

#[cfg(feature = "alloc")]
impl sealed::Sealed for alloc::vec::Vec<u8> {}
/// A `Vec`'s initialised length is the buffer (not its spare capacity).
#[cfg(feature = "alloc")]
impl Buffer for alloc::vec::Vec<u8> {
    #[inline]
    fn as_uninit(&mut self) -> &mut [MaybeUninit<u8>] {
        self.as_mut_slice().as_uninit()
    }
}
