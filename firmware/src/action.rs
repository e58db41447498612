//! The v1 action vocabulary (docs/DESIGN.md, "MQTT contract").
//!
//! On the wire an action is a flat JSON object tagged by `"action"`:
//! `{"action":"drive","distance_m":-0.5}`. Serde's internally tagged enums need an
//! allocator, so with the `serde` feature an action goes through `wire::WireAction`, a
//! flat struct of optional fields, and is checked into the typed enum with a clear error
//! for a missing or stray field.

/// Capacity of a joint or output name, in bytes.
pub const NAME_CAPACITY: usize = 16;

/// A joint or output name, as the board names it (`"shoulder"`, `"lights"`).
pub type Name = heapless::String<NAME_CAPACITY>;

/// Gripper state for [`Action::Grip`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum GripState {
    /// Open the gripper.
    Open,
    /// Close the gripper.
    Close,
}

/// One typed action of a plan.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "wire::WireAction", into = "wire::WireAction"))]
pub enum Action {
    /// Drive straight; positive is forward, negative backward.
    Drive {
        /// Distance in meters.
        distance_m: f32,
    },
    /// Turn in place; positive is left (counter-clockwise), negative right.
    Turn {
        /// Angle in degrees.
        angle_deg: f32,
    },
    /// Stop all motion.
    Stop,
    /// Move one arm joint to an absolute angle.
    Servo {
        /// Joint name, from the board.
        joint: Name,
        /// Target angle in degrees.
        angle_deg: f32,
    },
    /// Open or close the gripper.
    Grip {
        /// Target state.
        state: GripState,
    },
    /// Switch a named output.
    Output {
        /// Output name, from the board.
        name: Name,
        /// On or off.
        on: bool,
    },
    /// Do nothing for a while.
    Wait {
        /// Duration in seconds.
        seconds: f32,
    },
}

/// The kind of an action, without its arguments: what a skill allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActionKind {
    /// [`Action::Drive`]
    Drive,
    /// [`Action::Turn`]
    Turn,
    /// [`Action::Stop`]
    Stop,
    /// [`Action::Servo`]
    Servo,
    /// [`Action::Grip`]
    Grip,
    /// [`Action::Output`]
    Output,
    /// [`Action::Wait`]
    Wait,
}

impl ActionKind {
    /// Every kind, in vocabulary order.
    pub const ALL: [ActionKind; 7] = [
        ActionKind::Drive,
        ActionKind::Turn,
        ActionKind::Stop,
        ActionKind::Servo,
        ActionKind::Grip,
        ActionKind::Output,
        ActionKind::Wait,
    ];

    /// The wire name (`"drive"`, …).
    pub const fn name(self) -> &'static str {
        match self {
            ActionKind::Drive => "drive",
            ActionKind::Turn => "turn",
            ActionKind::Stop => "stop",
            ActionKind::Servo => "servo",
            ActionKind::Grip => "grip",
            ActionKind::Output => "output",
            ActionKind::Wait => "wait",
        }
    }

    /// The kind with this wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl Action {
    /// This action's kind.
    pub const fn kind(&self) -> ActionKind {
        match self {
            Action::Drive { .. } => ActionKind::Drive,
            Action::Turn { .. } => ActionKind::Turn,
            Action::Stop => ActionKind::Stop,
            Action::Servo { .. } => ActionKind::Servo,
            Action::Grip { .. } => ActionKind::Grip,
            Action::Output { .. } => ActionKind::Output,
            Action::Wait { .. } => ActionKind::Wait,
        }
    }
}

#[cfg(feature = "serde")]
pub(crate) mod wire {
    //! The flat wire form of an action (no allocation).
    use super::{Action, ActionKind, GripState, Name};

    /// An action as it stands in JSON: a tag and optional fields.
    #[derive(serde::Serialize, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct WireAction {
        action: Name,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        distance_m: Option<f32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        joint: Option<Name>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        angle_deg: Option<f32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        state: Option<GripState>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<Name>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seconds: Option<f32>,
    }

    /// Why a wire action is not a valid typed action.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum WireError {
        /// `"action"` names no action of the vocabulary.
        UnknownAction,
        /// A field the action needs is missing.
        Missing(&'static str),
        /// A field that belongs to another action is present.
        Stray(&'static str),
    }

    impl core::fmt::Display for WireError {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            match self {
                WireError::UnknownAction => {
                    f.write_str("unknown action (expected drive, turn, stop, servo, grip, output or wait)")
                }
                WireError::Missing(field) => write!(f, "missing field `{field}`"),
                WireError::Stray(field) => {
                    write!(f, "field `{field}` does not belong to this action")
                }
            }
        }
    }

    impl TryFrom<WireAction> for Action {
        type Error = WireError;

        fn try_from(w: WireAction) -> Result<Self, WireError> {
            let kind = ActionKind::from_name(&w.action).ok_or(WireError::UnknownAction)?;
            // Fields each kind takes; anything else present is refused.
            let allowed: &[&str] = match kind {
                ActionKind::Drive => &["distance_m"],
                ActionKind::Turn => &["angle_deg"],
                ActionKind::Stop => &[],
                ActionKind::Servo => &["joint", "angle_deg"],
                ActionKind::Grip => &["state"],
                ActionKind::Output => &["name", "on"],
                ActionKind::Wait => &["seconds"],
            };
            let present = [
                ("distance_m", w.distance_m.is_some()),
                ("joint", w.joint.is_some()),
                ("angle_deg", w.angle_deg.is_some()),
                ("state", w.state.is_some()),
                ("name", w.name.is_some()),
                ("on", w.on.is_some()),
                ("seconds", w.seconds.is_some()),
            ];
            if let Some((field, _)) = present.iter().find(|(f, here)| *here && !allowed.contains(f)) {
                return Err(WireError::Stray(field));
            }
            Ok(match kind {
                ActionKind::Drive => {
                    Action::Drive { distance_m: w.distance_m.ok_or(WireError::Missing("distance_m"))? }
                }
                ActionKind::Turn => Action::Turn { angle_deg: w.angle_deg.ok_or(WireError::Missing("angle_deg"))? },
                ActionKind::Stop => Action::Stop,
                ActionKind::Servo => Action::Servo {
                    joint: w.joint.ok_or(WireError::Missing("joint"))?,
                    angle_deg: w.angle_deg.ok_or(WireError::Missing("angle_deg"))?,
                },
                ActionKind::Grip => Action::Grip { state: w.state.ok_or(WireError::Missing("state"))? },
                ActionKind::Output => Action::Output {
                    name: w.name.ok_or(WireError::Missing("name"))?,
                    on: w.on.ok_or(WireError::Missing("on"))?,
                },
                ActionKind::Wait => Action::Wait { seconds: w.seconds.ok_or(WireError::Missing("seconds"))? },
            })
        }
    }

    impl From<Action> for WireAction {
        fn from(a: Action) -> Self {
            let mut w = WireAction {
                action: Name::try_from(a.kind().name()).unwrap_or_default(),
                distance_m: None,
                joint: None,
                angle_deg: None,
                state: None,
                name: None,
                on: None,
                seconds: None,
            };
            match a {
                Action::Drive { distance_m } => w.distance_m = Some(distance_m),
                Action::Turn { angle_deg } => w.angle_deg = Some(angle_deg),
                Action::Stop => {}
                Action::Servo { joint, angle_deg } => {
                    w.joint = Some(joint);
                    w.angle_deg = Some(angle_deg);
                }
                Action::Grip { state } => w.state = Some(state),
                Action::Output { name, on } => {
                    w.name = Some(name);
                    w.on = Some(on);
                }
                Action::Wait { seconds } => w.seconds = Some(seconds),
            }
            w
        }
    }
}

#[cfg(all(test, feature = "serde"))]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Action, serde_json::Error> {
        serde_json::from_str(s)
    }

    #[test]
    fn every_contract_example_round_trips() {
        // The examples of docs/DESIGN.md's action vocabulary, read from the document itself.
        let design = include_str!("../../docs/DESIGN.md");
        let block = design.split("Action vocabulary (v1):").nth(1).unwrap();
        let block = block.split("```json").nth(1).unwrap().split("```").next().unwrap();
        let examples: Vec<&str> =
            block.lines().map(|l| l.split("//").next().unwrap().trim()).filter(|l| !l.is_empty()).collect();
        assert_eq!(examples.len(), 7, "{examples:?}");
        for s in examples {
            let a = parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            let written = serde_json::to_string(&a).unwrap();
            assert_eq!(parse(&written).unwrap(), a, "{s}");
            let (ours, theirs): (serde_json::Value, serde_json::Value) =
                (serde_json::from_str(&written).unwrap(), serde_json::from_str(s).unwrap());
            assert_eq!(
                ours.as_object().unwrap().keys().collect::<Vec<_>>(),
                theirs.as_object().unwrap().keys().collect::<Vec<_>>(),
                "{s}"
            );
        }
    }

    #[test]
    fn field_order_does_not_matter() {
        let a = parse(r#"{"angle_deg":-90,"action":"turn"}"#).unwrap();
        assert_eq!(a, Action::Turn { angle_deg: -90.0 });
    }

    #[test]
    fn unknown_action_is_refused() {
        let e = parse(r#"{"action":"fly","distance_m":1}"#).unwrap_err();
        assert!(e.to_string().contains("unknown action"), "{e}");
    }

    #[test]
    fn missing_and_stray_fields_are_refused() {
        let e = parse(r#"{"action":"drive"}"#).unwrap_err();
        assert!(e.to_string().contains("missing field `distance_m`"), "{e}");
        let e = parse(r#"{"action":"stop","distance_m":1}"#).unwrap_err();
        assert!(e.to_string().contains("`distance_m` does not belong"), "{e}");
        let e = parse(r#"{"action":"stop","speed":1}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field"), "{e}");
    }

    #[test]
    fn wrong_types_are_refused() {
        assert!(parse(r#"{"action":"drive","distance_m":"far"}"#).is_err());
        assert!(parse(r#"{"action":"grip","state":"half"}"#).is_err());
        assert!(parse(r#"{"action":"output","name":"lights","on":1}"#).is_err());
    }

    #[test]
    fn overlong_name_is_refused() {
        assert!(parse(r#"{"action":"servo","joint":"a_very_long_joint_name_x","angle_deg":1}"#).is_err());
    }
}
