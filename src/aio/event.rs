//! The pure record layer: a bounds-checked walk over `struct io_event`
//! records (32 bytes each, fixed size).
//!
//! Nothing here makes a syscall. [`parse`] takes any bytes, at any
//! alignment; it never allocates, never panics and never reads out of
//! bounds. It is one use of the crate's record kit (`src/record.rs`): the
//! walk is a [`Cursor`](crate::record::Cursor) cutting fixed-size records,
//! and every field is one `field!` read at its `offset_of!` in
//! [`abi::io_event`](super::abi::io_event), on access.

use core::fmt;

use rustix::io::Errno;

use super::abi::io_event;
use crate::record::{Truncated, field, walk};

/// The size of one `struct io_event`: 32 bytes, always.
pub const IO_EVENT_LEN: usize = size_of::<io_event>();

/// Parses the bytes of zero or more `io_event` records.
///
/// Pure, with no syscall: `bytes` may come from
/// [`Context::getevents`](super::Context::getevents), a file or a fuzzer,
/// at any alignment. The iterator yields one [`Event`] per whole 32-byte
/// record; a trailing partial record yields one `Err(ParseError)` (with its
/// offset), after which the iterator ends and [`Events::remainder`] holds
/// the leftover bytes.
///
/// # Example
/// ```
/// use kernfd::aio::{parse, IO_EVENT_LEN};
///
/// let mut record = [0_u8; IO_EVENT_LEN];
/// record[..8].copy_from_slice(&7_u64.to_ne_bytes()); // data
/// record[16..24].copy_from_slice(&(-5_i64).to_ne_bytes()); // res = -EIO
///
/// let mut events = parse(&record);
/// let event = events.next().unwrap()?;
/// assert_eq!(event.data(), 7);
/// assert_eq!(event.result(), Err(kernfd::Errno::IO));
/// assert!(events.next().is_none());
/// # Ok::<(), kernfd::aio::ParseError>(())
/// ```
#[inline]
pub fn parse(bytes: &[u8]) -> Events<'_> {
    Events {
        cursor: crate::record::Cursor::new(bytes),
    }
}

/// One `io_event` record, borrowed from the buffer it was read into.
#[doc(alias = "io_event")]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Event<'buf> {
    raw: &'buf [u8; IO_EVENT_LEN],
}

impl<'buf> Event<'buf> {
    /// `data`: the request's `aio_data`, as submitted
    /// ([`Iocb::with_data`](super::Iocb::with_data)).
    #[inline]
    #[must_use]
    pub fn data(&self) -> u64 {
        field!(self.raw, io_event, data)
    }

    /// `obj`: the address of the request's `iocb` at submission.
    #[inline]
    #[must_use]
    pub fn obj(&self) -> u64 {
        field!(self.raw, io_event, obj)
    }

    /// `res`: bytes transferred (reads, writes), the ready mask (poll),
    /// 0 (fsync), or a negated errno.
    #[inline]
    #[must_use]
    pub fn res(&self) -> i64 {
        field!(self.raw, io_event, res)
    }

    /// `res2`: a secondary result, 0 for every opcode today.
    #[inline]
    #[must_use]
    pub fn res2(&self) -> i64 {
        field!(self.raw, io_event, res2)
    }

    /// [`res`](Self::res) as a result: the count or mask, or the errno for
    /// a value in `-4095..=-1`. A value below -4095 (which the kernel never
    /// writes, but arbitrary bytes may hold) is `Err(Errno::RANGE)`.
    ///
    /// # Errors
    /// The errno the request failed with.
    #[inline]
    pub fn result(&self) -> Result<u64, Errno> {
        result_of(self.res())
    }

    /// The whole record, all 32 bytes.
    #[inline]
    #[must_use]
    pub fn as_bytes(&self) -> &'buf [u8; IO_EVENT_LEN] {
        self.raw
    }
}

/// The kernel's convention for `res`: `-4095..=-1` is a negated errno.
#[inline]
pub(crate) fn result_of(res: i64) -> Result<u64, Errno> {
    if res >= 0 {
        Ok(res as u64)
    } else if res >= -4095 {
        Err(Errno::from_raw_os_error(-res as i32))
    } else {
        Err(Errno::RANGE)
    }
}

impl fmt::Debug for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("data", &self.data())
            .field("obj", &self.obj())
            .field("res", &self.res())
            .field("res2", &self.res2())
            .finish()
    }
}

/// `data 7: 4096 bytes` or `data 7: Input/output error`.
impl fmt::Display for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.result() {
            Ok(n) => write!(f, "data {}: {n}", self.data()),
            Err(e) => write!(f, "data {}: {e}", self.data()),
        }
    }
}

/// A trailing partial record: where it starts and how many bytes it has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ParseError {
    offset: usize,
    available: usize,
}

impl ParseError {
    /// Byte offset of the partial record, from the start of the input.
    #[must_use]
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// How many bytes were left (fewer than [`IO_EVENT_LEN`]).
    #[must_use]
    pub fn available(&self) -> usize {
        self.available
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "truncated io_event at byte {}: {} bytes left, a record needs {IO_EVENT_LEN}",
            self.offset, self.available
        )
    }
}

impl core::error::Error for ParseError {}

impl From<Truncated> for ParseError {
    fn from(t: Truncated) -> Self {
        Self {
            offset: t.offset,
            available: t.available,
        }
    }
}

walk! {
    /// The records in a filled buffer: an [`Iterator`] over borrowed
    /// [`Event`]s. Made by [`parse`] and by
    /// [`Context::getevents`](super::Context::getevents).
    #[must_use = "completions are taken from the kernel's ring; iterate them"]
    pub struct Events<'buf>;
    pub const EMPTY;
}

impl<'buf> Iterator for Events<'buf> {
    type Item = Result<Event<'buf>, ParseError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let record = self.cursor.next_fixed::<IO_EVENT_LEN>()?;
        Some(record.map(|raw| Event { raw }).map_err(ParseError::from))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.cursor.rest().len().div_ceil(IO_EVENT_LEN);
        (n, Some(n))
    }
}

impl ExactSizeIterator for Events<'_> {}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::format;
    use std::string::ToString;

    use super::*;
    use crate::aio::reference::agree;

    fn record(data: u64, obj: u64, res: i64, res2: i64) -> [u8; IO_EVENT_LEN] {
        let mut r = [0_u8; IO_EVENT_LEN];
        r[0..8].copy_from_slice(&data.to_ne_bytes());
        r[8..16].copy_from_slice(&obj.to_ne_bytes());
        r[16..24].copy_from_slice(&res.to_ne_bytes());
        r[24..32].copy_from_slice(&res2.to_ne_bytes());
        r
    }

    #[test]
    fn fields_at_their_offsets() {
        let r = record(1, 2, 3, 4);
        let e = parse(&r).next().unwrap().unwrap();
        assert_eq!((e.data(), e.obj(), e.res(), e.res2()), (1, 2, 3, 4));
        assert_eq!(e.result(), Ok(3));
        assert_eq!(e.as_bytes(), &r);
        agree(&r);
    }

    #[test]
    fn negative_res_is_an_errno() {
        let r = record(0, 0, -22, 0);
        assert_eq!(
            parse(&r).next().unwrap().unwrap().result(),
            Err(Errno::INVAL)
        );
        let r = record(0, 0, -4095, 0);
        assert_eq!(
            parse(&r).next().unwrap().unwrap().result(),
            Err(Errno::from_raw_os_error(4095))
        );
        let r = record(0, 0, -4096, 0);
        assert_eq!(
            parse(&r).next().unwrap().unwrap().result(),
            Err(Errno::RANGE)
        );
        let r = record(0, 0, i64::MIN, 0);
        assert_eq!(
            parse(&r).next().unwrap().unwrap().result(),
            Err(Errno::RANGE)
        );
        let r = record(0, 0, i64::MAX, 0);
        assert_eq!(
            parse(&r).next().unwrap().unwrap().result(),
            Ok(i64::MAX as u64)
        );
    }

    #[test]
    fn empty_input_yields_nothing() {
        let mut ev = parse(&[]);
        assert!(ev.is_empty());
        assert_eq!(ev.size_hint(), (0, Some(0)));
        assert!(ev.next().is_none());
        agree(&[]);
    }

    #[test]
    fn trailing_partial_record_is_one_error_then_end() {
        let mut bytes = [0_u8; 2 * IO_EVENT_LEN + 5];
        bytes[..IO_EVENT_LEN].copy_from_slice(&record(9, 0, 4096, 0));
        bytes[IO_EVENT_LEN..2 * IO_EVENT_LEN].copy_from_slice(&record(10, 0, -5, 0));
        let mut ev = parse(&bytes);
        assert_eq!(ev.len(), 3);
        assert_eq!(ev.next().unwrap().unwrap().data(), 9);
        assert_eq!(ev.next().unwrap().unwrap().data(), 10);
        let err = ev.next().unwrap().unwrap_err();
        assert_eq!((err.offset(), err.available()), (64, 5));
        assert!(err.to_string().contains("byte 64"));
        assert!(ev.next().is_none());
        assert_eq!(ev.remainder().len(), 5);
        assert_eq!(ev.offset(), 64);
        agree(&bytes);
    }

    #[test]
    fn any_alignment() {
        let mut bytes = [0_u8; IO_EVENT_LEN + 3];
        bytes[3..].copy_from_slice(&record(0xdead_beef, 1, 2, 3));
        for start in 0..4 {
            agree(&bytes[start..]);
        }
        let e = parse(&bytes[3..]).next().unwrap().unwrap();
        assert_eq!(e.data(), 0xdead_beef);
    }

    #[test]
    fn display_and_debug() {
        let r = record(7, 0, 4096, 0);
        let e = parse(&r).next().unwrap().unwrap();
        assert_eq!(e.to_string(), "data 7: 4096");
        assert!(format!("{e:?}").contains("res: 4096"));
    }

    #[test]
    fn agrees_with_reference_on_many_lengths() {
        let mut bytes = [0_u8; 3 * IO_EVENT_LEN + 1];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37).wrapping_add(11);
        }
        for len in 0..=bytes.len() {
            agree(&bytes[..len]);
        }
    }
}
