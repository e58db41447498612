//! Dispatch: from MQTT payloads to commands, and the command lifecycle, as pure state
//! machines (no I/O, time passed in), so they are tested without a broker.
//!
//! - [`payload`]: parse a `cmd` payload (JSON object, JSON string, or plain text), with a
//!   size limit, a UTF-8 check and field types; a refusal carries the command id when the
//!   payload had a readable one, so it can still get its `rejected` event.
//! - [`lifecycle`]: the [`Dispatcher`]: dedup by id, a bounded queue with deadlines, one
//!   command at a time, cancel by id, the e-stop latch, and exactly one terminal event for
//!   every command it accepted or refused. It returns [`Effect`]s for the I/O edge to carry
//!   out: publish an event, start a job, cancel the running one, make outputs safe.

pub mod lifecycle;
pub mod payload;

pub use lifecycle::{Dispatcher, Effect, Event, Finished, Source, State};
pub use payload::{parse_command, Command, Refusal, MAX_PAYLOAD_BYTES};
