//! The core of Butter's one-record-at-a-time readers: a caller buffer, the
//! bytes the last read filled, and how many of them were handed out.
//!
//! Each facility's `Reader` is this core plus its parser: `read_event`
//! hands out the next buffered record and reads from the kernel only when
//! none is left; `read_events` hands out all that is buffered, or reads.

use core::mem::MaybeUninit;

use crate::error::{Error, Result};
use crate::fd::Fd;
use crate::wait::{Wait, read_after_wait, records};

/// A caller buffer with a cursor over the records of its last read.
#[derive(Debug)]
pub(crate) struct Core<'a> {
    buf: &'a mut [MaybeUninit<u8>],
    /// Bytes of `buf` handed out.
    pos: usize,
    /// Bytes of `buf` the last read filled (all initialised).
    filled: usize,
}

impl<'a> Core<'a> {
    pub(crate) fn new(buf: &'a mut [MaybeUninit<u8>]) -> Self {
        Self {
            buf,
            pos: 0,
            filled: 0,
        }
    }

    /// Whether every record read so far was handed out.
    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.filled
    }

    /// How many bytes are read but not handed out.
    pub(crate) fn buffered(&self) -> usize {
        self.filled - self.pos
    }

    /// Replaces the (used up) buffer contents with a fresh read; `Ok(false)`
    /// when `read` returned nothing (a timeout or a waker), and
    /// [`Error::EndOfFile`] when the kernel filled zero bytes.
    pub(crate) fn refill(
        &mut self,
        read: impl FnOnce(&mut [MaybeUninit<u8>]) -> Result<Option<&[u8]>>,
    ) -> Result<bool> {
        self.pos = 0;
        self.filled = 0;
        match read(&mut *self.buf)? {
            None => Ok(false),
            Some([]) => Err(Error::EndOfFile { call: "read" }),
            Some(bytes) => {
                self.filled = bytes.len();
                Ok(true)
            }
        }
    }

    /// Hands the buffered bytes to `one`, which parses what it hands out
    /// and says how many bytes that took; the items it returns borrow the
    /// buffer for as long as `self` is borrowed. A parser that makes no
    /// progress (a malformed record) ends the buffer: the rest is dropped.
    pub(crate) fn take<'s, T>(&'s mut self, one: impl FnOnce(&'s [u8]) -> (T, usize)) -> T {
        let rest = self.filled.saturating_sub(self.pos);
        // SAFETY: `pos..filled` lies in `buf` and was initialised by the
        // kernel in the last read. The slice lives for `'s`, as long as the
        // exclusive borrow of `self`, so no refill can write to it meanwhile;
        // only `pos` (not the buffer) changes below.
        let bytes: &'s [u8] = unsafe {
            core::slice::from_raw_parts(self.buf.as_ptr().add(self.pos).cast::<u8>(), rest)
        };
        let (item, used) = one(bytes);
        self.pos = if used == 0 || used > rest {
            self.filled
        } else {
            self.pos + used
        };
        item
    }

    /// The next item: a buffered one, or the first of a fresh `read`.
    /// `None` when `read` returned nothing (its wait ended first).
    pub(crate) fn next<'s, T>(
        &'s mut self,
        read: impl FnOnce(&mut [MaybeUninit<u8>]) -> Result<Option<&[u8]>>,
        one: impl FnOnce(&'s [u8]) -> (T, usize),
    ) -> Result<Option<T>> {
        if self.is_empty() && !self.refill(read)? {
            return Ok(None);
        }
        Ok(Some(self.take(one)))
    }

    /// Everything buffered, or (when nothing is) a fresh `read`, handed to
    /// `all` at once.
    pub(crate) fn rest<'s, T>(
        &'s mut self,
        read: impl FnOnce(&mut [MaybeUninit<u8>]) -> Result<Option<&[u8]>>,
        all: impl FnOnce(&'s [u8]) -> T,
    ) -> Result<Option<T>> {
        self.next(read, |bytes| (all(bytes), bytes.len()))
    }
}

/// One read of `fd` in its object's mode, for [`Core::next`].
pub(crate) fn plain(fd: &Fd) -> impl FnOnce(&mut [MaybeUninit<u8>]) -> Result<Option<&[u8]>> + '_ {
    move |buf| records(fd.read(buf)).map(Some)
}

/// One read of `fd` after a bounded wait, for [`Core::next`].
pub(crate) fn waited<'f>(
    fd: &'f Fd,
    wait: Wait<'f>,
) -> impl FnOnce(&mut [MaybeUninit<u8>]) -> Result<Option<&[u8]>> + 'f {
    move |buf| match read_after_wait(fd, &wait, buf) {
        Ok(Some(bytes)) => records(Ok(bytes)).map(Some),
        Ok(None) => Ok(None),
        Err(errno) => Err(Error::os("read", errno)),
    }
}
