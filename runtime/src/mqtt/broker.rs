//! The in-process broker (rumqttd): the embedded default when no broker is configured, so
//! `trinity run` alone is a robot you can `mosquitto_pub` to on 127.0.0.1:1883.

use std::net::SocketAddr;

/// Why the embedded broker could not start.
#[derive(Debug, thiserror::Error)]
#[error("embedded MQTT broker on {addr}: {detail}")]
pub struct BrokerError {
    addr: SocketAddr,
    detail: String,
}

/// Start rumqttd on `addr` (MQTT 3.1.1, no TLS) on its own thread. Returns once the port
/// accepts connections, or with the reason it does not.
pub fn start(addr: SocketAddr) -> Result<(), BrokerError> {
    let err = |detail: String| BrokerError { addr, detail };
    // Binding first gives a clear error (port in use) instead of a failure on rumqttd's thread.
    std::net::TcpListener::bind(addr).map_err(|e| err(e.to_string()))?;
    let config = format!(
        r#"
id = 0
[router]
id = 0
max_connections = 256
max_outgoing_packet_count = 200
max_segment_size = 10485760
max_segment_count = 10

[v4.1]
name = "trinity-embedded"
listen = "{addr}"
next_connection_delay_ms = 1
[v4.1.connections]
connection_timeout_ms = 60000
max_payload_size = 1048576
max_inflight_count = 100
dynamic_filters = true
"#
    );
    let config: rumqttd::Config = toml::from_str(&config).map_err(|e| err(e.to_string()))?;
    std::thread::Builder::new()
        .name("mqtt-broker".into())
        .spawn(move || {
            let mut broker = rumqttd::Broker::new(config);
            if let Err(e) = broker.start() {
                tracing::error!("embedded MQTT broker stopped: {e}");
            }
        })
        .map_err(|e| err(e.to_string()))?;
    for _ in 0..200 {
        if std::net::TcpStream::connect(addr).is_ok() {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    Err(err("did not accept connections within 2 s".into()))
}
