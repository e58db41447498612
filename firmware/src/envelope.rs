//! The safety envelope's output: a [`CheckedPlan`], the only thing the executor accepts.
//!
//! A `CheckedPlan` can only be made by [`Limits::approve`], which checks the whole plan
//! first, so a plan outside the board's limits cannot reach a driver: the type says so.
//! Approval also resolves joint and output names to the board's indices, so the executor
//! does no string work while the robot moves.

use crate::action::{Action, GripState};
use crate::limits::{Limits, Violation};
use crate::plan::{Plan, MAX_PLAN_LEN};

/// One approved action, with names resolved to indices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    /// Drive this far, meters (+ forward).
    Drive(f32),
    /// Turn this far, degrees (+ left).
    Turn(f32),
    /// Stop the wheels.
    Stop,
    /// Move joint `0` to angle `1` degrees.
    Servo(usize, f32),
    /// Set the gripper.
    Grip(GripState),
    /// Switch output `0`.
    Output(usize, bool),
    /// Wait this long, seconds.
    Wait(f32),
}

/// A plan the board's limits accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedPlan {
    steps: heapless::Vec<Step, MAX_PLAN_LEN>,
}

impl CheckedPlan {
    /// The approved steps, in order.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }
}

impl Limits {
    /// Check `plan` whole and, if it passes, resolve it into steps for the executor.
    pub fn approve(&self, plan: &Plan) -> Result<CheckedPlan, Violation> {
        self.check(plan)?;
        let mut steps = heapless::Vec::new();
        for a in plan.actions() {
            let step = match a {
                Action::Drive { distance_m } => Step::Drive(*distance_m),
                Action::Turn { angle_deg } => Step::Turn(*angle_deg),
                Action::Stop => Step::Stop,
                Action::Servo { joint, angle_deg } => {
                    // `check` guarantees the joint exists.
                    let i = self.joints.iter().position(|j| j.name == *joint).unwrap_or(0);
                    Step::Servo(i, *angle_deg)
                }
                Action::Grip { state } => Step::Grip(*state),
                Action::Output { name, on } => {
                    let i = self.outputs.iter().position(|o| o == name).unwrap_or(0);
                    Step::Output(i, *on)
                }
                Action::Wait { seconds } => Step::Wait(*seconds),
            };
            // A plan holds at most MAX_PLAN_LEN actions, so this cannot overflow.
            let _ = steps.push(step);
        }
        Ok(CheckedPlan { steps })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Name;

    fn limits() -> Limits {
        crate::limits::fixture()
    }

    #[test]
    fn approval_resolves_names_to_board_indices() {
        let plan: Plan = Plan::try_from(
            &[
                Action::Servo { joint: Name::try_from("elbow").unwrap(), angle_deg: 10.0 },
                Action::Output { name: Name::try_from("horn").unwrap(), on: true },
                Action::Drive { distance_m: 1.0 },
            ][..],
        )
        .unwrap();
        let c = limits().approve(&plan).unwrap();
        assert_eq!(c.steps(), &[Step::Servo(1, 10.0), Step::Output(1, true), Step::Drive(1.0)]);
    }

    #[test]
    fn a_plan_outside_the_limits_gets_no_checked_plan() {
        let plan = Plan::try_from(&[Action::Stop, Action::Drive { distance_m: 7.5 }][..]).unwrap();
        assert_eq!(limits().approve(&plan), Err(Violation::Distance { index: 1, value: 7.5, max: 5.0 }));
    }
}
