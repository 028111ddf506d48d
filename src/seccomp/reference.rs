//! Naive twins, for the unit tests (also under Miri) and the fuzz targets;
//! compiled only for those.
//!
//! - [`naive_notification`] parses a `struct seccomp_notif` by copying it
//!   into the `#[repr(C)]` struct with `read_unaligned`;
//!   [`notification_agrees`] checks [`parse_notification`] against it.
//! - [`rules_agree`] builds a rule set from arbitrary bytes and checks that
//!   the built program's verdict (run by [`evaluate`]) is the rules'
//!   meaning ([`Builder::decide`]) for calls derived from the same bytes.

use alloc::vec::Vec;

use super::abi;
use super::{
    Action, Arch, Builder, Cmp, Cond, Instruction, NOTIF_LEN, SeccompData, SyscallRule,
    X32_SYSCALL_BIT, check, evaluate, parse_notification,
};

/// The obvious parser: `None` when short, else the struct copied out.
#[must_use]
pub fn naive_notification(bytes: &[u8]) -> Option<abi::seccomp_notif> {
    if bytes.len() < NOTIF_LEN {
        return None;
    }
    // SAFETY: at least `size_of::<seccomp_notif>()` bytes; any bit pattern
    // is a valid value (integers only); `read_unaligned` needs no alignment.
    Some(unsafe { bytes.as_ptr().cast::<abi::seccomp_notif>().read_unaligned() })
}

/// Panics unless [`parse_notification`] and [`naive_notification`] agree
/// on `bytes`.
pub fn notification_agrees(bytes: &[u8]) {
    match (parse_notification(bytes), naive_notification(bytes)) {
        (Ok(n), Some(c)) => {
            assert_eq!(n.id(), c.id);
            assert_eq!(n.pid(), c.pid);
            assert_eq!(n.flags(), c.flags);
            let d = n.data();
            assert_eq!(d.nr, c.data.nr);
            assert_eq!(d.arch, c.data.arch);
            assert_eq!(d.instruction_pointer, c.data.instruction_pointer);
            assert_eq!(d.args, c.data.args);
            assert_eq!(SeccompData::from_bytes(&bytes[16..]), Some(*d));
        }
        (Err(e), None) => assert_eq!(e.offset(), bytes.len()),
        (p, n) => panic!("parser {p:?} vs naive {:?}", n.map(|c| c.id)),
    }
}

/// Reads bytes off the front of a fuzz input, zeros once it runs out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn u64(&mut self) -> u64 {
        (0..8).fold(0, |v, _| (v << 8) | u64::from(self.u8()))
    }
}

fn action(b: u8, data: u8) -> Action {
    match b % 8 {
        0 => Action::KillProcess,
        1 => Action::KillThread,
        2 => Action::Trap(u16::from(data)),
        3 => Action::Errno(u16::from(data) + 1),
        4 => Action::UserNotif,
        5 => Action::Trace(u16::from(data)),
        6 => Action::Log,
        _ => Action::Allow,
    }
}

/// A value near the interesting edges of 64 bits.
fn value(b: &mut Bytes<'_>) -> u64 {
    match b.u8() % 4 {
        0 => u64::from(b.u8()),
        1 => u64::from(b.u8()) << 32 | u64::from(b.u8()),
        2 => u64::MAX - u64::from(b.u8()),
        _ => b.u64(),
    }
}

/// Builds a rule set from `input`, and checks for calls derived from it
/// that the program's verdict equals [`Builder::decide`], and that the
/// program passes [`check`]. Returns the number of calls checked.
#[must_use]
pub fn rules_agree(input: &[u8]) -> usize {
    let mut b = Bytes(input);
    let arch = if b.u8() & 1 == 0 {
        Arch::X86_64
    } else {
        Arch::Aarch64
    };
    let default = action(b.u8(), b.u8());
    let mut builder = Builder::new(arch, default);
    if b.u8() % 8 == 0 {
        builder = builder.allow_x32();
    }
    // Syscall numbers come from a small window, so rules share numbers.
    let base = u32::from(b.u8()) * 2;
    let nrules = usize::from(b.u8() % 64);
    let mut conds: Vec<Vec<Cond>> = Vec::new();
    let mut spec = Vec::new();
    for _ in 0..nrules {
        let nr = base + u32::from(b.u8() % 32);
        let act = action(b.u8(), b.u8());
        let n = usize::from(b.u8() % 4);
        let mut cs = Vec::new();
        for _ in 0..n {
            let arg = b.u8() % 6;
            let cmp = match b.u8() % 7 {
                0 => Cmp::Eq,
                1 => Cmp::Ne,
                2 => Cmp::Lt,
                3 => Cmp::Le,
                4 => Cmp::Gt,
                5 => Cmp::Ge,
                _ => Cmp::MaskedEq(value(&mut b)),
            };
            cs.push(Cond::new(arg, cmp, value(&mut b)));
        }
        conds.push(cs);
        spec.push((nr, act));
    }
    let rules: Vec<SyscallRule<'_>> = spec
        .iter()
        .zip(&conds)
        .map(|(&(nr, act), cs)| SyscallRule::new(nr, act).when(cs))
        .collect();
    let mut storage = alloc::vec![Instruction::default(); 4096 + rules.len()];
    let filter = builder
        .build(&rules, &mut storage)
        .expect("a rule set of this size always builds");
    check(filter.instructions()).expect("the built program passes the checker");
    let mut checked = 0;
    // Calls: each rule's number with arguments from the input and from the
    // rule's own values (the edges), plus numbers around and outside.
    for round in 0..64 {
        let nr = match b.u8() % 8 {
            0 => X32_SYSCALL_BIT | base,
            1 => u32::MAX,
            2 => base + u32::from(b.u8()),
            _ => base + u32::from(b.u8() % 32),
        };
        let mut args = [0_u64; 6];
        for a in &mut args {
            *a = value(&mut b);
        }
        // Half the time, put a condition's own value (or a neighbour) in.
        if round % 2 == 0 {
            if let Some(c) = conds.iter().flatten().nth(usize::from(b.u8())) {
                let delta = u64::from(b.u8() % 3);
                args[usize::from(c.arg())] = c.value().wrapping_add(delta).wrapping_sub(1);
            }
        }
        let mut data = SeccompData::new(arch, nr, args);
        if b.u8() % 16 == 0 {
            data.arch ^= Arch::X86_64.audit_arch() ^ Arch::Aarch64.audit_arch();
        }
        let want = builder.decide(&rules, &data);
        let got = evaluate(filter.instructions(), &data).expect("a built program runs");
        assert_eq!(got.action(), want, "call {data:?} under {rules:?}");
        checked += 1;
    }
    checked
}
