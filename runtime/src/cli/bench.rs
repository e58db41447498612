//! `trinity bench`, `bench-jump-forward`, `bench-skills`, `bench-daemon`: the measurements
//! behind BENCHMARKS.md.

use std::path::PathBuf;

use anyhow::Context as _;

use super::daemon::daemon_options;
use super::settings::{builtin_skill, start_planner, ModelArgs, Settings};
use crate::engine::Engine;
use crate::planner::Planner;
use crate::skills::{self, SkillDir};
use crate::{bench, prompt};

/// `trinity bench`: throughput, then time to plan and the grammar's cost.
pub(super) fn bench(
    model: ModelArgs,
    prompt_words: usize,
    gen_tokens: usize,
    reps: usize,
    throughput_only: bool,
) -> anyhow::Result<()> {
    let planner = start_planner(Settings::resolve(&model)?)?;
    let info = planner.engine().info().clone();
    println!(
        "{}",
        serde_json::json!({"bench": "setup", "model": info.model, "threads": info.threads, "n_ctx": info.n_ctx})
    );
    let t = bench::throughput(planner.engine(), prompt_words, gen_tokens, reps)?;
    println!("{}", serde_json::json!({"bench": "throughput", "result": t}));
    if throughput_only {
        return Ok(());
    }
    let general = builtin_skill(prompt::DEFAULT_SKILL)?;
    // Time-to-plan first: its first run evaluates the skill's prefix cold.
    let ttp = bench::time_to_plan(&planner, &general, "turn left ninety degrees", reps)?;
    println!("{}", serde_json::json!({"bench": "time_to_plan", "result": ttp}));
    let cmd = "drive forward two meters and then turn right ninety degrees";
    let g = bench::grammar_cost(&planner, &general, cmd, reps)?;
    println!("{}", serde_json::json!({"bench": "grammar", "result": g}));
    Ok(())
}

/// `trinity bench-jump-forward`.
pub(super) fn bench_jump_forward(dir: PathBuf, file: PathBuf, model: ModelArgs) -> anyhow::Result<()> {
    let settings = Settings::resolve(&model)?;
    let mut config = settings.engine_config()?;
    let board = settings.board.clone();
    let on = Planner::new(Engine::start(config.clone())?, board.clone());
    // Off: every plan token sampled, one decode each (no jump-forward, no drafting).
    config.jump_forward = false;
    config.draft = false;
    let off = Planner::new(Engine::start(config)?, board);
    let s_on = skills::activate(on.engine(), SkillDir::load(&dir)?)?.skill;
    let s_off = skills::activate(off.engine(), SkillDir::load(&dir)?)?.skill;
    let commands: Vec<String> = skills::read_examples(&dir.join(&file))?.into_iter().map(|e| e.command).collect();
    let r = bench::jump_forward((&on, &s_on), (&off, &s_off), &commands)?;
    println!("{}", serde_json::json!({"bench": "jump_forward", "skill": s_on.name, "file": file, "result": r}));
    Ok(())
}

/// `trinity bench-skills`.
pub(super) fn bench_skills(a: PathBuf, b: PathBuf, model: ModelArgs, reps: usize) -> anyhow::Result<()> {
    let (da, db) = (SkillDir::load(&a)?, SkillDir::load(&b)?);
    let adapter = da.adapters.first().map(|(p, _)| p.clone()).context("the first skill has no adapter")?;
    let planner = start_planner(Settings::resolve(&model)?)?;
    let (sa, sb) = (skills::activate(planner.engine(), da)?.skill, skills::activate(planner.engine(), db)?.skill);
    let a_cmds = skills::read_examples(&a.join("examples.jsonl"))?;
    let b_cmds = skills::read_examples(&b.join("examples.jsonl"))?;
    let pairs: Vec<(&str, &str)> =
        a_cmds.iter().zip(&b_cmds).take(6).map(|(x, y)| (x.command.as_str(), y.command.as_str())).collect();
    let r = bench::skill_costs(&planner, &sa, &sb, &pairs, &adapter, reps)?;
    println!("{}", serde_json::json!({"bench": "skills", "a": sa.name, "b": sb.name, "result": r}));
    Ok(())
}

/// `trinity bench-daemon`: on a broker of its own unless `host` names one.
pub(super) fn bench_daemon(model: ModelArgs, host: Option<String>, port: u16, trials: usize) -> anyhow::Result<()> {
    let mut cfg = daemon_options(Settings::resolve(&model)?, Some("bench".into()))?;
    // The benchmark's e-stops must not latch a real robot's state.
    cfg.state_dir = std::env::temp_dir().join(format!("trinity-bench-{}", std::process::id()));
    match host {
        Some(h) => {
            cfg.link.host = h;
            cfg.link.port = port;
            cfg.embedded_broker = None;
        }
        None => {
            let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
            cfg.link.host = "127.0.0.1".into();
            cfg.link.port = port;
            cfg.embedded_broker = Some(([127, 0, 0, 1], port).into());
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    println!("{}", rt.block_on(crate::bench_daemon::run(cfg, trials))?);
    Ok(())
}
