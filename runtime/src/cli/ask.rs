//! `trinity ask`.

use anyhow::bail;

use super::settings::{find_skill, start_planner, ModelArgs, Settings};
use crate::planner::PlanOutcome;

/// `trinity ask`: one command planned (and with `--execute` run on the sim board).
pub(super) fn ask(
    name: String,
    model: ModelArgs,
    verbose: bool,
    execute: bool,
    json: bool,
    text: Vec<String>,
) -> anyhow::Result<()> {
    let command = text.join(" ");
    let settings = Settings::resolve(&model)?;
    let found = find_skill(settings.skills_dir.as_deref(), &name)?;
    if execute && !settings.board.is_simulated() {
        bail!("--execute runs plans on the sim board only; real hardware is driven by the daemon");
    }
    // Refuse a bad command before spending seconds on loading the model.
    crate::planner::prepare(found.skill(), &settings.board, &command)?;
    let planner = start_planner(Settings { prefix_cache: true, ..settings })?;
    let skill = found.ready(&planner)?;
    let out = planner.plan_blocking(&skill, &command)?;
    println!("{}", serde_json::to_string(&out.plan)?);
    if execute {
        let run = crate::sim_run::run(planner.board(), &out.plan)?;
        // The run in words for a person at a terminal, a JSON line for scripts.
        if !json && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            print!("{}{}", crate::sim_run::describe_plan(&out.plan), crate::sim_run::describe_run(&run));
        } else {
            println!("{}", serde_json::to_string(&run)?);
        }
    }
    if verbose {
        print_timings(&out);
    }
    Ok(())
}

/// Where the time went (`ask --verbose`), on stderr.
fn print_timings(out: &PlanOutcome) {
    let g = &out.generation;
    let rate = |n: usize, d: std::time::Duration| n as f64 / d.as_secs_f64().max(1e-9);
    if g.prefix_from_disk {
        eprintln!(
            "prefix: {} tokens loaded from the disk cache in {:.0} ms",
            g.prefix_cached_tokens,
            g.prefix_time.as_secs_f64() * 1e3
        );
    } else {
        eprintln!(
            "prefix: {} tokens evaluated in {:.0} ms, {} reused from cache",
            g.prefix_tokens,
            g.prefix_time.as_secs_f64() * 1e3,
            g.prefix_cached_tokens
        );
    }
    eprintln!(
        "prompt: {} tokens in {:.1} ms ({:.1} tok/s)",
        g.prompt_tokens,
        g.prompt_time.as_secs_f64() * 1e3,
        rate(g.prompt_tokens, g.prompt_time)
    );
    eprintln!(
        "generation: {} tokens ({} forced by the grammar, {} guessed from the command) in {} decodes, {:.1} ms ({:.1} tok/s, {} grammar fallbacks)",
        g.generated_tokens,
        g.forced_tokens,
        g.drafted_tokens,
        g.decodes,
        g.generation_time.as_secs_f64() * 1e3,
        rate(g.generated_tokens, g.generation_time),
        g.grammar_fallbacks
    );
    eprintln!("time to plan: {:.1} ms", out.time_to_plan.as_secs_f64() * 1e3);
}
