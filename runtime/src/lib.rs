//! Trinity runtime: the `trinity` binary's library.
//!
//! A natural-language command becomes a checked plan of typed actions:
//! [`planner`] builds the prompt ([`prompt`]) and the grammar ([`plan_grammar`]) for a skill
//! and a board, the [`engine`] runs the model on its own thread (with each skill's prompt
//! prefix cached in the KV cache), and the planner parses the output back into
//! [`trinity_firmware::Plan`] and checks it against the board's limits.
//!
//! What lives where:
//! - `trinity-llama` (its own crate): our thin safe layer over llama.cpp, the only
//!   `unsafe` code (this crate forbids `unsafe_code`).
//! - `trinity-gguf` (its own crate, pure Rust): GGUF header checks, so llama.cpp never sees
//!   an unchecked file.
//! - [`model_store`]: the model cache and the verified fetch of the default model.
//! - [`engine`]: the inference thread, jobs, cancellation, prefix cache, grammar sampling.
//! - [`plan_grammar`], [`prompt`], [`planner`]: from command to plan.
//! - [`skills`]: skill folders (prompt + LoRA adapters), loaded and hot-reloaded; signed
//!   bundles ([`skills::bundle`]).
//! - [`sim_run`]: a plan on the sim board in simulated time (`ask --execute`).
//! - [`mod@bench`], [`bench_daemon`]: the measurements behind BENCHMARKS.md.
//! - [`daemon`]: `trinity run`: the tasks that join MQTT, dispatch, engine and robot.
//! - `trinity-wire` (its own crate, sans-IO): the MQTT contract's messages, topics and
//!   names, command payloads and the command lifecycle, the outbox.
//! - [`mqtt`]: the MQTT link task, the e-stop's own link, the embedded broker.
//! - `trinity-config` (its own crate, pure Rust, here as [`config`]): the configuration
//!   file, its defaults and checks.
//! - [`doctor`]: `trinity doctor`, the machine checked against the configuration.
//! - [`service`]: the installed systemd unit read as systemd does (`doctor --service`).
//! - [`send`]: `trinity send`, a client that follows one command's events.
//! - [`cli`]: the command line.
//! - [`throttle`]: rate limits for log lines a peer can cause.
//! - [`logging`]: `RUST_LOG` set-up, the embedded broker's routine events kept quiet.
//! - [`fuzzing`]: what the fuzz targets run (and the corpus replay test).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

/// The configuration file: the crate `trinity-config` (pure Rust), re-exported as
/// `trinity_runtime::config`.
pub use trinity_config as config;

pub mod bench;
pub mod bench_daemon;
pub mod build_info;
pub mod clauses;
pub mod cli;
pub mod daemon;
pub mod doctor;
pub mod engine;
pub mod fleet;
pub mod fuzzing;
pub mod logging;
pub mod model_store;
pub mod mqtt;
pub mod normalize;
pub mod plan_grammar;
pub mod planner;
pub mod prompt;
pub mod send;
pub mod service;
pub mod sim_run;
pub mod skills;
pub mod throttle;
