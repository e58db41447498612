//! The messages of the MQTT contract (docs/DESIGN.md, "MQTT contract"), one type each, shared by the daemon, `trinity send` and the tests: what is published is
//! what these serialize to, and a client reads it back with the same types.
//!
//! - [`CommandRequest`]: a command as a client sends it on `cmd` (the daemon's own parser,
//!   which also takes plain text, is `dispatch::payload`);
//! - [`Event`] and [`State`]: `evt/{id}`;
//! - [`Telemetry`] and [`Timings`]: `telemetry`;
//! - [`Info`] (retained): what the daemon serves; `daemon/info.rs` fits it to a size budget.
//!
//! Readers of messages from other daemons (`fleet status`) take every field as optional:
//! an older or newer robot's message still reads.

use serde::{Deserialize, Serialize};
use trinity_firmware::Plan;

/// A command as a client sends it on `cmd` (or `cmd/{skill}`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CommandRequest {
    /// Command id: 1–64 characters of `[A-Za-z0-9._:-]`.
    pub id: String,
    /// What to do, in words.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// A typed plan instead of words (checked as a model's plan is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
    /// The skill to plan with (default: the daemon's default skill).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill: Option<String>,
    /// Refused if it has not started planning by then (unix ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<u64>,
}

/// A command's state, as published on `evt/{id}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Queued.
    Accepted,
    /// Refused (never ran).
    Rejected,
    /// Planning or running.
    Executing,
    /// Ran to the end.
    Succeeded,
    /// Planning or execution failed.
    Failed,
    /// Canceled or e-stopped.
    Canceled,
}

impl State {
    /// Whether no other event follows this one.
    pub fn is_terminal(self) -> bool {
        matches!(self, State::Rejected | State::Succeeded | State::Failed | State::Canceled)
    }
}

/// An event for `evt/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Command id.
    pub id: String,
    /// New state.
    pub state: State,
    /// The plan, on `succeeded` (and on `failed` when one was made).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<Plan>,
    /// Why, on `rejected`, `failed` and `canceled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// On `rejected` because the model was unsure: the plan it would have run. A client may
    /// confirm it by sending it back as the command's `plan`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate: Option<Plan>,
    /// With `candidate`: how sure the model was (0–1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
}

impl Event {
    /// An event with no plan, candidate or confidence.
    pub fn new(id: &str, state: State, error: Option<String>) -> Event {
        Event { id: id.to_owned(), state, plan: None, error, candidate: None, confidence: None }
    }
}

/// How the last model-planned command spent its time (`telemetry`'s `last_timings`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// The command's own prompt tokens.
    pub prompt_tokens: usize,
    /// Time to evaluate them.
    pub prompt_ms: f64,
    /// Plan tokens generated.
    pub generated_tokens: usize,
    /// Time to generate them.
    pub generation_ms: f64,
    /// From submission to a checked plan.
    pub time_to_plan_ms: f64,
}

/// `telemetry`, published every `[daemon] telemetry_ms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Telemetry {
    /// The robot's own state (board-specific: the sim's pose and wheels, a Pi's outputs).
    pub robot: serde_json::Value,
    /// Whether the e-stop latch is engaged.
    pub estop: bool,
    /// Commands waiting behind the running one.
    pub queue_depth: usize,
    /// The last model-planned command's timings.
    pub last_timings: Option<Timings>,
    /// The last command's terminal event.
    pub last: Option<Event>,
}

/// The retained `info`: what the daemon serves.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Info {
    /// Trinity's version.
    pub version: String,
    /// `trinity/{robot_id}/…`.
    pub robot_id: String,
    /// The board profile.
    pub board: String,
    /// The base model.
    pub model: ModelInfo,
    /// Every skill served, the default first.
    pub skills: Vec<SkillInfo>,
    /// Skill folders that are not served, and why.
    pub skill_errors: Vec<SkillFolderError>,
    /// The skill folders' directory.
    pub skills_dir: Option<std::path::PathBuf>,
    /// The prompt prefixes evaluated and kept.
    pub prefix_cache: Vec<PrefixInfo>,
    /// Entries left out to stay under the size budget.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_out: Option<usize>,
}

/// `info`'s `model`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelInfo {
    /// The GGUF file.
    pub path: std::path::PathBuf,
    /// `general.architecture`.
    pub architecture: String,
    /// Its size.
    pub bytes: u64,
    /// Its sha256 (hex), once hashed.
    pub sha256: Option<String>,
}

/// One skill in `info`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SkillInfo {
    /// Its name (`cmd/{skill}`).
    pub name: String,
    /// What it does.
    pub description: String,
    /// Its folder, or `builtin`.
    pub source: String,
    /// Installed from a bundle: its version (`null` otherwise).
    pub version: Option<String>,
    /// Few-shot examples in its prompt (folder skills).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub examples: Option<usize>,
    /// Its LoRA adapters.
    pub adapters: Vec<AdapterInfo>,
}

/// One adapter of a skill in `info`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AdapterInfo {
    /// File name.
    pub file: Option<String>,
    /// File size.
    pub bytes: u64,
    /// LoRA rank.
    pub rank: u64,
    /// LoRA alpha.
    pub alpha: f32,
    /// The scale it runs at.
    pub scale: f32,
    /// Time to check and load it.
    pub load_ms: f64,
}

/// A skill folder that is not served.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SkillFolderError {
    /// The folder.
    pub folder: std::path::PathBuf,
    /// Why.
    pub error: String,
}

/// One cached prompt prefix in `info`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PrefixInfo {
    /// The skill it belongs to.
    pub skill: String,
    /// Its tokens.
    pub tokens: usize,
    /// KV memory it takes.
    pub kv_bytes: u64,
}

/// `text` cut to at most `max` bytes (on a character boundary), marked `…` when cut: texts
/// a message carries (peer text, which serde's errors quote; skill descriptions) must not
/// make it too large to send.
pub fn short(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_reads_back_as_it_was_written_and_leaves_out_what_it_lacks() {
        let plan: Plan = serde_json::from_str(r#"[{"action":"drive","distance_m":2}]"#).unwrap();
        let ev = Event { plan: Some(plan), ..Event::new("c-1", State::Succeeded, None) };
        let json = serde_json::to_string(&ev).unwrap();
        assert_eq!(json, r#"{"id":"c-1","state":"succeeded","plan":[{"action":"drive","distance_m":2.0}]}"#);
        assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), ev);
        assert!(ev.state.is_terminal() && !State::Executing.is_terminal());
    }

    #[test]
    fn a_command_request_is_what_the_daemon_parses() {
        let req = CommandRequest {
            id: "c-2".into(),
            text: "turn left".into(),
            skill: Some("rover".into()),
            ..Default::default()
        };
        let json = serde_json::to_string(&req).unwrap();
        let c = crate::dispatch::payload::parse_command(json.as_bytes(), None).unwrap();
        assert_eq!((c.id.as_deref(), c.text.as_str(), c.skill.as_deref()), (Some("c-2"), "turn left", Some("rover")));
    }
}
