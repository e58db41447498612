//! Run a plan on the sim board in simulated time: what `trinity ask --execute` and the
//! end-to-end tests use. The executor and drivers are the firmware's own; only the clock
//! is fast-forwarded (10 ms per tick), so a 4 s drive takes microseconds.

use serde::Serialize;
use trinity_boards::sim::{Sim, SimState};
use trinity_boards::Board;
use trinity_firmware::{Millis, Outcome, Plan, Violation};

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

#[cfg(test)]
mod tests {
    use super::*;
    use trinity_firmware::Action;

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
}
