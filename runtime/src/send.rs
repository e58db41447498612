//! `trinity send`: publish one command and follow its events to the terminal one.

use std::time::Duration;

use anyhow::{anyhow, bail};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};

use trinity_wire::{self as wire, Topics};

/// Where and what to send.
#[derive(Debug, Clone)]
pub struct SendArgs {
    /// Broker host.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// Robot id.
    pub robot_id: String,
    /// Skill, if any.
    pub skill: Option<String>,
    /// Command text.
    pub text: String,
    /// Give up after this long.
    pub timeout: Duration,
}

/// Send the command, print every event as a JSON line, return the terminal event.
pub async fn send(args: SendArgs) -> anyhow::Result<wire::Event> {
    let id = format!(
        "send-{}-{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis()
    );
    trinity_wire::names::robot_id(&args.robot_id)?;
    let topics = Topics::new(&args.robot_id);
    let mut opts = MqttOptions::new(&id, &args.host, args.port);
    opts.set_keep_alive(Duration::from_secs(10));
    let (client, mut events) = AsyncClient::new(opts, 16);
    crate::mqtt::link::no_delay(&mut events);
    client.subscribe(topics.evt(&id), QoS::AtLeastOnce).await?;
    let payload = wire::CommandRequest { id: id.clone(), text: args.text, skill: args.skill, ..Default::default() };
    let payload = serde_json::to_string(&payload)?;
    let follow = async {
        let mut published = false;
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::SubAck(_))) if !published => {
                    client.publish(topics.cmd(), QoS::AtLeastOnce, false, payload.clone()).await?;
                    published = true;
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    // As received: a newer daemon's fields are shown too.
                    println!("{}", String::from_utf8_lossy(&p.payload));
                    let ev: wire::Event = serde_json::from_slice(&p.payload)
                        .map_err(|e| anyhow!("the daemon's event is not one of the contract: {e}"))?;
                    if ev.state.is_terminal() {
                        let _ = client.disconnect().await;
                        return Ok(ev);
                    }
                }
                Ok(_) => {}
                Err(e) => bail!("MQTT broker {}:{}: {e}", args.host, args.port),
            }
        }
    };
    tokio::time::timeout(args.timeout, follow)
        .await
        .map_err(|_| anyhow!("no terminal event for {id} within {:?}", args.timeout))?
}
