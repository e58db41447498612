//! Built-in prompts: a fixed few-shot prefix per skill, and where the command goes.
//!
//! Gemma 3 270M is a base model: it continues text. The prefix shows it the pattern
//! `Command: …` / `Plan: [...]` a dozen times; the grammar then holds it to the vocabulary.
//! The examples use other phrasings and numbers than the tests do, so a passing test is
//! the model generalising, not copying.

use trinity_firmware::ActionKind;

use crate::engine::AdapterId;

/// What follows the command in the built-in prompts (and the default template's end).
pub const PLAN_CUE: &str = "\nPlan:";

/// A skill as the planner needs it: the prompt, the allowed actions, the token budget and
/// the LoRA adapters it runs under.
#[derive(Debug, Clone, PartialEq)]
pub struct Skill {
    /// Skill name (`rover`, `arm`, `general`).
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Actions the skill may emit.
    pub allowed: Vec<ActionKind>,
    /// The fixed prompt prefix (evaluated once and cached).
    pub prefix: String,
    /// Most tokens a plan may take.
    pub max_tokens: usize,
    /// What follows the command in the prompt (`\nPlan:` in the built-in skills).
    pub after_command: String,
    /// Loaded adapters and their scales (empty: the base model).
    pub adapters: Vec<(AdapterId, f32)>,
    /// Rewrite quantities and directions before the model ([`crate::normalize`]).
    pub normalize: bool,
    /// Plans the model is less sure of than this (0–1) are not executed ([`crate::planner`]);
    /// 0 executes every valid plan.
    pub min_confidence: f32,
    /// Cut a command of several steps into its steps and plan each on its own
    /// ([`crate::clauses`]); only with `normalize`, whose output it cuts.
    pub split: bool,
}

impl Skill {
    /// A skill with a built-in-style prompt and no adapters.
    pub fn new(name: &str, description: &str, allowed: Vec<ActionKind>, prefix: String, max_tokens: usize) -> Skill {
        Skill {
            name: name.to_owned(),
            description: description.to_owned(),
            allowed,
            prefix,
            max_tokens,
            after_command: PLAN_CUE.to_owned(),
            adapters: Vec::new(),
            normalize: false,
            min_confidence: 0.0,
            split: false,
        }
    }

    /// The per-command part of the prompt, evaluated after the cached prefix: the command
    /// (normalized if the skill asks for it) and what follows it in the template. `command`
    /// is already one line of plain words ([`crate::planner::prepare`]).
    pub fn suffix(&self, command: &str) -> String {
        if self.normalize {
            format!("{}{}", crate::normalize::normalize(command), self.after_command)
        } else {
            format!("{command}{}", self.after_command)
        }
    }
}

const HEADER: &str = "A robot turns each command into a JSON plan of actions. \
Distances are in meters (+ forward, - backward), angles in degrees (+ left, - right), \
waits in seconds.\n\n";

/// Few-shot examples: (command, plan as compact JSON).
type Examples = &'static [(&'static str, &'static str)];

const ROVER: Examples = &[
    (
        "reverse 0.8 m, then turn left 60 degrees",
        r#"[{"action":"drive","distance_m":-0.8},{"action":"turn","angle_deg":60}]"#,
    ),
    ("drive forward three meters", r#"[{"action":"drive","distance_m":3}]"#),
    ("turn left 45 degrees", r#"[{"action":"turn","angle_deg":45}]"#),
    ("switch the lights on", r#"[{"action":"output","name":"lights","on":true}]"#),
    ("back up half a meter", r#"[{"action":"drive","distance_m":-0.5}]"#),
    ("pause for two seconds", r#"[{"action":"wait","seconds":2}]"#),
    ("turn right 30 degrees", r#"[{"action":"turn","angle_deg":-30}]"#),
    ("halt", r#"[{"action":"stop"}]"#),
    ("move ahead 1.5 m", r#"[{"action":"drive","distance_m":1.5}]"#),
    ("rotate right 180 degrees", r#"[{"action":"turn","angle_deg":-180}]"#),
    ("roll forward four meters", r#"[{"action":"drive","distance_m":4}]"#),
    ("turn left 120 degrees", r#"[{"action":"turn","angle_deg":120}]"#),
];

const ARM: Examples = &[
    (
        "grab it, then lift the wrist to 20 degrees",
        r#"[{"action":"grip","state":"close"},{"action":"servo","joint":"wrist","angle_deg":20}]"#,
    ),
    ("raise the shoulder to 30 degrees", r#"[{"action":"servo","joint":"shoulder","angle_deg":30}]"#),
    ("close the gripper", r#"[{"action":"grip","state":"close"}]"#),
    ("set the elbow to -45 degrees", r#"[{"action":"servo","joint":"elbow","angle_deg":-45}]"#),
    ("wait one second", r#"[{"action":"wait","seconds":1}]"#),
    ("rotate the arm base to 60 degrees", r#"[{"action":"servo","joint":"base","angle_deg":60}]"#),
    ("freeze", r#"[{"action":"stop"}]"#),
    ("release the object", r#"[{"action":"grip","state":"open"}]"#),
    ("lower the elbow to 15 degrees", r#"[{"action":"servo","joint":"elbow","angle_deg":15}]"#),
    ("squeeze the gripper shut", r#"[{"action":"grip","state":"close"}]"#),
];

/// The examples of several skills, taken in turn, so that no skill's examples all sit
/// last (a base model leans towards what it saw most recently).
fn interleave(sets: &[Examples]) -> Vec<(&'static str, &'static str)> {
    let longest = sets.iter().map(|s| s.len()).max().unwrap_or(0);
    (0..longest).flat_map(|i| sets.iter().filter_map(move |s| s.get(i).copied())).collect()
}

fn prefix(examples: &[Examples]) -> String {
    let mut p = String::from(HEADER);
    for (cmd, plan) in interleave(examples) {
        p.push_str(&format!("Command: {cmd}\nPlan: {plan}\n\n"));
    }
    p.push_str("Command: ");
    p
}

/// Names of the built-in skills.
pub const BUILTIN: &[&str] = &["general", "rover", "arm"];

/// The skill used when a command names none.
pub const DEFAULT_SKILL: &str = "general";

/// A built-in skill by name.
pub fn builtin(name: &str) -> Option<Skill> {
    use ActionKind::*;
    let (description, allowed, examples): (&str, Vec<ActionKind>, Vec<Examples>) = match name {
        "general" => ("the whole vocabulary: rover and arm", ActionKind::ALL.to_vec(), vec![ROVER, ARM]),
        "rover" => ("driving: drive, turn, stop, wait, outputs", vec![Drive, Turn, Stop, Wait, Output], vec![ROVER]),
        "arm" => ("the arm: joints, gripper, wait", vec![Servo, Grip, Wait, Stop], vec![ARM]),
        _ => return None,
    };
    Some(Skill::new(name, description, allowed, prefix(&examples), 160))
}

#[cfg(test)]
mod tests {
    use super::*;
    use trinity_firmware::Plan;

    #[test]
    fn every_example_plan_parses_and_fits_its_skill_and_the_sim_board() {
        let limits = trinity_boards::sim().limits;
        for name in BUILTIN {
            let skill = builtin(name).unwrap();
            for block in skill.prefix.split("\n\n").filter(|b| b.starts_with("Command:")) {
                let Some((_, plan)) = block.split_once("\nPlan: ") else {
                    continue;
                };
                let plan: Plan = serde_json::from_str(plan).unwrap_or_else(|e| panic!("{plan}: {e}"));
                assert!(plan.actions().iter().all(|a| skill.allowed.contains(&a.kind())), "{name}: {block}");
                limits.check(&plan).unwrap();
            }
        }
    }

    #[test]
    fn prefix_ends_where_the_command_goes() {
        let s = builtin("rover").unwrap();
        assert!(s.prefix.ends_with("\n\nCommand: "));
        assert_eq!(s.suffix("stop"), "stop\nPlan:");
        assert!(builtin("juggling").is_none());
    }
}
