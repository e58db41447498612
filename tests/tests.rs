//! End-to-end tests: the real 4-bit model through the real engine, grammar and planner.
//!
//! One test binary with topic modules (like ripgrep's `tests/tests.rs`). The model is the
//! default Gemma 3 270M Q4_K_M from the user cache (`cargo xtask setup` puts it there;
//! the first test to need it fetches it if it is missing). All tests share one engine:
//! jobs queue on its thread, as they do in the daemon.
//!
//! `emulated_` tests are the ones CI also runs on aarch64 under qemu-user, where decoding
//! is ~30x slower: they keep prompts and plans to a few tokens.
#![forbid(unsafe_code)]

mod common;
mod engine;
mod packages;
mod planning;
mod robot;
mod skills;
