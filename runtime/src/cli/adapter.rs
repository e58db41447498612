//! `trinity adapter import|check`.

use std::path::PathBuf;

use anyhow::Context as _;

use super::settings::{ModelArgs, Settings};

/// `trinity adapter import`: a PEFT adapter converted to GGUF, checked against the base.
pub(super) fn import(peft_dir: PathBuf, output: PathBuf, f32: bool, model: ModelArgs) -> anyhow::Result<()> {
    let base_path = Settings::resolve(&model)?.engine_config()?.model;
    let base = trinity_gguf::check_model(&base_path)?;
    let opts = trinity_gguf::import::ImportOptions { f32 };
    let (bytes, s) = trinity_gguf::import::import_peft(&peft_dir, &base, opts)?;
    // Written beside the target and renamed: a watcher never sees half a file.
    let tmp = output.with_extension("gguf.partial");
    std::fs::write(&tmp, &bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &output)?;
    println!(
        "{}",
        serde_json::json!({"adapter": output, "base": base_path, "architecture": s.architecture,
            "alpha": s.alpha, "rank": s.rank, "targets": s.targets, "bytes": bytes.len()})
    );
    Ok(())
}

/// `trinity adapter check`: an adapter checked against the base model.
pub(super) fn check(path: PathBuf, model: ModelArgs) -> anyhow::Result<()> {
    let settings = Settings::resolve(&model)?;
    let base_path = settings.engine_config()?.model;
    let base = trinity_gguf::check_model(&base_path)?;
    let g = trinity_gguf::read(&path)?;
    let s = trinity_gguf::check_adapter(&path, &g, &base)?;
    println!(
        "{}",
        serde_json::json!({"adapter": path, "base": base_path, "architecture": s.architecture,
            "alpha": s.alpha, "rank": s.rank, "targets": s.targets, "bytes": g.file_size})
    );
    Ok(())
}
