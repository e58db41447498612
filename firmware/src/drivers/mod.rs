//! Drivers over embedded-hal 1.0 traits, implementing our [`crate::hal`] traits.
//!
//! - [`servo`]: servos on a PCA9685 PWM controller (through the `pwm-pca9685` crate),
//!   angle to pulse width per servo calibration; implements [`crate::hal::Arm`].
//! - [`hbridge`]: DC motors on an H-bridge (PWM duty + two direction pins), and a
//!   differential drive of two of them; implements [`crate::hal::Drivetrain`].
//! - [`gpio`]: named on/off outputs on GPIO pins; implements [`crate::hal::Outputs`].

pub mod gpio;
pub mod hbridge;
pub mod servo;
