//! What an inotify walk yields besides events: the queue-overflow item and
//! the precise, `Copy` parse error (offset and kind) of a malformed record.

use core::fmt;

use super::HEADER_LEN;

/// What an [`Events`](super::Events) iterator yields besides events.
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
    pub(super) offset: usize,
    pub(super) kind: ParseErrorKind,
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
