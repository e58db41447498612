//! See `trinity_runtime::fuzzing::payload`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| trinity_runtime::fuzzing::payload(data));
