//! GBNF generated from the action vocabulary, the board and the skill's allowed actions.
//!
//! The grammar admits exactly the compact JSON plans the few-shot prompts show:
//! ` [{"action":"drive","distance_m":2},{"action":"stop"}]` — a leading space (the prompt
//! ends in `Plan:`), one to eight actions or ` []` (nothing this skill can do: the command
//! is refused), fields in a fixed order, joint and output names only from the board,
//! numbers with at most four integer and three fraction digits (millimetres in metres). It
//! bounds the *shape*; the board's [`Limits`] bound the *values* after parsing.

use std::fmt::Write;

use trinity_firmware::{ActionKind, Limits, MAX_PLAN_LEN};

/// Why no grammar can be made.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum GrammarError {
    /// Nothing the skill allows can run on this board.
    #[error("none of the skill's actions ({allowed}) can run on this board")]
    NoActions {
        /// The allowed actions, comma-separated.
        allowed: String,
    },
}

/// The action kinds that are both allowed and possible on the board, in vocabulary order.
pub fn usable_kinds(allowed: &[ActionKind], limits: &Limits) -> Vec<ActionKind> {
    ActionKind::ALL
        .into_iter()
        .filter(|k| allowed.contains(k))
        .filter(|k| match k {
            ActionKind::Drive => limits.max_drive_m > 0.0,
            ActionKind::Turn => limits.max_turn_deg > 0.0,
            ActionKind::Servo => !limits.joints.is_empty(),
            ActionKind::Grip => limits.gripper,
            ActionKind::Output => !limits.outputs.is_empty(),
            ActionKind::Stop | ActionKind::Wait => true,
        })
        .collect()
}

/// A GBNF string literal for `s` (JSON-quoted inside).
fn json_string_literal(s: &str) -> String {
    let mut out = String::from("\"\\\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\\\\\""),
            '\\' => out.push_str("\\\\\\\\"),
            c => out.push(c),
        }
    }
    out.push_str("\\\"\"");
    out
}

fn alternatives<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.map(json_string_literal).collect::<Vec<_>>().join(" | ")
}

/// The GBNF for plans of `allowed` actions on a board with `limits`. Start symbol `root`.
pub fn gbnf(allowed: &[ActionKind], limits: &Limits) -> Result<String, GrammarError> {
    let kinds = usable_kinds(allowed, limits);
    if kinds.is_empty() {
        let allowed = allowed.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ");
        return Err(GrammarError::NoActions { allowed });
    }
    let mut g = String::new();
    let rest = MAX_PLAN_LEN - 1;
    let _ = writeln!(g, "root ::= \" \" plan");
    let _ = writeln!(g, "plan ::= \"[]\" | \"[\" action (\",\" action){{0,{rest}}} \"]\"");
    let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
    let _ = writeln!(g, "action ::= {}", names.join(" | "));
    let head = |k: ActionKind| format!("\"{{\\\"action\\\":\\\"{}\\\"", k.name());
    for k in &kinds {
        let h = head(*k);
        let rule = match k {
            ActionKind::Drive => format!("{h},\\\"distance_m\\\":\" num \"}}\""),
            ActionKind::Turn => format!("{h},\\\"angle_deg\\\":\" num \"}}\""),
            ActionKind::Stop => format!("{h}}}\""),
            ActionKind::Servo => {
                format!("{h},\\\"joint\\\":\" joint \",\\\"angle_deg\\\":\" num \"}}\"")
            }
            ActionKind::Grip => {
                format!("{h},\\\"state\\\":\" (\"\\\"open\\\"\" | \"\\\"close\\\"\") \"}}\"")
            }
            ActionKind::Output => {
                format!("{h},\\\"name\\\":\" output-name \",\\\"on\\\":\" (\"true\" | \"false\") \"}}\"")
            }
            ActionKind::Wait => format!("{h},\\\"seconds\\\":\" unum \"}}\""),
        };
        let _ = writeln!(g, "{} ::= {rule}", k.name());
    }
    if kinds.contains(&ActionKind::Servo) {
        let _ = writeln!(g, "joint ::= {}", alternatives(limits.joints.iter().map(|j| j.name.as_str())));
    }
    if kinds.contains(&ActionKind::Output) {
        let _ = writeln!(g, "output-name ::= {}", alternatives(limits.outputs.iter().map(|o| o.as_str())));
    }
    let _ = writeln!(g, "num ::= \"-\"? unum");
    let _ = writeln!(g, "unum ::= (\"0\" | [1-9] [0-9]{{0,3}}) (\".\" [0-9]{{1,3}})?");
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim() -> Limits {
        trinity_boards::sim().limits
    }

    #[test]
    fn full_vocabulary_grammar_has_every_rule() {
        let g = gbnf(&ActionKind::ALL, &sim()).unwrap();
        for k in ActionKind::ALL {
            assert!(g.contains(&format!("\n{} ::= ", k.name())), "{k:?} missing:\n{g}");
        }
        assert!(g.contains(r#"joint ::= "\"base\"" | "\"shoulder\"" | "\"elbow\"" | "\"wrist\"""#), "{g}");
        assert!(g.contains(r#"output-name ::= "\"lights\"" | "\"horn\"""#), "{g}");
        assert!(g.contains("{0,7}"), "eight actions at most:\n{g}");
        assert!(g.contains(r#"plan ::= "[]" | "[" action"#), "nothing to do is an answer:\n{g}");
        assert!(g.contains(r#"[0-9]{1,3}"#), "millimetres in metres:\n{g}");
        assert!(g.contains(r#"drive ::= "{\"action\":\"drive\",\"distance_m\":" num "}""#), "{g}");
    }

    #[test]
    fn skill_subset_leaves_other_actions_out() {
        let g = gbnf(&[ActionKind::Drive, ActionKind::Stop], &sim()).unwrap();
        assert!(g.contains("action ::= drive | stop\n"), "{g}");
        assert!(!g.contains("servo"), "{g}");
        assert!(!g.contains("joint ::="), "{g}");
    }

    #[test]
    fn actions_the_board_cannot_do_are_left_out() {
        let mut l = sim();
        l.joints.clear();
        l.gripper = false;
        let g = gbnf(&ActionKind::ALL, &l).unwrap();
        assert!(!g.contains("servo ::="), "{g}");
        assert!(!g.contains("grip ::="), "{g}");
        assert_eq!(
            gbnf(&[ActionKind::Servo, ActionKind::Grip], &l),
            Err(GrammarError::NoActions { allowed: "servo, grip".into() })
        );
    }

    #[test]
    fn names_with_quotes_are_escaped() {
        assert_eq!(json_string_literal("a\"b"), r#""\"a\\\"b\"""#);
    }
}
