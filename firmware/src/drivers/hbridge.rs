//! DC motors on an H-bridge (L298N, TB6612, DRV8833 style): a PWM enable for speed and two
//! direction inputs. IN1 high / IN2 low is forward, the reverse is backward, both low
//! lets the motor coast. Direction is set before the duty; on stop the duty goes first.

use embedded_hal::digital::OutputPin;
use embedded_hal::pwm::SetDutyCycle;

use crate::hal::{Drivetrain, HwError};

/// Duty cycle resolution used for fractions (per mille).
const PER_MILLE: u16 = 1000;

/// One motor on one H-bridge channel.
pub struct Motor<PWM, PIN> {
    pwm: PWM,
    in1: PIN,
    in2: PIN,
    inverted: bool,
}

impl<PWM: SetDutyCycle, PIN: OutputPin> Motor<PWM, PIN> {
    /// A motor; `inverted` swaps forward and backward (a motor mounted mirrored).
    pub fn new(pwm: PWM, in1: PIN, in2: PIN, inverted: bool) -> Self {
        Motor { pwm, in1, in2, inverted }
    }

    /// Run at `speed` in -1.0..=1.0 of full duty; 0 coasts.
    pub fn set(&mut self, speed: f32) -> Result<(), HwError> {
        if !speed.is_finite() || !(-1.0..=1.0).contains(&speed) {
            return Err(HwError::InvalidInput);
        }
        let speed = if self.inverted { -speed } else { speed };
        let duty = (speed.abs() * PER_MILLE as f32 + 0.5) as u16;
        if duty == 0 {
            self.pwm.set_duty_cycle_fully_off().map_err(|_| HwError::Pwm)?;
            self.in1.set_low().map_err(|_| HwError::Pin)?;
            return self.in2.set_low().map_err(|_| HwError::Pin);
        }
        let (a, b) = if speed > 0.0 { (&mut self.in1, &mut self.in2) } else { (&mut self.in2, &mut self.in1) };
        b.set_low().map_err(|_| HwError::Pin)?;
        a.set_high().map_err(|_| HwError::Pin)?;
        self.pwm.set_duty_cycle_fraction(duty, PER_MILLE).map_err(|_| HwError::Pwm)
    }

    /// Give the PWM channel and pins back.
    pub fn destroy(self) -> (PWM, PIN, PIN) {
        (self.pwm, self.in1, self.in2)
    }
}

/// Two motors as a differential drive.
pub struct DiffDrive<PWM, PIN> {
    /// Left wheel.
    pub left: Motor<PWM, PIN>,
    /// Right wheel.
    pub right: Motor<PWM, PIN>,
}

impl<PWM: SetDutyCycle, PIN: OutputPin> Drivetrain for DiffDrive<PWM, PIN> {
    fn set_wheels(&mut self, left: f32, right: f32) -> Result<(), HwError> {
        // Both are tried even if the first fails, so a stop reaches both wheels.
        let l = self.left.set(left);
        let r = self.right.set(right);
        l.and(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_hal_mock::eh1::digital::{Mock as Pin, State, Transaction as P};
    use embedded_hal_mock::eh1::pwm::{Mock as Pwm, Transaction as W};

    const MAX_DUTY: u16 = 4000;

    #[test]
    fn forward_sets_in1_high_then_the_duty() {
        let pwm = Pwm::new(&[W::max_duty_cycle(MAX_DUTY), W::set_duty_cycle(3000)]);
        let in1 = Pin::new(&[P::set(State::High)]);
        let in2 = Pin::new(&[P::set(State::Low)]);
        let mut m = Motor::new(pwm, in1, in2, false);
        m.set(0.75).unwrap();
        let (mut pwm, mut in1, mut in2) = m.destroy();
        pwm.done();
        in1.done();
        in2.done();
    }

    #[test]
    fn backward_and_inverted_swap_the_pins() {
        // Inverted motor asked to go forward runs backward: IN2 high.
        let pwm = Pwm::new(&[W::max_duty_cycle(MAX_DUTY), W::set_duty_cycle(2000)]);
        let in1 = Pin::new(&[P::set(State::Low)]);
        let in2 = Pin::new(&[P::set(State::High)]);
        let mut m = Motor::new(pwm, in1, in2, true);
        m.set(0.5).unwrap();
        let (mut pwm, mut in1, mut in2) = m.destroy();
        pwm.done();
        in1.done();
        in2.done();
    }

    #[test]
    fn zero_turns_the_duty_off_first_and_coasts() {
        let pwm = Pwm::new(&[W::set_duty_cycle(0)]);
        let in1 = Pin::new(&[P::set(State::Low)]);
        let in2 = Pin::new(&[P::set(State::Low)]);
        let mut m = Motor::new(pwm, in1, in2, false);
        m.set(0.0).unwrap();
        let (mut pwm, mut in1, mut in2) = m.destroy();
        pwm.done();
        in1.done();
        in2.done();
    }

    #[test]
    fn out_of_range_speed_touches_no_pin() {
        let mut m = Motor::new(Pwm::new(&[]), Pin::new(&[]), Pin::new(&[]), false);
        assert_eq!(m.set(1.5), Err(HwError::InvalidInput));
        assert_eq!(m.set(f32::NAN), Err(HwError::InvalidInput));
        let (mut pwm, mut in1, mut in2) = m.destroy();
        pwm.done();
        in1.done();
        in2.done();
    }
}
