//! The board's real hardware on Linux (a Raspberry Pi): the same firmware drivers as the
//! sim, on `linux-embedded-hal`'s `I2cdev` (PCA9685 servo HAT), `CdevPin` lines (H-bridge
//! direction pins, named outputs) and the kernel's sysfs PWM (motor speed). Everything is
//! built from the board's profile and wiring.
//!
//! Before first use on a Pi: enable I2C (`dtparam=i2c_arm=on`) and the two-channel PWM
//! overlay on GPIO12/13 (`dtoverlay=pwm-2chan,pin=12,func=4,pin2=13,func2=4`) in
//! `/boot/firmware/config.txt`, and run as a user in the `i2c` and `gpio` groups.

use std::fs;
use std::path::{Path, PathBuf};

use embedded_hal::pwm::{ErrorKind, ErrorType, SetDutyCycle};
use linux_embedded_hal::gpio_cdev::{Chip, LineRequestFlags};
use linux_embedded_hal::{CdevPin, I2cdev};
use trinity_firmware::drivers::gpio::GpioOutputs;
use trinity_firmware::drivers::hbridge::{DiffDrive, Motor};
use trinity_firmware::drivers::servo::{ServoArm, ServoCal};
use trinity_firmware::{Executor, Millis};

use crate::Board;

/// Motor PWM frequency: 20 kHz, above hearing.
const PWM_PERIOD_NS: u64 = 50_000;

/// The executor type on real hardware.
pub type LinuxExecutor = Executor<DiffDrive<SysfsPwm, CdevPin>, ServoArm<I2cdev>, GpioOutputs<CdevPin, 8>>;

/// Why the hardware could not be opened. Each names the device.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinuxError {
    /// A device file could not be opened or written.
    #[error("{device}: {detail}")]
    Device {
        /// The device or sysfs path.
        device: String,
        /// What went wrong.
        detail: String,
    },
}

fn dev(device: impl AsRef<Path>, detail: impl ToString) -> LinuxError {
    LinuxError::Device { device: device.as_ref().display().to_string(), detail: detail.to_string() }
}

/// One channel of a sysfs PWM chip (`/sys/class/pwm/pwmchipN/pwmM`).
pub struct SysfsPwm {
    dir: PathBuf,
}

impl SysfsPwm {
    /// Export channel `channel` of `chip`, set its period, and enable it at 0 % duty.
    pub fn open(chip: &Path, channel: u32) -> Result<SysfsPwm, LinuxError> {
        let dir = chip.join(format!("pwm{channel}"));
        if !dir.exists() {
            fs::write(chip.join("export"), channel.to_string()).map_err(|e| dev(chip.join("export"), e))?;
        }
        let pwm = SysfsPwm { dir };
        pwm.write("duty_cycle", 0)?;
        pwm.write("period", PWM_PERIOD_NS)?;
        pwm.write("enable", 1)?;
        Ok(pwm)
    }

    fn write(&self, file: &str, value: u64) -> Result<(), LinuxError> {
        let path = self.dir.join(file);
        fs::write(&path, value.to_string()).map_err(|e| dev(&path, e))
    }
}

impl ErrorType for SysfsPwm {
    type Error = ErrorKind;
}

impl SetDutyCycle for SysfsPwm {
    fn max_duty_cycle(&self) -> u16 {
        u16::MAX
    }

    fn set_duty_cycle(&mut self, duty: u16) -> Result<(), ErrorKind> {
        let ns = PWM_PERIOD_NS * u64::from(duty) / u64::from(u16::MAX);
        self.write("duty_cycle", ns).map_err(|_| ErrorKind::Other)
    }
}

fn line(chip: &mut Chip, offset: u32, path: &str) -> Result<CdevPin, LinuxError> {
    let handle = chip
        .get_line(offset)
        .and_then(|l| l.request(LineRequestFlags::OUTPUT, 0, "trinity"))
        .map_err(|e| dev(path, format!("line {offset}: {e}")))?;
    CdevPin::new(handle).map_err(|e| dev(path, format!("line {offset}: {e}")))
}

/// Whether the PCA9685 servo HAT answers at `addr` on `bus`: its MODE1 register (0x00).
pub fn probe_pca9685(bus: &Path, addr: u8) -> Result<u8, LinuxError> {
    use embedded_hal::i2c::I2c;
    let mut i2c = I2cdev::new(bus).map_err(|e| dev(bus, e))?;
    let mut mode1 = [0u8];
    i2c.write_read(addr, &[0x00], &mut mode1).map_err(|e| dev(bus, format!("no answer at {addr:#04x}: {e}")))?;
    Ok(mode1[0])
}

/// Open the board's hardware and build an executor on it. Outputs start safe.
pub fn executor(board: &Board, now: Millis) -> Result<LinuxExecutor, LinuxError> {
    let p = &board.profile;
    let w = &board.wiring;
    let mut chip = Chip::new(&p.gpio_chip).map_err(|e| dev(&p.gpio_chip, e))?;
    let pwm_chip = Path::new(&p.pwm_chip);
    let mut motor = |m: &crate::profile::MotorWiring| -> Result<_, LinuxError> {
        Ok(Motor::new(
            SysfsPwm::open(pwm_chip, m.pwm)?,
            line(&mut chip, m.in1, &p.gpio_chip)?,
            line(&mut chip, m.in2, &p.gpio_chip)?,
            m.inverted,
        ))
    };
    let drive = DiffDrive { left: motor(&w.drive.left)?, right: motor(&w.drive.right)? };
    let joints: Vec<ServoCal> = w.arm.joints.iter().map(|j| j.cal()).collect();
    let gripper = w.arm.gripper.as_ref().map(|g| g.gripper());
    let i2c = I2cdev::new(&p.i2c_bus).map_err(|e| dev(&p.i2c_bus, e))?;
    let arm = ServoArm::new(i2c, w.pca9685_address, &joints, gripper)
        .map_err(|e| dev(&p.i2c_bus, format!("PCA9685 at {:#04x}: {e:?}", w.pca9685_address)))?;
    let mut pins = heapless::Vec::new();
    for o in &w.outputs {
        let _ = pins.push(line(&mut chip, o.line, &p.gpio_chip)?);
    }
    Executor::new(drive, arm, GpioOutputs::new(pins), board.motion, &board.limits, now)
        .map_err(|e| dev("motion profile", format!("{e:?}")))
}
