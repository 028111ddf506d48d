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
        rest: bytes,
        stopped: None,
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
        until_nul(self.name_field)
    }

    /// The name as a C string, or `None` when the event carries no name.
    #[inline]
    #[must_use]
    pub fn name(&self) -> Option<&'buf CStr> {
        if self.name_field.is_empty() {
            return None;
        }
        // The parser checked that the field ends in NUL, so the name is
        // followed by a NUL, and the slice below holds exactly one, at its end.
        let with_nul = self.name_field.get(..=until_nul(self.name_field).len())?;
        CStr::from_bytes_with_nul(with_nul).ok()
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
#[derive(Clone)]
#[must_use = "an inotify read consumes events from the kernel's queue; iterate them"]
pub struct Events<'buf> {
    bytes: &'buf [u8],
    /// The bytes not yet consumed; emptied when a record is malformed.
    rest: &'buf [u8],
    /// Where a malformed record stopped iteration.
    stopped: Option<usize>,
}

impl<'buf> Events<'buf> {
    /// Events over nothing.
    pub(crate) const EMPTY: Events<'static> = Events {
        bytes: &[],
        rest: &[],
        stopped: None,
    };

    /// The bytes not yet consumed: empty once every record was yielded, the
    /// failing record onward after a [`EventError::Malformed`].
    #[must_use]
    pub fn remainder(&self) -> &'buf [u8] {
        match self.stopped {
            Some(at) => self.bytes.get(at..).unwrap_or_default(),
            None => self.rest,
        }
    }

    /// How many bytes were consumed so far.
    #[must_use]
    pub fn offset(&self) -> usize {
        match self.stopped {
            Some(at) => at,
            None => self.bytes.len() - self.rest.len(),
        }
    }

    /// All the bytes this iterator walks, consumed or not.
    #[must_use]
    pub fn as_bytes(&self) -> &'buf [u8] {
        self.bytes
    }

    /// Whether nothing is left to yield.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Ends iteration at the record that starts `self.rest`.
    #[inline]
    fn fail(&mut self, kind: ParseErrorKind) -> EventError {
        let offset = self.bytes.len() - self.rest.len();
        // Stop here: the remainder keeps the bad record, `next` yields None.
        self.stopped = Some(offset);
        self.rest = &[];
        EventError::Malformed(ParseError { offset, kind })
    }
}

/// Shows what a derived `Debug` would if the fields were `bytes`, `offset`
/// and `failed`: the internal layout is not part of the output.
impl fmt::Debug for Events<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events")
            .field("bytes", &self.bytes)
            .field("offset", &self.offset())
            .field("failed", &self.stopped.is_some())
            .finish()
    }
}

impl<'buf> Iterator for Events<'buf> {
    type Item = Result<Event<'buf>, EventError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let Some((header, tail)) = self.rest.split_first_chunk::<HEADER_LEN>() else {
            if self.rest.is_empty() {
                return None;
            }
            return Some(Err(self.fail(ParseErrorKind::TruncatedHeader {
                available: self.rest.len(),
            })));
        };
        let word = |i: usize| [header[i], header[i + 1], header[i + 2], header[i + 3]];
        let len = u32::from_ne_bytes(word(12)) as usize;
        // (On 64-bit targets `len` < 2^32, so this never saturates.)
        let Some((record, rest)) = self.rest.split_at_checked(len.saturating_add(HEADER_LEN))
        else {
            return Some(Err(self.fail(ParseErrorKind::TruncatedName {
                len,
                available: tail.len(),
            })));
        };
        // The name field must end in NUL. Checking the record's last byte
        // does it with no test for an empty field: then that byte is the top
        // byte of `len`, which is 0 (whatever the byte order), as it must be.
        if record.last() != Some(&0) {
            return Some(Err(self.fail(ParseErrorKind::UnterminatedName { len })));
        }
        let name_field = record.get(HEADER_LEN..).unwrap_or_default();
        self.rest = rest;
        let event = Event {
            wd: i32::from_ne_bytes(word(0)),
            mask: u32::from_ne_bytes(word(4)),
            cookie: u32::from_ne_bytes(word(8)),
            name_field,
        };
        if event.is_overflow() {
            return Some(Err(EventError::QueueOverflow));
        }
        Some(Ok(event))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.rest.len().div_ceil(HEADER_LEN)))
    }
}

impl FusedIterator for Events<'_> {}

/// The bytes of `field` before its first NUL (all of it if there is none).
///
/// The kernel pads each name with NULs to a multiple of 16 bytes, so a
/// kernel field is whole 16-byte blocks, nearly always one to three: for
/// those lengths all blocks are scanned at once ([`nul_mask`]), with no
/// loop and no branch. Any other length (a long name, or bytes that did not
/// come from the kernel) takes [`first_nul`], with the same result.
#[inline]
fn until_nul(field: &[u8]) -> &[u8] {
    // Each `trailing_zeros` is at most the length of the blocks its mask
    // covers (the mask's width for 16 and 32 bytes, a sentinel bit for 48),
    // and is that length when there is no NUL, so `get` never fails and the
    // whole field comes back. (The order is deliberate: LLVM turns these
    // tests into a switch and emits the comparisons in reverse, so the
    // common 16 is tested first.)
    if let Ok(blocks) = <&[u8; 48]>::try_from(field) {
        if let (Some((a, rest)), Some(c)) =
            (blocks.split_first_chunk::<16>(), blocks.last_chunk::<16>())
        {
            if let Some(b) = rest.first_chunk::<16>() {
                let mask = u64::from(nul_mask(a))
                    | u64::from(nul_mask(b)) << 16
                    | u64::from(nul_mask(c)) << 32
                    | 1 << 48;
                return blocks
                    .get(..mask.trailing_zeros() as usize)
                    .unwrap_or(blocks);
            }
        }
    }
    if let Ok(blocks) = <&[u8; 32]>::try_from(field) {
        if let (Some(a), Some(b)) = (blocks.first_chunk::<16>(), blocks.last_chunk::<16>()) {
            let mask = u32::from(nul_mask(a)) | u32::from(nul_mask(b)) << 16;
            return blocks
                .get(..mask.trailing_zeros() as usize)
                .unwrap_or(blocks);
        }
    }
    if let Ok(block) = <&[u8; 16]>::try_from(field) {
        let end = nul_mask(block).trailing_zeros() as usize;
        return block.get(..end).unwrap_or(block);
    }
    field.get(..first_nul(field)).unwrap_or(field)
}

/// Index of the first NUL in `field`, or `field.len()` if there is none:
/// 16-byte blocks, then byte by byte.
#[inline(never)]
fn first_nul(field: &[u8]) -> usize {
    let mut base = 0;
    let mut rest = field;
    while let Some((block, tail)) = rest.split_first_chunk::<16>() {
        let i = nul_mask(block).trailing_zeros() as usize;
        if i < 16 {
            return base + i;
        }
        base += 16;
        rest = tail;
    }
    base + rest.iter().position(|&b| b == 0).unwrap_or(rest.len())
}

/// The NUL bytes of a 16-byte block: bit `i` is set when byte `i` is 0.
///
/// `x86_64`: one SSE2 compare of all 16 bytes (SSE2 is part of the `x86_64`
/// baseline, so no runtime detection).
#[cfg(target_arch = "x86_64")]
#[inline]
fn nul_mask(block: &[u8; 16]) -> u16 {
    use core::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_setzero_si128,
    };
    // SAFETY: SSE2 is enabled on every x86_64 target, so the intrinsics are
    // available. `_mm_loadu_si128` reads exactly the 16 bytes `block`
    // borrows and has no alignment requirement.
    let zeros = unsafe {
        _mm_movemask_epi8(_mm_cmpeq_epi8(
            _mm_loadu_si128(block.as_ptr().cast()),
            _mm_setzero_si128(),
        ))
    };
    // `movemask` sets only the low 16 bits.
    zeros as u16
}

/// The NUL bytes of a 16-byte block: bit `i` is set when byte `i` is 0.
///
/// Elsewhere: [`nul_mask_swar`].
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn nul_mask(block: &[u8; 16]) -> u16 {
    nul_mask_swar(block)
}

/// The NUL bytes of a 16-byte block, portably: two 8-byte words with an
/// exact zero-byte test. (Also compiled for the tests on `x86_64`, which
/// check it against the SSE2 version.)
#[cfg(any(test, not(target_arch = "x86_64")))]
#[inline]
fn nul_mask_swar(block: &[u8; 16]) -> u16 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let word = |i: usize| {
        let x = u64::from_le_bytes([
            block[i],
            block[i + 1],
            block[i + 2],
            block[i + 3],
            block[i + 4],
            block[i + 5],
            block[i + 6],
            block[i + 7],
        ]);
        // Bit 7 of each byte is set exactly when that byte is 0 (no carry
        // crosses bytes: each byte's low 7 bits + 0x7f <= 0xfe).
        let zero = !(((x & LOW7) + LOW7) | x | LOW7);
        // Gather the eight bit-7 flags into the top byte, byte i -> bit i:
        // the products of the flag at 8i and the constant's bit 7j + 7 land
        // on distinct bits (so no carries), those with i + j = 7 on 56 + i.
        ((zero >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u16
    };
    word(0) | (word(8) << 8)
}

#[cfg(test)]
#[path = "event_tests.rs"]
mod tests;
