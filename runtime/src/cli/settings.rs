//! What the commands share: the model options and their resolution against the
//! configuration file ([`Settings`]), where a client finds the broker ([`BrokerArgs`]), and
//! skills by name.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context as _};

use crate::config::Config;
use crate::engine::{Engine, EngineConfig};
use crate::model_store;
use crate::planner::Planner;
use crate::prompt::{self, Skill};
use crate::skills::{self, SkillDir};

/// Options shared by every command that loads the model.
#[derive(clap::Args, Debug, Clone)]
pub(super) struct ModelArgs {
    /// Configuration file (TOML; see the README). Flags override it.
    #[arg(long, env = "TRINITY_CONFIG")]
    config: Option<PathBuf>,
    /// A GGUF model; default: the cached Gemma 3 270M Q4_K_M (fetched on first use).
    #[arg(long, env = "TRINITY_MODEL")]
    model: Option<PathBuf>,
    /// Inference threads; default: the board's, else all cores.
    #[arg(long)]
    threads: Option<usize>,
    /// Board profile; default: the config's, else sim.
    #[arg(long)]
    board: Option<String>,
    /// Directory of skill folders; default: the config's, else `skills` here if it exists.
    #[arg(long, env = "TRINITY_SKILLS")]
    skills: Option<PathBuf>,
    /// Sample every plan token, also those the grammar forces (to measure jump-forward).
    #[arg(long)]
    no_jump_forward: bool,
    /// Check no guessed plan tokens (numbers copied from the command) in a decode (to measure
    /// drafting).
    #[arg(long)]
    no_draft: bool,
}

/// What a command that loads the model runs with ([`Settings::resolve`]: a flag, else the
/// configuration file, else the default).
pub(super) struct Settings {
    pub(super) config: Config,
    pub(super) board: trinity_boards::Board,
    pub(super) model: Option<PathBuf>,
    pub(super) threads: Option<usize>,
    pub(super) context: Option<u32>,
    pub(super) repack: Option<bool>,
    pub(super) skills_dir: Option<PathBuf>,
    pub(super) jump_forward: bool,
    pub(super) draft: bool,
    /// Keep evaluated skill prefixes on disk (`ask` and `run`: the next process starts warm).
    pub(super) prefix_cache: bool,
}

impl Settings {
    /// The one place a command's settings are resolved: a flag, else the configuration
    /// file (`--config`), else the default (the board's, or the built-in one).
    pub(super) fn resolve(args: &ModelArgs) -> anyhow::Result<Settings> {
        let config = match &args.config {
            Some(path) => Config::load(path)?,
            None => Config::default(),
        };
        let board = trinity_boards::by_name(config.board_name(args.board.as_deref()))?;
        Ok(Settings {
            model: args.model.clone().or(config.model.path.clone()),
            threads: args.threads.or(config.model.threads).or(board.default_threads),
            context: config.model.context,
            repack: config.model.repack,
            skills_dir: args.skills.clone().or(config.skills.dir.clone()).or_else(|| {
                let here = PathBuf::from("skills");
                here.is_dir().then_some(here)
            }),
            board,
            config,
            jump_forward: !args.no_jump_forward,
            draft: !args.no_draft,
            prefix_cache: false,
        })
    }

    /// The engine's configuration: the model (the default one fetched if none is named),
    /// threads and context from config and flags.
    pub(super) fn engine_config(&self) -> anyhow::Result<EngineConfig> {
        let path = match &self.model {
            Some(p) => p.clone(),
            None => model_store::fetch_default(fetch_progress).context("cannot fetch the default model")?,
        };
        let mut config = EngineConfig::new(path);
        if let Some(t) = self.threads {
            config.threads = t.max(1);
        }
        if let Some(n) = self.context {
            config.n_ctx = n;
        }
        config.jump_forward = self.jump_forward;
        config.draft = self.draft;
        if let Some(r) = self.repack {
            config.repack = r;
        }
        if self.prefix_cache {
            config.prefix_dir = Some(prefix_cache_dir());
        }
        Ok(config)
    }
}

/// Where a client command finds the broker (and, for `send`, the robot id).
#[derive(clap::Args, Debug)]
pub(super) struct BrokerArgs {
    /// Configuration file (for the broker and robot id).
    #[arg(long, env = "TRINITY_CONFIG")]
    config: Option<PathBuf>,
    /// Broker host; default: the config's, else 127.0.0.1.
    #[arg(long)]
    host: Option<String>,
    /// Broker port; default: the config's broker, else its `embedded_listen`, else 1883.
    #[arg(long)]
    port: Option<u16>,
}

impl BrokerArgs {
    /// The config file (or defaults) and the broker: the flags, else the configured broker,
    /// else where the daemon's embedded one listens.
    pub(super) fn resolve(self) -> anyhow::Result<(Config, String, u16)> {
        let config = match self.config {
            Some(p) => Config::load(&p)?,
            None => Config::default(),
        };
        let (host, port) = match self.host {
            Some(h) => (h, self.port.or(config.mqtt.port).unwrap_or(crate::config::DEFAULT_MQTT_PORT)),
            None => {
                let (h, p) = config.mqtt.client_target();
                (h, self.port.unwrap_or(p))
            }
        };
        Ok((config, host, port))
    }
}

/// A built-in skill by name.
pub(super) fn builtin_skill(name: &str) -> anyhow::Result<Skill> {
    prompt::builtin(name).ok_or_else(|| anyhow!("unknown skill `{name}`; known: {}", prompt::BUILTIN.join(", ")))
}

/// A skill found by name.
pub(super) enum Found {
    /// A folder whose skill.toml names it (its adapters not loaded yet).
    Folder(SkillDir),
    /// One of the built-in prompts.
    Builtin(Skill),
}

impl Found {
    /// The skill's prompt and allowed actions.
    pub(super) fn skill(&self) -> &Skill {
        match self {
            Found::Folder(sd) => &sd.skill,
            Found::Builtin(s) => s,
        }
    }

    /// Made ready on `planner`'s engine (a folder's adapters loaded).
    pub(super) fn ready(self, planner: &Planner) -> anyhow::Result<Skill> {
        Ok(match self {
            Found::Folder(sd) => skills::activate(planner.engine(), sd)?.skill,
            Found::Builtin(s) => s,
        })
    }
}

/// A skill by name: a folder under `dir` whose skill.toml names it, else a built-in.
/// Folders that fail to load are reported when nothing else matches.
pub(super) fn find_skill(dir: Option<&std::path::Path>, name: &str) -> anyhow::Result<Found> {
    let mut problems = Vec::new();
    let mut known: Vec<String> = prompt::BUILTIN.iter().map(|s| s.to_string()).collect();
    for d in dir.map(skills::folders).unwrap_or_default() {
        match SkillDir::load(&d) {
            Ok(sd) if sd.skill.name == name => return Ok(Found::Folder(sd)),
            Ok(sd) => known.push(sd.skill.name),
            Err(e) => problems.push(e.to_string()),
        }
    }
    match prompt::builtin(name) {
        Some(s) => Ok(Found::Builtin(s)),
        None => {
            known.sort();
            known.dedup();
            let mut msg = format!("unknown skill `{name}`; known: {}", known.join(", "));
            for p in problems {
                msg.push_str(&format!("\n  (not loaded: {p})"));
            }
            bail!(msg)
        }
    }
}

pub(super) fn fetch_progress(line: &str) {
    eprintln!("trinity: {line}");
}

/// Where `ask` and `run` keep evaluated skill prefixes (`engine::disk`).
pub(super) fn prefix_cache_dir() -> PathBuf {
    model_store::cache_dir().join("prefixes")
}

pub(super) fn start_planner(settings: Settings) -> anyhow::Result<Planner> {
    let engine = Engine::start(settings.engine_config()?)?;
    Ok(Planner::new(engine, settings.board))
}
