//! Our hardware traits: what the executor drives. `boards` implements them over
//! embedded-hal drivers (real or simulated); the executor knows nothing else.
//!
//! Every trait has a `safe` method that puts its outputs in their safe state: motors
//! off, servo PWM off (the arm relaxes), GPIO outputs low. The e-stop and the watchdog
//! call them; they must not block.

use crate::action::GripState;

/// A hardware operation failed. Drivers map their bus or pin errors to this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HwError {
    /// An I2C transaction failed.
    Bus,
    /// A GPIO pin could not be set.
    Pin,
    /// A PWM duty cycle could not be set.
    Pwm,
    /// A value outside what the device accepts.
    InvalidInput,
    /// A joint or output index the hardware does not have.
    NoSuchChannel,
}

impl core::fmt::Display for HwError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            HwError::Bus => "I2C bus error",
            HwError::Pin => "GPIO pin error",
            HwError::Pwm => "PWM error",
            HwError::InvalidInput => "value out of the device's range",
            HwError::NoSuchChannel => "no such joint or output",
        })
    }
}

/// A differential drive: two wheels.
pub trait Drivetrain {
    /// Wheel speeds as fractions of full speed, each in -1.0..=1.0; positive is forward.
    fn set_wheels(&mut self, left: f32, right: f32) -> Result<(), HwError>;

    /// Safe state: both motors off.
    fn safe(&mut self) -> Result<(), HwError> {
        self.set_wheels(0.0, 0.0)
    }
}

/// An arm of servo joints with a gripper. Joints are numbered in the board's order.
pub trait Arm {
    /// Move joint `joint` to `angle_deg`.
    fn set_joint(&mut self, joint: usize, angle_deg: f32) -> Result<(), HwError>;
    /// Open or close the gripper.
    fn set_gripper(&mut self, state: GripState) -> Result<(), HwError>;
    /// Safe state: every servo's PWM off.
    fn safe(&mut self) -> Result<(), HwError>;
}

/// Named on/off outputs, numbered in the board's order.
pub trait Outputs {
    /// Switch output `index`.
    fn set(&mut self, index: usize, on: bool) -> Result<(), HwError>;
    /// Safe state: every output off.
    fn safe(&mut self) -> Result<(), HwError>;
}
