//! A naive reference twin of [`parse`](super::parse), byte by byte, and a
//! check that the two agree on any input. Shared by the unit tests (also
//! under Miri) and the fuzz target; compiled only for those.

use alloc::vec::Vec;

use super::{EventError, EventFlags, ParseErrorKind, parse};
use crate::record::{assert_same_stop, only_error};

/// One event as the naive parser sees it: (wd, mask, cookie, name).
pub type NaiveEvent = (i32, u32, u32, Vec<u8>);

/// The obvious parser: byte by byte, no cleverness. Returns the events,
/// where it stopped, and why.
#[must_use]
pub fn naive(bytes: &[u8]) -> (Vec<NaiveEvent>, usize, Option<ParseErrorKind>) {
    let mut out = Vec::new();
    let mut at = 0;
    loop {
        if at == bytes.len() {
            return (out, at, None);
        }
        if bytes.len() - at < 16 {
            return (
                out,
                at,
                Some(ParseErrorKind::TruncatedHeader {
                    available: bytes.len() - at,
                }),
            );
        }
        let u = |i: usize| u32::from_ne_bytes(bytes[at + i..at + i + 4].try_into().unwrap());
        let (wd, mask, cookie, len) = (u(0) as i32, u(4), u(8), u(12) as usize);
        let left = bytes.len() - at - 16;
        if len > left {
            return (
                out,
                at,
                Some(ParseErrorKind::TruncatedName {
                    len,
                    available: left,
                }),
            );
        }
        let field = &bytes[at + 16..at + 16 + len];
        // The name ends at the first NUL of the field's last 16 bytes (the
        // kernel pads with 1 to 16); a shorter field, at its first NUL.
        let from = len.saturating_sub(16);
        let mut end = len;
        for (i, &b) in field.iter().enumerate().skip(from) {
            if b == 0 {
                end = i;
                break;
            }
        }
        let name = field[..end].to_vec();
        out.push((wd, mask, cookie, name));
        at += 16 + len;
    }
}

/// Any overflow record as the one `agree` makes of `QueueOverflow`.
fn overflow_as_one(w: NaiveEvent) -> NaiveEvent {
    if w.1 & EventFlags::Q_OVERFLOW.bits() == 0 {
        return w;
    }
    (-1, EventFlags::Q_OVERFLOW.bits(), 0, Vec::new())
}

/// Runs both parsers on `bytes` and panics unless they agree on every
/// event, the error, its offset, and the bytes consumed + remainder.
pub fn agree(bytes: &[u8]) {
    let (want, stop, why) = naive(bytes);
    let mut events = parse(bytes);
    let mut got = Vec::new();
    let mut err = None;
    for item in &mut events {
        match item {
            Ok(e) => {
                // The C-string view is the same name, unless the field is
                // empty or the name holds a NUL (bytes not from the kernel).
                match e.name() {
                    Some(name) => assert_eq!(name.to_bytes(), e.name_bytes()),
                    None => assert!(
                        e.record_len() == 16
                            || e.name_bytes().contains(&0)
                            || e.name_bytes().len() == e.record_len() - 16,
                        "{e:?}"
                    ),
                }
                got.push((e.wd(), e.mask().bits(), e.cookie(), e.name_bytes().to_vec()));
            }
            Err(EventError::QueueOverflow) => {
                got.push((-1, EventFlags::Q_OVERFLOW.bits(), 0, Vec::new()));
            }
            Err(EventError::Malformed(e)) => only_error(&mut err, e),
        }
    }
    // Overflow records are compared by their mask bit, whatever their wd.
    let want: Vec<_> = want.into_iter().map(overflow_as_one).collect();
    assert_eq!(got, want);
    let error = err.map(|e| (e.offset(), e.kind()));
    let walk = (events.offset(), events.remainder());
    assert_same_stop(bytes, walk, error, (stop, why));
    assert_eq!(
        events.offset() + events.remainder().len(),
        bytes.len().max(events.offset())
    );
    assert!(events.next().is_none(), "fused");
}
