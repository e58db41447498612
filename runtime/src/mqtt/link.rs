//! The MQTT link task: owns rumqttc's event loop and never blocks on anything else.
//!
//! rumqttc neither backs off nor resubscribes after a reconnect, and forgets pending
//! publishes when the broker starts a clean session. The link does all three: exponential
//! backoff from 100 ms to a 5 s cap ([`Backoff`]: a connection that dies soon after its
//! CONNACK does not reset it); on every CONNACK it subscribes again and republishes
//! `status` = `online` and `info` (retained); the [`Outbox`] redelivers what the broker has
//! not acknowledged, and holds messages back while disconnected (handed to rumqttc during an
//! outage, rumqttc would send them once and the outbox again). The session is persistent
//! (clean session off, a stable client id), so commands published while the link was down
//! are delivered when it returns.
//!
//! After this process's first connect resumes a session, what the broker had queued for us
//! arrives first: the *backlog*, commands that may have waited for hours. The link publishes
//! a per-boot token on `sync` (which it subscribes to) and tags every command before the
//! token comes back as [`Source::Backlog`]; brokers deliver one client's messages in order.
//!
//! Input that arrives with the retain flag (a retained message replayed at subscribe time)
//! is ignored: it would act again at every reconnect. The e-stop is not on this link: it has
//! its own connection ([`super::estop_link`]).
//!
//! Commands are acknowledged (PUBACK) once handed to the dispatcher, not on receipt: one
//! that arrives while the daemon shuts down stays with the broker for the next run.
//!
//! On shutdown the link hands over what it was given, waits (bounded) for the broker to
//! acknowledge it, then publishes `status` = `offline` and disconnects.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, Event, LastWill, MqttOptions, Outgoing, Packet, Publish, QoS, TlsConfiguration, Transport};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use trinity_wire::dispatch::Source;
use trinity_wire::outbox::{Delivery, Keep, Msg, Outbox, MAX_PAYLOAD, MAX_TOPIC};
use trinity_wire::{Inbound, Topics};

/// Largest incoming packet read. Far bigger than any valid command (the dispatcher refuses
/// payloads over 64 KiB), so that an oversize payload is read and refused instead of
/// breaking the connection, which would make the broker redeliver it forever.
const MAX_INCOMING: usize = 16 << 20;
/// Largest packet written: the payload limit, a topic and the header.
const MAX_OUTGOING: usize = MAX_PAYLOAD + MAX_TOPIC + 16;
/// How long the link waits on shutdown for the broker to acknowledge the last events.
const FLUSH: Duration = Duration::from_secs(2);

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
    /// Retained messages (topic, payload) published at every CONNACK besides `status` and
    /// `info`: Home Assistant's discovery configs, or the empty payloads that remove them.
    pub announce: Vec<(String, Vec<u8>)>,
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
        /// The command's last event (kept longest when the outbox is full).
        terminal: bool,
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

/// rumqttc's options for `cfg` with `client_id`: keep-alive, packet limits, credentials, TLS.
pub(crate) fn base_options(cfg: &LinkConfig, client_id: &str) -> Result<MqttOptions, LinkError> {
    let mut o = MqttOptions::new(client_id, &cfg.host, cfg.port);
    o.set_keep_alive(cfg.keep_alive);
    o.set_clean_session(false);
    o.set_max_packet_size(MAX_INCOMING, MAX_OUTGOING);
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

fn retained_text(topic: String, payload: &str) -> Msg {
    Msg::retained(topic, payload.as_bytes().to_vec())
}

/// Send small packets at once: with Nagle's algorithm, a PUBLISH queued behind an unacknowledged
/// segment waits for the peer's delayed ACK (40 ms on Linux); an e-stop must not.
pub fn no_delay(events: &mut rumqttc::EventLoop) {
    let mut net = events.network_options();
    net.set_tcp_nodelay(true);
    events.set_network_options(net);
}

/// Reconnect delays: doubling from 100 ms to 5 s. Only a connection that stayed up for
/// [`Backoff::STABLE`] starts the doubling over: one that a broker drops right after its
/// CONNACK (a poisoned message, a refused session) would otherwise reconnect every 100 ms
/// for good.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { next: Backoff::MIN }
    }
}

impl Backoff {
    /// The first delay.
    pub const MIN: Duration = Duration::from_millis(100);
    /// The cap.
    pub const MAX: Duration = Duration::from_secs(5);
    /// How long a connection must have lived to count as healthy.
    pub const STABLE: Duration = Duration::from_secs(10);

    /// The link failed; `lived` is how long its connection was up (None: the connect
    /// itself failed). Returns how long to wait before the next attempt.
    pub fn after_failure(&mut self, lived: Option<Duration>) -> Duration {
        if lived.is_some_and(|l| l >= Self::STABLE) {
            self.next = Self::MIN;
        }
        let wait = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        wait
    }
}

/// The main MQTT link, set up (TLS files read) and ready to run.
pub struct Link {
    cfg: LinkConfig,
    topics: Topics,
    options: MqttOptions,
    /// This process's token on `sync`.
    boot: String,
}

impl Link {
    /// Set up the link: fails at once on an unreadable TLS file, so a misconfigured daemon
    /// exits with an error instead of running without a broker.
    pub fn new(cfg: LinkConfig, topics: Topics, boot: &str) -> Result<Link, LinkError> {
        let mut options = base_options(&cfg, &cfg.client_id)?;
        options.set_last_will(LastWill::new(topics.status(), "offline", QoS::AtLeastOnce, true));
        // A command is acknowledged once the dispatcher has it: one that arrives while the
        // daemon shuts down stays with the broker for the next run.
        options.set_manual_acks(true);
        Ok(Link { cfg, topics, options, boot: boot.to_owned() })
    }

    /// Run until `shutdown`; then flush, publish `status` = `offline` and disconnect.
    pub async fn run(
        self,
        mut info: String,
        mut outbound: mpsc::UnboundedReceiver<Outbound>,
        inbound: mpsc::UnboundedSender<Inbound>,
        shutdown: CancellationToken,
    ) {
        let Link { cfg, topics, options, boot } = self;
        let (client, mut events) = AsyncClient::new(options, 64);
        no_delay(&mut events);
        let mut outbox = Outbox::new(4096);
        let mut backoff = Backoff::default();
        // When the current connection's CONNACK came; None while disconnected.
        let mut connected: Option<Instant> = None;
        // None until the first CONNACK; then whether commands are still the backlog.
        let mut backlog: Option<bool> = None;
        // The backlog phase ends when the token is back, or at this time at the latest.
        let mut backlog_until: Option<Instant> = None;
        let mut acks: VecDeque<Publish> = VecDeque::new();
        let mut retained_log = crate::throttle::Throttle::for_peers();
        let mut unsendable_log = crate::throttle::Throttle::for_peers();
        let mut push = |outbox: &mut Outbox, m: Msg| {
            if let Err(e) = outbox.push(m) {
                if let Some(note) = unsendable_log.allow(Instant::now()) {
                    tracing::error!("not published: {e}{note}");
                }
            }
        };
        'run: loop {
            send_acks(&client, &mut acks);
            if connected.is_some() {
                hand_over(&client, &mut outbox);
            }
            // One poll future until it yields an event: dropping it mid-connect (when an
            // outbound message wins a select) would drop the half-made connection, and a
            // busy daemon could then never finish a slow (TLS) handshake.
            let event = {
                let poll = events.poll();
                tokio::pin!(poll);
                loop {
                    tokio::select! {
                        _ = shutdown.cancelled() => break 'run,
                        event = &mut poll => break event,
                        msg = outbound.recv() => {
                            match msg {
                                Some(Outbound::Info(json)) => {
                                    push(&mut outbox, retained_text(topics.info(), &json));
                                    info = json;
                                }
                                Some(m) => push(&mut outbox, message(&topics, m)),
                                None => break 'run,
                            }
                            if connected.is_some() {
                                hand_over(&client, &mut outbox);
                            }
                        }
                    }
                }
            };
            match event {
                Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                    tracing::info!(session_present = ack.session_present, "connected to {}:{}", cfg.host, cfg.port);
                    connected = Some(Instant::now());
                    outbox.on_connack(ack.session_present);
                    // The broker sends again what the last connection did not acknowledge.
                    acks.clear();
                    for filter in topics.subscriptions() {
                        if let Err(e) = client.try_subscribe(filter.clone(), QoS::AtLeastOnce) {
                            tracing::error!("cannot subscribe to {filter}: {e}");
                        }
                    }
                    // A resumed session at our first connect may hold a backlog; a new
                    // session holds nothing.
                    let b = backlog.unwrap_or(ack.session_present)
                        && ack.session_present
                        && backlog_until.is_none_or(|t| Instant::now() < t);
                    backlog = Some(b);
                    if b && backlog_until.is_none() {
                        backlog_until = Some(Instant::now() + super::estop_link::BACKLOG_MAX);
                    }
                    if b {
                        let sync = Msg::at_least_once(topics.sync(), boot.clone().into_bytes(), Keep::Final);
                        push(&mut outbox, sync);
                    }
                    push(&mut outbox, retained_text(topics.status(), "online"));
                    push(&mut outbox, retained_text(topics.info(), &info));
                    for (topic, payload) in &cfg.announce {
                        let m = Msg::retained(topic.clone(), payload.clone());
                        push(&mut outbox, m);
                    }
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    if p.topic != topics.sync() && !p.retain && inbound.is_closed() {
                        // The dispatcher is gone: not acknowledged, the broker keeps it.
                        break 'run;
                    }
                    queue_ack(&mut acks, &p);
                    if p.topic == topics.sync() {
                        if p.payload == boot.as_bytes() && backlog == Some(true) {
                            tracing::info!("the broker's backlog is delivered");
                            backlog = Some(false);
                        }
                        continue;
                    }
                    if p.retain {
                        if let Some(note) = retained_log.allow(Instant::now()) {
                            tracing::warn!(
                                "retained message on {} ignored: inputs act once, when published{note}",
                                p.topic
                            );
                        }
                        continue;
                    }
                    // Oversize payloads are refused here, before they are copied.
                    let mut msg = if p.payload.len() > trinity_wire::dispatch::MAX_PAYLOAD_BYTES {
                        Inbound::Invalid(format!(
                            "payload of {} bytes on {} exceeds the limit of {}",
                            p.payload.len(),
                            p.topic,
                            trinity_wire::dispatch::MAX_PAYLOAD_BYTES
                        ))
                    } else {
                        topics.inbound(&p.topic, &p.payload)
                    };
                    if backlog == Some(true) && backlog_until.is_some_and(|t| Instant::now() >= t) {
                        tracing::warn!(
                            "the sync token did not come back (a broker ACL on `sync`?): the backlog phase ends"
                        );
                        backlog = Some(false);
                    }
                    if let Inbound::Command { source, .. } = &mut msg {
                        if backlog == Some(true) {
                            *source = Source::Backlog;
                        }
                    }
                    if inbound.send(msg).is_err() {
                        break 'run;
                    }
                }
                Ok(Event::Incoming(Packet::PubAck(ack))) => outbox.on_puback(ack.pkid),
                Ok(Event::Outgoing(Outgoing::Publish(pkid))) => outbox.on_outgoing_publish(pkid),
                Ok(_) => {}
                Err(e) => {
                    settle_after_error(&mut events, &mut outbox);
                    let wait = backoff.after_failure(connected.take().map(|t| t.elapsed()));
                    tracing::warn!("MQTT connection to {}:{}: {e}; retrying in {wait:?}", cfg.host, cfg.port);
                    tokio::select! {
                        _ = shutdown.cancelled() => break 'run,
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
        // What the daemon said last (the `canceled` events of shutdown) goes out first.
        while let Ok(m) = outbound.try_recv() {
            match m {
                Outbound::Info(_) => {}
                m => push(&mut outbox, message(&topics, m)),
            }
        }
        if connected.is_some() {
            send_acks(&client, &mut acks);
            flush(&client, &mut events, &mut outbox).await;
        }
        if !outbox.is_empty() {
            tracing::warn!("{} messages not delivered at shutdown", outbox.len());
        }
        goodbye(&client, &mut events, &topics).await;
    }
}

fn message(topics: &Topics, m: Outbound) -> Msg {
    match m {
        Outbound::Event { id, json, terminal } => {
            let keep = if terminal { Keep::Final } else { Keep::Progress };
            Msg::at_least_once(topics.evt(&id), json.into_bytes(), keep)
        }
        Outbound::Telemetry(json) => Msg::telemetry(topics.telemetry(), json.into_bytes()),
        Outbound::Info(json) => retained_text(topics.info(), &json),
    }
}

/// Remember to acknowledge `p` (QoS 1).
pub(super) fn queue_ack(acks: &mut VecDeque<Publish>, p: &Publish) {
    if p.qos != QoS::AtMostOnce {
        let mut ack = Publish::new(p.topic.clone(), p.qos, Vec::new());
        ack.pkid = p.pkid;
        acks.push_back(ack);
    }
}

/// Hand rumqttc the acknowledgements it takes now; the rest wait (a dropped ack would hold
/// a slot of the broker's in-flight window for good).
pub(super) fn send_acks(client: &AsyncClient, acks: &mut VecDeque<Publish>) {
    while let Some(p) = acks.front() {
        if client.try_ack(p).is_err() {
            break;
        }
        acks.pop_front();
    }
}

/// Hand what we can to rumqttc without waiting; the rest stays in the outbox.
pub(crate) fn hand_over(client: &AsyncClient, outbox: &mut Outbox) {
    while let Some(m) = outbox.peek() {
        let qos = match m.delivery {
            Delivery::AtMostOnce => QoS::AtMostOnce,
            Delivery::AtLeastOnce => QoS::AtLeastOnce,
        };
        if client.try_publish(m.topic.clone(), qos, m.retain, m.payload.clone()).is_err() {
            break;
        }
        outbox.handed();
    }
}

/// After a connection error: events rumqttc recorded before the failure (a publish
/// numbered, then its write failed) are still queued in its state, to be handed out after
/// the next CONNACK. The outbox takes them now, in order, so that packet ids stay matched
/// to their messages.
pub(crate) fn settle_after_error(events: &mut rumqttc::EventLoop, outbox: &mut Outbox) {
    for ev in events.state.events.drain(..) {
        match ev {
            Event::Outgoing(Outgoing::Publish(pkid)) => outbox.on_outgoing_publish(pkid),
            Event::Incoming(Packet::PubAck(ack)) => outbox.on_puback(ack.pkid),
            _ => {}
        }
    }
}

/// Deliver what the outbox holds, for at most [`FLUSH`].
pub(crate) async fn flush(client: &AsyncClient, events: &mut rumqttc::EventLoop, outbox: &mut Outbox) {
    let drain = async {
        while !outbox.is_empty() {
            hand_over(client, outbox);
            match events.poll().await {
                Ok(Event::Incoming(Packet::PubAck(ack))) => outbox.on_puback(ack.pkid),
                Ok(Event::Outgoing(Outgoing::Publish(pkid))) => outbox.on_outgoing_publish(pkid),
                Ok(_) => {}
                Err(_) => break,
            }
        }
    };
    let _ = tokio::time::timeout(FLUSH, drain).await;
}

/// Publish `offline` (retained) and disconnect cleanly, within a second.
async fn goodbye(client: &AsyncClient, events: &mut rumqttc::EventLoop, topics: &Topics) {
    let _ = client.try_publish(topics.status(), QoS::AtLeastOnce, true, "offline");
    disconnect(client, events).await;
}

/// Send DISCONNECT and wait (at most a second) until it is written, so that the broker
/// sees a clean goodbye, not a dropped connection.
pub(crate) async fn disconnect(client: &AsyncClient, events: &mut rumqttc::EventLoop) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_11_a_link_that_dies_right_after_connack_still_backs_off() {
        let mut b = Backoff::default();
        let quick = Some(Duration::from_millis(5));
        let waits: Vec<u64> = (0..8).map(|_| b.after_failure(quick).as_millis() as u64).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
        // Failed connects count the same.
        assert_eq!(b.after_failure(None), Backoff::MAX);
        // A connection that lived starts over.
        assert_eq!(b.after_failure(Some(Backoff::STABLE)), Backoff::MIN);
        assert_eq!(b.after_failure(None), Backoff::MIN * 2);
    }
}
