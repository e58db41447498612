//! Board profiles: what a board has (joints, outputs, drivetrain) and how far it may go.
//!
//! Today this holds the `sim` board, the default everywhere; the Raspberry Pi profiles
//! (CPU flags, buses, pin maps) and the Linux wiring join it with the firmware/boards work.
//! The runtime reads a profile for two things: the names the grammar may emit (joints and
//! outputs) and the [`Limits`] every plan is checked against.
#![deny(missing_docs, unsafe_code)]

use trinity_firmware::limits::JointRange;
use trinity_firmware::{Limits, Name};

/// A board profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Board {
    /// Short name used in config and on the CLI (`sim`, `pi5`, …).
    pub name: &'static str,
    /// Human-readable description.
    pub description: &'static str,
    /// Inference threads when config does not say; `None`: all cores.
    pub default_threads: Option<usize>,
    /// What the board can do and how far it may go.
    pub limits: Limits,
}

/// Names of every known board.
pub const NAMES: &[&str] = &["sim"];

/// The board with this name.
pub fn by_name(name: &str) -> Option<Board> {
    match name {
        "sim" => Some(sim()),
        _ => None,
    }
}

fn name(s: &str) -> Name {
    // Board names are literals below, all shorter than NAME_CAPACITY (checked by a test).
    Name::try_from(s).unwrap_or_default()
}

/// The simulated robot: a differential-drive rover with a 4-joint arm, a gripper and
/// two named outputs.
pub fn sim() -> Board {
    let mut joints = heapless::Vec::new();
    for (j, min, max) in [
        ("base", -180.0, 180.0),
        ("shoulder", -90.0, 90.0),
        ("elbow", -135.0, 135.0),
        ("wrist", -90.0, 90.0),
    ] {
        let _ = joints.push(JointRange {
            name: name(j),
            min_deg: min,
            max_deg: max,
        });
    }
    let mut outputs = heapless::Vec::new();
    for o in ["lights", "horn"] {
        let _ = outputs.push(name(o));
    }
    Board {
        name: "sim",
        description:
            "simulated rover (differential drive) with a 4-joint arm, gripper, lights and horn",
        default_threads: None,
        limits: Limits {
            max_drive_m: 10.0,
            max_turn_deg: 360.0,
            max_wait_s: 60.0,
            joints,
            gripper: true,
            outputs,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_board_resolves_with_its_names_intact() {
        for n in NAMES {
            let b = by_name(n).unwrap();
            assert_eq!(b.name, *n);
            assert!(b.limits.joints.iter().all(|j| !j.name.is_empty()));
            assert!(b.limits.outputs.iter().all(|o| !o.is_empty()));
        }
        assert!(by_name("pdp11").is_none());
    }

    #[test]
    fn sim_has_an_arm_a_gripper_and_outputs() {
        let b = sim();
        assert_eq!(b.limits.joints.len(), 4);
        assert!(b.limits.joint("shoulder").is_some());
        assert!(b.limits.gripper);
        assert_eq!(b.limits.outputs.len(), 2);
    }
}
