//! Classic BPF as seccomp uses it: the instruction, the `seccomp_data` a
//! filter reads, the actions it returns, and an evaluator that runs a
//! program the way the kernel does.
//!
//! The evaluator accepts what the kernel's checker accepts for seccomp
//! (`bpf_check_classic` then `seccomp_check_filter`): 32-bit absolute loads
//! at aligned offsets inside `seccomp_data`, `LD/LDX W LEN`, immediates,
//! scratch memory, every ALU operation, every jump, `RET K` and `RET A`, and
//! `TAX`/`TXA`. Anything else is an [`EvalError`] naming the instruction.

use core::fmt;

use linux_raw_sys::ptrace as c;

use super::abi;
use crate::record::field;

/// One classic BPF instruction: C `struct sock_filter`.
#[doc(alias = "sock_filter")]
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Instruction {
    /// The opcode: class, size, mode, operation and source (`BPF_*`).
    pub code: u16,
    /// Jump offset when the condition holds (conditional jumps).
    pub jt: u8,
    /// Jump offset when it does not.
    pub jf: u8,
    /// The constant operand.
    pub k: u32,
}

const _: () = assert!(size_of::<Instruction>() == size_of::<abi::sock_filter>());
const _: () = assert!(core::mem::offset_of!(Instruction, k) == 4);

/// Opcode parts, as `u16` (`BPF_*` of `<linux/filter.h>`).
#[allow(clippy::doc_markdown)]
pub mod op {
    use super::c;
    /// `BPF_LD`: load into A.
    pub const LD: u16 = c::BPF_LD as u16;
    /// `BPF_LDX`: load into X.
    pub const LDX: u16 = c::BPF_LDX as u16;
    /// `BPF_ST`: store A in scratch memory.
    pub const ST: u16 = c::BPF_ST as u16;
    /// `BPF_STX`: store X in scratch memory.
    pub const STX: u16 = c::BPF_STX as u16;
    /// `BPF_ALU`: arithmetic on A.
    pub const ALU: u16 = c::BPF_ALU as u16;
    /// `BPF_JMP`: jumps.
    pub const JMP: u16 = c::BPF_JMP as u16;
    /// `BPF_RET`: return.
    pub const RET: u16 = c::BPF_RET as u16;
    /// `BPF_MISC`: `TAX` and `TXA`.
    pub const MISC: u16 = c::BPF_MISC as u16;
    /// `BPF_W`: 32-bit load.
    pub const W: u16 = c::BPF_W as u16;
    /// `BPF_ABS`: load from a fixed offset of `seccomp_data`.
    pub const ABS: u16 = c::BPF_ABS as u16;
    /// `BPF_IMM`: load the constant.
    pub const IMM: u16 = c::BPF_IMM as u16;
    /// `BPF_MEM`: scratch memory.
    pub const MEM: u16 = c::BPF_MEM as u16;
    /// `BPF_LEN`: the length of `seccomp_data` (64).
    pub const LEN: u16 = c::BPF_LEN as u16;
    /// `BPF_K`: the constant operand.
    pub const K: u16 = c::BPF_K as u16;
    /// `BPF_X`: the X operand.
    pub const X: u16 = c::BPF_X as u16;
    /// `BPF_A`: return A.
    pub const A: u16 = c::BPF_A as u16;
    /// `BPF_JA`: unconditional jump by `k`.
    pub const JA: u16 = c::BPF_JA as u16;
    /// `BPF_JEQ`.
    pub const JEQ: u16 = c::BPF_JEQ as u16;
    /// `BPF_JGT`.
    pub const JGT: u16 = c::BPF_JGT as u16;
    /// `BPF_JGE`.
    pub const JGE: u16 = c::BPF_JGE as u16;
    /// `BPF_JSET`.
    pub const JSET: u16 = c::BPF_JSET as u16;
    /// `BPF_AND`.
    pub const AND: u16 = c::BPF_AND as u16;
    /// `BPF_TAX`.
    pub const TAX: u16 = c::BPF_TAX as u16;
    /// `BPF_TXA`.
    pub const TXA: u16 = c::BPF_TXA as u16;
}

impl Instruction {
    /// `BPF_STMT(code, k)`.
    #[must_use]
    pub const fn stmt(code: u16, k: u32) -> Self {
        Self {
            code,
            jt: 0,
            jf: 0,
            k,
        }
    }

    /// `BPF_JUMP(code, k, jt, jf)`.
    #[must_use]
    pub const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> Self {
        Self { code, jt, jf, k }
    }

    /// `BPF_STMT(BPF_RET | BPF_K, action)`.
    #[must_use]
    pub const fn ret(action: u32) -> Self {
        Self::stmt(op::RET | op::K, action)
    }

    /// `BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offset)`: load a 32-bit word of
    /// `seccomp_data`.
    #[must_use]
    pub const fn load(offset: u32) -> Self {
        Self::stmt(op::LD | op::W | op::ABS, offset)
    }
}

/// What a filter sees of a system call: C `struct seccomp_data`.
#[doc(alias = "seccomp_data")]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SeccompData {
    /// The syscall number (`int`: `-1` is "no syscall").
    pub nr: i32,
    /// The `AUDIT_ARCH_*` value of the calling convention.
    pub arch: u32,
    /// The address of the syscall instruction.
    pub instruction_pointer: u64,
    /// The six arguments, as 64-bit values.
    pub args: [u64; 6],
}

impl SeccompData {
    /// A call of `nr` with `args` on `arch`, at address zero.
    #[must_use]
    pub const fn new(arch: super::Arch, nr: u32, args: [u64; 6]) -> Self {
        Self {
            nr: nr as i32,
            arch: arch.audit_arch(),
            instruction_pointer: 0,
            args,
        }
    }

    /// The 32-bit word a `BPF_LD | BPF_W | BPF_ABS` at `offset` reads, as the
    /// kernel lays the struct out (native endianness); `None` outside the
    /// struct or unaligned, which the kernel's checker refuses.
    #[must_use]
    pub const fn word(&self, offset: u32) -> Option<u32> {
        if offset % 4 != 0 || offset as usize >= abi::DATA_LEN {
            return None;
        }
        let i = offset as usize;
        Some(match i {
            abi::DATA_NR => self.nr as u32,
            abi::DATA_ARCH => self.arch,
            _ => {
                let v = if i < abi::DATA_ARGS {
                    self.instruction_pointer
                } else {
                    self.args[(i - abi::DATA_ARGS) / 8]
                };
                let high = (i % 8 == 4) == cfg!(target_endian = "little");
                if high { (v >> 32) as u32 } else { v as u32 }
            }
        })
    }

    /// Parses the 64 bytes of a C `struct seccomp_data` (native endianness).
    /// `None` when `bytes` is shorter.
    #[must_use]
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let b = bytes.first_chunk::<{ abi::DATA_LEN }>()?;
        Some(Self {
            nr: field!(b, abi::seccomp_data, nr),
            arch: field!(b, abi::seccomp_data, arch),
            instruction_pointer: field!(b, abi::seccomp_data, instruction_pointer),
            args: field!(b, abi::seccomp_data, args),
        })
    }
}

/// What a filter tells the kernel to do with a system call
/// (`SECCOMP_RET_*`).
///
/// When several filters are installed, the kernel runs them all and takes
/// the action of highest precedence, in this order: `KillProcess`,
/// `KillThread`, `Trap`, `Errno`, `UserNotif`, `Trace`, `Log`, `Allow`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// `SECCOMP_RET_KILL_PROCESS`: kill the whole process with `SIGSYS`.
    KillProcess,
    /// `SECCOMP_RET_KILL_THREAD`: kill the calling thread with `SIGSYS`.
    KillThread,
    /// `SECCOMP_RET_TRAP`: send `SIGSYS` to the thread; `si_errno` carries
    /// the data.
    Trap(u16),
    /// `SECCOMP_RET_ERRNO`: fail the call with this errno (the kernel caps it
    /// at 4095).
    Errno(u16),
    /// `SECCOMP_RET_USER_NOTIF`: ask the filter's listener
    /// ([`Listener`](super::Listener)); `ENOSYS` when there is none.
    UserNotif,
    /// `SECCOMP_RET_TRACE`: notify a ptrace tracer
    /// (`PTRACE_EVENT_SECCOMP`, with the data); `ENOSYS` when there is none.
    Trace(u16),
    /// `SECCOMP_RET_LOG`: allow and log.
    Log,
    /// `SECCOMP_RET_ALLOW`: allow.
    Allow,
}

impl Action {
    /// The 32-bit value a filter returns for this action.
    #[must_use]
    pub const fn to_raw(self) -> u32 {
        match self {
            Self::KillProcess => c::SECCOMP_RET_KILL_PROCESS,
            Self::KillThread => c::SECCOMP_RET_KILL_THREAD,
            Self::Trap(d) => c::SECCOMP_RET_TRAP | d as u32,
            Self::Errno(e) => c::SECCOMP_RET_ERRNO | e as u32,
            Self::UserNotif => c::SECCOMP_RET_USER_NOTIF,
            Self::Trace(d) => c::SECCOMP_RET_TRACE | d as u32,
            Self::Log => c::SECCOMP_RET_LOG,
            Self::Allow => c::SECCOMP_RET_ALLOW,
        }
    }

    /// The action the kernel takes for a filter's 32-bit return value. The
    /// kernel treats an unknown action as `KillProcess`, and ignores the data
    /// bits of those that take none.
    #[must_use]
    pub const fn from_raw(ret: u32) -> Self {
        let data = (ret & c::SECCOMP_RET_DATA) as u16;
        match ret & c::SECCOMP_RET_ACTION_FULL {
            c::SECCOMP_RET_KILL_THREAD => Self::KillThread,
            c::SECCOMP_RET_TRAP => Self::Trap(data),
            c::SECCOMP_RET_ERRNO => Self::Errno(data),
            c::SECCOMP_RET_USER_NOTIF => Self::UserNotif,
            c::SECCOMP_RET_TRACE => Self::Trace(data),
            c::SECCOMP_RET_LOG => Self::Log,
            c::SECCOMP_RET_ALLOW => Self::Allow,
            _ => Self::KillProcess,
        }
    }

    /// The action without its data, as `SECCOMP_GET_ACTION_AVAIL` takes it.
    #[must_use]
    pub const fn without_data(self) -> u32 {
        self.to_raw() & c::SECCOMP_RET_ACTION_FULL
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::KillProcess => f.write_str("KILL_PROCESS"),
            Self::KillThread => f.write_str("KILL_THREAD"),
            Self::Trap(d) => write!(f, "TRAP({d})"),
            Self::Errno(e) => write!(f, "ERRNO({e})"),
            Self::UserNotif => f.write_str("USER_NOTIF"),
            Self::Trace(d) => write!(f, "TRACE({d})"),
            Self::Log => f.write_str("LOG"),
            Self::Allow => f.write_str("ALLOW"),
        }
    }
}

/// The result of running a filter on one [`SeccompData`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Verdict {
    /// The 32-bit value the program returned.
    pub ret: u32,
    /// How many instructions ran, the returning one included.
    pub executed: usize,
}

impl Verdict {
    /// The action the kernel takes for [`ret`](Self::ret).
    #[must_use]
    pub const fn action(&self) -> Action {
        Action::from_raw(self.ret)
    }
}

/// Why the evaluator (or the kernel) refuses a program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EvalError {
    /// The program is empty or longer than 4,096 instructions.
    Length(usize),
    /// The instruction at this index has an opcode seccomp does not allow.
    Opcode(usize),
    /// The load at this index reads outside `seccomp_data` or unaligned.
    LoadOffset(usize),
    /// The jump at this index leaves the program.
    JumpOutOfRange(usize),
    /// The scratch-memory access at this index is past slot 15.
    MemoryIndex(usize),
    /// The division or modulo by the constant zero at this index.
    DivisionByZero(usize),
    /// The scratch-memory load at this index may read a slot no path to it
    /// has written ([`check`] only; the evaluator reads such a slot as 0).
    UninitializedMemory(usize),
    /// The program ran past its last instruction.
    FellOffEnd,
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Length(n) => write!(f, "program of {n} instructions (1 to 4096 allowed)"),
            Self::Opcode(i) => write!(f, "instruction {i}: opcode not allowed in seccomp"),
            Self::LoadOffset(i) => {
                write!(f, "instruction {i}: load outside seccomp_data or unaligned")
            }
            Self::JumpOutOfRange(i) => write!(f, "instruction {i}: jump leaves the program"),
            Self::MemoryIndex(i) => write!(f, "instruction {i}: scratch memory index past 15"),
            Self::DivisionByZero(i) => write!(f, "instruction {i}: division by constant zero"),
            Self::UninitializedMemory(i) => {
                write!(
                    f,
                    "instruction {i}: reads scratch memory no path has written"
                )
            }
            Self::FellOffEnd => f.write_str("the program ran past its last instruction"),
        }
    }
}

impl core::error::Error for EvalError {}

/// The kernel's limit on a program's length (`BPF_MAXINSNS`).
pub const MAX_INSTRUCTIONS: usize = c::BPF_MAXINSNS as usize;

/// Runs `program` on `data` as the kernel would, returning the value it
/// returns and how many instructions ran.
///
/// Pure: no syscall. Use it to test a policy, or to cost it (the
/// [`Verdict::executed`] count), without installing it.
///
/// # Errors
/// An [`EvalError`] for a program the kernel would refuse at install time,
/// found on the path this `data` takes (run [`check`] for the whole
/// program).
///
/// # Example
/// ```
/// use kernfd::seccomp::{evaluate, Action, Instruction, SeccompData, Arch};
///
/// let program = [Instruction::ret(Action::Errno(1).to_raw())];
/// let v = evaluate(&program, &SeccompData::new(Arch::X86_64, 0, [0; 6]))?;
/// assert_eq!((v.action(), v.executed), (Action::Errno(1), 1));
/// # Ok::<(), kernfd::seccomp::EvalError>(())
/// ```
#[allow(clippy::too_many_lines)] // one arm per instruction class
pub fn evaluate(program: &[Instruction], data: &SeccompData) -> Result<Verdict, EvalError> {
    if program.is_empty() || program.len() > MAX_INSTRUCTIONS {
        return Err(EvalError::Length(program.len()));
    }
    let (mut a, mut x) = (0_u32, 0_u32);
    let mut mem = [0_u32; 16];
    let mut pc = 0_usize;
    let mut executed = 0_usize;
    loop {
        let Some(&ins) = program.get(pc) else {
            return Err(EvalError::FellOffEnd);
        };
        executed += 1;
        let class = ins.code & 0x07;
        let mut next = pc + 1;
        match class {
            op::LD | op::LDX => {
                let v = match ins.code & !0x07 {
                    c if c == op::W | op::ABS && class == op::LD => {
                        data.word(ins.k).ok_or(EvalError::LoadOffset(pc))?
                    }
                    c if c == op::W | op::LEN => abi::DATA_LEN as u32,
                    c if c == op::IMM => ins.k,
                    c if c == op::MEM => *mem.get(ins.k as usize).ok_or(EvalError::MemoryIndex(pc))?,
                    _ => return Err(EvalError::Opcode(pc)),
                };
                if class == op::LD { a = v } else { x = v }
            }
            op::ST | op::STX => {
                if ins.code & !0x07 != 0 {
                    return Err(EvalError::Opcode(pc));
                }
                let slot = mem.get_mut(ins.k as usize).ok_or(EvalError::MemoryIndex(pc))?;
                *slot = if class == op::ST { a } else { x };
            }
            op::ALU => {
                let src = ins.code & 0x08;
                let operand = if src == op::X { x } else { ins.k };
                let alu = ins.code & 0xf0;
                if src == op::K && (alu == c::BPF_DIV as u16 || alu == c::BPF_MOD as u16) && ins.k == 0 {
                    return Err(EvalError::DivisionByZero(pc));
                }
                if src == op::K && (alu == c::BPF_LSH as u16 || alu == c::BPF_RSH as u16) && ins.k >= 32 {
                    return Err(EvalError::Opcode(pc));
                }
                a = match u32::from(alu) {
                    c::BPF_ADD => a.wrapping_add(operand),
                    c::BPF_SUB => a.wrapping_sub(operand),
                    c::BPF_MUL => a.wrapping_mul(operand),
                    // Division by a zero X makes the kernel's program return 0.
                    c::BPF_DIV => match a.checked_div(operand) {
                        Some(v) => v,
                        None => return Ok(Verdict { ret: 0, executed }),
                    },
                    c::BPF_MOD => match a.checked_rem(operand) {
                        Some(v) => v,
                        None => return Ok(Verdict { ret: 0, executed }),
                    },
                    c::BPF_OR => a | operand,
                    c::BPF_AND => a & operand,
                    c::BPF_XOR => a ^ operand,
                    // A constant shift of 32 or more is refused above; the
                    // kernel shifts by X modulo 32, as `wrapping_sh*` does.
                    c::BPF_LSH => a.wrapping_shl(operand),
                    c::BPF_RSH => a.wrapping_shr(operand),
                    c::BPF_NEG if src == op::K => a.wrapping_neg(),
                    _ => return Err(EvalError::Opcode(pc)),
                };
            }
            op::JMP => {
                let src = ins.code & 0x08;
                let operand = if src == op::X { x } else { ins.k };
                let (taken, off) = match ins.code & 0xf0 {
                    j if j == op::JA && src == op::K => (true, ins.k as usize),
                    j if j == op::JEQ => (a == operand, 0),
                    j if j == op::JGT => (a > operand, 0),
                    j if j == op::JGE => (a >= operand, 0),
                    j if j == op::JSET => (a & operand != 0, 0),
                    _ => return Err(EvalError::Opcode(pc)),
                };
                let off = if ins.code & 0xf0 == op::JA {
                    off
                } else if taken {
                    ins.jt as usize
                } else {
                    ins.jf as usize
                };
                next = pc
                    .checked_add(1 + off)
                    .filter(|&n| n < program.len())
                    .ok_or(EvalError::JumpOutOfRange(pc))?;
            }
            op::RET => {
                let ret = match ins.code & !0x07 {
                    c if c == op::K => ins.k,
                    c if c == op::A => a,
                    _ => return Err(EvalError::Opcode(pc)),
                };
                return Ok(Verdict { ret, executed });
            }
            _ /* MISC */ => match ins.code & !0x07 {
                c if c == op::TAX => x = a,
                c if c == op::TXA => a = x,
                _ => return Err(EvalError::Opcode(pc)),
            },
        }
        pc = next;
    }
}

/// Checks the whole of `program` as the kernel's checker would: its length,
/// every opcode, load offset, scratch index and jump target, that it ends
/// in a return, and that no scratch slot is read before every path to the
/// read has written it.
///
/// # Errors
/// The first problem found, by instruction index.
pub fn check(program: &[Instruction]) -> Result<(), EvalError> {
    let n = program.len();
    if n == 0 || n > MAX_INSTRUCTIONS {
        return Err(EvalError::Length(n));
    }
    let probe = SeccompData::default();
    for (i, ins) in program.iter().enumerate() {
        let class = ins.code & 0x07;
        if class == op::JMP {
            {
                let code = ins.code & 0xf0;
                if code == op::JA {
                    if ins.code & 0x08 != 0 {
                        return Err(EvalError::Opcode(i));
                    }
                    if (ins.k as usize) >= n - i - 1 {
                        return Err(EvalError::JumpOutOfRange(i));
                    }
                } else {
                    if !matches!(code, op::JEQ | op::JGT | op::JGE | op::JSET) {
                        return Err(EvalError::Opcode(i));
                    }
                    if i + 1 + ins.jt.max(ins.jf) as usize >= n {
                        return Err(EvalError::JumpOutOfRange(i));
                    }
                }
            }
        } else {
            {
                // Run the instruction alone, with a return after it, to check
                // it through the evaluator's own rules.
                let one = [*ins, Instruction::ret(0)];
                match evaluate(&one, &probe) {
                    Err(EvalError::Opcode(_)) => return Err(EvalError::Opcode(i)),
                    Err(EvalError::LoadOffset(_)) => return Err(EvalError::LoadOffset(i)),
                    Err(EvalError::MemoryIndex(_)) => return Err(EvalError::MemoryIndex(i)),
                    Err(EvalError::DivisionByZero(_)) => return Err(EvalError::DivisionByZero(i)),
                    _ => {}
                }
            }
        }
    }
    if program[n - 1].code & 0x07 != op::RET {
        return Err(EvalError::FellOffEnd);
    }
    check_memory(program)
}

/// The kernel's `check_load_and_stores`: a scratch slot is read only where
/// every path to the read has written it. Jumps are known to be in range.
fn check_memory(program: &[Instruction]) -> Result<(), EvalError> {
    // Slots valid on entry to each instruction (ANDed over the jumps to it).
    let mut masks = [u16::MAX; MAX_INSTRUCTIONS];
    let mut valid = 0_u16;
    for (pc, ins) in program.iter().enumerate() {
        valid &= masks[pc];
        let bit = 1_u16.checked_shl(ins.k).unwrap_or(0);
        match ins.code {
            c if c == op::ST || c == op::STX => valid |= bit,
            c if (c == op::LD | op::MEM || c == op::LDX | op::MEM) && valid & bit == 0 => {
                return Err(EvalError::UninitializedMemory(pc));
            }
            c if c == op::JMP | op::JA => {
                masks[pc + 1 + ins.k as usize] &= valid;
                valid = u16::MAX;
            }
            c if c & 0x07 == op::JMP => {
                masks[pc + 1 + ins.jt as usize] &= valid;
                masks[pc + 1 + ins.jf as usize] &= valid;
                valid = u16::MAX;
            }
            _ => {}
        }
    }
    Ok(())
}
