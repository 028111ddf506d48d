//! Fuzzes `kernfd::seccomp::parse_notification`: no panic on any input,
//! every field equal to the naive reference parser's, the truncation error
//! at the input's end.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kernfd::seccomp::reference::notification_agrees(data);
});
