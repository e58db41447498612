//! Skills: LoRA adapters on the real base model, checked before llama.cpp sees them,
//! switched per command with a prefix cache per skill, and better than the base model.

use std::path::Path;

use trinity_gguf::{GgufWriter, MetaValue};
use trinity_llama::LlamaError;
use trinity_runtime::engine::{EngineError, Job};
use trinity_runtime::prompt::Skill;
use trinity_runtime::skills::{eval, read_examples};

use crate::common::{folder_skill, json, planner, skills_root};

/// The rover skill's prompt for `command`, unconstrained, 16 tokens, under `adapters`.
fn raw_job(adapters: Vec<(u64, f32)>) -> Job {
    let rover = folder_skill("rover");
    Job {
        prefix: rover.prefix.clone(),
        text: rover.suffix("drive forward two meters"),
        grammar: None,
        max_tokens: 16,
        stop_at: None,
        adapters,
        parts: Vec::new(),
        label: "raw".into(),
    }
}

#[test]
fn an_adapter_changes_the_output_and_scale_zero_is_the_base_model_exactly() {
    let id = folder_skill("rover").adapters[0].0;
    let engine = planner().engine();
    let base = engine.submit(raw_job(vec![])).wait().unwrap();
    let with = engine.submit(raw_job(vec![(id, 1.0)])).wait().unwrap();
    let zero = engine.submit(raw_job(vec![(id, 0.0)])).wait().unwrap();
    assert_ne!(base.text, with.text, "the adapter changed nothing");
    assert!(with.text.starts_with(r#" [{"action":"drive","distance_m":2}]"#), "{:?}", with.text);
    assert_eq!(base.text, zero.text, "scale 0 must be the base model");
    // And the base model again after the adapter ran: nothing leaked into its cache.
    assert_eq!(engine.submit(raw_job(vec![])).wait().unwrap().text, base.text);
}

fn refused(path: &Path, expect: &str) {
    match planner().engine().load_adapter(path) {
        // `Check`: refused by the Rust checks, before llama.cpp was called.
        Err(EngineError::Llama(LlamaError::Check(e))) => {
            let msg = e.to_string();
            assert!(msg.contains(expect), "{msg:?} should say {expect:?}");
        }
        Err(e) => panic!("{}: refused, but not by the Rust checks: {e}", path.display()),
        Ok(_) => panic!("{} was accepted", path.display()),
    }
}

fn gemma_adapter() -> GgufWriter {
    GgufWriter::lora_adapter("gemma3", 1.0)
}

#[test]
fn broken_adapters_are_refused_in_rust_and_a_minimal_valid_one_loads() {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let real = std::fs::read(skills_root().join("rover/rover.gguf")).unwrap();
    refused(&at("truncated.gguf", &real[..real.len() * 2 / 3]), "truncated");
    refused(&at("header-only.gguf", &real[..200]), "truncated");
    refused(&at("zip.gguf", b"PK\x03\x04 not an adapter at all"), "not a GGUF file");
    refused(&dir.path().join("missing.gguf"), "missing.gguf");
    // Gemma 3 270M: attn_q is 640 -> 1024 (ggml ne [640, 1024]).
    let q = "blk.0.attn_q.weight";
    let pair = |w: GgufWriter, a: &[u64], b: &[u64]| {
        let n = |d: &[u64]| d.iter().product::<u64>() as usize;
        w.tensor_f32(&format!("{q}.lora_a"), a, &vec![0.0; n(a)]).tensor_f32(
            &format!("{q}.lora_b"),
            b,
            &vec![0.0; n(b)],
        )
    };
    let llama = GgufWriter::lora_adapter("llama", 1.0);
    refused(&at("llama.gguf", &pair(llama, &[640, 1], &[1, 1024]).to_bytes()), "architecture `llama`");
    refused(&at("swapped.gguf", &pair(gemma_adapter(), &[1, 1024], &[640, 1]).to_bytes()), "lora_a must be [640, r]");
    refused(&at("kv.gguf", &pair(gemma_adapter(), &[640, 1], &[1, 256]).to_bytes()), "lora_b [r, 1024]");
    let ghost = gemma_adapter().tensor_f32("blk.99.attn_q.weight.lora_a", &[640, 1], &[0.0; 640]).tensor_f32(
        "blk.99.attn_q.weight.lora_b",
        &[1, 1024],
        &[0.0; 1024],
    );
    refused(&at("ghost.gguf", &ghost.to_bytes()), "not a tensor of the base model");
    let no_alpha = GgufWriter::new()
        .meta("general.architecture", MetaValue::Str("gemma3".into()))
        .meta("general.type", MetaValue::Str("adapter".into()))
        .meta("adapter.type", MetaValue::Str("lora".into()));
    refused(&at("no-alpha.gguf", &pair(no_alpha, &[640, 1], &[1, 1024]).to_bytes()), "adapter.lora.alpha");

    // The positive control: the same writer, right shapes: llama.cpp takes it.
    let ok = at("ok.gguf", &pair(gemma_adapter(), &[640, 1], &[1, 1024]).to_bytes());
    let info = planner().engine().load_adapter(&ok).unwrap();
    assert_eq!((info.summary.rank, info.summary.targets), (1, 1));
    assert!(planner().engine().unload_adapter(info.id));
    assert!(!planner().engine().unload_adapter(info.id), "unloaded twice");
    // A job naming an unloaded adapter fails cleanly.
    let e = planner().engine().submit(raw_job(vec![(info.id, 1.0)])).wait().unwrap_err();
    assert!(matches!(e, EngineError::UnknownAdapter(_)), "{e}");
}

#[test]
fn two_skills_served_alternately_plan_as_each_alone() {
    // Plans as the model makes them: this is about switching, not the confidence threshold.
    let all = |s: Skill| Skill { min_confidence: 0.0, ..s };
    let (rover, arm) = (all(folder_skill("rover")), all(folder_skill("arm")));
    let p = planner();
    let plan = |s: &Skill, c: &str| json(&p.plan_blocking(s, c).unwrap_or_else(|e| panic!("{c}: {e}")).plan);
    let rc = ["turn left 90 degrees", "back up one meter", "switch on the horn"];
    let ac = ["close the gripper", "set the elbow to 30 degrees", "wait two seconds"];
    let alone_r: Vec<String> = rc.iter().map(|c| plan(&rover, c)).collect();
    let alone_a: Vec<String> = ac.iter().map(|c| plan(&arm, c)).collect();
    for i in 0..rc.len() {
        assert_eq!(plan(&rover, rc[i]), alone_r[i], "{}", rc[i]);
        assert_eq!(plan(&arm, ac[i]), alone_a[i], "{}", ac[i]);
    }
    // The prefixes stayed cached: a switch evaluates only the command.
    let g = p.plan_blocking(&arm, ac[0]).unwrap().generation;
    assert_eq!(g.prefix_tokens, 0, "{g:?}");
    // And the adapters get what the base model got wrong.
    assert_eq!(alone_r[0], r#"[{"action":"turn","angle_deg":90.0}]"#);
    assert_eq!(alone_r[1], r#"[{"action":"drive","distance_m":-1.0}]"#);
    assert_eq!(alone_a[0], r#"[{"action":"grip","state":"close"}]"#);
}

#[test]
fn shipped_adapters_beat_the_base_model_on_their_held_out_sets() {
    for name in ["rover", "arm"] {
        let skill = folder_skill(name);
        // The first 40 (the whole set is a benchmark: `cargo xtask bench skills`).
        let held: Vec<_> =
            read_examples(&skills_root().join(name).join("heldout.jsonl")).unwrap().into_iter().take(40).collect();
        // Same prompt, same grammar; the adapters at scale 0 are the base model.
        let mut base = skill.clone();
        base.adapters.iter_mut().for_each(|a| a.1 = 0.0);
        let with = eval::evaluate(planner(), &skill, &held);
        let without = eval::evaluate(planner(), &base, &held);
        eprintln!("{name}: adapter {}/{}, base {}/{}", with.exact, with.total, without.exact, without.total);
        // BENCHMARKS.md has the figures on the whole sets (every held-out phrase family is
        // one no training example uses); the bounds leave room for a plan or two to differ
        // on another CPU.
        let misses: Vec<_> = with.misses().map(|m| (&m.command, &m.got)).collect();
        assert!(with.rate() >= 0.45, "{name}: adapter {}/{}: {misses:?}", with.exact, with.total);
        assert!(
            with.rate() >= without.rate() + 0.3,
            "{name}: adapter {:.2} vs base {:.2}",
            with.rate(),
            without.rate()
        );
    }
}

/// Issue 12: a fixed subset of each hand-written set (the first three commands of every
/// kind in `wild.jsonl`: units, number words, fractions, directions, idioms, speech-to-text,
/// politeness, compositions, commands the skill cannot do, limits) plans right with the
/// shipped adapters: the right plan, or nothing that moves where nothing should. The goal
/// is every one (issue 12); the shipped adapters are at about four in five on the whole
/// sets (BENCHMARKS.md), so this holds the line at what they do now, and the misses print.
/// The share of the subset that must plan right (measured: see the test's output).
const SUBSET_FLOOR: f64 = 0.75;

#[test]
fn shipped_adapters_plan_a_fixed_subset_of_the_hand_written_sets() {
    for name in ["rover", "arm"] {
        let skill = folder_skill(name);
        let mut per_kind = std::collections::HashMap::new();
        let subset: Vec<_> = read_examples(&skills_root().join(name).join("wild.jsonl"))
            .unwrap()
            .into_iter()
            .filter(|e| {
                let n = per_kind.entry(e.kind.clone()).or_insert(0);
                *n += 1;
                *n <= 3
            })
            .collect();
        assert!(subset.len() >= 30, "{name}: {} commands", subset.len());
        let acc = eval::evaluate(planner(), &skill, &subset);
        let misses: Vec<String> = acc
            .misses()
            .map(|m| format!("{:?} ({:?}): want {}, got {:?}", m.command, m.kind, json(&m.expected), m.got))
            .collect();
        eprintln!("{name}: {}/{} right; misses:\n{}", acc.exact, acc.total, misses.join("\n"));
        assert!(
            acc.rate() >= SUBSET_FLOOR,
            "{name}: {}/{} right; misses:\n{}",
            acc.exact,
            acc.total,
            misses.join("\n")
        );
    }
}

/// Issue 12: a command of several steps, cut by the clause splitter (`[prompt] split`) and
/// planned step by step with the shipped rover, in the order the steps are to happen (the
/// words say them in another).
#[test]
fn a_command_of_several_steps_is_planned_step_by_step_in_the_order_they_happen() {
    let skill = folder_skill("rover");
    assert!(skill.split, "the shipped rover splits");
    let command = "Back up 1 m after you turn left 90 degrees.";
    let out = planner().plan_blocking(&skill, command).unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert_eq!(json(&out.plan), r#"[{"action":"turn","angle_deg":90.0},{"action":"drive","distance_m":-1.0}]"#);
    assert_eq!(out.generation.parts, 2, "two steps, each planned alone");
}

#[test]
fn emulated_rover_adapter_plans_stop() {
    // Short: also runs on aarch64 under qemu-user, where decoding is ~30x slower.
    let out = planner().plan_blocking(&folder_skill("rover"), "stop").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(json(&out.plan), r#"[{"action":"stop"}]"#);
}

/// Tensors of a GGUF file by name: (dims, ggml type, data bytes).
fn tensors(path: &Path) -> std::collections::BTreeMap<String, (Vec<u64>, trinity_gguf::GgmlType, Vec<u8>)> {
    let bytes = std::fs::read(path).unwrap();
    let g = trinity_gguf::read_bytes(&bytes, path).unwrap();
    g.tensors
        .iter()
        .map(|t| {
            let at = (g.data_offset + t.offset) as usize;
            (t.name.clone(), (t.dims.clone(), t.ggml_type, bytes[at..at + t.size as usize].to_vec()))
        })
        .collect()
}

#[test]
#[ignore = "needs a smoke training run; `cargo xtask test` makes one and runs this with TRINITY_SMOKE_TRAIN"]
fn peft_import_in_rust_matches_the_training_scripts_export_and_loads() {
    let dir = std::path::PathBuf::from(std::env::var("TRINITY_SMOKE_TRAIN").expect("TRINITY_SMOKE_TRAIN=<dir>"));
    let base = planner().engine().info().header.clone();
    let (bytes, summary) = trinity_gguf::import::import_peft(&dir.join("peft"), &base, Default::default()).unwrap();
    let imported = dir.join("imported.gguf");
    std::fs::write(&imported, bytes).unwrap();
    let (ours, theirs) = (tensors(&imported), tensors(&dir.join("smoke.gguf")));
    assert_eq!(ours.len(), theirs.len());
    assert!(ours.len() >= 2 * 18 * 4, "{} tensors", ours.len());
    for (name, t) in &theirs {
        assert_eq!(ours.get(name), Some(t), "{name} differs");
    }
    // And llama.cpp applies it: the plan may be anything valid after two steps.
    let info = planner().engine().load_adapter(&imported).unwrap();
    assert_eq!(info.summary, summary);
    let mut skill = folder_skill("rover");
    skill.adapters = vec![(info.id, 1.0)];
    let out = planner().plan_blocking(&skill, "stop");
    assert!(!matches!(out, Err(trinity_runtime::planner::PlanError::Engine(_))), "{out:?}");
    planner().engine().unload_adapter(info.id);
}
