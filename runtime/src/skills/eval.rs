//! Plan accuracy of a skill on a set of examples (`heldout.jsonl`, `wild.jsonl`).
//!
//! A plan is right when it has the expected actions in order, with the same names and
//! states, and every number within 1 % of the expected one (issue 12: "exact plans,
//! numbers within 1 %"). An expected empty plan means "nothing to do": any plan is wrong.
//! Accuracy is also broken down by the example's `kind` tag and by the kind of its
//! expected first action, and every attempt is kept for the raw output.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use trinity_firmware::{Action, Plan};

use super::Example;
use crate::planner::Planner;
use crate::prompt::Skill;

/// Relative tolerance on every number of a plan.
pub const TOLERANCE: f32 = 0.01;

/// One example tried.
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    /// The command.
    pub command: String,
    /// Its `kind` tag, if the set has them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The expected plan.
    pub expected: Plan,
    /// What came out: the plan, or the error.
    pub got: Result<Plan, String>,
    /// Whether it matches.
    pub right: bool,
}

/// How a skill did on a set of examples.
#[derive(Debug, Clone, Serialize)]
pub struct Accuracy {
    /// Examples tried.
    pub total: usize,
    /// Plans that match the expected one.
    pub exact: usize,
    /// Median time to plan.
    pub median_time_to_plan_ms: f64,
    /// (right, total) per `kind` tag.
    pub by_kind: BTreeMap<String, (usize, usize)>,
    /// (right, total) per kind of the expected first action (`nothing` for an empty plan).
    pub by_action: BTreeMap<String, (usize, usize)>,
    /// Every example, in order.
    #[serde(skip)]
    pub attempts: Vec<Attempt>,
}

impl Accuracy {
    /// `exact / total`.
    pub fn rate(&self) -> f64 {
        self.exact as f64 / self.total.max(1) as f64
    }

    /// The wrong attempts.
    pub fn misses(&self) -> impl Iterator<Item = &Attempt> {
        self.attempts.iter().filter(|a| !a.right)
    }
}

fn close(want: f32, got: f32) -> bool {
    (want - got).abs() <= TOLERANCE * want.abs().max(got.abs()) || (want - got).abs() < 1e-6
}

/// Whether `got` is the plan `want` asks for, numbers within [`TOLERANCE`].
pub fn plans_match(want: &Plan, got: &Plan) -> bool {
    want.len() == got.len()
        && !want.actions().is_empty()
        && want.actions().iter().zip(got.actions()).all(|(w, g)| match (w, g) {
            (Action::Drive { distance_m: a }, Action::Drive { distance_m: b }) => close(*a, *b),
            (Action::Turn { angle_deg: a }, Action::Turn { angle_deg: b }) => close(*a, *b),
            (Action::Wait { seconds: a }, Action::Wait { seconds: b }) => close(*a, *b),
            (Action::Servo { joint: j, angle_deg: a }, Action::Servo { joint: k, angle_deg: b }) => {
                j == k && close(*a, *b)
            }
            (w, g) => w == g,
        })
}

/// Plan every example's command with `skill` and compare with its plan.
pub fn evaluate(planner: &Planner, skill: &Skill, examples: &[Example]) -> Accuracy {
    let mut times = Vec::new();
    let mut attempts = Vec::new();
    for ex in examples {
        let got = match planner.plan_blocking(skill, &ex.command) {
            Ok(out) => {
                times.push(out.time_to_plan);
                Ok(out.plan)
            }
            Err(e) => Err(e.to_string()),
        };
        let right = got.as_ref().is_ok_and(|p| plans_match(&ex.plan, p));
        attempts.push(Attempt {
            command: ex.command.clone(),
            kind: ex.kind.clone(),
            expected: ex.plan.clone(),
            got,
            right,
        });
    }
    times.sort();
    let median = times.get(times.len() / 2).copied().unwrap_or(Duration::ZERO);
    summarise(attempts, median)
}

fn summarise(attempts: Vec<Attempt>, median: Duration) -> Accuracy {
    let (mut by_kind, mut by_action) = (BTreeMap::new(), BTreeMap::new());
    for a in &attempts {
        let count = |m: &mut BTreeMap<String, (usize, usize)>, k: String| {
            let e = m.entry(k).or_insert((0, 0));
            e.0 += usize::from(a.right);
            e.1 += 1;
        };
        if let Some(k) = &a.kind {
            count(&mut by_kind, k.clone());
        }
        let first = a.expected.actions().first().map_or("nothing", |x| x.kind().name());
        count(&mut by_action, first.to_owned());
    }
    Accuracy {
        total: attempts.len(),
        exact: attempts.iter().filter(|a| a.right).count(),
        median_time_to_plan_ms: median.as_secs_f64() * 1e3,
        by_kind,
        by_action,
        attempts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(json: &str) -> Plan {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn numbers_match_within_one_percent_and_everything_else_exactly() {
        let want = plan(r#"[{"action":"drive","distance_m":0.3048},{"action":"turn","angle_deg":-90}]"#);
        assert!(plans_match(
            &want,
            &plan(r#"[{"action":"drive","distance_m":0.305},{"action":"turn","angle_deg":-90}]"#)
        ));
        assert!(!plans_match(
            &want,
            &plan(r#"[{"action":"drive","distance_m":0.31},{"action":"turn","angle_deg":-90}]"#)
        ));
        assert!(!plans_match(
            &want,
            &plan(r#"[{"action":"drive","distance_m":0.3048},{"action":"turn","angle_deg":90}]"#)
        ));
        assert!(!plans_match(&want, &plan(r#"[{"action":"drive","distance_m":0.3048}]"#)));
        let servo = plan(r#"[{"action":"servo","joint":"wrist","angle_deg":0}]"#);
        assert!(plans_match(&servo, &plan(r#"[{"action":"servo","joint":"wrist","angle_deg":0.0}]"#)));
        assert!(!plans_match(&servo, &plan(r#"[{"action":"servo","joint":"elbow","angle_deg":0}]"#)));
        let out = plan(r#"[{"action":"output","name":"lights","on":true}]"#);
        assert!(!plans_match(&out, &plan(r#"[{"action":"output","name":"lights","on":false}]"#)));
    }

    #[test]
    fn an_expected_empty_plan_is_never_matched() {
        assert!(!plans_match(&Plan::new(), &Plan::new()));
        assert!(!plans_match(&Plan::new(), &plan(r#"[{"action":"stop"}]"#)));
    }

    #[test]
    fn accuracy_is_broken_down_by_kind_and_first_action() {
        let attempt = |kind: &str, expected: &str, right: bool| Attempt {
            command: "c".into(),
            kind: Some(kind.into()),
            expected: plan(expected),
            got: Err("x".into()),
            right,
        };
        let acc = summarise(
            vec![
                attempt("units", r#"[{"action":"drive","distance_m":1}]"#, true),
                attempt("units", r#"[{"action":"turn","angle_deg":1}]"#, false),
                attempt("out_of_skill", "[]", false),
            ],
            Duration::ZERO,
        );
        assert_eq!((acc.exact, acc.total), (1, 3));
        assert_eq!(acc.by_kind["units"], (1, 2));
        assert_eq!(acc.by_action["nothing"], (0, 1));
        assert_eq!(acc.misses().count(), 2);
    }
}
