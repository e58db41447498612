//! Shared fixtures: the model, one planner for the whole test binary, skill lookup.

use std::path::PathBuf;
use std::sync::OnceLock;

use trinity_runtime::engine::{Engine, EngineConfig};
use trinity_runtime::model_store;
use trinity_runtime::planner::Planner;
use trinity_runtime::prompt::{self, Skill};
use trinity_runtime::skills;

/// The default model, fetched (verified) into the cache if it is not there yet.
pub fn model_path() -> PathBuf {
    model_store::fetch_default(|line| eprintln!("fetch: {line}"))
        .expect("the default model is needed: run `cargo xtask setup`")
}

/// One planner on the sim board for every test of this binary.
pub fn planner() -> &'static Planner {
    static PLANNER: OnceLock<Planner> = OnceLock::new();
    PLANNER.get_or_init(|| {
        let engine = Engine::start(EngineConfig::new(model_path())).expect("engine starts");
        Planner::new(engine, trinity_boards::sim())
    })
}

/// A built-in skill.
pub fn skill(name: &str) -> Skill {
    prompt::builtin(name).expect("built-in skill")
}

/// A plan as compact JSON.
pub fn json(plan: &trinity_firmware::Plan) -> String {
    serde_json::to_string(plan).unwrap()
}

/// A shipped skill folder (`skills/{name}`), its adapters loaded on the shared engine once.
pub fn folder_skill(name: &str) -> Skill {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static LOADED: OnceLock<Mutex<HashMap<String, Skill>>> = OnceLock::new();
    let mut loaded = LOADED.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    loaded
        .entry(name.to_owned())
        .or_insert_with(|| {
            let dir = skills_root().join(name);
            let sd = skills::SkillDir::load(&dir).unwrap_or_else(|e| panic!("{e}"));
            skills::activate(planner().engine(), sd).unwrap_or_else(|e| panic!("{e}")).skill
        })
        .clone()
}

/// The repository's `skills/` folder.
pub fn skills_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("skills")
}
