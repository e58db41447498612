//! The e-stop's own MQTT connection (contract v1.1): client id `{client_id}-estop`
//! (`trinity-{robot_id}-estop` by default), subscribed to `estop` only, on its own thread
//! with its own runtime. A flood of commands, an oversize payload or a poisoned event on the
//! main link can delay or break that link; none of them reaches this one.
//!
//! What it honours:
//! - `engage`, always: live, retained or from the broker's backlog (fail safe);
//! - `release`, only live: a retained `release` would undo a later `engage` at every
//!   reconnect, and one queued while the daemon was down was meant for a robot that has
//!   since restarted. What arrives before the SUBACK of this process's first resumed
//!   session counts as that backlog (brokers send the queue right after the CONNACK).
//!
//! Acknowledgements are manual: the PUBACK goes out after `on_estop` returned, which is
//! after the latch was made persistent, so a broker only forgets an e-stop the robot has
//! recorded.

use std::sync::Arc;
use std::time::Instant;

use rumqttc::{AsyncClient, Event, Packet, QoS};
use tokio_util::sync::CancellationToken;

use super::link::{base_options, no_delay, Backoff, LinkConfig, LinkError};
use super::{Inbound, Topics};

/// Called with `engage` (true) or `release` and the time the request arrived; returns once
/// the request is carried out (outputs safe, latch recorded).
pub type OnEstop = Arc<dyn Fn(bool, Instant) + Send + Sync>;

/// The e-stop connection, set up (TLS files read) and ready to run.
pub struct EstopLink {
    cfg: LinkConfig,
    topics: Topics,
    options: rumqttc::MqttOptions,
}

impl EstopLink {
    /// The client id for the main link's `client_id`.
    pub fn client_id(main: &str) -> String {
        format!("{main}-estop")
    }

    /// Set up the connection.
    pub fn new(cfg: LinkConfig, topics: Topics) -> Result<EstopLink, LinkError> {
        let mut options = base_options(&cfg, &Self::client_id(&cfg.client_id))?;
        options.set_manual_acks(true);
        Ok(EstopLink { cfg, topics, options })
    }

    /// Run on a thread of its own until `shutdown`.
    pub fn spawn(self, on_estop: OnEstop, shutdown: CancellationToken) -> std::io::Result<std::thread::JoinHandle<()>> {
        std::thread::Builder::new().name("mqtt-estop".into()).spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!("e-stop link: cannot start its runtime: {e}");
                    return;
                }
            };
            rt.block_on(self.run(on_estop, shutdown));
        })
    }

    async fn run(self, on_estop: OnEstop, shutdown: CancellationToken) {
        let EstopLink { cfg, topics, options } = self;
        let (client, mut events) = AsyncClient::new(options, 16);
        no_delay(&mut events);
        let mut backoff = Backoff::default();
        let mut connected: Option<Instant> = None;
        // None until the first CONNACK; then whether a `release` may be the backlog's.
        let mut backlog: Option<bool> = None;
        // What a peer sends must not flood the log: a blocked stderr would block this thread.
        let mut log = crate::throttle::Throttle::for_peers();
        let mut warn = |line: &dyn std::fmt::Display| {
            if let Some(note) = log.allow(Instant::now()) {
                tracing::warn!("e-stop link: {line}{note}");
            }
        };
        loop {
            let event = tokio::select! {
                _ = shutdown.cancelled() => break,
                event = events.poll() => event,
            };
            match event {
                Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                    tracing::info!("e-stop link connected to {}:{}", cfg.host, cfg.port);
                    connected = Some(Instant::now());
                    if backlog.is_none() {
                        backlog = Some(ack.session_present);
                    }
                    if let Err(e) = client.try_subscribe(topics.estop(), QoS::AtLeastOnce) {
                        tracing::error!("e-stop link: cannot subscribe: {e}");
                    }
                }
                Ok(Event::Incoming(Packet::SubAck(_))) => backlog = Some(false),
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let received = Instant::now();
                    match topics.inbound(&p.topic, &p.payload) {
                        Inbound::Estop(true) => on_estop(true, received),
                        Inbound::Estop(false) if p.retain => {
                            warn(&"retained `release` ignored: a release acts once, when published")
                        }
                        Inbound::Estop(false) if backlog == Some(true) => {
                            warn(&"`release` queued while the daemon was down ignored: send it again")
                        }
                        Inbound::Estop(false) => on_estop(false, received),
                        Inbound::Invalid(why) => warn(&why),
                        other => warn(&format!("unexpected {other:?}")),
                    }
                    if let Err(e) = client.try_ack(&p) {
                        tracing::warn!("e-stop link: cannot acknowledge: {e}");
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    let wait = backoff.after_failure(connected.take().map(|t| t.elapsed()));
                    tracing::warn!("e-stop link to {}:{}: {e}; retrying in {wait:?}", cfg.host, cfg.port);
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
        let _ = client.try_disconnect();
        let _ = tokio::time::timeout(std::time::Duration::from_millis(500), async {
            while let Ok(e) = events.poll().await {
                if matches!(e, Event::Outgoing(rumqttc::Outgoing::Disconnect)) {
                    break;
                }
            }
        })
        .await;
    }
}
