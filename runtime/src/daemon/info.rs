//! The retained `info` message, kept under the outgoing payload limit by construction
//! (issue 11, item 2): long texts are cut, and if the skills still do not fit, the last
//! ones are left out and counted (`left_out`), so `info` is always published.

use super::skills_task::SkillsInfo;
use super::Options;
use crate::engine::Engine;
use trinity_wire::{Info, ModelInfo};

/// The budget for `info`: well under the outgoing limit, which it must never reach.
pub const MAX_INFO: usize = trinity_wire::outbox::MAX_PAYLOAD / 2;
/// The longest text kept in `info` (descriptions, skill errors).
const MAX_TEXT: usize = 300;

/// `info` for the daemon as it is now.
pub fn json(cfg: &Options, engine: &Engine, skills: &SkillsInfo, sha256: Option<&str>) -> String {
    let i = engine.info();
    let info = Info {
        version: env!("CARGO_PKG_VERSION").into(),
        robot_id: cfg.robot_id.clone(),
        board: cfg.board.name.clone(),
        model: ModelInfo {
            path: i.model.clone(),
            architecture: i.architecture.clone(),
            bytes: i.model_bytes,
            sha256: sha256.map(str::to_owned),
        },
        skills: skills.skills.clone(),
        skill_errors: skills.errors.clone(),
        skills_dir: cfg.skills_dir.clone(),
        prefix_cache: skills.prefix_cache(),
        left_out: None,
    };
    bounded(info, MAX_INFO)
}

fn to_string(info: &Info) -> String {
    serde_json::to_string(info).unwrap_or_default()
}

/// `info` serialised in at most `limit` bytes: texts in `skills` and `skill_errors` cut to
/// [`MAX_TEXT`], then trailing entries of those lists (and of `prefix_cache`) dropped and
/// counted in `left_out`.
pub fn bounded(mut info: Info, limit: usize) -> String {
    let s = to_string(&info);
    if s.len() <= limit {
        return s;
    }
    for skill in &mut info.skills {
        cut(&mut skill.description);
        cut(&mut skill.source);
    }
    for e in &mut info.skill_errors {
        cut(&mut e.error);
    }
    let mut left_out = 0usize;
    loop {
        let s = to_string(&info);
        if s.len() <= limit {
            return s;
        }
        let popped =
            info.skill_errors.pop().is_some() || info.prefix_cache.pop().is_some() || info.skills.pop().is_some();
        if !popped {
            // Nothing left to drop: the fixed part alone (never in practice).
            return serde_json::json!({"robot_id": info.robot_id, "error": "info too large"}).to_string();
        }
        left_out += 1;
        info.left_out = Some(left_out);
    }
}

fn cut(s: &mut String) {
    if s.len() > MAX_TEXT {
        *s = trinity_wire::short(s, MAX_TEXT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trinity_wire::{SkillFolderError, SkillInfo};

    #[test]
    fn issue_11_info_with_many_long_skills_stays_under_the_limit() {
        let skill =
            |i: usize| SkillInfo { name: format!("skill{i}"), description: "é".repeat(5000), ..Default::default() };
        let info = Info {
            robot_id: "r1".into(),
            skills: (0..200).map(skill).collect(),
            skill_errors: (0..50)
                .map(|i| SkillFolderError { folder: format!("broken{i}").into(), error: "x".repeat(10_000) })
                .collect(),
            ..Default::default()
        };
        assert!(to_string(&info).len() > 1_000_000);
        let s = bounded(info, MAX_INFO);
        assert!(s.len() <= MAX_INFO, "{}", s.len());
        let back: Info = serde_json::from_str(&s).unwrap();
        assert!(back.skills.len() > 10, "as many skills as fit are kept");
        assert!(back.left_out.unwrap() > 0);
        assert!(back.skills[0].description.ends_with('…'));
    }

    #[test]
    fn small_info_is_left_as_it_is() {
        let info = Info {
            robot_id: "r1".into(),
            skills: vec![SkillInfo { name: "rover".into(), description: "drive".into(), ..Default::default() }],
            ..Default::default()
        };
        let s = bounded(info.clone(), MAX_INFO);
        assert_eq!(serde_json::from_str::<Info>(&s).unwrap(), info);
        assert!(!s.contains("left_out"), "{s}");
    }
}
