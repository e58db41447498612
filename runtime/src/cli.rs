//! The `trinity` command line. `main.rs` only calls [`main`].

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context as _};
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::engine::{Engine, EngineConfig};
use crate::planner::{PlanError, Planner};
use crate::prompt::{self, Skill};
use crate::skills::{self, SkillDir};
use crate::{bench, grammar, model};

/// Trinity: an edge robot inference runtime.
#[derive(Parser, Debug)]
#[command(name = "trinity", version = crate::build_info::version(), about)]
pub struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

/// Options shared by every command that loads the model.
#[derive(clap::Args, Debug, Clone)]
struct ModelArgs {
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
}

/// What a command that loads the model runs with: config file, then flags.
struct Settings {
    config: Config,
    board: trinity_boards::Board,
    model: Option<PathBuf>,
    threads: Option<usize>,
    context: Option<u32>,
    repack: Option<bool>,
    skills_dir: Option<PathBuf>,
    jump_forward: bool,
    /// Keep evaluated skill prefixes on disk (`ask` and `run`: the next process starts warm).
    prefix_cache: bool,
}

impl ModelArgs {
    fn settings(&self) -> anyhow::Result<Settings> {
        let config = match &self.config {
            Some(path) => Config::load(path)?,
            None => Config::default(),
        };
        let board = board(self.board.as_deref().or(config.board.as_deref()).unwrap_or("sim"))?;
        Ok(Settings {
            model: self.model.clone().or(config.model.path.clone()),
            threads: self.threads.or(config.model.threads).or(board.default_threads),
            context: config.model.context,
            repack: config.model.repack,
            skills_dir: self.skills.clone().or(config.skills.dir.clone()).or_else(|| {
                let here = PathBuf::from("skills");
                here.is_dir().then_some(here)
            }),
            board,
            config,
            jump_forward: !self.no_jump_forward,
            prefix_cache: false,
        })
    }
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Turn a command into a plan and print it as JSON.
    Ask {
        /// Skill: general, rover or arm.
        #[arg(long, default_value = prompt::DEFAULT_SKILL)]
        skill: String,
        #[command(flatten)]
        model: ModelArgs,
        /// Print timings (prompt and generation tokens and tok/s, time to plan) on stderr.
        #[arg(short, long)]
        verbose: bool,
        /// Also run the plan on the sim board (simulated time) and print the outcome and
        /// the robot's state as a second JSON line.
        #[arg(long)]
        execute: bool,
        /// With --execute: the run as a JSON line also on a terminal (where it is printed in
        /// words; scripts, whose stdout is no terminal, always get JSON).
        #[arg(long)]
        json: bool,
        /// The command, e.g. "turn left 90 degrees".
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// The model cache.
    #[command(subcommand)]
    Model(ModelCmd),
    /// Print the GBNF grammar a skill decodes under on a board.
    Grammar {
        /// Skill.
        #[arg(long, default_value = prompt::DEFAULT_SKILL)]
        skill: String,
        /// Board profile.
        #[arg(long, default_value = "sim")]
        board: String,
    },
    /// Measure throughput, grammar cost and time-to-plan; prints JSON lines.
    Bench {
        #[command(flatten)]
        model: ModelArgs,
        /// Words in the throughput prompt.
        #[arg(long, default_value_t = 100)]
        prompt_words: usize,
        /// Tokens generated in the throughput test.
        #[arg(long, default_value_t = 64)]
        gen_tokens: usize,
        /// Repetitions (after one warm-up).
        #[arg(long, default_value_t = 5)]
        reps: usize,
        /// Only the throughput test (for slow, emulated CPUs).
        #[arg(long)]
        throughput_only: bool,
    },
    /// The daemon: serve commands over MQTT (embedded broker unless the config names one).
    Run {
        #[command(flatten)]
        model: ModelArgs,
        /// Robot id (topics under trinity/{robot_id}/); default: the config's, else robot1.
        #[arg(long)]
        robot_id: Option<String>,
    },
    /// Put the board's outputs in their safe state and exit (the systemd unit's
    /// `ExecStopPost`: after any exit of the daemon, a SIGKILL or a crash included).
    SafeOutputs {
        /// Configuration file (for the board).
        #[arg(long, env = "TRINITY_CONFIG")]
        config: Option<PathBuf>,
        /// Board profile; default: the config's, else sim.
        #[arg(long)]
        board: Option<String>,
    },
    /// Publish a command to a running daemon and follow its events; exit 0 on `succeeded`.
    Send {
        #[command(flatten)]
        broker: BrokerArgs,
        /// Robot id; default: the config's, else robot1.
        #[arg(long)]
        robot_id: Option<String>,
        /// Skill.
        #[arg(long)]
        skill: Option<String>,
        /// Seconds to wait for the terminal event.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
        /// The command.
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },
    /// Measure jump-forward: a skill folder's commands (a JSONL set) planned with it and
    /// without it, alternately, on two engines. Prints one JSON line.
    BenchJumpForward {
        /// The skill folder.
        dir: PathBuf,
        /// The set, relative to the folder.
        #[arg(long, default_value = "wild.jsonl")]
        file: PathBuf,
        #[command(flatten)]
        model: ModelArgs,
    },
    /// Measure skills: generation with vs without an adapter, time to plan alternating two
    /// skill folders vs staying on one, adapter load time. Prints one JSON line.
    BenchSkills {
        /// The skill whose commands are timed.
        a: PathBuf,
        /// The skill alternated with it.
        b: PathBuf,
        #[command(flatten)]
        model: ModelArgs,
        /// Repetitions.
        #[arg(long, default_value_t = 5)]
        reps: usize,
    },
    /// Measure the daemon: e-stop latency (idle and while generating), command to succeeded.
    BenchDaemon {
        #[command(flatten)]
        model: ModelArgs,
        /// Broker host; default: an embedded broker on a free port.
        #[arg(long)]
        host: Option<String>,
        /// Broker port.
        #[arg(long, default_value_t = 1883)]
        port: u16,
        /// Trials of each e-stop kind (and up to 100 commands).
        #[arg(long, default_value_t = 200)]
        trials: usize,
    },
    /// List the board profiles and whether the model fits each one's RAM.
    Boards {
        #[command(flatten)]
        model: ModelArgs,
    },
    /// Print llama.cpp's system info (SIMD kernels in this build).
    SystemInfo,
    /// Check this machine against the configuration: board, CPU features, RAM for the model
    /// and context, I2C and GPIO devices, broker, model file and sha256, skill folders,
    /// llama.cpp's kernels. Exits 1 on a blocking problem.
    Doctor {
        #[command(flatten)]
        model: ModelArgs,
        /// Check as the installed service runs: its unit's `Environment=` and `--config`.
        #[arg(long)]
        service: bool,
    },
    /// Skill folders: evaluate.
    #[command(subcommand)]
    Skill(SkillCmd),
    /// LoRA adapters: check one against the base model.
    #[command(subcommand)]
    Adapter(AdapterCmd),
    /// The robots on a broker.
    #[command(subcommand)]
    Fleet(FleetCmd),
}

#[derive(Subcommand, Debug)]
enum SkillCmd {
    /// Exact-plan accuracy on the folder's held-out set: with its adapters, the same prompt
    /// with the adapters at scale 0 (the base model), and the built-in few-shot skill of the
    /// same name if there is one. Prints one JSON line.
    Eval {
        /// The skill folder.
        dir: PathBuf,
        #[command(flatten)]
        model: ModelArgs,
        /// Examples file inside the folder.
        #[arg(long, default_value = "heldout.jsonl")]
        file: String,
        /// Print every miss on stderr.
        #[arg(short, long)]
        verbose: bool,
        /// Write every attempt (command, kind, expected, got, confidence, right) as JSON
        /// lines here, one run after the other, each line tagged with its run.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Which runs: `adapter`, `base_same_prompt`, `base_few_shot` (comma-separated).
        #[arg(long, value_delimiter = ',', default_value = "adapter,base_same_prompt,base_few_shot")]
        runs: Vec<String>,
    },
    /// Pack a skill folder into one signed-to-be bundle file (`{name}-{version}.tskill`):
    /// its files, and a manifest with the version, the base model's sha256 and every file's
    /// sha256 and size. Prints the manifest.
    Pack {
        /// The skill folder.
        dir: PathBuf,
        /// The bundle's semantic version, e.g. 1.2.0.
        #[arg(long)]
        version: String,
        /// Where to write it; default: `{name}-{version}.tskill` here.
        #[arg(short, long)]
        out: Option<PathBuf>,
        /// The base model's sha256 (hex); default: hash the model the adapters were
        /// trained on (`--model`, else the default model).
        #[arg(long)]
        base_sha256: Option<String>,
        #[command(flatten)]
        model: ModelArgs,
    },
    /// Make a signing key pair (minisign format): PREFIX.key (secret, mode 0600) and
    /// PREFIX.pub (give it to robots: `skill install --trusted`).
    Keygen {
        /// Path prefix of the two files.
        prefix: PathBuf,
    },
    /// Sign a bundle in place with a secret key from `skill keygen`.
    Sign {
        /// The bundle.
        bundle: PathBuf,
        /// The secret key.
        #[arg(long)]
        key: PathBuf,
    },
    /// Check a bundle as a robot would before installing it: format, signature (with
    /// `--trusted`), base model, every file's size and sha256, the skill folder, and its
    /// adapters against the base model in Rust. Exits 1 if anything is wrong.
    Verify {
        /// The bundle.
        bundle: PathBuf,
        /// A trusted public key, or a folder of `*.pub` keys.
        #[arg(long)]
        trusted: PathBuf,
        #[command(flatten)]
        model: ModelArgs,
    },
    /// Verify a bundle and switch the skills directory to it (atomically; the version it
    /// replaces is kept for `skill rollback`). A running daemon picks it up without a restart.
    Install {
        /// The bundle.
        bundle: PathBuf,
        /// A trusted public key, or a folder of `*.pub` keys.
        #[arg(long)]
        trusted: PathBuf,
        /// Install a version older than the one served (refused otherwise: a replayed old
        /// bundle; `skill rollback` is the way back).
        #[arg(long)]
        allow_downgrade: bool,
        #[command(flatten)]
        model: ModelArgs,
    },
    /// Serve the version of a skill that the last install replaced.
    Rollback {
        /// The skill's name.
        name: String,
        #[command(flatten)]
        model: ModelArgs,
    },
    /// Stop serving a skill installed from bundles and delete its versions.
    Remove {
        /// The skill's name.
        name: String,
        #[command(flatten)]
        model: ModelArgs,
    },
    /// Put a signed bundle on the broker for robots to take: its chunks and a signed
    /// announcement on `trinity/fleet/skills/{name}`, all retained (robots that are off get
    /// it when they come back). Robots with `[fleet]` install it, check everything first, and
    /// report on `trinity/{robot_id}/skills/evt`. Prints one JSON line.
    Publish {
        /// The signed bundle (`skill pack`, `skill sign`).
        bundle: PathBuf,
        /// Only these robots: `robot1,robot2`, or `label=canary` (robots' `[fleet] labels`).
        #[arg(long)]
        to: Option<String>,
        #[command(flatten)]
        broker: BrokerArgs,
        /// Seconds to wait for the broker to take it all.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
    },
    /// Print each example of a file as the model sees it during training and at run time:
    /// `{"prefix", "text"}` per line, in the file's order (`prefix` with its few-shot
    /// examples, `text` the command after `normalize` and cleaning, with the rest of the
    /// template). `train.py` trains on this, so training and serving share one
    /// implementation.
    Render {
        /// The skill folder.
        dir: PathBuf,
        /// Examples file inside the folder.
        #[arg(long, default_value = "examples.jsonl")]
        file: String,
    },
}

/// Where a client command finds the broker (and, for `send`, the robot id).
#[derive(clap::Args, Debug)]
struct BrokerArgs {
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
    fn resolve(self) -> anyhow::Result<(Config, String, u16)> {
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

#[derive(Subcommand, Debug)]
enum FleetCmd {
    /// The robots the broker knows of (their retained `status`, `info` and `skills/state`):
    /// online or not, board, skills and versions, failures. A table on a terminal, else one
    /// JSON array.
    Status {
        #[command(flatten)]
        broker: BrokerArgs,
        /// Print JSON also on a terminal.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum AdapterCmd {
    /// Convert a PEFT LoRA (adapter_config.json + adapter_model.safetensors) to a GGUF
    /// adapter for the base model (llama, qwen2 or gemma3 layouts), checked before writing.
    Import {
        /// The PEFT adapter folder.
        peft_dir: PathBuf,
        /// Where to write the GGUF adapter.
        #[arg(short, long)]
        output: PathBuf,
        /// Write f32 matrices (default f16).
        #[arg(long)]
        f32: bool,
        #[command(flatten)]
        model: ModelArgs,
    },
    /// Check a GGUF LoRA adapter against the base model, in Rust, and print what it holds.
    Check {
        /// The adapter.
        path: PathBuf,
        #[command(flatten)]
        model: ModelArgs,
    },
}

#[derive(Subcommand, Debug)]
enum ModelCmd {
    /// Fetch the default model into the cache (instant when already there).
    Fetch,
    /// Print where the default model is cached.
    Path,
    /// Check a model file's sha256.
    Verify {
        /// The file.
        path: PathBuf,
        /// Expected sha256 (hex); default: the default model's.
        #[arg(long, default_value = model::DEFAULT_SHA256)]
        sha256: String,
    },
}

fn board(name: &str) -> anyhow::Result<trinity_boards::Board> {
    Ok(trinity_boards::by_name(name)?)
}

fn skill(name: &str) -> anyhow::Result<Skill> {
    prompt::builtin(name).ok_or_else(|| anyhow!("unknown skill `{name}`; known: {}", prompt::BUILTIN.join(", ")))
}

/// A skill found by name.
enum Found {
    /// A folder whose skill.toml names it (its adapters not loaded yet).
    Folder(SkillDir),
    /// One of the built-in prompts.
    Builtin(Skill),
}

impl Found {
    /// The skill's prompt and allowed actions.
    fn skill(&self) -> &Skill {
        match self {
            Found::Folder(sd) => &sd.skill,
            Found::Builtin(s) => s,
        }
    }

    /// Made ready on `planner`'s engine (a folder's adapters loaded).
    fn ready(self, planner: &Planner) -> anyhow::Result<Skill> {
        Ok(match self {
            Found::Folder(sd) => skills::activate(planner.engine(), sd)?.skill,
            Found::Builtin(s) => s,
        })
    }
}

/// A skill by name: a folder under `dir` whose skill.toml names it, else a built-in.
/// Folders that fail to load are reported when nothing else matches.
fn find_skill(dir: Option<&std::path::Path>, name: &str) -> anyhow::Result<Found> {
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

fn fetch_progress(line: &str) {
    eprintln!("trinity: {line}");
}

impl Settings {
    /// The engine's configuration: the model (the default one fetched if none is named),
    /// threads and context from config and flags.
    fn engine_config(&self) -> anyhow::Result<EngineConfig> {
        let path = match &self.model {
            Some(p) => p.clone(),
            None => model::fetch_default(fetch_progress).context("cannot fetch the default model")?,
        };
        let mut config = EngineConfig::new(path);
        if let Some(t) = self.threads {
            config.threads = t.max(1);
        }
        if let Some(n) = self.context {
            config.n_ctx = n;
        }
        config.jump_forward = self.jump_forward;
        if let Some(r) = self.repack {
            config.repack = r;
        }
        if self.prefix_cache {
            config.prefix_dir = Some(prefix_cache_dir());
        }
        Ok(config)
    }
}

/// Where `ask` and `run` keep evaluated skill prefixes (`engine::disk`).
fn prefix_cache_dir() -> PathBuf {
    model::cache_dir().join("prefixes")
}

fn start_planner(settings: Settings) -> anyhow::Result<Planner> {
    let engine = Engine::start(settings.engine_config()?)?;
    Ok(Planner::new(engine, settings.board))
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Cmd::Ask { skill: name, model, verbose, execute, json, text } => {
            let command = text.join(" ");
            let settings = model.settings()?;
            let found = find_skill(settings.skills_dir.as_deref(), &name)?;
            if execute && !settings.board.is_simulated() {
                bail!("--execute runs plans on the sim board only; real hardware is driven by the daemon");
            }
            // Refuse a bad command before spending seconds on loading the model.
            crate::planner::prepare(found.skill(), &settings.board, &command)?;
            let planner = start_planner(Settings { prefix_cache: true, ..settings })?;
            let skill = found.ready(&planner)?;
            let out = planner.plan_blocking(&skill, &command)?;
            println!("{}", serde_json::to_string(&out.plan)?);
            if execute {
                let run = crate::sim_run::run(planner.board(), &out.plan)?;
                // The run in words for a person at a terminal, a JSON line for scripts.
                if !json && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                    print!("{}{}", crate::sim_run::describe_plan(&out.plan), crate::sim_run::describe_run(&run));
                } else {
                    println!("{}", serde_json::to_string(&run)?);
                }
            }
            if verbose {
                let g = &out.generation;
                let rate = |n: usize, d: std::time::Duration| n as f64 / d.as_secs_f64().max(1e-9);
                if g.prefix_from_disk {
                    eprintln!(
                        "prefix: {} tokens loaded from the disk cache in {:.0} ms",
                        g.prefix_cached_tokens,
                        g.prefix_time.as_secs_f64() * 1e3
                    );
                } else {
                    eprintln!(
                        "prefix: {} tokens evaluated in {:.0} ms, {} reused from cache",
                        g.prefix_tokens,
                        g.prefix_time.as_secs_f64() * 1e3,
                        g.prefix_cached_tokens
                    );
                }
                eprintln!(
                    "prompt: {} tokens in {:.1} ms ({:.1} tok/s)",
                    g.prompt_tokens,
                    g.prompt_time.as_secs_f64() * 1e3,
                    rate(g.prompt_tokens, g.prompt_time)
                );
                eprintln!(
                    "generation: {} tokens ({} forced by the grammar) in {} decodes, {:.1} ms ({:.1} tok/s, {} grammar fallbacks)",
                    g.generated_tokens,
                    g.forced_tokens,
                    g.decodes,
                    g.generation_time.as_secs_f64() * 1e3,
                    rate(g.generated_tokens, g.generation_time),
                    g.grammar_fallbacks
                );
                eprintln!("time to plan: {:.1} ms", out.time_to_plan.as_secs_f64() * 1e3);
            }
        }
        Cmd::Model(ModelCmd::Fetch) => {
            println!("{}", model::fetch_default(fetch_progress)?.display());
        }
        Cmd::Model(ModelCmd::Path) => println!("{}", model::default_model_path().display()),
        Cmd::Model(ModelCmd::Verify { path, sha256 }) => {
            model::verify_sha256(&path, &sha256)?;
            println!("ok: {} has sha256 {sha256}", path.display());
        }
        Cmd::Grammar { skill: name, board: b } => {
            let here = PathBuf::from("skills");
            let found = find_skill(here.is_dir().then_some(here.as_path()), &name)?;
            print!("{}", grammar::gbnf(&found.skill().allowed, &board(&b)?.limits)?);
        }
        Cmd::Bench { model, prompt_words, gen_tokens, reps, throughput_only } => {
            let planner = start_planner(model.settings()?)?;
            let info = planner.engine().info().clone();
            println!(
                "{}",
                serde_json::json!({"bench": "setup", "model": info.model, "threads": info.threads, "n_ctx": info.n_ctx})
            );
            let t = bench::throughput(planner.engine(), prompt_words, gen_tokens, reps)?;
            println!("{}", serde_json::json!({"bench": "throughput", "result": t}));
            if throughput_only {
                return Ok(());
            }
            let general = skill(prompt::DEFAULT_SKILL)?;
            // Time-to-plan first: its first run evaluates the skill's prefix cold.
            let ttp = bench::time_to_plan(&planner, &general, "turn left ninety degrees", reps)?;
            println!("{}", serde_json::json!({"bench": "time_to_plan", "result": ttp}));
            let cmd = "drive forward two meters and then turn right ninety degrees";
            let g = bench::grammar_cost(&planner, &general, cmd, reps)?;
            println!("{}", serde_json::json!({"bench": "grammar", "result": g}));
        }
        Cmd::BenchJumpForward { dir, file, model } => {
            let settings = model.settings()?;
            let mut config = settings.engine_config()?;
            let board = settings.board.clone();
            let on = Planner::new(Engine::start(config.clone())?, board.clone());
            config.jump_forward = false;
            let off = Planner::new(Engine::start(config)?, board);
            let s_on = skills::activate(on.engine(), SkillDir::load(&dir)?)?.skill;
            let s_off = skills::activate(off.engine(), SkillDir::load(&dir)?)?.skill;
            let commands: Vec<String> =
                skills::read_examples(&dir.join(&file))?.into_iter().map(|e| e.command).collect();
            let r = bench::jump_forward((&on, &s_on), (&off, &s_off), &commands)?;
            println!("{}", serde_json::json!({"bench": "jump_forward", "skill": s_on.name, "file": file, "result": r}));
        }
        Cmd::BenchSkills { a, b, model, reps } => {
            let (da, db) = (SkillDir::load(&a)?, SkillDir::load(&b)?);
            let adapter = da.adapters.first().map(|(p, _)| p.clone()).context("the first skill has no adapter")?;
            let planner = start_planner(model.settings()?)?;
            let (sa, sb) =
                (skills::activate(planner.engine(), da)?.skill, skills::activate(planner.engine(), db)?.skill);
            let a_cmds = skills::read_examples(&a.join("examples.jsonl"))?;
            let b_cmds = skills::read_examples(&b.join("examples.jsonl"))?;
            let pairs: Vec<(&str, &str)> =
                a_cmds.iter().zip(&b_cmds).take(6).map(|(x, y)| (x.command.as_str(), y.command.as_str())).collect();
            let r = bench::skill_costs(&planner, &sa, &sb, &pairs, &adapter, reps)?;
            println!("{}", serde_json::json!({"bench": "skills", "a": sa.name, "b": sb.name, "result": r}));
        }
        Cmd::Boards { model } => list_boards(&model)?,
        Cmd::Run { model, robot_id } => run_daemon(model.settings()?, robot_id)?,
        Cmd::SafeOutputs { config, board: name } => {
            let config = match config {
                Some(p) => Config::load(&p)?,
                None => Config::default(),
            };
            let b = board(name.as_deref().or(config.board.as_deref()).unwrap_or("sim"))?;
            // Opening the board puts every output in its safe state; the e-stop holds them.
            let mut robot = crate::daemon::robot::open(&b, trinity_firmware::Millis(0))?;
            robot.engage_estop();
            eprintln!("trinity: board {}: outputs safe", b.name);
        }
        Cmd::BenchDaemon { model, host, port, trials } => {
            let mut cfg = daemon_config(model.settings()?, Some("bench".into()))?;
            // The benchmark's e-stops must not latch a real robot's state.
            cfg.state_dir = std::env::temp_dir().join(format!("trinity-bench-{}", std::process::id()));
            match host {
                Some(h) => {
                    cfg.link.host = h;
                    cfg.link.port = port;
                    cfg.embedded_broker = None;
                }
                None => {
                    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
                    cfg.link.host = "127.0.0.1".into();
                    cfg.link.port = port;
                    cfg.embedded_broker = Some(([127, 0, 0, 1], port).into());
                }
            }
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            println!("{}", rt.block_on(crate::bench_daemon::run(cfg, trials))?);
        }
        Cmd::Send { broker, robot_id, skill, timeout, text } => {
            let (config, host, port) = broker.resolve()?;
            let args = crate::send::SendArgs {
                host,
                port,
                robot_id: robot_id.or(config.robot_id.clone()).unwrap_or_else(|| DEFAULT_ROBOT_ID.into()),
                skill,
                text: text.join(" "),
                timeout: std::time::Duration::from_secs(timeout),
            };
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let last = rt.block_on(crate::send::send(args))?;
            if last.state != trinity_wire::State::Succeeded {
                bail!("command ended {}", serde_json::to_string(&last.state)?);
            }
        }
        Cmd::SystemInfo => println!("{}", trinity_llama::system_info()),
        Cmd::Doctor { service: true, .. } => doctor_as_service()?,
        Cmd::Doctor { model, service: false } => {
            let settings = model.settings()?;
            let m = &settings.config.mqtt;
            // The engine's own defaults, without fetching the model (doctor only looks).
            let engine = EngineConfig::new(settings.model.clone().unwrap_or_else(model::default_model_path));
            let input = crate::doctor::DoctorInput {
                n_ctx: settings.context.unwrap_or(engine.n_ctx),
                slots: engine.prefix_slots,
                model: engine.model,
                broker: m.broker(),
                embedded: m.embedded(),
                skills_dir: settings.skills_dir.clone(),
                root: PathBuf::from("/"),
                required_cpu_flags: crate::build_info::required_cpu_flags(),
                board: settings.board,
            };
            let findings = crate::doctor::run(&input);
            for f in &findings {
                println!("{f}");
            }
            let fails = findings.iter().filter(|f| f.level == crate::doctor::Level::Fail).count();
            if fails > 0 {
                bail!("{fails} blocking problem(s) above");
            }
        }
        Cmd::Skill(
            cmd @ (SkillCmd::Pack { .. }
            | SkillCmd::Keygen { .. }
            | SkillCmd::Sign { .. }
            | SkillCmd::Verify { .. }
            | SkillCmd::Install { .. }
            | SkillCmd::Rollback { .. }
            | SkillCmd::Remove { .. }),
        ) => bundle_command(cmd)?,
        Cmd::Skill(SkillCmd::Publish { bundle, to, broker, timeout }) => {
            let (_, host, port) = broker.resolve()?;
            let to = to.map(|t| crate::fleet::Target::parse(&t)).transpose().map_err(|e| anyhow!(e))?;
            let args = crate::fleet::publish::PublishArgs {
                bundle: &bundle,
                host,
                port,
                to,
                timeout: std::time::Duration::from_secs(timeout),
            };
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            println!("{}", rt.block_on(crate::fleet::publish::publish(args))?);
        }
        Cmd::Skill(SkillCmd::Render { dir, file }) => {
            let sd = SkillDir::load(&dir)?;
            let path = dir.join(&file);
            let board = trinity_boards::sim();
            let mut out = std::io::stdout().lock();
            for ex in skills::read_examples(&path)? {
                let job = crate::planner::prepare(&sd.skill, &board, &ex.command)
                    .with_context(|| format!("{}: {:?}", path.display(), ex.command))?;
                let row = serde_json::json!({"prefix": job.prefix, "text": job.text});
                writeln!(out, "{row}")?;
            }
        }
        Cmd::Skill(SkillCmd::Eval { dir, model, file, verbose, out, runs: wanted }) => {
            let sd = SkillDir::load(&dir)?;
            let examples = skills::read_examples(&dir.join(&file))?;
            let name = sd.skill.name.clone();
            let planner = start_planner(model.settings()?)?;
            let skill = skills::activate(planner.engine(), sd)?.skill;
            // Every run is reported at the folder's own threshold (0 executes every plan).
            let threshold = skill.min_confidence;
            let mut base = skill.clone();
            base.adapters.iter_mut().for_each(|a| a.1 = 0.0);
            let mut report = serde_json::json!({"skill": name, "file": file});
            let mut runs = vec![("adapter", skill), ("base_same_prompt", base)];
            if let Some(b) = prompt::builtin(&name) {
                runs.push(("base_few_shot", b));
            }
            runs.retain(|(label, _)| wanted.iter().any(|w| w == label));
            let mut raw = String::new();
            for (label, s) in runs {
                let acc = skills::eval::evaluate(&planner, &s, &examples);
                if verbose {
                    for m in acc.misses() {
                        let want = serde_json::to_string(&m.expected).unwrap_or_default();
                        let got = match &m.got {
                            Ok(p) => serde_json::to_string(p).unwrap_or_default(),
                            Err(e) => format!("error: {e}"),
                        };
                        eprintln!("{label}: {:?}: want {want}, got {got}", m.command);
                    }
                }
                for a in &acc.attempts {
                    let mut line = serde_json::to_value(a)?;
                    line["run"] = label.into();
                    raw.push_str(&format!("{line}\n"));
                }
                let sweep: Vec<_> = [0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9].iter().map(|t| acc.at(*t)).collect();
                report[label] = serde_json::json!({
                    "exact": acc.exact, "total": acc.total, "rate": acc.rate(),
                    "median_time_to_plan_ms": acc.median_time_to_plan_ms,
                    "by_kind": acc.by_kind, "by_action": acc.by_action,
                    "at_skill_threshold": acc.at(threshold), "threshold_sweep": sweep,
                });
            }
            if let Some(out) = out {
                std::fs::write(&out, raw).with_context(|| format!("cannot write {}", out.display()))?;
            }
            println!("{report}");
        }
        Cmd::Fleet(FleetCmd::Status { broker, json }) => {
            let (_, host, port) = broker.resolve()?;
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let settle = std::time::Duration::from_millis(700);
            let robots = rt.block_on(crate::fleet::status::status(&host, port, settle, settle * 10))?;
            use std::io::IsTerminal;
            if std::io::stdout().is_terminal() && !json {
                print!("{}", crate::fleet::status::table(&robots));
            } else {
                println!("{}", serde_json::Value::from(robots));
            }
        }
        Cmd::Adapter(AdapterCmd::Import { peft_dir, output, f32, model }) => {
            let base_path = model.settings()?.engine_config()?.model;
            let base = trinity_gguf::check_model(&base_path)?;
            let opts = trinity_gguf::import::ImportOptions { f32 };
            let (bytes, s) = trinity_gguf::import::import_peft(&peft_dir, &base, opts)?;
            // Written beside the target and renamed: a watcher never sees half a file.
            let tmp = output.with_extension("gguf.partial");
            std::fs::write(&tmp, &bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
            std::fs::rename(&tmp, &output)?;
            println!(
                "{}",
                serde_json::json!({"adapter": output, "base": base_path, "architecture": s.architecture,
                    "alpha": s.alpha, "rank": s.rank, "targets": s.targets, "bytes": bytes.len()})
            );
        }
        Cmd::Adapter(AdapterCmd::Check { path, model }) => {
            let settings = model.settings()?;
            let base_path = settings.engine_config()?.model;
            let base = trinity_gguf::check_model(&base_path)?;
            let g = trinity_gguf::read(&path)?;
            let s = trinity_gguf::check_adapter(&path, &g, &base)?;
            println!(
                "{}",
                serde_json::json!({"adapter": path, "base": base_path, "architecture": s.architecture,
                    "alpha": s.alpha, "rank": s.rank, "targets": s.targets, "bytes": g.file_size})
            );
        }
    }
    Ok(())
}

const DEFAULT_ROBOT_ID: &str = "robot1";

fn daemon_config(settings: Settings, robot_id: Option<String>) -> anyhow::Result<crate::daemon::Options> {
    let c = &settings.config;
    let robot_id = robot_id.or(c.robot_id.clone()).unwrap_or_else(|| DEFAULT_ROBOT_ID.into());
    trinity_wire::names::robot_id(&robot_id)?;
    let mut engine = settings.engine_config()?;
    engine.prefix_dir = Some(prefix_cache_dir());
    let m = &c.mqtt;
    let (host, port, embedded_broker) = match m.broker() {
        Some((h, port)) => (h, port, None),
        None => (m.embedded().ip().to_string(), m.embedded().port(), Some(m.embedded())),
    };
    let client_auth = match (&m.client_cert, &m.client_key) {
        (Some(c), Some(k)) => Some((c.clone(), k.clone())),
        (None, None) => None,
        _ => bail!("mqtt.client_cert and mqtt.client_key go together"),
    };
    warn_if_exposed(&host, m);
    let link = crate::mqtt::link::LinkConfig {
        host,
        port,
        client_id: m.client_id.clone().unwrap_or_else(|| format!("trinity-{robot_id}")),
        keep_alive: m.keep_alive(),
        credentials: m.username.clone().map(|u| (u, m.password.clone().unwrap_or_default())),
        ca_file: m.ca_file.clone(),
        client_auth,
        announce: Vec::new(),
    };
    Ok(crate::daemon::Options {
        robot_id,
        link,
        embedded_broker,
        board: settings.board,
        engine,
        queue_capacity: c.daemon.queue(),
        telemetry: c.daemon.telemetry(),
        skills_dir: settings.skills_dir.clone(),
        skills_poll: c.skills.poll(),
        state_dir: c.daemon.state_dir(),
        run_queued_after_restart: c.daemon.run_queued_after_restart(),
        homeassistant: c.homeassistant.enabled_prefix().map_err(|e| anyhow!(e))?,
        fleet: c.fleet.settings().map_err(|e| anyhow!(e))?,
        abort_on_panic: true,
    })
}

/// Warn about settings that expose the robot: a password sent in the clear to another
/// machine, an embedded broker that others can reach (anyone who can publish to it can
/// move the robot).
fn warn_if_exposed(host: &str, m: &crate::config::MqttConfig) {
    let loopback = |h: &str| h == "localhost" || h.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if m.password.is_some() && m.ca_file.is_none() && !loopback(host) {
        tracing::warn!("mqtt.password is sent without TLS to {host}: set mqtt.ca_file to encrypt it");
    }
    if m.host.is_none() && !m.embedded().ip().is_loopback() {
        tracing::warn!(
            "the embedded broker listens on {} with no authentication: anyone who reaches it can move the robot",
            m.embedded()
        );
    }
}

fn run_daemon(settings: Settings, robot_id: Option<String>) -> anyhow::Result<()> {
    let cfg = daemon_config(settings, robot_id)?;
    eprintln!(
        "trinity: robot {} on {}:{}{}; send commands to trinity/{}/cmd",
        cfg.robot_id,
        cfg.link.host,
        cfg.link.port,
        if cfg.embedded_broker.is_some() { " (embedded broker)" } else { "" },
        cfg.robot_id
    );
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let shutdown = tokio_util::sync::CancellationToken::new();
        let signal = shutdown.clone();
        tokio::spawn(async move {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
            }
            tracing::info!("shutting down");
            signal.cancel();
        });
        crate::daemon::run(cfg, shutdown).await
    })
}

fn list_boards(args: &ModelArgs) -> anyhow::Result<()> {
    let settings = args.settings()?;
    let path = settings.model.unwrap_or_else(model::default_model_path);
    let defaults = EngineConfig::new(path.clone());
    let (context, slots) = (settings.context.unwrap_or(defaults.n_ctx), defaults.prefix_slots);
    let sizes = trinity_gguf::check_model(&path)
        .ok()
        .and_then(|g| Some((g.file_size, g.kv_bytes_per_token()? * u64::from(context) * u64::from(slots))));
    match sizes {
        Some((m, kv)) => println!(
            "model {}: {} MiB + KV cache {} MiB ({slots} skill slots x {context} tokens)\n",
            path.display(),
            m >> 20,
            kv >> 20
        ),
        None => println!("model {} not readable: RAM fit not checked\n", path.display()),
    }
    println!("{:<11} {:<28} {:<22} {:>7}  fit", "board", "description", "cpu", "RAM MiB");
    for name in trinity_boards::NAMES {
        let b = board(name)?;
        let fit = match sizes.and_then(|(m, kv)| b.fit(m, kv)) {
            Some(f) if f.fits => {
                format!("ok ({} MiB needed, {} kept free)", f.needed_mb, f.margin_mb)
            }
            Some(f) => format!("NO ({} MiB needed + {} for the OS)", f.needed_mb, f.margin_mb),
            None => "-".into(),
        };
        let ram = if b.profile.ram_mb == 0 { "-".into() } else { b.profile.ram_mb.to_string() };
        println!("{:<11} {:<28} {:<22} {:>7}  {fit}", b.name, b.description, b.profile.cpu, ram);
    }
    Ok(())
}

/// `trinity doctor --service`: run doctor again with the installed unit's environment and
/// configuration file, and this call's other arguments.
fn doctor_as_service() -> anyhow::Result<()> {
    let root = std::path::Path::new("/");
    let Some((unit, svc)) = crate::service::ServiceEnv::installed(root) else {
        bail!("no {} installed (looked in /etc, /run, /usr/lib and /lib systemd/system)", crate::service::UNIT);
    };
    let mut env = svc.env.clone();
    if let Some(c) = &svc.config {
        env.push(("TRINITY_CONFIG".into(), c.display().to_string()));
    }
    println!("as {} runs it ({}):", crate::service::UNIT, unit.display());
    for (k, v) in &env {
        println!("  {k}={v}");
    }
    if svc.has_environment_file {
        println!("  (its EnvironmentFile= is not read here)");
    }
    println!("  (as this user, not the unit's: run it as root or `sudo -u trinity` for the service's permissions)\n");
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--service").collect();
    // Only what the service has: the caller's TRINITY_*, XDG_* or RUST_LOG would not reach it.
    let mut cmd = std::process::Command::new(std::env::current_exe()?);
    cmd.env_clear();
    for keep in ["PATH", "HOME", "LANG"] {
        if let Some(v) = std::env::var_os(keep) {
            cmd.env(keep, v);
        }
    }
    let status = cmd.args(&args).envs(env).status()?;
    if !status.success() {
        // The inner doctor has said why.
        std::process::exit(status.code().unwrap_or(1));
    }
    Ok(())
}

/// Parse arguments, run, and map errors to a message and exit code 1.
pub fn main() -> ExitCode {
    crate::logging::init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            // A skill that declines ("nothing to do", or unsure) answered; scripts (and
            // `cargo xtask run`) tell that from a failure.
            let refused = e.chain().any(|c| c.downcast_ref::<PlanError>().is_some_and(PlanError::is_refusal));
            if refused {
                ExitCode::from(EXIT_REFUSED)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// `trinity ask`'s exit code when the skill declined the command (see [`PlanError::is_refusal`]).
pub const EXIT_REFUSED: u8 = 2;

/// The base model's path and sha256 (hex), for bundles: hashed once per model file version
/// and remembered beside the prefix cache (as the daemon's `info` does).
fn base_model(model: &ModelArgs) -> anyhow::Result<(PathBuf, String)> {
    let path = model.settings()?.engine_config()?.model;
    let sha = match crate::engine::disk::model_sha256(&prefix_cache_dir(), &path) {
        Some(h) => crate::engine::disk::hex(&h),
        None => crate::model::sha256_file(&path)?,
    };
    Ok((path, sha))
}

/// The skills directory a bundle command works on.
fn bundle_skills_dir(model: &ModelArgs) -> anyhow::Result<PathBuf> {
    model.settings()?.skills_dir.ok_or_else(|| anyhow!("no skills directory: pass --skills DIR (or [skills] dir)"))
}

/// `trinity skill pack|keygen|sign|verify|install|rollback|remove` (skill bundles, issue 14).
fn bundle_command(cmd: SkillCmd) -> anyhow::Result<()> {
    use crate::skills::bundle;
    match cmd {
        SkillCmd::Pack { dir, version, out, base_sha256, model } => {
            let sha = match base_sha256 {
                Some(s) => s.to_ascii_lowercase(),
                None => base_model(&model)?.1,
            };
            let name = SkillDir::load(&dir)?.skill.name;
            let out = out.unwrap_or_else(|| PathBuf::from(format!("{name}-{version}.{}", bundle::EXTENSION)));
            let m = bundle::pack(&dir, &version, &sha, &out)?;
            let bytes: u64 = m.files.iter().map(|f| f.size).sum();
            println!("{}", serde_json::json!({"bundle": out, "manifest": m, "bytes": bytes}));
        }
        SkillCmd::Keygen { prefix } => {
            let with = |ext: &str| {
                let mut p = prefix.clone().into_os_string();
                p.push(ext);
                PathBuf::from(p)
            };
            let (sk, pk) = (with(".key"), with(".pub"));
            let id = bundle::keygen(&sk, &pk)?;
            println!("{}", serde_json::json!({"key_id": id, "secret": sk, "public": pk}));
        }
        SkillCmd::Sign { bundle: path, key } => {
            let id = bundle::sign(&path, &key)?;
            println!("{}", serde_json::json!({"bundle": path, "key_id": id}));
        }
        SkillCmd::Verify { bundle: path, trusted, model } => {
            let (base_path, sha) = base_model(&model)?;
            let trust = bundle::Trust { keys: &trusted, base_model_sha256: &sha, allow_downgrade: true };
            let (manifest, key) = bundle::verify(&path, &trust, bundle::adapters_fit(&base_path))?;
            println!("{}", serde_json::json!({"bundle": path, "ok": true, "key_id": key, "manifest": manifest}));
        }
        SkillCmd::Install { bundle: path, trusted, allow_downgrade, model } => {
            let dir = bundle_skills_dir(&model)?;
            let (base_path, sha) = base_model(&model)?;
            let trust = bundle::Trust { keys: &trusted, base_model_sha256: &sha, allow_downgrade };
            let i = bundle::install(&path, &dir, &trust, bundle::adapters_fit(&base_path))?;
            println!("{}", serde_json::to_string(&i)?);
        }
        SkillCmd::Rollback { name, model } => {
            let (from, to) = bundle::rollback(&bundle_skills_dir(&model)?, &name)?;
            println!("{}", serde_json::json!({"name": name, "from": from, "to": to}));
        }
        SkillCmd::Remove { name, model } => {
            bundle::remove(&bundle_skills_dir(&model)?, &name)?;
            println!("{}", serde_json::json!({"name": name, "removed": true}));
        }
        _ => unreachable!("not a bundle command"),
    }
    Ok(())
}
