//! Unit tests of the pure parts: the builder against the rules' meaning,
//! the evaluator's instruction set, the tables, the notification parser
//! against its twin. (Kernel behaviour is in `tests/seccomp.rs`.)

extern crate std;

use super::bpf::op;
use super::*;

/// xorshift64*: a small seeded generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn bytes(&mut self, n: usize) -> alloc::vec::Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

#[test]
fn random_rule_sets_agree_with_their_programs() {
    let mut rng = Rng(0x5ecc_0b1d);
    let mut checked = 0;
    // Under Miri (the whole suite runs there) a few rounds, not 400.
    let rounds = if cfg!(miri) { 4 } else { 400 };
    for _ in 0..rounds {
        let n = (rng.next() % 600) as usize;
        checked += reference::rules_agree(&rng.bytes(n));
    }
    assert!(checked >= rounds * 64);
}

#[test]
fn notification_parser_agrees_with_its_twin() {
    let mut rng = Rng(7);
    for n in [0, 1, 15, 16, 79, 80, 81, 160] {
        for _ in 0..50 {
            reference::notification_agrees(&rng.bytes(n));
        }
    }
    // Unaligned input.
    let b = rng.bytes(81);
    reference::notification_agrees(&b[1..]);
}

#[test]
fn notification_fields_sit_at_their_offsets() {
    let mut b = [0_u8; 80];
    b[..8].copy_from_slice(&0x1122_3344_5566_7788_u64.to_ne_bytes());
    b[8..12].copy_from_slice(&4242_u32.to_ne_bytes());
    b[16..20].copy_from_slice(&257_i32.to_ne_bytes());
    b[20..24].copy_from_slice(&Arch::X86_64.audit_arch().to_ne_bytes());
    b[72..80].copy_from_slice(&u64::MAX.to_ne_bytes());
    let n = parse_notification(&b).unwrap();
    assert_eq!(n.id(), 0x1122_3344_5566_7788);
    assert_eq!(n.pid(), 4242);
    assert_eq!(n.data().nr, 257);
    assert_eq!(n.data().arch, Arch::X86_64.audit_arch());
    assert_eq!(n.data().args[5], u64::MAX);
    assert_eq!(
        parse_notification(&b[..79]),
        Err(ParseError::Truncated { available: 79 })
    );
}

#[test]
fn syscall_tables_know_both_architectures() {
    assert_eq!(Arch::X86_64.syscall("read"), Some(0));
    assert_eq!(Arch::X86_64.syscall("openat"), Some(257));
    assert_eq!(Arch::X86_64.syscall("getppid"), Some(110));
    assert_eq!(Arch::Aarch64.syscall("openat"), Some(56));
    assert_eq!(Arch::Aarch64.syscall("getppid"), Some(173));
    assert_eq!(Arch::Aarch64.syscall("open"), None, "aarch64 has no open");
    assert_eq!(Arch::X86_64.syscall("no_such_call"), None);
    assert_eq!(Arch::X86_64.syscall_name(60), Some("exit"));
    assert_eq!(Arch::native().syscall("getpid"), Some(raw::nr::__NR_getpid));
    assert!(Arch::X86_64.syscalls().count() > 350);
}

fn data(nr: u32, args: [u64; 6]) -> SeccompData {
    SeccompData::new(Arch::X86_64, nr, args)
}

#[test]
fn guards_kill_foreign_arch_and_x32_but_not_minus_one() {
    let rules = [SyscallRule::new(0, Action::Allow)];
    let mut st = [Instruction::default(); 64];
    let f = Builder::new(Arch::X86_64, Action::Errno(38))
        .build(&rules, &mut st)
        .unwrap();
    let act = |d: &SeccompData| f.evaluate(d).unwrap().action();
    assert_eq!(act(&data(0, [0; 6])), Action::Allow);
    let mut i386 = data(0, [0; 6]);
    i386.arch = linux_raw_sys::ptrace::AUDIT_ARCH_I386;
    assert_eq!(act(&i386), Action::KillProcess);
    assert_eq!(act(&data(X32_SYSCALL_BIT, [0; 6])), Action::KillProcess);
    assert_eq!(act(&data(X32_SYSCALL_BIT | 1, [0; 6])), Action::KillProcess);
    assert_eq!(act(&data(u32::MAX, [0; 6])), Action::Errno(38));
    // Opted out: x32 numbers reach the default.
    let mut st2 = [Instruction::default(); 64];
    let f2 = Builder::new(Arch::X86_64, Action::Errno(38))
        .allow_x32()
        .build(&rules, &mut st2)
        .unwrap();
    assert_eq!(
        f2.evaluate(&data(X32_SYSCALL_BIT, [0; 6]))
            .unwrap()
            .action(),
        Action::Errno(38)
    );
    // aarch64 has no x32 guard; its program is shorter.
    let mut st3 = [Instruction::default(); 64];
    let f3 = Builder::new(Arch::Aarch64, Action::Errno(38))
        .build(&rules, &mut st3)
        .unwrap();
    assert_eq!(f3.len() + 2, f.len());
}

#[test]
fn every_comparison_on_full_64_bits() {
    let v = 0x0000_0001_0000_0005_u64;
    let probes = [
        0,
        5,
        v - 1,
        v,
        v + 1,
        0x0000_0002_0000_0000,
        0x0000_0000_ffff_ffff,
        u64::MAX,
    ];
    let cmps = [
        Cmp::Eq,
        Cmp::Ne,
        Cmp::Lt,
        Cmp::Le,
        Cmp::Gt,
        Cmp::Ge,
        Cmp::MaskedEq(0xffff_0000_0000_00ff),
    ];
    for cmp in cmps {
        for arg in 0..6 {
            let conds = [Cond::new(arg, cmp, v)];
            let rules = [SyscallRule::new(1, Action::Allow).when(&conds)];
            let mut st = [Instruction::default(); 64];
            let f = Builder::new(Arch::X86_64, Action::Errno(1))
                .build(&rules, &mut st)
                .unwrap();
            for p in probes {
                let mut args = [0x55; 6];
                args[arg as usize] = p;
                let want = if conds[0].holds(&args) {
                    Action::Allow
                } else {
                    Action::Errno(1)
                };
                assert_eq!(
                    f.evaluate(&data(1, args)).unwrap().action(),
                    want,
                    "{cmp:?} arg{arg} {p:#x}"
                );
            }
        }
    }
}

#[test]
fn and_within_a_rule_or_across_rules_first_match_wins() {
    let c1 = [Cond::new(0, Cmp::Eq, 1), Cond::new(1, Cmp::Gt, 10)];
    let c2 = [Cond::new(0, Cmp::Eq, 1)];
    let rules = [
        SyscallRule::new(3, Action::Allow).when(&c1),
        SyscallRule::new(3, Action::Errno(2)).when(&c2),
        SyscallRule::new(3, Action::Log),
        SyscallRule::new(3, Action::Trap(9)), // never reached
    ];
    let mut st = [Instruction::default(); 128];
    let f = Builder::new(Arch::X86_64, Action::KillThread)
        .build(&rules, &mut st)
        .unwrap();
    let act = |a0, a1| f.evaluate(&data(3, [a0, a1, 0, 0, 0, 0])).unwrap().action();
    assert_eq!(act(1, 11), Action::Allow);
    assert_eq!(act(1, 10), Action::Errno(2));
    assert_eq!(act(2, 11), Action::Log);
    assert_eq!(
        f.evaluate(&data(4, [0; 6])).unwrap().action(),
        Action::KillThread
    );
}

#[test]
fn every_action_round_trips() {
    for a in [
        Action::KillProcess,
        Action::KillThread,
        Action::Trap(3),
        Action::Errno(4095),
        Action::UserNotif,
        Action::Trace(7),
        Action::Log,
        Action::Allow,
    ] {
        assert_eq!(Action::from_raw(a.to_raw()), a);
        let rules = [SyscallRule::new(9, a)];
        let mut st = [Instruction::default(); 16];
        let f = Builder::new(Arch::Aarch64, Action::Allow)
            .build(&rules, &mut st)
            .unwrap();
        let d = SeccompData::new(Arch::Aarch64, 9, [0; 6]);
        assert_eq!(f.evaluate(&d).unwrap().action(), a);
    }
    assert_eq!(Action::from_raw(0x1234_0000), Action::KillProcess);
}

#[test]
fn far_jumps_get_trampolines_and_stay_correct() {
    // 200 syscalls, each with a 64-bit condition: far more than 255
    // instructions between the tree and the bodies.
    let conds: alloc::vec::Vec<[Cond; 2]> = (0..200_u64)
        .map(|i| [Cond::new(0, Cmp::Ge, i << 33), Cond::new(1, Cmp::Ne, i)])
        .collect();
    let rules: alloc::vec::Vec<_> = (0..200_u32)
        .map(|i| SyscallRule::new(i, Action::Errno(1 + i as u16)).when(&conds[i as usize]))
        .collect();
    let mut st = alloc::vec![Instruction::default(); 8192];
    let f = Builder::new(Arch::X86_64, Action::Allow)
        .build(&rules, &mut st)
        .unwrap();
    check(f.instructions()).unwrap();
    assert!(f.len() > 1024);
    assert!(
        f.instructions().iter().any(|i| i.code == op::JMP | op::JA),
        "some trampoline was needed"
    );
    for i in 0..200_u32 {
        let hit = [u64::from(i) << 33, u64::from(i) + 1, 0, 0, 0, 0];
        let miss = [u64::from(i) << 33, u64::from(i), 0, 0, 0, 0];
        assert_eq!(
            f.evaluate(&data(i, hit)).unwrap().action(),
            Action::Errno(1 + i as u16)
        );
        assert_eq!(f.evaluate(&data(i, miss)).unwrap().action(), Action::Allow);
    }
}

#[test]
fn too_long_and_storage_full_are_errors() {
    let conds: alloc::vec::Vec<[Cond; 6]> = (0..200_u64)
        .map(|i| core::array::from_fn(|a| Cond::new(a as u8, Cmp::Lt, i)))
        .collect();
    let rules: alloc::vec::Vec<_> = (0..200_u32)
        .map(|i| SyscallRule::new(i, Action::Allow).when(&conds[i as usize]))
        .collect();
    let mut st = alloc::vec![Instruction::default(); 20000];
    assert_eq!(
        Builder::new(Arch::X86_64, Action::Log).build(&rules, &mut st),
        Err(BuildError::TooLong)
    );
    let mut small = [Instruction::default(); 10];
    assert_eq!(
        Builder::new(Arch::X86_64, Action::Log).build(&rules[..5], &mut small),
        Err(BuildError::StorageFull { capacity: 10 })
    );
    let mut none: [Instruction; 0] = [];
    assert_eq!(
        Builder::new(Arch::X86_64, Action::Log).build(&[], &mut none),
        Err(BuildError::StorageFull { capacity: 0 })
    );
}

#[test]
fn bad_rules_are_errors() {
    let mut st = [Instruction::default(); 64];
    let bad = [Cond::new(6, Cmp::Eq, 0)];
    let b = Builder::new(Arch::X86_64, Action::Allow);
    assert_eq!(
        b.build(
            &[
                SyscallRule::new(0, Action::Allow),
                SyscallRule::new(1, Action::Allow).when(&bad)
            ],
            &mut st
        ),
        Err(BuildError::ArgIndex { rule: 1 })
    );
    assert_eq!(
        b.build(&[SyscallRule::new(X32_SYSCALL_BIT, Action::Allow)], &mut st),
        Err(BuildError::Unreachable {
            rule: 0,
            nr: X32_SYSCALL_BIT
        })
    );
    assert_eq!(
        b.build(&[SyscallRule::new(0, Action::Errno(0))], &mut st),
        Err(BuildError::ZeroErrno { rule: 0 })
    );
    assert_eq!(
        Builder::new(Arch::X86_64, Action::Errno(0)).build(&[], &mut st),
        Err(BuildError::ZeroErrno { rule: usize::MAX })
    );
}

#[test]
fn evaluator_runs_every_instruction_class() {
    use linux_raw_sys::ptrace as c;
    let alu = |o: u32, k: u32| Instruction::stmt(op::ALU | o as u16 | op::K, k);
    let prog = [
        Instruction::load(0),                                      // A = nr (10)
        Instruction::stmt(op::MISC | op::TAX, 0),                  // X = 10
        Instruction::stmt(op::LD | op::IMM, 3),                    // A = 3
        Instruction::stmt(op::ALU | c::BPF_ADD as u16 | op::X, 0), // 13
        alu(c::BPF_MUL, 4),                                        // 52
        alu(c::BPF_SUB, 2),                                        // 50
        alu(c::BPF_DIV, 5),                                        // 10
        alu(c::BPF_MOD, 4),                                        // 2
        alu(c::BPF_LSH, 4),                                        // 32
        alu(c::BPF_RSH, 1),                                        // 16
        alu(c::BPF_OR, 1),                                         // 17
        alu(c::BPF_XOR, 3),                                        // 18
        alu(c::BPF_AND, 0xfe),                                     // 18
        Instruction::stmt(op::ST, 15),                             // M[15] = 18
        Instruction::stmt(op::LDX | op::MEM, 15),                  // X = 18
        Instruction::stmt(op::LD | op::W | op::LEN, 0),            // A = 64
        Instruction::stmt(op::MISC | op::TXA, 0),                  // A = 18
        Instruction::jump(op::JMP | op::JSET | op::K, 2, 0, 3),
        Instruction::stmt(op::JMP | op::JA, 1),
        Instruction::ret(0),
        Instruction::jump(op::JMP | op::JGT | op::X, 0, 0, 1), // 18 > 18? no
        Instruction::ret(1),
        Instruction::stmt(op::RET | op::A, 0),
    ];
    check(&prog).unwrap();
    let v = evaluate(&prog, &data(10, [0; 6])).unwrap();
    assert_eq!(v.ret, 18);
    assert_eq!(v.executed, 21);
    // Division by a zero X returns 0 (KILL_THREAD), as in the kernel.
    let div0 = [
        Instruction::stmt(op::LDX | op::IMM, 0),
        Instruction::stmt(op::ALU | c::BPF_DIV as u16 | op::X, 0),
        Instruction::ret(Action::Allow.to_raw()),
    ];
    assert_eq!(evaluate(&div0, &data(0, [0; 6])).unwrap().ret, 0);
}

#[test]
fn evaluator_and_checker_refuse_what_the_kernel_refuses() {
    let d = data(0, [0; 6]);
    assert_eq!(evaluate(&[], &d), Err(EvalError::Length(0)));
    let long = alloc::vec![Instruction::ret(0); 4097];
    assert_eq!(check(&long), Err(EvalError::Length(4097)));
    assert_eq!(
        check(&[Instruction::load(2), Instruction::ret(0)]),
        Err(EvalError::LoadOffset(0))
    );
    assert_eq!(
        check(&[Instruction::load(64), Instruction::ret(0)]),
        Err(EvalError::LoadOffset(0))
    );
    assert_eq!(
        check(&[
            Instruction::stmt(op::LD | op::W | 0x40, 0),
            Instruction::ret(0)
        ]),
        Err(EvalError::Opcode(0)),
        "BPF_IND is not allowed"
    );
    assert_eq!(
        check(&[
            Instruction::jump(op::JMP | op::JEQ, 0, 1, 0),
            Instruction::ret(0)
        ]),
        Err(EvalError::JumpOutOfRange(0))
    );
    assert_eq!(
        check(&[Instruction::stmt(op::JMP | op::JA, 1), Instruction::ret(0)]),
        Err(EvalError::JumpOutOfRange(0))
    );
    assert_eq!(
        check(&[Instruction::stmt(op::ST, 16), Instruction::ret(0)]),
        Err(EvalError::MemoryIndex(0))
    );
    assert_eq!(
        check(&[Instruction::stmt(op::ALU | 0x30, 0), Instruction::ret(0)]),
        Err(EvalError::DivisionByZero(0))
    );
    assert_eq!(check(&[Instruction::load(0)]), Err(EvalError::FellOffEnd));
    assert_eq!(
        evaluate(&[Instruction::load(0)], &d),
        Err(EvalError::FellOffEnd)
    );
}

#[test]
fn seccomp_data_words_are_native_halves() {
    let d = SeccompData {
        nr: -1,
        arch: 7,
        instruction_pointer: 0x1111_2222_3333_4444,
        args: [0xaaaa_bbbb_cccc_dddd, 0, 0, 0, 0, 6],
    };
    assert_eq!(d.word(0), Some(u32::MAX));
    assert_eq!(d.word(4), Some(7));
    assert_eq!(d.word(8), Some(0x3333_4444));
    assert_eq!(d.word(12), Some(0x1111_2222));
    assert_eq!(d.word(16), Some(0xcccc_dddd));
    assert_eq!(d.word(20), Some(0xaaaa_bbbb));
    assert_eq!(d.word(56), Some(6));
    assert_eq!(d.word(60), Some(0));
    assert_eq!(d.word(64), None);
    assert_eq!(d.word(1), None);
}

#[test]
fn every_syscall_number_gets_the_rules_verdict() {
    let mut rng = Rng(0xa11_5ca11);
    for arch in [Arch::X86_64, Arch::Aarch64] {
        let numbers: alloc::vec::Vec<u32> = arch.syscalls().map(|(_, nr)| nr).collect();
        let max = numbers.iter().copied().max().unwrap();
        // Under Miri one rule set per architecture, not ten.
        for _ in 0..if cfg!(miri) { 1 } else { 10 } {
            // Rules on real syscall numbers, some with conditions.
            let conds: alloc::vec::Vec<[Cond; 1]> = (0..80)
                .map(|_| {
                    [Cond::new(
                        (rng.next() % 6) as u8,
                        Cmp::Le,
                        rng.next() >> (rng.next() % 64),
                    )]
                })
                .collect();
            let rules: alloc::vec::Vec<_> = conds
                .iter()
                .map(|c| {
                    let nr = numbers[(rng.next() % numbers.len() as u64) as usize];
                    let action = Action::Errno(1 + (rng.next() % 100) as u16);
                    let r = SyscallRule::new(nr, action);
                    if rng.next() % 2 == 0 { r.when(c) } else { r }
                })
                .collect();
            let b = Builder::new(arch, Action::Allow);
            let mut st = alloc::vec![Instruction::default(); 4096 + rules.len()];
            let f = b.build(&rules, &mut st).unwrap();
            let step = if cfg!(miri) { 37 } else { 1 };
            for nr in
                (0..=max + 16)
                    .step_by(step)
                    .chain([X32_SYSCALL_BIT, X32_SYSCALL_BIT | 1, u32::MAX])
            {
                let args = core::array::from_fn(|_| rng.next() >> (rng.next() % 64));
                let d = SeccompData::new(arch, nr, args);
                assert_eq!(
                    f.evaluate(&d).unwrap().action(),
                    b.decide(&rules, &d),
                    "{d:?}"
                );
            }
        }
    }
}

#[test]
#[cfg(feature = "std")]
fn thread_not_synced_is_its_own_error() {
    let e = Error::ThreadNotSynced { tid: 4321 };
    assert_eq!(e.errno(), None);
    assert_eq!(e.call(), None);
    assert!(std::format!("{e}").contains("thread 4321"));
    let io = std::io::Error::from(e);
    assert_eq!(io.kind(), std::io::ErrorKind::Other);
    assert!(std::format!("{io}").contains("TSYNC"));
}
