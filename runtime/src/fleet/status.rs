//! `trinity fleet status`: the robots a broker knows of, from what they keep retained there
//! (`status`, `info`, `skills/state`): online or not, board, skills and versions, failures.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::bail;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{json, Value};

/// One robot as the broker shows it.
#[derive(Debug, Default, Clone)]
struct Robot {
    status: Option<String>,
    info: Option<trinity_wire::Info>,
    state: Option<Value>,
}

/// Read the retained messages for `settle` after the last one arrives (at most `timeout`);
/// returns one JSON object per robot, sorted by id.
pub async fn status(host: &str, port: u16, settle: Duration, timeout: Duration) -> anyhow::Result<Vec<Value>> {
    let mut opts = MqttOptions::new(format!("trinity-fleet-status-{}", std::process::id()), host, port);
    opts.set_keep_alive(Duration::from_secs(30));
    opts.set_max_packet_size(1 << 20, 4096);
    let (client, mut events) = AsyncClient::new(opts, 16);
    for f in ["trinity/+/status", "trinity/+/info", "trinity/+/skills/state"] {
        client.subscribe(f, QoS::AtLeastOnce).await?;
    }
    let mut robots: BTreeMap<String, Robot> = BTreeMap::new();
    let started = Instant::now();
    let mut last = None::<Instant>;
    loop {
        let quiet = last.map_or(timeout, |t| settle.saturating_sub(t.elapsed()));
        let left = timeout.saturating_sub(started.elapsed()).min(quiet);
        match tokio::time::timeout(left, events.poll()).await {
            Err(_) => break,
            Ok(Ok(Event::Incoming(Packet::SubAck(_)))) => last = Some(Instant::now()),
            Ok(Ok(Event::Incoming(Packet::Publish(p)))) => {
                last = Some(Instant::now());
                let mut parts = p.topic.splitn(3, '/');
                let (Some(_), Some(id), Some(leaf)) = (parts.next(), parts.next(), parts.next()) else { continue };
                if trinity_wire::names::robot_id(id).is_err() || p.payload.is_empty() {
                    continue;
                }
                let r = robots.entry(id.to_owned()).or_default();
                match leaf {
                    "status" => r.status = Some(String::from_utf8_lossy(&p.payload).trim().to_owned()),
                    "info" => r.info = serde_json::from_slice(&p.payload).ok(),
                    "skills/state" => r.state = serde_json::from_slice(&p.payload).ok(),
                    _ => {}
                }
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => bail!("MQTT broker {host}:{port}: {e}"),
        }
    }
    let _ = client.disconnect().await;
    Ok(robots.into_iter().map(|(id, r)| describe(&id, &r)).collect())
}

fn describe(id: &str, r: &Robot) -> Value {
    let info = r.info.as_ref();
    let skills: Vec<Value> = info
        .map(|i| i.skills.iter().map(|s| json!({"name": s.name, "version": s.version})).collect())
        .unwrap_or_default();
    let mut failures: Vec<Value> = info.map(|i| i.skill_errors.iter().map(|e| json!(e)).collect()).unwrap_or_default();
    if let Some(state) = r.state.as_ref().and_then(Value::as_object) {
        failures.extend(state.values().filter(|e| e["event"] == "failed").cloned());
    }
    json!({
        "robot_id": id,
        "online": r.status.as_deref() == Some("online"),
        "status": r.status,
        "board": info.map(|i| &i.board),
        "trinity": info.map(|i| &i.version),
        "skills": skills,
        "last_skill_events": r.state,
        "failures": failures,
    })
}

/// The robots as a table, for a terminal.
pub fn table(robots: &[Value]) -> String {
    let mut out = format!("{:<20} {:<8} {:<8} {:<40} {}\n", "ROBOT", "ONLINE", "BOARD", "SKILLS", "FAILURES");
    for r in robots {
        let skills: Vec<String> = r["skills"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|s| match s["version"].as_str() {
                        Some(v) => format!("{}@{v}", s["name"].as_str().unwrap_or("?")),
                        None => s["name"].as_str().unwrap_or("?").to_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let failures: Vec<String> = r["failures"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|f| match (f["name"].as_str(), f["reason"].as_str()) {
                        (Some(n), Some(why)) => format!("{n}: {why}"),
                        _ => f.to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        out += &format!(
            "{:<20} {:<8} {:<8} {:<40} {}\n",
            r["robot_id"].as_str().unwrap_or("?"),
            if r["online"] == true { "yes" } else { "no" },
            r["board"].as_str().unwrap_or("?"),
            skills.join(" "),
            failures.join("; ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_robot_is_described_from_its_retained_messages() {
        let r = Robot {
            status: Some("online".into()),
            info: serde_json::from_value(json!({"board": "sim", "version": "0.1.0", "skills": [
                {"name": "general", "source": "builtin"}, {"name": "rover", "version": "1.2.0"}],
                "skill_errors": [], "some_later_field": 1}))
            .ok(),
            state: Some(
                json!({"arm": {"event": "failed", "name": "arm", "version": "2.0.0", "reason": "bad signature"},
                               "rover": {"event": "installed", "name": "rover", "version": "1.2.0"}}),
            ),
        };
        assert!(r.info.is_some(), "an info with unknown and missing fields reads");
        let v = describe("r1", &r);
        assert_eq!(v["online"], true);
        assert_eq!(v["skills"][1], json!({"name": "rover", "version": "1.2.0"}));
        assert_eq!(v["failures"].as_array().unwrap().len(), 1);
        let t = table(&[v]);
        assert!(t.contains("rover@1.2.0") && t.contains("arm: bad signature"), "{t}");
        let off = describe("r2", &Robot { status: Some("offline".into()), ..Default::default() });
        assert_eq!(off["online"], false);
    }
}
