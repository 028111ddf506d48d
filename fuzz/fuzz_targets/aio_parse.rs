//! Fuzzes `kernfd::aio::parse`: no panic, no out-of-bounds, every field of
//! every `io_event` record and its decoded result equal to the naive
//! reference parser's, one error for a trailing partial record, consumed +
//! remainder = input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kernfd::aio::reference::agree(data);
});
