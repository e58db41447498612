//! `trinity skill publish BUNDLE`: put a signed bundle on the broker for robots to take.
//!
//! The chunks go first, retained, then the announcement (retained): a robot that sees the
//! announcement finds every chunk there. The chunks of the version it replaces are cleared
//! afterwards (empty retained payloads), so the broker holds one version per skill.

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::json;

use super::{announcement_topic, chunk_topic, Announcement, Target, CHUNK_BYTES};
use crate::skills::bundle::Bundle;

/// Where and what to publish.
#[derive(Debug, Clone)]
pub struct PublishArgs<'a> {
    /// The signed bundle.
    pub bundle: &'a Path,
    /// Broker host.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// The audience (default: every robot that wants the skill).
    pub to: Option<Target>,
    /// Give up after this long.
    pub timeout: Duration,
}

/// Publish; returns a JSON summary.
pub async fn publish(args: PublishArgs<'_>) -> anyhow::Result<serde_json::Value> {
    let b = Bundle::open(args.bundle)?;
    let bytes = std::fs::read(args.bundle).with_context(|| args.bundle.display().to_string())?;
    let a = Announcement::of(&bytes, &b, CHUNK_BYTES, args.to.clone()).map_err(|e| anyhow!(e))?;
    let announcement = serde_json::to_vec(&a)?;
    // The robots' own checks, so that what they would refuse is refused here first.
    Announcement::parse(&a.name, &announcement).map_err(|e| anyhow!(e))?;

    let id = format!("trinity-publish-{}", std::process::id());
    let mut opts = MqttOptions::new(id, &args.host, args.port);
    opts.set_keep_alive(Duration::from_secs(30));
    opts.set_max_packet_size(super::MAX_ANNOUNCEMENT_BYTES + 4096, super::MAX_ANNOUNCEMENT_BYTES + 4096);
    opts.set_inflight(64);
    let (client, mut events) = AsyncClient::new(opts, 64);
    crate::mqtt::link::no_delay(&mut events);
    let topic = announcement_topic(&a.name);
    let started = std::time::Instant::now();

    let run = async {
        // What is announced now (retained), to clear its chunks afterwards.
        client.subscribe(&topic, QoS::AtLeastOnce).await?;
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
                Ok(Err(e)) => bail!("MQTT broker {}:{}: {e}", args.host, args.port),
            }
        }
        client.unsubscribe(&topic).await?;
        let stale: Vec<String> = match &old {
            Some(o) if o.bundle.sha256 != a.bundle.sha256 => {
                (0..o.bundle.chunks.len()).map(|i| chunk_topic(&o.bundle.sha256, i)).collect()
            }
            _ => Vec::new(),
        };
        // Everything goes out from a task of its own while this one drives the connection.
        let sender = {
            let client = client.clone();
            let sha = a.bundle.sha256.clone();
            let chunks: Vec<Vec<u8>> = bytes.chunks(CHUNK_BYTES as usize).map(<[u8]>::to_vec).collect();
            let (topic, announcement, stale) = (topic.clone(), announcement.clone(), stale.clone());
            tokio::spawn(async move {
                for (i, c) in chunks.into_iter().enumerate() {
                    client.publish(chunk_topic(&sha, i), QoS::AtLeastOnce, true, c).await?;
                }
                client.publish(topic, QoS::AtLeastOnce, true, announcement).await?;
                for t in stale {
                    client.publish(t, QoS::AtLeastOnce, true, Vec::new()).await?;
                }
                Ok::<_, rumqttc::ClientError>(())
            })
        };
        let expected = a.bundle.chunks.len() + 1 + stale.len();
        let mut acked = 0;
        while acked < expected {
            match events.poll().await {
                Ok(Event::Incoming(Packet::PubAck(_))) => acked += 1,
                Ok(_) => {}
                Err(e) => {
                    bail!("MQTT broker {}:{}: {e} ({acked} of {expected} messages acknowledged)", args.host, args.port)
                }
            }
        }
        sender.await??;
        let _ = client.disconnect().await;
        Ok(old.map(|o| o.version))
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
        "replaced": replaced,
        "seconds": started.elapsed().as_secs_f64(),
    }))
}
