//! `trinity skill publish BUNDLE`: put a signed bundle on the broker for robots to take.
//!
//! The chunks go first, retained, then the announcement (retained): a robot that sees the
//! announcement finds every chunk there. The chunks of the version it replaces are cleared
//! afterwards (empty retained payloads), so the broker holds one version per skill.
//!
//! Some broker clusters keep retained messages on the node that received them (RabbitMQ's
//! MQTT plugin): a robot on another node is sent a live copy while it is subscribed, but
//! not the retained one when it subscribes later. For them every node is named
//! ([`PublishArgs::brokers`]): the chunks go to every node first, then the announcement to
//! every node, so a robot on any node that sees an announcement finds the chunks on its own.

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};
use serde_json::json;

use super::{announcement_topic, chunk_topic, Announcement, Target, CHUNK_BYTES};
use crate::mqtt::link::disconnect;
use crate::skills::bundle::Bundle;

/// Where and what to publish.
#[derive(Debug, Clone)]
pub struct PublishArgs<'a> {
    /// The signed bundle.
    pub bundle: &'a Path,
    /// Brokers (host, port): one, or every node of a cluster whose retained messages stay
    /// on one node. At least one.
    pub brokers: Vec<(String, u16)>,
    /// The audience (default: every robot that wants the skill).
    pub to: Option<Target>,
    /// Give up after this long.
    pub timeout: Duration,
}

/// Publish; returns a JSON summary.
pub async fn publish(args: PublishArgs<'_>) -> anyhow::Result<serde_json::Value> {
    if args.brokers.is_empty() {
        bail!("no broker to publish to");
    }
    let b = Bundle::open(args.bundle)?;
    let bytes = std::fs::read(args.bundle).with_context(|| args.bundle.display().to_string())?;
    let a = Announcement::of(&bytes, &b, CHUNK_BYTES, args.to.clone()).map_err(|e| anyhow!(e))?;
    let announcement = serde_json::to_vec(&a)?;
    // The robots' own checks, so that what they would refuse is refused here first.
    Announcement::parse(&a.name, &announcement).map_err(|e| anyhow!(e))?;
    let topic = announcement_topic(&a.name);
    let started = std::time::Instant::now();

    let run = async {
        let chunks: Vec<(String, Vec<u8>)> = bytes
            .chunks(CHUNK_BYTES as usize)
            .enumerate()
            .map(|(i, c)| (chunk_topic(&a.bundle.sha256, i), c.to_vec()))
            .collect();
        for (n, (host, port)) in args.brokers.iter().enumerate() {
            let (client, mut events) = connect(host, *port, n);
            send_retained(&client, &mut events, chunks.clone())
                .await
                .with_context(|| format!("MQTT broker {host}:{port} (nothing announced yet)"))?;
            disconnect(&client, &mut events).await;
        }
        let mut replaced = Vec::new();
        for (n, (host, port)) in args.brokers.iter().enumerate() {
            let old =
                announce(host, *port, n + args.brokers.len(), &topic, &a, &announcement).await.with_context(|| {
                    let done: Vec<String> = args.brokers[..n].iter().map(|(h, p)| format!("{h}:{p}")).collect();
                    format!("MQTT broker {host}:{port} (announced on: {done:?}; publishing again is safe)")
                })?;
            replaced.push(old);
        }
        Ok::<_, anyhow::Error>(replaced)
    };
    let replaced = tokio::time::timeout(args.timeout, run)
        .await
        .map_err(|_| anyhow!("the broker did not take the bundle within {:?}", args.timeout))??;
    Ok(json!({
        "published": a.name,
        "version": a.version,
        "topic": topic,
        "sha256": a.bundle.sha256,
        "bytes": a.bundle.size,
        "chunks": a.bundle.chunks.len(),
        "to": a.to,
        "brokers": args.brokers.iter().map(|(h, p)| format!("{h}:{p}")).collect::<Vec<_>>(),
        "replaced": replaced.first().cloned().flatten(),
        "seconds": started.elapsed().as_secs_f64(),
    }))
}

/// Connection `n` of this run: a client id of its own (a broker may drop a connection
/// whose id another one reuses, as RabbitMQ does across a cluster).
fn connect(host: &str, port: u16, n: usize) -> (AsyncClient, EventLoop) {
    let id = format!("trinity-publish-{}-{n}", std::process::id());
    let mut opts = MqttOptions::new(id, host, port);
    opts.set_keep_alive(Duration::from_secs(30));
    opts.set_max_packet_size(super::MAX_ANNOUNCEMENT_BYTES + 4096, super::MAX_ANNOUNCEMENT_BYTES + 4096);
    opts.set_inflight(64);
    let (client, mut events) = AsyncClient::new(opts, 64);
    crate::mqtt::link::no_delay(&mut events);
    (client, events)
}

/// Publish each message retained at QoS 1, from a task of its own while this one drives the
/// connection; returns once the broker has acknowledged every one.
async fn send_retained(
    client: &AsyncClient,
    events: &mut EventLoop,
    messages: Vec<(String, Vec<u8>)>,
) -> anyhow::Result<()> {
    let expected = messages.len();
    let sender = {
        let client = client.clone();
        tokio::spawn(async move {
            for (topic, payload) in messages {
                client.publish(topic, QoS::AtLeastOnce, true, payload).await?;
            }
            Ok::<_, rumqttc::ClientError>(())
        })
    };
    let mut acked = 0;
    while acked < expected {
        match events.poll().await {
            Ok(Event::Incoming(Packet::PubAck(_))) => acked += 1,
            Ok(_) => {}
            Err(e) => {
                sender.abort();
                bail!("{e} ({acked} of {expected} messages acknowledged)")
            }
        }
    }
    sender.await??;
    Ok(())
}

/// On one broker: read what is announced now, announce `a`, and clear the chunks of the
/// version it replaces. Returns that version.
async fn announce(
    host: &str,
    port: u16,
    n: usize,
    topic: &str,
    a: &Announcement,
    announcement: &[u8],
) -> anyhow::Result<Option<String>> {
    let (client, mut events) = connect(host, port, n);
    // What is announced now (retained), to clear its chunks afterwards.
    client.subscribe(topic, QoS::AtLeastOnce).await?;
    let mut old: Option<Announcement> = None;
    let mut subacked = None;
    loop {
        let wait = subacked.map_or(Duration::from_secs(30), |t: std::time::Instant| {
            Duration::from_millis(500).saturating_sub(t.elapsed())
        });
        match tokio::time::timeout(wait, events.poll()).await {
            Err(_) => break,
            Ok(Ok(Event::Incoming(Packet::SubAck(_)))) => subacked = Some(std::time::Instant::now()),
            Ok(Ok(Event::Incoming(Packet::Publish(p)))) if p.topic == topic => {
                old = Announcement::parse(&a.name, &p.payload).ok().map(|(o, _)| o);
                if subacked.is_some() {
                    break;
                }
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => bail!("{e}"),
        }
    }
    client.unsubscribe(topic).await?;
    let mut messages = vec![(topic.to_owned(), announcement.to_vec())];
    if let Some(o) = old.as_ref().filter(|o| o.bundle.sha256 != a.bundle.sha256) {
        messages.extend((0..o.bundle.chunks.len()).map(|i| (chunk_topic(&o.bundle.sha256, i), Vec::new())));
    }
    send_retained(&client, &mut events, messages).await?;
    disconnect(&client, &mut events).await;
    Ok(old.map(|o| o.version))
}
