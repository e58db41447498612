//! Simulated PWM channels and GPIO lines: they record what the firmware drivers set, and
//! the world reads them to move the robot.

use std::sync::{Arc, Mutex};

use embedded_hal::digital::{ErrorKind as PinErrorKind, ErrorType as PinErrorType, OutputPin};
use embedded_hal::pwm::{ErrorKind as PwmErrorKind, ErrorType as PwmErrorType, SetDutyCycle};

use super::World;

/// Full-scale duty of a simulated PWM channel.
pub const MAX_DUTY: u16 = 10_000;

/// A motor's PWM channel.
#[derive(Clone)]
pub struct SimPwm {
    pub(crate) world: Arc<Mutex<World>>,
    pub(crate) motor: usize,
}

impl PwmErrorType for SimPwm {
    type Error = PwmErrorKind;
}

impl SetDutyCycle for SimPwm {
    fn max_duty_cycle(&self) -> u16 {
        MAX_DUTY
    }

    fn set_duty_cycle(&mut self, duty: u16) -> Result<(), PwmErrorKind> {
        let mut w = self.world.lock().map_err(|_| PwmErrorKind::Other)?;
        w.motors[self.motor].duty = duty.min(MAX_DUTY);
        w.motors_written();
        Ok(())
    }
}

/// Which line a simulated pin is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Line {
    In1(usize),
    In2(usize),
    Output(usize),
}

/// A GPIO output line.
#[derive(Clone)]
pub struct SimPin {
    pub(crate) world: Arc<Mutex<World>>,
    pub(crate) line: Line,
}

impl PinErrorType for SimPin {
    type Error = PinErrorKind;
}

impl SimPin {
    fn set(&mut self, high: bool) -> Result<(), PinErrorKind> {
        let mut w = self.world.lock().map_err(|_| PinErrorKind::Other)?;
        match self.line {
            Line::In1(m) => {
                w.motors[m].in1 = high;
                w.motors_written();
            }
            Line::In2(m) => {
                w.motors[m].in2 = high;
                w.motors_written();
            }
            Line::Output(i) => {
                if let Some(o) = w.outputs.get_mut(i) {
                    *o = high;
                }
            }
        }
        Ok(())
    }
}

impl OutputPin for SimPin {
    fn set_low(&mut self) -> Result<(), PinErrorKind> {
        self.set(false)
    }

    fn set_high(&mut self) -> Result<(), PinErrorKind> {
        self.set(true)
    }
}
