//! What a fanotify walk yields besides events: the queue-overflow item and
//! the precise, `Copy` parse errors (offset and kind) of a malformed event
//! or info record.

use core::fmt;

use super::{INFO_HEADER_LEN, METADATA_LEN, METADATA_VERSION};
use crate::record::parse_errors;

parse_errors! {
    /// The kernel's queue overflowed (`FAN_Q_OVERFLOW`): events were
    /// dropped. Iteration goes on after it. Read faster, or make the group
    /// with [`InitFlags::UNLIMITED_QUEUE`](super::InitFlags::UNLIMITED_QUEUE).
    QueueOverflow => "fanotify queue overflow: events were lost (read faster or use FAN_UNLIMITED_QUEUE)"
}

/// The ways an event record can fail to parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
// `repr(u64)`: every field of an error then sits on its own word, the
// way the words of an `OwnedEvent` do. In the `Result` an event iterator
// yields, the two share memory; fields of mixed widths made the compiler
// cut the event's pointers into pieces there and put them back together
// for every event (measured: 3 to 14 instructions per event in FID mode;
// see "Cost" in src/record.rs).
#[repr(u64)]
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
#[repr(u64)] // as `ParseErrorKind`
pub enum InfoErrorKind {
    /// Fewer than [`INFO_HEADER_LEN`] bytes left for an info header.
    TruncatedHeader {
        /// Bytes left in the event.
        available: usize,
    },
    /// The header's `len` is below [`INFO_HEADER_LEN`] or runs past the
    /// event's end.
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
    /// A `*_NAME` record's name field has no NUL in its last 4 bytes,
    /// where the kernel's padding puts the name's end (see
    /// [`Fid::name_bytes`](super::Fid::name_bytes)).
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
                        write!(
                            f,
                            "{available} bytes left, a header needs {INFO_HEADER_LEN}"
                        )
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
