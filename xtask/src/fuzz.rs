//! `cargo xtask fuzz [seconds]`: each cargo-fuzz target (`fuzz/`) under libFuzzer for
//! `seconds` (default 60), growing its corpus in `fuzz/corpus/<target>/`, then the corpus
//! minimised (`cargo fuzz cmin`) so that what is committed stays small. A crash stops the
//! run with the input under `fuzz/artifacts/`. CI does not fuzz: it replays the committed
//! corpora on stable Rust (`runtime/tests/fuzz_corpus.rs`).
//!
//! cargo-fuzz needs a nightly toolchain (`rustup toolchain install nightly`), and
//! `cargo-fuzz` itself, which this command installs (pinned) when it is missing.

use std::path::Path;

use anyhow::{bail, Result};

use crate::{cmd, status};

/// The targets, as named in `fuzz/Cargo.toml`.
pub const TARGETS: [&str; 3] = ["payload", "gguf", "skill_toml"];
const CARGO_FUZZ: &str = "0.13.2";

pub fn run(root: &Path, seconds: u64) -> Result<()> {
    let nightly = cmd("cargo", &["+nightly", "--version"]).output().map(|o| o.status.success()).unwrap_or(false);
    if !nightly {
        bail!("cargo fuzz needs a nightly toolchain: `rustup toolchain install nightly` (the corpora replay on stable in `cargo test`)");
    }
    let have = cmd("cargo", &["fuzz", "--version"]).output().map(|o| o.status.success()).unwrap_or(false);
    if !have {
        status(&mut cmd("cargo", &["install", "--locked", "cargo-fuzz", "--version", CARGO_FUZZ]))?;
    }
    let fuzz = root.join("fuzz");
    for t in TARGETS {
        crate::step(&format!("fuzz {t} for {seconds} s"));
        let mut c = cmd("cargo", &["+nightly", "fuzz", "run", t, &format!("corpus/{t}"), "--"]);
        c.arg(format!("-max_total_time={seconds}")).arg("-rss_limit_mb=4096").arg("-max_len=65536");
        status(c.current_dir(&fuzz))?;
        status(cmd("cargo", &["+nightly", "fuzz", "cmin", t, &format!("corpus/{t}")]).current_dir(&fuzz))?;
    }
    Ok(())
}
