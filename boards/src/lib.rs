//! Board profiles, their wiring, and the simulated robot.
//!
//! A [`Board`] joins a profile (CPU, RAM, build flags, buses; `profiles/<board>.toml`) with
//! a wiring (which servo on which PCA9685 channel, which motor on which pins, the motion
//! profile and limits; `profiles/<wiring>.toml`). Both are data files embedded in the crate.
//! The runtime reads a board for the names the grammar may emit, the [`Limits`] every plan
//! is checked against, and the [`Motion`] profile the executor drives with.
//!
//! - [`profile`]: the file formats.
//! - [`mod@sim`]: the `sim` board, the default everywhere: a differential-drive rover, a
//!   4-joint arm with gripper and named outputs, driven through the same firmware drivers
//!   as the real hardware (a simulated PCA9685 on a simulated I2C bus, simulated PWM and
//!   GPIO).
//! - `linux` (feature `linux`): the same drivers on a Pi's real I2C, GPIO and PWM.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "linux")]
pub mod linux;
pub mod profile;
pub mod sim;

use trinity_firmware::limits::JointRange;
use trinity_firmware::{Limits, Motion, Name};

pub use profile::{Profile, Wiring};

/// A board: profile, wiring, and what follows from them.
#[derive(Debug, Clone, PartialEq)]
pub struct Board {
    /// Short name used in config and on the CLI (`sim`, `pi5`, …).
    pub name: String,
    /// Human-readable description.
    pub description: String,
    /// Inference threads when config does not say; `None`: all cores.
    pub default_threads: Option<usize>,
    /// What the board can do and how far it may go.
    pub limits: Limits,
    /// How the executor moves the robot.
    pub motion: Motion,
    /// CPU, memory, flags, buses.
    pub profile: Profile,
    /// What is connected where.
    pub wiring: Wiring,
}

/// Names of every known board.
pub const NAMES: &[&str] = &["sim", "pi5", "pi4", "cm4", "pi3bplus", "pi-zero-2w"];

/// Why [`by_name`] has no board.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BoardError {
    /// No profile of that name.
    #[error("unknown board `{0}`; known: {known}", known = NAMES.join(", "))]
    Unknown(String),
    /// The profile or its wiring file does not read (a bad edit to `profiles/*.toml`).
    #[error("board `{board}`: profiles/{file}.toml: {message}")]
    Invalid {
        /// The board asked for.
        board: String,
        /// The file at fault, without `.toml`.
        file: String,
        /// What is wrong (the TOML parser's message, or the value refused).
        message: String,
    },
}

/// The board with this name.
pub fn by_name(name: &str) -> Result<Board, BoardError> {
    let text = profile::PROFILES.iter().find(|(n, _)| *n == name).ok_or_else(|| BoardError::Unknown(name.into()))?.1;
    from_files(name, text, profile::WIRINGS)
}

/// A board from its profile's text and the wiring files it may name.
fn from_files(board: &str, profile_text: &str, wirings: &[(&str, &str)]) -> Result<Board, BoardError> {
    let invalid = |file: &str, message: String| BoardError::Invalid { board: board.into(), file: file.into(), message };
    let profile: Profile = toml::from_str(profile_text).map_err(|e| invalid(board, e.to_string()))?;
    let wiring_text = wirings
        .iter()
        .find(|(n, _)| *n == profile.wiring)
        .ok_or_else(|| invalid(board, format!("wiring `{}` is not a wiring file", profile.wiring)))?
        .1;
    let wiring: Wiring = toml::from_str(wiring_text).map_err(|e| invalid(&profile.wiring, e.to_string()))?;
    let file = profile.wiring.clone();
    Board::new(profile, wiring).map_err(|message| invalid(&file, message))
}

/// The simulated robot's board (always present).
pub fn sim() -> Board {
    by_name("sim").unwrap_or_else(|e| unreachable!("the embedded sim profile parses (tested): {e}"))
}

fn name(s: &str) -> Result<Name, String> {
    Name::try_from(s).map_err(|_| format!("name `{s}` is empty or too long for the firmware"))
}

impl Board {
    /// Whether this board is the simulator: its buses are the sim's (`i2c_bus = "sim"` in
    /// its profile), not a Pi's devices.
    pub fn is_simulated(&self) -> bool {
        self.profile.i2c_bus == "sim"
    }

    fn new(profile: Profile, wiring: Wiring) -> Result<Board, String> {
        let mut joints = heapless::Vec::new();
        for j in &wiring.arm.joints {
            let range = JointRange { name: name(&j.name)?, min_deg: j.range_deg[0], max_deg: j.range_deg[1] };
            joints.push(range).map_err(|_| format!("more than {} joints", joints.capacity()))?;
        }
        let mut outputs = heapless::Vec::new();
        for o in &wiring.outputs {
            outputs.push(name(&o.name)?).map_err(|_| format!("more than {} outputs", outputs.capacity()))?;
        }
        let l = wiring.limits;
        let limits = Limits {
            max_drive_m: l.max_drive_m,
            max_turn_deg: l.max_turn_deg,
            max_wait_s: l.max_wait_s,
            joints,
            gripper: wiring.arm.gripper.is_some(),
            outputs,
            max_actions: l.max_actions.min(trinity_firmware::MAX_PLAN_LEN),
            max_speed_mps: l.max_speed_mps,
            max_turn_rate_dps: l.max_turn_rate_dps,
        };
        let d = &wiring.drive;
        let motion = Motion {
            speed_mps: d.speed_mps,
            turn_rate_dps: d.turn_rate_dps,
            track_m: d.track_m,
            max_wheel_mps: d.max_wheel_mps,
            servo_settle_ms: wiring.servo_settle_ms,
            watchdog_ms: wiring.watchdog_ms,
        };
        Ok(Board {
            name: profile.name.clone(),
            description: profile.description.clone(),
            default_threads: profile.default_threads,
            limits,
            motion,
            profile,
            wiring,
        })
    }

    /// Whether a model of `model_bytes` with a KV cache of `kv_bytes` fits this board's RAM
    /// with a margin for the OS (the larger of 128 MiB and an eighth of RAM) and 64 MiB for
    /// the runtime itself. `None` for boards whose RAM is not known (the sim).
    pub fn fit(&self, model_bytes: u64, kv_bytes: u64) -> Option<Fit> {
        if self.profile.ram_mb == 0 {
            return None;
        }
        const MIB: u64 = 1 << 20;
        let needed_mb = (model_bytes + kv_bytes).div_ceil(MIB) + 64;
        let margin_mb = (self.profile.ram_mb / 8).max(128);
        Some(Fit {
            needed_mb,
            ram_mb: self.profile.ram_mb,
            margin_mb,
            fits: needed_mb + margin_mb <= self.profile.ram_mb,
        })
    }
}

/// The answer of [`Board::fit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fit {
    /// Model + KV cache + runtime, MiB.
    pub needed_mb: u64,
    /// The board's RAM, MiB.
    pub ram_mb: u64,
    /// Kept free for the OS, MiB.
    pub margin_mb: u64,
    /// `needed + margin <= ram`.
    pub fits: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_board_parses_and_resolves() {
        for n in NAMES {
            let b = by_name(n).unwrap_or_else(|e| panic!("profile {n} does not parse: {e}"));
            assert_eq!(b.name, *n);
            assert_eq!(b.limits.joints.len(), 4, "{n}");
            assert!(b.limits.gripper);
            assert_eq!(b.limits.outputs.len(), 2);
            assert_eq!(b.is_simulated(), *n == "sim", "{n}: only the sim drives no hardware");
        }
        let e = by_name("pdp11").unwrap_err();
        assert_eq!(e, BoardError::Unknown("pdp11".into()));
        assert!(e.to_string().contains("known: sim, pi5"), "{e}");
    }

    #[test]
    fn a_broken_profile_or_wiring_says_what_is_wrong_not_unknown_board() {
        let sim = profile::PROFILES[0].1;
        let wiring = profile::WIRINGS[0];
        let err =
            |profile: &str, wiring_text: &str| from_files("sim", profile, &[(wiring.0, wiring_text)]).unwrap_err();

        let e = err(&sim.replacen("ram_mb", "ram_mb = = ", 1), wiring.1);
        assert!(matches!(&e, BoardError::Invalid { file, .. } if file == "sim"), "{e}");
        assert!(e.to_string().starts_with("board `sim`: profiles/sim.toml: TOML parse error"), "{e}");

        let e = err(sim, &wiring.1.replacen("[drive]", "[drive]\nspeed_mps = \"fast\"\n", 1));
        assert!(e.to_string().contains("profiles/servo-motor-hat.toml"), "{e}");

        let long = "a_joint_name_much_longer_than_the_firmware_holds";
        let e = err(sim, &wiring.1.replacen("name = \"base\"", &format!("name = \"{long}\""), 1));
        assert!(e.to_string().contains(long), "{e}");
    }

    #[test]
    fn joint_ranges_lie_inside_the_servo_calibration() {
        let b = sim();
        for j in &b.wiring.arm.joints {
            let (lo, hi) = (j.min_deg.min(j.max_deg), j.min_deg.max(j.max_deg));
            assert!(lo <= j.range_deg[0] && j.range_deg[1] <= hi, "{}", j.name);
            assert!(j.range_deg[0] < j.range_deg[1], "{}", j.name);
        }
    }

    #[test]
    fn pi4_class_boards_keep_aes_and_sha2_off_and_pi5_has_dotprod() {
        for n in ["pi4", "cm4", "pi3bplus", "pi-zero-2w"] {
            let f = by_name(n).unwrap().profile.target_features;
            assert!(f.contains("-aes") && f.contains("-sha2") && !f.contains("+aes"), "{n}: {f}");
        }
        let pi5 = by_name("pi5").unwrap().profile;
        assert!(pi5.target_features.contains("+dotprod") && !pi5.target_features.contains("i8mm"));
        assert!(pi5.llama_cpu_arch.contains("dotprod"));
    }

    #[test]
    fn the_default_model_fits_a_pi5_but_not_a_zero_2w_with_a_big_context() {
        let model = 253_113_024;
        let kv_4k = 4096 * 18 * 2 * 256 * 2; // ctx x layers x (K+V) x head dim x f16 (Gemma 3 270M)
        let pi5 = by_name("pi5").unwrap().fit(model, kv_4k).unwrap();
        assert!(pi5.fits, "{pi5:?}");
        let zero = by_name("pi-zero-2w").unwrap().fit(model, 4 * kv_4k).unwrap();
        assert!(!zero.fits, "{zero:?}");
        assert_eq!(sim().fit(model, kv_4k), None);
    }

    #[test]
    fn motion_profile_fits_the_limits() {
        for n in NAMES {
            let b = by_name(n).unwrap();
            assert!(b.motion.speed_mps <= b.limits.max_speed_mps, "{n}");
            assert!(b.motion.turn_rate_dps <= b.limits.max_turn_rate_dps, "{n}");
        }
    }
}
