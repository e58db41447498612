//! `cargo xtask package [board…]`: a release build per board and its Debian package.
//!
//! A board's build takes its compile-time CPU features from its profile
//! (`boards/profiles/<board>.toml`):
//! - rustc: `-C target-feature=<target_features>` (Pi 4 class: `-aes,-sha2`, so ring and
//!   sha2 keep their run-time CPU checks; Pi 5: crypto, dotprod, fp16);
//! - llama.cpp: `GGML_CPU_ARM_ARCH=<llama_cpu_arch>` through the CMake toolchain file
//!   `boards/cmake/aarch64-linux-gnu.cmake` (why a toolchain file: see its header).
//!
//! Each board builds in its own target directory (`target/board/<board>`), so switching
//! boards rebuilds nothing. `cargo deb --no-build` then packages that binary with
//! `runtime/Cargo.toml`'s `[package.metadata.deb]` and `packaging/` into
//! `target/deb/trinity_<version>-1+<board>_arm64.deb`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::{cmd, status, AARCH64};

/// The boards CI packages: the Pi 5 build (dotprod) and the Pi 4 build, which also serves
/// the CM4, the 3B+ and the Zero 2 W (the same `armv8-a` without crypto extensions).
pub(crate) const DEFAULT_BOARDS: &[&str] = &["pi5", "pi4"];

/// One board's build and package.
#[derive(Debug)]
pub(crate) struct Package {
    /// The board.
    pub board: String,
    /// The .deb.
    pub deb: PathBuf,
}

/// The environment of `name`'s release build (its target directory, CPU flags, toolchain
/// file): `cargo build --release --target aarch64-unknown-linux-gnu` in it builds for the
/// board, and `cargo test --release` tests that same configuration under qemu.
pub(crate) fn board_env(root: &Path, name: &str) -> Result<Vec<(String, String)>> {
    let board = trinity_boards::by_name(name)?;
    build_env(root, &board)
}

fn build_env(root: &Path, board: &trinity_boards::Board) -> Result<Vec<(String, String)>> {
    let p = &board.profile;
    if p.rust_target != AARCH64 {
        bail!("board {} builds for {}; packages are for {AARCH64} boards", board.name, p.rust_target);
    }
    let toolchain = root.join("boards/cmake/aarch64-linux-gnu.cmake");
    Ok(vec![
        ("CARGO_TARGET_DIR".into(), root.join("target/board").join(&board.name).display().to_string()),
        ("CMAKE_TOOLCHAIN_FILE_aarch64_unknown_linux_gnu".into(), toolchain.display().to_string()),
        ("TRINITY_LLAMA_CPU_ARCH".into(), p.llama_cpu_arch.clone()),
        ("TRINITY_BUILD_BOARD".into(), board.name.clone()),
        ("CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS".into(), format!("-C target-feature={}", p.target_features)),
    ])
}

/// Build `board`'s release binary and its .deb.
pub(crate) fn package(root: &Path, name: &str) -> Result<Package> {
    let board = trinity_boards::by_name(name)?;
    let env = build_env(root, &board)?;
    crate::ensure_cargo_deb()?;
    crate::step(&format!(
        "package {name}: release build (llama.cpp -march={}, rustc {})",
        board.profile.llama_cpu_arch, board.profile.target_features
    ));
    let mut build = cmd(
        "cargo",
        &["build", "--release", "--locked", "--target", AARCH64, "-p", "trinity-runtime", "--bin", "trinity"],
    );
    build.envs(env.iter().map(|(k, v)| (k, v)));
    status(&mut build)?;
    let target_dir = root.join("target/board").join(name);

    let out = root.join("target/deb");
    std::fs::create_dir_all(&out)?;
    // One package per board in there: an older version's would be checked in its place.
    for e in std::fs::read_dir(&out)? {
        let p = e?.path();
        if p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(&format!("+{name}_arm64.deb"))) {
            std::fs::remove_file(&p)?;
        }
    }
    let revision = format!("1+{name}");
    let version = format!("{}-{revision}", env!("CARGO_PKG_VERSION"));
    let deb = out.join(format!("trinity_{version}_arm64.deb"));
    let mut pack = cmd(
        "cargo",
        &[
            "deb",
            "-p",
            "trinity-runtime",
            "--target",
            AARCH64,
            "--no-build",
            "--deb-revision",
            &revision,
            "-o",
            deb.to_str().context("path")?,
        ],
    );
    pack.env("CARGO_TARGET_DIR", &target_dir);
    status(&mut pack)?;
    Ok(Package { board: name.into(), deb })
}
