//! What this binary was built for: `cargo xtask package <board>` sets
//! `TRINITY_BUILD_BOARD`, `TRINITY_LLAMA_CPU_ARCH` (llama.cpp's `-march`, through
//! `boards/cmake/aarch64-linux-gnu.cmake`) and the rustc target features from the board
//! profile. A plain `cargo build` is the generic build.

use std::sync::OnceLock;

/// The board profile of a packaged build (`pi5`, `pi4`); `None`: a generic build.
pub const BOARD: Option<&str> = option_env!("TRINITY_BUILD_BOARD");
/// llama.cpp's CPU architecture (`armv8.2-a+dotprod+fp16`); `None`: the crate's default.
pub const LLAMA_CPU_ARCH: Option<&str> = option_env!("TRINITY_LLAMA_CPU_ARCH");

/// `trinity --version`: the version and the build.
pub fn version() -> &'static str {
    static V: OnceLock<String> = OnceLock::new();
    V.get_or_init(|| format!("{} ({}, {})", env!("CARGO_PKG_VERSION"), describe(), std::env::consts::ARCH))
}

/// `pi5 build, llama.cpp -march=armv8.2-a+dotprod+fp16` or `generic build`.
pub fn describe() -> String {
    match (BOARD, LLAMA_CPU_ARCH) {
        (Some(b), Some(a)) => format!("{b} build, llama.cpp -march={a}"),
        (Some(b), None) => format!("{b} build"),
        (None, _) => "generic build".into(),
    }
}

/// The `/proc/cpuinfo` (aarch64 `Features`) flags this build needs: what its compile-time
/// CPU features become at run time. An empty list for generic and x86 builds.
pub fn required_cpu_flags() -> Vec<&'static str> {
    required_flags(LLAMA_CPU_ARCH.unwrap_or(""), &enabled_target_features())
}

fn enabled_target_features() -> Vec<&'static str> {
    let mut f = Vec::new();
    if cfg!(target_feature = "aes") {
        f.push("aes");
    }
    if cfg!(target_feature = "sha2") {
        f.push("sha2");
    }
    if cfg!(target_feature = "dotprod") {
        f.push("dotprod");
    }
    if cfg!(target_feature = "fp16") {
        f.push("fp16");
    }
    f
}

fn required_flags(llama_arch: &str, rust_features: &[&str]) -> Vec<&'static str> {
    let mut need = Vec::new();
    let llama: Vec<&str> = llama_arch.split('+').skip(1).collect();
    for (feature, flag) in
        [("dotprod", "asimddp"), ("fp16", "fphp"), ("i8mm", "i8mm"), ("aes", "aes"), ("sha2", "sha2")]
    {
        if (llama.contains(&feature) || rust_features.contains(&feature)) && !need.contains(&flag) {
            need.push(flag);
        }
    }
    need
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn board_builds_need_their_cpu_flags() {
        assert_eq!(required_flags("armv8-a", &[]), Vec::<&str>::new());
        assert_eq!(required_flags("armv8.2-a+dotprod+fp16", &["aes", "sha2"]), ["asimddp", "fphp", "aes", "sha2"]);
        assert_eq!(required_flags("", &["dotprod"]), ["asimddp"]);
    }

    #[test]
    fn a_plain_build_is_generic() {
        if BOARD.is_none() {
            assert_eq!(describe(), "generic build");
            assert!(version().starts_with(env!("CARGO_PKG_VERSION")));
        }
    }
}
