//! The pure record layer: a bounds-checked walk over `inotify_event` records.
//!
//! Nothing here makes a syscall. [`parse`] takes any bytes, at any alignment,
//! and yields borrowed [`Event`]s; it never allocates, never panics, never
//! reads out of bounds and always makes progress.

use core::ffi::CStr;
use core::fmt;

use crate::shared::ByteStr;

use linux_raw_sys::general::inotify_event;

use super::{EventError, EventFlags, ParseErrorKind};
use crate::record::{Cursor, field, until_padding, walk};

/// Size of the fixed `struct inotify_event` header: `wd`, `mask`, `cookie`,
/// `len`, 4 bytes each.
pub const HEADER_LEN: usize = size_of::<inotify_event>();
const _: () = assert!(HEADER_LEN == 16);

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
        cursor: Cursor::new(bytes),
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
    ///
    /// The kernel ends each name with 1 to 16 NULs (the field is padded to
    /// a multiple of 16 bytes), so the name ends at the first NUL of the
    /// field's last 16 bytes: one 16-byte compare finds it, for any name
    /// length. In bytes that did not come from the kernel, a NUL before
    /// those 16 bytes is returned as part of the name (and [`name`](Self::name)
    /// is then `None`).
    #[inline]
    #[must_use]
    pub fn name_bytes(&self) -> &'buf [u8] {
        until_padding(self.name_field)
    }

    /// The name as a C string, or `None` when the event carries no name
    /// (or, in bytes that did not come from the kernel, when
    /// [`name_bytes`](Self::name_bytes) holds a NUL).
    #[inline]
    #[must_use]
    pub fn name(&self) -> Option<&'buf CStr> {
        if self.name_field.is_empty() {
            return None;
        }
        // The name and the NUL after it; `None` when there is no NUL in
        // the field's last 16 bytes (`get` fails) or the name holds one.
        let with_nul = self
            .name_field
            .get(..=until_padding(self.name_field).len())?;
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

walk! {
    /// The events in a filled buffer: an [`Iterator`] over borrowed records.
    ///
    /// Made by [`parse`] and by the read methods of
    /// [`Inotify`](super::Inotify). See [`parse`] for what it yields.
    #[must_use = "an inotify read consumes events from the kernel's queue; iterate them"]
    pub struct Events<'buf>;
    pub(crate) const EMPTY;
}

impl Events<'_> {
    /// Ends iteration at the record the cursor is on: the cold path, out
    /// of line so that the loop around `next` keeps its registers.
    #[cold]
    #[inline(never)]
    fn fail(&mut self, kind: ParseErrorKind) -> EventError {
        EventError::stop(&mut self.cursor, kind)
    }
}

impl<'buf> Iterator for Events<'buf> {
    type Item = Result<Event<'buf>, EventError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let (header, after) = match self.cursor.head::<HEADER_LEN>()? {
            Ok(split) => split,
            Err(available) => {
                return Some(Err(self.fail(ParseErrorKind::TruncatedHeader { available })));
            }
        };
        let len = field!(header, inotify_event, len) as usize;
        // (On 64-bit targets `len` < 2^32, so this never saturates.)
        let Some((record, tail)) = self
            .cursor
            .rest()
            .split_at_checked(len.saturating_add(HEADER_LEN))
        else {
            return Some(Err(self.fail(ParseErrorKind::TruncatedName {
                len,
                available: after.len(),
            })));
        };
        // What the name field holds is not checked here: the kernel pads
        // every name with NULs, and `name_bytes` defines a name for any
        // bytes (a field without NUL is its own name). Checking the last
        // byte cost 2 instructions per event in every loop, for a record
        // the kernel never writes (see "Cost" in src/record.rs).
        let name_field = record.get(HEADER_LEN..).unwrap_or_default();
        self.cursor.advance(tail);
        let event = Event {
            wd: field!(header, inotify_event, wd),
            mask: field!(header, inotify_event, mask),
            cookie: field!(header, inotify_event, cookie),
            name_field,
        };
        if event.is_overflow() {
            return Some(Err(EventError::QueueOverflow));
        }
        Some(Ok(event))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.cursor.size_hint(HEADER_LEN)
    }
}

#[cfg(test)]
#[path = "event_tests.rs"]
mod tests;
