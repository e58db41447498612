//! The configuration file (TOML). Every key is optional; command-line flags win.
//!
//! ```toml
//! # Board profile: sim (default) or a Raspberry Pi profile.
//! board = "sim"
//! # Topics live under trinity/{robot_id}/.
//! robot_id = "robot1"
//!
//! [model]
//! # A GGUF model. Default: the cached Gemma 3 270M Q4_K_M (fetched on first use).
//! path = "/var/lib/trinity/models/gemma-3-270m-q4_k_m.gguf"
//! # Inference threads. Default: the board's setting, else all cores.
//! threads = 4
//! # Context length in tokens of each cached skill prefix with its command and plan.
//! context = 1024
//! # llama.cpp's weight repacking for its fastest CPU kernels (a copy in memory).
//! repack = true
//!
//! [mqtt]
//! # Broker host. Without one, `trinity run` starts its own broker on `embedded_listen`.
//! host = "broker.local"
//! port = 1883
//! # Stable client id: the session is persistent. Default: trinity-{robot_id}.
//! client_id = "trinity-robot1"
//! username = "robot1"
//! password = "secret"
//! # TLS: the broker's CA (PEM); a client certificate and key for mutual TLS.
//! ca_file = "/etc/trinity/ca.pem"
//! client_cert = "/etc/trinity/robot1.pem"
//! client_key = "/etc/trinity/robot1.key"
//! keep_alive_s = 30
//! # Where the embedded broker listens when `host` is not set.
//! embedded_listen = "127.0.0.1:1883"
//!
//! [daemon]
//! # Commands queued behind the running one; more are rejected.
//! queue = 8
//! # Telemetry period.
//! telemetry_ms = 1000
//! # Where the e-stop latch is kept across restarts. Default: $STATE_DIRECTORY (systemd),
//! # else $XDG_STATE_HOME/trinity, else ~/.local/state/trinity.
//! state_dir = "/var/lib/trinity"
//! # Run commands the broker queued while the daemon was down even if they carry no
//! # `not_after` (their freshness). Default: false, such commands are rejected.
//! run_queued_after_restart = false
//!
//! [skills]
//! # Skill folders (skill.toml + LoRA adapter). Default: `skills` in the working directory.
//! dir = "/var/lib/trinity/skills"
//! # How often the daemon looks for added, changed or removed skills (0: only on request,
//! # by a publish on trinity/{robot_id}/skills/reload).
//! poll_ms = 2000
//!
//! [fleet]
//! # Skills over the broker (`trinity skill publish`): trusted signing keys (a `.pub` file or a
//! # folder of them); without keys the robot installs nothing from the broker.
//! keys = "/etc/trinity/keys"
//! # Skills installed as soon as a new version is announced: a list, or "*" for every one.
//! # Others only on request (trinity/{robot_id}/skills/install).
//! skills = ["rover", "arm"]
//! # This robot's labels, for rollouts to a group (`skill publish --to label=canary`).
//! labels = ["canary"]
//! # Fetch a bundle from the HTTP(S) mirror its signed manifest names, if any (`skill pack
//! # --mirror`); the broker stays the fallback. false: the broker only.
//! mirror = true
//!
//! [homeassistant]
//! # Publish Home Assistant MQTT discovery configs: the robot appears as a device with a
//! # command text box, e-stop buttons and sensors. Turned off again, they are removed.
//! discovery = true
//! # Home Assistant's discovery prefix.
//! prefix = "homeassistant"
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// The whole file.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Board profile name.
    pub board: Option<String>,
    /// Robot id for the MQTT topics.
    pub robot_id: Option<String>,
    /// Model settings.
    #[serde(default)]
    pub model: ModelConfig,
    /// Broker settings.
    #[serde(default)]
    pub mqtt: MqttConfig,
    /// Daemon settings.
    #[serde(default)]
    pub daemon: DaemonConfig,
    /// Skill folders.
    #[serde(default)]
    pub skills: SkillsConfig,
    /// Home Assistant.
    #[serde(default)]
    pub homeassistant: HomeAssistantConfig,
    /// Skills over the broker.
    #[serde(default)]
    pub fleet: FleetConfig,
}

/// `[fleet]`.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetConfig {
    /// Trusted public keys (a `.pub` file or a folder of them); none: fleet installs off.
    pub keys: Option<PathBuf>,
    /// Skills installed when announced: names, or `"*"`.
    pub skills: Option<FleetSkills>,
    /// This robot's labels.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Fetch a bundle from the HTTP(S) mirror its signed manifest names, when it names one
    /// (default true); the broker stays the fallback. `false`: the broker only.
    pub mirror: Option<bool>,
}

/// `[fleet] skills`: a list of names, or `"*"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum FleetSkills {
    /// `"*"` (any other string is an error).
    All(String),
    /// Names.
    Only(Vec<String>),
}

impl FleetConfig {
    /// The resolved settings, when fleet installs are on; an error for a bad name.
    pub fn settings(&self) -> Result<Option<FleetSettings>, String> {
        let Some(keys) = &self.keys else {
            return match (&self.skills, self.labels.is_empty()) {
                (None, true) => Ok(None),
                _ => Err("[fleet] needs `keys` (trusted signing keys) to install anything".into()),
            };
        };
        let skills = match &self.skills {
            None => Wanted::Only(Vec::new()),
            Some(FleetSkills::All(s)) if s == "*" => Wanted::All,
            Some(FleetSkills::All(s)) => return Err(format!("fleet.skills {s:?}: a list of names, or \"*\"")),
            Some(FleetSkills::Only(v)) => {
                for n in v {
                    trinity_wire::names::skill(n).map_err(|e| format!("fleet.skills: {e}"))?;
                }
                Wanted::Only(v.clone())
            }
        };
        for l in &self.labels {
            trinity_wire::names::robot_id(l).map_err(|e| format!("fleet.labels: {e}"))?;
        }
        Ok(Some(FleetSettings {
            skills,
            labels: self.labels.clone(),
            keys: keys.clone(),
            mirror: self.mirror.unwrap_or(true),
        }))
    }
}

/// Which announced skills a robot installs without being asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// Every skill (`skills = "*"`).
    All,
    /// These.
    Only(Vec<String>),
}

impl Wanted {
    /// Whether `name` is one of them.
    pub fn contains(&self, name: &str) -> bool {
        match self {
            Wanted::All => true,
            Wanted::Only(v) => v.iter().any(|n| n == name),
        }
    }
}

/// `[fleet]`, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetSettings {
    /// Skills installed when announced.
    pub skills: Wanted,
    /// This robot's labels (an announcement's `to` may name them).
    pub labels: Vec<String>,
    /// Trusted public keys: a `.pub` file or a folder of them.
    pub keys: PathBuf,
    /// Whether bundles may come from their HTTP(S) mirror.
    pub mirror: bool,
}

/// `[homeassistant]`.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HomeAssistantConfig {
    /// Publish MQTT discovery configs, so the robot appears as a device (default false).
    pub discovery: Option<bool>,
    /// Home Assistant's discovery prefix (default `homeassistant`).
    pub prefix: Option<String>,
}

impl HomeAssistantConfig {
    /// The discovery prefix when discovery is on; an error for a prefix no topic can hold.
    pub fn enabled_prefix(&self) -> Result<Option<String>, String> {
        if !self.discovery.unwrap_or(false) {
            return Ok(None);
        }
        let p = self.prefix.clone().unwrap_or_else(|| "homeassistant".into());
        let ok = (1..=64).contains(&p.len())
            && p.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-/".contains(&b))
            && !p.starts_with('/')
            && !p.ends_with('/');
        if ok {
            Ok(Some(p))
        } else {
            Err(format!("homeassistant.prefix {p:?}: 1-64 characters of [A-Za-z0-9_/-], no leading or trailing /"))
        }
    }
}

/// `[skills]`.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillsConfig {
    /// The directory of skill folders.
    pub dir: Option<PathBuf>,
    /// Poll period, ms (0: only on request).
    pub poll_ms: Option<u64>,
}

impl SkillsConfig {
    /// `poll_ms` when the file has none.
    pub const DEFAULT_POLL_MS: u64 = 2000;

    /// How often the daemon rescans the skill folders (zero: only on request).
    pub fn poll(&self) -> Duration {
        Duration::from_millis(self.poll_ms.unwrap_or(Self::DEFAULT_POLL_MS))
    }
}

/// `[mqtt]`.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    /// Broker host; `None`: the embedded broker.
    pub host: Option<String>,
    /// Broker port.
    pub port: Option<u16>,
    /// Client id.
    pub client_id: Option<String>,
    /// Username.
    pub username: Option<String>,
    /// Password.
    pub password: Option<String>,
    /// CA certificate (PEM) for TLS.
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM).
    pub client_cert: Option<PathBuf>,
    /// Client key (PEM).
    pub client_key: Option<PathBuf>,
    /// Keep-alive, seconds.
    pub keep_alive_s: Option<u64>,
    /// Embedded broker address.
    pub embedded_listen: Option<std::net::SocketAddr>,
}

/// The MQTT port when the config names none.
pub const DEFAULT_MQTT_PORT: u16 = 1883;

impl MqttConfig {
    /// `keep_alive_s` when the file has none.
    pub const DEFAULT_KEEP_ALIVE_S: u64 = 30;
    /// The shortest keep-alive used (a smaller one is raised to it).
    pub const MIN_KEEP_ALIVE_S: u64 = 5;

    /// The MQTT keep-alive interval.
    pub fn keep_alive(&self) -> Duration {
        Duration::from_secs(self.keep_alive_s.unwrap_or(Self::DEFAULT_KEEP_ALIVE_S).max(Self::MIN_KEEP_ALIVE_S))
    }

    /// The configured broker (host, port); `None`: the embedded one.
    pub fn broker(&self) -> Option<(String, u16)> {
        self.host.clone().map(|h| (h, self.port.unwrap_or(DEFAULT_MQTT_PORT)))
    }

    /// Where the embedded broker listens.
    pub fn embedded(&self) -> std::net::SocketAddr {
        self.embedded_listen.unwrap_or_else(|| ([127, 0, 0, 1], DEFAULT_MQTT_PORT).into())
    }

    /// Where a client on this machine (`trinity send`) reaches the daemon's broker: the
    /// configured one, else the embedded one (on loopback when it listens on all addresses).
    pub fn client_target(&self) -> (String, u16) {
        if let Some(b) = self.broker() {
            return b;
        }
        let a = self.embedded();
        let ip = match a.ip() {
            std::net::IpAddr::V4(v4) if v4.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::IpAddr::V6(v6) if v6.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
            ip => ip,
        };
        (ip.to_string(), a.port())
    }
}

/// `[daemon]`.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonConfig {
    /// Queue capacity.
    pub queue: Option<usize>,
    /// Telemetry period, ms.
    pub telemetry_ms: Option<u64>,
    /// Where the e-stop latch is kept.
    pub state_dir: Option<PathBuf>,
    /// Run the broker's backlog without freshness after a restart.
    pub run_queued_after_restart: Option<bool>,
}

impl DaemonConfig {
    /// `queue` when the file has none.
    pub const DEFAULT_QUEUE: usize = 8;
    /// `telemetry_ms` when the file has none.
    pub const DEFAULT_TELEMETRY_MS: u64 = 1000;
    /// The shortest telemetry period used (a smaller one is raised to it).
    pub const MIN_TELEMETRY_MS: u64 = 50;

    /// Commands queued behind the running one.
    pub fn queue(&self) -> usize {
        self.queue.unwrap_or(Self::DEFAULT_QUEUE)
    }

    /// The telemetry period.
    pub fn telemetry(&self) -> Duration {
        Duration::from_millis(self.telemetry_ms.unwrap_or(Self::DEFAULT_TELEMETRY_MS).max(Self::MIN_TELEMETRY_MS))
    }

    /// Whether the broker's backlog without freshness runs after a restart (default: no).
    pub fn run_queued_after_restart(&self) -> bool {
        self.run_queued_after_restart.unwrap_or(false)
    }

    /// The state directory: the configured one, else systemd's `$STATE_DIRECTORY`, else
    /// `$XDG_STATE_HOME/trinity`, else `~/.local/state/trinity`.
    pub fn state_dir(&self) -> PathBuf {
        let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        self.state_dir
            .clone()
            // systemd may list several, separated by `:`; ours is the first.
            .or_else(|| env("STATE_DIRECTORY").map(|d| d.to_string_lossy().split(':').next().unwrap_or("").into()))
            .or_else(|| env("XDG_STATE_HOME").map(|d| d.join("trinity")))
            .or_else(|| env("HOME").map(|h| h.join(".local/state/trinity")))
            .unwrap_or_else(|| PathBuf::from(".trinity-state"))
    }
}

/// `[model]`.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// GGUF path.
    pub path: Option<PathBuf>,
    /// Inference threads.
    pub threads: Option<usize>,
    /// Context length.
    pub context: Option<u32>,
    /// Let llama.cpp repack the weights into the layout of its fastest CPU kernels (a
    /// copy of them in memory; default true). `false` saves that memory for some speed
    /// (BENCHMARKS.md, "Memory").
    pub repack: Option<bool>,
}

/// Why a configuration file was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("invalid config {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What was wrong, with the line.
        message: String,
    },
}

/// The board when neither `--board` nor the file's `board` names one.
pub const DEFAULT_BOARD: &str = "sim";

impl Config {
    /// The board to run: `flag` (`--board`), else the file's `board`, else [`DEFAULT_BOARD`].
    pub fn board_name<'a>(&'a self, flag: Option<&'a str>) -> &'a str {
        flag.or(self.board.as_deref()).unwrap_or(DEFAULT_BOARD)
    }

    /// Parse a configuration text; `path` only names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let c: Config =
            toml::from_str(text).map_err(|e| ConfigError::Parse { path: path.to_owned(), message: e.to_string() })?;
        if c.model.threads == Some(0) || c.model.context.is_some_and(|n| n < 256) {
            return Err(ConfigError::Parse {
                path: path.to_owned(),
                message: "model.threads must be at least 1 and model.context at least 256".into(),
            });
        }
        Ok(c)
    }

    /// Read and parse a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        Self::parse(&text, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fleet_settings_resolve_and_refuse_bad_names() {
        let f = |t: &str| Config::parse(t, Path::new("t")).unwrap().fleet.settings();
        assert_eq!(f(""), Ok(None));
        let s = f("[fleet]\nkeys = \"k\"\nskills = \"*\"\nlabels = [\"canary\"]\n").unwrap().unwrap();
        assert_eq!((s.skills, s.labels, s.mirror), (Wanted::All, vec!["canary".to_owned()], true));
        let s = f("[fleet]\nkeys = \"k\"\nskills = [\"rover\"]\nmirror = false\n").unwrap().unwrap();
        assert_eq!((s.skills, s.mirror), (Wanted::Only(vec!["rover".into()]), false));
        assert!(f("[fleet]\nskills = [\"rover\"]\n").is_err(), "no keys");
        assert!(f("[fleet]\nkeys = \"k\"\nskills = \"all\"\n").is_err());
        assert!(f("[fleet]\nkeys = \"k\"\nskills = [\"a/b\"]\n").is_err());
        assert!(f("[fleet]\nkeys = \"k\"\nlabels = [\"+\"]\n").is_err());
    }

    #[test]
    fn documented_example_parses() {
        let doc = include_str!("lib.rs")
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .map(|l| l.trim_start_matches("//!").trim_start())
            .skip_while(|l| *l != "```toml")
            .skip(1)
            .take_while(|l| *l != "```")
            .collect::<Vec<_>>()
            .join("\n");
        let c = Config::parse(&doc, Path::new("doc")).unwrap();
        assert_eq!(c.board.as_deref(), Some("sim"));
        assert_eq!(c.model.threads, Some(4));
        assert_eq!(c.model.context, Some(1024));
        assert_eq!(c.mqtt.port, Some(1883));
        assert_eq!(c.daemon.queue, Some(8));
        assert_eq!(c.skills.poll_ms, Some(2000));
        // Where the example shows a default, it shows the one the daemon uses.
        let d = Config::default();
        assert_eq!(c.daemon.queue(), d.daemon.queue());
        assert_eq!(c.daemon.telemetry(), d.daemon.telemetry());
        assert_eq!(c.daemon.run_queued_after_restart(), d.daemon.run_queued_after_restart());
        assert_eq!(c.skills.poll(), d.skills.poll());
        assert_eq!(c.mqtt.keep_alive(), d.mqtt.keep_alive());
        assert_eq!(c.mqtt.embedded(), d.mqtt.embedded());
        assert_eq!(c.mqtt.port, Some(DEFAULT_MQTT_PORT));
        assert_eq!(c.homeassistant.enabled_prefix(), Ok(Some("homeassistant".into())));
    }

    #[test]
    fn a_discovery_prefix_no_topic_can_hold_is_refused() {
        let ha = |t: &str| Config::parse(t, Path::new("t")).unwrap().homeassistant.enabled_prefix();
        assert_eq!(ha(""), Ok(None));
        assert_eq!(ha("[homeassistant]\nprefix = \"x\"\n"), Ok(None), "off unless asked");
        assert_eq!(ha("[homeassistant]\ndiscovery = true\nprefix = \"ha/lab\"\n"), Ok(Some("ha/lab".into())));
        for bad in ["", "a/+", "#", "/ha", "ha/", "h a"] {
            let t = format!("[homeassistant]\ndiscovery = true\nprefix = {bad:?}\n");
            assert!(ha(&t).is_err(), "{bad:?}");
        }
    }

    /// `(section, key)` of every `key = value` line, `#key = value` too if `commented`.
    fn keys(text: &str, commented: bool) -> std::collections::BTreeSet<(String, String)> {
        let mut section = String::new();
        let mut out = std::collections::BTreeSet::new();
        for line in text.lines() {
            let line = line.trim();
            if let Some(s) = line.strip_prefix('[') {
                section = s.trim_end_matches(']').to_owned();
            }
            let line = if commented { line.strip_prefix('#').unwrap_or(line) } else { line };
            if let Some((k, _)) = line.split_once(" = ") {
                if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    out.insert((section.clone(), k.to_owned()));
                }
            }
        }
        out
    }

    #[test]
    fn the_packaged_conffile_has_every_key_commented_out() {
        let conf = include_str!("../../packaging/trinity.toml");
        // As shipped: all defaults.
        assert_eq!(Config::parse(conf, Path::new("conffile")).unwrap(), Config::default());
        // Every key of the documented schema is there, commented, and valid uncommented.
        let doc: String = include_str!("lib.rs")
            .lines()
            .take_while(|l| l.starts_with("//!"))
            .map(|l| format!("{}\n", l.trim_start_matches("//!").trim_start()))
            .collect();
        let doc_keys = keys(&doc, false);
        assert!(doc_keys.len() >= 19, "{doc_keys:?}");
        assert_eq!(keys(conf, true), doc_keys);
        let uncommented: String = conf
            .lines()
            .map(|l| if l.starts_with('#') && l.contains(" = ") { &l[1..] } else { l })
            .map(|l| format!("{l}\n"))
            .collect();
        let c = Config::parse(&uncommented, Path::new("uncommented")).unwrap();
        assert_eq!(c.board.as_deref(), Some("pi5"));
        assert_eq!(c.skills.dir.as_deref(), Some(Path::new("/var/lib/trinity/skills")));
    }

    #[test]
    fn the_first_boot_recipe_writes_a_valid_config_for_a_known_board() {
        let user_data = include_str!("../../packaging/cloud-init/user-data");
        assert!(user_data.starts_with("#cloud-config\n"));
        // The block under `path: /etc/trinity/trinity.toml` … `content: |`, dedented.
        let mut lines = user_data.lines().skip_while(|l| !l.ends_with("path: /etc/trinity/trinity.toml"));
        assert!(lines.next().is_some(), "no /etc/trinity/trinity.toml in write_files");
        let block: Vec<&str> = lines
            .skip_while(|l| !l.trim_start().starts_with("content: |"))
            .skip(1)
            .take_while(|l| l.is_empty() || l.starts_with("      "))
            .collect();
        let toml: String = block.iter().map(|l| format!("{}\n", l.get(6..).unwrap_or(""))).collect();
        let c = Config::parse(&toml, Path::new("user-data")).unwrap();
        let board = c.board.clone().expect("the recipe names the board");
        trinity_boards::by_name(&board).unwrap();
        assert!(c.mqtt.host.is_some() && c.robot_id.is_some(), "{c:?}");
        // It installs the package the way the conffile survives, and enables I2C.
        assert!(user_data.contains("--force-confold") && user_data.contains("do_i2c"));
    }

    #[test]
    fn a_local_client_reaches_the_configured_broker_else_the_embedded_one() {
        let m = |t: &str| Config::parse(t, Path::new("t")).unwrap().mqtt.client_target();
        assert_eq!(m(""), ("127.0.0.1".into(), 1883));
        assert_eq!(m("[mqtt]\nembedded_listen = \"127.0.0.1:1884\"\n"), ("127.0.0.1".into(), 1884));
        assert_eq!(m("[mqtt]\nembedded_listen = \"0.0.0.0:2883\"\n"), ("127.0.0.1".into(), 2883));
        assert_eq!(m("[mqtt]\nembedded_listen = \"[::]:2883\"\n"), ("::1".into(), 2883));
        assert_eq!(m("[mqtt]\nhost = \"b\"\nembedded_listen = \"0.0.0.0:2883\"\n"), ("b".into(), 1883));
    }

    #[test]
    fn empty_file_is_all_defaults() {
        assert_eq!(Config::parse("", Path::new("x")).unwrap(), Config::default());
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_with_the_file_named() {
        let e = Config::parse("[model]\npath = 3\n", Path::new("/etc/t.toml")).unwrap_err();
        assert!(e.to_string().contains("/etc/t.toml"), "{e}");
        let e = Config::parse("bord = \"sim\"\n", Path::new("t")).unwrap_err();
        assert!(e.to_string().contains("unknown field `bord`"), "{e}");
        let e = Config::parse("[model]\nthreads = 0\n", Path::new("t")).unwrap_err();
        assert!(e.to_string().contains("at least 1"), "{e}");
    }
}
