//! Parser tests against a naive reference twin. Also run under Miri.

extern crate std;
use std::vec;
use std::vec::Vec;

use super::*;
use crate::fanotify::abi;
use crate::fanotify::reference::{NaiveInfo, agree, naive};
use crate::fanotify::{FidKind, Info, InfoErrorKind, ParseError};

/// Metadata for an event of `event_len` bytes.
fn meta(event_len: usize, mask: u64, fd: i32, pid: i32) -> Vec<u8> {
    let mut r = Vec::new();
    r.extend_from_slice(&(event_len as u32).to_ne_bytes());
    r.extend_from_slice(&[3, 0]);
    r.extend_from_slice(&24_u16.to_ne_bytes());
    r.extend_from_slice(&mask.to_ne_bytes());
    r.extend_from_slice(&fd.to_ne_bytes());
    r.extend_from_slice(&pid.to_ne_bytes());
    r
}

/// An info record: header with `len` = 4 + body, padded to 4 like the kernel.
fn info(t: u8, body: &[u8]) -> Vec<u8> {
    let mut b = body.to_vec();
    while (b.len() + 4) % 4 != 0 {
        b.push(0);
    }
    let mut r = vec![t, 0];
    r.extend_from_slice(&((b.len() + 4) as u16).to_ne_bytes());
    r.extend_from_slice(&b);
    r
}

fn fid_body(fsid: [i32; 2], htype: i32, handle: &[u8], name: Option<&[u8]>) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&fsid[0].to_ne_bytes());
    b.extend_from_slice(&fsid[1].to_ne_bytes());
    b.extend_from_slice(&(handle.len() as u32).to_ne_bytes());
    b.extend_from_slice(&htype.to_ne_bytes());
    b.extend_from_slice(handle);
    if let Some(n) = name {
        b.extend_from_slice(n);
        b.push(0);
    }
    b
}

fn event(mask: u64, fd: i32, pid: i32, infos: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = infos.concat();
    let mut r = meta(24 + body.len(), mask, fd, pid);
    r.extend(body);
    r
}

/// Every kind of record the kernel sends, one after the other.
fn sample() -> Vec<u8> {
    let h = [0xaa_u8, 1, 2, 3, 4, 5, 6, 7];
    let mut b = event(abi::FAN_OPEN, 7, 42, &[]);
    b.extend(event(
        abi::FAN_CREATE,
        -1,
        43,
        &[info(2, &fid_body([1, 2], 1, &h, Some(b"new.txt")))],
    ));
    b.extend(event(
        abi::FAN_CREATE | abi::FAN_ONDIR,
        -1,
        43,
        &[
            info(2, &fid_body([1, 2], 1, &h, Some(b"d"))),
            info(1, &fid_body([1, 2], 1, &h[..4], None)),
        ],
    ));
    b.extend(event(
        abi::FAN_RENAME,
        -1,
        44,
        &[
            info(10, &fid_body([1, 2], 1, &h, Some(b"old"))),
            info(12, &fid_body([1, 2], 1, &h, Some(b"\xffnew"))),
            info(1, &fid_body([1, 2], 1, &h, None)),
        ],
    ));
    b.extend(event(
        abi::FAN_ATTRIB,
        -1,
        45,
        &[
            info(3, &fid_body([1, 2], 1, &h, None)),
            info(4, &9_i32.to_ne_bytes()),
        ],
    ));
    b.extend(event(
        abi::FAN_FS_ERROR,
        -1,
        0,
        &[
            info(5, &[5_i32.to_ne_bytes(), 3_u32.to_ne_bytes()].concat()),
            info(1, &fid_body([1, 2], -1, &[], None)),
        ],
    ));
    let mut range = 0_u32.to_ne_bytes().to_vec();
    range.extend_from_slice(&4096_u64.to_ne_bytes());
    range.extend_from_slice(&100_u64.to_ne_bytes());
    b.extend(event(abi::FAN_PRE_ACCESS, 8, 46, &[info(6, &range)]));
    let mut mnt = 0_u32.to_ne_bytes().to_vec();
    mnt.extend_from_slice(&0x1234_5678_9abc_u64.to_ne_bytes());
    b.extend(event(abi::FAN_MNT_ATTACH, -1, 47, &[info(7, &mnt)]));
    b.extend(event(abi::FAN_OPEN, -13, 48, &[info(99, b"future!!")]));
    b.extend(event(abi::FAN_Q_OVERFLOW, -1, 0, &[]));
    b.extend(event(
        abi::FAN_OPEN_PERM,
        9,
        49,
        &[info(4, &(-2_i32).to_ne_bytes())],
    ));
    b
}

#[test]
fn empty_input_yields_nothing() {
    agree(&[]);
    assert!(parse(&[]).next().is_none());
    assert!(parse(&[]).is_empty());
}

#[test]
fn every_record_type_decodes() {
    let b = sample();
    agree(&b);
    let items: Vec<_> = parse(&b).collect();
    assert_eq!(items.len(), 11);
    let ev = |i: usize| *items[i].as_ref().unwrap();

    assert_eq!(ev(0).mask(), EventFlags::OPEN);
    assert_eq!((ev(0).fd(), ev(0).pid()), (Some(7), 42));
    assert_eq!(ev(0).infos().count(), 0);

    let f = ev(1).fid().unwrap();
    assert_eq!(f.kind(), FidKind::DfidName);
    assert_eq!(f.name_bytes(), Some(&b"new.txt"[..]));
    assert_eq!(f.name().unwrap().to_bytes(), b"new.txt");
    assert_eq!(f.fsid(), [1, 2]);
    assert_eq!(f.handle().handle_type(), 1);
    assert_eq!(f.handle().bytes(), [0xaa, 1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(ev(1).fd(), None);

    let infos: Vec<_> = ev(2).infos().collect();
    assert_eq!(infos.len(), 2);
    assert!(
        matches!(infos[1], Info::Fid(f) if f.kind() == FidKind::Fid && f.name().is_none() && f.handle().bytes().len() == 4)
    );

    let kinds: Vec<_> = ev(3)
        .infos()
        .map(|i| match i {
            Info::Fid(f) => (f.kind(), f.name_bytes().map(<[u8]>::to_vec)),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (FidKind::OldDfidName, Some(b"old".to_vec())),
            (FidKind::NewDfidName, Some(b"\xffnew".to_vec())),
            (FidKind::Fid, None)
        ]
    );

    assert_eq!(ev(4).pidfd(), Some(9));
    assert!(matches!(ev(4).fid().unwrap().kind(), FidKind::Dfid));
    assert_eq!(
        ev(5).infos().next(),
        Some(Info::Error { error: 5, count: 3 })
    );
    assert_eq!(
        ev(6).infos().next(),
        Some(Info::Range {
            offset: 4096,
            count: 100
        })
    );
    assert!(ev(6).is_permission());
    assert_eq!(
        ev(7).infos().next(),
        Some(Info::Mnt {
            mnt_id: 0x1234_5678_9abc
        })
    );
    // Unknown types come back whole; FD_ERROR numbers are errors.
    match ev(8).infos().next() {
        Some(Info::Unknown { info_type, record }) => {
            assert_eq!(info_type, 99);
            assert_eq!(record.len(), 12);
            assert_eq!(&record[4..], b"future!!");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(ev(8).fd(), None);
    assert_eq!(ev(8).fd_error(), Some(Errno::ACCESS));
    assert_eq!(items[9], Err(EventError::QueueOverflow));
    // EPIDFD is not a pidfd.
    assert_eq!(ev(10).pidfd(), None);
    assert_eq!(ev(10).infos().next(), Some(Info::Pidfd(-2)));
}

#[test]
fn any_alignment() {
    let b = sample();
    for shift in 0..8 {
        let mut v = vec![0_u8; shift];
        v.extend_from_slice(&b);
        agree(&v[shift..]);
        assert_eq!(parse(&v[shift..]).count(), 11);
    }
}

#[test]
fn every_truncation_is_visible() {
    let b = sample();
    let step = if cfg!(miri) { 7 } else { 1 };
    for n in (0..b.len()).step_by(step) {
        agree(&b[..n]);
        let mut e = parse(&b[..n]);
        let last = e.by_ref().last();
        if e.offset() != n {
            assert!(matches!(last, Some(Err(EventError::Malformed(_)))));
        }
    }
}

#[test]
fn zero_and_short_event_len_never_loop() {
    for len in [0_usize, 1, 23] {
        let b = meta(len, abi::FAN_OPEN, 3, 1);
        agree(&b);
        let mut e = parse(&b);
        assert_eq!(
            e.next().unwrap().unwrap_err(),
            EventError::Malformed(ParseError {
                offset: 0,
                kind: ParseErrorKind::BadEventLen { event_len: len }
            })
        );
        assert!(e.next().is_none());
        assert_eq!(e.remainder(), &b[..]);
    }
}

#[test]
fn version_mismatch_is_a_clear_error() {
    let mut b = event(abi::FAN_OPEN, 3, 1, &[]);
    b.extend(event(abi::FAN_OPEN, 4, 1, &[]));
    b[24 + 4] = 4;
    agree(&b);
    let v: Vec<_> = parse(&b).collect();
    assert!(v[0].is_ok());
    assert_eq!(
        v[1],
        Err(EventError::Malformed(ParseError {
            offset: 24,
            kind: ParseErrorKind::VersionMismatch { found: 4 }
        }))
    );
    let msg = std::format!("{}", v[1].unwrap_err());
    assert!(msg.contains("version 4"), "{msg}");
}

#[test]
fn bad_metadata_len() {
    for ml in [0_u16, 23, 33] {
        let mut b = event(abi::FAN_OPEN, 3, 1, &[info(4, &1_i32.to_ne_bytes())]);
        b[6..8].copy_from_slice(&ml.to_ne_bytes());
        agree(&b);
        assert!(matches!(
            parse(&b).next(),
            Some(Err(EventError::Malformed(e))) if e.kind() == ParseErrorKind::BadMetadataLen { metadata_len: ml.into() }
        ));
    }
    // A longer metadata (a future version's extra fields) is skipped.
    let mut b = event(
        abi::FAN_OPEN,
        3,
        1,
        &[vec![0; 8], info(4, &5_i32.to_ne_bytes())],
    );
    b[6..8].copy_from_slice(&32_u16.to_ne_bytes());
    agree(&b);
    let e = parse(&b).next().unwrap().unwrap();
    assert_eq!(e.metadata_len(), 32);
    assert_eq!(e.infos().collect::<Vec<_>>(), [Info::Pidfd(5)]);
}

#[test]
fn bad_info_records() {
    let h = [1_u8; 8];
    let cases: Vec<(Vec<u8>, InfoErrorKind)> = vec![
        // zero-length info header: would loop forever
        (
            vec![1, 0, 0, 0],
            InfoErrorKind::BadLen {
                len: 0,
                available: 4,
            },
        ),
        (vec![1, 0], InfoErrorKind::TruncatedHeader { available: 2 }),
        (
            info(4, &[]),
            InfoErrorKind::TooShort {
                info_type: 4,
                len: 4,
            },
        ),
        (
            info(5, &[0; 4]),
            InfoErrorKind::TooShort {
                info_type: 5,
                len: 8,
            },
        ),
        (
            info(6, &[0; 12]),
            InfoErrorKind::TooShort {
                info_type: 6,
                len: 16,
            },
        ),
        (
            info(7, &[0; 8]),
            InfoErrorKind::TooShort {
                info_type: 7,
                len: 12,
            },
        ),
        (
            info(1, &[0; 12]),
            InfoErrorKind::TooShort {
                info_type: 1,
                len: 16,
            },
        ),
        (
            {
                let mut r = info(1, &fid_body([0, 0], 1, &h, None));
                r[12..16].copy_from_slice(&9_u32.to_ne_bytes());
                r
            },
            InfoErrorKind::BadHandle {
                handle_bytes: 9,
                available: 8,
            },
        ),
        (
            {
                // A name without NUL that exactly fills the record.
                let mut body = fid_body([0, 0], 1, &h, None);
                body.extend_from_slice(b"abcd");
                info(2, &body)
            },
            InfoErrorKind::UnterminatedName,
        ),
    ];
    for (rec, kind) in cases {
        let b = event(
            abi::FAN_CREATE,
            -1,
            1,
            &[info(4, &1_i32.to_ne_bytes()), rec],
        );
        agree(&b);
        assert_eq!(
            parse(&b).next(),
            Some(Err(EventError::Malformed(ParseError {
                offset: 0,
                kind: ParseErrorKind::Info { at: 32, kind }
            })))
        );
    }
    // An info len past the event's end.
    let mut b = event(abi::FAN_CREATE, -1, 1, &[info(4, &1_i32.to_ne_bytes())]);
    b[26..28].copy_from_slice(&12_u16.to_ne_bytes());
    agree(&b);
}

#[test]
fn fid_name_mode_records_as_the_kernel_pads_them() {
    // The kernel rounds FID records up to 4 bytes; padding after the NUL
    // is not part of the name.
    for n in 0..=(if cfg!(miri) { 6 } else { 40 }) {
        let name: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
        let b = event(
            abi::FAN_CREATE,
            -1,
            1,
            &[info(2, &fid_body([3, 4], 1, &[9; 12], Some(&name)))],
        );
        agree(&b);
        let e = parse(&b).next().unwrap().unwrap();
        assert_eq!(e.fid().unwrap().name_bytes(), Some(&name[..]));
    }
}

#[test]
fn naive_twin_agrees_on_mutations() {
    // Flip each byte of a sample to a few values; both parsers must agree.
    let b = sample();
    let step = if cfg!(miri) { 13 } else { 1 };
    for i in (0..b.len()).step_by(step) {
        for v in [0_u8, 1, 3, 4, 0x7f, 0xff] {
            let mut m = b.clone();
            m[i] = v;
            agree(&m);
        }
    }
    let (events, end, why) = naive(&b);
    assert_eq!((events.len(), end, why), (11, b.len(), None));
    assert_eq!(events[7].3, [NaiveInfo::Mnt(0x1234_5678_9abc)]);
}

#[test]
fn display_and_debug() {
    let b = sample();
    let e = parse(&b).nth(1).unwrap().unwrap();
    let s = std::format!("{e:?}");
    assert!(s.contains("CREATE") && s.contains("DfidName"), "{s}");
    let err = parse(&b[..10]).next().unwrap().unwrap_err();
    assert_eq!(
        std::format!("{err}"),
        "malformed fanotify record at byte 0: 10 bytes left, metadata needs 24"
    );
}

#[test]
fn events_compare_and_hash_by_their_fields() {
    use core::hash::{Hash, Hasher};
    #[derive(Default)]
    struct Fnv(u64);
    impl Hasher for Fnv {
        fn finish(&self) -> u64 {
            self.0
        }
        fn write(&mut self, bytes: &[u8]) {
            for &b in bytes {
                self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
            }
        }
    }
    let hash = |e: &Event<'_>| {
        let mut h = Fnv::default();
        e.hash(&mut h);
        h.finish()
    };
    let a = sample();
    // The same records at another place, with the reserved byte changed:
    // not a field, so still equal.
    let mut b = vec![0xee_u8; 3];
    b.extend_from_slice(&a);
    b[3 + 5] = 9;
    let (ea, eb) = (
        parse(&a).next().unwrap().unwrap(),
        parse(&b[3..]).next().unwrap().unwrap(),
    );
    assert_eq!(ea, eb);
    assert_eq!(hash(&ea), hash(&eb));
    // Every field counts: mask, fd, pid, and the info bytes.
    for at in [8, 16, 20] {
        let mut c = a.clone();
        c[at] ^= 1;
        let ec = parse(&c).next().unwrap().unwrap();
        assert_ne!(ea, ec, "byte {at}");
    }
    let second: Vec<Event<'_>> = parse(&a).filter_map(Result::ok).collect();
    assert_ne!(second[1], second[2]);
    let mut c = a.clone();
    let at = second[0].record_len() + 24 + 20;
    c[at] ^= 1;
    assert_ne!(parse(&c).nth(1).unwrap().unwrap(), second[1]);
}

#[test]
fn fid_names_end_in_the_last_4_bytes_of_their_field() {
    // Alone (the one-record path) and after a pidfd record (the full walk),
    // which must read names the same way.
    let pidfd = info(4, &5_i32.to_ne_bytes());
    for before in [vec![], vec![pidfd]] {
        let with = |name: &[u8]| {
            let mut infos = before.clone();
            infos.push(info(2, &fid_body([0, 0], 1, &[7; 8], Some(name))));
            event(abi::FAN_CREATE, -1, 1, &infos)
        };
        // A NUL early in the field (never the kernel's) stays in the name;
        // the name is then no C string.
        let b = with(b"ab\0cdefg");
        agree(&b);
        let e = parse(&b).next().unwrap().unwrap();
        let fid = e.fid().unwrap();
        assert_eq!(fid.name_bytes(), Some(&b"ab\0cdefg"[..]));
        assert_eq!(fid.name(), None);
        // A NUL in the last 4 bytes ends it, whatever follows (this field
        // is "abcde\0g\0", 8 bytes, with no padding).
        let b = with(b"abcde\0g");
        agree(&b);
        let e = parse(&b).next().unwrap().unwrap();
        assert_eq!(e.fid().unwrap().name_bytes(), Some(&b"abcde"[..]));
        assert_eq!(e.pidfd().is_some(), !before.is_empty());
    }
}
