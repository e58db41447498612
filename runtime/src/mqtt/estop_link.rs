//! The e-stop's own MQTT connection (docs/DESIGN.md, "Contract v1.1"): client id `{client_id}-estop`
//! (`trinity-{robot_id}-estop` by default), subscribed to `estop` (and its own
//! `estop/sync`, below) only, on its own thread with its own runtime. A flood of commands, an
//! oversize payload or a poisoned event on the main link can delay or break that link; none
//! of them reaches this one.
//!
//! What it honours:
//! - `engage`, always: live, retained or from the broker's backlog (fail safe);
//! - `release`, only live: a retained `release` would undo a later `engage` at every
//!   reconnect, and one queued while the daemon was down was meant for a robot that has
//!   since restarted. As on the main link, after this process's first connect resumes a
//!   session, the link publishes a per-boot token on `estop/sync`: what arrives before the
//!   token comes back (or for at most [`BACKLOG_MAX`]) is that backlog.
//!
//! Acknowledgements are manual: the PUBACK goes out once `on_estop` has carried the request
//! out and recorded the latch, so a broker only forgets an e-stop the robot has recorded.
//! An ack that does not fit rumqttc's request channel waits in a queue of its own: a dropped
//! ack would hold a slot of the broker's in-flight window for good, and a flood could fill
//! the window and hold back a real `engage`.
//!
//! Whether the link is up (subscribed) is published in `up`: the daemon starts no plan while
//! the robot cannot be stopped remotely.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, Event, Packet, Publish, QoS};
use tokio_util::sync::CancellationToken;

use super::link::{base_options, no_delay, Backoff, LinkConfig, LinkError};
use crate::throttle::Throttle;
use trinity_wire::{Inbound, Topics};

/// Called with `engage` (true) or `release` and the time the request arrived; returns once
/// the request is carried out (outputs safe, latch recorded), with whether it was.
pub type OnEstop = Arc<dyn Fn(bool, Instant) -> bool + Send + Sync>;

/// The longest a backlog phase lasts when the token does not come back (a broker ACL that
/// drops `estop/sync`, say).
pub const BACKLOG_MAX: Duration = Duration::from_secs(5);

/// The e-stop connection, set up (TLS files read) and ready to run.
pub struct EstopLink {
    cfg: LinkConfig,
    topics: Topics,
    options: rumqttc::MqttOptions,
    boot: String,
}

impl EstopLink {
    /// The client id for the main link's `client_id`.
    pub fn client_id(main: &str) -> String {
        format!("{main}-estop")
    }

    /// Set up the connection; `boot` is this process's token.
    pub fn new(cfg: LinkConfig, topics: Topics, boot: &str) -> Result<EstopLink, LinkError> {
        let mut options = base_options(&cfg, &Self::client_id(&cfg.client_id))?;
        options.set_manual_acks(true);
        Ok(EstopLink { cfg, topics, options, boot: boot.to_owned() })
    }

    /// Run on a thread of its own until `shutdown`; `up` says whether it is subscribed.
    pub fn spawn(
        self,
        on_estop: OnEstop,
        up: Arc<AtomicBool>,
        shutdown: CancellationToken,
    ) -> std::io::Result<std::thread::JoinHandle<()>> {
        std::thread::Builder::new().name("mqtt-estop".into()).spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!("e-stop link: cannot start its runtime: {e}");
                    return;
                }
            };
            rt.block_on(self.run(on_estop, up, shutdown));
        })
    }

    async fn run(self, on_estop: OnEstop, up: Arc<AtomicBool>, shutdown: CancellationToken) {
        let EstopLink { cfg, topics, options, boot } = self;
        let (client, mut events) = AsyncClient::new(options, 64);
        no_delay(&mut events);
        let mut backoff = Backoff::default();
        let mut connected: Option<Instant> = None;
        // None until the first CONNACK; then until when a `release` may be the backlog's.
        let mut backlog: Option<Option<Instant>> = None;
        let mut acks: VecDeque<Publish> = VecDeque::new();
        // What a peer sends must not flood the log: a blocked stderr would block this thread.
        let mut log = Throttle::for_peers();
        let mut warn = |line: &dyn std::fmt::Display| {
            if let Some(note) = log.allow(Instant::now()) {
                tracing::warn!("e-stop link: {line}{note}");
            }
        };
        loop {
            super::link::send_acks(&client, &mut acks);
            let event = tokio::select! {
                _ = shutdown.cancelled() => break,
                event = events.poll() => event,
            };
            match event {
                Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                    tracing::info!("e-stop link connected to {}:{}", cfg.host, cfg.port);
                    connected = Some(Instant::now());
                    // Acks of the last connection's publishes: the broker sends those again.
                    acks.clear();
                    let first = backlog.is_none();
                    let still = backlog.flatten().is_some_and(|until| Instant::now() < until);
                    for filter in [topics.estop(), topics.estop_sync()] {
                        if let Err(e) = client.try_subscribe(filter, QoS::AtLeastOnce) {
                            tracing::error!("e-stop link: cannot subscribe: {e}");
                        }
                    }
                    // After the subscriptions: the token must come back to us.
                    backlog = Some(if ack.session_present && (first || still) {
                        let _ = client.try_publish(topics.estop_sync(), QoS::AtLeastOnce, false, boot.clone());
                        Some(Instant::now() + BACKLOG_MAX)
                    } else {
                        None
                    });
                }
                Ok(Event::Incoming(Packet::SubAck(s))) => {
                    let refused = s.return_codes.iter().any(|c| matches!(c, rumqttc::SubscribeReasonCode::Failure));
                    if refused {
                        tracing::error!("e-stop link: the broker refused the subscription (ACL?): the robot cannot be stopped over MQTT");
                    }
                    up.store(!refused, Ordering::SeqCst);
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let received = Instant::now();
                    let in_backlog = backlog.flatten().is_some_and(|until| received < until);
                    let done = if p.topic == topics.estop_sync() {
                        if p.payload == boot.as_bytes() && in_backlog {
                            backlog = Some(None);
                        }
                        true
                    } else if p.payload.len() > 32 {
                        warn(&format!("estop payload of {} bytes: expected `engage` or `release`", p.payload.len()));
                        true
                    } else {
                        match topics.inbound(&p.topic, &p.payload) {
                            Inbound::Estop(true) => on_estop(true, received),
                            Inbound::Estop(false) if p.retain => {
                                warn(&"retained `release` ignored: a release acts once, when published");
                                true
                            }
                            Inbound::Estop(false) if in_backlog => {
                                warn(&"`release` queued while the daemon was down ignored: send it again");
                                true
                            }
                            Inbound::Estop(false) => on_estop(false, received),
                            Inbound::Invalid(why) => {
                                warn(&why);
                                true
                            }
                            other => {
                                warn(&format!("unexpected {other:?}"));
                                true
                            }
                        }
                    };
                    // Not carried out (the latch could not be recorded): no ack, so the
                    // broker sends it again after a reconnect.
                    if done {
                        super::link::queue_ack(&mut acks, &p);
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    up.store(false, Ordering::SeqCst);
                    let wait = backoff.after_failure(connected.take().map(|t| t.elapsed()));
                    tracing::warn!("e-stop link to {}:{}: {e}; retrying in {wait:?}", cfg.host, cfg.port);
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
        up.store(false, Ordering::SeqCst);
        let _ = client.try_disconnect();
        let _ = tokio::time::timeout(Duration::from_millis(500), async {
            while let Ok(e) = events.poll().await {
                if matches!(e, Event::Outgoing(rumqttc::Outgoing::Disconnect)) {
                    break;
                }
            }
        })
        .await;
    }
}
