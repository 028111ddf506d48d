//! Parses one synthetic inotify buffer `PASSES` times with
//! `kernfd::inotify::parse`, as a program would parse a captured read.
//!
//! The buffer holds `N` `IN_MODIFY` events laid out as the kernel writes
//! them: the 16-byte header, then a name of 4 to 40 random bytes (never NUL
//! or `/`) padded with NULs to a multiple of 16 (name fields of 16, 32 and
//! 48 bytes). A fixed xorshift seed makes it byte for byte the same on
//! every target and run.
//!
//! Usage: `kernfd-scan N PASSES`. Prints `events checksum` (the sum of wd,
//! mask, cookie and name length over every event of every pass). The
//! instructions of one pass are those of a run with `PASSES` = 2 minus
//! those of a run with 1: everything else (building the buffer, start-up)
//! is the same in both.

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

use std::hint::black_box;

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let (Some(Ok(n)), Some(Ok(passes)), None) = (args.next(), args.next(), args.next()) else {
        eprintln!("usage: kernfd-scan N PASSES");
        std::process::exit(2);
    };
    let buf = synthetic(n);
    let (mut events, mut checksum) = (0_u64, 0_u64);
    for _ in 0..passes {
        let (e, c) = scan(black_box(&buf));
        events += e;
        checksum = checksum.wrapping_add(c);
    }
    println!("{events} {checksum}");
}

/// One pass over `buf`: events parsed and their checksum. Every record is
/// well formed, so an error fails the run.
#[inline(never)]
fn scan(buf: &[u8]) -> (u64, u64) {
    let (mut events, mut checksum) = (0_u64, 0_u64);
    for item in kernfd::inotify::parse(buf) {
        let e = item.unwrap_or_else(|error| {
            eprintln!("kernfd-scan: {error}");
            std::process::exit(1);
        });
        events += 1;
        checksum = checksum
            .wrapping_add(e.wd() as u64)
            .wrapping_add(u64::from(e.mask().bits()))
            .wrapping_add(u64::from(e.cookie()))
            .wrapping_add(e.name_bytes().len() as u64);
    }
    (events, checksum)
}

/// `n` kernel-shaped `IN_MODIFY` records with names of 4 to 40 bytes.
fn synthetic(n: usize) -> Vec<u8> {
    const IN_MODIFY: u32 = 0x2;
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut buf = Vec::with_capacity(n * 48);
    for i in 0..n {
        let name_len = 4 + (next() % 37) as usize;
        let field_len = (name_len + 1).next_multiple_of(16);
        buf.extend_from_slice(&(1 + (i % 7) as i32).to_ne_bytes());
        buf.extend_from_slice(&IN_MODIFY.to_ne_bytes());
        buf.extend_from_slice(&0_u32.to_ne_bytes());
        buf.extend_from_slice(&(field_len as u32).to_ne_bytes());
        for _ in 0..name_len {
            let byte = match (next() % 255) as u8 + 1 {
                b'/' => b'_',
                b => b,
            };
            buf.push(byte);
        }
        buf.resize(buf.len() + field_len - name_len, 0);
    }
    buf
}
