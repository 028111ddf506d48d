//! Parser tests against a naive reference twin. Also run under Miri.

extern crate std;
use std::vec;
use std::vec::Vec;

use super::*;

use crate::inotify::ParseError;
use crate::inotify::reference::agree;

fn record(wd: i32, mask: u32, cookie: u32, name: &[u8], pad_to: usize) -> Vec<u8> {
    let mut field = name.to_vec();
    if !name.is_empty() || pad_to > 0 {
        field.push(0);
        while field.len() < pad_to || field.len() % 16 != 0 && pad_to == 0 {
            field.push(0);
        }
    }
    let mut r = Vec::new();
    r.extend_from_slice(&wd.to_ne_bytes());
    r.extend_from_slice(&mask.to_ne_bytes());
    r.extend_from_slice(&cookie.to_ne_bytes());
    r.extend_from_slice(&(field.len() as u32).to_ne_bytes());
    r.extend_from_slice(&field);
    r
}

#[test]
fn empty_input_yields_nothing() {
    agree(&[]);
    assert!(parse(&[]).next().is_none());
}

#[test]
fn kernel_shaped_records() {
    let mut b = record(1, 0x4000_0100, 0, b"foo", 0);
    b.extend(record(1, 0x100, 0, b"test.txt", 0));
    b.extend(record(2, 0x400, 0, b"", 0));
    b.extend(record(1, 0x40, 77, b"a-name-of-exactly-16", 0));
    b.extend(record(1, 0x80, 77, &[b'x'; 255], 0));
    b.extend(record(1, 0x100, 0, b"\xff\xfe not utf-8", 0));
    agree(&b);
    let events: Vec<_> = parse(&b).map(Result::unwrap).collect();
    assert_eq!(events.len(), 6);
    assert_eq!(events[0].name_bytes(), b"foo");
    assert_eq!(events[0].mask(), EventFlags::CREATE | EventFlags::ISDIR);
    assert_eq!(events[2].name(), None);
    assert_eq!(events[3].cookie(), 77);
    assert_eq!(events[4].name_bytes().len(), 255);
    assert_eq!(events[4].record_len(), 16 + 256);
}

#[test]
fn every_name_length_and_padding() {
    for n in 0..=40 {
        for pad in [0, 1, 7, 8, 9, 31, 48] {
            let name: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
            let b = record(3, 2, 0, &name, pad.max(if n > 0 { n + 1 } else { 0 }));
            agree(&b);
        }
    }
}

#[test]
fn misaligned_input() {
    let mut storage = vec![0_u8; 1];
    storage.extend(record(1, 0x100, 0, b"odd", 0));
    storage.extend(record(1, 0x200, 0, b"odd", 0));
    agree(&storage[1..]);
    assert_eq!(parse(&storage[1..]).count(), 2);
}

#[test]
fn overflow_is_an_error_item_and_iteration_goes_on() {
    let mut b = record(-1, EventFlags::Q_OVERFLOW.bits(), 0, b"", 0);
    b.extend(record(1, 0x100, 0, b"after", 0));
    let mut it = parse(&b);
    assert_eq!(it.next(), Some(Err(EventError::QueueOverflow)));
    assert_eq!(it.next().unwrap().unwrap().name_bytes(), b"after");
    assert_eq!(it.next(), None);
    agree(&b);
}

#[test]
fn truncation_is_visible_with_offset_and_remainder() {
    let good = record(1, 0x100, 0, b"whole", 0);
    let mut b = good.clone();
    b.extend_from_slice(&record(1, 0x100, 0, b"cut", 0)[..20]);
    let mut it = parse(&b);
    assert!(it.next().unwrap().is_ok());
    let Some(Err(EventError::Malformed(e))) = it.next() else {
        panic!("expected an error")
    };
    assert_eq!(e.offset(), good.len());
    assert_eq!(
        e.kind(),
        ParseErrorKind::TruncatedName {
            len: 16,
            available: 4
        }
    );
    assert_eq!(it.remainder().len(), 20);
    assert!(it.next().is_none());
    agree(&b);

    let mut short = good.clone();
    short.extend_from_slice(&[1, 2, 3]);
    agree(&short);
    let e = parse(&short).nth(1).unwrap().unwrap_err();
    assert_eq!(
        e,
        EventError::Malformed(ParseError {
            offset: good.len(),
            kind: ParseErrorKind::TruncatedHeader { available: 3 }
        })
    );
    assert!(std::format!("{e}").contains("byte 32"));
}

#[test]
fn unterminated_names_and_huge_lengths() {
    // No NUL at all (never the kernel's): the whole field is the name, and
    // the C-string view is `None`; the walk goes on.
    let mut b = record(1, 0x100, 0, b"", 0);
    b[12..16].copy_from_slice(&4_u32.to_ne_bytes());
    b.extend_from_slice(b"abcd");
    b.extend_from_slice(&record(2, 0x100, 0, b"x", 0));
    agree(&b);
    let mut events = parse(&b);
    let first = events.next().unwrap().unwrap();
    assert_eq!(first.name_bytes(), b"abcd");
    assert_eq!(first.name(), None);
    assert_eq!(events.next().unwrap().unwrap().name_bytes(), b"x");
    assert!(events.next().is_none());
    let mut huge = record(1, 0x100, 0, b"", 0);
    huge[12..16].copy_from_slice(&u32::MAX.to_ne_bytes());
    agree(&huge);
}

#[test]
fn interior_nul_ends_the_name() {
    // Within the last 16 bytes of the field, the first NUL ends the name.
    let mut b = record(1, 0x100, 0, b"", 0);
    b[12..16].copy_from_slice(&16_u32.to_ne_bytes());
    b.extend_from_slice(b"ab\0cdefghijklmn\0");
    agree(&b);
    assert_eq!(parse(&b).next().unwrap().unwrap().name_bytes(), b"ab");
    // Before them (never the kernel's: it pads with 1 to 16 NULs), a NUL is
    // part of the name, and the C-string view is `None`.
    let mut b = record(1, 0x100, 0, b"", 0);
    b[12..16].copy_from_slice(&32_u32.to_ne_bytes());
    b.extend_from_slice(b"ab\0cdefghijklmnopqrstuvwxyz\0\0\0\0\0");
    agree(&b);
    let e = parse(&b).next().unwrap().unwrap();
    assert_eq!(e.name_bytes(), b"ab\0cdefghijklmnopqrstuvwxyz");
    assert_eq!(e.name(), None);
}

#[test]
fn pseudo_random_bytes_agree_with_the_naive_parser() {
    // A small xorshift generator: deterministic, no dependency. Lengths are
    // biased small so that records often parse.
    let mut s = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let rounds = if cfg!(miri) { 40 } else { 3000 };
    for _ in 0..rounds {
        let n = (next() % 200) as usize;
        let mut b: Vec<u8> = (0..n).map(|_| next() as u8).collect();
        // Often plant a plausible length at each header slot.
        let mut at = 0;
        while at + 16 <= b.len() && next() % 4 != 0 {
            let len = (next() % 40) as u32;
            b[at + 12..at + 16].copy_from_slice(&len.to_ne_bytes());
            at += 16 + len as usize;
            if at <= b.len() && len > 0 && next() % 2 == 0 {
                b[at - 1] = 0;
            }
        }
        agree(&b);
    }
}

#[test]
fn display_matches_inotify_simple() {
    let b = record(1, 1_073_742_080, 0, b"foo", 0);
    let e = parse(&b).next().unwrap().unwrap();
    assert_eq!(
        std::format!("{e}"),
        "Event(wd=1, mask=1073742080, cookie=0, name='foo')"
    );
    let b = record(1, 256, 0, b"it's\xff", 0);
    let e = parse(&b).next().unwrap().unwrap();
    assert_eq!(
        std::format!("{e}"),
        "Event(wd=1, mask=256, cookie=0, name='it\\'s\\xff')"
    );
    assert_eq!(
        std::format!("{e:?}"),
        "Event { wd: 1, mask: EventFlags(CREATE), cookie: 0, name: \"it\\'s\\xff\" }"
    );
}
