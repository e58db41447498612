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
