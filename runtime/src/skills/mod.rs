//! Skill folders: `skill.toml` + LoRA adapter(s) + `examples.jsonl`, loaded onto the
//! engine and kept in step with a directory while the daemon runs.
//!
//! ```text
//! skills/rover/
//!   skill.toml       name, description, allowed actions, max tokens, prompt, adapters
//!   rover.gguf       llama.cpp GGUF LoRA adapter (checked in Rust before llama.cpp sees it)
//!   examples.jsonl   {"command": …, "plan": […]} pairs the adapter was trained on
//!   heldout.jsonl    optional: pairs kept out of training, for measuring accuracy (any
//!                    other `*.jsonl` is an evaluation set too; none goes into a bundle)
//! ```
//!
//! - this file: the folder format ([`SkillDir::load`]) and turning a folder into a served
//!   [`Skill`] ([`activate`]).
//! - `library.rs`: [`Library`], a directory of skill folders scanned for added, changed and
//!   removed skills (a folder still being written is left for the next scan, and a broken
//!   one never replaces the version being served).
//! - [`eval`]: exact-plan accuracy on a skill's held-out examples.

pub mod bundle;
pub mod eval;
mod library;

use std::path::{Path, PathBuf};

use serde::Deserialize;
use trinity_firmware::{ActionKind, Plan};

pub use library::{Library, ScanReport};

use crate::engine::{AdapterInfo, Engine};
use crate::prompt::Skill;

/// The file that makes a folder a skill.
pub const SKILL_TOML: &str = "skill.toml";
/// The training examples of a skill folder.
pub const EXAMPLES: &str = "examples.jsonl";
/// Where the command goes in a prompt template.
pub const COMMAND_SLOT: &str = "{command}";
/// Largest `skill.toml` read.
const MAX_TOML_BYTES: u64 = 256 << 10;
/// Largest `examples.jsonl` / `heldout.jsonl` read.
const MAX_EXAMPLES_BYTES: u64 = 16 << 20;

/// Why a skill folder cannot be served. Each names the folder and the problem.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SkillError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// `skill.toml` or an example is malformed or breaks a rule.
    #[error("{path}: {what}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        what: String,
    },
    /// An adapter was refused (by the Rust checks or llama.cpp).
    #[error("skill `{skill}`: {source}")]
    Adapter {
        /// The skill.
        skill: String,
        /// Why.
        source: crate::engine::EngineError,
    },
}

/// `skill.toml`. Top-level keys this build does not know are ignored with a warning, so a
/// folder written for a later Trinity (issue 14: fields added by extension) still loads,
/// except a key one letter from a known one (two for keys over five letters), which is
/// surely a typo (a misspelt `min_confidence` must not silently run every plan) and
/// refuses the folder. Keys inside `[prompt]` and `[[adapters]]` must all be known.
#[derive(Debug, Deserialize)]
struct SkillToml {
    name: String,
    description: String,
    allowed: Vec<String>,
    #[serde(default = "default_max_tokens")]
    max_tokens: usize,
    /// Plans the model is less sure of are refused with their candidate (0: run every plan).
    #[serde(default)]
    min_confidence: f32,
    prompt: PromptToml,
    #[serde(default)]
    adapters: Vec<AdapterToml>,
    #[serde(flatten)]
    unknown: std::collections::BTreeMap<String, toml::Value>,
}

/// The top-level keys of `skill.toml`.
const SKILL_KEYS: [&str; 7] = ["name", "description", "allowed", "max_tokens", "min_confidence", "prompt", "adapters"];

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

fn default_max_tokens() -> usize {
    160
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PromptToml {
    prefix: String,
    #[serde(default)]
    examples: Vec<ExampleToml>,
    #[serde(default = "default_template")]
    template: String,
    /// Rewrite quantities and directions before the model (`crate::normalize`).
    #[serde(default)]
    normalize: bool,
    /// Plan a command of several steps step by step (`crate::clauses`); needs `normalize`.
    #[serde(default)]
    split: bool,
}

fn default_template() -> String {
    format!("Command: {COMMAND_SLOT}{}", crate::prompt::PLAN_CUE)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExampleToml {
    command: String,
    plan: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdapterToml {
    file: String,
    #[serde(default = "one")]
    scale: f32,
}

fn one() -> f32 {
    1.0
}

/// One line of `examples.jsonl` / `heldout.jsonl`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Example {
    /// What a user says.
    pub command: String,
    /// The plan it means (empty: nothing to do, the skill should refuse).
    pub plan: Plan,
    /// A tag for the breakdown of an evaluation (hand-written sets: units, idiom, …).
    #[serde(default)]
    pub kind: Option<String>,
}

/// A skill folder, read and checked, adapters not loaded yet.
#[derive(Debug, Clone)]
pub struct SkillDir {
    /// The folder.
    pub dir: PathBuf,
    /// The skill, with an empty adapter list.
    pub skill: Skill,
    /// Adapter files (inside the folder) and their scales.
    pub adapters: Vec<(PathBuf, f32)>,
    /// Number of training examples in `examples.jsonl` (0 when absent).
    pub examples: usize,
}

fn read_capped(path: &Path, cap: u64) -> Result<String, SkillError> {
    let io = |source| SkillError::Io { path: path.to_owned(), source };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > cap {
        return Err(SkillError::Invalid { path: path.to_owned(), what: format!("{len} bytes; the limit is {cap}") });
    }
    let bytes = std::fs::read(path).map_err(io)?;
    String::from_utf8(bytes).map_err(|_| SkillError::Invalid { path: path.to_owned(), what: "not UTF-8".into() })
}

/// Read `examples.jsonl`-style pairs; every plan must parse into the action vocabulary.
pub fn read_examples(path: &Path) -> Result<Vec<Example>, SkillError> {
    let text = read_capped(path, MAX_EXAMPLES_BYTES)?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map_err(|e| SkillError::Invalid { path: path.to_owned(), what: format!("line {}: {e}", i + 1) })
        })
        .collect()
}

/// The skill folders of `dir`, sorted: subfolders holding a `skill.toml`, except those
/// whose name starts with `.` (a folder being installed). A missing `dir` has none.
pub fn folders(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .map(|e| e.path())
                .filter(|p| p.join(SKILL_TOML).is_file())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// A skill name is used in MQTT topics (`cmd/{skill}`): 1-32 lowercase letters, digits,
/// `-`, `_` (within the contract's alphabet, `trinity_wire::names`).
pub fn valid_name(name: &str) -> bool {
    trinity_wire::names::skill(name).is_ok()
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

impl SkillDir {
    /// Read and check the skill folder `dir` (no llama.cpp involved).
    pub fn load(dir: &Path) -> Result<SkillDir, SkillError> {
        let text = read_capped(&dir.join(SKILL_TOML), MAX_TOML_BYTES)?;
        Self::from_toml(dir, &text)
    }

    /// Check `text` as the `skill.toml` of the folder `dir` (adapter files are looked up
    /// there).
    pub fn from_toml(dir: &Path, text: &str) -> Result<SkillDir, SkillError> {
        let toml_path = dir.join(SKILL_TOML);
        let invalid = |what: String| SkillError::Invalid { path: toml_path.clone(), what };
        let t: SkillToml = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        for key in t.unknown.keys() {
            let near = |k: &&&str| edit_distance(key, k) <= if k.len() > 5 { 2 } else { 1 };
            if let Some(known) = SKILL_KEYS.iter().find(near) {
                return Err(invalid(format!("unknown key `{key}`: did you mean `{known}`?")));
            }
            tracing::warn!("{}: unknown key `{key}` ignored (written for a newer trinity?)", toml_path.display());
        }
        if !valid_name(&t.name) {
            return Err(invalid(format!("name {:?}: use lowercase letters, digits, `-` and `_`", t.name)));
        }
        let mut allowed = Vec::new();
        for a in &t.allowed {
            let k = ActionKind::ALL
                .into_iter()
                .find(|k| k.name() == a)
                .ok_or_else(|| invalid(format!("`allowed` names unknown action `{a}`")))?;
            allowed.push(k);
        }
        if allowed.is_empty() {
            return Err(invalid("`allowed` is empty".into()));
        }
        if !(1..=1024).contains(&t.max_tokens) {
            return Err(invalid(format!("max_tokens = {}: expected 1..=1024", t.max_tokens)));
        }
        if !(0.0..=1.0).contains(&t.min_confidence) {
            return Err(invalid(format!("min_confidence = {}: expected 0..=1", t.min_confidence)));
        }
        let Some((before, after)) = t.prompt.template.split_once(COMMAND_SLOT) else {
            return Err(invalid(format!("prompt.template has no `{COMMAND_SLOT}`")));
        };
        if after.contains(COMMAND_SLOT) {
            return Err(invalid(format!("prompt.template has `{COMMAND_SLOT}` twice")));
        }
        // Few-shot examples, rendered with the template, then the template up to the command.
        let mut prefix = t.prompt.prefix.clone();
        for (i, ex) in t.prompt.examples.iter().enumerate() {
            let plan: Plan = serde_json::from_str(&ex.plan)
                .map_err(|e| invalid(format!("prompt.examples[{i}].plan is not a plan: {e}")))?;
            if let Some(a) = plan.actions().iter().find(|a| !allowed.contains(&a.kind())) {
                return Err(invalid(format!("prompt.examples[{i}] uses `{}`, which is not allowed", a.kind().name())));
            }
            prefix.push_str(&format!("{before}{}{after} {}\n\n", ex.command, ex.plan));
        }
        prefix.push_str(before);

        let mut adapters = Vec::new();
        for a in &t.adapters {
            // A plain file name inside the folder: a skill cannot point at other files.
            let p = Path::new(&a.file);
            if p.components().count() != 1 || !matches!(p.components().next(), Some(std::path::Component::Normal(_))) {
                return Err(invalid(format!("adapter file {:?} must be a file name inside the skill folder", a.file)));
            }
            if !a.scale.is_finite() || a.scale.abs() > 8.0 {
                return Err(invalid(format!("adapter {:?}: scale {} is outside -8..=8", a.file, a.scale)));
            }
            let path = dir.join(p);
            if !path.is_file() {
                return Err(SkillError::Invalid {
                    path,
                    what: format!("adapter file not found (named in {SKILL_TOML})"),
                });
            }
            adapters.push((path, a.scale));
        }
        let examples_path = dir.join(EXAMPLES);
        let examples = if examples_path.exists() { read_examples(&examples_path)?.len() } else { 0 };

        let mut skill = Skill::new(&t.name, &t.description, allowed, prefix, t.max_tokens);
        skill.after_command = after.to_owned();
        skill.normalize = t.prompt.normalize;
        if t.prompt.split && !t.prompt.normalize {
            return Err(SkillError::Invalid {
                path: dir.join(SKILL_TOML),
                what: "`split = true` needs `normalize = true` in [prompt]: it cuts the normalized command".into(),
            });
        }
        skill.split = t.prompt.split;
        skill.min_confidence = t.min_confidence;
        Ok(SkillDir { dir: dir.to_owned(), skill, adapters, examples })
    }
}

/// A skill being served: the skill (adapter ids filled in) and its loaded adapters.
#[derive(Debug, Clone)]
pub struct ActiveSkill {
    /// The skill as the planner uses it.
    pub skill: Skill,
    /// The folder it came from.
    pub dir: PathBuf,
    /// Its adapters as loaded.
    pub adapters: Vec<AdapterInfo>,
    /// Training examples in its folder.
    pub examples: usize,
}

/// Load a folder's adapters onto `engine` (blocking). If one fails, those already loaded
/// are unloaded again and nothing changes.
pub fn activate(engine: &Engine, sd: SkillDir) -> Result<ActiveSkill, SkillError> {
    let mut loaded: Vec<AdapterInfo> = Vec::new();
    for (path, _) in &sd.adapters {
        match engine.load_adapter(path) {
            Ok(info) => loaded.push(info),
            Err(source) => {
                for l in &loaded {
                    engine.unload_adapter(l.id);
                }
                return Err(SkillError::Adapter { skill: sd.skill.name.clone(), source });
            }
        }
    }
    let mut skill = sd.skill;
    skill.adapters = loaded.iter().zip(&sd.adapters).map(|(info, (_, scale))| (info.id, *scale)).collect();
    Ok(ActiveSkill { skill, dir: sd.dir, adapters: loaded, examples: sd.examples })
}

/// Unload a skill's adapters (blocking). Jobs already queued with them fail cleanly.
pub fn deactivate(engine: &Engine, s: &ActiveSkill) {
    for a in &s.adapters {
        engine.unload_adapter(a.id);
    }
}

#[cfg(test)]
mod tests;
