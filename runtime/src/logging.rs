//! Log set-up for the `trinity` binary: `RUST_LOG` (default [`DEFAULT_FILTER`]) on stderr,
//! with the embedded broker's routine connection events kept out of sight.
//!
//! rumqttd 0.20 logs at ERROR what is routine for a broker: a client that leaves (every
//! `mosquitto_pub` exit), a connection closed before its CONNECT (the daemon's own
//! readiness probe at start), a router slot "already gone" after a disconnect, the router
//! going away when the daemon stops its broker. A new user reads those as failures. They
//! are shown only when the filter asks for debug output (`RUST_LOG=debug`, or
//! `RUST_LOG=info,rumqttd=debug`); rumqttd's other errors always are.

use std::fmt::Write as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Metadata};
use tracing_subscriber::layer::{Context, Filter, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// The filter without `RUST_LOG`: warnings, Trinity's own info lines, llama.cpp's errors.
pub const DEFAULT_FILTER: &str = "warn,trinity_runtime=info,llama.cpp=error";

/// Whether a rumqttd event with this message and these fields is routine connection
/// bookkeeping rather than a fault.
pub fn is_routine_broker_event(message: &str, fields: &str) -> bool {
    let peer_left =
        ["ConnectionAborted", "ConnectionReset", "UnexpectedEof", "closed by peer"].iter().any(|k| fields.contains(k));
    match message {
        "disconnected" | "Error while handling MQTT connect packet" => peer_left,
        // The broker's router has gone: the daemon is shutting its embedded broker down.
        "router-drop" => fields.contains("Recv(Disconnected)"),
        "connection-stop" => true,
        m => m.starts_with("no-connection id ") && m.ends_with(" is already gone"),
    }
}

/// The event's `message` and its other fields as `name=value` text.
#[derive(Default)]
struct Fields {
    message: String,
    rest: String,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.rest, " {}={value:?}", field.name());
        }
    }
}

/// Drops rumqttd's routine events unless `show` (debug output asked for).
struct QuietBroker {
    show: bool,
}

impl<S> Filter<S> for QuietBroker {
    fn enabled(&self, _: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        true
    }

    fn event_enabled(&self, event: &Event<'_>, _: &Context<'_, S>) -> bool {
        if self.show || !event.metadata().target().starts_with("rumqttd") {
            return true;
        }
        let mut f = Fields::default();
        event.record(&mut f);
        !is_routine_broker_event(&f.message, &f.rest)
    }
}

/// Whether a `RUST_LOG` value asks for rumqttd's debug output: a global `debug`/`trace`
/// level, or a `rumqttd…=debug`/`trace` directive (not another crate's debug).
pub fn shows_broker_debug(rust_log: &str) -> bool {
    rust_log.split(',').map(str::trim).any(|d| {
        let (target, level) = d.rsplit_once('=').map_or(("", d), |(t, l)| (t, l));
        let verbose = matches!(level.to_ascii_lowercase().as_str(), "debug" | "trace");
        verbose && (target.is_empty() || target.starts_with("rumqttd"))
    })
}

/// Install the global subscriber (once, at the start of `main`).
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let show = shows_broker_debug(&std::env::var("RUST_LOG").unwrap_or_default());
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_filter(filter);
    let _ = tracing_subscriber::registry().with(layer.with_filter(QuietBroker { show })).try_init();
}

#[cfg(test)]
mod tests {
    use super::is_routine_broker_event as routine;

    #[test]
    fn only_a_debug_level_for_the_broker_shows_its_routine_events() {
        use super::shows_broker_debug as shows;
        assert!(shows("debug") && shows("warn,rumqttd=debug") && shows("rumqttd::server=trace"));
        assert!(!shows("") && !shows("info") && !shows("warn,trinity_runtime=debug") && !shows("rumqttd=info"));
    }

    #[test]
    fn a_client_leaving_is_routine_and_a_real_broker_fault_is_not() {
        // What rumqttd 0.20 writes (fields as `Fields` records them).
        let aborted = r#" error=Network(Io(Custom { kind: ConnectionAborted, error: "connection closed by peer" }))"#;
        assert!(routine("disconnected", aborted));
        assert!(routine("Error while handling MQTT connect packet", aborted));
        assert!(routine("no-connection id 2 is already gone", ""));
        assert!(routine("connection-stop", ""));
        // Faults stay visible.
        assert!(!routine("Error while handling MQTT connect packet", " error=InvalidProtocol"));
        assert!(!routine("disconnected", " error=Network(PayloadSizeLimitExceeded(70000))"));
        assert!(!routine("Unable to accept socket.", aborted));
        assert!(routine("router-drop", " error=Recv(Disconnected)"));
        assert!(!routine("router-drop", " error=Send(Full)"));
    }
}
