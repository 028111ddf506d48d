//! What an inotify walk yields besides events: the queue-overflow item and
//! the precise, `Copy` parse error (offset and kind) of a malformed record.

use core::fmt;

use super::HEADER_LEN;
use crate::record::parse_errors;

parse_errors! {
    /// The kernel's queue overflowed (`IN_Q_OVERFLOW`, `wd == -1`): events
    /// were dropped, and any state kept from earlier events may be stale.
    /// Iteration goes on after it.
    ///
    /// Raise `/proc/sys/fs/inotify/max_queued_events` or read faster.
    QueueOverflow => "inotify queue overflow: events were lost \
                 (see /proc/sys/fs/inotify/max_queued_events)"
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
        }
    }
}
