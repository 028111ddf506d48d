//! Fuzzes the seccomp filter builder and evaluator: from arbitrary bytes,
//! a rule set (random syscalls, conditions on full 64-bit arguments, every
//! action, either architecture, x32 guard on or off) is built, the program
//! must pass the kernel's checker rules, and for calls derived from the same
//! bytes the evaluator's verdict must equal the rules' meaning.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = kernfd::seccomp::reference::rules_agree(data);
});
