//! Issue 11: hostile peers, restarts and crashes. Each test pins one defect of the review:
//! it failed on the daemon before the fix.

use super::*;

fn retained(obs: &Observer, leaf: &str, payload: &str) {
    let topic = format!("trinity/{}/{leaf}", obs.robot);
    obs.client.publish(topic, QoS::AtLeastOnce, true, payload).unwrap();
}

fn error(evs: &[Value]) -> String {
    evs.last().and_then(|e| e["error"].as_str()).unwrap_or_default().to_owned()
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
}

/// Item 1 (critical): an id with a control character became the `evt/{id}` topic; mosquitto
/// dropped the daemon for publishing to it, and the event, re-sent first at every reconnect,
/// kept the link (and the e-stop) down for good.
#[test]
fn issue_11_a_control_character_id_is_refused_and_the_link_stays_up() {
    let broker = Mosquitto::start();
    let obs = Observer::connect(broker.port, "r-id");
    let _d = Daemon::start(broker.port, "r-id", "");
    obs.wait_online();
    obs.wait("info", |_| true);
    for raw in ["bell\u{7}id", "nul\u{0}", "a b", "\u{ffff}"] {
        obs.publish("cmd", json!({"id": raw, "text": "go forward two meters"}).to_string());
        let stand_in = trinity_wire::names::stand_in_id(raw);
        let evs = obs.events(&stand_in);
        assert_eq!(states(&evs), ["rejected"], "{raw:?}: {evs:?}");
        assert!(error(&evs).contains("[A-Za-z0-9._:-]"), "{evs:?}");
    }
    obs.publish("cmd/bad skill", cmd("c-skill", "stop"));
    assert_eq!(states(&obs.events("c-skill")), ["rejected"]);
    obs.publish("cmd", cmd("after", "stop"));
    assert_eq!(states(&obs.events("after")), ["accepted", "executing", "succeeded"]);
    obs.publish("estop", "engage");
    wait_estop(&obs, true);
    obs.publish("cmd", cmd("blocked", "stop"));
    assert_eq!(states(&obs.events("blocked")), ["rejected"]);
    // The link never dropped: `online` is republished at every CONNACK, and came only once.
    assert_eq!(obs.untaken("status"), Vec::<String>::new(), "the daemon reconnected");
}

/// Item 3: retained inputs acted again at every (re)subscribe: a retained `release` undid
/// the e-stop, a retained command ran. Item 4: the latch is kept across restarts.
#[test]
fn issue_11_retained_inputs_do_not_act_and_a_recorded_latch_holds() {
    let broker = Mosquitto::start();
    let obs = Observer::connect(broker.port, "r-ret");
    retained(&obs, "estop", "release");
    retained(&obs, "cmd", &cmd("ret", "go forward two meters"));
    let state = tempfile::tempdir().unwrap();
    std::fs::write(state.path().join("estop-r-ret"), "engaged\n").unwrap();
    let _d = Daemon::start_with_state(broker.port, "r-ret", "", state.path());
    obs.wait_online();
    obs.publish("cmd", cmd("blocked", "stop"));
    let evs = obs.events("blocked");
    assert_eq!(states(&evs), ["rejected"], "the retained release undid the recorded latch: {evs:?}");
    assert!(error(&evs).contains("e-stop"), "{evs:?}");
    obs.publish("estop", "release");
    wait_estop(&obs, false);
    obs.publish("cmd", cmd("after", "stop"));
    assert_eq!(states(&obs.events("after")), ["accepted", "executing", "succeeded"]);
    assert_eq!(std::fs::read_to_string(state.path().join("estop-r-ret")).unwrap(), "released\n");
    assert_eq!(obs.untaken("evt/ret"), Vec::<String>::new(), "the retained command ran");
}

/// Item 4: the latch was lost on restart, and commands queued at the broker while the daemon
/// was down ran at once. Also the fault-injection case "SIGKILL mid-motion".
#[test]
fn issue_11_sigkill_mid_motion_keeps_the_latch_and_stale_queued_commands_do_not_run() {
    let broker = Mosquitto::start();
    let obs = Observer::connect(broker.port, "r-kill");
    let state = tempfile::tempdir().unwrap();
    let mut d = Daemon::start_with_state(broker.port, "r-kill", "", state.path());
    obs.wait_online();
    obs.publish("cmd", cmd("moving", "go forward two meters"));
    obs.wait("evt/moving", |p| p.windows(9).any(|w| w == b"executing"));
    obs.publish("estop", "engage");
    assert_eq!(states(&obs.events("moving")), ["canceled"]);
    d.kill9();
    obs.wait("status", |p| p == b"offline");
    let d2 = Daemon::start_with_state(broker.port, "r-kill", "", state.path());
    obs.wait_online();
    obs.publish("cmd", cmd("blocked", "stop"));
    let evs = obs.events("blocked");
    assert_eq!(states(&evs), ["rejected"], "the latch was lost in the restart: {evs:?}");

    // Released, killed again; two commands wait at the broker meanwhile.
    obs.publish("estop", "release");
    wait_estop(&obs, false);
    obs.publish("cmd", cmd("ok", "stop"));
    assert_eq!(states(&obs.events("ok")), ["accepted", "executing", "succeeded"]);
    drop(d2);
    obs.wait("status", |p| p == b"offline");
    obs.publish("cmd", cmd("stale", "go forward two meters"));
    let fresh = json!({"id": "fresh", "text": "stop", "not_after": unix_ms() + 600_000});
    obs.publish("cmd", fresh.to_string());
    let _d3 = Daemon::start_with_state(broker.port, "r-kill", "", state.path());
    let evs = obs.events("stale");
    assert_eq!(states(&evs), ["rejected"], "{evs:?}");
    assert!(error(&evs).contains("not_after"), "{evs:?}");
    assert_eq!(states(&obs.events("fresh")), ["accepted", "executing", "succeeded"]);
    // Live commands run as before.
    obs.publish("cmd", cmd("live", "stop"));
    assert_eq!(states(&obs.events("live")), ["accepted", "executing", "succeeded"]);
}

/// Item 6: `engage` then `release` at once left the robot latched while the dispatcher took
/// commands, which then failed until a second release.
#[test]
fn issue_11_engage_then_release_at_once_leaves_the_robot_usable() {
    let broker = Mosquitto::start();
    let obs = Observer::connect(broker.port, "r-er");
    let _d = Daemon::start(broker.port, "r-er", "");
    obs.wait_online();
    for round in 0..3 {
        obs.publish("estop", "engage");
        obs.publish("estop", "release");
        // This one races the e-stop (its own connection): any terminal state will do. By its
        // end, both e-stop requests are long handled.
        let racing = format!("racing-{round}");
        obs.publish("cmd", cmd(&racing, "stop"));
        obs.events(&racing);
        // Before the fix the robot stayed latched here for good while commands were accepted.
        wait_estop(&obs, false);
        let id = format!("after-{round}");
        obs.publish("cmd", cmd(&id, "go forward half a meter"));
        let evs = obs.events(&id);
        assert_eq!(states(&evs), ["accepted", "executing", "succeeded"], "{evs:?}");
    }
}

/// Item 8: on SIGTERM, running and queued commands got no terminal event.
#[test]
fn issue_11_sigterm_ends_every_command_canceled_then_offline() {
    let broker = Mosquitto::start();
    let obs = Observer::connect(broker.port, "r-term");
    let mut d = Daemon::start(broker.port, "r-term", "");
    obs.wait_online();
    obs.publish("cmd", cmd("long", "wait five seconds"));
    obs.wait("evt/long", |p| p.windows(9).any(|w| w == b"executing"));
    obs.publish("cmd", cmd("queued", "stop"));
    obs.wait("evt/queued", |p| p.windows(8).any(|w| w == b"accepted"));
    let _ = Command::new("kill").arg(d.child.id().to_string()).status();
    assert!(d.child.wait().unwrap().success());
    for id in ["long", "queued"] {
        let evs = obs.events(id);
        assert_eq!(states(&evs), ["canceled"], "{id}: {evs:?}");
        assert_eq!(error(&evs), "shutting down");
    }
    obs.wait("status", |p| p == b"offline");
}
