//! What the fuzz targets (`fuzz/`, cargo-fuzz) run, here so that the committed corpora
//! replay in an ordinary test on stable Rust (`runtime/tests/fuzz_corpus.rs`). Each entry
//! point takes arbitrary bytes and panics only when an invariant breaks.
//!
//! - [`payload`]: a `cmd` payload through the parser and the dispatcher. Invariant: every id
//!   that can reach a topic (`evt/{id}`) is a valid name: the class of defect that took the
//!   MQTT link down (issue 11, item 1).
//! - [`gguf`]: bytes as a model or adapter file. Invariant: an answer, never a panic; an
//!   accepted adapter's data is checked too.
//! - [`skill_toml`]: bytes as a `skill.toml`. Invariant: an answer, never a panic; an
//!   accepted skill has a valid name and a non-empty allowed list.

use std::path::Path;

use trinity_wire::dispatch::{Dispatcher, Effect, Source};
use trinity_wire::names;

/// A `cmd` payload; the first byte picks the topic skill and the source.
pub fn payload(data: &[u8]) {
    let (head, body) = data.split_first().map_or((0, data), |(h, rest)| (*h, rest));
    let topic_skill = match head % 4 {
        0 => None,
        1 => Some("rover"),
        2 => Some("bad skill"),
        _ => std::str::from_utf8(&body[..body.len().min(8)]).ok(),
    };
    let source = if head & 0x80 != 0 { Source::Backlog } else { Source::Live };
    match trinity_wire::dispatch::parse_command(body, topic_skill) {
        Ok(c) => {
            if let Some(id) = &c.id {
                assert_eq!(names::command_id(id), Ok(()), "accepted id {id:?}");
            }
            assert!(c.plan.is_some() || !c.text.trim().is_empty());
        }
        Err(r) => {
            if let Some(id) = &r.id {
                assert_eq!(names::command_id(id), Ok(()), "refusal under id {id:?}");
            }
        }
    }
    let mut d = Dispatcher::new(2, vec!["general".into(), "rover".into()]).with_auto_prefix("auto-f");
    d.set_wall_clock(1_764_000_000_000);
    for now in 0..2 {
        for e in d.on_payload(now, body, topic_skill, source) {
            if let Effect::Publish(ev) = e {
                assert_eq!(names::command_id(&ev.id), Ok(()), "event id {:?}", ev.id);
                let json = serde_json::to_string(&ev).unwrap_or_default();
                assert!(json.len() <= trinity_wire::outbox::MAX_PAYLOAD / 4, "event of {} bytes", json.len());
            }
        }
    }
}

/// Bytes as a GGUF model, then as an adapter of a small valid base.
pub fn gguf(data: &[u8]) {
    use trinity_gguf::{check_adapter, check_adapter_data, read_bytes, GgufWriter, MetaValue};
    let p = Path::new("fuzz.gguf");
    // Built once, not per input.
    static BASE: std::sync::OnceLock<trinity_gguf::Gguf> = std::sync::OnceLock::new();
    let Ok(g) = read_bytes(data, p) else { return };
    let base = BASE.get_or_init(|| {
        let bytes = GgufWriter::new()
            .meta("general.architecture", MetaValue::Str("gemma3".into()))
            .meta("tokenizer.ggml.tokens", MetaValue::StrArray(vec!["a".into()]))
            .tensor_f32("blk.0.attn_q.weight", &[4, 6], &[0.0; 24])
            .to_bytes();
        read_bytes(&bytes, Path::new("base")).expect("the base is valid")
    });
    if check_adapter(p, &g, base).is_ok() {
        let _ = check_adapter_data(p, &g, data);
    }
}

/// Bytes as a `skill.toml` in an empty folder.
pub fn skill_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(s) = crate::skills::SkillDir::from_toml(Path::new("/nonexistent/fuzz-skill"), text) {
        assert!(crate::skills::valid_name(&s.skill.name), "{:?}", s.skill.name);
        assert!(!s.skill.allowed.is_empty());
    }
}
