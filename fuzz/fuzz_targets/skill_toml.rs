//! See `trinity_runtime::fuzzing::skill_toml`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| trinity_runtime::fuzzing::skill_toml(data));
