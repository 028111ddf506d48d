//! A naive reference twin of [`parse`](super::parse), byte by byte, and a
//! check that the two agree on any input. Shared by the unit tests (also
//! under Miri) and the fuzz target; compiled only for those.

use alloc::vec::Vec;

use super::{EventError, FidKind, Info, InfoErrorKind, ParseErrorKind, parse};
use crate::record::{assert_same_stop, only_error};

/// An info record, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NaiveInfo {
    /// type, fsid, `handle_type`, `f_handle`, name (without NUL)
    Fid(u8, [i32; 2], i32, Vec<u8>, Option<Vec<u8>>),
    /// pidfd
    Pidfd(i32),
    /// error, count
    Error(i32, u32),
    /// offset, count
    Range(u64, u64),
    /// `mnt_id`
    Mnt(u64),
    /// type, whole record
    Unknown(u8, Vec<u8>),
}

/// An event, owned: mask, fd, pid, infos; overflow records are normalised to `FAN_Q_OVERFLOW`.
pub type NaiveEvent = (u64, i32, i32, Vec<NaiveInfo>);

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_ne_bytes([b[i], b[i + 1]])
}
fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_ne_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}
fn u64_at(b: &[u8], i: usize) -> u64 {
    let mut a = [0; 8];
    a.copy_from_slice(&b[i..i + 8]);
    u64::from_ne_bytes(a)
}

/// One info record (whole, header included), naively.
fn naive_info(t: u8, r: &[u8]) -> Result<NaiveInfo, InfoErrorKind> {
    let len = r.len();
    let short = InfoErrorKind::TooShort { info_type: t, len };
    match t {
        1 | 2 | 3 | 10 | 12 => {
            if len < 20 {
                return Err(short);
            }
            let hb = u32_at(r, 12) as usize;
            if hb > len - 20 {
                return Err(InfoErrorKind::BadHandle {
                    handle_bytes: hb,
                    available: len - 20,
                });
            }
            let handle = r[20..20 + hb].to_vec();
            let mut name = None;
            if t != 1 && t != 3 {
                // The name ends at the first NUL of the name field's last
                // 4 bytes (the kernel pads with 1 to 4 NULs), or of the
                // whole field when it is shorter.
                let field = &r[20 + hb..];
                let from = field.len().saturating_sub(4);
                let mut end = from;
                loop {
                    if end == field.len() {
                        return Err(InfoErrorKind::UnterminatedName);
                    }
                    if field[end] == 0 {
                        break;
                    }
                    end += 1;
                }
                name = Some(field[..end].to_vec());
            }
            Ok(NaiveInfo::Fid(
                t,
                [u32_at(r, 4) as i32, u32_at(r, 8) as i32],
                u32_at(r, 16) as i32,
                handle,
                name,
            ))
        }
        4 if len >= 8 => Ok(NaiveInfo::Pidfd(u32_at(r, 4) as i32)),
        5 if len >= 12 => Ok(NaiveInfo::Error(u32_at(r, 4) as i32, u32_at(r, 8))),
        6 if len >= 24 => Ok(NaiveInfo::Range(u64_at(r, 8), u64_at(r, 16))),
        7 if len >= 16 => Ok(NaiveInfo::Mnt(u64_at(r, 8))),
        4..=7 => Err(short),
        _ => Ok(NaiveInfo::Unknown(t, r.to_vec())),
    }
}

/// The obvious parser. Returns the events, where it stopped, and why.
#[must_use]
pub fn naive(bytes: &[u8]) -> (Vec<NaiveEvent>, usize, Option<ParseErrorKind>) {
    let mut out = Vec::new();
    let mut at = 0;
    loop {
        if at == bytes.len() {
            return (out, at, None);
        }
        let left = bytes.len() - at;
        if left < 24 {
            return (
                out,
                at,
                Some(ParseErrorKind::TruncatedHeader { available: left }),
            );
        }
        if bytes[at + 4] != 3 {
            return (
                out,
                at,
                Some(ParseErrorKind::VersionMismatch {
                    found: bytes[at + 4],
                }),
            );
        }
        let event_len = u32_at(bytes, at) as usize;
        if event_len < 24 {
            return (out, at, Some(ParseErrorKind::BadEventLen { event_len }));
        }
        if event_len > left {
            return (
                out,
                at,
                Some(ParseErrorKind::TruncatedEvent {
                    event_len,
                    available: left,
                }),
            );
        }
        let ml = u16_at(bytes, at + 6) as usize;
        if ml < 24 || ml > event_len {
            return (
                out,
                at,
                Some(ParseErrorKind::BadMetadataLen { metadata_len: ml }),
            );
        }
        let rec = &bytes[at..at + event_len];
        let mut infos = Vec::new();
        let mut i = ml;
        while i < event_len {
            let rest = event_len - i;
            let err = if rest < 4 {
                Some(InfoErrorKind::TruncatedHeader { available: rest })
            } else {
                let len = u16_at(rec, i + 2) as usize;
                if len < 4 || len > rest {
                    Some(InfoErrorKind::BadLen {
                        len,
                        available: rest,
                    })
                } else {
                    match naive_info(rec[i], &rec[i..i + len]) {
                        Ok(info) => {
                            infos.push(info);
                            i += len;
                            None
                        }
                        Err(e) => Some(e),
                    }
                }
            };
            if let Some(kind) = err {
                return (out, at, Some(ParseErrorKind::Info { at: i, kind }));
            }
        }
        let mask = u64_at(bytes, at + 8);
        let fd = u32_at(bytes, at + 16) as i32;
        let pid = u32_at(bytes, at + 20) as i32;
        out.push((mask, fd, pid, infos));
        at += event_len;
    }
}

/// Converts a parsed info record to the naive form.
fn own(info: Info<'_>) -> NaiveInfo {
    match info {
        Info::Fid(f) => {
            let t = match f.kind() {
                FidKind::Fid => 1,
                FidKind::DfidName => 2,
                FidKind::Dfid => 3,
                FidKind::OldDfidName => 10,
                FidKind::NewDfidName => 12,
            };
            assert_eq!(f.kind().has_name(), f.name_bytes().is_some());
            // A C string exactly when the name holds no NUL of its own.
            let clean = f.name_bytes().filter(|b| !b.contains(&0));
            assert_eq!(f.name().map(core::ffi::CStr::to_bytes), clean);
            let h = f.handle();
            assert_eq!(h.as_raw().len(), 8 + h.bytes().len());
            NaiveInfo::Fid(
                t,
                f.fsid(),
                h.handle_type(),
                h.bytes().to_vec(),
                f.name_bytes().map(<[u8]>::to_vec),
            )
        }
        Info::Pidfd(p) => NaiveInfo::Pidfd(p),
        Info::Error { error, count } => NaiveInfo::Error(error, count),
        Info::Range { offset, count } => NaiveInfo::Range(offset, count),
        Info::Mnt { mnt_id } => NaiveInfo::Mnt(mnt_id),
        Info::Unknown { info_type, record } => NaiveInfo::Unknown(info_type, record.to_vec()),
    }
}

/// Runs both parsers on `bytes` and panics unless they agree on every
/// event and info record, the error, its offset, and consumed + remainder.
pub fn agree(bytes: &[u8]) {
    // The hot validation walk and the full one, on the raw bytes as info
    // records (parse takes the hot one and falls back to the full one).
    super::info::walks_agree(bytes);
    super::info::walks_agree(bytes.get(24..).unwrap_or_default());
    let (want, stop, why) = naive(bytes);
    let mut events = parse(bytes);
    let mut got: Vec<NaiveEvent> = Vec::new();
    let mut err = None;
    for item in &mut events {
        match item {
            Ok(e) => {
                assert!(!e.is_overflow());
                assert_eq!(e.fd().is_some(), e.raw_fd() >= 0);
                assert_eq!(e.fd_error().is_some(), (-4095..=-2).contains(&e.raw_fd()));
                assert!(e.metadata_len() >= 24 && e.metadata_len() <= e.record_len());
                assert_eq!(e.info_bytes().len(), e.record_len() - e.metadata_len());
                super::info::walks_agree(e.info_bytes());
                let first_pidfd = e.infos().find_map(|i| match i {
                    Info::Pidfd(p) => Some(p),
                    _ => None,
                });
                assert_eq!(e.pidfd(), first_pidfd.filter(|&p| p >= 0));
                // `fid` decodes only FID-type records; it must still be
                // the first `Info::Fid` the full walk yields.
                let first_fid = e.infos().find_map(|i| match i {
                    Info::Fid(f) => Some(f),
                    _ => None,
                });
                assert_eq!(e.fid(), first_fid);
                got.push((
                    e.mask().bits(),
                    e.raw_fd(),
                    e.pid(),
                    e.infos().map(own).collect(),
                ));
            }
            Err(EventError::QueueOverflow) => got.push((0x4000, 0, 0, Vec::new())),
            Err(EventError::Malformed(e)) => only_error(&mut err, e),
        }
    }
    let want: Vec<NaiveEvent> = want
        .into_iter()
        .map(|w| {
            if w.0 & 0x4000 != 0 {
                (0x4000, 0, 0, Vec::new())
            } else {
                w
            }
        })
        .collect();
    assert_eq!(got, want);
    let error = err.map(|e| (e.offset(), e.kind()));
    let walk = (events.offset(), events.remainder());
    assert_same_stop(bytes, walk, error, (stop, why));
    assert!(events.next().is_none(), "fused");
}
