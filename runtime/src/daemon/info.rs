//! The retained `info` message, kept under the outgoing payload limit by construction
//! (issue 11, item 2): long texts are cut, and if the skills still do not fit, the last
//! ones are left out and counted (`left_out`), so `info` is always published.

use serde_json::{json, Value};

use super::skills::SkillsInfo;
use super::DaemonConfig;
use crate::engine::Engine;

/// The budget for `info`: well under the outgoing limit, which it must never reach.
pub const MAX_INFO: usize = crate::mqtt::outbox::MAX_PAYLOAD / 2;
/// The longest text kept in `info` (descriptions, skill errors).
const MAX_TEXT: usize = 300;

/// `info` for the daemon as it is now.
pub fn json(cfg: &DaemonConfig, engine: &Engine, skills: &SkillsInfo, sha256: Option<&str>) -> String {
    let i = engine.info();
    let (skills, skill_errors, prefix_cache) = skills.to_json();
    let v = json!({
        "version": env!("CARGO_PKG_VERSION"),
        "robot_id": cfg.robot_id,
        "board": cfg.board.name,
        "model": {"path": i.model, "architecture": i.architecture, "bytes": i.model_bytes, "sha256": sha256},
        "skills": skills,
        "skill_errors": skill_errors,
        "skills_dir": cfg.skills_dir,
        "prefix_cache": prefix_cache,
    });
    bounded(v, MAX_INFO)
}

/// `v` serialised in at most `limit` bytes: strings in `skills` and `skill_errors` cut to
/// [`MAX_TEXT`], then trailing entries of those lists dropped and counted.
pub fn bounded(mut v: Value, limit: usize) -> String {
    let s = v.to_string();
    if s.len() <= limit {
        return s;
    }
    for key in ["skills", "skill_errors", "prefix_cache"] {
        if let Some(x) = v.get_mut(key) {
            cut_strings(x);
        }
    }
    let mut left_out = 0usize;
    loop {
        let s = v.to_string();
        if s.len() <= limit {
            return s;
        }
        let popped = ["skill_errors", "prefix_cache", "skills"]
            .iter()
            .find_map(|k| v.get_mut(*k).and_then(Value::as_array_mut).filter(|a| !a.is_empty()).and_then(Vec::pop));
        if popped.is_none() {
            // Nothing left to drop: the fixed part alone (never in practice).
            return json!({"robot_id": v["robot_id"], "error": "info too large"}).to_string();
        }
        left_out += 1;
        v["left_out"] = Value::from(left_out);
    }
}

fn cut_strings(v: &mut Value) {
    match v {
        Value::String(s) if s.len() > MAX_TEXT => {
            let mut end = MAX_TEXT;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            s.truncate(end);
            s.push('…');
        }
        Value::Array(a) => a.iter_mut().for_each(cut_strings),
        Value::Object(o) => o.values_mut().for_each(cut_strings),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_11_info_with_many_long_skills_stays_under_the_limit() {
        let skill = |i: usize| json!({"name": format!("skill{i}"), "description": "é".repeat(5000), "adapters": []});
        let v = json!({
            "robot_id": "r1",
            "skills": (0..200).map(skill).collect::<Vec<_>>(),
            "skill_errors": (0..50).map(|i| format!("broken{i}: {}", "x".repeat(10_000))).collect::<Vec<_>>(),
        });
        assert!(v.to_string().len() > 1_000_000);
        let s = bounded(v, MAX_INFO);
        assert!(s.len() <= MAX_INFO, "{}", s.len());
        let back: Value = serde_json::from_str(&s).unwrap();
        assert!(back["skills"].as_array().unwrap().len() > 10, "as many skills as fit are kept");
        assert!(back["left_out"].as_u64().unwrap() > 0);
        assert!(back["skills"][0]["description"].as_str().unwrap().ends_with('…'));
    }

    #[test]
    fn small_info_is_left_as_it_is() {
        let v = json!({"robot_id": "r1", "skills": [{"name": "rover", "description": "drive"}]});
        assert_eq!(bounded(v.clone(), MAX_INFO), v.to_string());
    }
}
