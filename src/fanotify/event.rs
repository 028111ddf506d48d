//! The pure record layer: a bounds-checked walk over
//! `fanotify_event_metadata` records and the info records inside them.
//!
//! Nothing here makes a syscall or adopts a descriptor. [`parse`] takes any
//! bytes, at any alignment, and yields borrowed [`Event`]s whose fd and pidfd
//! are plain numbers; it never allocates, never panics, never reads out of
//! bounds and always makes progress.

use core::fmt;

use rustix::io::Errno;

use super::abi as c;
use super::info::{Infos, check_info, first_fid, one_fid, scan_info, single_fid};
use super::{EventError, EventFlags, Fid, InfoErrorKind, ParseErrorKind};
use crate::record::{Cursor, field, walk};

/// Size of `struct fanotify_event_metadata` (`FAN_EVENT_METADATA_LEN`).
pub const METADATA_LEN: usize = size_of::<c::fanotify_event_metadata>();

/// The metadata version this parser knows (`FANOTIFY_METADATA_VERSION`).
pub const METADATA_VERSION: u8 = c::FANOTIFY_METADATA_VERSION;

/// The largest single event the kernel builds: metadata, three FID-type
/// records each with a `MAX_HANDLE_SZ` handle and (for two) a name of
/// `NAME_MAX` + NUL, a pidfd record, an error record, a range record and a
/// mount record, rounded up.
/// A read buffer of at least this size can never fail with `EINVAL`.
pub const MIN_BUFFER_LEN: usize = {
    let fid = size_of::<c::fanotify_event_info_fid_handle>() + c::MAX_HANDLE_SZ;
    let named = fid + 256;
    let total = METADATA_LEN
        + 2 * named
        + fid
        + size_of::<c::fanotify_event_info_pidfd>()
        + size_of::<c::fanotify_event_info_error>()
        + size_of::<c::fanotify_event_info_range>()
        + size_of::<c::fanotify_event_info_mnt>();
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
        cursor: Cursor::new(bytes),
    }
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
    /// The first PIDFD record's value when it is a descriptor (not
    /// negative), found while validating; otherwise [`NO_PIDFD`], or
    /// [`ONE_FID`] when the info records are one FID-type record that
    /// `single_fid` accepted (so [`fid`](Self::fid) decodes it without
    /// checking it again).
    pidfd: i32,
}

/// [`Event::pidfd`]'s word: no pidfd.
const NO_PIDFD: i32 = -1;
/// [`Event::pidfd`]'s word: no pidfd, and the info records are one
/// FID-type record, checked by `single_fid`.
const ONE_FID: i32 = -2;

impl Event<'_> {
    /// `event_len`.
    #[inline]
    fn event_len(&self) -> u32 {
        field!(self.meta, c::fanotify_event_metadata, event_len)
    }

    /// `metadata_len`.
    #[inline]
    fn metadata_len_raw(&self) -> u16 {
        field!(self.meta, c::fanotify_event_metadata, metadata_len)
    }

    /// `mask`.
    #[inline]
    fn mask_bits(&self) -> u64 {
        field!(self.meta, c::fanotify_event_metadata, mask)
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
        field!(self.meta, c::fanotify_event_metadata, fd)
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
        field!(self.meta, c::fanotify_event_metadata, pid)
    }

    /// The info records of this event, in the kernel's order.
    #[inline]
    #[must_use]
    pub fn infos(&self) -> Infos<'buf> {
        Infos::new(self.info)
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
    #[allow(clippy::inline_always)] // the per-event path: see "Cost" in src/record.rs
    #[inline(always)]
    #[must_use]
    pub fn fid(&self) -> Option<Fid<'buf>> {
        // The same answer as `self.infos().find_map(..Info::Fid..)`. The
        // one record of most FID-mode events was checked whole when the
        // event was parsed and is decoded straight away; otherwise only
        // FID-type records are decoded (see `first_fid`).
        let record = if self.pidfd == ONE_FID {
            self.info
        } else {
            first_fid(self.info)?
        };
        one_fid(record)
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

/// The parts of an event, to rebuild it over copies of its bytes (the
/// tokio layer's owned events).
#[cfg(feature = "tokio")]
impl<'buf> Event<'buf> {
    /// The metadata header, the info records and the pidfd number.
    pub(crate) fn parts(&self) -> (&'buf [u8; METADATA_LEN], &'buf [u8], i32) {
        (self.meta, self.info, self.pidfd)
    }

    /// An event over `parts` taken from a parsed event (and copied).
    pub(crate) fn from_parts(meta: &'buf [u8; METADATA_LEN], info: &'buf [u8], pidfd: i32) -> Self {
        Self { meta, info, pidfd }
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

walk! {
    /// The events in a filled buffer: an [`Iterator`] over borrowed records.
    ///
    /// Made by [`parse`]; it never owns descriptors. See [`parse`] for what it
    /// yields.
    #[must_use = "iterate the events"]
    pub struct Events<'buf>;
    pub const EMPTY;
}

impl<'buf> Events<'buf> {
    /// Ends iteration at the record the cursor is on.
    #[allow(clippy::inline_always)] // the per-event path: see "Cost" in src/record.rs
    #[inline(always)]
    fn fail(&mut self, kind: ParseErrorKind) -> Result<Event<'buf>, EventError> {
        crate::record::cold();
        Err(EventError::stop(&mut self.cursor, kind))
    }

    /// Consumes a checked record, `tail` being what follows it, and hands
    /// it out: an overflow record as `Err(QueueOverflow)`.
    #[allow(clippy::inline_always)] // the per-event path: see "Cost" in src/record.rs
    #[inline(always)]
    fn yield_event(
        &mut self,
        event: Event<'buf>,
        tail: &'buf [u8],
    ) -> Result<Event<'buf>, EventError> {
        self.cursor.advance(tail);
        if event.is_overflow() {
            return Err(EventError::QueueOverflow);
        }
        Ok(event)
    }
}

/// Checks and splits a record that is not the kernel's usual one (see
/// `next`): what `next` yields for it, field by field, out of line.
#[inline(never)]
fn next_slow<'buf>(
    meta: &'buf [u8; METADATA_LEN],
    rest: &'buf [u8],
) -> Result<(Event<'buf>, &'buf [u8]), ParseErrorKind> {
    let ml = check_slow(meta, rest.len())?;
    let len = field!(meta, c::fanotify_event_metadata, event_len) as usize;
    // `check_slow` checked `ml <= len <= rest.len()`.
    let (record, tail) = rest
        .split_at_checked(len)
        .ok_or(ParseErrorKind::TruncatedEvent {
            event_len: len,
            available: rest.len(),
        })?;
    let info = record
        .get(ml..)
        .ok_or(ParseErrorKind::BadMetadataLen { metadata_len: ml })?;
    let pidfd = if info.is_empty() {
        NO_PIDFD
    } else {
        match scan_info(info) {
            Some(pidfd) => pidfd.max(NO_PIDFD),
            None => return Err(bad_info(ml, info)),
        }
    };
    Ok((Event { meta, info, pidfd }, tail))
}

/// Why `scan_info` refused the info records at offset `ml` of a record.
#[cold]
#[inline(never)]
fn bad_info(ml: usize, info: &[u8]) -> ParseErrorKind {
    match check_info(info) {
        Err((at, kind)) => ParseErrorKind::Info { at: ml + at, kind },
        // `scan_info` and `check_info` agree (`walks_agree`); never taken.
        Ok(_) => ParseErrorKind::Info {
            at: ml,
            kind: InfoErrorKind::UnterminatedName,
        },
    }
}

/// Bytes 4 to 7 of the metadata the kernel writes: `vers` 3, `reserved` 0,
/// `metadata_len` 24, read as one native-endian word.
const COMMON_HEAD: u32 = {
    let ml = (METADATA_LEN as u16).to_ne_bytes();
    u32::from_ne_bytes([METADATA_VERSION, 0, ml[0], ml[1]])
};

/// Checks the header of a record other than the kernel's usual one field
/// by field, against the `available` bytes from its start: its metadata
/// length, or what is wrong. Out of line: the kernel's own records take the
/// one-word test in `next`.
#[inline(never)]
fn check_slow(meta: &[u8; METADATA_LEN], available: usize) -> Result<usize, ParseErrorKind> {
    let vers = field!(meta, c::fanotify_event_metadata, vers);
    if vers != METADATA_VERSION {
        return Err(ParseErrorKind::VersionMismatch { found: vers });
    }
    let len = field!(meta, c::fanotify_event_metadata, event_len) as usize;
    if len < METADATA_LEN {
        return Err(ParseErrorKind::BadEventLen { event_len: len });
    }
    if len > available {
        return Err(ParseErrorKind::TruncatedEvent {
            event_len: len,
            available,
        });
    }
    let ml = usize::from(field!(meta, c::fanotify_event_metadata, metadata_len));
    if ml < METADATA_LEN || ml > len {
        return Err(ParseErrorKind::BadMetadataLen { metadata_len: ml });
    }
    Ok(ml)
}

impl<'buf> Iterator for Events<'buf> {
    type Item = Result<Event<'buf>, EventError>;

    #[allow(clippy::inline_always)] // the per-event path: see "Cost" in src/record.rs
    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.cursor.rest();
        let Some((meta, _)) = rest.split_first_chunk::<METADATA_LEN>() else {
            if rest.is_empty() {
                return None;
            }
            return Some(self.fail(ParseErrorKind::TruncatedHeader {
                available: rest.len(),
            }));
        };
        let len = field!(meta, c::fanotify_event_metadata, event_len) as usize;
        // The record every kernel since 2.6.37 writes: version 3, the
        // reserved byte 0 and 24 bytes of metadata, tested as one word, and
        // a length from 24 to what is left. Any other record takes
        // `next_slow`, which checks each field apart and names what is
        // wrong.
        let &[_, _, _, _, vers, reserved, ml0, ml1, ..] = meta;
        let split = if u32::from_ne_bytes([vers, reserved, ml0, ml1]) == COMMON_HEAD
            && len >= METADATA_LEN
        {
            rest.split_at_checked(len)
        } else {
            None
        };
        let Some((record, tail)) = split else {
            return Some(match next_slow(meta, rest) {
                Ok((event, tail)) => self.yield_event(event, tail),
                Err(kind) => self.fail(kind),
            });
        };
        // `len >= METADATA_LEN`, so this never falls back.
        let info = record.get(METADATA_LEN..).unwrap_or_default();
        // No info records (fd mode), or the one FID record of most FID-mode
        // events: checked in line. Anything else: `scan_info`, out of line.
        let pidfd = if info.is_empty() {
            NO_PIDFD
        } else if single_fid(info) {
            ONE_FID
        } else {
            match scan_info(info) {
                Some(pidfd) => pidfd.max(NO_PIDFD),
                None => return Some(self.fail(bad_info(METADATA_LEN, info))),
            }
        };
        Some(self.yield_event(Event { meta, info, pidfd }, tail))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.cursor.size_hint(METADATA_LEN)
    }
}

#[cfg(test)]
#[path = "event_tests.rs"]
mod tests;
