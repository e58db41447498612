//! The sim board through the real firmware drivers, with a hand-stepped clock.

use trinity_firmware::{Action, GripState, Limits, Name, Outcome, Plan, Refused, Violation};

use super::*;

fn plan(actions: &[Action]) -> Plan {
    Plan::try_from(actions).unwrap()
}

fn name(s: &str) -> Name {
    Name::try_from(s).unwrap()
}

/// Run `p` on a fresh sim, 10 ms per tick; returns the outcome and the sim.
fn run(p: &Plan) -> (Outcome, Sim) {
    let board = crate::sim();
    let sim = Sim::new(&board);
    let mut ex = sim.executor(Millis(0)).unwrap();
    let checked = board.limits.approve(p).unwrap();
    let mut now = Millis(0);
    if let Some(o) = ex.start(&checked, now).unwrap() {
        return (o, sim);
    }
    for _ in 0..100_000 {
        sim.advance(10);
        now = now.after(10);
        ex.feed(now);
        if let Some(o) = ex.poll(now) {
            return (o, sim);
        }
    }
    panic!("plan never ended");
}

#[test]
fn drive_forward_one_meter_ends_one_meter_ahead() {
    let (o, sim) = run(&plan(&[Action::Drive { distance_m: 1.0 }]));
    assert_eq!(o, Outcome::Succeeded);
    let s = sim.state();
    // 1 m at 0.3 m/s, stopped at the first 10 ms tick after 3333 ms: at most 3 mm over.
    assert!((s.x_m - 1.0).abs() < 0.005, "x = {}", s.x_m);
    assert!(s.y_m.abs() < 1e-9 && s.heading_deg.abs() < 1e-9, "{s:?}");
    assert_eq!(s.wheels_mps, [0.0, 0.0]);
}

#[test]
fn turn_left_90_degrees_ends_facing_left() {
    let (o, sim) = run(&plan(&[Action::Turn { angle_deg: 90.0 }]));
    assert_eq!(o, Outcome::Succeeded);
    let s = sim.state();
    // Duty is quantised to 1/1000: within a degree.
    assert!((s.heading_deg - 90.0).abs() < 1.0, "heading = {}", s.heading_deg);
    assert!(s.x_m.abs() < 1e-6 && s.y_m.abs() < 1e-6, "turning in place: {s:?}");
}

#[test]
fn drive_then_turn_right_then_drive_traces_an_l() {
    let (_, sim) = run(&plan(&[
        Action::Drive { distance_m: 0.5 },
        Action::Turn { angle_deg: -90.0 },
        Action::Drive { distance_m: 0.5 },
    ]));
    let s = sim.state();
    assert!((s.x_m - 0.5).abs() < 0.02 && (s.y_m + 0.5).abs() < 0.02, "{s:?}");
    assert!((s.heading_deg + 90.0).abs() < 1.0, "{s:?}");
}

#[test]
fn each_drive_or_turn_step_counts_one_motion() {
    let (_, sim) = run(&plan(&[
        Action::Drive { distance_m: 0.5 },
        Action::Turn { angle_deg: -90.0 },
        Action::Wait { seconds: 0.1 },
        Action::Drive { distance_m: -0.2 },
    ]));
    assert_eq!(sim.state().motions, 3);
    let (_, sim) = run(&plan(&[Action::Stop]));
    assert_eq!(sim.state().motions, 0);
}

#[test]
fn servo_and_gripper_reach_their_angles_through_the_pca9685() {
    let (o, sim) = run(&plan(&[
        Action::Servo { joint: name("shoulder"), angle_deg: 30.0 },
        Action::Grip { state: GripState::Open },
    ]));
    assert_eq!(o, Outcome::Succeeded);
    let s = sim.state();
    let shoulder = s.joints.iter().find(|j| j.name == "shoulder").unwrap();
    // One PCA9685 count is 4.88 us, 0.44 deg on a 180 deg / 2000 us servo.
    assert!((shoulder.angle_deg.unwrap() - 30.0).abs() < 0.5, "{shoulder:?}");
    assert_eq!(s.gripper, "open");
    assert!(s.joints.iter().filter(|j| j.name != "shoulder").all(|j| j.angle_deg.is_none()));
}

#[test]
fn output_switches_its_line() {
    let (_, sim) = run(&plan(&[Action::Output { name: name("lights"), on: true }]));
    assert_eq!(sim.state().outputs, vec![("lights".to_owned(), true), ("horn".to_owned(), false)]);
}

#[test]
fn estop_puts_every_simulated_output_in_its_safe_state() {
    let board = crate::sim();
    let sim = Sim::new(&board);
    let mut ex = sim.executor(Millis(0)).unwrap();
    let p = board
        .limits
        .approve(&plan(&[
            Action::Output { name: name("horn"), on: true },
            Action::Servo { joint: name("elbow"), angle_deg: 45.0 },
            Action::Grip { state: GripState::Close },
            Action::Drive { distance_m: 2.0 },
        ]))
        .unwrap();
    ex.start(&p, Millis(0)).unwrap();
    let mut now = Millis(0);
    while ex.progress() != Some((3, 4)) {
        sim.advance(10);
        now = now.after(10);
        ex.feed(now);
        ex.poll(now);
    }
    sim.advance(500);
    assert!(!sim.state().all_safe(), "moving, arm powered, horn on");
    assert_eq!(ex.engage_estop(), Some(Outcome::Canceled));
    let s = sim.state();
    assert!(s.all_safe(), "{s:?}");
    let x = s.x_m;
    sim.advance(1000);
    assert_eq!(sim.state().x_m, x, "no motion after the e-stop");
    assert_eq!(ex.start(&p, now), Err(Refused::EStopped));
}

#[test]
fn watchdog_puts_every_simulated_output_in_its_safe_state() {
    let board = crate::sim();
    let sim = Sim::new(&board);
    let mut ex = sim.executor(Millis(0)).unwrap();
    let p = board
        .limits
        .approve(&plan(&[Action::Output { name: name("lights"), on: true }, Action::Drive { distance_m: 3.0 }]))
        .unwrap();
    ex.start(&p, Millis(0)).unwrap();
    // Nobody feeds it: the period is the wiring's watchdog_ms.
    let period = board.motion.watchdog_ms;
    assert_eq!(ex.poll(Millis(period)), None);
    assert!(!sim.state().all_safe());
    assert_eq!(ex.poll(Millis(period + 1)), Some(Outcome::WatchdogExpired));
    assert!(sim.state().all_safe(), "{:?}", sim.state());
}

#[test]
fn hostile_plans_never_reach_a_driver() {
    let board = crate::sim();
    let sim = Sim::new(&board);
    let before = sim.state();
    let _ex = sim.executor(Millis(0)).unwrap();
    for (p, want) in [
        (plan(&[Action::Drive { distance_m: 100.0 }]), "drive of 100 m"),
        (plan(&[Action::Turn { angle_deg: 720.0 }]), "turn of 720 deg"),
        (plan(&[Action::Servo { joint: name("shoulder"), angle_deg: 85.0 }]), "outside -80..=80"),
        (plan(&[Action::Output { name: name("laser"), on: true }]), "no output `laser`"),
        (plan(&[Action::Stop, Action::Drive { distance_m: f32::NAN }]), "not finite"),
    ] {
        let e: Violation = board.limits.approve(&p).unwrap_err();
        assert!(e.to_string().contains(want), "{e}");
    }
    // No CheckedPlan exists for them, so nothing could be started: the hardware is untouched.
    assert_eq!(sim.state(), before);
}

#[test]
fn i2c_failure_ends_the_plan_with_a_driver_error() {
    let board = crate::sim();
    let sim = Sim::new(&board);
    let mut ex = sim.executor(Millis(0)).unwrap();
    sim.set_faults(Faults { i2c: true });
    let p = board.limits.approve(&plan(&[Action::Grip { state: GripState::Open }])).unwrap();
    let o = ex.start(&p, Millis(0)).unwrap();
    assert!(matches!(o, Some(Outcome::DriverFailed { index: 0, .. })), "{o:?}");
}

#[test]
fn sim_limits_come_from_the_wiring() {
    let l: Limits = crate::sim().limits;
    assert_eq!(l.joint("shoulder").map(|j| (j.min_deg, j.max_deg)), Some((-80.0, 80.0)));
    assert_eq!(l.max_actions, 8);
}
