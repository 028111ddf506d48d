//! A naive reference twin of [`parse`](super::parse), and a check that the
//! two agree on any input. Shared by the unit tests (also under Miri) and
//! the fuzz target; compiled only for those.

use alloc::vec::Vec;

use super::{IO_EVENT_LEN, parse};

/// Every field of one record, decoded the obvious way (through a
/// `#[repr(C)]` struct copied with `read_unaligned`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
#[allow(missing_docs)]
pub struct Fields {
    pub data: u64,
    pub obj: u64,
    pub res: i64,
    pub res2: i64,
}

const _: () = assert!(size_of::<Fields>() == IO_EVENT_LEN);

/// The obvious parser: cut whole records, copy each into [`Fields`].
/// Returns the records and, for a trailing partial one, its offset and
/// length.
#[must_use]
pub fn naive(bytes: &[u8]) -> (Vec<Fields>, Option<(usize, usize)>) {
    let mut out = Vec::new();
    let mut at = 0;
    while bytes.len() - at >= IO_EVENT_LEN {
        let chunk = &bytes[at..at + IO_EVENT_LEN];
        // SAFETY: `chunk` holds exactly `size_of::<Fields>()` bytes, any bit
        // pattern is a valid `Fields` (integers only), and `read_unaligned`
        // needs no alignment.
        out.push(unsafe { chunk.as_ptr().cast::<Fields>().read_unaligned() });
        at += IO_EVENT_LEN;
    }
    let tail = (at < bytes.len()).then(|| (at, bytes.len() - at));
    (out, tail)
}

/// Runs both parsers on `bytes` and panics unless they agree on every field
/// of every record, the decoded result, the error, its offset, and the
/// remainder.
pub fn agree(bytes: &[u8]) {
    let (want, tail) = naive(bytes);
    let mut events = parse(bytes);
    let (lo, hi) = events.size_hint();
    assert_eq!(Some(lo), hi);
    assert_eq!(lo, want.len() + usize::from(tail.is_some()));
    let mut got = Vec::new();
    let mut err = None;
    for item in &mut events {
        match item {
            Ok(e) => {
                // The decoded result, by the kernel's rule, done naively.
                let want_result = if e.res() >= 0 {
                    Ok(e.res() as u64)
                } else if e.res() >= -4095 {
                    Err(rustix::io::Errno::from_raw_os_error(-e.res() as i32))
                } else {
                    Err(rustix::io::Errno::RANGE)
                };
                assert_eq!(e.result(), want_result);
                got.push(Fields {
                    data: e.data(),
                    obj: e.obj(),
                    res: e.res(),
                    res2: e.res2(),
                });
            }
            Err(e) => {
                assert!(err.is_none(), "a second error after the first");
                err = Some((e.offset(), e.available()));
            }
        }
    }
    assert_eq!(got, want);
    assert_eq!(err, tail);
    assert!(events.next().is_none(), "fused");
    let rest = tail.map_or(0, |(_, n)| n);
    assert_eq!(events.remainder().len(), rest);
    assert_eq!(events.offset() + rest, bytes.len());
}
