//! The `cmd` payload (docs/DESIGN.md, "MQTT contract" and "Contract v1.1"):
//! `{"id":"c-42","text":"go forward two meters","skill":"rover","deadline_ms":5000,"not_after":1764240000000}`,
//! with every field but `text` optional. Instead of `text`, a command may carry `plan`, an
//! action array of the vocabulary (programmatic clients; confirming a refused candidate): it
//! skips the model and passes the same skill and limit checks. A payload that is not JSON is the command text
//! itself (so `mosquitto_pub -m "turn left"` works); so is a bare JSON string.
//!
//! The id and the skill become parts of topics: both are checked against
//! [`crate::names`]. A refusal of an invalid id is reported under a stand-in id
//! ([`names::stand_in_id`]), never under the id itself.

use serde_json::Value;

use trinity_firmware::Plan;

use crate::names;
use crate::MAX_COMMAND_BYTES;

/// The largest payload read at all (docs/DESIGN.md, "Contract v1.1"); anything bigger is refused unparsed.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;

/// A parsed command.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// The sender's id, if it gave one.
    pub id: Option<String>,
    /// What to do (empty when `plan` is given).
    pub text: String,
    /// A typed plan instead of text: no model.
    pub plan: Option<Plan>,
    /// Skill: from the `cmd/{skill}` topic, else the payload, else the default.
    pub skill: Option<String>,
    /// Start within this many ms of receipt, or be rejected.
    pub deadline_ms: Option<u64>,
    /// Unix time (ms) after which the command must not start: its freshness, so that a
    /// command queued at the broker while the robot was away is not run much later.
    pub not_after: Option<u64>,
}

/// Why a payload is not a command. `id` is set when the payload carried a readable one, so
/// the refusal can be reported on `evt/{id}`; otherwise it can only be logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Refusal {
    /// The command id, if readable.
    pub id: Option<String>,
    /// What was wrong, for the event and the log.
    pub reason: String,
}

/// The longest refusal reason: a reason may quote the payload (serde's errors do), and the
/// event that carries it must stay far under the outgoing payload limit.
const MAX_REASON: usize = 300;

fn refuse(id: Option<&str>, reason: impl Into<String>) -> Refusal {
    Refusal { id: id.map(str::to_owned), reason: crate::messages::short(&reason.into(), MAX_REASON) }
}

/// Parse a `cmd` payload. `topic_skill` is the `{skill}` of a `cmd/{skill}` topic.
pub fn parse_command(payload: &[u8], topic_skill: Option<&str>) -> Result<Command, Refusal> {
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(refuse(
            None,
            format!("payload of {} bytes exceeds the limit of {MAX_PAYLOAD_BYTES}", payload.len()),
        ));
    }
    let text = std::str::from_utf8(payload).map_err(|_| refuse(None, "payload is not UTF-8"))?;
    let command = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => from_object(&map)?,
        Ok(Value::String(s)) => Command::text(s),
        Ok(other) => {
            let kind = match other {
                Value::Array(_) => "an array",
                Value::Number(_) => "a number",
                Value::Bool(_) => "a boolean",
                _ => "null",
            };
            return Err(refuse(None, format!("payload is {kind}; expected a command object or plain text")));
        }
        // Broken JSON is refused, not planned as words.
        Err(e) if text.trim_start().starts_with(['{', '[', '"']) => {
            return Err(refuse(None, format!("payload is malformed JSON: {e}")))
        }
        // Not JSON: the payload is the command text.
        Err(_) => Command::text(text.to_owned()),
    };
    let id = command.id.as_deref();
    if let Some(s) = topic_skill {
        names::skill(s).map_err(|e| refuse(id, format!("topic cmd/{{skill}}: {e}")))?;
    }
    if let Some(s) = &command.skill {
        names::skill(s).map_err(|e| refuse(id, format!("`skill`: {e}")))?;
    }
    let trimmed = command.text.trim();
    if trimmed.is_empty() && command.plan.is_none() {
        return Err(refuse(id, "the command text is empty"));
    }
    if trimmed.len() > MAX_COMMAND_BYTES {
        return Err(refuse(
            id,
            format!("the command text is {} bytes; the limit is {MAX_COMMAND_BYTES}", trimmed.len()),
        ));
    }
    let skill = topic_skill.map(str::to_owned).or(command.skill.clone());
    Ok(Command { text: trimmed.to_owned(), skill, ..command })
}

fn from_object(map: &serde_json::Map<String, Value>) -> Result<Command, Refusal> {
    // The id first, so that every later refusal can carry it.
    // An id that cannot be a topic is refused under its stand-in.
    let id = match map.get("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => match names::command_id(s) {
            Ok(()) => Some(s.as_str()),
            Err(e) => return Err(Refusal { id: Some(names::stand_in_id(s)), reason: e.to_string() }),
        },
        Some(other) => {
            return Err(Refusal {
                id: Some(names::stand_in_id(&other.to_string())),
                reason: "`id` must be a string".into(),
            })
        }
    };
    let string = |field: &str| match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(refuse(id, format!("`{field}` must be a string"))),
    };
    let plan = match map.get("plan") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            serde_json::from_value::<Plan>(v.clone())
                .map_err(|e| refuse(id, format!("`plan` is not a plan of the action vocabulary: {e}")))?,
        ),
    };
    let text = match (string("text")?, &plan) {
        (Some(_), Some(_)) => return Err(refuse(id, "give `text` or `plan`, not both")),
        (None, None) => return Err(refuse(id, "missing `text`")),
        (Some(t), None) => t,
        (None, Some(_)) => String::new(),
    };
    let skill = string("skill")?;
    let integer = |field: &str| match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| refuse(id, format!("`{field}` must be a non-negative integer"))),
    };
    let deadline_ms = integer("deadline_ms")?;
    let not_after = integer("not_after")?;
    if let Some(k) = map.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(refuse(id, format!("unknown field `{k}`")));
    }
    Ok(Command { id: id.map(str::to_owned), text, plan, skill, deadline_ms, not_after })
}

/// The fields a command object may have.
const FIELDS: [&str; 6] = ["id", "text", "plan", "skill", "deadline_ms", "not_after"];

impl Command {
    /// A command that is only its text.
    pub fn text(text: String) -> Command {
        Command { id: None, text, plan: None, skill: None, deadline_ms: None, not_after: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_json_command_parses() {
        let c =
            parse_command(br#"{"id":"c-42","text":"go forward two meters","skill":"rover","deadline_ms":5000}"#, None)
                .unwrap();
        assert_eq!(
            c,
            Command {
                id: Some("c-42".into()),
                text: "go forward two meters".into(),
                skill: Some("rover".into()),
                deadline_ms: Some(5000),
                not_after: None,
                plan: None,
            }
        );
    }

    #[test]
    fn plain_text_and_json_strings_are_the_command_text() {
        assert_eq!(parse_command(b"  turn left \n", None).unwrap().text, "turn left");
        assert_eq!(parse_command(br#""turn left""#, None).unwrap().text, "turn left");
        assert_eq!(parse_command(b"turn left", None).unwrap().id, None);
    }

    #[test]
    fn topic_skill_wins_over_the_payload() {
        let c = parse_command(br#"{"text":"stop","skill":"arm"}"#, Some("rover")).unwrap();
        assert_eq!(c.skill.as_deref(), Some("rover"));
    }

    #[test]
    fn wrong_types_are_refused_with_the_id_when_readable() {
        let e = parse_command(br#"{"id":"c-1","text":42}"#, None).unwrap_err();
        assert_eq!(e, Refusal { id: Some("c-1".into()), reason: "`text` must be a string".into() });
        let e = parse_command(br#"{"id":"c-2","text":"go","deadline_ms":-5}"#, None).unwrap_err();
        assert_eq!(e.id.as_deref(), Some("c-2"));
        let e = parse_command(br#"{"id":7,"text":"go"}"#, None).unwrap_err();
        assert_eq!(e.id.as_deref(), Some(names::stand_in_id("7").as_str()));
        let e = parse_command(br#"{"id":"c-3","text":"go","speed":9}"#, None).unwrap_err();
        assert!(e.reason.contains("unknown field `speed`"), "{e}");
    }

    #[test]
    fn ids_that_would_break_the_event_topic_are_refused_under_a_stand_in() {
        // Issue 11, item 1: a control character in an id took the MQTT link down for good.
        for id in ["a/b", "+", "#", "", r"nul\u0000", r"bell\u0007", r"\uffff", r"tab\t", "é"] {
            let p = format!(r#"{{"id":"{id}","text":"go"}}"#);
            let e = parse_command(p.as_bytes(), None).unwrap_err();
            let stand_in = e.id.expect("refused under a stand-in id");
            assert!(stand_in.starts_with("invalid-"), "{stand_in}");
            assert_eq!(names::command_id(&stand_in), Ok(()));
            assert!(e.reason.contains("[A-Za-z0-9._:-]"), "{}", e.reason);
        }
        let long = format!(r#"{{"id":"{}","text":"go"}}"#, "x".repeat(65));
        assert!(parse_command(long.as_bytes(), None).is_err());
    }

    #[test]
    fn skill_names_that_could_not_be_topics_are_refused_with_the_id() {
        let e = parse_command(br#"{"id":"c-1","text":"go","skill":"a+b"}"#, None).unwrap_err();
        assert_eq!(e.id.as_deref(), Some("c-1"));
        let e = parse_command(br#"{"id":"c-2","text":"go"}"#, Some("bad\u{1}")).unwrap_err();
        assert!(e.reason.contains("skill name"), "{}", e.reason);
        let e = parse_command("{\"id\":\"c-3\",\"text\":\"go\"}".as_bytes(), Some("x\0")).unwrap_err();
        assert_eq!(e.id.as_deref(), Some("c-3"));
    }

    #[test]
    fn broken_json_is_refused_not_planned_as_text() {
        for p in [r#"{"id":"x"#, r#"{"id":"x","text":"go"#, "[1,", r#""unterminated"#] {
            let e = parse_command(p.as_bytes(), None).unwrap_err();
            assert!(e.reason.contains("malformed JSON"), "{p}: {e}");
        }
        assert_eq!(parse_command(b"go {fast}", None).unwrap().text, "go {fast}");
    }

    #[test]
    fn a_typed_plan_stands_in_for_text() {
        let c = parse_command(br#"{"id":"p-1","plan":[{"action":"drive","distance_m":0.5},{"action":"stop"}]}"#, None)
            .unwrap();
        assert_eq!(c.plan.as_ref().map(Plan::len), Some(2));
        assert_eq!(c.text, "");
        let e = parse_command(br#"{"id":"p-2","plan":[{"action":"fly","height_m":3}]}"#, None).unwrap_err();
        assert!(e.reason.contains("action vocabulary"), "{e}");
        assert_eq!(e.id.as_deref(), Some("p-2"));
        let e = parse_command(br#"{"id":"p-3","text":"stop","plan":[{"action":"stop"}]}"#, None).unwrap_err();
        assert!(e.reason.contains("not both"), "{e}");
        let nine = format!(r#"{{"id":"p-4","plan":[{}]}}"#, [r#"{"action":"stop"}"#; 9].join(","));
        assert!(parse_command(nine.as_bytes(), None).is_err(), "at most 8 actions");
    }

    #[test]
    fn not_after_is_read_as_unix_milliseconds() {
        let c = parse_command(br#"{"id":"c-1","text":"go","not_after":1764240000000}"#, None).unwrap();
        assert_eq!(c.not_after, Some(1_764_240_000_000));
        assert!(parse_command(br#"{"id":"c-1","text":"go","not_after":"soon"}"#, None).is_err());
    }

    #[test]
    fn oversize_non_utf8_and_empty_payloads_are_refused() {
        let big = vec![b'a'; MAX_PAYLOAD_BYTES + 1];
        assert!(parse_command(&big, None).unwrap_err().reason.contains("exceeds the limit"));
        assert_eq!(parse_command(&[0xff, 0xfe, 0x00], None).unwrap_err().reason, "payload is not UTF-8");
        let e = parse_command(br#"{"id":"c-9","text":"   "}"#, None).unwrap_err();
        assert_eq!((e.id.as_deref(), e.reason.as_str()), (Some("c-9"), "the command text is empty"));
        assert!(parse_command(b"[1,2]", None).unwrap_err().reason.contains("an array"));
        let long = format!(r#"{{"id":"c-10","text":"{}"}}"#, "a".repeat(2000));
        assert!(parse_command(long.as_bytes(), None).unwrap_err().reason.contains("limit is 1024"));
    }
}
