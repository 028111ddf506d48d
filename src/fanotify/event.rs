//! The pure record layer: a bounds-checked walk over
//! `fanotify_event_metadata` records and the info records inside them.
//!
//! Nothing here makes a syscall or adopts a descriptor. [`parse`] takes any
//! bytes, at any alignment, and yields borrowed [`Event`]s whose fd and pidfd
//! are plain numbers; it never allocates, never panics, never reads out of
//! bounds and always makes progress.

use core::ffi::CStr;
use core::fmt;
use core::iter::FusedIterator;

use rustix::io::Errno;

use super::EventFlags;
use super::abi as c;

/// Size of `struct fanotify_event_metadata` (`FAN_EVENT_METADATA_LEN`).
pub const METADATA_LEN: usize = 24;

/// Size of `struct fanotify_event_info_header`.
pub const INFO_HEADER_LEN: usize = 4;

/// The metadata version this parser knows (`FANOTIFY_METADATA_VERSION`).
pub const METADATA_VERSION: u8 = c::FANOTIFY_METADATA_VERSION;

/// Header bytes of an FID-type record before the file handle: info header
/// (4) and fsid (8).
const FID_FIXED: usize = 12;
/// `struct file_handle` before `f_handle`: `handle_bytes` and `handle_type`.
const HANDLE_HEADER: usize = 8;

/// The largest single event the kernel builds: metadata, three FID-type
/// records each with a `MAX_HANDLE_SZ` handle and (for two) a name of
/// `NAME_MAX` + NUL, a pidfd record and an error record, rounded up.
/// A read buffer of at least this size can never fail with `EINVAL`.
pub const MIN_BUFFER_LEN: usize = {
    let fid = FID_FIXED + HANDLE_HEADER + c::MAX_HANDLE_SZ;
    let named = fid + 256;
    let total = METADATA_LEN + 2 * named + fid + 8 + 12 + 24 + 16;
    // Round up to a multiple of 64.
    total.div_ceil(64) * 64
};

/// The buffer size the object layer suggests: 4 KiB.
///
/// Measured on Linux 6.18 (see the README and `benches/fanotify.rs`): in fd
/// mode a 4 KiB read is faster than a 64 KiB one, because the kernel opens
/// a file for every event a read returns and they are all open at once
/// until the reader closes them; in FID mode the size matters little.
pub const DEFAULT_BUFFER_LEN: usize = 4096;

/// Parses the bytes of one or more fanotify event records.
///
/// Pure, with no syscall: `bytes` may come from a `read(2)` on a fanotify
/// descriptor, a file, or a fuzzer; any value, length and alignment is
/// accepted. The fd and pidfd numbers in the records are reported as
/// numbers and never adopted or closed: only
/// [`Fanotify::read`](super::Fanotify::read) owns descriptors.
///
/// The iterator yields `Ok(event)` for each whole record,
/// `Err(EventError::QueueOverflow)` for a `FAN_Q_OVERFLOW` record (and goes
/// on), and `Err(EventError::Malformed(_))` for the first record that does
/// not fit or has the wrong metadata version, after which it ends.
/// [`Events::remainder`] then holds the bytes not consumed.
///
/// # Example
/// ```
/// use kernfd::fanotify::{parse, EventFlags};
///
/// // A FAN_OPEN event with fd 7 from pid 42, as the kernel lays it out.
/// let mut bytes = Vec::new();
/// bytes.extend_from_slice(&24_u32.to_ne_bytes()); // event_len
/// bytes.extend_from_slice(&[3, 0]);               // vers, reserved
/// bytes.extend_from_slice(&24_u16.to_ne_bytes()); // metadata_len
/// bytes.extend_from_slice(&EventFlags::OPEN.bits().to_ne_bytes());
/// bytes.extend_from_slice(&7_i32.to_ne_bytes());  // fd
/// bytes.extend_from_slice(&42_i32.to_ne_bytes()); // pid
///
/// let mut events = parse(&bytes);
/// let event = events.next().unwrap().unwrap();
/// assert_eq!(event.mask(), EventFlags::OPEN);
/// assert_eq!((event.fd(), event.pid()), (Some(7), 42));
/// assert!(events.next().is_none());
/// ```
#[inline]
pub fn parse(bytes: &[u8]) -> Events<'_> {
    Events {
        bytes,
        offset: 0,
        failed: false,
    }
}

/// Reads a native-endian integer at `at`; the caller checked the bounds.
macro_rules! ne {
    ($ty:ty, $bytes:expr, $at:expr) => {{
        const N: usize = core::mem::size_of::<$ty>();
        let mut a = [0_u8; N];
        a.copy_from_slice(&$bytes[$at..$at + N]);
        <$ty>::from_ne_bytes(a)
    }};
}

/// One fanotify event, borrowed from the buffer it was read into.
///
/// The metadata and the info records stay in the buffer (validated when
/// the event was parsed, at any alignment); the metadata fields are read
/// from it on demand, and the info records are walked in place by
/// [`infos`](Self::infos).
#[doc(alias = "fanotify_event_metadata")]
#[derive(Clone, Copy)]
pub struct Event<'buf> {
    /// The `fanotify_event_metadata` header, validated (version,
    /// `event_len`, `metadata_len`); its fields are read from it, which
    /// keeps the event small.
    meta: &'buf [u8; METADATA_LEN],
    /// The info records: `[metadata_len..event_len]`, validated.
    info: &'buf [u8],
    /// The first PIDFD record's value, found while validating; -1 if none.
    pidfd: i32,
}

impl Event<'_> {
    /// `event_len`.
    #[inline]
    fn event_len(&self) -> u32 {
        ne!(u32, self.meta, 0)
    }

    /// `metadata_len`.
    #[inline]
    fn metadata_len_raw(&self) -> u16 {
        ne!(u16, self.meta, 6)
    }

    /// `mask`.
    #[inline]
    fn mask_bits(&self) -> u64 {
        ne!(u64, self.meta, 8)
    }

    /// The fields that make an event's identity, as they were compared and
    /// hashed when they were stored one by one.
    #[inline]
    fn key(&self) -> (u64, i32, i32, u32, u16, &[u8], i32) {
        (
            self.mask_bits(),
            self.raw_fd(),
            self.pid(),
            self.event_len(),
            self.metadata_len_raw(),
            self.info,
            self.pidfd,
        )
    }
}

impl PartialEq for Event<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Event<'_> {}

impl core::hash::Hash for Event<'_> {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

impl<'buf> Event<'buf> {
    /// The event's mask. Unknown kernel bits are kept.
    #[inline]
    #[must_use]
    pub fn mask(&self) -> EventFlags {
        EventFlags::from_bits_retain(self.mask_bits())
    }

    /// The event's file descriptor number, `None` when there is none
    /// (`FAN_NOFD`, FID mode, overflow, or an open that failed).
    ///
    /// From [`parse`] this is only a number. From a real read the
    /// descriptor is owned by the [`OwnedEvent`](super::OwnedEvent).
    #[inline]
    #[must_use]
    pub fn fd(&self) -> Option<i32> {
        let fd = self.raw_fd();
        (fd >= 0).then_some(fd)
    }

    /// The raw `fd` field: a descriptor, `FAN_NOFD` (-1), or with
    /// `REPORT_FD_ERROR` a negative errno.
    #[inline]
    #[must_use]
    pub fn raw_fd(&self) -> i32 {
        ne!(i32, self.meta, 16)
    }

    /// Why the kernel could not open the event's file, when the group was
    /// made with [`InitFlags::REPORT_FD_ERROR`](super::InitFlags::REPORT_FD_ERROR)
    /// and `fd` holds `-errno` (a value in `-4095..=-2`).
    #[inline]
    #[must_use]
    pub fn fd_error(&self) -> Option<Errno> {
        // Only -4095..=-2 are errnos; other negative values are not.
        let fd = self.raw_fd();
        (-4095..=-2)
            .contains(&fd)
            .then(|| Errno::from_raw_os_error(-fd))
    }

    /// The process (or, with `REPORT_TID`, thread) that caused the event;
    /// 0 when it is in another pid namespace.
    #[inline]
    #[must_use]
    pub fn pid(&self) -> i32 {
        ne!(i32, self.meta, 20)
    }

    /// The info records of this event, in the kernel's order.
    #[inline]
    #[must_use]
    pub fn infos(&self) -> Infos<'buf> {
        Infos { rest: self.info }
    }

    /// The raw info-record bytes of this event (after the metadata).
    #[inline]
    #[must_use]
    pub fn info_bytes(&self) -> &'buf [u8] {
        self.info
    }

    /// The pidfd number from a PIDFD info record, if the event has one and
    /// the kernel could make it (`REPORT_PIDFD`). A number only: from a real
    /// read the pidfd is owned by the [`OwnedEvent`](super::OwnedEvent).
    #[inline]
    #[must_use]
    pub fn pidfd(&self) -> Option<i32> {
        (self.pidfd >= 0).then_some(self.pidfd)
    }

    /// The first FID-type record (`FID`, `DFID`, `DFID_NAME`, `OLD/NEW_DFID_NAME`)
    /// of this event, if any.
    #[must_use]
    pub fn fid(&self) -> Option<Fid<'buf>> {
        self.infos().find_map(|i| match i {
            Info::Fid(f) => Some(f),
            _ => None,
        })
    }

    /// Whether this event waits for a permission response.
    #[inline]
    #[must_use]
    pub fn is_permission(&self) -> bool {
        self.mask().is_permission()
    }

    /// Whether this is the `FAN_Q_OVERFLOW` record.
    #[inline]
    #[must_use]
    pub fn is_overflow(&self) -> bool {
        self.mask_bits() & c::FAN_Q_OVERFLOW != 0
    }

    /// The length this record occupied in the buffer (`event_len`).
    #[inline]
    #[must_use]
    pub fn record_len(&self) -> usize {
        self.event_len() as usize
    }

    /// `metadata_len`: where the info records start within the record.
    #[inline]
    #[must_use]
    pub fn metadata_len(&self) -> usize {
        usize::from(self.metadata_len_raw())
    }
}

impl fmt::Debug for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct InfoList<'a>(Infos<'a>);
        impl fmt::Debug for InfoList<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list().entries(self.0.clone()).finish()
            }
        }
        f.debug_struct("Event")
            .field("mask", &self.mask())
            .field("fd", &self.raw_fd())
            .field("pid", &self.pid())
            .field("infos", &InfoList(self.infos()))
            .finish()
    }
}

/// One info record of an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Info<'buf> {
    /// A file-identifier record: `FID`, `DFID`, `DFID_NAME`, `OLD_DFID_NAME` or
    /// `NEW_DFID_NAME` (see [`Fid::kind`]).
    Fid(Fid<'buf>),
    /// `FAN_EVENT_INFO_TYPE_PIDFD`: the pidfd number, `FAN_NOPIDFD` (-1)
    /// when the process had exited, `FAN_EPIDFD` (-2) on another error.
    Pidfd(i32),
    /// `FAN_EVENT_INFO_TYPE_ERROR` (with `FAN_FS_ERROR`).
    Error {
        /// The filesystem's errno for the first error.
        error: i32,
        /// How many errors happened since the last report.
        count: u32,
    },
    /// `FAN_EVENT_INFO_TYPE_RANGE` (with `FAN_PRE_ACCESS`): the range about
    /// to be accessed.
    Range {
        /// First byte.
        offset: u64,
        /// Number of bytes.
        count: u64,
    },
    /// `FAN_EVENT_INFO_TYPE_MNT` (with `MNT_ATTACH`/`MNT_DETACH`): the
    /// unique mount id (as `statx`'s `STATX_MNT_ID_UNIQUE`).
    Mnt {
        /// The mount's unique id.
        mnt_id: u64,
    },
    /// A record type this crate does not know, handed back whole (header
    /// included) so nothing is lost.
    Unknown {
        /// The record's `info_type`.
        info_type: u8,
        /// The whole record, header included.
        record: &'buf [u8],
    },
}

/// Which FID-type record a [`Fid`] came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FidKind {
    /// `FAN_EVENT_INFO_TYPE_FID`: the object itself (or, with
    /// `REPORT_TARGET_FID`, the child of a directory-entry event).
    Fid,
    /// `FAN_EVENT_INFO_TYPE_DFID`: the parent directory, no name.
    Dfid,
    /// `FAN_EVENT_INFO_TYPE_DFID_NAME`: the parent directory and the
    /// entry's name.
    DfidName,
    /// `FAN_EVENT_INFO_TYPE_OLD_DFID_NAME`: the old directory and name of
    /// a `FAN_RENAME`.
    OldDfidName,
    /// `FAN_EVENT_INFO_TYPE_NEW_DFID_NAME`: the new directory and name of
    /// a `FAN_RENAME`.
    NewDfidName,
}

impl FidKind {
    /// Whether this kind carries a name.
    #[must_use]
    pub fn has_name(self) -> bool {
        matches!(self, Self::DfidName | Self::OldDfidName | Self::NewDfidName)
    }
}

/// A file-identifier record: filesystem id, file handle and, for the
/// `*_NAME` kinds, a name, all borrowed from the buffer.
#[doc(alias = "fanotify_event_info_fid")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fid<'buf> {
    kind: FidKind,
    fsid: [i32; 2],
    handle: FileHandle<'buf>,
    /// The name with its NUL (and nothing after it), for the `*_NAME` kinds.
    name: Option<&'buf [u8]>,
}

impl<'buf> Fid<'buf> {
    /// Which record this is.
    #[inline]
    #[must_use]
    pub fn kind(&self) -> FidKind {
        self.kind
    }

    /// The filesystem id (`__kernel_fsid_t`, as `statfs`'s `f_fsid`).
    #[inline]
    #[must_use]
    pub fn fsid(&self) -> [i32; 2] {
        self.fsid
    }

    /// The file handle, ready for
    /// [`open_by_handle_at`](super::open_by_handle_at).
    #[inline]
    #[must_use]
    pub fn handle(&self) -> FileHandle<'buf> {
        self.handle
    }

    /// The entry name without its NUL, for the `*_NAME` kinds (`"."` when
    /// the event is about the directory itself).
    #[inline]
    #[must_use]
    pub fn name_bytes(&self) -> Option<&'buf [u8]> {
        self.name
            .map(|n| n.split_last().map_or(n, |(_, name)| name))
    }

    /// The entry name as a C string.
    #[must_use]
    pub fn name(&self) -> Option<&'buf CStr> {
        CStr::from_bytes_with_nul(self.name?).ok()
    }

    /// The name as an `OsStr`, for the `*_NAME` kinds.
    #[cfg(feature = "std")]
    #[must_use]
    pub fn name_os(&self) -> Option<&'buf std::ffi::OsStr> {
        use std::os::unix::ffi::OsStrExt;
        self.name_bytes().map(std::ffi::OsStr::from_bytes)
    }
}

/// A `struct file_handle` borrowed from an event: `handle_bytes`,
/// `handle_type` and the opaque `f_handle`.
#[doc(alias = "file_handle")]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileHandle<'buf> {
    /// The whole `struct file_handle`, header and `f_handle`.
    raw: &'buf [u8],
}

impl<'buf> FileHandle<'buf> {
    /// `handle_type`.
    #[inline]
    #[must_use]
    pub fn handle_type(&self) -> i32 {
        ne!(i32, self.raw, 4)
    }

    /// `f_handle`: the opaque handle bytes (`handle_bytes` of them).
    #[inline]
    #[must_use]
    pub fn bytes(&self) -> &'buf [u8] {
        &self.raw[HANDLE_HEADER..]
    }

    /// The whole `struct file_handle` as the kernel expects it back.
    #[inline]
    #[must_use]
    pub fn as_raw(&self) -> &'buf [u8] {
        self.raw
    }
}

impl fmt::Debug for FileHandle<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FileHandle(type={}, ", self.handle_type())?;
        for b in self.bytes() {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

/// The info records of one event: an iterator over a validated region.
#[derive(Clone, Debug)]
pub struct Infos<'buf> {
    rest: &'buf [u8],
}

impl<'buf> Iterator for Infos<'buf> {
    type Item = Info<'buf>;

    #[inline]
    fn next(&mut self) -> Option<Info<'buf>> {
        // The region was validated when its event was parsed, so nothing
        // here fails; the steps still go through checked slicing, and
        // anything off ends the walk (a header) or comes back raw (a body).
        let h = self.rest.first_chunk::<INFO_HEADER_LEN>()?;
        let info_type = h[0];
        let len = usize::from(u16::from_ne_bytes([h[2], h[3]]));
        if len < INFO_HEADER_LEN {
            return None;
        }
        let (record, rest) = self.rest.split_at_checked(len)?;
        self.rest = rest;
        Some(decode_info(info_type, record).unwrap_or(Info::Unknown { info_type, record }))
    }
}

impl FusedIterator for Infos<'_> {}

/// Decodes one whole record (header included); `None` when a known type
/// does not fit (which [`check_record`] rules out for a parsed event).
/// Unknown types decode to [`Info::Unknown`].
#[inline]
fn decode_info(info_type: u8, record: &[u8]) -> Option<Info<'_>> {
    Some(match info_type {
        c::FAN_EVENT_INFO_TYPE_FID => Info::Fid(decode_fid(FidKind::Fid, record)?),
        c::FAN_EVENT_INFO_TYPE_DFID_NAME => Info::Fid(decode_fid(FidKind::DfidName, record)?),
        c::FAN_EVENT_INFO_TYPE_DFID => Info::Fid(decode_fid(FidKind::Dfid, record)?),
        c::FAN_EVENT_INFO_TYPE_OLD_DFID_NAME => {
            Info::Fid(decode_fid(FidKind::OldDfidName, record)?)
        }
        c::FAN_EVENT_INFO_TYPE_NEW_DFID_NAME => {
            Info::Fid(decode_fid(FidKind::NewDfidName, record)?)
        }
        c::FAN_EVENT_INFO_TYPE_PIDFD => {
            let (_, r) = record.split_first_chunk::<4>()?;
            Info::Pidfd(i32::from_ne_bytes(*r.first_chunk()?))
        }
        c::FAN_EVENT_INFO_TYPE_ERROR => {
            let (_, r) = record.split_first_chunk::<4>()?;
            let (error, r) = r.split_first_chunk::<4>()?;
            Info::Error {
                error: i32::from_ne_bytes(*error),
                count: u32::from_ne_bytes(*r.first_chunk()?),
            }
        }
        c::FAN_EVENT_INFO_TYPE_RANGE => {
            let (_, r) = record.split_first_chunk::<8>()?;
            let (offset, r) = r.split_first_chunk::<8>()?;
            Info::Range {
                offset: u64::from_ne_bytes(*offset),
                count: u64::from_ne_bytes(*r.first_chunk()?),
            }
        }
        c::FAN_EVENT_INFO_TYPE_MNT => {
            let (_, r) = record.split_first_chunk::<8>()?;
            Info::Mnt {
                mnt_id: u64::from_ne_bytes(*r.first_chunk()?),
            }
        }
        _ => Info::Unknown { info_type, record },
    })
}

/// Decodes a whole FID-type record; `None` when it does not fit.
#[inline]
fn decode_fid(kind: FidKind, record: &[u8]) -> Option<Fid<'_>> {
    // info header (4), fsid (8), handle_bytes (4), handle_type (4).
    let (fixed, after) = record.split_first_chunk::<{ FID_FIXED + HANDLE_HEADER }>()?;
    let fsid = [
        i32::from_ne_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]),
        i32::from_ne_bytes([fixed[8], fixed[9], fixed[10], fixed[11]]),
    ];
    let handle_bytes = u32::from_ne_bytes([fixed[12], fixed[13], fixed[14], fixed[15]]) as usize;
    if handle_bytes > after.len() {
        return None;
    }
    // No overflow: `handle_bytes` fits in `record` after the fixed part.
    let handle = FileHandle {
        raw: record.get(FID_FIXED..FID_FIXED + HANDLE_HEADER + handle_bytes)?,
    };
    let name = if kind.has_name() {
        let tail = after.get(handle_bytes..)?;
        Some(tail.get(..=first_nul(tail)?)?)
    } else {
        None
    };
    Some(Fid {
        kind,
        fsid,
        handle,
        name,
    })
}

/// What an [`Events`] iterator yields besides events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventError {
    /// The kernel's queue overflowed (`FAN_Q_OVERFLOW`): events were
    /// dropped. Iteration goes on after it. Read faster, or make the group
    /// with [`InitFlags::UNLIMITED_QUEUE`](super::InitFlags::UNLIMITED_QUEUE).
    QueueOverflow,
    /// A record did not fit in the bytes that were left, or had another
    /// metadata version; iteration ends.
    Malformed(ParseError),
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::QueueOverflow => f.write_str(
                "fanotify queue overflow: events were lost (read faster or use FAN_UNLIMITED_QUEUE)",
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
    /// Byte offset of the event record that failed, from the start of the
    /// input.
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

/// The ways an event record can fail to parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// Fewer than [`METADATA_LEN`] bytes were left for the metadata.
    TruncatedHeader {
        /// Bytes left.
        available: usize,
    },
    /// `vers` is not [`METADATA_VERSION`]: the kernel speaks a format this
    /// crate does not know.
    VersionMismatch {
        /// The version in the record.
        found: u8,
    },
    /// `event_len` is shorter than the metadata (a zero length would loop
    /// forever in a naive reader).
    BadEventLen {
        /// The `event_len` in the record.
        event_len: usize,
    },
    /// `event_len` runs past the end of the input.
    TruncatedEvent {
        /// The `event_len` in the record.
        event_len: usize,
        /// Bytes left from the record's start.
        available: usize,
    },
    /// `metadata_len` is shorter than the metadata or longer than the event.
    BadMetadataLen {
        /// The `metadata_len` in the record.
        metadata_len: usize,
    },
    /// An info record is wrong.
    Info {
        /// Its offset from the start of its event record.
        at: usize,
        /// What is wrong with it.
        kind: InfoErrorKind,
    },
}

/// The ways an info record can be wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InfoErrorKind {
    /// Fewer than 4 bytes left for an info header.
    TruncatedHeader {
        /// Bytes left in the event.
        available: usize,
    },
    /// The header's `len` is below 4 or runs past the event's end.
    BadLen {
        /// The `len` in the header.
        len: usize,
        /// Bytes left in the event.
        available: usize,
    },
    /// A known record type is shorter than its fixed fields.
    TooShort {
        /// The record type.
        info_type: u8,
        /// Its `len`.
        len: usize,
    },
    /// A file handle's `handle_bytes` runs past the record.
    BadHandle {
        /// The `handle_bytes` in the record.
        handle_bytes: usize,
        /// Bytes left in the record after the handle header.
        available: usize,
    },
    /// A `*_NAME` record's name has no NUL inside the record.
    UnterminatedName,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed fanotify record at byte {}: ", self.offset)?;
        match self.kind {
            ParseErrorKind::TruncatedHeader { available } => {
                write!(f, "{available} bytes left, metadata needs {METADATA_LEN}")
            }
            ParseErrorKind::VersionMismatch { found } => write!(
                f,
                "metadata version {found}, this parser knows {METADATA_VERSION}"
            ),
            ParseErrorKind::BadEventLen { event_len } => {
                write!(f, "event_len {event_len} is below {METADATA_LEN}")
            }
            ParseErrorKind::TruncatedEvent {
                event_len,
                available,
            } => write!(f, "event_len {event_len}, only {available} bytes left"),
            ParseErrorKind::BadMetadataLen { metadata_len } => {
                write!(f, "metadata_len {metadata_len} out of range")
            }
            ParseErrorKind::Info { at, kind } => {
                write!(f, "info record at +{at}: ")?;
                match kind {
                    InfoErrorKind::TruncatedHeader { available } => {
                        write!(f, "{available} bytes left, a header needs 4")
                    }
                    InfoErrorKind::BadLen { len, available } => {
                        write!(f, "len {len} with {available} bytes left")
                    }
                    InfoErrorKind::TooShort { info_type, len } => {
                        write!(f, "type {info_type} cannot be {len} bytes long")
                    }
                    InfoErrorKind::BadHandle {
                        handle_bytes,
                        available,
                    } => write!(
                        f,
                        "file handle of {handle_bytes} bytes, only {available} left"
                    ),
                    InfoErrorKind::UnterminatedName => f.write_str("name without NUL"),
                }
            }
        }
    }
}

impl core::error::Error for ParseError {}

/// The events in a filled buffer: an [`Iterator`] over borrowed records.
///
/// Made by [`parse`]; it never owns descriptors. See [`parse`] for what it
/// yields.
#[derive(Clone, Debug)]
#[must_use = "iterate the events"]
pub struct Events<'buf> {
    bytes: &'buf [u8],
    offset: usize,
    /// Set by a malformed record: iteration has ended at `offset`.
    failed: bool,
}

impl<'buf> Events<'buf> {
    /// An iterator over nothing.
    pub const EMPTY: Events<'static> = Events {
        bytes: &[],
        offset: 0,
        failed: false,
    };

    /// The bytes not consumed yet: empty after a clean end, the failing
    /// record onwards after a malformed one.
    #[must_use]
    pub fn remainder(&self) -> &'buf [u8] {
        self.bytes.get(self.offset..).unwrap_or_default()
    }

    /// How many bytes have been consumed.
    #[must_use]
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Whether there is nothing (left) to iterate.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.failed || self.offset >= self.bytes.len()
    }

    #[cold]
    #[inline(never)]
    fn fail(&mut self, kind: ParseErrorKind) -> Result<Event<'buf>, EventError> {
        self.failed = true;
        Err(EventError::Malformed(ParseError {
            offset: self.offset,
            kind,
        }))
    }
}

impl<'buf> Iterator for Events<'buf> {
    type Item = Result<Event<'buf>, EventError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let rest = self.bytes.get(self.offset..)?;
        if rest.is_empty() {
            return None;
        }
        let Some((h, _)) = rest.split_first_chunk::<METADATA_LEN>() else {
            return Some(self.fail(ParseErrorKind::TruncatedHeader {
                available: rest.len(),
            }));
        };
        let event_len = u32::from_ne_bytes([h[0], h[1], h[2], h[3]]);
        if h[4] != METADATA_VERSION {
            return Some(self.fail(ParseErrorKind::VersionMismatch { found: h[4] }));
        }
        let len = event_len as usize;
        if len < METADATA_LEN {
            return Some(self.fail(ParseErrorKind::BadEventLen { event_len: len }));
        }
        let Some(record) = rest.get(..len) else {
            return Some(self.fail(ParseErrorKind::TruncatedEvent {
                event_len: len,
                available: rest.len(),
            }));
        };
        let metadata_len = u16::from_ne_bytes([h[6], h[7]]);
        let ml = usize::from(metadata_len);
        if ml < METADATA_LEN || ml > len {
            return Some(self.fail(ParseErrorKind::BadMetadataLen { metadata_len: ml }));
        }
        let info = &record[ml..];
        let pidfd = if info.is_empty() {
            -1
        } else if let Some(p) = scan_info(info) {
            p
        } else {
            // Rare: find out where and why, with the full error.
            match check_info(info) {
                Ok(p) => p,
                Err((at, kind)) => {
                    return Some(self.fail(ParseErrorKind::Info { at: ml + at, kind }));
                }
            }
        };
        self.offset += len;
        let event = Event {
            meta: h,
            info,
            pidfd,
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
        (0, Some(left.div_ceil(METADATA_LEN)))
    }
}

impl FusedIterator for Events<'_> {}

/// The hot twin of [`check_info`]: the same checks on the same records,
/// through the same [`check_record`], but with the error details dropped,
/// so that the compiler keeps only the comparisons. `Some` with the first
/// PIDFD record's value (-1 if none) exactly when `check_info` is `Ok`.
#[inline]
fn scan_info(info: &[u8]) -> Option<i32> {
    // Only the first PIDFD record counts (the kernel writes at most one).
    let (mut pidfd, mut seen) = (-1, false);
    let mut rest = info;
    while !rest.is_empty() {
        let h = rest.first_chunk::<INFO_HEADER_LEN>()?;
        let len = usize::from(u16::from_ne_bytes([h[2], h[3]]));
        if len < INFO_HEADER_LEN {
            return None;
        }
        let (record, tail) = rest.split_at_checked(len)?;
        if let Some(p) = check_record(h[0], record).ok()? {
            if !seen {
                (pidfd, seen) = (p, true);
            }
        }
        rest = tail;
    }
    Some(pidfd)
}

/// Panics unless the hot and the full validation walks agree on `info`:
/// same verdict, same pidfd. For the reference checks and the fuzzer.
#[cfg(any(test, fuzzing))]
pub(crate) fn walks_agree(info: &[u8]) {
    assert_eq!(scan_info(info), check_info(info).ok(), "{info:?}");
}

/// Validates the info records of one event; `Ok` with the first PIDFD
/// record's value (-1 if none), `Err` with the failing record's offset
/// within `info` and why. Called only when [`scan_info`] found something
/// wrong.
#[cold]
#[inline(never)]
fn check_info(info: &[u8]) -> Result<i32, (usize, InfoErrorKind)> {
    let mut pidfd = -1;
    let mut seen_pidfd = false;
    let mut at = 0;
    while at < info.len() {
        let rest = &info[at..];
        if rest.len() < INFO_HEADER_LEN {
            return Err((
                at,
                InfoErrorKind::TruncatedHeader {
                    available: rest.len(),
                },
            ));
        }
        let info_type = rest[0];
        let len = usize::from(u16::from_ne_bytes([rest[2], rest[3]]));
        if len < INFO_HEADER_LEN || len > rest.len() {
            return Err((
                at,
                InfoErrorKind::BadLen {
                    len,
                    available: rest.len(),
                },
            ));
        }
        if let Some(p) = check_record(info_type, &rest[..len]).map_err(|k| (at, k))? {
            if !seen_pidfd {
                pidfd = p;
                seen_pidfd = true;
            }
        }
        at += len;
    }
    Ok(pidfd)
}

/// Checks one whole record (header included) as [`decode_info`] would
/// decode it, without building it: O(1) for what the kernel writes. Returns
/// the pidfd of a PIDFD record.
#[inline]
fn check_record(info_type: u8, record: &[u8]) -> Result<Option<i32>, InfoErrorKind> {
    let len = record.len();
    let too_short = InfoErrorKind::TooShort { info_type, len };
    let class = TYPE_CLASS[usize::from(info_type)];
    if class & CLASS_FID != 0 {
        let Some((fixed, after)) = record.split_first_chunk::<{ FID_FIXED + HANDLE_HEADER }>()
        else {
            return Err(too_short);
        };
        let handle_bytes =
            u32::from_ne_bytes([fixed[12], fixed[13], fixed[14], fixed[15]]) as usize;
        let Some(tail) = after.get(handle_bytes..) else {
            return Err(InfoErrorKind::BadHandle {
                handle_bytes,
                available: after.len(),
            });
        };
        // The kernel pads names with NULs, so its records end in one; scan
        // only for anything else.
        if class & CLASS_NAMED != 0 && tail.last() != Some(&0) && first_nul(tail).is_none() {
            return Err(InfoErrorKind::UnterminatedName);
        }
        return Ok(None);
    }
    let need = |n: usize| if len < n { Err(too_short) } else { Ok(None) };
    match info_type {
        c::FAN_EVENT_INFO_TYPE_PIDFD => {
            need(8)?;
            Ok(Some(ne!(i32, record, 4)))
        }
        c::FAN_EVENT_INFO_TYPE_ERROR => need(12),
        c::FAN_EVENT_INFO_TYPE_RANGE => need(24),
        c::FAN_EVENT_INFO_TYPE_MNT => need(16),
        _ => Ok(None),
    }
}

/// What [`check_record`] needs to know of each record type, by type.
const TYPE_CLASS: [u8; 256] = {
    let mut t = [0_u8; 256];
    t[c::FAN_EVENT_INFO_TYPE_FID as usize] = CLASS_FID;
    t[c::FAN_EVENT_INFO_TYPE_DFID as usize] = CLASS_FID;
    t[c::FAN_EVENT_INFO_TYPE_DFID_NAME as usize] = CLASS_FID | CLASS_NAMED;
    t[c::FAN_EVENT_INFO_TYPE_OLD_DFID_NAME as usize] = CLASS_FID | CLASS_NAMED;
    t[c::FAN_EVENT_INFO_TYPE_NEW_DFID_NAME as usize] = CLASS_FID | CLASS_NAMED;
    t
};
/// In [`TYPE_CLASS`]: a FID-type record (`fanotify_event_info_fid`).
const CLASS_FID: u8 = 1;
/// In [`TYPE_CLASS`]: a FID-type record that carries a name.
const CLASS_NAMED: u8 = 2;

/// Index of the first NUL in `field`, if any: a word at a time with the
/// has-zero-byte test, bytes for the tail.
#[inline]
fn first_nul(field: &[u8]) -> Option<usize> {
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
            return Some(base + (zero.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    let tail = words.remainder();
    tail.iter().position(|&b| b == 0).map(|i| base + i)
}

#[cfg(test)]
#[path = "event_tests.rs"]
mod tests;
