//! The MQTT contract (docs/DESIGN.md, "MQTT contract"), sans-IO: what goes over the wire and
//! the state machines that decide what to send, with no broker, thread or clock of their
//! own (time is passed in). The daemon's tasks (`trinity-runtime`'s `mqtt` and `daemon`)
//! are the I/O edge around them; `trinity send`, `fleet status` and the tests read and
//! write the same types. Builds and tests in seconds: no llama.cpp, no tokio, no rumqttc.
//!
//! - [`messages`] (re-exported here): one type per message: the command a client sends,
//!   `evt/{id}`, `telemetry`, `info`.
//! - [`topics`]: the topic names under `trinity/{robot_id}/` and what an incoming topic means.
//! - [`names`]: command ids, robot ids and skill names, checked before they become part of
//!   a topic.
//! - [`dispatch`]: a `cmd` payload parsed ([`dispatch::payload`]) and the command
//!   lifecycle ([`dispatch::Dispatcher`]): dedup, queue, cancel, the e-stop latch, one
//!   terminal event per command.
//! - [`outbox`]: what the link must publish, kept until the broker acknowledged it.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod dispatch;
pub mod messages;
pub mod names;
pub mod outbox;
pub mod topics;

pub use messages::{
    short, AdapterInfo, CommandRequest, Event, Info, ModelInfo, PrefixInfo, SkillFolderError, SkillInfo, State,
    Telemetry, Timings,
};
pub use topics::{Inbound, Topics};

/// The longest command accepted, in bytes (a spoken sentence or three); a longer one is
/// refused before it reaches the model.
pub const MAX_COMMAND_BYTES: usize = 1024;
