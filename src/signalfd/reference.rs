//! A naive reference twin of [`parse`](super::parse), and a check that the
//! two agree on any input. Shared by the unit tests (also under Miri) and
//! the fuzz target; compiled only for those.

use alloc::vec::Vec;

use super::{SIGINFO_LEN, parse};
use crate::record::only_error;

/// Every field of one record, decoded the obvious way (little by little,
/// through a `#[repr(C)]` struct copied with `read_unaligned`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
#[allow(missing_docs)]
pub struct Fields {
    pub signo: u32,
    pub errno: i32,
    pub code: i32,
    pub pid: u32,
    pub uid: u32,
    pub fd: i32,
    pub tid: u32,
    pub band: u32,
    pub overrun: u32,
    pub trapno: u32,
    pub status: i32,
    pub int: i32,
    pub ptr: u64,
    pub utime: u64,
    pub stime: u64,
    pub addr: u64,
    pub addr_lsb: u16,
    pub pad2: u16,
    pub syscall: i32,
    pub call_addr: u64,
    pub arch: u32,
    pub pad: [u8; 28],
}

const _: () = assert!(size_of::<Fields>() == SIGINFO_LEN);

/// The obvious parser: cut whole records, copy each into [`Fields`].
/// Returns the records and, for a trailing partial one, its offset and
/// length.
#[must_use]
pub fn naive(bytes: &[u8]) -> (Vec<Fields>, Option<(usize, usize)>) {
    let mut out = Vec::new();
    let mut at = 0;
    while bytes.len() - at >= SIGINFO_LEN {
        let chunk = &bytes[at..at + SIGINFO_LEN];
        // SAFETY: `chunk` holds exactly `size_of::<Fields>()` bytes, any bit
        // pattern is a valid `Fields` (integers only), and `read_unaligned`
        // needs no alignment.
        out.push(unsafe { chunk.as_ptr().cast::<Fields>().read_unaligned() });
        at += SIGINFO_LEN;
    }
    let tail = (at < bytes.len()).then(|| (at, bytes.len() - at));
    (out, tail)
}

/// Runs both parsers on `bytes` and panics unless they agree on every field
/// of every record, the error, its offset, and the remainder.
pub fn agree(bytes: &[u8]) {
    let (want, tail) = naive(bytes);
    let mut infos = parse(bytes);
    let (lo, hi) = infos.size_hint();
    assert_eq!(Some(lo), hi);
    assert_eq!(lo, want.len() + usize::from(tail.is_some()));
    let mut got = Vec::new();
    let mut err = None;
    for item in &mut infos {
        match item {
            Ok(s) => {
                let mut pad = [0_u8; 28];
                pad.copy_from_slice(s.padding());
                let pad2 = u16::from_ne_bytes([s.as_bytes()[82], s.as_bytes()[83]]);
                got.push(Fields {
                    signo: s.signo(),
                    errno: s.errno(),
                    code: s.code(),
                    pid: s.pid(),
                    uid: s.uid(),
                    fd: s.fd(),
                    tid: s.tid(),
                    band: s.band(),
                    overrun: s.overrun(),
                    trapno: s.trapno(),
                    status: s.status(),
                    int: s.int(),
                    ptr: s.ptr(),
                    utime: s.utime(),
                    stime: s.stime(),
                    addr: s.addr(),
                    addr_lsb: s.addr_lsb(),
                    pad2,
                    syscall: s.syscall(),
                    call_addr: s.call_addr(),
                    arch: s.arch(),
                    pad,
                });
                assert_eq!(s.signal().map(|x| u32::from(x.as_raw())), {
                    let n = s.signo();
                    (1..=64).contains(&n).then_some(n)
                });
            }
            Err(e) => only_error(&mut err, (e.offset(), e.available())),
        }
    }
    assert_eq!(got, want);
    assert_eq!(err, tail);
    let stop = want.len() * SIGINFO_LEN;
    assert_eq!(infos.offset(), stop);
    assert_eq!(infos.remainder(), &bytes[stop..]);
    assert!(infos.next().is_none(), "fused");
    assert!(infos.is_empty());
}
