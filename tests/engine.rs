//! The engine on its own: cancellation, unconstrained generation, errors.

use trinity_runtime::engine::{EngineError, Job, StopReason};

use crate::common::planner;

fn job(max_tokens: usize) -> Job {
    Job {
        prefix: "The robot's log, one line per second:\n".into(),
        text: "00:01 ".into(),
        grammar: None,
        max_tokens,
        stop_at: None,
        adapters: Vec::new(),
        parts: Vec::new(),
        label: "log".into(),
    }
}

#[test]
fn cancel_stops_a_running_job_and_the_next_job_is_unaffected() {
    let engine = planner().engine();
    let before = engine.submit(job(8)).wait().unwrap();
    let handle = engine.submit(job(400));
    handle.cancel();
    assert!(matches!(handle.wait(), Err(EngineError::Canceled)));
    let after = engine.submit(job(8)).wait().unwrap();
    assert_eq!(before.text, after.text, "a canceled job left state behind");
}

#[test]
fn max_tokens_bounds_unconstrained_generation() {
    let g = planner().engine().submit(job(5)).wait().unwrap();
    assert!(g.generated_tokens <= 5);
    if g.stop == StopReason::MaxTokens {
        assert_eq!(g.generated_tokens, 5);
    }
}

#[test]
fn a_grammar_llama_cpp_refuses_is_an_error_not_an_abort() {
    let mut j = job(4);
    j.grammar = Some("root ::= ( unclosed".into());
    let e = planner().engine().submit(j).wait().unwrap_err();
    assert!(e.to_string().contains("refused the grammar"), "{e}");
}

#[test]
fn a_job_longer_than_the_context_is_refused() {
    let mut j = job(4);
    j.text = "word ".repeat(5000);
    let e = planner().engine().submit(j).wait().unwrap_err();
    assert!(e.to_string().contains("do not fit the context"), "{e}");
}

/// Jump-forward (grammar-forced text evaluated in one decode with the token before it)
/// changes how many decodes a plan takes, not the plan: the same text and the same tokens
/// as sampling every token, on a second engine with it off.
#[test]
fn jump_forward_plans_what_token_by_token_sampling_plans_in_fewer_decodes() {
    use trinity_runtime::engine::{Engine, EngineConfig};
    let planner = planner();
    let slow = Engine::start(EngineConfig { jump_forward: false, ..EngineConfig::new(crate::common::model_path()) })
        .expect("engine starts");
    let skill = crate::common::skill("general");
    let commands = [
        "go forward two meters",
        "turn left 90 degrees, then back up half a meter",
        "set the elbow to 45 degrees and open the gripper",
        "turn on the lights and wait 3 seconds",
    ];
    let (mut forced, mut all) = (0, 0);
    for c in commands {
        let job = trinity_runtime::planner::prepare(&skill, planner.board(), c).unwrap();
        let fast = planner.engine().submit(job.clone()).wait().unwrap();
        let each = slow.submit(job).wait().unwrap();
        // A batch of tokens runs other kernels than one token: the last bits of the logits
        // differ, which may flip a near-tie (a guess either way), never a sure choice.
        if each.confidence > 0.5 {
            assert_eq!(fast.text, each.text, "{c}");
            assert_eq!(fast.generated_tokens, each.generated_tokens, "{c}: another tokenization");
        }
        assert_eq!(each.forced_tokens, 0);
        assert!(fast.forced_tokens > 0 && fast.decodes < each.decodes, "{c}: {fast:?}");
        forced += fast.forced_tokens;
        all += fast.generated_tokens;
    }
    // `action`, `":"`, `","distance_m":` …: about half of every plan.
    assert!(forced * 3 >= all, "{forced} of {all} tokens forced");
}

/// Drafting (the plan's next tokens guessed from the command, a number it copies, and
/// checked in the same decode) changes how many decodes a plan takes, not the plan.
#[test]
fn drafting_numbers_from_the_command_plans_the_same_in_fewer_decodes() {
    use trinity_runtime::engine::{Engine, EngineConfig};
    let planner = planner();
    let plain =
        Engine::start(EngineConfig { draft: false, ..EngineConfig::new(crate::common::model_path()) }).expect("starts");
    let skill = crate::common::skill("general");
    let commands = ["turn left 90 degrees", "back up 0.75 m", "wait 12 seconds", "drive forward 1.25 meters"];
    let (mut drafted, mut fewer) = (0, 0);
    for c in commands {
        let job = trinity_runtime::planner::prepare(&skill, planner.board(), c).unwrap();
        let fast = planner.engine().submit(job.clone()).wait().unwrap();
        let each = plain.submit(job).wait().unwrap();
        if each.confidence > 0.5 {
            assert_eq!(fast.text, each.text, "{c}");
            assert_eq!(fast.generated_tokens, each.generated_tokens, "{c}");
        }
        assert_eq!(each.drafted_tokens, 0);
        assert!(fast.decodes <= each.decodes, "{c}: {} decodes with drafting, {} without", fast.decodes, each.decodes);
        drafted += fast.drafted_tokens;
        fewer += usize::from(fast.decodes < each.decodes);
    }
    assert!(drafted >= commands.len() && fewer >= 3, "{drafted} tokens drafted, {fewer} plans in fewer decodes");
}

/// A skill prefix evaluated by one engine is loaded from disk by the next (a new `trinity
/// ask` process), with the same plan; a damaged file is removed and the prefix evaluated.
#[test]
fn a_prefix_evaluated_once_comes_from_disk_next_time_and_a_damaged_file_is_evaluated_again() {
    use trinity_runtime::engine::{Engine, EngineConfig};
    let dir = tempfile::tempdir().unwrap();
    let config =
        || EngineConfig { prefix_dir: Some(dir.path().to_owned()), ..EngineConfig::new(crate::common::model_path()) };
    let skill = crate::common::skill("general");
    let job = trinity_runtime::planner::prepare(&skill, &trinity_boards::sim(), "turn left 90 degrees").unwrap();
    let run = || Engine::start(config()).expect("engine starts").submit(job.clone()).wait().unwrap();

    let first = run();
    assert!(!first.prefix_from_disk && first.prefix_tokens > 100, "{first:?}");
    let second = run();
    assert!(second.prefix_from_disk, "{second:?}");
    assert_eq!((second.prefix_tokens, second.prefix_cached_tokens), (0, first.prefix_tokens));
    assert_eq!(second.text, first.text);

    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "kv"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let mut bytes = std::fs::read(&files[0]).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&files[0], &bytes).unwrap();
    let third = run();
    assert!(!third.prefix_from_disk && third.prefix_tokens == first.prefix_tokens, "{third:?}");
    assert_eq!(third.text, first.text);
    assert_ne!(std::fs::read(&files[0]).unwrap(), bytes, "the damaged file was replaced");
}
