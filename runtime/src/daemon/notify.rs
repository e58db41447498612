//! systemd's `sd_notify` protocol, without libsystemd: one datagram per message to the
//! socket named by `NOTIFY_SOCKET` (a path, or `@name` for the abstract namespace).
//!
//! The daemon sends `READY=1` once it is serving, `WATCHDOG=1` from its main loop (the
//! dispatcher, see [`super`]) every half `WATCHDOG_USEC`, and `STOPPING=1` on shutdown. The
//! pings come from the loop itself, not a side thread: if the loop is stuck, they stop and
//! systemd restarts the service (`WatchdogSec=` in `packaging/trinity.service`).

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

/// Where and how often to notify; `None` from [`Notifier::from_env`] outside systemd.
#[derive(Debug)]
pub struct Notifier {
    socket: UnixDatagram,
    target: Target,
    watchdog: Option<Duration>,
    last_ping: Option<Instant>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Path(String),
    Abstract(Vec<u8>),
}

/// What the environment says: the socket, and the ping interval if the watchdog is ours.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Env {
    target: Target,
    watchdog: Option<Duration>,
}

/// `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` as systemd sets them. The watchdog
/// counts only if `WATCHDOG_PID` is unset or this process; pings go at half the timeout.
fn parse_env(socket: Option<&str>, usec: Option<&str>, pid: Option<&str>, me: u32) -> Option<Env> {
    let socket = socket.filter(|s| !s.is_empty())?;
    let target = match socket.strip_prefix('@') {
        Some(name) => Target::Abstract(name.as_bytes().to_vec()),
        None if socket.starts_with('/') => Target::Path(socket.to_owned()),
        None => return None,
    };
    let ours = pid.is_none_or(|p| p.trim().parse::<u32>() == Ok(me));
    let watchdog = usec
        .and_then(|u| u.trim().parse::<u64>().ok())
        .filter(|&u| u > 0 && ours)
        .map(|u| Duration::from_micros(u / 2));
    Some(Env { target, watchdog })
}

impl Notifier {
    /// The notifier systemd asked for, if any. Errors (no such socket) are logged once and
    /// the daemon runs on without notifications.
    pub fn from_env() -> Option<Notifier> {
        let var = |k: &str| std::env::var(k).ok();
        let env = parse_env(
            var("NOTIFY_SOCKET").as_deref(),
            var("WATCHDOG_USEC").as_deref(),
            var("WATCHDOG_PID").as_deref(),
            std::process::id(),
        )?;
        match UnixDatagram::unbound() {
            Ok(socket) => Some(Notifier { socket, target: env.target, watchdog: env.watchdog, last_ping: None }),
            Err(e) => {
                tracing::warn!("NOTIFY_SOCKET set but no datagram socket: {e}");
                None
            }
        }
    }

    /// A notifier for the socket bound at `path`, as systemd would set one up with
    /// `WatchdogSec=` of `watchdog` (pings at half of it): for running the daemon in-process.
    pub fn to_socket(path: &std::path::Path, watchdog: Option<Duration>) -> std::io::Result<Notifier> {
        let target = Target::Path(path.to_string_lossy().into_owned());
        Ok(Notifier { socket: UnixDatagram::unbound()?, target, watchdog: watchdog.map(|w| w / 2), last_ping: None })
    }

    /// The watchdog ping interval, if systemd runs one for this process.
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog
    }

    /// Send one message (`READY=1`, `STATUS=…`); failures are logged, never fatal.
    pub fn notify(&self, msg: &str) {
        let sent = match &self.target {
            Target::Path(p) => self.socket.send_to(msg.as_bytes(), p),
            Target::Abstract(name) => {
                use std::os::linux::net::SocketAddrExt;
                std::os::unix::net::SocketAddr::from_abstract_name(name)
                    .and_then(|a| self.socket.send_to_addr(msg.as_bytes(), &a))
            }
        };
        if let Err(e) = sent {
            tracing::warn!("sd_notify {msg:?}: {e}");
        }
    }

    /// Called on every turn of the main loop: `WATCHDOG=1` when half the timeout has passed
    /// since the last one.
    pub fn tick(&mut self, now: Instant) {
        let Some(every) = self.watchdog else { return };
        if self.last_ping.is_none_or(|t| now.duration_since(t) >= every) {
            self.notify("WATCHDOG=1");
            self.last_ping = Some(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_as_systemd_sets_it() {
        let p = |s, u, pid| parse_env(s, u, pid, 42);
        assert_eq!(p(None, Some("1000000"), None), None);
        assert_eq!(p(Some(""), None, None), None);
        assert_eq!(p(Some("relative/sock"), None, None), None, "only absolute paths and @abstract");
        let e = p(Some("/run/systemd/notify"), Some("20000000"), Some("42")).unwrap();
        assert_eq!(e.target, Target::Path("/run/systemd/notify".into()));
        assert_eq!(e.watchdog, Some(Duration::from_secs(10)), "half of WatchdogSec");
        assert_eq!(p(Some("@x"), Some("2000000"), None).unwrap().target, Target::Abstract(b"x".to_vec()));
        assert_eq!(p(Some("/s"), Some("2000000"), Some("7")).unwrap().watchdog, None, "another process's watchdog");
        assert_eq!(p(Some("/s"), Some("0"), None).unwrap().watchdog, None);
        assert_eq!(p(Some("/s"), Some("soon"), None).unwrap().watchdog, None);
        assert_eq!(p(Some("/s"), None, None).unwrap().watchdog, None);
    }

    #[test]
    fn ready_and_paced_watchdog_pings_reach_the_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let rx = UnixDatagram::bind(&path).unwrap();
        rx.set_nonblocking(true).unwrap();
        let mut n = Notifier {
            socket: UnixDatagram::unbound().unwrap(),
            target: Target::Path(path.to_str().unwrap().into()),
            watchdog: Some(Duration::from_millis(100)),
            last_ping: None,
        };
        n.notify("READY=1");
        let t0 = Instant::now();
        for ms in [0, 30, 60, 99, 100, 150, 210] {
            n.tick(t0 + Duration::from_millis(ms));
        }
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        while let Ok(len) = rx.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..len]).into_owned());
        }
        // Pings at 0, 100 and 210 ms: one per interval, however often the loop turns.
        assert_eq!(got, ["READY=1", "WATCHDOG=1", "WATCHDOG=1", "WATCHDOG=1"]);
    }
}
