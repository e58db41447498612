//! The Debian packages of `cargo xtask package` (`target/deb/`, or `TRINITY_PACKAGES`):
//! their contents, the packaged binary run under qemu-aarch64 as the board's CPU, the unit
//! through `systemd-analyze verify`, and the Pi 4 build free of compile-time crypto
//! instructions. `cargo xtask test` builds the pi5 and pi4 packages, then runs these
//! (`packaged_`, ignored otherwise: a package build takes minutes).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::model_path;

/// The packages to check: `trinity_*+<board>_arm64.deb` by board.
fn packages() -> BTreeMap<String, PathBuf> {
    let dir = std::env::var_os("TRINITY_PACKAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/deb"));
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e} (run cargo xtask package)", dir.display())) {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if let Some(board) = name.strip_suffix("_arm64.deb").and_then(|n| n.rsplit_once('+')).map(|(_, b)| b) {
            out.insert(board.to_owned(), p);
        }
    }
    for board in ["pi5", "pi4"] {
        assert!(out.contains_key(board), "no {board} package in {}: {out:?}", dir.display());
    }
    out
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(cmd: &mut Command) -> String {
    String::from_utf8(run(cmd).stdout).unwrap()
}

/// The package unpacked into a temporary directory.
fn extract(deb: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(dir.path()));
    dir
}

#[test]
#[ignore = "needs cargo xtask package"]
fn packaged_debs_hold_the_binary_unit_conffile_skills_and_maintainer_scripts() {
    for (board, deb) in packages() {
        let files = stdout(Command::new("dpkg-deb").arg("-c").arg(&deb));
        for want in [
            "./usr/bin/trinity",
            "/systemd/system/trinity.service",
            "./etc/trinity/trinity.toml",
            "./usr/share/trinity/skills/rover/skill.toml",
            "./usr/share/trinity/skills/rover/rover.gguf",
            "./usr/share/trinity/skills/arm/skill.toml",
            "./usr/share/doc/trinity/README.md",
            "./usr/share/doc/trinity/docs/DESIGN.md",
        ] {
            assert!(files.lines().any(|l| l.contains(want)), "{board}: no {want} in\n{files}");
        }
        assert!(files.lines().any(|l| l.starts_with("-rwxr-xr-x") && l.ends_with("./usr/bin/trinity")), "{files}");

        let info = stdout(Command::new("dpkg-deb").arg("-I").arg(&deb));
        for want in [
            "Package: trinity",
            "Architecture: arm64",
            &format!("+{board}"),
            "Depends: adduser",
            " conffiles",
            " postinst",
            " postrm",
            " prerm",
        ] {
            assert!(info.contains(want), "{board}: no {want:?} in\n{info}");
        }
        let field = |f: &str| stdout(Command::new("dpkg-deb").arg("-f").arg(&deb).arg(f)).trim().to_owned();
        assert_eq!(field("Version"), format!("{}-1+{board}", env!("CARGO_PKG_VERSION")));

        let control = tempfile::tempdir().unwrap();
        run(Command::new("dpkg-deb").arg("-e").arg(&deb).arg(control.path()));
        let read = |f: &str| std::fs::read_to_string(control.path().join(f)).unwrap();
        assert_eq!(read("conffiles").trim(), "/etc/trinity/trinity.toml");
        let postinst = read("postinst");
        // Ours (user, groups, state) and the generated systemd part (enable, start).
        for want in ["adduser --quiet trinity i2c", "adduser --quiet trinity gpio", "/var/lib/trinity/skills"] {
            assert!(postinst.contains(want), "{board}: postinst lacks {want:?}");
        }
        assert!(postinst.contains("deb-systemd-helper") && postinst.contains("trinity.service"), "{postinst}");
        assert!(!postinst.contains("#DEBHELPER#"), "the systemd snippets were not inserted");
        let prerm = read("prerm");
        assert!(prerm.contains("trinity.service"), "{prerm}");
        for script in ["postinst", "postrm", "prerm"] {
            run(Command::new("sh").arg("-n").arg(control.path().join(script)));
        }
    }
}

/// Run the packaged binary under qemu-aarch64 as the board's CPU.
fn qemu(board: &str, bin: &Path) -> Command {
    let cpu = trinity_boards::by_name(board).unwrap().profile.qemu_cpu;
    let mut c = Command::new("qemu-aarch64");
    c.args(["-L", "/usr/aarch64-linux-gnu"]).arg(bin).env("QEMU_CPU", cpu).env_remove("TRINITY_SKILLS");
    c
}

#[test]
#[ignore = "needs cargo xtask package"]
fn packaged_binary_runs_version_doctor_and_ask_as_its_board_cpu_under_qemu() {
    for (board, deb) in packages() {
        let root = extract(&deb);
        let bin = root.path().join("usr/bin/trinity");
        let skills = root.path().join("usr/share/trinity/skills");

        let version = stdout(qemu(&board, &bin).arg("--version"));
        assert!(version.starts_with(&format!("trinity {}", env!("CARGO_PKG_VERSION"))), "{version}");
        assert!(version.contains(&format!("{board} build")) && version.contains("aarch64"), "{version}");

        // The sim board: nothing on this machine blocks it, so exit 0; the llama.cpp line
        // says which kernels this build has.
        let doctor = stdout(
            qemu(&board, &bin)
                .arg("doctor")
                .arg("--model")
                .arg(model_path())
                .arg("--skills")
                .arg(&skills)
                .current_dir(root.path()),
        );
        assert!(doctor.contains(&format!("{board} build")), "{doctor}");
        assert!(doctor.contains("rover: 1 adapter(s)"), "{doctor}");
        let llama = doctor.lines().find(|l| l.contains("CPU :")).unwrap_or_else(|| panic!("{doctor}"));
        match board.as_str() {
            "pi5" => assert!(llama.contains("DOTPROD = 1"), "Pi 5 build without dotprod: {llama}"),
            _ => assert!(!llama.contains("DOTPROD = 1"), "{board} build with dotprod: {llama}"),
        }
        assert!(llama.contains("NEON = 1"), "{llama}");

        // One plan through the packaged rover skill (its LoRA adapter): a few tokens.
        let plan = stdout(
            qemu(&board, &bin)
                .args(["ask", "--skill", "rover", "--model"])
                .arg(model_path())
                .arg("--skills")
                .arg(&skills)
                .arg("stop"),
        );
        assert_eq!(plan.trim(), r#"[{"action":"stop"}]"#, "{board}");
    }
}

#[test]
#[ignore = "needs cargo xtask package"]
fn packaged_unit_passes_systemd_analyze_verify() {
    let (_, deb) = packages().into_iter().next().unwrap();
    let root = extract(&deb);
    let unit = ["usr/lib/systemd/system/trinity.service", "lib/systemd/system/trinity.service"]
        .iter()
        .map(|p| root.path().join(p))
        .find(|p| p.exists())
        .expect("unit in the package");
    let text = std::fs::read_to_string(&unit).unwrap();
    for want in [
        "Type=notify",
        "WatchdogSec=",
        "Restart=on-failure",
        "User=trinity",
        "DeviceAllow=char-i2c rw",
        "DeviceAllow=char-gpiochip rw",
    ] {
        assert!(text.lines().any(|l| l.starts_with(want)), "unit lacks {want}");
    }
    // verify checks that ExecStart exists: point it at the extracted binary.
    let bin = root.path().join("usr/bin/trinity");
    let check = root.path().join("trinity.service");
    std::fs::write(&check, text.replace("ExecStart=/usr/bin/trinity", &format!("ExecStart={}", bin.display())))
        .unwrap();
    let out = Command::new("systemd-analyze").args(["verify", "--man=no"]).arg(&check).output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{said}");
    // Unknown keys and bad values are only warnings: there must be none about our unit.
    let ours: Vec<&str> = said.lines().filter(|l| l.contains("trinity.service")).collect();
    assert!(ours.is_empty(), "{ours:#?}");
}

/// Whether one disassembled instruction (`mnemonic operands`) belongs to the Armv8 crypto
/// extensions: AES, SHA1/SHA2/SHA512/SHA3, or the 64-bit polynomial multiply.
fn is_crypto(insn: &str) -> bool {
    let (m, operands) = insn.trim().split_once(char::is_whitespace).unwrap_or((insn.trim(), ""));
    matches!(m, "aese" | "aesd" | "aesmc" | "aesimc" | "eor3" | "bcax" | "rax1" | "xar")
        || m.starts_with("sha1")
        || m.starts_with("sha256")
        || m.starts_with("sha512")
        || (m.starts_with("pmull") && operands.contains(".1q"))
}

/// Functions of an aarch64 ELF that contain crypto instructions: name → count.
fn crypto_functions(elf: &Path) -> BTreeMap<String, usize> {
    let out = run(Command::new("aarch64-linux-gnu-objdump").args(["-d", "-C", "--no-show-raw-insn"]).arg(elf));
    let text = String::from_utf8_lossy(&out.stdout);
    let mut found = BTreeMap::new();
    let mut func = String::new();
    for line in text.lines() {
        // "0000000000401000 <name>:" starts a function; "  401004:\taese\tv0.16b, v1.16b" is code.
        if let Some(name) = line.strip_suffix(">:").and_then(|l| l.split_once(" <")).map(|(_, n)| n) {
            func = name.to_owned();
        } else if let Some((_, insn)) = line.split_once(":\t") {
            if is_crypto(insn) {
                *found.entry(func.clone()).or_insert(0) += 1;
            }
        }
    }
    found
}

/// Code that holds crypto instructions but only runs after a run-time CPU check:
/// ring's hardware AES/GHASH/SHA assembly (called when `getauxval(AT_HWCAP)` says so),
/// crc32fast's PMULL loop (behind `is_aarch64_feature_detected!("aes")`), and RustCrypto's
/// `#[target_feature]` backends behind `cpufeatures`.
fn runtime_dispatched(func: &str) -> bool {
    const RING: &[&str] = &[
        "aes_hw_",
        "aes_gcm_enc_kernel",
        "aes_gcm_dec_kernel",
        "gcm_init_clmul",
        "gcm_gmult_clmul",
        "gcm_ghash_clmul",
        "gcm_init_v8",
        "gcm_gmult_v8",
        "gcm_ghash_v8",
        "sha256_block_data_order_hw",
        "sha512_block_data_order_hw",
    ];
    (func.starts_with("ring_core_") && RING.iter().any(|r| func.contains(r)))
        || func == "crc32fast::specialized::aarch64::calculate_pmull"
        || func.starts_with("sha2::sha256::aarch64::")
        || func.starts_with("sha2::sha512::aarch64::")
}

fn crypto_outside_dispatch(elf: &Path) -> Vec<(String, usize)> {
    crypto_functions(elf).into_iter().filter(|(f, _)| !runtime_dispatched(f)).collect()
}

/// An ELF's `.text` bytes.
fn text_section(elf: &Path) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("text");
    run(Command::new("aarch64-linux-gnu-objcopy").args(["-O", "binary", "--only-section=.text"]).arg(elf).arg(&out));
    std::fs::read(out).unwrap()
}

#[test]
#[ignore = "needs cargo xtask package"]
fn packaged_pi4_binary_has_no_crypto_instructions_outside_runtime_dispatch() {
    let pkgs = packages();
    let root = extract(&pkgs["pi4"]);
    let packaged = root.path().join("usr/bin/trinity");
    // The package's binary is stripped: scan the build's own, with its symbols, after
    // checking that it is the same code.
    let built =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("target/board/pi4/aarch64-unknown-linux-gnu/release/trinity");
    assert!(text_section(&built) == text_section(&packaged), "{} is not the packaged binary", built.display());
    let all = crypto_functions(&built);
    // The scan sees ring's dispatched AES and SHA-256 code (or it scans nothing).
    assert!(all.keys().any(|f| f.contains("aes_hw_")) && all.keys().any(|f| f.contains("sha256")), "{all:#?}");
    let outside = crypto_outside_dispatch(&built);
    assert!(outside.is_empty(), "crypto instructions a Pi 4 would trap on: {outside:#?}");
}

#[test]
fn crypto_scan_finds_an_aes_round_in_an_ordinary_function() {
    // The negative control for the scan above: assemble a function that uses AES
    // unconditionally (what `-C target-cpu=cortex-a72` lets LLVM and ring do).
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("t.s");
    std::fs::write(
        &src,
        ".arch armv8-a+crypto\n.text\n.globl plain_function\nplain_function:\n  aese v0.16b, v1.16b\n  \
         aesmc v0.16b, v0.16b\n  pmull v2.1q, v3.1d, v4.1d\n  ret\n\
         .globl neon_only\nneon_only:\n  pmull v2.8h, v3.8b, v4.8b\n  add v0.4s, v1.4s, v2.4s\n  ret\n",
    )
    .unwrap();
    let obj = dir.path().join("t.o");
    run(Command::new("aarch64-linux-gnu-as").arg(&src).arg("-o").arg(&obj));
    let found = crypto_functions(&obj);
    assert_eq!(found.get("plain_function"), Some(&3), "{found:?}");
    assert!(!found.contains_key("neon_only"), "8-bit PMULL is plain NEON: {found:?}");
    assert_eq!(crypto_outside_dispatch(&obj), [("plain_function".to_owned(), 3)]);
}
