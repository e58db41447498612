use std::collections::HashMap;

use super::*;

fn cmd(id: &str, deadline_ms: Option<u64>) -> Command {
    Command { deadline_ms, id: Some(id.into()), ..Command::text("go".into()) }
}

/// The (id, state) of every published event.
fn states(effects: &[Effect]) -> Vec<(String, State)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Publish(ev) => Some((ev.id.clone(), ev.state)),
            _ => None,
        })
        .collect()
}

fn s(id: &str, st: State) -> (String, State) {
    (id.to_owned(), st)
}

fn skills() -> Vec<String> {
    vec!["general".into(), "rover".into()]
}

fn plan() -> trinity_firmware::Plan {
    serde_json::from_str(r#"[{"action": "stop"}]"#).unwrap()
}

#[test]
fn a_command_goes_accepted_executing_succeeded_with_its_plan() {
    let mut d = Dispatcher::new(4, skills());
    let out = d.on_command(0, cmd("c-1", None));
    assert_eq!(states(&out), vec![s("c-1", State::Accepted), s("c-1", State::Executing)]);
    assert!(matches!(&out[2], Effect::Start { id, .. } if id == "c-1"));
    let out = d.on_finished(10, "c-1", Finished::Succeeded { plan: plan() });
    assert_eq!(
        out,
        vec![Effect::Publish(Box::new(Event { plan: Some(plan()), ..Event::new("c-1", State::Succeeded, None) }))]
    );
    assert_eq!(d.running(), None);
}

#[test]
fn a_redelivered_command_runs_once() {
    let mut d = Dispatcher::new(4, skills());
    d.on_command(0, cmd("c-1", None));
    let again = d.on_command(1, cmd("c-1", None));
    assert!(matches!(again.as_slice(), [Effect::Log(_)]), "{again:?}");
    d.on_finished(2, "c-1", Finished::Succeeded { plan: plan() });
    let after = d.on_command(3, cmd("c-1", None));
    assert!(matches!(after.as_slice(), [Effect::Log(_)]), "still remembered after it finished: {after:?}");
}

#[test]
fn commands_run_one_at_a_time_in_order() {
    let mut d = Dispatcher::new(4, skills());
    d.on_command(0, cmd("a", None));
    let out = d.on_command(0, cmd("b", None));
    assert_eq!(states(&out), vec![s("b", State::Accepted)]);
    assert_eq!(d.queue_depth(), 1);
    let out = d.on_finished(5, "a", Finished::Failed { error: "no plan".into(), plan: None });
    assert_eq!(states(&out), vec![s("a", State::Failed), s("b", State::Executing)]);
}

#[test]
fn an_expired_deadline_is_rejected_with_a_reason() {
    let mut d = Dispatcher::new(4, skills());
    d.on_command(0, cmd("a", None));
    d.on_command(0, cmd("b", Some(100)));
    d.on_command(0, cmd("c", Some(1000)));
    let out = d.tick(101);
    assert_eq!(states(&out), vec![s("b", State::Rejected)]);
    let Effect::Publish(ev) = &out[0] else { panic!() };
    assert!(ev.error.as_deref().unwrap().contains("deadline expired"));
    let out = d.on_finished(200, "a", Finished::Succeeded { plan: plan() });
    assert_eq!(states(&out), vec![s("a", State::Succeeded), s("c", State::Executing)]);
}

#[test]
fn a_full_queue_rejects_without_blocking() {
    let mut d = Dispatcher::new(2, skills());
    d.on_command(0, cmd("run", None));
    d.on_command(0, cmd("q1", None));
    d.on_command(0, cmd("q2", None));
    let out = d.on_command(0, cmd("q3", None));
    assert_eq!(states(&out), vec![s("q3", State::Rejected)]);
    let Effect::Publish(ev) = &out[0] else { panic!() };
    assert!(ev.error.as_deref().unwrap().contains("queue full"));
}

#[test]
fn cancel_ends_a_queued_or_running_command() {
    let mut d = Dispatcher::new(4, skills());
    d.on_command(0, cmd("a", None));
    d.on_command(0, cmd("b", None));
    d.on_command(0, cmd("c", None));
    assert_eq!(states(&d.on_cancel(1, "b")), vec![s("b", State::Canceled)]);
    let out = d.on_cancel(2, "a");
    assert_eq!(out[0], Effect::CancelRunning { id: "a".into() });
    assert_eq!(states(&out), vec![s("a", State::Canceled), s("c", State::Executing)]);
    // The job's own report of its cancel comes late and adds nothing.
    assert!(states(&d.on_finished(3, "a", Finished::Canceled)).is_empty());
    assert!(matches!(d.on_cancel(4, "zzz").as_slice(), [Effect::Log(_)]));
}

#[test]
fn estop_makes_outputs_safe_first_cancels_everything_and_latches() {
    let mut d = Dispatcher::new(4, skills());
    d.on_command(0, cmd("a", None));
    d.on_command(0, cmd("b", None));
    let out = d.on_estop(true);
    assert_eq!(out[0], Effect::SafeOutputs);
    assert_eq!(out[1], Effect::CancelRunning { id: "a".into() });
    assert_eq!(states(&out), vec![s("a", State::Canceled), s("b", State::Canceled)]);
    assert_eq!(states(&d.on_command(1, cmd("c", None))), vec![s("c", State::Rejected)]);
    d.on_estop(false);
    assert_eq!(states(&d.on_command(2, cmd("d", None))), vec![s("d", State::Accepted), s("d", State::Executing)]);
}

#[test]
fn payloads_are_parsed_and_bad_ones_rejected_when_they_carry_an_id() {
    let mut d = Dispatcher::new(4, skills());
    let out = d.on_payload(0, b"turn left", Some("rover"), Source::Live);
    assert_eq!(states(&out), vec![s("auto-1", State::Accepted), s("auto-1", State::Executing)]);
    let Effect::Start { command, .. } = &out[2] else { panic!() };
    assert_eq!(command.skill.as_deref(), Some("rover"));
    assert_eq!(states(&d.on_payload(0, br#"{"id":"x","text":5}"#, None, Source::Live)), vec![s("x", State::Rejected)]);
    assert!(matches!(d.on_payload(0, &[0xff, 0xfe], None, Source::Live).as_slice(), [Effect::Log(_)]));
    assert!(matches!(d.on_payload(0, &vec![b'a'; 1 << 20], None, Source::Live).as_slice(), [Effect::Log(_)]));
}

#[test]
fn every_command_gets_exactly_one_terminal_event() {
    // A fixed pseudo-random mix of commands, cancels, e-stops, ticks and job ends.
    let mut d = Dispatcher::new(3, skills());
    let mut rng: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut terminals: HashMap<String, usize> = HashMap::new();
    let mut seen: Vec<String> = Vec::new();
    let record = |out: Vec<Effect>, terminals: &mut HashMap<String, usize>, seen: &mut Vec<String>| {
        for (id, st) in states(&out) {
            if !seen.contains(&id) {
                seen.push(id.clone());
            }
            if st.is_terminal() {
                *terminals.entry(id).or_default() += 1;
            }
        }
    };
    for now in 0..2000u64 {
        let r = next();
        let out = match r % 7 {
            0 | 1 => d.on_command(now, cmd(&format!("c{}", r % 200), Some(r % 50))),
            2 => d.on_cancel(now, &format!("c{}", r % 200)),
            3 => d.on_estop(r % 4 == 0),
            4 => d.tick(now),
            _ => match d.running().map(str::to_owned) {
                Some(id) => d.on_finished(now, &id, Finished::Succeeded { plan: plan() }),
                None => d.tick(now),
            },
        };
        record(out, &mut terminals, &mut seen);
    }
    // Drain: release, finish whatever runs, let every deadline pass.
    let out = d.on_estop(false);
    record(out, &mut terminals, &mut seen);
    for now in 2000..3000u64 {
        let out = match d.running().map(str::to_owned) {
            Some(id) => d.on_finished(now, &id, Finished::Succeeded { plan: plan() }),
            None => d.tick(now),
        };
        record(out, &mut terminals, &mut seen);
    }
    assert!(seen.len() > 50, "the mix exercised {} commands", seen.len());
    for id in &seen {
        assert_eq!(terminals.get(id), Some(&1), "{id} got {:?} terminal events", terminals.get(id));
    }
}

#[test]
fn a_command_without_a_skill_gets_the_default_and_an_unknown_one_is_rejected() {
    let mut d = Dispatcher::new(4, skills());
    let out = d.on_command(0, cmd("a", None));
    let Effect::Start { command, .. } = &out[2] else { panic!() };
    assert_eq!(command.skill.as_deref(), Some("general"));
    let mut c = cmd("b", None);
    c.skill = Some("juggling".into());
    let out = d.on_command(0, c);
    let Effect::Publish(ev) = &out[0] else { panic!() };
    assert_eq!(ev.state, State::Rejected);
    assert!(ev.error.as_deref().unwrap().contains("unknown skill `juggling`"));
}

fn error_of(out: &[Effect]) -> String {
    out.iter()
        .find_map(|e| match e {
            Effect::Publish(ev) => ev.error.clone(),
            _ => None,
        })
        .unwrap_or_default()
}

#[test]
fn issue_11_backlog_commands_without_freshness_are_refused_unless_configured() {
    let payload = br#"{"id":"old","text":"go"}"#;
    let mut d = Dispatcher::new(4, skills());
    let out = d.on_payload(0, payload, None, Source::Backlog);
    assert_eq!(states(&out), vec![s("old", State::Rejected)]);
    assert!(error_of(&out).contains("run_queued_after_restart"), "{out:?}");
    // Its redelivery is a duplicate, not a second refusal.
    assert!(matches!(d.on_payload(1, payload, None, Source::Backlog).as_slice(), [Effect::Log(_)]));
    // Live, the same kind of command runs.
    let out = d.on_payload(2, br#"{"id":"new","text":"go"}"#, None, Source::Live);
    assert_eq!(states(&out), vec![s("new", State::Accepted), s("new", State::Executing)]);

    let mut d = Dispatcher::new(4, skills()).run_queued_after_restart(true);
    let out = d.on_payload(0, payload, None, Source::Backlog);
    assert_eq!(states(&out), vec![s("old", State::Accepted), s("old", State::Executing)]);
}

#[test]
fn issue_11_not_after_is_freshness_for_backlog_and_live_commands() {
    let mut d = Dispatcher::new(4, skills());
    d.set_wall_clock(10_000);
    let stale = br#"{"id":"stale","text":"go","not_after":9000}"#;
    let out = d.on_payload(0, stale, None, Source::Live);
    assert_eq!(states(&out), vec![s("stale", State::Rejected)]);
    assert!(error_of(&out).contains("1000 ms ago"), "{out:?}");
    let fresh = br#"{"id":"fresh","text":"go","not_after":20000}"#;
    let out = d.on_payload(0, fresh, None, Source::Backlog);
    assert_eq!(states(&out), vec![s("fresh", State::Accepted), s("fresh", State::Executing)]);
    // Queued behind `fresh`, `later` may start only until its not_after (500 ms from now).
    let later = br#"{"id":"later","text":"go","not_after":10500}"#;
    assert_eq!(states(&d.on_payload(0, later, None, Source::Live)), vec![s("later", State::Accepted)]);
    assert_eq!(states(&d.tick(400)), vec![]);
    assert_eq!(states(&d.tick(501)), vec![s("later", State::Rejected)]);
}

#[test]
fn issue_11_auto_ids_carry_the_boot_prefix() {
    let mut d = Dispatcher::new(4, skills()).with_auto_prefix("auto-1f2e");
    let out = d.on_payload(0, b"go", None, Source::Live);
    assert_eq!(states(&out)[0], s("auto-1f2e-1", State::Accepted));
    // A client choosing `auto-1` does not collide with a generated id.
    assert_eq!(states(&d.on_command(0, cmd("auto-1", None)))[0], s("auto-1", State::Accepted));
}

#[test]
fn issue_11_a_latched_start_refuses_commands_until_release() {
    let mut d = Dispatcher::new(4, skills()).with_estop(true);
    assert!(d.estopped());
    assert_eq!(states(&d.on_command(0, cmd("a", None))), vec![s("a", State::Rejected)]);
    d.on_estop(false);
    assert_eq!(states(&d.on_command(0, cmd("b", None))), vec![s("b", State::Accepted), s("b", State::Executing)]);
}

#[test]
fn issue_11_shutdown_ends_every_held_command_canceled() {
    let mut d = Dispatcher::new(4, skills());
    d.on_command(0, cmd("run", None));
    d.on_command(0, cmd("q", None));
    let out = d.shutdown();
    assert!(matches!(&out[0], Effect::CancelRunning { id } if id == "run"));
    assert_eq!(states(&out), vec![s("run", State::Canceled), s("q", State::Canceled)]);
    assert!(error_of(&out).contains("shutting down"));
    assert_eq!(states(&d.on_command(1, cmd("after", None))), vec![s("after", State::Rejected)]);
    // The runner's late result does not make a second terminal event.
    assert!(matches!(d.on_finished(2, "run", Finished::Canceled).as_slice(), [Effect::Log(_)]));
}
