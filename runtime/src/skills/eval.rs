//! Plan accuracy of a skill on a set of examples (`heldout.jsonl`, `wild.jsonl`).
//!
//! A plan is right when it has the expected actions in order, with the same names and
//! states, and every number within 1 % of the expected one (issue 12: "exact plans,
//! numbers within 1 %"). An expected empty plan means "the robot must not move": it is
//! right when no plan comes out (the model answered "nothing to do", or its plan was
//! refused by the board's limits), wrong when any plan does.
//! Accuracy is also broken down by the example's `kind` tag and by the kind of its
//! expected first action, and every attempt is kept for the raw output.
//!
//! Plans are made without the skill's confidence threshold and each keeps its confidence,
//! so one run also gives what the threshold does ([`Accuracy::at`]): the plans that would
//! be executed, how many of them are right (precision), and how many of the commands the
//! skill can do get executed at all (coverage).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use trinity_firmware::{Action, Plan};

use super::Example;
use crate::planner::{finish, PlanError, Planner};
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
    /// What came out: the model's plan, or the error.
    pub got: Result<Plan, String>,
    /// The board's limits refused `got` (so it would not run): why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused_by_limits: Option<String>,
    /// The model's confidence in the plan ([`crate::engine::Generation::confidence`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
    /// Whether it is what was asked for (see the module documentation).
    pub right: bool,
}

impl Attempt {
    /// Whether this attempt's plan would run under a confidence threshold.
    pub fn executed(&self, threshold: f32) -> bool {
        self.got.is_ok() && self.refused_by_limits.is_none() && self.confidence.unwrap_or(1.0) >= threshold
    }

    /// Right: the plan asked for (numbers within [`TOLERANCE`]), or, where the robot must
    /// not move, no plan that would run.
    pub fn is_right(&self) -> bool {
        if self.expected.actions().is_empty() {
            return !self.executed(0.0);
        }
        self.got.as_ref().is_ok_and(|p| plans_match(&self.expected, p))
    }
}

/// What a confidence threshold does on a set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AtThreshold {
    /// The threshold.
    pub threshold: f32,
    /// Plans that would run.
    pub executed: usize,
    /// Of those, the right ones.
    pub executed_right: usize,
    /// `executed_right / executed`.
    pub precision: f64,
    /// Commands with a non-empty expected plan whose right plan would run, over all such.
    pub coverage: f64,
    /// Commands that must not move the robot, but would.
    pub moved_when_it_should_not: usize,
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

    /// Precision and coverage of the plans that would run under `threshold`.
    pub fn at(&self, threshold: f32) -> AtThreshold {
        let executed: Vec<&Attempt> = self.attempts.iter().filter(|a| a.executed(threshold)).collect();
        let executed_right = executed.iter().filter(|a| a.right).count();
        let doable = self.attempts.iter().filter(|a| !a.expected.actions().is_empty()).count();
        let covered = executed.iter().filter(|a| a.right && !a.expected.actions().is_empty()).count();
        AtThreshold {
            threshold,
            executed: executed.len(),
            executed_right,
            precision: executed_right as f64 / executed.len().max(1) as f64,
            coverage: covered as f64 / doable.max(1) as f64,
            moved_when_it_should_not: executed.iter().filter(|a| a.expected.actions().is_empty()).count(),
        }
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

/// Words `template` masks as numbers besides `normalize`'s number words (0–19, the tens).
const NUMBER_WORDS: &[&str] = &["hundred", "half", "quarter", "quarters", "third", "thirds", "point"];
const UNIT_WORDS: &[&str] = &[
    "mm",
    "cm",
    "cms",
    "m",
    "mtrs",
    "meter",
    "meters",
    "metre",
    "metres",
    "millimeter",
    "millimeters",
    "millimetre",
    "millimetres",
    "centimeter",
    "centimeters",
    "centimetre",
    "centimetres",
    "in",
    "inch",
    "inches",
    "ft",
    "foot",
    "feet",
    "yd",
    "yds",
    "yard",
    "yards",
    "ms",
    "millisecond",
    "milliseconds",
    "s",
    "sec",
    "secs",
    "second",
    "seconds",
    "min",
    "mins",
    "minute",
    "minutes",
    "deg",
    "degs",
    "degree",
    "degrees",
    "°",
    "'",
    "\"",
];
const NAME_WORDS: &[&str] = &["base", "shoulder", "elbow", "wrist", "lights", "horn"];

/// A command's template: its words in lowercase, numbers and number words as `#`, units as
/// `<u>`, joint and output names as `<n>`, punctuation dropped. Two commands with one
/// template differ only in their quantities and names. No held-out or hand-written command
/// may share one with a training example (`skills/train/gen_examples.py` mirrors this).
pub fn template(command: &str) -> String {
    let t: Vec<char> = command.to_lowercase().chars().collect();
    let digit = |k: usize| t.get(k).is_some_and(|c| c.is_ascii_digit());
    let letter = |k: usize| t.get(k).is_some_and(|c| c.is_ascii_lowercase());
    let mut out: Vec<String> = Vec::new();
    let mut push = |w: String| {
        let w = if w == "#" || crate::normalize::is_number_word(&w) || NUMBER_WORDS.contains(&w.as_str()) {
            "#".to_owned()
        } else if UNIT_WORDS.contains(&w.as_str()) {
            "<u>".to_owned()
        } else if NAME_WORDS.contains(&w.as_str()) {
            "<n>".to_owned()
        } else {
            w
        };
        if !(w == "#" && out.last().is_some_and(|l| l == "#")) {
            out.push(w);
        }
    };
    let mut i = 0;
    while i < t.len() {
        if digit(i) || (t[i] == '-' && digit(i + 1)) {
            i += 1;
            while digit(i) || (matches!(t.get(i), Some('.' | ',' | '/')) && digit(i + 1)) {
                i += 1;
            }
            push("#".into());
        } else if letter(i) {
            let start = i;
            while letter(i) {
                i += 1;
            }
            if t.get(i) == Some(&'\'') && letter(i + 1) {
                i += 1;
                while letter(i) {
                    i += 1;
                }
            }
            push(t[start..i].iter().collect());
        } else {
            if matches!(t[i], '°' | '\'' | '"') {
                push(t[i].to_string());
            }
            i += 1;
        }
    }
    out.join(" ")
}

/// Plan every example's command with `skill` (its confidence threshold off) and compare
/// with its plan. A plan the board's limits refuse is compared as the model wrote it (the
/// hand-written sets ask for some on purpose: understood, and refused), and never counts as
/// executed.
pub fn evaluate(planner: &Planner, skill: &Skill, examples: &[Example]) -> Accuracy {
    let mut times = Vec::new();
    let mut attempts = Vec::new();
    let skill = Skill { min_confidence: 0.0, ..skill.clone() };
    for ex in examples {
        let t0 = std::time::Instant::now();
        let generation = planner.submit(&skill, &ex.command).and_then(|h| Ok(h.wait()?));
        let (got, confidence, refused) = match generation {
            Err(e) => (Err(e.to_string()), None, None),
            Ok(g) => {
                let confidence = Some((g.confidence * 1000.0).round() / 1000.0);
                match finish(&skill, planner.board(), &g).map(|a| a.plan) {
                    Ok(plan) => {
                        times.push(t0.elapsed());
                        (Ok(plan), confidence, None)
                    }
                    Err(PlanError::Limits(v)) => match serde_json::from_str::<Plan>(g.text.trim()) {
                        Ok(plan) => (Ok(plan), confidence, Some(v.to_string())),
                        Err(e) => (Err(e.to_string()), None, None),
                    },
                    Err(e) => (Err(e.to_string()), None, None),
                }
            }
        };
        let mut a = Attempt {
            command: ex.command.clone(),
            kind: ex.kind.clone(),
            expected: ex.plan.clone(),
            got,
            refused_by_limits: refused,
            confidence,
            right: false,
        };
        a.right = a.is_right();
        attempts.push(a);
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
    fn templates_mask_quantities_units_and_names() {
        assert_eq!(
            template("Drive 30cm forward, then turn LEFT ninety-five°!"),
            "drive # <u> forward then turn left # <u>"
        );
        assert_eq!(template("set the elbow to -45.5 degrees"), "set the <n> to # <u>");
        assert_eq!(template("back up 2' and don't honk"), "back up # <u> and don't honk");
        assert_eq!(template("wait 1 1/2 minutes"), "wait # <u>");
        assert_eq!(template("a hundred and twenty"), "a # and #");
    }

    fn attempt(expected: &str, got: Result<&str, ()>, confidence: f32, limits: bool) -> Attempt {
        let mut a = Attempt {
            command: "c".into(),
            kind: None,
            expected: plan(expected),
            got: got.map(plan).map_err(|_| "no".to_string()),
            refused_by_limits: limits.then(|| "too far".into()),
            confidence: Some(confidence),
            right: false,
        };
        a.right = a.is_right();
        a
    }

    #[test]
    fn an_expected_empty_plan_is_right_only_when_nothing_would_move() {
        let stop = r#"[{"action":"stop"}]"#;
        assert!(attempt("[]", Err(()), 1.0, false).right);
        assert!(!attempt("[]", Ok(stop), 1.0, false).right);
        assert!(attempt("[]", Ok(stop), 1.0, true).right, "refused by the limits: nothing moves");
        assert!(!attempt(stop, Err(()), 1.0, false).right);
        let far = r#"[{"action":"drive","distance_m":20}]"#;
        assert!(attempt(far, Ok(far), 1.0, true).right, "understood, and refused by the limits");
        assert!(!attempt(far, Ok(far), 1.0, true).executed(0.0));
    }

    #[test]
    fn a_threshold_trades_coverage_for_precision() {
        let a = |expected: &str, got: Result<&str, ()>, confidence: f32| attempt(expected, got, confidence, false);
        let stop = r#"[{"action":"stop"}]"#;
        let turn = r#"[{"action":"turn","angle_deg":90}]"#;
        let acc = summarise(
            vec![a(stop, Ok(stop), 0.9), a(stop, Ok(turn), 0.3), a("[]", Ok(stop), 0.4), a(turn, Err(()), 1.0)],
            Duration::ZERO,
        );
        let all = acc.at(0.0);
        assert_eq!((all.executed, all.executed_right, all.moved_when_it_should_not), (3, 1, 1));
        let sure = acc.at(0.5);
        assert_eq!((sure.executed, sure.executed_right, sure.moved_when_it_should_not), (1, 1, 0));
        assert_eq!(sure.precision, 1.0);
        assert!((sure.coverage - 1.0 / 3.0).abs() < 1e-9, "{sure:?}");
    }

    #[test]
    fn accuracy_is_broken_down_by_kind_and_first_action() {
        let attempt = |kind: &str, expected: &str, right: bool| Attempt {
            command: "c".into(),
            kind: Some(kind.into()),
            expected: plan(expected),
            got: Err("x".into()),
            refused_by_limits: None,
            confidence: None,
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
