//! The `sim` board: a simulated robot driven through the real firmware drivers.
//!
//! The firmware's [`ServoArm`] talks I2C to a simulated PCA9685 ([`SimI2c`]); its
//! [`DiffDrive`] sets duty on simulated PWM channels and levels on simulated direction
//! lines; its [`GpioOutputs`] switch simulated lines. The world reads those registers and
//! lines back, as the hardware would: servo pulses become joint angles, duty and direction
//! become wheel speeds, and [`Sim::advance`] integrates the rover's pose (x forward,
//! y left, heading counter-clockwise). Its [`SimState`] is what telemetry reports and what
//! tests assert on.

mod io;
mod pca9685;

use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;
use trinity_firmware::drivers::gpio::GpioOutputs;
use trinity_firmware::drivers::hbridge::{DiffDrive, Motor};
use trinity_firmware::drivers::servo::{ServoArm, ServoCal};
use trinity_firmware::executor::MotionError;
use trinity_firmware::{Executor, Millis};

pub use io::{SimPin, SimPwm, MAX_DUTY};
pub use pca9685::SimI2c;

use crate::Board;
use io::Line;

/// The executor type of the sim board.
pub type SimExecutor = Executor<DiffDrive<SimPwm, SimPin>, ServoArm<SimI2c>, GpioOutputs<SimPin, 8>>;

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MotorIo {
    pub(crate) duty: u16,
    pub(crate) in1: bool,
    pub(crate) in2: bool,
}

/// Faults a test can inject.
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    /// Every I2C transaction fails.
    pub i2c: bool,
}

pub(crate) struct World {
    pub(crate) pca: pca9685::Registers,
    pub(crate) pca_address: u8,
    pub(crate) motors: [MotorIo; 2],
    pub(crate) outputs: Vec<bool>,
    pub(crate) faults: Faults,
    x: f64,
    y: f64,
    heading: f64,
    moving: bool,
    motions: u64,
}

impl World {
    /// After any write to a motor's lines: count a motion when the wheels start from rest.
    pub(crate) fn motors_written(&mut self) {
        let moving = self.motors.iter().any(|m| m.duty > 0 && m.in1 != m.in2);
        if moving && !self.moving {
            self.motions += 1;
        }
        self.moving = moving;
    }
}

/// The simulated robot.
#[derive(Clone)]
pub struct Sim {
    world: Arc<Mutex<World>>,
    board: Board,
}

/// A joint's state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JointState {
    /// Joint name.
    pub name: String,
    /// Angle from the servo's pulse, degrees; `None` when its PWM is off (relaxed).
    pub angle_deg: Option<f32>,
}

/// Everything observable about the simulated robot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimState {
    /// Position, m (x forward from the start, y to the left).
    pub x_m: f64,
    /// Position, m.
    pub y_m: f64,
    /// Heading, degrees counter-clockwise from the start, in (-180, 180].
    pub heading_deg: f64,
    /// Wheel surface speeds (left, right), m/s.
    pub wheels_mps: [f64; 2],
    /// Arm joints.
    pub joints: Vec<JointState>,
    /// Gripper angle, degrees; `None` when relaxed.
    pub gripper_deg: Option<f32>,
    /// `"open"`, `"closed"` or `"relaxed"`.
    pub gripper: &'static str,
    /// Named outputs and their state.
    pub outputs: Vec<(String, bool)>,
    /// Motions started (the wheels going from rest to moving) since power-on: the action
    /// log of the drivetrain, one per drive or turn step.
    pub motions: u64,
}

impl SimState {
    /// Whether every output is in its safe state: wheels stopped, servos relaxed, outputs off.
    pub fn all_safe(&self) -> bool {
        self.wheels_mps == [0.0, 0.0]
            && self.joints.iter().all(|j| j.angle_deg.is_none())
            && self.gripper_deg.is_none()
            && self.outputs.iter().all(|(_, on)| !on)
    }
}

fn angle_from_pulse(us: f32, min_deg: f32, max_deg: f32, min_us: f32, max_us: f32) -> f32 {
    min_deg + (us - min_us) / (max_us - min_us) * (max_deg - min_deg)
}

impl Sim {
    /// A robot at the origin, everything off, wired as `board` says.
    pub fn new(board: &Board) -> Sim {
        let world = World {
            pca: pca9685::Registers::default(),
            pca_address: board.wiring.pca9685_address,
            motors: [MotorIo::default(); 2],
            outputs: vec![false; board.wiring.outputs.len()],
            faults: Faults::default(),
            x: 0.0,
            y: 0.0,
            heading: 0.0,
            moving: false,
            motions: 0,
        };
        Sim { world: Arc::new(Mutex::new(world)), board: board.clone() }
    }

    fn world(&self) -> MutexGuard<'_, World> {
        // A poisoned lock only means a test panicked while holding it; the data is plain.
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Inject faults.
    pub fn set_faults(&self, faults: Faults) {
        self.world().faults = faults;
    }

    /// An executor whose drivers drive this simulated hardware.
    pub fn executor(&self, now: Millis) -> Result<SimExecutor, SimError> {
        let b = &self.board;
        let w = &b.wiring;
        let motor = |i: usize, inverted: bool| {
            let pin = |line| SimPin { world: self.world.clone(), line };
            Motor::new(SimPwm { world: self.world.clone(), motor: i }, pin(Line::In1(i)), pin(Line::In2(i)), inverted)
        };
        let drive = DiffDrive { left: motor(0, w.drive.left.inverted), right: motor(1, w.drive.right.inverted) };
        let joints: Vec<ServoCal> = w.arm.joints.iter().map(|j| j.cal()).collect();
        let gripper = w.arm.gripper.as_ref().map(|g| g.gripper());
        let arm = ServoArm::new(SimI2c { world: self.world.clone() }, w.pca9685_address, &joints, gripper)
            .map_err(|e| SimError::Arm(format!("{e:?}")))?;
        let pins = (0..w.outputs.len()).map(|i| SimPin { world: self.world.clone(), line: Line::Output(i) });
        let outputs = GpioOutputs::new(pins.collect());
        Executor::new(drive, arm, outputs, b.motion, &b.limits, now).map_err(SimError::Motion)
    }

    /// Wheel surface speeds (left, right) from the motor duty and direction lines, m/s.
    fn wheel_speeds(&self, w: &World) -> [f64; 2] {
        let d = &self.board.wiring.drive;
        let speed = |io: &MotorIo, inverted: bool| {
            let dir = match (io.in1, io.in2) {
                (true, false) => 1.0,
                (false, true) => -1.0,
                _ => 0.0,
            };
            // A mirrored motor turns its wheel forward when driven electrically backward.
            let mount = if inverted { -1.0 } else { 1.0 };
            // `+ 0.0` turns a stopped mirrored wheel's -0.0 into 0.0.
            dir * mount * f64::from(io.duty) / f64::from(MAX_DUTY) * f64::from(d.max_wheel_mps) + 0.0
        };
        [speed(&w.motors[0], d.left.inverted), speed(&w.motors[1], d.right.inverted)]
    }

    /// Let `ms` milliseconds of simulated time pass at the current wheel speeds.
    pub fn advance(&self, ms: u64) {
        let track = f64::from(self.board.wiring.drive.track_m);
        let mut w = self.world();
        let [vl, vr] = self.wheel_speeds(&w);
        let dt = ms as f64 / 1000.0;
        let v = (vl + vr) / 2.0;
        let omega = (vr - vl) / track;
        let h = w.heading;
        if omega.abs() < 1e-12 {
            w.x += v * h.cos() * dt;
            w.y += v * h.sin() * dt;
        } else {
            // Exact integration along the arc.
            let h2 = h + omega * dt;
            w.x += v / omega * (h2.sin() - h.sin());
            w.y -= v / omega * (h2.cos() - h.cos());
            w.heading = h2;
        }
    }

    /// What the robot is doing now.
    pub fn state(&self) -> SimState {
        let w = self.world();
        let wiring = &self.board.wiring;
        let joints = wiring
            .arm
            .joints
            .iter()
            .map(|j| JointState {
                name: j.name.clone(),
                angle_deg: w
                    .pca
                    .pulse_us(j.channel)
                    .map(|us| angle_from_pulse(us, j.min_deg, j.max_deg, j.min_us, j.max_us)),
            })
            .collect();
        let (gripper_deg, gripper) = match &wiring.arm.gripper {
            Some(g) => match w.pca.pulse_us(g.channel) {
                Some(us) => {
                    let a = angle_from_pulse(us, g.min_deg, g.max_deg, g.min_us, g.max_us);
                    let open = (a - g.open_deg).abs() < (a - g.closed_deg).abs();
                    (Some(a), if open { "open" } else { "closed" })
                }
                None => (None, "relaxed"),
            },
            None => (None, "relaxed"),
        };
        let mut heading = w.heading.to_degrees() % 360.0;
        if heading > 180.0 {
            heading -= 360.0;
        } else if heading <= -180.0 {
            heading += 360.0;
        }
        SimState {
            x_m: w.x,
            y_m: w.y,
            heading_deg: heading,
            wheels_mps: self.wheel_speeds(&w),
            joints,
            gripper_deg,
            gripper,
            outputs: wiring.outputs.iter().map(|o| o.name.clone()).zip(w.outputs.iter().copied()).collect(),
            motions: w.motions,
        }
    }
}

/// Why the sim's executor could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The servo driver refused the wiring or the bus failed.
    #[error("servo arm: {0}")]
    Arm(String),
    /// The motion profile breaks the board's limits.
    #[error("motion profile: {0:?}")]
    Motion(MotionError),
}

#[cfg(test)]
mod tests;
