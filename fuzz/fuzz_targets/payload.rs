//! See `trinity_runtime::fuzzing::envelope`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| trinity_runtime::fuzzing::envelope(data));
