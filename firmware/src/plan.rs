//! A plan: the ordered actions the model proposed for one command.

use crate::action::Action;

/// The most actions a plan may hold (docs/DESIGN.md, "MQTT contract": "a JSON array of at most 8 actions").
pub const MAX_PLAN_LEN: usize = 8;

/// An ordered list of at most [`MAX_PLAN_LEN`] actions.
///
/// On the wire a plan is a JSON array; a longer array is refused while parsing.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct Plan {
    actions: heapless::Vec<Action, MAX_PLAN_LEN>,
}

/// The plan already holds [`MAX_PLAN_LEN`] actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanFull;

impl Plan {
    /// An empty plan.
    pub const fn new() -> Self {
        Plan { actions: heapless::Vec::new() }
    }

    /// Append an action.
    pub fn push(&mut self, action: Action) -> Result<(), PlanFull> {
        self.actions.push(action).map_err(|_| PlanFull)
    }

    /// The actions, in order.
    pub fn actions(&self) -> &[Action] {
        &self.actions
    }

    /// Number of actions.
    pub fn len(&self) -> usize {
        self.actions.len()
    }

    /// True when the plan holds no action.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }
}

impl TryFrom<&[Action]> for Plan {
    type Error = PlanFull;

    fn try_from(actions: &[Action]) -> Result<Self, PlanFull> {
        let mut plan = Plan::new();
        for a in actions {
            plan.push(a.clone())?;
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_refuses_a_ninth_action() {
        let mut plan = Plan::new();
        for _ in 0..MAX_PLAN_LEN {
            plan.push(Action::Stop).unwrap();
        }
        assert_eq!(plan.push(Action::Stop), Err(PlanFull));
        assert_eq!(plan.len(), MAX_PLAN_LEN);
    }

    #[cfg(feature = "serde")]
    #[test]
    fn json_array_of_nine_is_refused() {
        let nine = format!("[{}]", [r#"{"action":"stop"}"#; 9].join(","));
        assert!(serde_json::from_str::<Plan>(&nine).is_err());
        let eight = format!("[{}]", [r#"{"action":"stop"}"#; 8].join(","));
        assert_eq!(serde_json::from_str::<Plan>(&eight).unwrap().len(), 8);
    }

    #[cfg(feature = "serde")]
    #[test]
    fn plan_round_trips_as_a_json_array() {
        let s = r#"[{"action":"drive","distance_m":2.0},{"action":"turn","angle_deg":-90.0}]"#;
        let plan: Plan = serde_json::from_str(s).unwrap();
        assert_eq!(plan.actions()[1], Action::Turn { angle_deg: -90.0 });
        assert_eq!(serde_json::to_string(&plan).unwrap(), s);
    }
}
