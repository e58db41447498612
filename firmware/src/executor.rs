//! The executor: steps a [`CheckedPlan`] to completion against a drivetrain, an arm and
//! outputs. Sans-IO: every call takes the time, nothing sleeps or reads a clock.
//!
//! Motion is open loop (dead reckoning): a `drive` runs both wheels at the board's cruise
//! speed for `distance / speed`, a `turn` runs them in opposite directions for
//! `angle / turn rate`; servo moves get a settle time. The caller polls
//! [`Executor::poll`] from its control loop (every few milliseconds) and feeds the
//! watchdog from whatever commands the robot ([`Executor::feed`]).
//!
//! The e-stop is a latch: [`Executor::engage_estop`] puts every output in its safe state
//! at once, ends the running plan as canceled, and refuses new plans until
//! [`Executor::release_estop`]. It never waits on anything.

use core::f32::consts::PI;

use crate::envelope::{CheckedPlan, Step};
use crate::hal::{Arm, Drivetrain, HwError, Outputs};
use crate::limits::Limits;
use crate::plan::MAX_PLAN_LEN;
use crate::time::{secs_to_ms, Millis};
use crate::watchdog::Watchdog;

/// How the robot moves: the board's motion profile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Motion {
    /// Cruise speed for `drive`, m/s.
    pub speed_mps: f32,
    /// Turn rate for `turn`, degrees/s.
    pub turn_rate_dps: f32,
    /// Distance between the wheels, m.
    pub track_m: f32,
    /// Wheel surface speed at full duty, m/s.
    pub max_wheel_mps: f32,
    /// Time allowed for a servo or gripper move, ms.
    pub servo_settle_ms: u64,
    /// Watchdog period, ms.
    pub watchdog_ms: u64,
}

/// A motion profile the board's limits do not allow.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum MotionError {
    /// Cruise speed above the limit or above what the wheels can do.
    Speed,
    /// Turn rate above the limit or above what the wheels can do.
    TurnRate,
    /// A zero, negative or non-finite parameter.
    Invalid,
}

/// Why a plan was not started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refused {
    /// Another plan is running.
    Busy,
    /// The e-stop is engaged.
    EStopped,
    /// The watchdog expired; feed it before starting.
    Watchdog,
}

/// How a plan ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every step ran.
    Succeeded,
    /// Canceled or e-stopped.
    Canceled,
    /// A driver failed at step `index`; outputs were made safe.
    DriverFailed {
        /// The step.
        index: usize,
        /// What failed.
        error: HwError,
    },
    /// The watchdog expired; outputs were made safe.
    WatchdogExpired,
}

#[derive(Debug, Clone)]
struct Active {
    steps: heapless::Vec<Step, MAX_PLAN_LEN>,
    index: usize,
    until: Millis,
}

/// The executor over a drivetrain `D`, an arm `A` and outputs `O`.
pub struct Executor<D, A, O> {
    drivetrain: D,
    arm: A,
    outputs: O,
    motion: Motion,
    watchdog: Watchdog,
    active: Option<Active>,
    estop: bool,
    tripped: bool,
}

impl<D: Drivetrain, A: Arm, O: Outputs> Executor<D, A, O> {
    /// An idle executor; `motion` must fit `limits` and the wheels. Outputs are made safe.
    pub fn new(
        drivetrain: D,
        arm: A,
        outputs: O,
        motion: Motion,
        limits: &Limits,
        now: Millis,
    ) -> Result<Self, MotionError> {
        let positive = |v: f32| v.is_finite() && v > 0.0;
        if !(positive(motion.speed_mps)
            && positive(motion.turn_rate_dps)
            && positive(motion.track_m)
            && positive(motion.max_wheel_mps))
        {
            return Err(MotionError::Invalid);
        }
        if motion.speed_mps > limits.max_speed_mps || motion.speed_mps > motion.max_wheel_mps {
            return Err(MotionError::Speed);
        }
        if motion.turn_rate_dps > limits.max_turn_rate_dps || turn_wheel_speed(&motion) > motion.max_wheel_mps {
            return Err(MotionError::TurnRate);
        }
        let mut e = Executor {
            drivetrain,
            arm,
            outputs,
            motion,
            watchdog: Watchdog::new(motion.watchdog_ms, now),
            active: None,
            estop: false,
            tripped: false,
        };
        let _ = e.all_safe();
        Ok(e)
    }

    /// Start a plan at `now`. Its first step begins at once.
    pub fn start(&mut self, plan: &CheckedPlan, now: Millis) -> Result<Option<Outcome>, Refused> {
        if self.estop {
            return Err(Refused::EStopped);
        }
        if self.tripped || self.watchdog.expired(now) {
            return Err(Refused::Watchdog);
        }
        if self.active.is_some() {
            return Err(Refused::Busy);
        }
        let steps = heapless::Vec::from_slice(plan.steps()).unwrap_or_default();
        self.active = Some(Active { steps, index: 0, until: now });
        Ok(self.begin(now))
    }

    /// Advance with time: end steps whose time is up, begin the next, check the watchdog.
    /// Returns the outcome when the plan ends.
    pub fn poll(&mut self, now: Millis) -> Option<Outcome> {
        if !self.tripped && self.watchdog.expired(now) {
            self.tripped = true;
            let _ = self.all_safe();
            return self.active.take().map(|_| Outcome::WatchdogExpired);
        }
        let active = self.active.as_mut()?;
        if now < active.until {
            return None;
        }
        let (index, step) = (active.index, active.steps[active.index]);
        if matches!(step, Step::Drive(_) | Step::Turn(_)) {
            if let Err(error) = self.drivetrain.set_wheels(0.0, 0.0) {
                return Some(self.fail(index, error));
            }
        }
        if let Some(a) = self.active.as_mut() {
            a.index += 1;
        }
        self.begin(now)
    }

    /// Begin the current step; loops over steps that take no time.
    fn begin(&mut self, now: Millis) -> Option<Outcome> {
        loop {
            let active = self.active.as_mut()?;
            let Some(&step) = active.steps.get(active.index) else {
                self.active = None;
                return Some(Outcome::Succeeded);
            };
            let index = active.index;
            match self.issue(step) {
                Ok(0) => {
                    if let Some(a) = self.active.as_mut() {
                        a.index += 1;
                    }
                }
                Ok(ms) => {
                    if let Some(a) = self.active.as_mut() {
                        a.until = now.after(ms);
                    }
                    return None;
                }
                Err(error) => return Some(self.fail(index, error)),
            }
        }
    }

    /// Send a step to the hardware; returns how long it takes, ms.
    fn issue(&mut self, step: Step) -> Result<u64, HwError> {
        let m = self.motion;
        match step {
            Step::Drive(d) => {
                let f = (m.speed_mps / m.max_wheel_mps).copysign(d);
                self.drivetrain.set_wheels(f, f)?;
                Ok(secs_to_ms(d.abs() / m.speed_mps))
            }
            Step::Turn(deg) => {
                // Counter-clockwise (left) is positive: left wheel back, right wheel forward.
                let f = (turn_wheel_speed(&m) / m.max_wheel_mps).copysign(deg);
                self.drivetrain.set_wheels(-f, f)?;
                Ok(secs_to_ms(deg.abs() / m.turn_rate_dps))
            }
            Step::Stop => self.drivetrain.set_wheels(0.0, 0.0).map(|_| 0),
            Step::Servo(j, deg) => self.arm.set_joint(j, deg).map(|_| m.servo_settle_ms),
            Step::Grip(s) => self.arm.set_gripper(s).map(|_| m.servo_settle_ms),
            Step::Output(i, on) => self.outputs.set(i, on).map(|_| 0),
            Step::Wait(s) => Ok(secs_to_ms(s)),
        }
    }

    fn fail(&mut self, index: usize, error: HwError) -> Outcome {
        self.active = None;
        let _ = self.all_safe();
        Outcome::DriverFailed { index, error }
    }

    /// Every output to its safe state; the first error is returned, but every part is tried.
    fn all_safe(&mut self) -> Result<(), HwError> {
        let d = self.drivetrain.safe();
        let a = self.arm.safe();
        let o = self.outputs.safe();
        d.and(a).and(o)
    }

    /// Cancel the running plan: the wheels stop, the arm and outputs stay where they are.
    pub fn cancel(&mut self) -> Option<Outcome> {
        self.active.take()?;
        let _ = self.drivetrain.set_wheels(0.0, 0.0);
        Some(Outcome::Canceled)
    }

    /// Latch the e-stop: every output safe now; a running plan ends canceled.
    pub fn engage_estop(&mut self) -> Option<Outcome> {
        self.estop = true;
        let _ = self.all_safe();
        self.active.take().map(|_| Outcome::Canceled)
    }

    /// Release the e-stop latch; outputs stay safe until the next plan moves them.
    pub fn release_estop(&mut self) {
        self.estop = false;
    }

    /// Feed the watchdog. After it expired, a feed re-arms it (outputs stay safe).
    pub fn feed(&mut self, now: Millis) {
        self.watchdog.feed(now);
        self.tripped = false;
    }

    /// Whether the e-stop is engaged.
    pub fn estopped(&self) -> bool {
        self.estop
    }

    /// `(step index, steps)` of the running plan.
    pub fn progress(&self) -> Option<(usize, usize)> {
        self.active.as_ref().map(|a| (a.index, a.steps.len()))
    }

    /// Give the hardware back.
    pub fn destroy(self) -> (D, A, O) {
        (self.drivetrain, self.arm, self.outputs)
    }
}

/// Wheel surface speed for the profile's turn rate, m/s.
fn turn_wheel_speed(m: &Motion) -> f32 {
    m.turn_rate_dps * PI / 180.0 * m.track_m / 2.0
}

#[cfg(test)]
mod tests;
