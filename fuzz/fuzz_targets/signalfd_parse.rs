//! Fuzzes `kernfd::signalfd::parse`: no panic, no out-of-bounds, every field
//! of every record equal to the naive reference parser's, one error for a
//! trailing partial record, consumed + remainder = input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kernfd::signalfd::reference::agree(data);
});
