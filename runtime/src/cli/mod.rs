//! The `trinity` command line. `main.rs` only calls [`main`].
//!
//! This file holds the commands and their flags ([`Cli`]) and one short arm per command in
//! `run`; each command's work is a function in the file for its theme:
//! - `settings.rs`: what commands share: the model options resolved against the config
//!   file (`Settings`), where a client finds the broker, boards and skills by name;
//! - `ask.rs`: `ask`;
//! - `daemon.rs`: `run` (the daemon), `safe-outputs`, `doctor`, `boards`;
//! - `client.rs`: `send`, `skill publish`, `fleet status`;
//! - `skill.rs`: `skill eval|render` and the bundle commands;
//! - `adapter.rs`: `adapter import|check`;
//! - `bench.rs`: the `bench*` commands.

mod adapter;
mod ask;
mod bench;
mod client;
mod daemon;
mod settings;
mod skill;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::planner::PlanError;
use crate::{model_store, plan_grammar, prompt};
use settings::{BrokerArgs, ModelArgs, Settings};

/// Trinity: an edge robot inference runtime.
#[derive(Parser, Debug)]
#[command(name = "trinity", version = crate::build_info::version(), about)]
pub struct Cli {
    #[command(subcommand)]
    command: Cmd,
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
        #[arg(long, default_value = crate::config::DEFAULT_BOARD)]
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
    /// its files (not its evaluation sets: `*.jsonl` but `examples.jsonl`), and a manifest
    /// with the version, the base model's sha256 and every file's sha256 and size. Prints
    /// the manifest.
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
        /// URL where this bundle file will be served (HTTP or HTTPS): robots that can reach
        /// it fetch it from there, the broker's chunks are their fallback. It goes in the
        /// signed manifest, so robots connect only where the signer said.
        #[arg(long)]
        mirror: Option<String>,
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
        /// Another node of the same broker cluster, as HOST:PORT (repeat for each). For
        /// clusters that keep retained messages on the node that received them (RabbitMQ):
        /// the chunks go to every node, then the announcement to every node, so that a
        /// robot on any node finds the whole bundle.
        #[arg(long = "node", value_name = "HOST:PORT")]
        nodes: Vec<String>,
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
        #[arg(long, default_value = model_store::DEFAULT_SHA256)]
        sha256: String,
    },
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Cmd::Ask { skill, model, verbose, execute, json, text } => ask::ask(skill, model, verbose, execute, json, text),
        Cmd::Model(ModelCmd::Fetch) => {
            println!("{}", model_store::fetch_default(settings::fetch_progress)?.display());
            Ok(())
        }
        Cmd::Model(ModelCmd::Path) => {
            println!("{}", model_store::default_model_path().display());
            Ok(())
        }
        Cmd::Model(ModelCmd::Verify { path, sha256 }) => {
            model_store::verify_sha256(&path, &sha256)?;
            println!("ok: {} has sha256 {sha256}", path.display());
            Ok(())
        }
        Cmd::Grammar { skill, board } => {
            let here = PathBuf::from("skills");
            let found = settings::find_skill(here.is_dir().then_some(here.as_path()), &skill)?;
            print!("{}", plan_grammar::gbnf(&found.skill().allowed, &trinity_boards::by_name(&board)?.limits)?);
            Ok(())
        }
        Cmd::Bench { model, prompt_words, gen_tokens, reps, throughput_only } => {
            bench::bench(model, prompt_words, gen_tokens, reps, throughput_only)
        }
        Cmd::BenchJumpForward { dir, file, model } => bench::bench_jump_forward(dir, file, model),
        Cmd::BenchSkills { a, b, model, reps } => bench::bench_skills(a, b, model, reps),
        Cmd::BenchDaemon { model, host, port, trials } => bench::bench_daemon(model, host, port, trials),
        Cmd::Boards { model } => daemon::list_boards(&model),
        Cmd::Run { model, robot_id } => daemon::run_daemon(Settings::resolve(&model)?, robot_id),
        Cmd::SafeOutputs { config, board } => daemon::safe_outputs(config, board),
        Cmd::Doctor { service: true, .. } => daemon::doctor_as_service(),
        Cmd::Doctor { model, service: false } => daemon::doctor(model),
        Cmd::Send { broker, robot_id, skill, timeout, text } => client::send(broker, robot_id, skill, timeout, text),
        Cmd::SystemInfo => {
            println!("{}", trinity_llama::system_info());
            Ok(())
        }
        Cmd::Skill(SkillCmd::Publish { bundle, to, broker, nodes, timeout }) => {
            client::publish(bundle, to, broker, nodes, timeout)
        }
        Cmd::Skill(SkillCmd::Render { dir, file }) => skill::render(dir, file),
        Cmd::Skill(SkillCmd::Eval { dir, model, file, verbose, out, runs }) => {
            skill::eval(dir, model, file, verbose, out, runs)
        }
        Cmd::Skill(
            cmd @ (SkillCmd::Pack { .. }
            | SkillCmd::Keygen { .. }
            | SkillCmd::Sign { .. }
            | SkillCmd::Verify { .. }
            | SkillCmd::Install { .. }
            | SkillCmd::Rollback { .. }
            | SkillCmd::Remove { .. }),
        ) => skill::bundle_command(cmd),
        Cmd::Fleet(FleetCmd::Status { broker, json }) => client::fleet_status(broker, json),
        Cmd::Adapter(AdapterCmd::Import { peft_dir, output, f32, model }) => {
            adapter::import(peft_dir, output, f32, model)
        }
        Cmd::Adapter(AdapterCmd::Check { path, model }) => adapter::check(path, model),
    }
}

const DEFAULT_ROBOT_ID: &str = "robot1";

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
