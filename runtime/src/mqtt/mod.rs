//! The MQTT side of the daemon (docs/DESIGN.md, "MQTT contract").
//!
//! The topic names, the names that become parts of topics and the outbox (what waits for a
//! PUBACK) are sans-IO and live in `trinity-wire` (`topics`, `names`, `outbox`). Here:
//!
//! - [`link`]: the task that owns rumqttc's event loop: connects with a retained last will,
//!   backs off with a cap, resubscribes and republishes `status`/`info` on every CONNACK,
//!   redelivers what the broker did not acknowledge, and never blocks on inference.
//! - [`estop_link`]: the e-stop's own connection (own client id, own thread), subscribed to
//!   `estop` only, so that no traffic on other topics can delay or drop it.
//! - [`broker`]: the in-process rumqttd broker used when no broker is configured.
//! - [`homeassistant`]: Home Assistant MQTT discovery configs (opt-in).

pub mod broker;
pub mod estop_link;
pub mod homeassistant;
pub mod link;
