//! Board profiles and wirings: data files embedded in the crate (`boards/profiles/`).

use serde::Deserialize;
use trinity_firmware::drivers::servo::{Gripper, ServoCal};

/// A board: its CPU, memory, build flags and buses. One file per board.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Short name (`pi5`).
    pub name: String,
    /// Human-readable name.
    pub description: String,
    /// CPU core and SoC.
    pub cpu: String,
    /// CPU cores (0: this machine's).
    pub cores: u32,
    /// RAM of the smallest variant, MiB (0: not checked).
    pub ram_mb: u64,
    /// Rust target triple (`host` for the sim).
    pub rust_target: String,
    /// rustc `-C target-feature` list for a release build for this board.
    pub target_features: String,
    /// llama.cpp `GGML_CPU_ARM_ARCH` for this board.
    pub llama_cpu_arch: String,
    /// Inference threads when config does not say.
    #[serde(default)]
    pub default_threads: Option<usize>,
    /// `QEMU_CPU` that emulates this board's core.
    pub qemu_cpu: String,
    /// I2C bus of the servo HAT.
    pub i2c_bus: String,
    /// GPIO character device.
    pub gpio_chip: String,
    /// sysfs PWM chip for the motors.
    pub pwm_chip: String,
    /// Name of the wiring file.
    pub wiring: String,
}

/// How the robot's hardware is wired to the board.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wiring {
    /// PCA9685 I2C address.
    pub pca9685_address: u8,
    /// Time allowed for a servo move, ms.
    pub servo_settle_ms: u64,
    /// Watchdog period, ms.
    pub watchdog_ms: u64,
    /// The drivetrain.
    pub drive: DriveWiring,
    /// The arm.
    pub arm: ArmWiring,
    /// Named outputs.
    #[serde(default)]
    pub outputs: Vec<OutputWiring>,
    /// Motion and plan limits.
    pub limits: LimitsFile,
}

/// Two motors on an H-bridge.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriveWiring {
    /// Left motor.
    pub left: MotorWiring,
    /// Right motor.
    pub right: MotorWiring,
    /// Distance between the wheels, m.
    pub track_m: f32,
    /// Wheel speed at full duty, m/s.
    pub max_wheel_mps: f32,
    /// Cruise speed, m/s.
    pub speed_mps: f32,
    /// Turn rate, deg/s.
    pub turn_rate_dps: f32,
}

/// One motor's PWM channel and direction lines.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MotorWiring {
    /// PWM channel on the board's PWM chip.
    pub pwm: u32,
    /// GPIO line of IN1.
    pub in1: u32,
    /// GPIO line of IN2.
    pub in2: u32,
    /// Mounted mirrored.
    #[serde(default)]
    pub inverted: bool,
}

/// The arm's servos.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArmWiring {
    /// Joints, in order.
    #[serde(default)]
    pub joints: Vec<JointWiring>,
    /// The gripper, if any.
    pub gripper: Option<GripperWiring>,
}

/// One joint's servo.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JointWiring {
    /// Joint name.
    pub name: String,
    /// PCA9685 channel.
    pub channel: u8,
    /// Angle at `min_us`.
    pub min_deg: f32,
    /// Angle at `max_us`.
    pub max_deg: f32,
    /// Pulse at `min_deg`, µs.
    pub min_us: f32,
    /// Pulse at `max_deg`, µs.
    pub max_us: f32,
    /// Allowed range, inside the calibrated travel.
    pub range_deg: [f32; 2],
}

/// The gripper's servo.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GripperWiring {
    /// PCA9685 channel.
    pub channel: u8,
    /// Angle at `min_us`.
    pub min_deg: f32,
    /// Angle at `max_us`.
    pub max_deg: f32,
    /// Pulse at `min_deg`, µs.
    pub min_us: f32,
    /// Pulse at `max_deg`, µs.
    pub max_us: f32,
    /// Angle when open.
    pub open_deg: f32,
    /// Angle when closed.
    pub closed_deg: f32,
}

/// A named GPIO output.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputWiring {
    /// Output name.
    pub name: String,
    /// GPIO line.
    pub line: u32,
}

/// The `[limits]` table.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    /// Largest |drive|, m.
    pub max_drive_m: f32,
    /// Largest |turn|, degrees.
    pub max_turn_deg: f32,
    /// Longest wait, s.
    pub max_wait_s: f32,
    /// Fastest drive, m/s.
    pub max_speed_mps: f32,
    /// Fastest turn, deg/s.
    pub max_turn_rate_dps: f32,
    /// Most actions per plan.
    pub max_actions: usize,
}

impl JointWiring {
    /// The servo driver's calibration for this joint.
    pub fn cal(&self) -> ServoCal {
        ServoCal {
            channel: self.channel,
            min_deg: self.min_deg,
            max_deg: self.max_deg,
            min_us: self.min_us,
            max_us: self.max_us,
        }
    }
}

impl GripperWiring {
    /// The servo driver's gripper.
    pub fn gripper(&self) -> Gripper {
        Gripper {
            servo: ServoCal {
                channel: self.channel,
                min_deg: self.min_deg,
                max_deg: self.max_deg,
                min_us: self.min_us,
                max_us: self.max_us,
            },
            open_deg: self.open_deg,
            closed_deg: self.closed_deg,
        }
    }
}

/// The embedded profile files, by board name.
pub(crate) const PROFILES: &[(&str, &str)] = &[
    ("sim", include_str!("../profiles/sim.toml")),
    ("pi5", include_str!("../profiles/pi5.toml")),
    ("pi4", include_str!("../profiles/pi4.toml")),
    ("cm4", include_str!("../profiles/cm4.toml")),
    ("pi3bplus", include_str!("../profiles/pi3bplus.toml")),
    ("pi-zero-2w", include_str!("../profiles/pi-zero-2w.toml")),
];

/// The embedded wiring files, by name.
pub(crate) const WIRINGS: &[(&str, &str)] = &[("servo-motor-hat", include_str!("../profiles/servo-motor-hat.toml"))];
