//! Home Assistant MQTT discovery (opt-in: `[homeassistant] discovery = true`).
//!
//! The robot appears in Home Assistant as one device: a text entity that sends commands
//! (`cmd`), e-stop engage and release buttons (`estop`), and sensors for the status, the
//! e-stop latch, the last plan and outcome, the queue depth and the time to plan (from the
//! retained `status` and from `telemetry`); the device is available while `status` is
//! `online`. Each entity's config is published retained on
//! `{prefix}/{component}/{node_id}/{object_id}/config` at every connect; when discovery is
//! turned off again, the daemon publishes empty retained payloads there once, which removes
//! the entities (a marker in the state directory remembers that they were announced).
//!
//! Field names are Home Assistant's documented MQTT discovery options (the tests check every
//! key against the documented lists below).

use serde_json::{json, Value};

use trinity_wire::Topics;

/// One entity: `(component, object_id, config)`.
type Entity = (&'static str, &'static str, Value);

/// Home Assistant node and object ids are `[a-zA-Z0-9_-]`; robot ids may also hold `.` and
/// `:`.
pub fn node_id(robot_id: &str) -> String {
    let clean: String = robot_id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    format!("trinity_{clean}")
}

fn entities(robot_id: &str, topics: &Topics, board: &str, version: &str) -> Vec<Entity> {
    let node = node_id(robot_id);
    let device = json!({
        "identifiers": [node],
        "name": format!("Trinity {robot_id}"),
        "manufacturer": "Trinity",
        "model": format!("robot runtime, board {board}"),
        "sw_version": version,
    });
    let availability =
        json!([{"topic": topics.status(), "payload_available": "online", "payload_not_available": "offline"}]);
    let common = |key: &str, name: &str| {
        json!({
            "name": name,
            "unique_id": format!("{node}_{key}"),
            "device": device,
            "availability": availability,
            "origin": {"name": "Trinity", "sw_version": version},
        })
    };
    let with = |mut base: Value, extra: Value| {
        if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
            b.extend(e);
        }
        base
    };
    let telemetry = topics.telemetry();
    vec![
        (
            "text",
            "command",
            with(
                common("command", "Command"),
                json!({"command_topic": topics.cmd(), "max": 255, "min": 1, "mode": "text", "icon": "mdi:robot"}),
            ),
        ),
        (
            "button",
            "estop_engage",
            with(
                common("estop_engage", "E-stop engage"),
                json!({"command_topic": topics.estop(), "payload_press": "engage", "icon": "mdi:alert-octagon"}),
            ),
        ),
        (
            "button",
            "estop_release",
            with(
                common("estop_release", "E-stop release"),
                json!({"command_topic": topics.estop(), "payload_press": "release", "icon": "mdi:play-circle"}),
            ),
        ),
        (
            "binary_sensor",
            "estop",
            with(
                common("estop", "E-stop engaged"),
                json!({
                    "state_topic": telemetry,
                    "value_template": "{{ 'ON' if value_json.estop else 'OFF' }}",
                    "payload_on": "ON",
                    "payload_off": "OFF",
                    "device_class": "safety",
                }),
            ),
        ),
        (
            "sensor",
            "status",
            // Its own topic tells online from offline, so no availability on it.
            {
                let mut c = common("status", "Status");
                if let Some(o) = c.as_object_mut() {
                    o.remove("availability");
                    o.insert("state_topic".into(), json!(topics.status()));
                    o.insert("icon".into(), json!("mdi:lan-connect"));
                }
                c
            },
        ),
        (
            "sensor",
            "last_plan",
            with(
                common("last_plan", "Last plan"),
                json!({
                    "state_topic": telemetry,
                    "value_template": "{{ (value_json.last.plan | tojson)[:255] if value_json.last is defined and value_json.last.plan is defined else 'none' }}",
                    "icon": "mdi:format-list-numbered",
                }),
            ),
        ),
        (
            "sensor",
            "last_outcome",
            with(
                common("last_outcome", "Last outcome"),
                json!({
                    "state_topic": telemetry,
                    "value_template": "{{ value_json.last.state if value_json.last is defined else 'none' }}",
                    "json_attributes_topic": telemetry,
                    "json_attributes_template": "{{ (value_json.last if value_json.last is defined else {}) | tojson }}",
                    "icon": "mdi:flag-checkered",
                }),
            ),
        ),
        (
            "sensor",
            "queue_depth",
            with(
                common("queue_depth", "Queue depth"),
                json!({
                    "state_topic": telemetry,
                    "value_template": "{{ value_json.queue_depth }}",
                    "state_class": "measurement",
                    "icon": "mdi:tray-full",
                }),
            ),
        ),
        (
            "sensor",
            "time_to_plan",
            with(
                common("time_to_plan", "Time to plan"),
                json!({
                    "state_topic": telemetry,
                    "value_template": "{{ value_json.last_timings.time_to_plan_ms | round(0) if value_json.last_timings else none }}",
                    "unit_of_measurement": "ms",
                    "device_class": "duration",
                    "state_class": "measurement",
                }),
            ),
        ),
    ]
}

/// The retained discovery messages `(topic, payload)` for this robot under `prefix`.
pub fn discovery(prefix: &str, robot_id: &str, topics: &Topics, board: &str, version: &str) -> Vec<(String, Vec<u8>)> {
    let node = node_id(robot_id);
    entities(robot_id, topics, board, version)
        .into_iter()
        .map(|(component, object, config)| {
            (format!("{prefix}/{component}/{node}/{object}/config"), config.to_string().into_bytes())
        })
        .collect()
}

/// The empty retained messages that remove what [`discovery`] announced.
pub fn removal(prefix: &str, robot_id: &str, topics: &Topics) -> Vec<(String, Vec<u8>)> {
    discovery(prefix, robot_id, topics, "", "").into_iter().map(|(t, _)| (t, Vec::new())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Home Assistant's documented MQTT discovery options
    // (https://www.home-assistant.io/integrations/{text,button,binary_sensor,sensor}.mqtt/),
    // the ones this module may use; (required, optional).
    const COMMON: &[&str] = &["name", "unique_id", "device", "availability", "origin", "icon"];
    const DEVICE: &[&str] = &["identifiers", "name", "manufacturer", "model", "sw_version"];
    const AVAILABILITY: &[&str] = &["topic", "payload_available", "payload_not_available"];

    fn documented(component: &str) -> (&'static [&'static str], &'static [&'static str]) {
        match component {
            "text" => (&["command_topic"], &["max", "min", "mode", "pattern", "state_topic", "value_template"]),
            "button" => (&["command_topic"], &["payload_press", "device_class"]),
            "binary_sensor" => (&["state_topic"], &["value_template", "payload_on", "payload_off", "device_class"]),
            "sensor" => (
                &["state_topic"],
                &[
                    "value_template",
                    "unit_of_measurement",
                    "device_class",
                    "state_class",
                    "json_attributes_topic",
                    "json_attributes_template",
                ],
            ),
            other => panic!("component {other} not documented here"),
        }
    }

    fn robot() -> (Topics, Vec<(String, Vec<u8>)>) {
        let topics = Topics::new("r1.lab:2");
        let d = discovery("homeassistant", "r1.lab:2", &topics, "pi5", "0.1.0");
        (topics, d)
    }

    #[test]
    fn every_config_uses_documented_keys_and_has_the_required_ones() {
        let (_, d) = robot();
        assert_eq!(d.len(), 9);
        let mut ids = std::collections::HashSet::new();
        for (topic, payload) in &d {
            let parts: Vec<&str> = topic.split('/').collect();
            assert_eq!(parts.len(), 5, "{topic}");
            assert_eq!((parts[0], parts[2], parts[4]), ("homeassistant", "trinity_r1_lab_2", "config"), "{topic}");
            assert!(parts[3].chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "{topic}");
            let v: Value = serde_json::from_slice(payload).unwrap();
            let (required, optional) = documented(parts[1]);
            let obj = v.as_object().unwrap();
            for k in obj.keys() {
                assert!(
                    COMMON.contains(&k.as_str()) || required.contains(&k.as_str()) || optional.contains(&k.as_str()),
                    "{topic}: `{k}` is not a documented option"
                );
            }
            for r in required.iter().chain(&["name", "unique_id", "device"]) {
                assert!(obj.contains_key(*r), "{topic}: `{r}` missing");
            }
            for k in v["device"].as_object().unwrap().keys() {
                assert!(DEVICE.contains(&k.as_str()), "{topic}: device `{k}`");
            }
            assert_eq!(v["device"]["identifiers"], json!(["trinity_r1_lab_2"]));
            if let Some(a) = v.get("availability") {
                for k in a[0].as_object().unwrap().keys() {
                    assert!(AVAILABILITY.contains(&k.as_str()), "{topic}: availability `{k}`");
                }
                assert_eq!(a[0]["topic"], "trinity/r1.lab:2/status");
            }
            assert!(ids.insert(v["unique_id"].as_str().unwrap().to_owned()), "unique_id twice: {topic}");
        }
    }

    #[test]
    fn buttons_and_text_publish_what_the_daemon_accepts() {
        let (topics, d) = robot();
        let config = |object: &str| -> Value {
            let (_, p) = d.iter().find(|(t, _)| t.contains(&format!("/{object}/"))).unwrap();
            serde_json::from_slice(p).unwrap()
        };
        assert_eq!(config("estop_engage")["command_topic"], topics.estop());
        assert_eq!(config("estop_engage")["payload_press"], "engage");
        assert_eq!(config("estop_release")["payload_press"], "release");
        assert_eq!(config("command")["command_topic"], topics.cmd());
        assert_eq!(config("queue_depth")["state_topic"], topics.telemetry());
    }

    #[test]
    fn removal_empties_every_topic_discovery_used() {
        let (topics, d) = robot();
        let r = removal("homeassistant", "r1.lab:2", &topics);
        assert_eq!(r.iter().map(|(t, _)| t).collect::<Vec<_>>(), d.iter().map(|(t, _)| t).collect::<Vec<_>>());
        assert!(r.iter().all(|(_, p)| p.is_empty()));
    }
}
