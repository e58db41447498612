//! See `trinity_runtime::fuzzing::gguf`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| trinity_runtime::fuzzing::gguf(data));
