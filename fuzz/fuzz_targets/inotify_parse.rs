//! Fuzzes `kernfd::inotify::parse`: no panic, no out-of-bounds, consumed +
//! remainder = input, and agreement with the naive reference parser.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kernfd::inotify::reference::agree(data);
});
