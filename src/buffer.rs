//! Caller-supplied read buffers, initialised or not, at any alignment, and
//! the one read loop every reader uses.

use core::mem::MaybeUninit;

use rustix::event::{PollFd, PollFlags};
use rustix::fd::BorrowedFd;
use rustix::io::Errno;

pub(crate) mod sealed {
    use core::mem::MaybeUninit;

    /// A value only this crate can make: it is an argument of
    /// [`Sealed::as_uninit`], so no code outside the crate can call that
    /// method, even through a `B: Buffer` bound.
    #[derive(Debug)]
    pub struct Token(pub(crate) ());

    pub trait Sealed {
        /// The buffer as possibly-uninitialised bytes, for the kernel to
        /// fill. Only for `read` syscalls, which write initialised bytes.
        fn as_uninit(&mut self, token: Token) -> &mut [MaybeUninit<u8>];
    }
}

/// A byte buffer the kernel can read records into: `[u8]`, `Vec<u8>` (its
/// length, with `alloc`), `[MaybeUninit<u8>]`, or arrays of either, at any
/// alignment.
///
/// Sealed, and its one method cannot be called from outside the crate: a
/// `[u8]` viewed as `[MaybeUninit<u8>]` must only ever be written by the
/// kernel, never de-initialised by safe code.
///
/// ```compile_fail
/// use core::mem::MaybeUninit;
/// fn deinit<B: kernfd::Buffer + ?Sized>(b: &mut B) {
///     b.as_uninit()[0] = MaybeUninit::uninit(); // no such callable method
/// }
/// ```
pub trait Buffer: sealed::Sealed {}

impl sealed::Sealed for [u8] {
    #[inline]
    fn as_uninit(&mut self, _: sealed::Token) -> &mut [MaybeUninit<u8>] {
        // SAFETY: `MaybeUninit<u8>` has the layout of `u8`. The returned
        // slice is only ever handed to a `read` syscall (the token keeps it
        // inside the crate), which writes initialised bytes, so the `[u8]`
        // stays initialised.
        unsafe { &mut *(core::ptr::from_mut(self) as *mut [MaybeUninit<u8>]) }
    }
}
impl Buffer for [u8] {}

impl sealed::Sealed for [MaybeUninit<u8>] {
    #[inline]
    fn as_uninit(&mut self, _: sealed::Token) -> &mut [MaybeUninit<u8>] {
        self
    }
}
impl Buffer for [MaybeUninit<u8>] {}

impl<const N: usize> sealed::Sealed for [u8; N] {
    #[inline]
    fn as_uninit(&mut self, token: sealed::Token) -> &mut [MaybeUninit<u8>] {
        self.as_mut_slice().as_uninit(token)
    }
}
impl<const N: usize> Buffer for [u8; N] {}

impl<const N: usize> sealed::Sealed for [MaybeUninit<u8>; N] {
    #[inline]
    fn as_uninit(&mut self, _: sealed::Token) -> &mut [MaybeUninit<u8>] {
        self
    }
}
impl<const N: usize> Buffer for [MaybeUninit<u8>; N] {}

#[cfg(feature = "alloc")]
impl sealed::Sealed for alloc::vec::Vec<u8> {
    #[inline]
    fn as_uninit(&mut self, token: sealed::Token) -> &mut [MaybeUninit<u8>] {
        self.as_mut_slice().as_uninit(token)
    }
}
/// A `Vec`'s initialised length is the buffer (not its spare capacity).
#[cfg(feature = "alloc")]
impl Buffer for alloc::vec::Vec<u8> {}

/// `buf` as bytes for the kernel to fill.
#[inline]
pub(crate) fn uninit<B: Buffer + ?Sized>(buf: &mut B) -> &mut [MaybeUninit<u8>] {
    buf.as_uninit(sealed::Token(()))
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

/// Reads `fd` (which must be `O_NONBLOCK` in the kernel) into `buf` until
/// a read returns something; on each `EAGAIN`, `again` decides: `Ok(true)`
/// reads again (after waiting for readiness), `Ok(false)` gives up with
/// `None`, `Err` fails. Never blocks in `read(2)` itself.
#[inline]
pub(crate) fn read_retry<'b>(
    fd: BorrowedFd<'_>,
    buf: &'b mut [MaybeUninit<u8>],
    mut again: impl FnMut() -> Result<bool, Errno>,
) -> Result<Option<&'b [u8]>, Errno> {
    let len = buf.len();
    let ptr = buf.as_mut_ptr();
    let filled = loop {
        // SAFETY: `ptr`/`len` are `buf`, borrowed mutably for this whole
        // function; each iteration's slice is gone before the next exists.
        let attempt = unsafe { core::slice::from_raw_parts_mut(ptr, len) };
        match rustix::io::read(fd, attempt) {
            Ok((filled, _)) => break filled.len(),
            Err(Errno::AGAIN) => {
                if !again()? {
                    return Ok(None);
                }
            }
            Err(e) => return Err(e),
        }
    };
    // SAFETY: the kernel initialised the first `filled` bytes of `buf` in
    // the read that broke the loop; nothing wrote to them since.
    Ok(Some(unsafe {
        core::slice::from_raw_parts(ptr.cast::<u8>(), filled)
    }))
}

/// One read of an owned object's descriptor, which kernfd keeps
/// `O_NONBLOCK` in the kernel: returns what the kernel filled; when nothing
/// is queued, fails with `EAGAIN` in non-blocking mode and otherwise polls
/// (without limit) and reads again. Another thread may empty the queue
/// between the poll and the read: then it polls again, so it never blocks
/// in `read(2)` itself. `EINTR` from the poll is returned, not retried.
#[inline]
pub(crate) fn read_mode<'b>(
    fd: BorrowedFd<'_>,
    nonblocking: bool,
    buf: &'b mut [MaybeUninit<u8>],
) -> Result<&'b [u8], Errno> {
    let got = read_retry(fd, buf, || {
        if nonblocking {
            return Err(Errno::AGAIN);
        }
        rustix::event::poll(&mut [PollFd::new(&fd, PollFlags::IN)], None)?;
        Ok(true)
    })?;
    // `read_retry` gives up only when `again` says so, which it never does.
    Ok(got.unwrap_or_default())
}
