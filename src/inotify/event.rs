//! The pure record layer: a bounds-checked walk over `inotify_event` records.
//!
//! Nothing here makes a syscall. [`parse`] takes any bytes, at any alignment,
//! and yields borrowed [`Event`]s; it never allocates, never panics, never
//! reads out of bounds and always makes progress.

use core::ffi::CStr;
use core::fmt;
use core::iter::FusedIterator;

use super::EventFlags;

/// Size of the fixed `struct inotify_event` header: `wd`, `mask`, `cookie`,
/// `len`, 4 bytes each.
pub const HEADER_LEN: usize = 16;

/// The largest name the kernel puts in one event, without its NUL (`NAME_MAX`).
pub const NAME_MAX: usize = 255;

/// The smallest buffer that is sure to hold any single event:
/// `size_of::<inotify_event>() + NAME_MAX + 1` (272 bytes).
///
/// A read into a shorter buffer fails with `EINVAL` whenever the next event's
/// name does not fit, so [`Inotify::read`](super::Inotify::read) rejects such
/// buffers up front with [`Error::BufferTooSmall`](super::Error::BufferTooSmall).
pub const MIN_BUFFER_LEN: usize = HEADER_LEN + NAME_MAX + 1;

/// A buffer size that holds many events per read: 4 KiB, one page, as
/// inotify(7) suggests. Larger buffers cut syscalls when events come in bursts.
pub const DEFAULT_BUFFER_LEN: usize = 4096;

/// Parses the bytes of one or more `inotify_event` records.
///
/// This is inotify_simple's `parse_events`: pure, with no syscall. `bytes` may
/// come from a `read(2)` on an inotify descriptor, a file, or a fuzzer; any
/// value, length and alignment is accepted.
///
/// The iterator yields `Ok(event)` for each whole record,
/// `Err(EventError::QueueOverflow)` for an `IN_Q_OVERFLOW` record (and goes
/// on), and `Err(EventError::Malformed(_))` for the first record that does
/// not fit, after which it ends. [`Events::remainder`] then holds the bytes
/// not consumed.
///
/// # Example
/// ```
/// use kernfd::inotify::{parse, EventFlags};
///
/// // A CREATE event for "a" on watch 1, as the kernel lays it out.
/// let mut bytes = Vec::new();
/// bytes.extend_from_slice(&1_i32.to_ne_bytes());            // wd
/// bytes.extend_from_slice(&EventFlags::CREATE.bits().to_ne_bytes()); // mask
/// bytes.extend_from_slice(&0_u32.to_ne_bytes());            // cookie
/// bytes.extend_from_slice(&16_u32.to_ne_bytes());           // len
/// bytes.extend_from_slice(b"a\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"); // name, padded
///
/// let mut events = parse(&bytes);
/// let event = events.next().unwrap().unwrap();
/// assert_eq!(event.wd(), 1);
/// assert_eq!(event.mask(), EventFlags::CREATE);
/// assert_eq!(event.name_bytes(), b"a");
/// assert!(events.next().is_none());
/// assert!(events.remainder().is_empty());
/// ```
#[doc(alias = "parse_events")]
#[inline]
pub fn parse(bytes: &[u8]) -> Events<'_> {
    Events {
        bytes,
        offset: 0,
        failed: false,
    }
}

/// One inotify event, borrowed from the buffer it was read into.
///
/// The fixed fields are copied out of the record; the name stays in the
/// buffer. Names are bytes: Linux file names need not be UTF-8.
#[doc(alias = "inotify_event")]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Event<'buf> {
    wd: i32,
    mask: u32,
    cookie: u32,
    /// The whole name field, padding included; its last byte is NUL.
    name_field: &'buf [u8],
}

impl<'buf> Event<'buf> {
    /// The watch descriptor this event is for, as returned by
    /// [`Inotify::add_watch`](super::Inotify::add_watch); `-1` for
    /// `IN_Q_OVERFLOW`.
    #[inline]
    #[must_use]
    pub fn wd(&self) -> i32 {
        self.wd
    }

    /// The event's mask. Unknown kernel bits are kept.
    #[inline]
    #[must_use]
    pub fn mask(&self) -> EventFlags {
        EventFlags::from_bits_retain(self.mask)
    }

    /// The cookie that ties an `IN_MOVED_FROM` to its `IN_MOVED_TO`; 0 for
    /// other events.
    #[inline]
    #[must_use]
    pub fn cookie(&self) -> u32 {
        self.cookie
    }

    /// The name of the entry inside a watched directory, without NUL and
    /// padding; empty when the event is about the watched object itself.
    #[inline]
    #[must_use]
    pub fn name_bytes(&self) -> &'buf [u8] {
        &self.name_field[..first_nul(self.name_field)]
    }

    /// The name as a C string, or `None` when the event carries no name.
    #[inline]
    #[must_use]
    pub fn name(&self) -> Option<&'buf CStr> {
        if self.name_field.is_empty() {
            return None;
        }
        let end = first_nul(self.name_field);
        // The parser checked that the field ends in NUL, so `end` is an index
        // of a NUL byte and the slice below holds exactly one NUL, at its end.
        CStr::from_bytes_with_nul(&self.name_field[..=end]).ok()
    }

    /// The name as an `OsStr`, empty when the event carries no name.
    #[cfg(feature = "std")]
    #[inline]
    #[must_use]
    pub fn name_os(&self) -> &'buf std::ffi::OsStr {
        use std::os::unix::ffi::OsStrExt;
        std::ffi::OsStr::from_bytes(self.name_bytes())
    }

    /// The name as a `Path`, empty when the event carries no name.
    #[cfg(feature = "std")]
    #[inline]
    #[must_use]
    pub fn path(&self) -> &'buf std::path::Path {
        std::path::Path::new(self.name_os())
    }

    /// Whether this is the `IN_Q_OVERFLOW` record (the kernel dropped events).
    #[inline]
    #[must_use]
    pub fn is_overflow(&self) -> bool {
        self.mask & EventFlags::Q_OVERFLOW.bits() != 0
    }

    /// The length this record occupied in the buffer: 16 plus the name field.
    #[inline]
    #[must_use]
    pub fn record_len(&self) -> usize {
        HEADER_LEN + self.name_field.len()
    }
}

/// Debug shows the fields with the name as bytes and the mask by name.
impl fmt::Debug for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("wd", &self.wd)
            .field("mask", &self.mask())
            .field("cookie", &self.cookie)
            .field("name", &ByteStr(self.name_bytes()))
            .finish()
    }
}

/// inotify_simple's repr: `Event(wd=1, mask=256, cookie=0, name='foo')`.
///
/// Printable ASCII is written as is, other bytes as `\xNN`, and `'` and `\`
/// escaped, so the line stays one line whatever the name holds.
impl fmt::Display for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Event(wd={}, mask={}, cookie={}, name='{}')",
            self.wd,
            self.mask,
            self.cookie,
            ByteStr(self.name_bytes())
        )
    }
}

/// Writes bytes with non-printable ones escaped.
struct ByteStr<'a>(&'a [u8]);

impl fmt::Display for ByteStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        for &b in self.0 {
            match b {
                b'\'' => f.write_str("\\'")?,
                b'\\' => f.write_str("\\\\")?,
                0x20..=0x7e => f.write_char(char::from(b))?,
                _ => write!(f, "\\x{b:02x}")?,
            }
        }
        Ok(())
    }
}

impl fmt::Debug for ByteStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// What an [`Events`] iterator yields besides events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventError {
    /// The kernel's queue overflowed (`IN_Q_OVERFLOW`, `wd == -1`): events
    /// were dropped, and any state kept from earlier events may be stale.
    /// Iteration goes on after it.
    ///
    /// Raise `/proc/sys/fs/inotify/max_queued_events` or read faster.
    QueueOverflow,
    /// A record did not fit in the bytes that were left; iteration ends.
    Malformed(ParseError),
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::QueueOverflow => f.write_str(
                "inotify queue overflow: events were lost \
                 (see /proc/sys/fs/inotify/max_queued_events)",
            ),
            Self::Malformed(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl core::error::Error for EventError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::QueueOverflow => None,
            Self::Malformed(e) => Some(e),
        }
    }
}

/// Why a record could not be parsed, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ParseError {
    offset: usize,
    kind: ParseErrorKind,
}

impl ParseError {
    /// Byte offset of the record that failed, from the start of the input.
    #[must_use]
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// What was wrong with it.
    #[must_use]
    pub fn kind(&self) -> ParseErrorKind {
        self.kind
    }
}

/// The ways a record can fail to parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// Fewer than [`HEADER_LEN`] bytes were left for the header.
    TruncatedHeader {
        /// Bytes left.
        available: usize,
    },
    /// The header's `len` runs past the end of the input.
    TruncatedName {
        /// The name length the header claims.
        len: usize,
        /// Bytes left after the header.
        available: usize,
    },
    /// The name field does not end in NUL, as the kernel always writes it.
    UnterminatedName {
        /// The name field's length.
        len: usize,
    },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed inotify record at byte {}: ", self.offset)?;
        match self.kind {
            ParseErrorKind::TruncatedHeader { available } => {
                write!(f, "{available} bytes left, a header needs {HEADER_LEN}")
            }
            ParseErrorKind::TruncatedName { len, available } => {
                write!(f, "name of {len} bytes, only {available} left")
            }
            ParseErrorKind::UnterminatedName { len } => {
                write!(f, "name field of {len} bytes does not end in NUL")
            }
        }
    }
}

impl core::error::Error for ParseError {}

/// The events in a filled buffer: an [`Iterator`] over borrowed records.
///
/// Made by [`parse`] and by the read methods of
/// [`Inotify`](super::Inotify). See [`parse`] for what it yields.
#[derive(Clone, Debug)]
#[must_use = "an inotify read consumes events from the kernel's queue; iterate them"]
pub struct Events<'buf> {
    bytes: &'buf [u8],
    offset: usize,
    /// Set by a malformed record: iteration has ended at `offset`.
    failed: bool,
}

impl<'buf> Events<'buf> {
    /// Events over nothing.
    pub(crate) const EMPTY: Events<'static> = Events {
        bytes: &[],
        offset: 0,
        failed: false,
    };

    /// The bytes not yet consumed: empty once every record was yielded, the
    /// failing record onward after a [`EventError::Malformed`].
    #[must_use]
    pub fn remainder(&self) -> &'buf [u8] {
        self.bytes.get(self.offset..).unwrap_or_default()
    }

    /// How many bytes were consumed so far.
    #[must_use]
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// All the bytes this iterator walks, consumed or not.
    #[must_use]
    pub fn as_bytes(&self) -> &'buf [u8] {
        self.bytes
    }

    /// Whether nothing is left to yield.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.failed || self.offset >= self.bytes.len()
    }

    fn fail(&mut self, kind: ParseErrorKind) -> Result<Event<'buf>, EventError> {
        let err = ParseError {
            offset: self.offset,
            kind,
        };
        // Stop here: the remainder keeps the bad record, `next` yields None.
        self.failed = true;
        Err(EventError::Malformed(err))
    }
}

impl<'buf> Iterator for Events<'buf> {
    type Item = Result<Event<'buf>, EventError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.bytes.get(self.offset..)?;
        if rest.is_empty() || self.failed {
            return None;
        }
        let Some((header, tail)) = rest.split_first_chunk::<HEADER_LEN>() else {
            return Some(self.fail(ParseErrorKind::TruncatedHeader {
                available: rest.len(),
            }));
        };
        let word = |i: usize| [header[i], header[i + 1], header[i + 2], header[i + 3]];
        let wd = i32::from_ne_bytes(word(0));
        let mask = u32::from_ne_bytes(word(4));
        let cookie = u32::from_ne_bytes(word(8));
        let len = u32::from_ne_bytes(word(12)) as usize;
        let Some(name_field) = tail.get(..len) else {
            return Some(self.fail(ParseErrorKind::TruncatedName {
                len,
                available: tail.len(),
            }));
        };
        if let Some(&last) = name_field.last() {
            if last != 0 {
                return Some(self.fail(ParseErrorKind::UnterminatedName { len }));
            }
        }
        // `len <= tail.len()`, so this cannot overflow or pass the end.
        self.offset += HEADER_LEN + len;
        let event = Event {
            wd,
            mask,
            cookie,
            name_field,
        };
        if event.is_overflow() {
            return Some(Err(EventError::QueueOverflow));
        }
        Some(Ok(event))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.failed {
            return (0, Some(0));
        }
        let left = self.bytes.len().saturating_sub(self.offset);
        (0, Some(left.div_ceil(HEADER_LEN)))
    }
}

impl FusedIterator for Events<'_> {}

/// Index of the first NUL in `field`, or `field.len()` if there is none.
///
/// The kernel pads each name with NULs to a multiple of 16 bytes, so the
/// field is nearly always whole 8-byte words: scan a word at a time with the
/// classic has-zero-byte test, and fall back to bytes for any tail.
#[inline]
fn first_nul(field: &[u8]) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut words = field.chunks_exact(8);
    let mut base = 0;
    for w in &mut words {
        let mut a = [0_u8; 8];
        a.copy_from_slice(w);
        let x = u64::from_le_bytes(a);
        let zero = x.wrapping_sub(LO) & !x & HI;
        if zero != 0 {
            // In little-endian order the lowest flagged byte is the first
            // zero byte (higher flags can be false positives, lower cannot).
            return base + (zero.trailing_zeros() / 8) as usize;
        }
        base += 8;
    }
    let tail = words.remainder();
    base + tail.iter().position(|&b| b == 0).unwrap_or(tail.len())
}

#[cfg(test)]
#[path = "event_tests.rs"]
mod tests;
