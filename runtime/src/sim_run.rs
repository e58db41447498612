//! Run a plan on the sim board in simulated time: what `trinity ask --execute` and the
//! end-to-end tests use. The executor and drivers are the firmware's own; only the clock
//! is fast-forwarded (10 ms per tick), so a 4 s drive takes microseconds.

use serde::Serialize;
use trinity_boards::sim::{Sim, SimState};
use trinity_boards::Board;
use trinity_firmware::{Action, GripState, Millis, Outcome, Plan, Violation};

/// Control-loop period of the simulated run, ms.
pub const TICK_MS: u64 = 10;
/// Longest simulated run (a plan of 8 long actions fits comfortably).
const MAX_SIM_MS: u64 = 10 * 60 * 1000;

/// Why a plan did not run on the sim.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimRunError {
    /// The board's limits refused the plan.
    #[error("plan refused by the board's limits: {0}")]
    Limits(Violation),
    /// The sim's executor could not be built or refused the plan.
    #[error("sim executor: {0}")]
    Executor(String),
    /// The plan ran longer than any valid plan can.
    #[error("the plan did not finish within {MAX_SIM_MS} ms of simulated time")]
    Timeout,
}

/// How a simulated run ended and where the robot is.
#[derive(Debug, Clone, Serialize)]
pub struct SimRun {
    /// `succeeded`, `canceled`, `driver_failed` or `watchdog_expired`.
    pub outcome: &'static str,
    /// Simulated time the plan took, ms.
    pub sim_ms: u64,
    /// The robot afterwards.
    pub state: SimState,
}

fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Succeeded => "succeeded",
        Outcome::Canceled => "canceled",
        Outcome::DriverFailed { .. } => "driver_failed",
        Outcome::WatchdogExpired => "watchdog_expired",
    }
}

/// Approve `plan` against `board` and run it on a fresh sim robot.
pub fn run(board: &Board, plan: &Plan) -> Result<SimRun, SimRunError> {
    let checked = board.limits.approve(plan).map_err(SimRunError::Limits)?;
    let sim = Sim::new(board);
    let mut ex = sim.executor(Millis(0)).map_err(|e| SimRunError::Executor(e.to_string()))?;
    let mut now = Millis(0);
    let mut outcome = ex.start(&checked, now).map_err(|e| SimRunError::Executor(format!("{e:?}")))?;
    while outcome.is_none() {
        if now.0 > MAX_SIM_MS {
            return Err(SimRunError::Timeout);
        }
        sim.advance(TICK_MS);
        now = now.after(TICK_MS);
        ex.feed(now);
        outcome = ex.poll(now);
    }
    let outcome = outcome.map(outcome_name).unwrap_or("succeeded");
    Ok(SimRun { outcome, sim_ms: now.0, state: sim.state() })
}

/// One action in words: `drive 2 m`, `turn right 90°`, `servo elbow to 45°`.
pub fn describe_action(a: &Action) -> String {
    let n = |v: f32| format!("{}", (v * 1000.0).round() / 1000.0);
    match a {
        Action::Drive { distance_m } if *distance_m < 0.0 => format!("back {} m", n(-distance_m)),
        Action::Drive { distance_m } => format!("drive {} m", n(*distance_m)),
        Action::Turn { angle_deg } if *angle_deg < 0.0 => format!("turn right {}°", n(-angle_deg)),
        Action::Turn { angle_deg } => format!("turn left {}°", n(*angle_deg)),
        Action::Stop => "stop".into(),
        Action::Servo { joint, angle_deg } => format!("servo {} to {}°", joint.as_str(), n(*angle_deg)),
        Action::Grip { state: GripState::Open } => "open the gripper".into(),
        Action::Grip { state: GripState::Close } => "close the gripper".into(),
        Action::Output { name, on } => format!("{} {}", name.as_str(), if *on { "on" } else { "off" }),
        Action::Wait { seconds } => format!("wait {} s", n(*seconds)),
    }
}

/// A plan in words, one step per line (`nothing to do` for an empty one).
pub fn describe_plan(plan: &Plan) -> String {
    if plan.actions().is_empty() {
        return "  nothing to do\n".into();
    }
    plan.actions().iter().enumerate().map(|(i, a)| format!("  {}. {}\n", i + 1, describe_action(a))).collect()
}

/// A run's outcome and the robot afterwards, for a person at a terminal.
pub fn describe_run(run: &SimRun) -> String {
    let s = &run.state;
    let mut out = format!("outcome: {} after {:.2} s (simulated)\n", run.outcome, run.sim_ms as f64 / 1000.0);
    out += &format!(
        "robot:   at x {:.2} m, y {:.2} m, heading {:.0}°; {} motion(s)\n",
        s.x_m, s.y_m, s.heading_deg, s.motions
    );
    let joints: Vec<String> = s
        .joints
        .iter()
        .map(|j| match j.angle_deg {
            Some(a) => format!("{} {a:.0}°", j.name),
            None => format!("{} relaxed", j.name),
        })
        .collect();
    if !joints.is_empty() {
        out += &format!("arm:     {}; gripper {}\n", joints.join(", "), s.gripper);
    }
    if !s.outputs.is_empty() {
        let outputs: Vec<String> =
            s.outputs.iter().map(|(n, on)| format!("{n} {}", if *on { "on" } else { "off" })).collect();
        out += &format!("outputs: {}\n", outputs.join(", "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drive_ends_where_it_should_and_reports_the_time() {
        let plan = Plan::try_from(&[Action::Drive { distance_m: 0.6 }][..]).unwrap();
        let r = run(&trinity_boards::sim(), &plan).unwrap();
        assert_eq!(r.outcome, "succeeded");
        assert!((r.state.x_m - 0.6).abs() < 0.005, "{:?}", r.state);
        assert_eq!(r.sim_ms, 2000);
    }

    #[test]
    fn an_out_of_limit_plan_does_not_run() {
        let plan = Plan::try_from(&[Action::Drive { distance_m: 50.0 }][..]).unwrap();
        let e = run(&trinity_boards::sim(), &plan).unwrap_err();
        assert!(e.to_string().contains("limit of 5 m"), "{e}");
    }

    #[test]
    fn plans_and_runs_read_as_words() {
        let plan = Plan::try_from(
            &[
                Action::Drive { distance_m: -0.5 },
                Action::Turn { angle_deg: -90.0 },
                Action::Grip { state: GripState::Open },
            ][..],
        )
        .unwrap();
        assert_eq!(describe_plan(&plan), "  1. back 0.5 m\n  2. turn right 90°\n  3. open the gripper\n");
        assert_eq!(describe_plan(&Plan::try_from(&[][..]).unwrap()), "  nothing to do\n");
        let r = run(&trinity_boards::sim(), &plan).unwrap();
        let text = describe_run(&r);
        assert!(text.starts_with("outcome: succeeded after "), "{text}");
        assert!(text.contains("heading -90°; 2 motion(s)"), "{text}");
        assert!(text.contains("gripper open"), "{text}");
        assert!(text.contains("lights off, horn off"), "{text}");
    }
}
