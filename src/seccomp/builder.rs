//! The filter builder: rules in, a classic BPF program out, in storage the
//! caller supplies. No allocation.
//!
//! # The program it writes
//! 1. `ld arch; jeq ARCH` — any other calling convention (`int $0x80` from
//!    an `x86_64` process runs with i386 numbers) kills the process.
//! 2. `ld nr`; on `x86_64`, unless [`Builder::allow_x32`], a number with the
//!    x32 bit (`__X32_SYSCALL_BIT`, `0x4000_0000`) or above kills the process
//!    (`-1`, "no syscall", goes on to the default action).
//! 3. A balanced search tree over the distinct syscall numbers of the rules
//!    (`jge` nodes, short `jeq` chains at the leaves), so a call costs a few
//!    instructions more than the logarithm of the number of syscalls named.
//! 4. Per syscall, its rules in the order given: each rule's conditions
//!    (64-bit comparisons as two 32-bit halves) all hold → its action; the
//!    first rule that matches wins; none → the default action.
//!
//! Jumps in classic BPF are forward only and conditional ones reach 255
//! instructions. The program is written back to front, so every target is
//! known when its jump is written; a target out of reach gets a trampoline
//! (a copy of the `ret` it lands on, or a `ja` with its 32-bit offset). So
//! no jump is ever unencodable; the only limits are the kernel's 4,096
//! instructions ([`BuildError::TooLong`]) and the caller's storage
//! ([`BuildError::StorageFull`]).

use core::fmt;

use super::bpf::{Action, Instruction, MAX_INSTRUCTIONS, evaluate, op};
use super::{Arch, SeccompData, abi};

/// The x32 bit of `x86_64` syscall numbers (`__X32_SYSCALL_BIT`).
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// How a [`Cond`] compares an argument with its value. All comparisons are
/// unsigned and on the full 64 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cmp {
    /// `arg == value`.
    Eq,
    /// `arg != value`.
    Ne,
    /// `arg < value`.
    Lt,
    /// `arg <= value`.
    Le,
    /// `arg > value`.
    Gt,
    /// `arg >= value`.
    Ge,
    /// `arg & mask == value`.
    MaskedEq(u64),
}

/// A condition on one argument of a syscall.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cond {
    arg: u8,
    cmp: Cmp,
    value: u64,
}

impl Cond {
    /// `args[arg] CMP value`. `arg` must be 0 to 5
    /// ([`BuildError::ArgIndex`] otherwise).
    #[must_use]
    pub const fn new(arg: u8, cmp: Cmp, value: u64) -> Self {
        Self { arg, cmp, value }
    }

    /// `args[arg] & mask == value`.
    #[must_use]
    pub const fn masked_eq(arg: u8, mask: u64, value: u64) -> Self {
        Self::new(arg, Cmp::MaskedEq(mask), value)
    }

    /// The argument index.
    #[must_use]
    pub const fn arg(&self) -> u8 {
        self.arg
    }

    /// The comparison.
    #[must_use]
    pub const fn cmp(&self) -> Cmp {
        self.cmp
    }

    /// The value compared with.
    #[must_use]
    pub const fn value(&self) -> u64 {
        self.value
    }

    /// Whether the condition holds for `args` (the meaning the program
    /// encodes; used by tests to check the program).
    #[must_use]
    pub const fn holds(&self, args: &[u64; 6]) -> bool {
        if self.arg > 5 {
            return false;
        }
        let a = args[self.arg as usize];
        let v = self.value;
        match self.cmp {
            Cmp::Eq => a == v,
            Cmp::Ne => a != v,
            Cmp::Lt => a < v,
            Cmp::Le => a <= v,
            Cmp::Gt => a > v,
            Cmp::Ge => a >= v,
            Cmp::MaskedEq(m) => a & m == v,
        }
    }
}

/// One rule: when syscall `nr` is called and every condition holds, take
/// `action`.
///
/// Rules for the same syscall are tried in the order given (OR), the first
/// match wins; the conditions of a rule must all hold (AND). A rule with no
/// condition always matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SyscallRule<'a> {
    nr: u32,
    conds: &'a [Cond],
    action: Action,
}

impl<'a> SyscallRule<'a> {
    /// Syscall `nr` always takes `action`.
    #[must_use]
    pub const fn new(nr: u32, action: Action) -> Self {
        Self {
            nr,
            conds: &[],
            action,
        }
    }

    /// The same rule, only when every one of `conds` holds.
    #[must_use]
    pub const fn when(self, conds: &'a [Cond]) -> Self {
        Self { conds, ..self }
    }

    /// The syscall number.
    #[must_use]
    pub const fn nr(&self) -> u32 {
        self.nr
    }

    /// The conditions.
    #[must_use]
    pub const fn conds(&self) -> &'a [Cond] {
        self.conds
    }

    /// The action.
    #[must_use]
    pub const fn action(&self) -> Action {
        self.action
    }

    /// Whether the rule matches a call of `nr` with `args`.
    #[must_use]
    pub fn matches(&self, nr: u32, args: &[u64; 6]) -> bool {
        self.nr == nr && self.conds.iter().all(|c| c.holds(args))
    }
}

/// Why a filter could not be built. Nothing is ever built wrong: every
/// problem is one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BuildError {
    /// Rule `rule` has a condition on an argument past 5.
    ArgIndex {
        /// The rule's index in the slice given.
        rule: usize,
    },
    /// Rule `rule` names a number the guards would kill first (one with the
    /// x32 bit on `x86_64` without [`Builder::allow_x32`]), or one past
    /// `i32::MAX`.
    Unreachable {
        /// The rule's index.
        rule: usize,
        /// Its syscall number.
        nr: u32,
    },
    /// The program needs more than the kernel's 4,096 instructions.
    TooLong,
    /// Rule `rule` (or the default action, `rule == usize::MAX`) is
    /// `Errno(0)`: the call would "succeed" with the value 0 without
    /// running, and for a call that returns an address (`mmap`) that is a
    /// null pointer taken for memory. Refused; use `Allow` or a real errno.
    ZeroErrno {
        /// The rule's index, or `usize::MAX` for the default action.
        rule: usize,
    },
    /// The storage given is too small: the builder needs the program plus
    /// one slot per distinct syscall while it works. A storage of
    /// `MAX_INSTRUCTIONS + rules.len()` always suffices.
    StorageFull {
        /// The storage's length.
        capacity: usize,
    },
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::ArgIndex { rule } => write!(f, "rule {rule}: argument index past 5"),
            Self::Unreachable { rule, nr } => write!(
                f,
                "rule {rule}: syscall number {nr:#x} is killed by the architecture guards or invalid"
            ),
            Self::ZeroErrno { rule } => write!(
                f,
                "rule {rule}: ERRNO(0) makes a call return 0 without running it: refused"
            ),
            Self::TooLong => write!(
                f,
                "the filter needs more than the kernel's {MAX_INSTRUCTIONS} instructions"
            ),
            Self::StorageFull { capacity } => write!(
                f,
                "the filter does not fit in a storage of {capacity} instructions"
            ),
        }
    }
}

impl core::error::Error for BuildError {}

/// Builds seccomp filters for one architecture.
///
/// # Example
/// ```
/// use kernfd::seccomp::{Action, Arch, Builder, Cmp, Cond, Instruction, SeccompData, SyscallRule};
///
/// let arch = Arch::X86_64;
/// let write = arch.syscall("write").unwrap();
/// let to_stderr = [Cond::new(0, Cmp::Eq, 2)];
/// let rules = [
///     SyscallRule::new(write, Action::Allow).when(&to_stderr),
///     SyscallRule::new(write, Action::Errno(1)),
///     SyscallRule::new(arch.syscall("exit_group").unwrap(), Action::Allow),
/// ];
/// let mut storage = [Instruction::default(); 64];
/// let filter = Builder::new(arch, Action::KillProcess).build(&rules, &mut storage)?;
/// let call = |fd| SeccompData::new(arch, write, [fd, 0, 0, 0, 0, 0]);
/// assert_eq!(filter.evaluate(&call(2)).unwrap().action(), Action::Allow);
/// assert_eq!(filter.evaluate(&call(1)).unwrap().action(), Action::Errno(1));
/// # Ok::<(), kernfd::seccomp::BuildError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Builder {
    arch: Arch,
    default: Action,
    x32: bool,
}

/// The longest `jeq` chain at a leaf of the search tree.
const LEAF: usize = 3;

impl Builder {
    /// A builder for `arch` whose calls no rule matches take `default`.
    #[must_use]
    pub const fn new(arch: Arch, default: Action) -> Self {
        Self {
            arch,
            default,
            x32: false,
        }
    }

    /// Lets x32 syscall numbers (with `__X32_SYSCALL_BIT`) through to the
    /// rules and the default action, instead of killing the process. Rules
    /// written for `x86_64` numbers do not match x32 calls, so only do this
    /// with rules for the x32 numbers as well. No effect on `aarch64`.
    #[must_use]
    pub const fn allow_x32(self) -> Self {
        Self { x32: true, ..self }
    }

    /// The architecture.
    #[must_use]
    pub const fn arch(&self) -> Arch {
        self.arch
    }

    /// The default action.
    #[must_use]
    pub const fn default_action(&self) -> Action {
        self.default
    }

    /// What the program built from `rules` decides for `data`, computed
    /// from the rules themselves (no program): the meaning
    /// [`build`](Self::build) must encode. Tests and fuzzing compare the
    /// two.
    #[must_use]
    pub fn decide(&self, rules: &[SyscallRule<'_>], data: &SeccompData) -> Action {
        if data.arch != self.arch.audit_arch() {
            return Action::KillProcess;
        }
        let nr = data.nr as u32;
        if self.guards_x32() && nr >= X32_SYSCALL_BIT && nr != u32::MAX {
            return Action::KillProcess;
        }
        rules
            .iter()
            .find(|r| r.matches(nr, &data.args))
            .map_or(self.default, |r| r.action)
    }

    const fn guards_x32(self) -> bool {
        matches!(self.arch, Arch::X86_64) && !self.x32
    }

    /// Writes the filter for `rules` into `storage` and returns it.
    ///
    /// # Errors
    /// A [`BuildError`]: a condition on an argument past 5, a rule for a
    /// number the guards kill, an `Errno(0)` action, a program over 4,096 instructions, or a
    /// storage too small.
    pub fn build<'s>(
        &self,
        rules: &[SyscallRule<'_>],
        storage: &'s mut [Instruction],
    ) -> Result<Filter<'s>, BuildError> {
        if self.default == Action::Errno(0) {
            return Err(BuildError::ZeroErrno { rule: usize::MAX });
        }
        for (i, r) in rules.iter().enumerate() {
            if r.action == Action::Errno(0) {
                return Err(BuildError::ZeroErrno { rule: i });
            }
            if r.conds.iter().any(|c| c.arg > 5) {
                return Err(BuildError::ArgIndex { rule: i });
            }
            if r.nr > i32::MAX as u32 || (self.guards_x32() && r.nr >= X32_SYSCALL_BIT) {
                return Err(BuildError::Unreachable { rule: i, nr: r.nr });
            }
        }
        let capacity = storage.len();
        // The distinct syscall numbers, sorted, at the front of the storage
        // (in `k`; the label of each one's rules goes in `code`).
        let mut distinct = 0;
        for r in rules {
            let seen = &storage[..distinct];
            let at = seen.partition_point(|s| s.k < r.nr);
            if at < distinct && seen[at].k == r.nr {
                continue;
            }
            if distinct == capacity {
                return Err(BuildError::StorageFull { capacity });
            }
            storage.copy_within(at..distinct, at + 1);
            storage[at] = Instruction::stmt(0, r.nr);
            distinct += 1;
        }
        let mut e = Emitter {
            buf: storage,
            scratch: distinct,
            pos: 0,
            rets: [(0, usize::MAX); 8],
        };
        let default = e.ret(self.default.to_raw())?;
        // The guards' kill, at the end with the default; jumps to it from
        // the top get a copy nearer when it is out of reach.
        let kill = e.ret(Action::KillProcess.to_raw())?;
        // Each syscall's rules, from the highest number down.
        for i in (0..distinct).rev() {
            let nr = e.buf[i].k;
            // Rules after the first unconditional one can never match.
            let end = rules
                .iter()
                .position(|r| r.nr == nr && r.conds.is_empty())
                .map_or(rules.len(), |p| p + 1);
            let mut next = default;
            for r in rules[..end].iter().rev().filter(|r| r.nr == nr) {
                let mut start = e.ret(r.action.to_raw())?;
                for c in r.conds.iter().rev() {
                    start = e.cond(c, start, next)?;
                }
                next = start;
            }
            e.buf[i].code = next as u16;
        }
        let tree = if distinct == 0 {
            default
        } else {
            e.tree(0, distinct, default)?
        };
        // `ld nr` falls through to the guard, or to the tree.
        let tree = e.fall_to(tree)?;
        if self.guards_x32() {
            let minus_one = e.jump(op::JEQ, u32::MAX, tree, kill)?;
            e.jump(op::JGE, X32_SYSCALL_BIT, minus_one, tree)?;
        }
        let load_nr = e.emit(Instruction::load(abi::DATA_NR as u32))?;
        e.jump(op::JEQ, self.arch.audit_arch(), load_nr, kill)?;
        e.emit(Instruction::load(abi::DATA_ARCH as u32))?;
        let len = e.pos;
        storage.copy_within(capacity - len.., 0);
        Ok(Filter {
            program: &storage[..len],
        })
    }
}

/// Writes instructions back to front at the end of the storage. A label is
/// the number of instructions written when it was written (its distance
/// from the end).
struct Emitter<'b> {
    buf: &'b mut [Instruction],
    /// Slots at the front holding the sorted syscall numbers.
    scratch: usize,
    pos: usize,
    /// Recently written `ret`s: (value, label).
    rets: [(u32, usize); 8],
}

impl Emitter<'_> {
    fn at(&self, label: usize) -> Instruction {
        self.buf[self.buf.len() - 1 - label]
    }

    fn emit(&mut self, ins: Instruction) -> Result<usize, BuildError> {
        if self.pos >= MAX_INSTRUCTIONS {
            return Err(BuildError::TooLong);
        }
        if self.pos + self.scratch >= self.buf.len() {
            return Err(BuildError::StorageFull {
                capacity: self.buf.len(),
            });
        }
        let i = self.buf.len() - 1 - self.pos;
        self.buf[i] = ins;
        self.pos += 1;
        if ins.code == op::RET | op::K {
            // Remember it, replacing the oldest entry.
            self.rets.rotate_right(1);
            self.rets[0] = (ins.k, self.pos - 1);
        }
        Ok(self.pos - 1)
    }

    /// The label of a `ret value` reachable from here, written if needed.
    fn ret(&mut self, value: u32) -> Result<usize, BuildError> {
        match self
            .rets
            .iter()
            .find(|&&(v, l)| v == value && l != usize::MAX)
        {
            Some(&(_, l)) if self.pos - l - 1 <= 255 => Ok(l),
            _ => self.emit(Instruction::ret(value)),
        }
    }

    /// A label that jumps on to `target`, written here: a copy of `target`
    /// when it is a `ret`, else a `ja`.
    fn trampoline(&mut self, target: usize) -> Result<usize, BuildError> {
        let ins = self.at(target);
        if ins.code == op::RET | op::K {
            self.emit(ins)
        } else {
            let off = (self.pos - target - 1) as u32;
            self.emit(Instruction::stmt(op::JMP | op::JA, off))
        }
    }

    /// Makes `target` the next instruction in program order of whatever is
    /// written next: `target` itself when it was the last written, else a
    /// copy of it (a `ret`) or a `ja` to it.
    fn fall_to(&mut self, target: usize) -> Result<usize, BuildError> {
        if target + 1 == self.pos {
            Ok(target)
        } else {
            self.trampoline(target)
        }
    }

    /// A conditional jump `code k` to `jt` or `jf`, with trampolines for
    /// targets out of reach.
    fn jump(
        &mut self,
        code: u16,
        k: u32,
        mut jt: usize,
        mut jf: usize,
    ) -> Result<usize, BuildError> {
        loop {
            let (djt, djf) = (self.pos - jt - 1, self.pos - jf - 1);
            if djt <= 255 && djf <= 255 {
                return self.emit(Instruction::jump(
                    op::JMP | code | op::K,
                    k,
                    djt as u8,
                    djf as u8,
                ));
            }
            if djt > 255 {
                jt = self.trampoline(jt)?;
            } else {
                jf = self.trampoline(jf)?;
            }
        }
    }

    fn load_arg(&mut self, arg: u8, high: bool) -> Result<usize, BuildError> {
        let low_first = cfg!(target_endian = "little");
        let off =
            abi::DATA_ARGS as u32 + 8 * u32::from(arg) + if high == low_first { 4 } else { 0 };
        self.emit(Instruction::load(off))
    }

    /// The code for `c`: on to `yes` when it holds, `no` when not.
    fn cond(&mut self, c: &Cond, yes: usize, no: usize) -> Result<usize, BuildError> {
        let (hv, lv) = ((c.value >> 32) as u32, c.value as u32);
        match c.cmp {
            Cmp::Eq | Cmp::Ne => {
                let (t, f) = if c.cmp == Cmp::Eq {
                    (yes, no)
                } else {
                    (no, yes)
                };
                self.jump(op::JEQ, lv, t, f)?;
                let lo = self.load_arg(c.arg, false)?;
                self.jump(op::JEQ, hv, lo, f)?;
                self.load_arg(c.arg, true)
            }
            Cmp::MaskedEq(m) => {
                let (hm, lm) = ((m >> 32) as u32, m as u32);
                let mut start = yes;
                if lm != 0 || lv != 0 {
                    self.jump(op::JEQ, lv, start, no)?;
                    self.emit(Instruction::stmt(op::ALU | op::AND | op::K, lm))?;
                    start = self.load_arg(c.arg, false)?;
                }
                if hm != 0 || hv != 0 {
                    self.jump(op::JEQ, hv, start, no)?;
                    self.emit(Instruction::stmt(op::ALU | op::AND | op::K, hm))?;
                    start = self.load_arg(c.arg, true)?;
                }
                Ok(start)
            }
            Cmp::Gt | Cmp::Ge => {
                let last = if c.cmp == Cmp::Gt { op::JGT } else { op::JGE };
                self.jump(last, lv, yes, no)?;
                let lo = self.load_arg(c.arg, false)?;
                let eq = self.jump(op::JEQ, hv, lo, no)?;
                self.jump(op::JGT, hv, yes, eq)?;
                self.load_arg(c.arg, true)
            }
            Cmp::Lt | Cmp::Le => {
                let last = if c.cmp == Cmp::Lt { op::JGE } else { op::JGT };
                self.jump(last, lv, no, yes)?;
                let lo = self.load_arg(c.arg, false)?;
                let eq = self.jump(op::JEQ, hv, lo, yes)?;
                self.jump(op::JGT, hv, no, eq)?;
                self.load_arg(c.arg, true)
            }
        }
    }

    /// The search tree over the sorted numbers `lo..hi`; a number that is
    /// none of them goes to `default`. A in the accumulator is the number.
    fn tree(&mut self, lo: usize, hi: usize, default: usize) -> Result<usize, BuildError> {
        if hi - lo <= LEAF {
            let mut next = default;
            for i in (lo..hi).rev() {
                let (nr, body) = (self.buf[i].k, usize::from(self.buf[i].code));
                next = self.jump(op::JEQ, nr, body, next)?;
            }
            return Ok(next);
        }
        let mid = lo + (hi - lo).div_ceil(2);
        let right = self.tree(mid, hi, default)?;
        let left = self.tree(lo, mid, default)?;
        self.jump(op::JGE, self.buf[mid].k, right, left)
    }
}

/// A built seccomp filter, borrowing the storage it was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Filter<'s> {
    program: &'s [Instruction],
}

impl<'s> Filter<'s> {
    /// The program's instructions.
    #[must_use]
    pub const fn instructions(&self) -> &'s [Instruction] {
        self.program
    }

    /// The program's length.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.program.len()
    }

    /// Always `false`: a built program has at least its guards and a return.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.program.is_empty()
    }

    /// Runs the program on `data` (see [`evaluate`](super::evaluate)).
    ///
    /// # Errors
    /// None for a program from [`Builder::build`]; the type is the
    /// evaluator's.
    pub fn evaluate(&self, data: &SeccompData) -> Result<super::Verdict, super::EvalError> {
        evaluate(self.program, data)
    }
}
