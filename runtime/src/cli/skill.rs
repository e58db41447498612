//! `trinity skill eval|render` and the bundle commands (`pack`, `keygen`, `sign`, `verify`,
//! `install`, `rollback`, `remove`).

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{anyhow, Context as _};

use super::settings::{prefix_cache_dir, start_planner, ModelArgs, Settings};
use super::SkillCmd;
use crate::prompt;
use crate::skills::{self, SkillDir};

/// `trinity skill render`: each example as the model sees it (for training).
pub(super) fn render(dir: PathBuf, file: String) -> anyhow::Result<()> {
    let sd = SkillDir::load(&dir)?;
    let path = dir.join(&file);
    let board = trinity_boards::sim();
    let mut out = std::io::stdout().lock();
    for ex in skills::read_examples(&path)? {
        let job = crate::planner::render(&sd.skill, &board, &ex.command)
            .with_context(|| format!("{}: {:?}", path.display(), ex.command))?;
        let row = serde_json::json!({"prefix": job.prefix, "text": job.text});
        writeln!(out, "{row}")?;
    }
    Ok(())
}

/// `trinity skill eval`: accuracy per run, kind and action; the raw attempts to `out`.
pub(super) fn eval(
    dir: PathBuf,
    model: ModelArgs,
    file: String,
    verbose: bool,
    out: Option<PathBuf>,
    wanted: Vec<String>,
) -> anyhow::Result<()> {
    let sd = SkillDir::load(&dir)?;
    let examples = skills::read_examples(&dir.join(&file))?;
    let name = sd.skill.name.clone();
    let planner = start_planner(Settings::resolve(&model)?)?;
    let skill = skills::activate(planner.engine(), sd)?.skill;
    // Every run is reported at the folder's own threshold (0 executes every plan).
    let threshold = skill.min_confidence;
    let mut base = skill.clone();
    base.adapters.iter_mut().for_each(|a| a.1 = 0.0);
    let mut report = serde_json::json!({"skill": name, "file": file});
    let mut runs = vec![("adapter", skill), ("base_same_prompt", base)];
    if let Some(b) = prompt::builtin(&name) {
        runs.push(("base_few_shot", b));
    }
    runs.retain(|(label, _)| wanted.iter().any(|w| w == label));
    let mut raw = String::new();
    for (label, s) in runs {
        let acc = skills::eval::evaluate(&planner, &s, &examples);
        if verbose {
            for m in acc.misses() {
                let want = serde_json::to_string(&m.expected).unwrap_or_default();
                let got = match &m.got {
                    Ok(p) => serde_json::to_string(p).unwrap_or_default(),
                    Err(e) => format!("error: {e}"),
                };
                eprintln!("{label}: {:?}: want {want}, got {got}", m.command);
            }
        }
        for a in &acc.attempts {
            let mut line = serde_json::to_value(a)?;
            line["run"] = label.into();
            raw.push_str(&format!("{line}\n"));
        }
        let sweep: Vec<_> = [0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9].iter().map(|t| acc.at(*t)).collect();
        report[label] = serde_json::json!({
            "exact": acc.exact, "total": acc.total, "rate": acc.rate(),
            "median_time_to_plan_ms": acc.median_time_to_plan_ms,
            "by_kind": acc.by_kind, "by_action": acc.by_action,
            "at_skill_threshold": acc.at(threshold), "threshold_sweep": sweep,
        });
    }
    if let Some(out) = out {
        std::fs::write(&out, raw).with_context(|| format!("cannot write {}", out.display()))?;
    }
    println!("{report}");
    Ok(())
}

/// The base model's path and sha256 (hex), for bundles: hashed once per model file version
/// and remembered beside the prefix cache (as the daemon's `info` does).
fn base_model(model: &ModelArgs) -> anyhow::Result<(PathBuf, String)> {
    let path = Settings::resolve(model)?.engine_config()?.model;
    let sha = match crate::engine::disk::model_sha256(&prefix_cache_dir(), &path) {
        Some(h) => crate::engine::disk::hex(&h),
        None => crate::model_store::sha256_file(&path)?,
    };
    Ok((path, sha))
}

/// The skills directory a bundle command works on.
fn bundle_skills_dir(model: &ModelArgs) -> anyhow::Result<PathBuf> {
    Settings::resolve(model)?
        .skills_dir
        .ok_or_else(|| anyhow!("no skills directory: pass --skills DIR (or [skills] dir)"))
}

/// `trinity skill pack|keygen|sign|verify|install|rollback|remove` (skill bundles, issue 14).
pub(super) fn bundle_command(cmd: SkillCmd) -> anyhow::Result<()> {
    use crate::skills::bundle;
    match cmd {
        SkillCmd::Pack { dir, version, out, base_sha256, mirror, model } => {
            let sha = match base_sha256 {
                Some(s) => s.to_ascii_lowercase(),
                None => base_model(&model)?.1,
            };
            let name = SkillDir::load(&dir)?.skill.name;
            let out = out.unwrap_or_else(|| PathBuf::from(format!("{name}-{version}.{}", bundle::EXTENSION)));
            let m = bundle::pack(&dir, &version, &sha, mirror.as_deref(), &out)?;
            let bytes: u64 = m.files.iter().map(|f| f.size).sum();
            // Said, so nobody wonders where the held-out sets went.
            let mut left_out: Vec<String> = std::fs::read_dir(&dir)?
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| bundle::is_evaluation_set(n))
                .collect();
            left_out.sort();
            println!(
                "{}",
                serde_json::json!({"bundle": out, "manifest": m, "bytes": bytes, "evaluation_sets_left_out": left_out})
            );
        }
        SkillCmd::Keygen { prefix } => {
            let with = |ext: &str| {
                let mut p = prefix.clone().into_os_string();
                p.push(ext);
                PathBuf::from(p)
            };
            let (sk, pk) = (with(".key"), with(".pub"));
            let id = bundle::keygen(&sk, &pk)?;
            println!("{}", serde_json::json!({"key_id": id, "secret": sk, "public": pk}));
        }
        SkillCmd::Sign { bundle: path, key } => {
            let id = bundle::sign(&path, &key)?;
            println!("{}", serde_json::json!({"bundle": path, "key_id": id}));
        }
        SkillCmd::Verify { bundle: path, trusted, model } => {
            let (base_path, sha) = base_model(&model)?;
            let trust = bundle::Trust { keys: &trusted, base_model_sha256: &sha, allow_downgrade: true };
            let (manifest, key) = bundle::verify(&path, &trust, bundle::adapters_fit(&base_path))?;
            println!("{}", serde_json::json!({"bundle": path, "ok": true, "key_id": key, "manifest": manifest}));
        }
        SkillCmd::Install { bundle: path, trusted, allow_downgrade, model } => {
            let dir = bundle_skills_dir(&model)?;
            let (base_path, sha) = base_model(&model)?;
            let trust = bundle::Trust { keys: &trusted, base_model_sha256: &sha, allow_downgrade };
            let i = bundle::install(&path, &dir, &trust, bundle::adapters_fit(&base_path))?;
            println!("{}", serde_json::to_string(&i)?);
        }
        SkillCmd::Rollback { name, model } => {
            let (from, to) = bundle::rollback(&bundle_skills_dir(&model)?, &name)?;
            println!("{}", serde_json::json!({"name": name, "from": from, "to": to}));
        }
        SkillCmd::Remove { name, model } => {
            bundle::remove(&bundle_skills_dir(&model)?, &name)?;
            println!("{}", serde_json::json!({"name": name, "removed": true}));
        }
        _ => unreachable!("not a bundle command"),
    }
    Ok(())
}
