//! Names that become part of a topic (docs/DESIGN.md, "Contract v1.1", its names rule).
//!
//! A command id becomes `evt/{id}`, a robot id `trinity/{robot_id}/…`, a skill name
//! `cmd/{skill}`. Brokers disconnect a client that publishes to a topic with control
//! characters, and `+`, `#` or `/` would change what a topic means: so every such name is
//! checked here, before it can reach a topic, against one small alphabet.
//!
//! - command ids: 1–64 characters of `[A-Za-z0-9._:-]`;
//! - robot ids and skill names: the same alphabet, 1–32 characters.

use sha2::{Digest, Sha256};

/// The longest command id.
pub const MAX_COMMAND_ID: usize = 64;
/// The longest robot id or skill name.
pub const MAX_NAME: usize = 32;

/// What a name may hold, for error messages.
pub const ALPHABET: &str = "[A-Za-z0-9._:-]";

/// A name that cannot become part of a topic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {shown} is not valid: use 1-{max} characters of {ALPHABET}")]
pub struct NameError {
    what: &'static str,
    /// The name, escaped and shortened, safe to print and to put in a JSON event.
    shown: String,
    max: usize,
}

fn allowed(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-')
}

fn check(what: &'static str, name: &str, max: usize) -> Result<(), NameError> {
    if !name.is_empty() && name.len() <= max && name.bytes().all(allowed) {
        return Ok(());
    }
    Err(NameError { what, shown: shown(name), max })
}

/// `name` escaped (`{:?}`) and cut to a few dozen characters: fit for a log line.
pub fn shown(name: &str) -> String {
    let cut: String = name.chars().take(40).collect();
    if cut.len() < name.len() {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}

/// Check a command id.
pub fn command_id(id: &str) -> Result<(), NameError> {
    check("command id", id, MAX_COMMAND_ID)
}

/// Check a robot id.
pub fn robot_id(id: &str) -> Result<(), NameError> {
    check("robot id", id, MAX_NAME)
}

/// Check a skill name.
pub fn skill(name: &str) -> Result<(), NameError> {
    check("skill name", name, MAX_NAME)
}

/// A valid command id standing for an invalid one, so that its refusal can still be
/// published: `invalid-` and the first 16 hex digits of the raw id's sha256. The same raw
/// id always maps to the same stand-in (a QoS 1 redelivery is recognised as a duplicate).
pub fn stand_in_id(raw: &str) -> String {
    let digest = Sha256::digest(raw.as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("invalid-{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_alphabet_is_accepted() {
        for id in ["c-42", "a", "A.b_c:d-9", &"x".repeat(MAX_COMMAND_ID)] {
            assert_eq!(command_id(id), Ok(()), "{id}");
        }
        assert_eq!(robot_id("robot1"), Ok(()));
        assert_eq!(skill("rover_2"), Ok(()));
    }

    #[test]
    fn anything_that_could_break_a_topic_is_refused() {
        let bad = [
            "",
            "a/b",
            "+",
            "#",
            "a b",
            "nul\0",
            "bell\u{7}",
            "del\u{7f}",
            "nl\n",
            "é",
            "\u{fffe}",
            "\u{ffff}",
            "\u{200b}",
            "$SYS",
        ];
        for id in bad {
            assert!(command_id(id).is_err(), "{id:?}");
            assert!(robot_id(id).is_err(), "{id:?}");
            assert!(skill(id).is_err(), "{id:?}");
        }
        assert!(command_id(&"x".repeat(MAX_COMMAND_ID + 1)).is_err());
        assert!(robot_id(&"x".repeat(MAX_NAME + 1)).is_err());
    }

    #[test]
    fn errors_show_the_name_escaped_and_short() {
        let e = command_id(&format!("\0{}", "y".repeat(100))).unwrap_err().to_string();
        assert!(e.starts_with("command id \"\\0yyy"), "{e}");
        assert!(e.contains('…') && e.len() < 150 && !e.contains('\0'), "{e}");
    }

    #[test]
    fn stand_in_ids_are_valid_and_stable() {
        let a = stand_in_id("evil\0id");
        assert_eq!(command_id(&a), Ok(()));
        assert_eq!(a, stand_in_id("evil\0id"));
        assert_ne!(a, stand_in_id("evil\0id2"));
        assert_eq!(a.len(), "invalid-".len() + 16);
    }
}
