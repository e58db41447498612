//! Exact-plan accuracy of a skill on a set of examples (`heldout.jsonl`).

use std::time::Duration;

use serde::Serialize;

use super::Example;
use crate::planner::Planner;
use crate::prompt::Skill;

/// How a skill did on a set of examples.
#[derive(Debug, Clone, Serialize)]
pub struct Accuracy {
    /// Examples tried.
    pub total: usize,
    /// Plans equal to the expected one, action for action.
    pub exact: usize,
    /// Median time to plan.
    pub median_time_to_plan_ms: f64,
    /// (command, expected, what came out) for the misses.
    pub misses: Vec<(String, String, String)>,
}

impl Accuracy {
    /// `exact / total`.
    pub fn rate(&self) -> f64 {
        self.exact as f64 / self.total.max(1) as f64
    }
}

/// Plan every example's command with `skill` and compare with its plan.
pub fn evaluate(planner: &Planner, skill: &Skill, examples: &[Example]) -> Accuracy {
    let mut exact = 0;
    let mut times = Vec::new();
    let mut misses = Vec::new();
    for ex in examples {
        let expected = serde_json::to_string(&ex.plan).unwrap_or_default();
        match planner.plan_blocking(skill, &ex.command) {
            Ok(out) => {
                times.push(out.time_to_plan);
                if out.plan == ex.plan {
                    exact += 1;
                } else {
                    misses.push((ex.command.clone(), expected, serde_json::to_string(&out.plan).unwrap_or_default()));
                }
            }
            Err(e) => misses.push((ex.command.clone(), expected, format!("error: {e}"))),
        }
    }
    times.sort();
    let median = times.get(times.len() / 2).copied().unwrap_or(Duration::ZERO);
    Accuracy { total: examples.len(), exact, median_time_to_plan_ms: median.as_secs_f64() * 1e3, misses }
}
