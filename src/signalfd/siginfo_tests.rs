//! Parser tests against the naive reference twin. Also run under Miri (no
//! syscalls here).

extern crate std;
use std::string::ToString;
use std::vec;
use std::vec::Vec;

use super::*;
use crate::signal::Signal;
use crate::signalfd::reference::{Fields, agree};

/// A record with every field set to a distinct value.
fn record(signo: u32, seed: u8) -> Vec<u8> {
    let mut r: Vec<u8> = (0..128).map(|i| seed.wrapping_add(i as u8)).collect();
    r[..4].copy_from_slice(&signo.to_ne_bytes());
    r
}

#[test]
fn layout_matches_the_kernel_struct() {
    // The naive twin's `#[repr(C)]` struct is written independently, in the
    // kernel's field order; the parser's ABI struct must agree with it.
    use super::super::abi::signalfd_siginfo as Abi;
    use core::mem::offset_of;
    let pairs = [
        (offset_of!(Fields, signo), offset_of!(Abi, ssi_signo)),
        (offset_of!(Fields, errno), offset_of!(Abi, ssi_errno)),
        (offset_of!(Fields, code), offset_of!(Abi, ssi_code)),
        (offset_of!(Fields, pid), offset_of!(Abi, ssi_pid)),
        (offset_of!(Fields, uid), offset_of!(Abi, ssi_uid)),
        (offset_of!(Fields, fd), offset_of!(Abi, ssi_fd)),
        (offset_of!(Fields, tid), offset_of!(Abi, ssi_tid)),
        (offset_of!(Fields, band), offset_of!(Abi, ssi_band)),
        (offset_of!(Fields, overrun), offset_of!(Abi, ssi_overrun)),
        (offset_of!(Fields, trapno), offset_of!(Abi, ssi_trapno)),
        (offset_of!(Fields, status), offset_of!(Abi, ssi_status)),
        (offset_of!(Fields, int), offset_of!(Abi, ssi_int)),
        (offset_of!(Fields, ptr), offset_of!(Abi, ssi_ptr)),
        (offset_of!(Fields, utime), offset_of!(Abi, ssi_utime)),
        (offset_of!(Fields, stime), offset_of!(Abi, ssi_stime)),
        (offset_of!(Fields, addr), offset_of!(Abi, ssi_addr)),
        (offset_of!(Fields, addr_lsb), offset_of!(Abi, ssi_addr_lsb)),
        (offset_of!(Fields, syscall), offset_of!(Abi, ssi_syscall)),
        (
            offset_of!(Fields, call_addr),
            offset_of!(Abi, ssi_call_addr),
        ),
        (offset_of!(Fields, arch), offset_of!(Abi, ssi_arch)),
        (offset_of!(Fields, pad), offset_of!(Abi, __pad)),
    ];
    for (i, (naive, abi)) in pairs.into_iter().enumerate() {
        assert_eq!(naive, abi, "field {i}");
    }
    assert_eq!(size_of::<Fields>(), size_of::<Abi>());
}

#[test]
fn empty_input_yields_nothing() {
    agree(&[]);
    let mut it = parse(&[]);
    assert!(it.next().is_none());
    assert_eq!(it.remaining_records(), 0);
}

#[test]
fn whole_records_every_field() {
    let mut b = record(2, 0);
    b.extend(record(15, 100));
    b.extend(record(64, 200));
    agree(&b);
    let infos: Vec<_> = parse(&b).map(Result::unwrap).collect();
    assert_eq!(infos.len(), 3);
    assert_eq!(infos[0].signal(), Some(Signal::INT));
    assert_eq!(infos[1].signal(), Some(Signal::TERM));
    // Byte i of record 0 holds i (except signo): check a few fields.
    assert_eq!(infos[0].pid(), u32::from_ne_bytes([12, 13, 14, 15]));
    assert_eq!(
        infos[0].ptr(),
        u64::from_ne_bytes([48, 49, 50, 51, 52, 53, 54, 55])
    );
    assert_eq!(infos[0].addr_lsb(), u16::from_ne_bytes([80, 81]));
    assert_eq!(infos[0].arch(), u32::from_ne_bytes([96, 97, 98, 99]));
    assert_eq!(infos[0].padding().len(), 28);
    assert_eq!(infos[0].padding()[0], 100);
    assert_eq!(infos[2].as_bytes()[..], b[256..]);
    assert!(infos[0].to_string().starts_with("SIGINT from pid"));
    assert!(std::format!("{:?}", infos[1]).contains("signo: 15"));
}

#[test]
fn bad_signal_numbers_are_kept_not_rejected() {
    for signo in [0, 65, u32::MAX] {
        let b = record(signo, 7);
        agree(&b);
        let info = parse(&b).next().unwrap().unwrap();
        assert_eq!(info.signal(), None);
        assert_eq!(info.signo(), signo);
        assert!(info.to_string().starts_with("signal "));
    }
}

#[test]
fn truncated_tail_is_one_error_then_the_end() {
    let mut b = record(10, 1);
    b.extend(record(12, 2));
    for cut in [1, 4, 127, 128, 129, 200, 255] {
        let bytes = &b[..cut];
        agree(bytes);
        let mut it = parse(bytes);
        if cut >= 128 {
            assert!(it.next().unwrap().is_ok());
        }
        if cut % 128 != 0 {
            let e = it.next().unwrap().unwrap_err();
            assert_eq!(e.offset(), cut / 128 * 128);
            assert_eq!(e.available(), cut % 128);
            assert!(e.to_string().contains("truncated"));
            assert_eq!(it.remainder(), &bytes[cut / 128 * 128..]);
        }
        assert!(it.next().is_none());
        assert!(it.next().is_none());
    }
}

#[test]
fn any_alignment() {
    let mut b = vec![0_u8; 3];
    b.extend(record(17, 9));
    b.extend(record(17, 10));
    for start in 0..3 {
        agree(&b[start..]);
    }
    let info = parse(&b[3..]).next().unwrap().unwrap();
    assert_eq!(info.signal(), Some(Signal::CHLD));
}

#[test]
fn pseudo_random_inputs_agree() {
    // A small xorshift generator: deterministic, no dependency.
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    let n = if cfg!(miri) { 20 } else { 500 };
    for _ in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let len = (x % 600) as usize;
        let bytes: Vec<u8> = (0..len).map(|i| (x >> (i % 57)) as u8).collect();
        agree(&bytes);
    }
}

#[test]
fn size_hint_is_exact() {
    let mut b = record(1, 0);
    b.extend(record(1, 0));
    b.push(0);
    let mut it = parse(&b);
    assert_eq!(it.len(), 3);
    it.next();
    assert_eq!(it.len(), 2);
    assert_eq!(it.remaining_records(), 1);
    it.next();
    it.next();
    assert_eq!(it.len(), 0);
}
