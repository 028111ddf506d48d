//! The info records inside a fanotify event: what they hold ([`Info`],
//! [`Fid`], [`FileHandle`]), how a parsed event's records are walked
//! ([`Infos`]), and how they are checked when the event is parsed.
//!
//! # Adding an info record type
//! Every place to touch, in order:
//! 1. `abi.rs`: the `FAN_EVENT_INFO_TYPE_*` constant and the
//!    `#[repr(C)]` struct, with its `const` size and offset assertions.
//! 2. Here, [`Info`]: a variant with the record's fields (public, typed).
//! 3. Here, [`TYPE_CLASS`]: a class bit, only if the record is FID-shaped
//!    (file handle, maybe a name); other types need nothing there.
//! 4. Here, [`check_record`]: the smallest valid length
//!    (`need(size_of::<c::the_struct>())`) and any inner length to check;
//!    every record a parsed event holds has passed it.
//! 5. Here, [`decode_info`]: build the variant, reading each field with
//!    `field!` on the struct; it must accept every record
//!    [`check_record`] accepts.
//! 6. `reference.rs`: the naive twin's `NaiveInfo` variant, `naive_info`
//!    arm and `own` arm, so the unit tests and the fuzz target compare the
//!    two parsers on the new type; then a unit test in `event_tests.rs`
//!    with a record as the kernel writes it.
//! 7. `InfoErrorKind` in `parse_error.rs`, only if the type can be wrong
//!    in a new way (most only need `TooShort`).
//! 8. `MIN_BUFFER_LEN` in `event.rs`: add the record's size, since the
//!    kernel can put it in one event beside the others; and the list of
//!    record types in the module docs (`mod.rs`).

use core::ffi::CStr;
use core::fmt;
use core::iter::FusedIterator;

use super::InfoErrorKind;
use super::abi as c;
use crate::record::field;

/// Size of `struct fanotify_event_info_header`.
pub const INFO_HEADER_LEN: usize = size_of::<c::fanotify_event_info_header>();

/// An FID-type record up to its file handle's `f_handle`: info header,
/// fsid, `handle_bytes` and `handle_type`.
const FID_HEAD: usize = size_of::<c::fanotify_event_info_fid_handle>();

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
    ///
    /// The kernel pads the name field (the bytes after the handle) with 1
    /// to 4 NULs, so the name ends at the first NUL of the field's last 4
    /// bytes, found with one word test. That is the rule for any bytes: a
    /// NUL earlier in the field, which the kernel never writes, stays in
    /// the name, and [`name`](Self::name) is then `None`.
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
        self.raw
            .first_chunk::<{ size_of::<c::file_handle>() }>()
            .map_or(0, |h| field!(h, c::file_handle, handle_type))
    }

    /// `f_handle`: the opaque handle bytes (`handle_bytes` of them).
    #[inline]
    #[must_use]
    pub fn bytes(&self) -> &'buf [u8] {
        self.raw
            .get(size_of::<c::file_handle>()..)
            .unwrap_or_default()
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

impl<'buf> Infos<'buf> {
    /// The records in `info`, which [`scan_info`] accepted.
    #[inline]
    pub(super) fn new(info: &'buf [u8]) -> Self {
        Self { rest: info }
    }
}

impl<'buf> Iterator for Infos<'buf> {
    type Item = Info<'buf>;

    #[allow(clippy::inline_always)] // the per-event path: see "Cost" in src/record.rs
    #[inline(always)]
    fn next(&mut self) -> Option<Info<'buf>> {
        // The region was validated when its event was parsed, so nothing
        // here fails; the steps still go through checked slicing, and
        // anything off ends the walk (a header) or comes back raw (a body).
        let (info_type, record, rest) = split_record(self.rest)?.ok()?;
        self.rest = rest;
        Some(decode_info(info_type, record).unwrap_or(Info::Unknown { info_type, record }))
    }
}

impl FusedIterator for Infos<'_> {}

/// The first FID-type record of a validated info region that decodes, as
/// [`Infos`] would yield it (whole, header included): other records are
/// stepped over by their header without being decoded. It gives back
/// only the record (two words), which [`one_fid`] decodes. In line,
/// though only events with more than one record take it: out of line, it
/// made the compiler keep every event in memory (see "Cost" in
/// src/record.rs).
#[allow(clippy::inline_always)] // the per-event path: see "Cost" in src/record.rs
#[inline(always)]
pub(super) fn first_fid(info: &[u8]) -> Option<&[u8]> {
    let mut rest = info;
    while let Some(Ok((info_type, record, tail))) = split_record(rest) {
        if let Some(kind) = fid_kind(info_type) {
            if decode_fid(kind, record).is_some() {
                return Some(record);
            }
        }
        rest = tail;
    }
    None
}

/// Decodes a whole FID-type record: one that [`single_fid`] accepted when
/// its event was parsed, or one that [`first_fid`] found. Its kind comes
/// from a table, with no branch.
#[allow(clippy::inline_always)] // the per-event path: see "Cost" in src/record.rs
#[inline(always)]
pub(super) fn one_fid(record: &[u8]) -> Option<Fid<'_>> {
    let info_type = record.first().copied().unwrap_or_default();
    decode_fid(FID_KINDS[usize::from(info_type)], record)
}

/// [`fid_kind`] as a table, for types [`single_fid`] accepted (the others
/// hold a placeholder nothing reads).
const FID_KINDS: [FidKind; 256] = {
    let mut t = [FidKind::Fid; 256];
    let mut i = 0;
    while i < 256 {
        if let Some(kind) = fid_kind(i as u8) {
            t[i] = kind;
        }
        i += 1;
    }
    t
};

/// The [`FidKind`] of a FID-type record type, `None` for the others.
#[inline]
const fn fid_kind(info_type: u8) -> Option<FidKind> {
    Some(match info_type {
        c::FAN_EVENT_INFO_TYPE_FID => FidKind::Fid,
        c::FAN_EVENT_INFO_TYPE_DFID_NAME => FidKind::DfidName,
        c::FAN_EVENT_INFO_TYPE_DFID => FidKind::Dfid,
        c::FAN_EVENT_INFO_TYPE_OLD_DFID_NAME => FidKind::OldDfidName,
        c::FAN_EVENT_INFO_TYPE_NEW_DFID_NAME => FidKind::NewDfidName,
        _ => return None,
    })
}

/// An info record's type, the whole record (header included), and the bytes
/// after it.
type Split<'a> = (u8, &'a [u8], &'a [u8]);

/// Cuts the next record off `rest`: `None` at the end, else its type, the
/// whole record (header included) and what follows, or why its header is
/// wrong.
#[inline]
fn split_record(rest: &[u8]) -> Option<Result<Split<'_>, InfoErrorKind>> {
    if rest.is_empty() {
        return None;
    }
    let Some(h) = rest.first_chunk::<INFO_HEADER_LEN>() else {
        return Some(Err(InfoErrorKind::TruncatedHeader {
            available: rest.len(),
        }));
    };
    let len = usize::from(field!(h, c::fanotify_event_info_header, len));
    match rest.split_at_checked(len) {
        Some((record, tail)) if len >= INFO_HEADER_LEN => Some(Ok((
            field!(h, c::fanotify_event_info_header, info_type),
            record,
            tail,
        ))),
        _ => Some(Err(InfoErrorKind::BadLen {
            len,
            available: rest.len(),
        })),
    }
}

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
            let r = record.first_chunk::<{ size_of::<c::fanotify_event_info_pidfd>() }>()?;
            Info::Pidfd(field!(r, c::fanotify_event_info_pidfd, pidfd))
        }
        c::FAN_EVENT_INFO_TYPE_ERROR => {
            let r = record.first_chunk::<{ size_of::<c::fanotify_event_info_error>() }>()?;
            Info::Error {
                error: field!(r, c::fanotify_event_info_error, error),
                count: field!(r, c::fanotify_event_info_error, error_count),
            }
        }
        c::FAN_EVENT_INFO_TYPE_RANGE => {
            let r = record.first_chunk::<{ size_of::<c::fanotify_event_info_range>() }>()?;
            Info::Range {
                offset: field!(r, c::fanotify_event_info_range, offset),
                count: field!(r, c::fanotify_event_info_range, count),
            }
        }
        c::FAN_EVENT_INFO_TYPE_MNT => {
            let r = record.first_chunk::<{ size_of::<c::fanotify_event_info_mnt>() }>()?;
            Info::Mnt {
                mnt_id: field!(r, c::fanotify_event_info_mnt, mnt_id),
            }
        }
        _ => Info::Unknown { info_type, record },
    })
}

/// Decodes a whole FID-type record; `None` when it does not fit.
#[allow(clippy::inline_always)] // the per-event path: see "Cost" in src/record.rs
#[inline(always)]
fn decode_fid(kind: FidKind, record: &[u8]) -> Option<Fid<'_>> {
    let (head, after) = record.split_first_chunk::<FID_HEAD>()?;
    let handle_bytes =
        field!(head, c::fanotify_event_info_fid_handle, handle.handle_bytes) as usize;
    if handle_bytes > after.len() {
        return None;
    }
    // The `struct file_handle`, from its header to the end of `f_handle`
    // (no overflow: `handle_bytes` fits in `record` after the head).
    let handle_at = core::mem::offset_of!(c::fanotify_event_info_fid_handle, handle);
    let handle = FileHandle {
        raw: record.get(handle_at..FID_HEAD + handle_bytes)?,
    };
    let name = if kind.has_name() {
        let field = after.get(handle_bytes..)?;
        Some(field.get(..=name_end(field)?)?)
    } else {
        None
    };
    Some(Fid {
        kind,
        fsid: field!(head, c::fanotify_event_info_fid_handle, fid.fsid.val),
        handle,
        name,
    })
}

/// The info region of most FID-mode events, checked in one go: a single
/// FID-type record that spans the whole region, whose handle fits and
/// whose name (for the `*_NAME` kinds) ends in NUL, as the kernel pads it.
/// `true` only when [`scan_info`] would accept the region as that one
/// record (with no pidfd); `false` sends the caller to the full walk.
#[allow(clippy::inline_always)] // the per-event path: see "Cost" in src/record.rs
#[inline(always)]
pub(super) fn single_fid(info: &[u8]) -> bool {
    let Some((head, after)) = info.split_first_chunk::<FID_HEAD>() else {
        return false;
    };
    let len = usize::from(field!(head, c::fanotify_event_info_fid_handle, fid.hdr.len));
    let info_type = field!(head, c::fanotify_event_info_fid_handle, fid.hdr.info_type);
    let handle_bytes =
        field!(head, c::fanotify_event_info_fid_handle, handle.handle_bytes) as usize;
    let class = TYPE_CLASS[usize::from(info_type)];
    len == info.len()
        && class & CLASS_FID != 0
        && handle_bytes <= after.len()
        && (class & CLASS_NAMED == 0 || (handle_bytes < after.len() && info.last() == Some(&0)))
}

/// The hot twin of [`check_info`]: the same checks on the same records,
/// through the same [`split_record`] and [`check_record`], but with the
/// error details dropped, so that the compiler keeps only the comparisons.
/// `Some` with the first PIDFD record's value (-1 if none) exactly when
/// `check_info` is `Ok`.
#[inline(never)]
pub(super) fn scan_info(info: &[u8]) -> Option<i32> {
    // Only the first PIDFD record counts (the kernel writes at most one).
    let (mut pidfd, mut seen) = (-1, false);
    let mut rest = info;
    while let Some(next) = split_record(rest) {
        let (info_type, record, tail) = next.ok()?;
        if let Some(p) = check_record(info_type, record).ok()? {
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
pub(super) fn check_info(info: &[u8]) -> Result<i32, (usize, InfoErrorKind)> {
    let (mut pidfd, mut seen) = (-1, false);
    let mut rest = info;
    while let Some(next) = split_record(rest) {
        let at = info.len() - rest.len();
        let (info_type, record, tail) = next.map_err(|k| (at, k))?;
        if let Some(p) = check_record(info_type, record).map_err(|k| (at, k))? {
            if !seen {
                (pidfd, seen) = (p, true);
            }
        }
        rest = tail;
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
        let Some((head, after)) = record.split_first_chunk::<FID_HEAD>() else {
            return Err(too_short);
        };
        let handle_bytes =
            field!(head, c::fanotify_event_info_fid_handle, handle.handle_bytes) as usize;
        let Some(tail) = after.get(handle_bytes..) else {
            return Err(InfoErrorKind::BadHandle {
                handle_bytes,
                available: after.len(),
            });
        };
        if class & CLASS_NAMED != 0 && name_end(tail).is_none() {
            return Err(InfoErrorKind::UnterminatedName);
        }
        return Ok(None);
    }
    let need = |n: usize| if len < n { Err(too_short) } else { Ok(None) };
    match info_type {
        c::FAN_EVENT_INFO_TYPE_PIDFD => {
            let Some(r) = record.first_chunk::<{ size_of::<c::fanotify_event_info_pidfd>() }>()
            else {
                return Err(too_short);
            };
            Ok(Some(field!(r, c::fanotify_event_info_pidfd, pidfd)))
        }
        c::FAN_EVENT_INFO_TYPE_ERROR => need(size_of::<c::fanotify_event_info_error>()),
        c::FAN_EVENT_INFO_TYPE_RANGE => need(size_of::<c::fanotify_event_info_range>()),
        c::FAN_EVENT_INFO_TYPE_MNT => need(size_of::<c::fanotify_event_info_mnt>()),
        _ => Ok(None),
    }
}

/// Where the name in a `*_NAME` record's name field (the bytes after the
/// handle) ends: the index of its NUL.
///
/// The kernel writes the name, its NUL, then 0 to 3 NULs of padding, to
/// round the record up to 4 bytes; so the name's NUL is the first NUL of
/// the field's last 4 bytes. That is the rule, for any bytes, and it takes
/// one word test whatever the name's length: a NUL earlier in the field,
/// which the kernel never writes, is part of the name (and
/// [`Fid::name`] is then `None`). A field shorter than 4 bytes ends at its
/// first NUL. `None` when there is no NUL where the rule looks.
#[allow(clippy::inline_always)] // the per-event path: see "Cost" in src/record.rs
#[inline(always)]
fn name_end(field: &[u8]) -> Option<usize> {
    let Some(word) = field.last_chunk::<4>() else {
        return field.iter().position(|&b| b == 0);
    };
    // The classic has-zero-byte test, exact for the lowest flagged byte,
    // which is the first zero in little-endian order.
    let x = u32::from_le_bytes(*word);
    let zero = x.wrapping_sub(0x0101_0101) & !x & 0x8080_8080;
    (zero != 0).then(|| field.len() - 4 + (zero.trailing_zeros() / 8) as usize)
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

#[cfg(test)]
mod tests {
    use super::name_end;

    /// `name_end`'s rule, byte by byte.
    fn twin(field: &[u8]) -> Option<usize> {
        let from = field.len().saturating_sub(4);
        field[from..].iter().position(|&b| b == 0).map(|i| from + i)
    }

    #[test]
    fn name_end_is_the_first_nul_of_the_last_4_bytes() {
        // Every length to 40, with up to two NULs anywhere (none, one, or a
        // second after the first), among bytes that trip has-zero tricks.
        // (Miri, which checks the loads rather than the results, takes the
        // short lengths.)
        let fill = [b'a', 0x01, 0x80, 0xff, 0x7f];
        for len in 0..=(if cfg!(miri) { 9 } else { 40 }) {
            for first in 0..=len {
                for second in first..=len {
                    for &f in &fill {
                        let mut v = std::vec![f; len];
                        if first < len {
                            v[first] = 0;
                        }
                        if second < len {
                            v[second] = 0;
                        }
                        assert_eq!(name_end(&v), twin(&v), "{v:?}");
                    }
                }
            }
        }
        // As the kernel writes them: a name, its NUL, 0 to 3 NULs.
        for n in 0..=20 {
            let mut v = std::vec![b'x'; n];
            v.resize((n + 1).next_multiple_of(4), 0);
            assert_eq!(name_end(&v), Some(n), "{v:?}");
        }
        // High bytes around a zero must not confuse the word test.
        assert_eq!(name_end(&[0x80, 0x01, 0x00, 0xff]), Some(2));
        assert_eq!(name_end(&[0x01, 0x00, 0x80, 0x00]), Some(1));
        assert_eq!(name_end(&[0x00, 0x01, 0x01, 0x01, 0x80, 0xff]), None);
    }
}
