//! `cargo xtask train-skill <dir>`: train a skill's LoRA adapter on this CPU.
//!
//! Makes (once) a Python venv in `~/.cache/trinity/train-venv` with the pinned packages of
//! `skills/train/requirements.txt` from PyPI, then runs `skills/train/train.py` on the
//! folder against the default model. Extra arguments go to `train.py` (`--steps 2` is a
//! smoke run).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::{cmd, status, step};

/// The venv's python, made and filled if needed.
pub(crate) fn venv(root: &Path) -> Result<PathBuf> {
    let home = std::env::var_os("HOME").context("HOME is not set")?;
    let dir = PathBuf::from(home).join(".cache/trinity/train-venv");
    let python = dir.join("bin/python");
    let reqs = root.join("skills/train/requirements.txt");
    let stamp = dir.join("requirements.installed");
    let wanted = std::fs::read_to_string(&reqs)?;
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(python);
    }
    step("train: Python venv with torch, transformers, peft, gguf (PyPI)");
    if !python.exists() {
        status(&mut cmd("python3", &["-m", "venv", dir.to_str().context("venv path")?]))?;
    }
    status(&mut cmd(
        python.to_str().context("python path")?,
        &["-m", "pip", "install", "-q", "-r", reqs.to_str().context("path")?],
    ))?;
    std::fs::write(&stamp, wanted)?;
    Ok(python)
}

/// The default model's path (fetched by `setup`).
pub(crate) fn model_path() -> Result<PathBuf> {
    let out = cmd("cargo", &["run", "--quiet", "-p", "trinity-runtime", "--", "model", "path"]).output()?;
    Ok(PathBuf::from(String::from_utf8(out.stdout)?.trim()))
}

pub(crate) fn train_skill(root: &Path, dir: &Path, extra: &[String]) -> Result<()> {
    let python = venv(root)?;
    let model = model_path()?;
    step(&format!("train: {}", dir.display()));
    let script = root.join("skills/train/train.py");
    let mut c = cmd(python.to_str().context("python path")?, &[script.to_str().context("path")?]);
    c.arg(dir).arg("--base").arg(&model).args(extra);
    status(&mut c)
}
