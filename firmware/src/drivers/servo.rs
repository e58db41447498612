//! Servos on a PCA9685 16-channel PWM controller.
//!
//! Hobby servos take a pulse every 20 ms (50 Hz) whose width sets the angle, about
//! 500–2500 µs over their travel. The PCA9685 divides its 25 MHz oscillator: with
//! `PRE_SCALE = round(25 MHz / (4096 × 50 Hz)) − 1 = 121`, one of its 4096 counts lasts
//! `(121 + 1) / 25 MHz = 4.88 µs`. A pulse of `w` µs is then `round(w / 4.88)` counts,
//! switched on at count 0 and off at that count.

use pwm_pca9685::{Address, Channel, Pca9685};

use crate::action::GripState;
use crate::hal::{Arm, HwError};

/// The PCA9685's internal oscillator, Hz (datasheet §7.3.5).
pub const OSC_HZ: f32 = 25_000_000.0;
/// Servo frame rate, Hz.
pub const SERVO_HZ: f32 = 50.0;
/// `PRE_SCALE` for [`SERVO_HZ`] (datasheet equation 1).
pub const PRESCALE: u8 = 121;

/// Calibration of one servo: which channel, and which pulse width at which angle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServoCal {
    /// PCA9685 channel, 0–15.
    pub channel: u8,
    /// Angle at `min_us`, degrees.
    pub min_deg: f32,
    /// Angle at `max_us`, degrees.
    pub max_deg: f32,
    /// Pulse width at `min_deg`, µs.
    pub min_us: f32,
    /// Pulse width at `max_deg`, µs.
    pub max_us: f32,
}

impl ServoCal {
    /// Pulse width for `angle_deg`, µs; angles outside the calibration are refused.
    pub fn pulse_us(&self, angle_deg: f32) -> Result<f32, HwError> {
        let (lo, hi) = (self.min_deg.min(self.max_deg), self.min_deg.max(self.max_deg));
        if !angle_deg.is_finite() || angle_deg < lo || angle_deg > hi {
            return Err(HwError::InvalidInput);
        }
        let t = (angle_deg - self.min_deg) / (self.max_deg - self.min_deg);
        Ok(self.min_us + t * (self.max_us - self.min_us))
    }
}

/// PCA9685 counts for a pulse of `us` microseconds at [`PRESCALE`].
pub fn counts(us: f32) -> u16 {
    let count_us = (PRESCALE as f32 + 1.0) / OSC_HZ * 1e6;
    let c = (us / count_us + 0.5) as u32;
    c.min(4095) as u16
}

/// The gripper: a servo and its open and closed angles.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gripper {
    /// Its servo.
    pub servo: ServoCal,
    /// Angle when open.
    pub open_deg: f32,
    /// Angle when closed.
    pub closed_deg: f32,
}

/// Driver errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error<E> {
    /// The I2C bus failed.
    I2C(E),
    /// A channel, angle or calibration the device cannot take.
    InvalidInputData,
}

impl<E> From<pwm_pca9685::Error<E>> for Error<E> {
    fn from(e: pwm_pca9685::Error<E>) -> Self {
        match e {
            pwm_pca9685::Error::I2C(e) => Error::I2C(e),
            _ => Error::InvalidInputData,
        }
    }
}

/// An arm's servos (up to 8 joints) and a gripper on one PCA9685.
pub struct ServoArm<I2C> {
    pwm: Pca9685<I2C>,
    joints: heapless::Vec<ServoCal, 8>,
    gripper: Option<Gripper>,
}

fn channel<E>(c: u8) -> Result<Channel, Error<E>> {
    Channel::try_from(c).map_err(|_| Error::InvalidInputData)
}

impl<I2C, E> ServoArm<I2C>
where
    I2C: embedded_hal::i2c::I2c<Error = E>,
{
    /// Set the PCA9685 at `address` to 50 Hz and wake it; every servo starts relaxed.
    pub fn new(i2c: I2C, address: u8, joints: &[ServoCal], gripper: Option<Gripper>) -> Result<Self, Error<E>> {
        let mut pwm = Pca9685::new(i2c, Address::from(address))?;
        pwm.set_prescale(PRESCALE)?;
        pwm.enable()?;
        let joints = heapless::Vec::from_slice(joints).map_err(|_| Error::InvalidInputData)?;
        for c in joints.iter().chain(gripper.as_ref().map(|g| &g.servo)) {
            channel::<E>(c.channel)?;
        }
        Ok(ServoArm { pwm, joints, gripper })
    }

    /// Drive `cal`'s servo to `angle_deg`.
    pub fn set_angle(&mut self, cal: ServoCal, angle_deg: f32) -> Result<(), Error<E>> {
        let us = cal.pulse_us(angle_deg).map_err(|_| Error::InvalidInputData)?;
        self.pwm.set_channel_on_off(channel(cal.channel)?, 0, counts(us))?;
        Ok(())
    }

    /// Switch every servo's PWM fully off.
    pub fn relax(&mut self) -> Result<(), Error<E>> {
        let chans: heapless::Vec<u8, 9> =
            self.joints.iter().chain(self.gripper.as_ref().map(|g| &g.servo)).map(|c| c.channel).collect();
        let mut first = Ok(());
        for c in chans {
            let r = channel(c).and_then(|ch| Ok(self.pwm.set_channel_full_off(ch)?));
            first = first.and(r);
        }
        first
    }

    /// Give the bus back.
    pub fn destroy(self) -> I2C {
        self.pwm.destroy()
    }
}

fn hw<E>(e: Error<E>) -> HwError {
    match e {
        Error::I2C(_) => HwError::Bus,
        Error::InvalidInputData => HwError::InvalidInput,
    }
}

impl<I2C, E> Arm for ServoArm<I2C>
where
    I2C: embedded_hal::i2c::I2c<Error = E>,
{
    fn set_joint(&mut self, joint: usize, angle_deg: f32) -> Result<(), HwError> {
        let cal = *self.joints.get(joint).ok_or(HwError::NoSuchChannel)?;
        self.set_angle(cal, angle_deg).map_err(hw)
    }

    fn set_gripper(&mut self, state: GripState) -> Result<(), HwError> {
        let g = self.gripper.ok_or(HwError::NoSuchChannel)?;
        let angle = match state {
            GripState::Open => g.open_deg,
            GripState::Close => g.closed_deg,
        };
        self.set_angle(g.servo, angle).map_err(hw)
    }

    fn safe(&mut self) -> Result<(), HwError> {
        self.relax().map_err(hw)
    }
}

#[cfg(test)]
mod tests {
    //! Expected bytes come from the PCA9685 datasheet (NXP, rev. 4), not from the driver:
    //! default address 0x40; MODE1 at 0x00 (bit 5 AI, bit 4 SLEEP, bit 0 ALLCALL; power-on
    //! value 0x11); PRE_SCALE at 0xFE; LEDn_ON_L at 0x06 + 4n, then ON_H, OFF_L, OFF_H;
    //! bit 4 of LEDn_OFF_H is "full off".
    use super::*;
    use embedded_hal_mock::eh1::i2c::{Mock, Transaction as T};

    const ADDR: u8 = 0x40;
    const MODE1: u8 = 0x00;
    const PRE_SCALE: u8 = 0xFE;
    const LED0_ON_L: u8 = 0x06;
    const AI: u8 = 1 << 5;
    const ALLCALL: u8 = 1 << 0;
    const FULL_OFF_H: u8 = 1 << 4;

    fn led_on_l(n: u8) -> u8 {
        LED0_ON_L + 4 * n
    }

    fn shoulder() -> ServoCal {
        ServoCal { channel: 3, min_deg: -90.0, max_deg: 90.0, min_us: 500.0, max_us: 2500.0 }
    }

    fn init() -> Vec<T> {
        // Asleep at power-on, so the prescaler is written directly; then wake (SLEEP = 0).
        vec![T::write(ADDR, vec![PRE_SCALE, 121]), T::write(ADDR, vec![MODE1, ALLCALL])]
    }

    #[test]
    fn prescale_gives_50_hz() {
        // Datasheet equation 1: round(25 MHz / (4096 * 50 Hz)) - 1.
        assert_eq!(PRESCALE, ((25_000_000.0f64 / (4096.0 * 50.0)).round() - 1.0) as u8);
    }

    #[test]
    fn centre_angle_is_a_1500_us_pulse() {
        // 1500 us / (122 / 25 MHz = 4.88 us) = 307.4 -> 307 = 0x133.
        let mut t = init();
        t.push(T::write(ADDR, vec![MODE1, ALLCALL | AI]));
        t.push(T::write(ADDR, vec![led_on_l(3), 0x00, 0x00, 0x33, 0x01]));
        // The second move needs no MODE1 write: auto-increment is already on.
        // -90 deg -> 500 us / 4.88 = 102.5 -> 102 = 0x66.
        t.push(T::write(ADDR, vec![led_on_l(3), 0x00, 0x00, 0x66, 0x00]));
        let mut arm = ServoArm::new(Mock::new(&t), ADDR, &[shoulder()], None).unwrap();
        arm.set_joint(0, 0.0).unwrap();
        arm.set_joint(0, -90.0).unwrap();
        arm.destroy().done();
    }

    #[test]
    fn gripper_uses_its_open_and_closed_angles() {
        let g = Gripper {
            servo: ServoCal { channel: 15, min_deg: 0.0, max_deg: 180.0, min_us: 1000.0, max_us: 2000.0 },
            open_deg: 180.0,
            closed_deg: 0.0,
        };
        let mut t = init();
        t.push(T::write(ADDR, vec![MODE1, ALLCALL | AI]));
        // open: 2000 us / 4.88 = 409.8 -> 410 = 0x19A; close: 1000 us -> 204.9 -> 205 = 0xCD.
        t.push(T::write(ADDR, vec![led_on_l(15), 0x00, 0x00, 0x9A, 0x01]));
        t.push(T::write(ADDR, vec![led_on_l(15), 0x00, 0x00, 0xCD, 0x00]));
        let mut arm = ServoArm::new(Mock::new(&t), ADDR, &[], Some(g)).unwrap();
        arm.set_gripper(GripState::Open).unwrap();
        arm.set_gripper(GripState::Close).unwrap();
        arm.destroy().done();
    }

    #[test]
    fn safe_switches_every_servo_fully_off() {
        let elbow = ServoCal { channel: 4, ..shoulder() };
        let mut t = init();
        t.push(T::write(ADDR, vec![MODE1, ALLCALL | AI]));
        t.push(T::write(ADDR, vec![led_on_l(3) + 2, 0x00, FULL_OFF_H]));
        t.push(T::write(ADDR, vec![led_on_l(4) + 2, 0x00, FULL_OFF_H]));
        let mut arm = ServoArm::new(Mock::new(&t), ADDR, &[shoulder(), elbow], None).unwrap();
        Arm::safe(&mut arm).unwrap();
        arm.destroy().done();
    }

    #[test]
    fn angle_outside_the_calibration_never_reaches_the_bus() {
        let mut arm = ServoArm::new(Mock::new(&init()), ADDR, &[shoulder()], None).unwrap();
        assert_eq!(arm.set_joint(0, 91.0), Err(HwError::InvalidInput));
        assert_eq!(arm.set_joint(0, f32::NAN), Err(HwError::InvalidInput));
        assert_eq!(arm.set_joint(1, 0.0), Err(HwError::NoSuchChannel));
        assert_eq!(arm.set_gripper(GripState::Open), Err(HwError::NoSuchChannel));
        arm.destroy().done();
    }

    #[test]
    fn bus_error_is_reported() {
        use embedded_hal::i2c::ErrorKind;
        let mut t = init();
        t.push(T::write(ADDR, vec![MODE1, ALLCALL | AI]).with_error(ErrorKind::Other));
        let mut arm = ServoArm::new(Mock::new(&t), ADDR, &[shoulder()], None).unwrap();
        assert_eq!(arm.set_joint(0, 0.0), Err(HwError::Bus));
        arm.destroy().done();
    }
}
