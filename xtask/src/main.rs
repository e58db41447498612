//! `cargo xtask <command>`: set-up, run, test and bench for Trinity.
//!
//! - `setup`: Debian packages (cross gcc, qemu-user, cmake, clang, mosquitto), the Rust
//!   targets, the `trinity` build (with cargo's progress: the first one compiles llama.cpp)
//!   and the default model in the user cache. Idempotent; fast when done. cargo-deb is
//!   installed only by the commands that build packages.
//! - `run`: set up, then the main job on embedded defaults: `trinity ask --execute` on
//!   the sample commands, then the daemon (`trinity run`: in-process broker, sim board,
//!   default model) until Ctrl-C.
//! - `test`: set up, then lints, host tests, a 2-step skill training smoke run (its PEFT
//!   output imported in Rust and compared with the script's own GGUF), the no_std firmware
//!   build, the aarch64 tests under qemu-user (`QEMU_CPU=cortex-a72`) in the Pi 4 release
//!   build's configuration, then the pi5 and pi4 packages and their checks.
//! - `bench`: the figures of BENCHMARKS.md (see `bench.rs`); `bench skills`: only the
//!   skills' figures (held-out accuracy, adapter costs); `bench packages`: per-board
//!   package sizes and the Pi 5 build against the generic one, emulated; `bench faults`:
//!   the daemon's e-stop figures (a hostile flood included) and the fault-injection suite
//!   at full size.
//! - `train-skill <dir> [train.py flags]`: train a skill folder's LoRA adapter on this CPU
//!   (a Python venv with torch/transformers/peft/gguf in the user cache; see `train.rs`).
//! - `fuzz [seconds]`: the cargo-fuzz targets (`fuzz/`), each for `seconds` (default 60);
//!   needs a nightly toolchain (see `fuzz.rs`). CI replays their corpora instead.
//! - `package [board…]`: per-board release builds and their .deb (default: pi5 and pi4;
//!   see `package.rs`).
#![forbid(unsafe_code)]

mod bench;
mod fuzz;
mod package;
mod train;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

const APT_PACKAGES: &[&str] = &[
    "gcc-aarch64-linux-gnu",
    "g++-aarch64-linux-gnu",
    "libc6-dev-arm64-cross",
    "qemu-user",
    "cmake",
    "clang",
    "libclang-dev",
    "mosquitto",
    "mosquitto-clients",
    "python3-pip",
    // `python3 -m venv` for the skill-training environment (Debian splits it out).
    "python3-venv",
    // The package checks: objdump/objcopy/as for aarch64, `systemd-analyze verify`.
    "binutils-aarch64-linux-gnu",
    "systemd",
];
const RUST_TARGETS: &[&str] = &["aarch64-unknown-linux-gnu", "thumbv7em-none-eabihf"];
/// Builds the .deb packages (`cargo xtask package`); pinned for reproducible packages.
const CARGO_DEB: &str = "3.8.0";
pub(crate) const AARCH64: &str = "aarch64-unknown-linux-gnu";

pub(crate) const SAMPLES: &[&str] =
    &["go forward two meters", "turn right 90 degrees", "stop", "open the gripper", "turn on the lights"];

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = root();
    std::env::set_current_dir(&root)?;
    match args.first().map(String::as_str) {
        Some("setup") => setup(),
        Some("run") => {
            setup()?;
            run_samples()
        }
        Some("test") => {
            setup()?;
            test()
        }
        Some("bench") if args.get(1).map(String::as_str) == Some("packages") => {
            setup()?;
            bench::run_packages(&root)
        }
        Some("bench") if args.get(1).map(String::as_str) == Some("faults") => {
            setup()?;
            bench::run_faults(&root)
        }
        Some("bench") if args.get(1).map(String::as_str) == Some("skills") => {
            setup()?;
            bench::run_skills(&root)
        }
        Some("bench") => {
            setup()?;
            bench::run(&root)
        }
        Some("fuzz") => {
            let seconds = match args.get(1) {
                Some(s) => s.parse().context("usage: cargo xtask fuzz [seconds per target]")?,
                None => 60,
            };
            fuzz::run(&root, seconds)
        }
        Some("train-skill") => {
            setup()?;
            let Some(dir) = args.get(1) else { bail!("usage: cargo xtask train-skill <skill dir> [train.py flags]") };
            train::train_skill(&root, Path::new(dir), &args[2..])
        }
        Some("package") => {
            setup()?;
            let boards: Vec<&str> = match args.len() {
                1 => package::DEFAULT_BOARDS.to_vec(),
                _ => args[1..].iter().map(String::as_str).collect(),
            };
            for b in boards {
                let p = package::package(&root, b)?;
                eprintln!("xtask: {}: {}", p.board, p.deb.display());
            }
            Ok(())
        }
        _ => bail!("usage: cargo xtask <setup|run|test|bench|fuzz|train-skill|package>"),
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_owned()
}

pub(crate) fn cmd(program: &str, args: &[&str]) -> Command {
    let mut c = Command::new(program);
    c.args(args);
    c
}

pub(crate) fn status(c: &mut Command) -> Result<()> {
    eprintln!("xtask: $ {c:?}");
    let st = c.status().with_context(|| format!("cannot run {c:?}"))?;
    if !st.success() {
        bail!("{c:?} failed with {st}");
    }
    Ok(())
}

pub(crate) fn step(what: &str) {
    eprintln!("\nxtask: == {what} ==");
}

fn setup() -> Result<()> {
    step("setup: Debian packages");
    let missing: Vec<&str> = APT_PACKAGES
        .iter()
        .copied()
        .filter(|p| {
            !Command::new("dpkg-query")
                .args(["-W", "-f=${Status}", p])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
                .unwrap_or(false)
        })
        .collect();
    if missing.is_empty() {
        eprintln!("xtask: all {} packages installed", APT_PACKAGES.len());
    } else {
        let sudo = if is_root() { vec![] } else { vec!["sudo"] };
        let apt = |args: &[&str]| {
            let mut all: Vec<&str> = sudo.clone();
            all.push("apt-get");
            all.extend_from_slice(args);
            let mut c = cmd(all[0], &all[1..]);
            c.env("DEBIAN_FRONTEND", "noninteractive");
            c
        };
        status(&mut apt(&["update", "-qq"]))?;
        let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
        install.extend_from_slice(&missing);
        status(&mut apt(&install))?;
    }
    step("setup: Rust targets");
    let mut add = vec!["target", "add"];
    add.extend_from_slice(RUST_TARGETS);
    status(&mut cmd("rustup", &add))?;
    build_trinity()?;
    step("setup: default model");
    status(&mut cmd("cargo", &["run", "--quiet", "-p", "trinity-runtime", "--", "model", "fetch"]))
}

/// Build `trinity` (debug) with cargo's own progress showing. The first build compiles
/// llama.cpp for minutes; under `cargo run --quiet` that looked like a hang.
fn build_trinity() -> Result<()> {
    let fresh = !root().join("target/debug/trinity").exists();
    step(if fresh {
        "setup: build trinity (the first build compiles llama.cpp: ~3 min on 8 cores, ~7 on 2)"
    } else {
        "setup: build trinity"
    });
    let t0 = std::time::Instant::now();
    status(&mut cmd("cargo", &["build", "-p", "trinity-runtime", "--bin", "trinity"]))?;
    eprintln!("xtask: built in {:.0} s", t0.elapsed().as_secs_f64());
    Ok(())
}

/// cargo-deb, pinned, for the .deb packages: only `test`, `package` and `bench packages`
/// build them, so `setup` (and with it the main job) does not spend minutes compiling it.
pub(crate) fn ensure_cargo_deb() -> Result<()> {
    let have = Command::new("cargo")
        .args(["deb", "--version"])
        .output()
        .map(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains(CARGO_DEB));
    if have.unwrap_or(false) {
        return Ok(());
    }
    step("cargo-deb (for the .deb packages; once)");
    status(&mut cmd("cargo", &["install", "--locked", "cargo-deb", "--version", CARGO_DEB]))
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

fn run_samples() -> Result<()> {
    step("run: trinity ask on the sample commands (sim board, default model)");
    // A sample the model refuses (unsure, or "nothing to do") is an answer, not a broken
    // set-up: say so and go on to the daemon.
    // `trinity ask` exits 2 when the skill declined (its EXIT_REFUSED); anything else fails.
    let ask = |args: &[&str]| -> Result<()> {
        let mut c = cmd("cargo", &["run", "--quiet", "-p", "trinity-runtime", "--", "ask"]);
        c.args(args);
        eprintln!("xtask: $ {c:?}");
        match c.status()?.code() {
            Some(0) => Ok(()),
            Some(2) => {
                eprintln!("xtask: the skill declined that command (see above); going on");
                Ok(())
            }
            other => bail!("trinity ask failed ({other:?})"),
        }
    };
    for sample in SAMPLES {
        eprintln!("\n> {sample}");
        ask(&["-v", "--execute", sample])?;
    }
    step("run: the rover skill (skills/rover: its LoRA adapter on the same base model)");
    let rover = "turn left 90 degrees, then back up half a meter";
    eprintln!("\n> {rover}");
    ask(&["--skill", "rover", "-v", "--execute", rover])?;
    step("run: the daemon on its embedded defaults (in-process broker on 127.0.0.1:1883, sim board)");
    eprintln!("xtask: in another shell: mosquitto_pub -t trinity/robot1/cmd -m \"go forward two meters\"");
    eprintln!("xtask:                   mosquitto_sub -t 'trinity/robot1/#' -v");
    eprintln!("xtask: Ctrl-C stops it.");
    cargo(&["run", "--quiet", "-p", "trinity-runtime", "--", "run"])
}

fn cargo(args: &[&str]) -> Result<()> {
    status(&mut cmd("cargo", args))
}

fn test() -> Result<()> {
    step("lints");
    cargo(&["fmt", "--all", "--check"])?;
    cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])?;
    // The Pi's real-hardware wiring is behind a feature the workspace build leaves off.
    cargo(&["clippy", "-p", "trinity-boards", "--features", "linux", "--", "-D", "warnings"])?;
    let mut doc = cmd("cargo", &["doc", "--workspace", "--no-deps", "--quiet"]);
    doc.env("RUSTDOCFLAGS", "-D warnings");
    status(&mut doc)?;

    step("host tests");
    cargo(&["test", "--workspace"])?;

    step("skill training smoke run (2 steps) and the PEFT import checked against it");
    let smoke = std::env::temp_dir().join("trinity-smoke-train");
    let _ = std::fs::remove_dir_all(&smoke);
    std::fs::create_dir_all(&smoke)?;
    let s = smoke.to_str().context("temp path")?;
    train::train_skill(
        &root(),
        Path::new("skills/rover"),
        &["--steps", "2", "--out", &format!("{s}/smoke.gguf"), "--peft-out", &format!("{s}/peft")].map(String::from),
    )?;
    let mut t = cmd("cargo", &["test", "--test", "e2e", "peft_import_in_rust", "--", "--ignored"]);
    t.env("TRINITY_SMOKE_TRAIN", &smoke);
    status(&mut t)?;

    step("no_std: firmware for thumbv7em-none-eabihf");
    cargo(&["build", "-p", "trinity-firmware", "--target", "thumbv7em-none-eabihf"])?;

    // The emulated tests run in the Pi 4 release build's configuration (its target
    // directory, `-aes,-sha2`, llama.cpp at armv8-a): what a Pi 4 runs, and the pi4
    // package below reuses the build.
    step("aarch64 tests under qemu-user: the Pi 4 release build (QEMU_CPU=cortex-a72)");
    let pi4 = package::board_env(&root(), "pi4")?;
    let qemu_cpu = trinity_boards::by_name("pi4")?.profile.qemu_cpu;
    let emulated = |args: &[&str]| {
        let mut c = cmd("cargo", args);
        c.envs(pi4.iter().map(|(k, v)| (k, v))).env("QEMU_CPU", &qemu_cpu);
        c
    };
    status(&mut emulated(&[
        "test",
        "--release",
        "--target",
        AARCH64,
        "-p",
        "trinity-firmware",
        "-p",
        "trinity-boards",
        "-p",
        "trinity-gguf",
        "-p",
        "trinity-llama",
        "-p",
        "trinity-wire",
        "-p",
        "trinity-config",
        "-p",
        "trinity-runtime",
        "--lib",
    ]))?;
    // One real-model inference on the emulated CPU (a few tokens: emulation is ~30x slower).
    status(&mut emulated(&["test", "--release", "--target", AARCH64, "--test", "e2e", "emulated_"]))?;

    step("packages: pi5 and pi4 release builds and .debs, checked and run under qemu-aarch64");
    for b in package::DEFAULT_BOARDS {
        package::package(&root(), b)?;
    }
    let mut t = cmd("cargo", &["test", "--test", "e2e", "packaged_", "--", "--ignored"]);
    t.env("TRINITY_PACKAGES", root().join("target/deb"));
    status(&mut t)
}

#[cfg(test)]
mod tests {
    /// `unsafe` lives in `trinity-llama`'s library alone: every other crate root of the
    /// workspace (libraries, binaries, test crates, build scripts) forbids it, so the
    /// compiler refuses any that creeps in and no `#[allow]` can lift it. Not covered: the
    /// cargo-fuzz targets (`fuzz/`, their own workspace), one-line libFuzzer entry points
    /// whose macro declares a `no_mangle` function, which `unsafe_code` counts as unsafe.
    #[test]
    fn unsafe_code_is_forbidden_outside_trinity_llama() {
        let out = super::cmd("cargo", &["metadata", "--format-version", "1", "--no-deps"]).output().unwrap();
        assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
        let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut roots = 0;
        for package in meta["packages"].as_array().unwrap() {
            let name = package["name"].as_str().unwrap();
            for target in package["targets"].as_array().unwrap() {
                let path = target["src_path"].as_str().unwrap();
                let text = std::fs::read_to_string(path).unwrap();
                let forbids = text.lines().any(|l| l.trim() == "#![forbid(unsafe_code)]");
                let ffi = name == "trinity-llama" && target["kind"] == serde_json::json!(["lib"]);
                if ffi {
                    assert!(!forbids, "{path}: the FFI crate");
                } else {
                    assert!(forbids, "{path} ({name}) must say #![forbid(unsafe_code)]");
                    roots += 1;
                }
            }
        }
        assert!(roots >= 10, "only {roots} crate roots found");
    }

    /// The design document lives in the repository (`docs/DESIGN.md`), and every file that
    /// cites it does so by that path. A citation's quoted words (as in
    /// `docs/DESIGN.md, "Real parts"`, up to the end of its parenthesis or line) each name a
    /// section (a whole heading, or its words up to a parenthesis) or, four words or more,
    /// quote the document verbatim: a reader can follow each one from a fresh clone.
    #[test]
    fn design_citations_lead_to_sections_of_docs_design_md() {
        let root = super::root();
        let design = std::fs::read_to_string(root.join("docs/DESIGN.md")).unwrap();
        let headings: Vec<&str> = design
            .lines()
            .filter(|l| l.starts_with('#'))
            .filter_map(|l| l.trim_start_matches('#').strip_prefix(' '))
            .collect();
        let names_a_section =
            |q: &str| headings.iter().any(|h| *h == q || h.strip_prefix(q).is_some_and(|rest| rest.starts_with(" (")));
        let out =
            super::cmd("git", &["ls-files", "*.rs", "*.md", "*.py", "*.toml"]).current_dir(&root).output().unwrap();
        assert!(out.status.success(), "git ls-files: {}", String::from_utf8_lossy(&out.stderr));
        let (mut files, mut cited, mut quoted) = (0, 0, 0);
        // Built from parts: the literal would be a citation without the path in this very file.
        let name = ["DESIGN", ".md"].concat();
        for path in String::from_utf8(out.stdout).unwrap().lines().filter(|p| *p != "docs/DESIGN.md") {
            let Ok(text) = std::fs::read_to_string(root.join(path)) else { continue };
            files += 1;
            for (at, _) in text.match_indices(&name) {
                assert!(text[..at].ends_with("docs/"), "{path}: cites {name} by a path other than docs/{name}");
                cited += 1;
                let after = &text[at + name.len()..];
                if !after.starts_with(", \"") {
                    continue;
                }
                let citation = after.split([')', '\n']).next().unwrap();
                for q in citation.split('"').skip(1).step_by(2) {
                    quoted += 1;
                    assert!(
                        !q.is_empty()
                            && (names_a_section(q) || (q.split_whitespace().count() >= 4 && design.contains(q))),
                        "{path}: docs/{name} has no section or text \"{q}\" (sections: {headings:?})"
                    );
                }
            }
        }
        assert!(files > 100 && cited >= 10 && quoted >= 10, "{files} files, {cited} citations, {quoted} quoted");
    }
}
