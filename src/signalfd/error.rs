//! The error of a signalfd walk: a trailing partial record.

use core::fmt;

use super::SIGINFO_LEN;
use crate::record::Truncated;

/// A trailing partial record: where it starts and how many bytes it has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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

    /// How many bytes were left (fewer than [`SIGINFO_LEN`]).
    #[must_use]
    pub fn available(&self) -> usize {
        self.available
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "truncated signalfd_siginfo at byte {}: {} bytes left, a record needs {SIGINFO_LEN}",
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
