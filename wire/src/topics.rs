//! Topic names under `trinity/{robot_id}/` ([`Topics`]), and what an incoming topic means
//! ([`Inbound`]): docs/DESIGN.md, "MQTT contract".

use crate::dispatch::Source;
use crate::names;

/// Topic names for one robot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    base: String,
}

/// What an incoming publish is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// A command; `skill` from `cmd/{skill}`.
    Command {
        /// Topic skill.
        skill: Option<String>,
        /// Raw payload.
        payload: Vec<u8>,
        /// Live, or the broker's backlog from while the daemon was down.
        source: Source,
    },
    /// `cancel` with a command id.
    Cancel(String),
    /// `estop` `engage` (true) or `release` (false).
    Estop(bool),
    /// `skills/reload`: rescan the skill folders now.
    ReloadSkills,
    /// Something on our topics that is not valid; logged.
    Invalid(String),
}

impl Topics {
    /// Topics under `trinity/{robot_id}/`.
    pub fn new(robot_id: &str) -> Self {
        Topics { base: format!("trinity/{robot_id}") }
    }

    fn topic(&self, leaf: &str) -> String {
        format!("{}/{leaf}", self.base)
    }

    /// `cmd`.
    pub fn cmd(&self) -> String {
        self.topic("cmd")
    }

    /// `evt/{id}`.
    pub fn evt(&self, id: &str) -> String {
        self.topic(&format!("evt/{id}"))
    }

    /// `status` (retained).
    pub fn status(&self) -> String {
        self.topic("status")
    }

    /// `info` (retained).
    pub fn info(&self) -> String {
        self.topic("info")
    }

    /// `telemetry`.
    pub fn telemetry(&self) -> String {
        self.topic("telemetry")
    }

    /// `cancel`.
    pub fn cancel(&self) -> String {
        self.topic("cancel")
    }

    /// `estop`.
    pub fn estop(&self) -> String {
        self.topic("estop")
    }

    /// `sync` (in and out, the link's own): the link publishes a per-boot token here after a
    /// restart; what arrives before the token comes back is the broker's backlog.
    pub fn sync(&self) -> String {
        self.topic("sync")
    }

    /// `estop/sync` (the e-stop link's own, as `sync` is the main link's).
    pub fn estop_sync(&self) -> String {
        self.topic("estop/sync")
    }

    /// The filters the main link subscribes to. `estop` has its own connection
    /// (`trinity-runtime`'s `mqtt::estop_link`).
    pub fn subscriptions(&self) -> [String; 5] {
        [self.cmd(), self.topic("cmd/+"), self.cancel(), self.skills_reload(), self.sync()]
    }

    /// `skills/reload` (in): rescan the skill folders now (any payload).
    pub fn skills_reload(&self) -> String {
        self.topic("skills/reload")
    }

    /// Classify an incoming publish.
    pub fn inbound(&self, topic: &str, payload: &[u8]) -> Inbound {
        let Some(leaf) = topic.strip_prefix(&self.base).and_then(|t| t.strip_prefix('/')) else {
            return Inbound::Invalid(format!("publish on foreign topic {topic}"));
        };
        let text = || String::from_utf8_lossy(payload).trim().to_owned();
        // `cancel` and `estop` carry a word or an id: anything long is refused uncopied.
        if matches!(leaf, "cancel" | "estop") && payload.len() > 128 {
            return Inbound::Invalid(format!("{leaf} payload of {} bytes refused", payload.len()));
        }
        match leaf {
            "cmd" => Inbound::Command { skill: None, payload: payload.to_vec(), source: Source::Live },
            "cancel" => match text() {
                id if id.is_empty() => Inbound::Invalid("cancel without a command id".into()),
                id => match names::command_id(&id) {
                    Ok(()) => Inbound::Cancel(id),
                    Err(e) => Inbound::Invalid(format!("cancel: {e}")),
                },
            },
            "skills/reload" => Inbound::ReloadSkills,
            "estop" => match text().as_str() {
                "engage" => Inbound::Estop(true),
                "release" => Inbound::Estop(false),
                other => Inbound::Invalid(format!("estop payload {other:?}: expected `engage` or `release`")),
            },
            _ => match leaf.strip_prefix("cmd/") {
                // The skill name is checked with the payload, so that a refusal can carry its id.
                Some(skill) if !skill.is_empty() && !skill.contains('/') => {
                    Inbound::Command { skill: Some(skill.to_owned()), payload: payload.to_vec(), source: Source::Live }
                }
                _ => Inbound::Invalid(format!("publish on unknown topic {topic}")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_follow_the_contract() {
        let t = Topics::new("r1");
        assert_eq!(t.cmd(), "trinity/r1/cmd");
        assert_eq!(t.evt("c-42"), "trinity/r1/evt/c-42");
        assert_eq!(t.subscriptions()[1], "trinity/r1/cmd/+");
        assert!(!t.subscriptions().contains(&t.estop()), "the e-stop has its own connection");
    }

    #[test]
    fn inbound_topics_are_classified() {
        let t = Topics::new("r1");
        assert_eq!(
            t.inbound("trinity/r1/cmd/arm", b"open"),
            Inbound::Command { skill: Some("arm".into()), payload: b"open".to_vec(), source: Source::Live }
        );
        assert_eq!(t.inbound("trinity/r1/estop", b" engage\n"), Inbound::Estop(true));
        assert_eq!(t.inbound("trinity/r1/estop", b"release"), Inbound::Estop(false));
        assert!(matches!(t.inbound("trinity/r1/estop", b"maybe"), Inbound::Invalid(_)));
        assert_eq!(t.inbound("trinity/r1/cancel", b"c-1"), Inbound::Cancel("c-1".into()));
        assert!(matches!(t.inbound("trinity/r1/cancel", b""), Inbound::Invalid(_)));
        assert!(matches!(t.inbound("trinity/r1/cancel", b"a\x01b"), Inbound::Invalid(_)));
        assert!(matches!(t.inbound("trinity/r2/cmd", b"x"), Inbound::Invalid(_)));
        assert_eq!(t.inbound("trinity/r1/skills/reload", b""), Inbound::ReloadSkills);
    }
}
