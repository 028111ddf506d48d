//! Fuzzes `kernfd::fanotify::parse` and its info-record walk: no panic, no
//! out-of-bounds, no endless loop, consumed + remainder = input, and
//! agreement with the naive reference parser on every event and record.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kernfd::fanotify::reference::agree(data);
});
