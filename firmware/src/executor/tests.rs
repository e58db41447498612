//! Executor tests with recording fake hardware and a clock stepped by hand.

use std::cell::RefCell;
use std::rc::Rc;
use std::vec::Vec;

use super::*;
use crate::action::{Action, GripState, Name};
use crate::plan::Plan;

#[derive(Debug, Clone, PartialEq)]
enum Call {
    Wheels(f32, f32),
    Joint(usize, f32),
    Gripper(GripState),
    Output(usize, bool),
    ArmSafe,
    OutputsSafe,
}

type Log = Rc<RefCell<Vec<Call>>>;

struct Fake {
    log: Log,
    fail_wheels: bool,
}

impl Drivetrain for Fake {
    fn set_wheels(&mut self, l: f32, r: f32) -> Result<(), HwError> {
        if self.fail_wheels && (l != 0.0 || r != 0.0) {
            return Err(HwError::Pwm);
        }
        self.log.borrow_mut().push(Call::Wheels(l, r));
        Ok(())
    }
}

impl Arm for Fake {
    fn set_joint(&mut self, j: usize, a: f32) -> Result<(), HwError> {
        self.log.borrow_mut().push(Call::Joint(j, a));
        Ok(())
    }
    fn set_gripper(&mut self, s: GripState) -> Result<(), HwError> {
        self.log.borrow_mut().push(Call::Gripper(s));
        Ok(())
    }
    fn safe(&mut self) -> Result<(), HwError> {
        self.log.borrow_mut().push(Call::ArmSafe);
        Ok(())
    }
}

impl Outputs for Fake {
    fn set(&mut self, i: usize, on: bool) -> Result<(), HwError> {
        self.log.borrow_mut().push(Call::Output(i, on));
        Ok(())
    }
    fn safe(&mut self) -> Result<(), HwError> {
        self.log.borrow_mut().push(Call::OutputsSafe);
        Ok(())
    }
}

fn limits() -> Limits {
    crate::limits::fixture()
}

fn motion() -> Motion {
    // Track 0.2 m at 90 deg/s: wheel speed pi/2 * 0.1 = 0.157 m/s.
    Motion {
        speed_mps: 0.25,
        turn_rate_dps: 90.0,
        track_m: 0.2,
        max_wheel_mps: 0.5,
        servo_settle_ms: 300,
        watchdog_ms: 500,
    }
}

type Exec = Executor<Fake, Fake, Fake>;

fn executor(fail_wheels: bool) -> (Exec, Log) {
    let log: Log = Rc::default();
    let fake = |f| Fake { log: log.clone(), fail_wheels: f };
    let e = Executor::new(fake(fail_wheels), fake(false), fake(false), motion(), &limits(), Millis(0)).unwrap();
    log.borrow_mut().clear();
    (e, log)
}

fn checked(actions: &[Action]) -> CheckedPlan {
    limits().approve(&Plan::try_from(actions).unwrap()).unwrap()
}

/// Poll every 10 ms from `from`, feeding the watchdog, until an outcome; returns it and when.
fn run(e: &mut Exec, from: Millis) -> (Outcome, Millis) {
    let mut now = from;
    for _ in 0..100_000 {
        now = now.after(10);
        e.feed(now);
        if let Some(o) = e.poll(now) {
            return (o, now);
        }
    }
    panic!("plan never ended");
}

#[test]
fn drive_runs_both_wheels_forward_for_distance_over_speed() {
    let (mut e, log) = executor(false);
    assert_eq!(e.start(&checked(&[Action::Drive { distance_m: 1.0 }]), Millis(0)), Ok(None));
    assert_eq!(log.borrow().as_slice(), &[Call::Wheels(0.5, 0.5)]);
    // 1 m at 0.25 m/s: 4 s.
    let (o, at) = run(&mut e, Millis(0));
    assert_eq!((o, at), (Outcome::Succeeded, Millis(4000)));
    assert_eq!(log.borrow().last(), Some(&Call::Wheels(0.0, 0.0)));
}

#[test]
fn left_turn_runs_the_right_wheel_forward() {
    let (mut e, log) = executor(false);
    e.start(&checked(&[Action::Turn { angle_deg: 90.0 }]), Millis(0)).unwrap();
    let Call::Wheels(l, r) = log.borrow()[0].clone() else { panic!() };
    assert!(l < 0.0 && r > 0.0, "{l} {r}");
    assert!((r - 0.157_079_6 / 0.5).abs() < 1e-4, "{r}");
    let (o, at) = run(&mut e, Millis(0));
    assert_eq!((o, at), (Outcome::Succeeded, Millis(1000)));
}

#[test]
fn steps_run_in_order_and_instant_steps_take_no_time() {
    let (mut e, log) = executor(false);
    let plan = checked(&[
        Action::Output { name: Name::try_from("lights").unwrap(), on: true },
        Action::Servo { joint: Name::try_from("shoulder").unwrap(), angle_deg: 30.0 },
        Action::Grip { state: GripState::Close },
        Action::Wait { seconds: 0.5 },
        Action::Stop,
    ]);
    e.start(&plan, Millis(0)).unwrap();
    assert_eq!(e.progress(), Some((1, 5)));
    let (o, at) = run(&mut e, Millis(0));
    assert_eq!(o, Outcome::Succeeded);
    assert_eq!(at, Millis(300 + 300 + 500));
    assert_eq!(
        log.borrow().as_slice(),
        &[Call::Output(0, true), Call::Joint(0, 30.0), Call::Gripper(GripState::Close), Call::Wheels(0.0, 0.0),]
    );
}

#[test]
fn second_plan_while_busy_is_refused() {
    let (mut e, _) = executor(false);
    let p = checked(&[Action::Wait { seconds: 1.0 }]);
    e.start(&p, Millis(0)).unwrap();
    assert_eq!(e.start(&p, Millis(1)), Err(Refused::Busy));
}

#[test]
fn cancel_stops_the_wheels_and_ends_the_plan() {
    let (mut e, log) = executor(false);
    e.start(&checked(&[Action::Drive { distance_m: -2.0 }]), Millis(0)).unwrap();
    assert_eq!(log.borrow()[0], Call::Wheels(-0.5, -0.5));
    assert_eq!(e.cancel(), Some(Outcome::Canceled));
    assert_eq!(log.borrow().last(), Some(&Call::Wheels(0.0, 0.0)));
    assert_eq!(e.poll(Millis(10_000)), None);
    assert_eq!(e.cancel(), None);
}

#[test]
fn estop_makes_everything_safe_cancels_and_latches() {
    let (mut e, log) = executor(false);
    let p = checked(&[Action::Drive { distance_m: 1.0 }]);
    e.start(&p, Millis(0)).unwrap();
    assert_eq!(e.engage_estop(), Some(Outcome::Canceled));
    let calls = log.borrow().clone();
    assert!(calls.ends_with(&[Call::Wheels(0.0, 0.0), Call::ArmSafe, Call::OutputsSafe]), "{calls:?}");
    assert_eq!(e.start(&p, Millis(10)), Err(Refused::EStopped));
    e.release_estop();
    e.feed(Millis(20));
    assert_eq!(e.start(&p, Millis(20)), Ok(None));
}

#[test]
fn watchdog_expiry_makes_everything_safe_and_refuses_until_fed() {
    let (mut e, log) = executor(false);
    let p = checked(&[Action::Drive { distance_m: 1.0 }]);
    e.start(&p, Millis(0)).unwrap();
    assert_eq!(e.poll(Millis(500)), None, "not yet: period is 500 ms");
    assert_eq!(e.poll(Millis(501)), Some(Outcome::WatchdogExpired));
    assert!(log.borrow().ends_with(&[Call::Wheels(0.0, 0.0), Call::ArmSafe, Call::OutputsSafe]));
    assert_eq!(e.start(&p, Millis(600)), Err(Refused::Watchdog));
    e.feed(Millis(700));
    assert_eq!(e.start(&p, Millis(700)), Ok(None));
}

#[test]
fn watchdog_trips_an_idle_executor_too() {
    let (mut e, log) = executor(false);
    assert_eq!(e.poll(Millis(1000)), None);
    assert!(log.borrow().ends_with(&[Call::Wheels(0.0, 0.0), Call::ArmSafe, Call::OutputsSafe]));
}

#[test]
fn driver_failure_ends_the_plan_with_outputs_safe() {
    let (mut e, log) = executor(true);
    let p = checked(&[Action::Stop, Action::Drive { distance_m: 1.0 }]);
    assert_eq!(e.start(&p, Millis(0)), Ok(Some(Outcome::DriverFailed { index: 1, error: HwError::Pwm })));
    assert!(log.borrow().ends_with(&[Call::ArmSafe, Call::OutputsSafe]));
    assert_eq!(e.progress(), None);
}

#[test]
fn motion_profile_beyond_the_limits_is_refused() {
    let log: Log = Rc::default();
    let fake = || Fake { log: log.clone(), fail_wheels: false };
    let fast = Motion { speed_mps: 0.6, ..motion() };
    assert_eq!(Executor::new(fake(), fake(), fake(), fast, &limits(), Millis(0)).err(), Some(MotionError::Speed));
    let spin = Motion { turn_rate_dps: 120.0, ..motion() };
    assert_eq!(Executor::new(fake(), fake(), fake(), spin, &limits(), Millis(0)).err(), Some(MotionError::TurnRate));
    let zero = Motion { track_m: 0.0, ..motion() };
    assert_eq!(Executor::new(fake(), fake(), fake(), zero, &limits(), Millis(0)).err(), Some(MotionError::Invalid));
}
