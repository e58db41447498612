//! The MQTT link task: owns rumqttc's event loop and never blocks on anything else.
//!
//! rumqttc neither backs off nor resubscribes after a reconnect, and forgets pending
//! publishes when the broker starts a clean session. The link does all three: exponential
//! backoff from 100 ms to a 5 s cap; on every CONNACK it subscribes again and republishes
//! `status` = `online` and `info` (retained); the [`Outbox`] redelivers what the broker has
//! not acknowledged. The session is persistent (clean session off, a stable client id), so
//! commands published while the daemon was away are delivered when it returns.
//!
//! An `estop` publish calls `on_estop` (with the time it was received) right here, on the event-loop task, before anything
//! is queued: outputs go safe without waiting for the dispatcher or the model.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, Event, LastWill, MqttOptions, Outgoing, Packet, QoS, TlsConfiguration, Transport};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::outbox::{Msg, Outbox};
use super::{Inbound, Topics};

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// Largest incoming packet read. Bigger than any valid command by far, so that an oversize
/// payload reaches the dispatcher (and is refused there) instead of breaking the connection,
/// which would make the broker redeliver it forever.
const MAX_INCOMING: usize = 16 << 20;

/// How to reach the broker.
#[derive(Debug, Clone)]
pub struct LinkConfig {
    /// Broker host.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// MQTT client id (stable: the session is persistent).
    pub client_id: String,
    /// Keep-alive interval.
    pub keep_alive: Duration,
    /// Username and password.
    pub credentials: Option<(String, String)>,
    /// CA certificate (PEM) to connect with TLS.
    pub ca_file: Option<PathBuf>,
    /// Client certificate and key (PEM) for mutual TLS.
    pub client_auth: Option<(PathBuf, PathBuf)>,
}

/// What the rest of the daemon asks the link to publish.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// A command event (QoS 1) on `evt/{id}`.
    Event {
        /// Command id.
        id: String,
        /// JSON payload.
        json: String,
    },
    /// Telemetry (QoS 0).
    Telemetry(String),
    /// New `info` (QoS 1, retained).
    Info(String),
}

/// The link could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// A TLS file could not be read.
    #[error("cannot read {path}: {source}")]
    TlsFile {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

fn read(path: &PathBuf) -> Result<Vec<u8>, LinkError> {
    std::fs::read(path).map_err(|source| LinkError::TlsFile { path: path.clone(), source })
}

fn options(cfg: &LinkConfig, topics: &Topics) -> Result<MqttOptions, LinkError> {
    let mut o = MqttOptions::new(&cfg.client_id, &cfg.host, cfg.port);
    o.set_keep_alive(cfg.keep_alive);
    o.set_clean_session(false);
    o.set_max_packet_size(MAX_INCOMING, 64 << 10);
    o.set_last_will(LastWill::new(topics.status(), "offline", QoS::AtLeastOnce, true));
    if let Some((u, p)) = &cfg.credentials {
        o.set_credentials(u, p);
    }
    if let Some(ca) = &cfg.ca_file {
        let client_auth = match &cfg.client_auth {
            Some((cert, key)) => Some((read(cert)?, read(key)?)),
            None => None,
        };
        o.set_transport(Transport::Tls(TlsConfiguration::Simple { ca: read(ca)?, alpn: None, client_auth }));
    }
    Ok(o)
}

fn retained(topic: String, payload: &str) -> Msg {
    Msg { topic, payload: payload.as_bytes().to_vec(), qos1: true, retain: true, droppable: false }
}

/// Send small packets at once: with Nagle's algorithm, a PUBLISH queued behind an unacknowledged
/// segment waits for the peer's delayed ACK (40 ms on Linux); an e-stop must not.
pub fn no_delay(events: &mut rumqttc::EventLoop) {
    let mut net = events.network_options();
    net.set_tcp_nodelay(true);
    events.set_network_options(net);
}

/// Run the link until `shutdown`; then publish `status` = `offline` and disconnect.
pub async fn run(
    cfg: LinkConfig,
    topics: Topics,
    mut info: String,
    mut outbound: mpsc::UnboundedReceiver<Outbound>,
    inbound: mpsc::UnboundedSender<Inbound>,
    on_estop: Arc<dyn Fn(bool, Instant) + Send + Sync>,
    shutdown: CancellationToken,
) -> Result<(), LinkError> {
    let (client, mut events) = AsyncClient::new(options(&cfg, &topics)?, 64);
    no_delay(&mut events);
    let mut outbox = Outbox::new(4096);
    let mut backoff = BACKOFF_MIN;
    loop {
        // Hand what we can to rumqttc without waiting; the rest stays in the outbox.
        while let Some(m) = outbox.peek() {
            let qos = if m.qos1 { QoS::AtLeastOnce } else { QoS::AtMostOnce };
            if client.try_publish(m.topic.clone(), qos, m.retain, m.payload.clone()).is_err() {
                break;
            }
            outbox.handed();
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            msg = outbound.recv() => match msg {
                Some(Outbound::Event { id, json }) => outbox.push(Msg {
                    topic: topics.evt(&id), payload: json.into_bytes(), qos1: true, retain: false, droppable: false,
                }),
                Some(Outbound::Telemetry(json)) => outbox.push(Msg {
                    topic: topics.telemetry(), payload: json.into_bytes(), qos1: false, retain: false, droppable: true,
                }),
                Some(Outbound::Info(json)) => {
                    outbox.push(retained(topics.info(), &json));
                    info = json;
                }
                None => break,
            },
            event = events.poll() => match event {
                Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                    tracing::info!(session_present = ack.session_present, "connected to {}:{}", cfg.host, cfg.port);
                    backoff = BACKOFF_MIN;
                    outbox.on_connack(ack.session_present);
                    for filter in topics.subscriptions() {
                        if let Err(e) = client.try_subscribe(filter.clone(), QoS::AtLeastOnce) {
                            tracing::error!("cannot subscribe to {filter}: {e}");
                        }
                    }
                    outbox.push(retained(topics.status(), "online"));
                    outbox.push(retained(topics.info(), &info));
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let received = Instant::now();
                    let msg = topics.inbound(&p.topic, &p.payload);
                    if let Inbound::Estop(engage) = msg {
                        on_estop(engage, received);
                    }
                    if inbound.send(msg).is_err() {
                        break;
                    }
                }
                Ok(Event::Incoming(Packet::PubAck(ack))) => outbox.on_puback(ack.pkid),
                Ok(Event::Outgoing(Outgoing::Publish(pkid))) => outbox.on_outgoing_publish(pkid),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!("MQTT connection to {}:{}: {e}; retrying in {backoff:?}", cfg.host, cfg.port);
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            },
        }
    }
    goodbye(&client, &mut events, &topics).await;
    Ok(())
}

/// Publish `offline` (retained) and disconnect cleanly, within a second.
async fn goodbye(client: &AsyncClient, events: &mut rumqttc::EventLoop, topics: &Topics) {
    let _ = client.try_publish(topics.status(), QoS::AtLeastOnce, true, "offline");
    let _ = client.try_disconnect();
    let drain = async {
        loop {
            match events.poll().await {
                Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_) => break,
                Ok(_) => {}
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
}
