//! Measurements behind BENCHMARKS.md, run by `trinity bench` (and `cargo xtask bench`,
//! which runs llama.cpp's own `llama-bench` beside it on the same model and threads).
//!
//! Every figure goes through the engine exactly as a command does: the same thread, the
//! same context settings, the same decode loop.

use std::time::Duration;

use serde::Serialize;

use crate::engine::{AdapterId, Engine, Job};
use crate::planner::{self, Planner};
use crate::prompt::Skill;

/// Median of durations.
fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn per_s(tokens: usize, d: Duration) -> f64 {
    if d.is_zero() {
        0.0
    } else {
        tokens as f64 / d.as_secs_f64()
    }
}

/// Prompt and generation throughput.
#[derive(Debug, Serialize)]
pub struct Throughput {
    /// Prompt tokens per repetition.
    pub prompt_tokens: usize,
    /// Median prompt tokens/s.
    pub prompt_tok_s: f64,
    /// Tokens generated per repetition.
    pub gen_tokens: usize,
    /// Median generation tokens/s (per single-token decode, with sampling).
    pub gen_tok_s: f64,
    /// Repetitions.
    pub reps: usize,
}

/// Evaluate a fresh prompt of about `prompt_words` words, then generate `gen_tokens`
/// greedily without a grammar; `reps` times, medians reported.
pub fn throughput(engine: &Engine, prompt_words: usize, gen_tokens: usize, reps: usize) -> anyhow::Result<Throughput> {
    throughput_with(engine, &[], prompt_words, gen_tokens, reps)
}

/// [`throughput`] under a set of LoRA adapters.
pub fn throughput_with(
    engine: &Engine,
    adapters: &[(AdapterId, f32)],
    prompt_words: usize,
    gen_tokens: usize,
    reps: usize,
) -> anyhow::Result<Throughput> {
    let words = ["robot", "arm", "moves", "the", "red", "block", "to", "table", "and", "then", "waits"];
    let body: Vec<&str> = (0..prompt_words).map(|i| words[i % words.len()]).collect();
    let (mut pp, mut tg) = (Vec::new(), Vec::new());
    let (mut n_prompt, mut n_gen) = (0, usize::MAX);
    for rep in 0..=reps {
        // A new prefix each time: evaluated from position 0, like llama-bench's pp test.
        let job = Job {
            prefix: format!("{rep}. {}", body.join(" ")),
            text: String::new(),
            grammar: None,
            max_tokens: gen_tokens,
            stop_at: None,
            adapters: adapters.to_vec(),
            label: "bench".into(),
            parts: Vec::new(),
        };
        let g = engine.submit(job).wait()?;
        if rep == 0 {
            continue; // warm-up
        }
        n_prompt = g.prefix_tokens;
        n_gen = n_gen.min(g.generated_tokens);
        pp.push(g.prefix_time.div_f64(g.prefix_tokens.max(1) as f64));
        // Per decode, as llama-bench's tg counts: the last token is sampled, not decoded.
        tg.push(g.generation_time.div_f64(g.decodes.max(1) as f64));
    }
    Ok(Throughput {
        prompt_tokens: n_prompt,
        prompt_tok_s: per_s(1, median(pp)),
        gen_tokens: n_gen,
        gen_tok_s: per_s(1, median(tg)),
        reps,
    })
}

/// Grammar-constrained vs unconstrained generation on the same prompt and token count.
#[derive(Debug, Serialize)]
pub struct GrammarCost {
    /// The command used.
    pub command: String,
    /// Tokens generated in each run.
    pub tokens: usize,
    /// Median constrained tokens/s.
    pub constrained_tok_s: f64,
    /// Median unconstrained tokens/s.
    pub unconstrained_tok_s: f64,
    /// constrained / unconstrained.
    pub ratio: f64,
    /// Full-vocabulary grammar passes per constrained run.
    pub fallbacks: usize,
}

/// Generate the plan for `command` with and without the grammar (same number of tokens).
pub fn grammar_cost(planner: &Planner, skill: &Skill, command: &str, reps: usize) -> anyhow::Result<GrammarCost> {
    let job = planner::prepare(skill, planner.board(), command)?;
    let engine = planner.engine();
    let (mut on, mut off) = (Vec::new(), Vec::new());
    let (mut tokens, mut fallbacks) = (0, 0);
    for rep in 0..=reps {
        let g = engine.submit(job.clone()).wait()?;
        tokens = g.generated_tokens;
        fallbacks = g.grammar_fallbacks;
        let free = Job { grammar: None, stop_at: None, max_tokens: tokens, ..job.clone() };
        let u = engine.submit(free).wait()?;
        if rep > 0 {
            // Per plan token (time over tokens generated): with jump-forward a constrained
            // decode carries several tokens, so a per-decode rate would understate it.
            on.push(g.generation_time.div_f64(g.generated_tokens.max(1) as f64));
            off.push(u.generation_time.div_f64(u.generated_tokens.max(1) as f64));
        }
    }
    let (c, u) = (per_s(1, median(on)), per_s(1, median(off)));
    Ok(GrammarCost {
        command: command.into(),
        tokens,
        constrained_tok_s: c,
        unconstrained_tok_s: u,
        ratio: if u > 0.0 { c / u } else { 0.0 },
        fallbacks,
    })
}

/// Time from command to checked plan with the skill's prefix already cached.
#[derive(Debug, Serialize)]
pub struct TimeToPlan {
    /// The command used.
    pub command: String,
    /// Prefix tokens reused from the cache.
    pub prefix_cached_tokens: usize,
    /// Command tokens evaluated.
    pub prompt_tokens: usize,
    /// Plan tokens generated.
    pub generated_tokens: usize,
    /// Median command-evaluation time, ms.
    pub prompt_ms: f64,
    /// Median time to checked plan, ms.
    pub time_to_plan_ms: f64,
    /// Prefix evaluation when it was not cached (first command), ms.
    pub cold_prefix_ms: f64,
    /// The plan.
    pub plan: String,
}

/// Plan `command` `reps` times after a first, cold run that fills the prefix cache.
pub fn time_to_plan(planner: &Planner, skill: &Skill, command: &str, reps: usize) -> anyhow::Result<TimeToPlan> {
    let cold = planner.plan_blocking(skill, command)?;
    let (mut ttp, mut pr) = (Vec::new(), Vec::new());
    let mut last = cold.clone();
    for _ in 0..reps {
        let o = planner.plan_blocking(skill, command)?;
        ttp.push(o.time_to_plan);
        pr.push(o.generation.prompt_time);
        last = o;
    }
    Ok(TimeToPlan {
        command: command.into(),
        prefix_cached_tokens: last.generation.prefix_cached_tokens,
        prompt_tokens: last.generation.prompt_tokens,
        generated_tokens: last.generation.generated_tokens,
        prompt_ms: median(pr).as_secs_f64() * 1e3,
        time_to_plan_ms: median(ttp).as_secs_f64() * 1e3,
        cold_prefix_ms: cold.generation.prefix_time.as_secs_f64() * 1e3,
        plan: serde_json::to_string(&last.plan)?,
    })
}

/// What skills cost: adapters on generation, switching skills, loading an adapter.
#[derive(Debug, Serialize)]
pub struct SkillCosts {
    /// Unconstrained throughput on the base model.
    pub base: Throughput,
    /// The same with the first skill's adapters applied.
    pub with_adapter: Throughput,
    /// with_adapter.gen_tok_s / base.gen_tok_s.
    pub gen_ratio: f64,
    /// Median time to plan the first skill's commands, one skill only, ms.
    pub stay_time_to_plan_ms: f64,
    /// Median time to plan the same commands alternating with the second skill's, ms.
    pub alternate_time_to_plan_ms: f64,
    /// alternate / stay.
    pub alternate_ratio: f64,
    /// Median adapter read + check + load time, ms.
    pub adapter_load_ms: f64,
    /// Adapter file size, bytes.
    pub adapter_bytes: u64,
}

/// Measure [`SkillCosts`] with two skills whose adapters are loaded; `commands` are planned
/// with `a`, and alternated with `other` (one command each). A plan that the board refuses
/// still counts: its time is the time the model took.
pub fn skill_costs(
    planner: &Planner,
    a: &Skill,
    b: &Skill,
    commands: &[(&str, &str)],
    adapter: &std::path::Path,
    reps: usize,
) -> anyhow::Result<SkillCosts> {
    let engine = planner.engine();
    let base = throughput(engine, 100, 64, reps)?;
    let with_adapter = throughput_with(engine, &a.adapters, 100, 64, reps)?;
    let timed = |s: &Skill, c: &str| {
        let t0 = std::time::Instant::now();
        let _ = planner.plan_blocking(s, c);
        t0.elapsed()
    };
    // Both prefixes cached first, so that neither series pays a cold prefix.
    for (c, other) in commands {
        timed(a, c);
        timed(b, other);
    }
    let (mut stay, mut alt) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        for (c, _) in commands {
            stay.push(timed(a, c));
        }
        for (c, other) in commands {
            alt.push(timed(a, c));
            timed(b, other);
        }
    }
    let mut loads = Vec::new();
    let mut bytes = 0;
    for _ in 0..reps {
        let info = engine.load_adapter(adapter)?;
        loads.push(info.load_time);
        bytes = info.file_bytes;
        engine.unload_adapter(info.id);
    }
    let (stay, alt) = (median(stay).as_secs_f64() * 1e3, median(alt).as_secs_f64() * 1e3);
    Ok(SkillCosts {
        gen_ratio: with_adapter.gen_tok_s / base.gen_tok_s.max(1e-9),
        base,
        with_adapter,
        stay_time_to_plan_ms: stay,
        alternate_time_to_plan_ms: alt,
        alternate_ratio: alt / stay.max(1e-9),
        adapter_load_ms: median(loads).as_secs_f64() * 1e3,
        adapter_bytes: bytes,
    })
}

/// Jump-forward on a set of commands: the same commands planned by two planners on the same
/// model and skill, one evaluating grammar-forced tokens together with the token before
/// them, one sampling every token, alternately (each command on one, then the other).
#[derive(Debug, Serialize)]
pub struct JumpForward {
    /// Commands planned (each once per side, after one warm-up command).
    pub commands: usize,
    /// Plan tokens generated, in all.
    pub tokens: usize,
    /// Of those, forced by the grammar and evaluated with jump-forward.
    pub forced_tokens: usize,
    /// Of those, guessed from the command and checked in the decode before (drafting).
    pub drafted_tokens: usize,
    /// `forced_tokens / tokens`.
    pub forced_share: f64,
    /// Decodes during generation with jump-forward, in all.
    pub decodes_on: usize,
    /// The same sampling every token.
    pub decodes_off: usize,
    /// Median and 90th percentile time from submission to checked plan, ms.
    pub on_ms: (f64, f64),
    /// The same sampling every token.
    pub off_ms: (f64, f64),
    /// Median of the per-command ratios on/off.
    pub median_ratio: f64,
    /// Commands whose output text differed between the two sides.
    pub different_plans: usize,
    /// Those commands, with both outputs (jump-forward's first).
    pub differences: Vec<(String, String, String)>,
}

fn percentile(mut v: Vec<std::time::Duration>, q: f64) -> f64 {
    v.sort();
    v.get(((v.len() as f64 - 1.0) * q).round() as usize).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// Measure [`JumpForward`]: `on` and `off` are planners on the same model and board, with
/// jump-forward on and off, each with `skill` (and its adapters) loaded.
pub fn jump_forward(
    on: (&Planner, &Skill),
    off: (&Planner, &Skill),
    commands: &[String],
) -> anyhow::Result<JumpForward> {
    // Cache both prefixes first.
    if let Some(c) = commands.first() {
        let _ = on.0.plan_blocking(on.1, c);
        let _ = off.0.plan_blocking(off.1, c);
    }
    let run =
        |(p, s): (&Planner, &Skill), c: &str| -> anyhow::Result<(std::time::Duration, crate::engine::Generation)> {
            let t0 = std::time::Instant::now();
            let g = p.submit(s, c)?.wait()?;
            let _ = crate::planner::finish(s, p.board(), &g);
            Ok((t0.elapsed(), g))
        };
    let (mut t_on, mut t_off, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let (mut tokens, mut forced, mut drafted, mut d_on, mut d_off) = (0, 0, 0, 0, 0);
    let mut differences = Vec::new();
    for (i, c) in commands.iter().enumerate() {
        // Alternate which side goes first, so that neither always follows the other.
        let (a, b) = if i % 2 == 0 {
            (run(on, c)?, run(off, c)?)
        } else {
            let b = run(off, c)?;
            (run(on, c)?, b)
        };
        tokens += a.1.generated_tokens;
        forced += a.1.forced_tokens;
        drafted += a.1.drafted_tokens;
        d_on += a.1.decodes;
        d_off += b.1.decodes;
        if a.1.text != b.1.text {
            differences.push((c.clone(), a.1.text.clone(), b.1.text.clone()));
        }
        ratios.push(a.0.as_secs_f64() / b.0.as_secs_f64().max(1e-9));
        t_on.push(a.0);
        t_off.push(b.0);
    }
    ratios.sort_by(f64::total_cmp);
    Ok(JumpForward {
        commands: commands.len(),
        tokens,
        forced_tokens: forced,
        drafted_tokens: drafted,
        forced_share: forced as f64 / tokens.max(1) as f64,
        decodes_on: d_on,
        decodes_off: d_off,
        on_ms: (percentile(t_on.clone(), 0.5), percentile(t_on, 0.9)),
        off_ms: (percentile(t_off.clone(), 0.5), percentile(t_off, 0.9)),
        median_ratio: ratios.get(ratios.len() / 2).copied().unwrap_or(0.0),
        different_plans: differences.len(),
        differences,
    })
}
