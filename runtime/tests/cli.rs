//! The `trinity` binary as a user runs it: output, exit codes, and clear errors for bad
//! input (each of these must exit non-zero with a message, never panic or abort).
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn trinity(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trinity")).args(args).output().expect("trinity runs")
}

fn default_model() -> PathBuf {
    trinity_runtime::model_store::fetch_default(|l| eprintln!("fetch: {l}"))
        .expect("the default model is needed: run `cargo xtask setup`")
}

/// Exit status is a clean failure (not a signal such as SIGABRT) and stderr says `want`.
fn assert_clean_failure(out: &Output, want: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "expected exit 1; stderr:\n{stderr}");
    assert!(stderr.contains(want), "stderr should say {want:?}:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

fn with_model<'a>(model: &'a Path, args: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["ask", "--model", model.to_str().unwrap()];
    v.extend_from_slice(args);
    v
}

#[test]
fn ask_prints_the_plan_as_json() {
    let model = default_model();
    let out = trinity(&with_model(&model, &["-v", "stop"]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.trim(), r#"[{"action":"stop"}]"#);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for field in ["prompt:", "generation:", "tok/s", "time to plan:"] {
        assert!(stderr.contains(field), "-v should print {field}:\n{stderr}");
    }
}

#[test]
fn missing_model_file_is_a_clear_error() {
    let out = trinity(&["ask", "--model", "/nonexistent/model.gguf", "stop"]);
    assert_clean_failure(&out, "cannot read /nonexistent/model.gguf");
}

#[test]
fn truncated_gguf_is_refused_before_llama_cpp() {
    let model = default_model();
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.gguf");
    let bytes = std::fs::read(&model).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = trinity(&with_model(&cut, &["stop"]));
    assert_clean_failure(&out, "is truncated");
}

#[test]
fn non_gguf_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("notes.gguf");
    std::fs::write(&f, "these are not weights").unwrap();
    let out = trinity(&with_model(&f, &["stop"]));
    assert_clean_failure(&out, "is not a GGUF file");
}

#[test]
fn empty_command_is_refused() {
    let out = trinity(&["ask", "--model", "/unused", "  "]);
    assert_clean_failure(&out, "the command is empty");
}

#[test]
fn a_100_kb_command_is_refused() {
    let long = "a".repeat(100 * 1024);
    let out = trinity(&["ask", "--model", "/unused", &long]);
    assert_clean_failure(&out, "the limit is 1024");
}

#[test]
fn unknown_skill_and_board_are_named() {
    assert_clean_failure(&trinity(&["ask", "--skill", "juggle", "stop"]), "unknown skill `juggle`");
    assert_clean_failure(&trinity(&["ask", "--board", "pdp11", "stop"]), "unknown board `pdp11`");
}

#[test]
fn wrong_sha256_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("m.gguf");
    std::fs::write(&f, "tampered").unwrap();
    assert_clean_failure(&trinity(&["model", "verify", f.to_str().unwrap()]), "sha256 mismatch");
}

#[test]
fn grammar_command_prints_the_skill_grammar() {
    let out = trinity(&["grammar", "--skill", "rover"]);
    let g = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(g.starts_with("root ::= "), "{g}");
    assert!(g.contains("drive ::=") && !g.contains("servo ::="), "{g}");
}

#[test]
fn config_file_chooses_the_model_and_bad_config_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("trinity.toml");
    std::fs::write(&cfg, "board = \"sim\"\n[model]\npath = \"/nonexistent/from-config.gguf\"\n").unwrap();
    let out = trinity(&["ask", "--config", cfg.to_str().unwrap(), "stop"]);
    assert_clean_failure(&out, "/nonexistent/from-config.gguf");

    std::fs::write(&cfg, "[model]\nthreads = \"many\"\n").unwrap();
    let out = trinity(&["ask", "--config", cfg.to_str().unwrap(), "stop"]);
    assert_clean_failure(&out, "invalid config");
}

#[test]
fn ask_execute_runs_the_plan_on_the_sim_board() {
    let model = default_model();
    let out = trinity(&with_model(&model, &["--execute", "stop"]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    let run: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(run["outcome"], "succeeded");
    assert_eq!(run["state"]["wheels_mps"], serde_json::json!([0.0, 0.0]));
}

#[test]
fn boards_lists_every_profile_with_its_ram_fit() {
    let model = default_model();
    let out = trinity(&["boards", "--model", model.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for b in ["sim", "pi5", "pi4", "cm4", "pi3bplus", "pi-zero-2w"] {
        assert!(stdout.lines().any(|l| l.starts_with(b)), "{b} missing:\n{stdout}");
    }
    assert!(stdout.contains("KV cache"), "{stdout}");
    let pi5 = stdout.lines().find(|l| l.starts_with("pi5")).unwrap();
    assert!(pi5.contains("ok ("), "{pi5}");
}

fn shipped_skills() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../skills")
}

#[test]
fn ask_uses_the_skill_folder_and_its_adapter() {
    let model = default_model();
    let skills = shipped_skills();
    let out = trinity(&with_model(
        &model,
        &["--skills", skills.to_str().unwrap(), "--skill", "rover", "turn left 90 degrees"],
    ));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), r#"[{"action":"turn","angle_deg":90.0}]"#);
}

#[test]
fn adapter_check_names_the_problem_and_a_broken_skill_folder_is_reported() {
    let model = default_model();
    let dir = tempfile::tempdir().unwrap();
    let adapter = shipped_skills().join("rover/rover.gguf");
    let ok = trinity(&["adapter", "check", adapter.to_str().unwrap(), "--model", model.to_str().unwrap()]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains(r#""rank":16"#));

    // Checking the base model as if it were an adapter.
    let out = trinity(&["adapter", "check", model.to_str().unwrap(), "--model", model.to_str().unwrap()]);
    assert_clean_failure(&out, "not `adapter`");

    // A skill folder whose adapter is cut short: refused with the reason, nothing served.
    let folder = dir.path().join("dock");
    std::fs::create_dir(&folder).unwrap();
    let toml = std::fs::read_to_string(shipped_skills().join("rover/skill.toml")).unwrap();
    std::fs::write(folder.join("skill.toml"), toml.replace("name = \"rover\"", "name = \"dock\"")).unwrap();
    let bytes = std::fs::read(&adapter).unwrap();
    std::fs::write(folder.join("rover.gguf"), &bytes[..bytes.len() - 1000]).unwrap();
    let out = trinity(&with_model(&model, &["--skills", dir.path().to_str().unwrap(), "--skill", "dock", "stop"]));
    assert_clean_failure(&out, "is truncated");
    let out = trinity(&with_model(&model, &["--skills", dir.path().to_str().unwrap(), "--skill", "nope", "stop"]));
    assert_clean_failure(&out, "unknown skill `nope`; known: arm, dock, general, rover");
}

#[test]
fn doctor_for_the_service_says_when_no_unit_is_installed() {
    // (On a machine with the package installed the unit is there: the other branch runs.)
    if trinity_runtime::service::ServiceEnv::installed(std::path::Path::new("/")).is_some() {
        let out = trinity(&["doctor", "--service"]);
        assert!(String::from_utf8_lossy(&out.stdout).contains("as trinity.service runs it"));
        return;
    }
    let out = trinity(&["doctor", "--service"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no trinity.service installed"), "{err}");
}

#[test]
fn doctor_passes_the_sim_here_and_fails_a_pi_profile_without_its_devices() {
    let model = default_model();
    let skills = shipped_skills();
    let m = model.to_str().unwrap();
    let ok = trinity(&["doctor", "--model", m, "--skills", skills.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(ok.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&ok.stderr));
    for line in ["ok   model", "sha256 verified", "ok   ram", "ok   skills   rover: 1 adapter(s)", "ok   llama"] {
        assert!(stdout.contains(line), "doctor should print {line:?}:\n{stdout}");
    }
    // This VM has no /dev/i2c-1 and no device tree: a Pi 5 profile cannot run here.
    let pi = trinity(&["doctor", "--model", m, "--board", "pi5"]);
    let stdout = String::from_utf8_lossy(&pi.stdout);
    assert!(stdout.contains("FAIL i2c"), "{stdout}");
    assert_clean_failure(&pi, "blocking problem");
}

#[test]
fn the_daemon_on_a_pi_profile_without_its_hardware_fails_at_once_naming_the_device() {
    // The hardware is opened before the model loads: with a missing model, the error is
    // still the device's.
    let out = trinity(&["run", "--board", "pi4", "--model", "/nonexistent.gguf"]);
    assert_clean_failure(&out, "board pi4: /dev/gpiochip0");
    assert!(String::from_utf8_lossy(&out.stderr).contains("trinity doctor --board pi4"));
}

#[test]
fn version_names_the_build() {
    let out = trinity(&["--version"]);
    let v = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    // A plain cargo build is the generic one; `cargo xtask package` builds name their board.
    assert!(v.starts_with(&format!("trinity {} (generic build, ", env!("CARGO_PKG_VERSION"))), "{v}");
}

#[test]
fn issue_11_an_unreadable_tls_file_stops_the_daemon_with_an_error() {
    // Before: the link task failed alone, the daemon exited 0, and systemd's
    // Restart=on-failure never restarted it.
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("trinity.toml");
    std::fs::write(
        &cfg,
        format!(
            "[mqtt]\nhost = \"127.0.0.1\"\nport = 1\nca_file = \"/nonexistent/ca.pem\"\n[daemon]\nstate_dir = \"{}\"\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let out = trinity(&["run", "--config", cfg.to_str().unwrap(), "--model", "/nonexistent.gguf"]);
    assert_clean_failure(&out, "cannot read /nonexistent/ca.pem");
}

#[test]
fn issue_11_a_robot_id_that_cannot_be_a_topic_is_refused_at_start() {
    for id in ["a+b", "a/b", "#", "bell\u{7}"] {
        let out = trinity(&["run", "--robot-id", id, "--model", "/nonexistent.gguf"]);
        assert_clean_failure(&out, "robot id");
    }
    let out = trinity(&["send", "--robot-id", "r+", "--port", "1", "stop"]);
    assert_clean_failure(&out, "robot id");
}

#[test]
fn safe_outputs_opens_the_board_and_names_a_missing_device() {
    let out = trinity(&["safe-outputs", "--board", "sim"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("outputs safe"));
    let out = trinity(&["safe-outputs", "--board", "pi4"]);
    assert_clean_failure(&out, "/dev/gpiochip0");
}
