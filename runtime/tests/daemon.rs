//! `trinity run` against a real mosquitto broker started by each test on a free port, with
//! the real model and the sim board. Every wait is for an event, with a bound.
#![forbid(unsafe_code)]

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};

use std::time::{Duration, Instant};

use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
use serde_json::{json, Value};

/// Issue 11: hostile peers, restarts and crashes.
#[path = "daemon/hostile.rs"]
mod hostile;

/// Issue 11's fault-injection suite.
#[path = "daemon/faults.rs"]
mod faults;

/// Issue 13: the daemon's contract with a scripted planner (no model).
#[path = "daemon/contract.rs"]
mod contract;

/// Issue 14: skills over the broker.
#[path = "daemon/fleet.rs"]
mod fleet;

const WAIT: Duration = Duration::from_secs(90);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_for_port(port: u16) {
    let t0 = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t0.elapsed() < Duration::from_secs(10), "port {port} never opened");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A mosquitto process with a persistent store, killed on drop.
struct Mosquitto {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Mosquitto {
    fn start() -> Mosquitto {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut m = Mosquitto { child: Command::new("true").spawn().unwrap(), port, dir };
        m.restart();
        m
    }

    fn restart(&mut self) {
        let conf = self.dir.path().join("mosquitto.conf");
        let mut f = std::fs::File::create(&conf).unwrap();
        writeln!(f, "listener {} 127.0.0.1\nallow_anonymous true", self.port).unwrap();
        // Started as root, mosquitto would switch to its own user, which cannot write here.
        writeln!(f, "user root").unwrap();
        writeln!(f, "persistence true\npersistence_location {}/", self.dir.path().display()).unwrap();
        self.child = Command::new("mosquitto")
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto is installed (cargo xtask setup)");
        wait_for_port(self.port);
    }

    /// Stop gracefully (SIGTERM: the persistent store is written) and wait for the exit.
    fn stop(&mut self) {
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn default_model() -> PathBuf {
    trinity_runtime::model_store::fetch_default(|l| eprintln!("fetch: {l}")).expect("run `cargo xtask setup`")
}

/// `trinity run` with a config pointing at `port`.
struct Daemon {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Daemon {
    fn start(port: u16, robot: &str, extra: &str) -> Daemon {
        Daemon::start_with_env(port, robot, extra, &[])
    }

    fn start_with_env(port: u16, robot: &str, extra: &str, env: &[(&str, &str)]) -> Daemon {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        Daemon::spawn(dir, port, robot, extra, env, &state)
    }

    /// A daemon whose state (the e-stop latch) lives in `state`, to be kept across restarts.
    fn start_with_state(port: u16, robot: &str, extra: &str, state: &std::path::Path) -> Daemon {
        Daemon::spawn(tempfile::tempdir().unwrap(), port, robot, extra, &[], state)
    }

    fn spawn(
        dir: tempfile::TempDir,
        port: u16,
        robot: &str,
        extra: &str,
        env: &[(&str, &str)],
        state: &std::path::Path,
    ) -> Daemon {
        let cfg = dir.path().join("trinity.toml");
        std::fs::write(
            &cfg,
            format!(
                "robot_id = \"{robot}\"\n[model]\npath = \"{}\"\n[mqtt]\nhost = \"127.0.0.1\"\nport = {port}\n\
                 [daemon]\ntelemetry_ms = 200\nstate_dir = \"{}\"\n{extra}",
                default_model().display(),
                state.display()
            ),
        )
        .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_trinity"))
            .args(["run", "--config", cfg.to_str().unwrap()])
            .env("RUST_LOG", "warn")
            // Its own cache (the prefixes it keeps on disk); the model path is explicit.
            .env("TRINITY_CACHE_DIR", dir.path().join("cache"))
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        Daemon { child, _dir: dir }
    }

    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A client that sees everything under `trinity/{robot}/`.
struct Observer {
    client: Client,
    rx: Receiver<(String, Vec<u8>)>,
    robot: String,
    /// Everything received, in order, and whether a `wait` already took it.
    history: std::cell::RefCell<Vec<(String, Vec<u8>, bool)>>,
}

impl Observer {
    fn connect(port: u16, robot: &str) -> Observer {
        Observer::connect_to(port, robot, &["#"])
    }

    /// An observer subscribed to these filters under `trinity/{robot}/` only.
    fn connect_to(port: u16, robot: &str, filters: &[&str]) -> Observer {
        let mut o = MqttOptions::new(format!("observer-{robot}"), "127.0.0.1", port);
        o.set_clean_session(false);
        o.set_max_packet_size(2 << 20, 2 << 20);
        let (client, mut conn) = Client::new(o, 64);
        for f in filters {
            client.subscribe(format!("trinity/{robot}/{f}"), QoS::AtLeastOnce).unwrap();
        }
        let (tx, rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for ev in conn.iter() {
                match ev {
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        let _ = ready_tx.send(());
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        if tx.send((p.topic, p.payload.to_vec())).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    // The broker is being restarted by the test: retry at a gentle pace.
                    Err(_) => std::thread::sleep(Duration::from_millis(100)),
                }
            }
        });
        ready_rx.recv_timeout(Duration::from_secs(10)).expect("observer subscribed");
        Observer { client, rx, robot: robot.into(), history: Default::default() }
    }

    fn publish(&self, leaf: &str, payload: impl Into<Vec<u8>>) {
        self.client.publish(format!("trinity/{}/{leaf}", self.robot), QoS::AtLeastOnce, false, payload).unwrap();
    }

    /// Wait for a publish on `leaf` whose payload satisfies `pred`, looking first at what
    /// arrived earlier and was not taken yet.
    fn wait(&self, leaf: &str, mut pred: impl FnMut(&[u8]) -> bool) -> Vec<u8> {
        let topic = format!("trinity/{}/{leaf}", self.robot);
        let t0 = Instant::now();
        let mut next = 0;
        loop {
            {
                let mut h = self.history.borrow_mut();
                while next < h.len() {
                    let (t, p, taken) = &h[next];
                    next += 1;
                    if !*taken && *t == topic && pred(p) {
                        let found = p.clone();
                        // A topic is a stream: what came before the match on it is passed.
                        for (t, _, taken) in h[..next].iter_mut() {
                            if *t == topic {
                                *taken = true;
                            }
                        }
                        return found;
                    }
                }
            }
            let left = WAIT.checked_sub(t0.elapsed()).unwrap_or_default();
            match self.rx.recv_timeout(left) {
                Ok((t, p)) => self.history.borrow_mut().push((t, p, false)),
                Err(_) => {
                    let seen: Vec<String> = self
                        .history
                        .borrow()
                        .iter()
                        .map(|(t, p, _)| format!("{t} {}", String::from_utf8_lossy(&p[..p.len().min(120)])))
                        .filter(|l| !l.contains("/telemetry") && !l.contains("/cmd"))
                        .collect();
                    panic!("nothing on {topic} in {WAIT:?}; seen:\n{}", seen.join("\n"));
                }
            }
        }
    }

    /// Whether any publish on `leaf` arrived that no `wait` took.
    fn untaken(&self, leaf: &str) -> Vec<String> {
        while let Ok((t, p)) = self.rx.try_recv() {
            self.history.borrow_mut().push((t, p, false));
        }
        let topic = format!("trinity/{}/{leaf}", self.robot);
        self.history
            .borrow()
            .iter()
            .filter(|(t, _, taken)| !taken && *t == topic)
            .map(|(_, p, _)| String::from_utf8_lossy(p).into_owned())
            .collect()
    }

    /// Pass over everything on `leaf` received so far: later waits see only what comes next.
    fn skip(&self, leaf: &str) {
        while let Ok((t, p)) = self.rx.try_recv() {
            self.history.borrow_mut().push((t, p, false));
        }
        let topic = format!("trinity/{}/{leaf}", self.robot);
        for (t, _, taken) in self.history.borrow_mut().iter_mut() {
            if *t == topic {
                *taken = true;
            }
        }
    }

    /// Events of `id` until its terminal one.
    fn events(&self, id: &str) -> Vec<Value> {
        let mut seen = vec![];
        loop {
            let p = self.wait(&format!("evt/{id}"), |_| true);
            let ev: Value = serde_json::from_slice(&p).unwrap();
            let terminal = ["succeeded", "failed", "canceled", "rejected"].contains(&ev["state"].as_str().unwrap());
            seen.push(ev);
            if terminal {
                return seen;
            }
        }
    }

    fn wait_online(&self) {
        self.wait("status", |p| p == b"online");
    }
}

/// Wait until telemetry shows the e-stop latch `engaged` (the e-stop has its own connection:
/// a command published after `engage` may reach the daemon first).
fn wait_estop(obs: &Observer, engaged: bool) {
    obs.skip("telemetry");
    obs.wait("telemetry", |p| serde_json::from_slice::<Value>(p).is_ok_and(|t| t["estop"] == engaged));
}

fn states(evs: &[Value]) -> Vec<&str> {
    evs.iter().map(|e| e["state"].as_str().unwrap()).collect()
}

fn cmd(id: &str, text: &str) -> String {
    json!({"id": id, "text": text}).to_string()
}

#[test]
fn command_is_accepted_executed_and_succeeds_on_the_sim() {
    let broker = Mosquitto::start();
    let obs = Observer::connect(broker.port, "r-ok");
    let _d = Daemon::start(broker.port, "r-ok", "");
    obs.wait_online();
    obs.wait("info", |p| serde_json::from_slice::<Value>(p).is_ok_and(|v| v["board"] == "sim"));
    obs.publish("cmd", cmd("c-1", "go forward two meters"));
    let evs = obs.events("c-1");
    assert_eq!(states(&evs), ["accepted", "executing", "succeeded"], "{evs:?}");
    assert_eq!(evs[2]["plan"], json!([{"action": "drive", "distance_m": 2.0}]));
    // The rover is two meters further, by telemetry.
    obs.wait("telemetry", |p| {
        let t: Value = serde_json::from_slice(p).unwrap();
        (t["robot"]["x_m"].as_f64().unwrap() - 2.0).abs() < 0.01
    });
}

#[test]
fn duplicate_ids_run_once_and_bad_payloads_are_refused_while_serving_on() {
    let broker = Mosquitto::start();
    let obs = Observer::connect(broker.port, "r-bad");
    let _d = Daemon::start(broker.port, "r-bad", "");
    obs.wait_online();
    obs.publish("cmd", cmd("dup", "stop"));
    obs.publish("cmd", cmd("dup", "stop"));
    obs.publish("cmd", vec![0xff, 0xfe, 0x00]);
    obs.publish("cmd", vec![b'a'; 1 << 20]);
    obs.publish("cmd", r#"{"id":"types","text":42}"#);
    obs.publish("cmd", r#"{"id":"skill","text":"stop","skill":"juggling"}"#);
    obs.publish("cmd", r#"{"id":"empty","text":"  "}"#);
    obs.publish("cmd", cmd("after", "stop"));
    assert_eq!(states(&obs.events("dup")), ["accepted", "executing", "succeeded"]);
    for id in ["types", "skill", "empty"] {
        let evs = obs.events(id);
        assert_eq!(states(&evs), ["rejected"], "{id}: {evs:?}");
        assert!(evs[0]["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    assert_eq!(states(&obs.events("after")), ["accepted", "executing", "succeeded"]);
    // "after" was published after the duplicate: had "dup" run twice, its second set of
    // events would have come before "after" finished.
    assert_eq!(obs.untaken("evt/dup"), Vec::<String>::new(), "dup ran twice");
}

#[test]
fn expired_deadlines_and_a_full_queue_are_rejected() {
    let broker = Mosquitto::start();
    let obs = Observer::connect(broker.port, "r-q");
    let _d = Daemon::start(broker.port, "r-q", "queue = 1\n");
    obs.wait_online();
    obs.publish("cmd", cmd("long", "wait five seconds"));
    obs.wait("evt/long", |p| p.windows(9).any(|w| w == b"executing"));
    // Queued behind "long" with 1 ms to start: it expires in the queue.
    obs.publish("cmd", json!({"id": "late", "text": "stop", "deadline_ms": 1}).to_string());
    let late = obs.events("late");
    assert_eq!(states(&late), ["accepted", "rejected"], "{late:?}");
    assert!(late[1]["error"].as_str().unwrap().contains("deadline"));
    // "q1" fills the one queue slot while "long" still runs; "full" finds no room.
    obs.publish("cmd", cmd("q1", "stop"));
    obs.publish("cmd", cmd("full", "stop"));
    let full = obs.events("full");
    assert_eq!(states(&full), ["rejected"], "{full:?}");
    assert!(full[0]["error"].as_str().unwrap().contains("queue full"));
    assert_eq!(states(&obs.events("long")), ["succeeded"]);
    assert_eq!(states(&obs.events("q1")), ["accepted", "executing", "succeeded"]);
}

#[test]
fn estop_cancels_makes_outputs_safe_and_release_lets_commands_run_again() {
    let broker = Mosquitto::start();
    let obs = Observer::connect(broker.port, "r-e");
    let _d = Daemon::start(broker.port, "r-e", "");
    obs.wait_online();
    obs.publish("cmd", cmd("go", "go forward two meters"));
    obs.wait("evt/go", |p| p.windows(9).any(|w| w == b"executing"));
    obs.publish("estop", "engage");
    let evs = obs.events("go");
    assert_eq!(states(&evs), ["canceled"], "{evs:?}");
    obs.wait("telemetry", |p| {
        let t: Value = serde_json::from_slice(p).unwrap();
        t["robot"]["wheels_mps"] == json!([0.0, 0.0])
    });
    obs.publish("cmd", cmd("blocked", "stop"));
    assert_eq!(states(&obs.events("blocked")), ["rejected"]);
    obs.publish("estop", "release");
    // The e-stop has its own connection: a command published after it may overtake it.
    wait_estop(&obs, false);
    obs.publish("cmd", cmd("again", "stop"));
    assert_eq!(states(&obs.events("again")), ["accepted", "executing", "succeeded"]);
}

#[test]
fn broker_restart_loses_no_event_and_queued_commands_run_once() {
    let mut broker = Mosquitto::start();
    let obs = Observer::connect(broker.port, "r-b");
    let _d = Daemon::start(broker.port, "r-b", "");
    obs.wait_online();
    obs.publish("cmd", cmd("during", "wait five seconds"));
    obs.wait("evt/during", |p| p.windows(9).any(|w| w == b"executing"));
    broker.stop();
    broker.restart();
    // Published while the daemon is still reconnecting: held in its persistent session.
    let obs2 = Observer::connect(broker.port, "r-b2-publisher");
    obs2.client.publish("trinity/r-b/cmd", QoS::AtLeastOnce, false, cmd("outage", "stop")).unwrap();
    // The terminal event of the command that ran across the restart arrives.
    assert_eq!(states(&obs.events("during")), ["succeeded"]);
    assert_eq!(states(&obs.events("outage")), ["accepted", "executing", "succeeded"]);
    obs.publish("cmd", cmd("after", "stop"));
    assert_eq!(states(&obs.events("after")), ["accepted", "executing", "succeeded"]);
    assert_eq!(obs.untaken("evt/outage"), Vec::<String>::new(), "outage ran twice");
}

#[test]
fn status_is_offline_after_the_daemon_is_killed() {
    let broker = Mosquitto::start();
    let obs = Observer::connect(broker.port, "r-k");
    let mut d = Daemon::start(broker.port, "r-k", "");
    obs.wait_online();
    d.kill9();
    obs.wait("status", |p| p == b"offline");
    // Retained: a client connecting now reads it too.
    let late = Observer::connect(broker.port, "r-k");
    late.wait("status", |p| p == b"offline");
}

#[test]
fn send_follows_its_command_to_succeeded_and_sigterm_leaves_status_offline() {
    let broker = Mosquitto::start();
    let obs = Observer::connect(broker.port, "r-s");
    let mut d = Daemon::start(broker.port, "r-s", "");
    obs.wait_online();
    let out = Command::new(env!("CARGO_BIN_EXE_trinity"))
        .args(["send", "--host", "127.0.0.1", "--port", &broker.port.to_string(), "--robot-id", "r-s", "stop"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let states: Vec<String> = stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["state"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(states, ["accepted", "executing", "succeeded"], "{stdout}");

    // Graceful shutdown: the daemon itself publishes `offline` and exits 0.
    let _ = Command::new("kill").arg(d.child.id().to_string()).status();
    let status = d.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    obs.wait("status", |p| p == b"offline");
}

#[test]
fn on_the_embedded_broker_send_finds_its_port_and_routine_connections_log_no_error() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("trinity.toml");
    std::fs::write(
        &cfg,
        format!(
            "robot_id = \"r-e\"\n[model]\npath = \"{}\"\n[mqtt]\nembedded_listen = \"127.0.0.1:{port}\"\n\
             [daemon]\nstate_dir = \"{}\"\n",
            default_model().display(),
            dir.path().join("state").display()
        ),
    )
    .unwrap();
    // The default log filter (no RUST_LOG): what a new user sees.
    let mut child = Command::new(env!("CARGO_BIN_EXE_trinity"))
        .args(["run", "--config", cfg.to_str().unwrap()])
        .env_remove("RUST_LOG")
        .env("TRINITY_CACHE_DIR", dir.path().join("cache"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    // Killed on drop, should an assertion below fail.
    let mut d = Daemon { child, _dir: dir };
    let log = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    wait_for_port(port);
    let obs = Observer::connect(port, "r-e");
    obs.wait_online();
    // Two clients that come and go, as mosquitto_pub does.
    for i in 0..2u8 {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        // CONNECT, MQTT 3.1.1, clean session, client id `t0`/`t1`; then gone without DISCONNECT.
        let connect = [0x10, 0x0e, 0, 4, b'M', b'Q', b'T', b'T', 4, 2, 0, 10, 0, 2, b't', b'0' + i];
        let _ = std::io::Write::write_all(&mut s, &connect);
        std::thread::sleep(Duration::from_millis(100));
    }
    // No --port, no --host: send reads embedded_listen from the config.
    let out = Command::new(env!("CARGO_BIN_EXE_trinity"))
        .args(["send", "--config", cfg.to_str().unwrap(), "stop"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("succeeded"));
    drop(obs);
    std::thread::sleep(Duration::from_millis(200));
    let _ = Command::new("kill").arg(d.child.id().to_string()).status();
    assert!(d.child.wait().unwrap().success());
    let log = log.join().unwrap();
    assert!(log.contains("embedded MQTT broker"), "{log}");
    assert!(!log.contains("ERROR"), "routine broker events logged as errors:\n{log}");
}

/// Copy a skill folder, renaming the skill.
fn copy_skill(from: &std::path::Path, to: &std::path::Path, name: &str) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
    let toml = std::fs::read_to_string(to.join("skill.toml")).unwrap();
    let toml: String = toml
        .lines()
        .map(|l| if l.starts_with("name =") { format!("name = \"{name}\"\n") } else { format!("{l}\n") })
        .collect();
    std::fs::write(to.join("skill.toml"), toml).unwrap();
}

/// Set a skill folder's `min_confidence`.
fn set_min_confidence(dir: &std::path::Path, value: f32) {
    let toml_path = dir.join("skill.toml");
    let toml = std::fs::read_to_string(&toml_path).unwrap();
    let toml: String = toml.lines().filter(|l| !l.starts_with("min_confidence")).map(|l| format!("{l}\n")).collect();
    std::fs::write(&toml_path, toml.replacen("max_tokens =", &format!("min_confidence = {value:?}\nmax_tokens ="), 1))
        .unwrap();
}

fn info_has(p: &[u8], f: impl Fn(&Value) -> bool) -> bool {
    serde_json::from_slice::<Value>(p).is_ok_and(|v| f(&v))
}

fn skill_names(v: &Value) -> Vec<String> {
    v["skills"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn a_skill_folder_added_to_a_running_daemon_serves_without_a_restart() {
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../skills/rover");
    let skills = tempfile::tempdir().unwrap();
    let broker = Mosquitto::start();
    let obs = Observer::connect(broker.port, "r-sk");
    let extra = format!("\n[skills]\ndir = \"{}\"\npoll_ms = 200\n", skills.path().display());
    let _d = Daemon::start(broker.port, "r-sk", &extra);
    obs.wait_online();
    obs.wait("info", |p| info_has(p, |v| !skill_names(v).contains(&"dock".to_owned())));
    obs.publish("cmd/dock", cmd("before", "back up one meter"));
    assert_eq!(states(&obs.events("before")), ["rejected"]);

    // A broken folder (adapter cut short) is reported and served by nobody.
    copy_skill(&shipped, &skills.path().join("broken"), "broken");
    let adapter = skills.path().join("broken/rover.gguf");
    let bytes = std::fs::read(&adapter).unwrap();
    std::fs::write(&adapter, &bytes[..bytes.len() / 2]).unwrap();
    let info = obs.wait("info", |p| info_has(p, |v| v["skill_errors"].to_string().contains("truncated")));
    assert!(!skill_names(&serde_json::from_slice(&info).unwrap()).contains(&"broken".to_owned()));

    // Installed the recommended way: copied under a hidden name, then renamed.
    copy_skill(&shipped, &skills.path().join(".dock.tmp"), "dock");
    // What is tested is the loading, not the model's confidence in one command.
    set_min_confidence(&skills.path().join(".dock.tmp"), 0.0);
    std::fs::rename(skills.path().join(".dock.tmp"), skills.path().join("dock")).unwrap();
    // Served, its prefix already evaluated (with its adapter) ahead of its first command,
    // and `info` says how much KV memory that cached prefix takes.
    let info = obs.wait("info", |p| {
        info_has(p, |v| {
            skill_names(v).contains(&"dock".to_owned())
                && v["prefix_cache"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["skill"] == "dock" && e["kv_bytes"].as_u64() > Some(0))
        })
    });
    let info: Value = serde_json::from_slice(&info).unwrap();
    let dock = info["skills"].as_array().unwrap().iter().find(|s| s["name"] == "dock").unwrap().clone();
    assert_eq!(dock["adapters"][0]["file"], "rover.gguf", "{dock}");
    obs.publish("cmd/dock", cmd("after", "back up one meter"));
    let evs = obs.events("after");
    assert_eq!(states(&evs), ["accepted", "executing", "succeeded"], "{evs:?}");
    assert_eq!(evs[2]["plan"], json!([{"action": "drive", "distance_m": -1.0}]));

    // Changed: the new version replaces the old one.
    let toml_path = skills.path().join("dock/skill.toml");
    let toml = std::fs::read_to_string(&toml_path).unwrap();
    std::fs::write(&toml_path, toml.replace("description = \"", "description = \"v2: ")).unwrap();
    obs.wait("info", |p| {
        info_has(p, |v| {
            v["skills"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["name"] == "dock" && s["description"].as_str().unwrap().starts_with("v2: "))
        })
    });
    obs.publish("cmd/dock", cmd("changed", "back up one meter"));
    assert_eq!(states(&obs.events("changed")), ["accepted", "executing", "succeeded"]);

    // Removed: no longer served.
    std::fs::remove_dir_all(skills.path().join("dock")).unwrap();
    obs.wait("info", |p| info_has(p, |v| !skill_names(v).contains(&"dock".to_owned())));
    obs.publish("cmd/dock", cmd("gone", "stop"));
    assert_eq!(states(&obs.events("gone")), ["rejected"]);
}

/// `trinity` with `args`; its stdout, after asserting it succeeded (or failed, `ok = false`,
/// with a clean exit 1).
fn trinity_cli(args: &[&str], ok: bool) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trinity")).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if ok {
        assert!(out.status.success(), "trinity {args:?}: {stderr}");
    } else {
        assert_eq!(out.status.code(), Some(1), "trinity {args:?} should fail cleanly: {stderr}");
    }
    String::from_utf8_lossy(&out.stdout).into_owned() + &stderr
}

fn served_version(v: &Value, name: &str) -> Option<String> {
    v["skills"].as_array()?.iter().find(|s| s["name"] == name)?["version"].as_str().map(str::to_owned)
}

/// Issue 14: a skill packed, signed and installed as a bundle while the daemon runs serves
/// without a restart; `info` names its version; a bundle signed by an untrusted key changes
/// nothing; a rollback serves the previous version again.
#[test]
fn a_signed_bundle_installed_while_the_daemon_runs_serves_and_rolls_back_without_a_restart() {
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../skills/rover");
    let work = tempfile::tempdir().unwrap();
    let skills = work.path().join("skills");
    std::fs::create_dir(&skills).unwrap();
    let model = default_model();
    let m = model.to_str().unwrap();
    let p = |name: &str| work.path().join(name).to_str().unwrap().to_owned();
    trinity_cli(&["skill", "keygen", &p("fleet")], true);
    trinity_cli(&["skill", "keygen", &p("stranger")], true);
    for (version, description) in [("1.0.0", "dock v1"), ("1.1.0", "dock v2")] {
        let src = work.path().join(format!("src-{version}"));
        copy_skill(&shipped, &src, "dock");
        set_min_confidence(&src, 0.0);
        let toml = std::fs::read_to_string(src.join("skill.toml")).unwrap();
        let toml: String = toml
            .lines()
            .map(|l| {
                if l.starts_with("description =") {
                    format!("description = \"{description}\"\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        std::fs::write(src.join("skill.toml"), toml).unwrap();
        let out = p(&format!("dock-{version}.tskill"));
        trinity_cli(&["skill", "pack", src.to_str().unwrap(), "--version", version, "-o", &out, "--model", m], true);
        trinity_cli(&["skill", "sign", &out, "--key", &p("fleet.key")], true);
    }
    // The same bytes signed by a key the robot does not trust.
    std::fs::copy(p("dock-1.1.0.tskill"), p("stranger.tskill")).unwrap();
    trinity_cli(&["skill", "sign", &p("stranger.tskill"), "--key", &p("stranger.key")], true);

    let install = |bundle: &str, ok: bool| {
        trinity_cli(
            &[
                "skill",
                "install",
                &p(bundle),
                "--trusted",
                &p("fleet.pub"),
                "--skills",
                skills.to_str().unwrap(),
                "--model",
                m,
            ],
            ok,
        )
    };
    let verified =
        trinity_cli(&["skill", "verify", &p("dock-1.0.0.tskill"), "--trusted", &p("fleet.pub"), "--model", m], true);
    assert!(verified.contains("\"ok\":true"), "{verified}");

    let broker = Mosquitto::start();
    let obs = Observer::connect(broker.port, "r-bundle");
    let extra = format!("\n[skills]\ndir = \"{}\"\npoll_ms = 200\n", skills.display());
    let _d = Daemon::start(broker.port, "r-bundle", &extra);
    obs.wait_online();

    install("dock-1.0.0.tskill", true);
    obs.wait("info", |p| info_has(p, |v| served_version(v, "dock").as_deref() == Some("1.0.0")));
    obs.publish("cmd/dock", cmd("v1", "back up one meter"));
    assert_eq!(states(&obs.events("v1")), ["accepted", "executing", "succeeded"]);

    let refused = install("stranger.tskill", false);
    assert!(refused.contains("not among the trusted keys"), "{refused}");

    install("dock-1.1.0.tskill", true);
    let info = obs.wait("info", |p| info_has(p, |v| served_version(v, "dock").as_deref() == Some("1.1.0")));
    let info: Value = serde_json::from_slice(&info).unwrap();
    let dock = info["skills"].as_array().unwrap().iter().find(|s| s["name"] == "dock").unwrap().clone();
    assert_eq!(dock["description"], "dock v2", "the version info names is the one loaded: {dock}");
    obs.publish("cmd/dock", cmd("v2", "back up one meter"));
    assert_eq!(states(&obs.events("v2")), ["accepted", "executing", "succeeded"]);

    let back = trinity_cli(&["skill", "rollback", "dock", "--skills", skills.to_str().unwrap()], true);
    assert!(back.contains("\"to\":\"1.0.0\""), "{back}");
    let info = obs.wait("info", |p| info_has(p, |v| served_version(v, "dock").as_deref() == Some("1.0.0")));
    let info: Value = serde_json::from_slice(&info).unwrap();
    let dock = info["skills"].as_array().unwrap().iter().find(|s| s["name"] == "dock").unwrap().clone();
    assert_eq!(dock["description"], "dock v1", "{dock}");
}

/// What a systemd notify socket receives, with arrival times.
fn notifications(sock: &UnixDatagram, until: Instant) -> Vec<(Instant, String)> {
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    while let Some(left) = until.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()) {
        sock.set_read_timeout(Some(left)).unwrap();
        match sock.recv(&mut buf) {
            Ok(n) => got.push((Instant::now(), String::from_utf8_lossy(&buf[..n]).into_owned())),
            Err(_) => break,
        }
    }
    got
}

/// A daemon started as systemd starts it: `NOTIFY_SOCKET` names a socket bound here.
fn under_systemd(port: u16, robot: &str, env: &[(&str, &str)]) -> (Daemon, UnixDatagram, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&path).unwrap();
    let mut env = env.to_vec();
    env.push(("NOTIFY_SOCKET", path.to_str().unwrap()));
    (Daemon::start_with_env(port, robot, "", &env), sock, dir)
}

#[test]
fn without_a_watchdog_only_ready_and_stopping_are_sent() {
    let broker = Mosquitto::start();
    // WATCHDOG_PID names another process: that watchdog is not ours to feed.
    let (mut d, sock, _dir) = under_systemd(broker.port, "r-m", &[("WATCHDOG_USEC", "400000"), ("WATCHDOG_PID", "1")]);
    sock.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = [0u8; 512];
    let n = sock.recv(&mut buf).expect("READY=1");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("READY=1"));
    let quiet = notifications(&sock, Instant::now() + Duration::from_millis(1000));
    assert!(quiet.is_empty(), "{quiet:?}");
    let _ = Command::new("kill").arg(d.child.id().to_string()).status();
    sock.set_read_timeout(Some(WAIT)).unwrap();
    let n = sock.recv(&mut buf).expect("STOPPING=1 on SIGTERM");
    assert_eq!(&buf[..n], b"STOPPING=1");
    assert!(d.child.wait().unwrap().success());
}

/// Issue 12: a command the skill cannot do ends `rejected`, and nothing moves; a plan below
/// the skill's confidence threshold ends `rejected` with its candidate and confidence, and
/// the candidate sent back as `plan` runs.
#[test]
fn what_a_skill_cannot_do_is_refused_and_an_unsure_plan_waits_for_confirmation() {
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../skills/rover");
    let skills = tempfile::tempdir().unwrap();
    copy_skill(&shipped, &skills.path().join("rover"), "rover");
    copy_skill(&shipped.join("../arm"), &skills.path().join("arm"), "arm");
    // Every plan is less sure than 1.0: this copy asks for confirmation of each.
    copy_skill(&shipped, &skills.path().join("picky"), "picky");
    set_min_confidence(&skills.path().join("picky"), 1.0);

    let broker = Mosquitto::start();
    let obs = Observer::connect(broker.port, "r-unsure");
    let extra = format!("\n[skills]\ndir = \"{}\"\n", skills.path().display());
    let _d = Daemon::start(broker.port, "r-unsure", &extra);
    obs.wait_online();
    obs.wait("info", |p| info_has(p, |v| skill_names(v).contains(&"picky".to_owned())));

    obs.publish("cmd/rover", cmd("sandwich", "make me a sandwich"));
    let evs = obs.events("sandwich");
    assert_eq!(states(&evs), ["accepted", "executing", "rejected"], "{evs:?}");
    assert!(evs[2]["error"].as_str().unwrap().contains("cannot do this"), "{evs:?}");
    assert!(evs[2].get("candidate").is_none(), "{evs:?}");

    // A distance to the arm, which has no action that moves by one: refused before the model.
    obs.wait("info", |p| info_has(p, |v| skill_names(v).contains(&"arm".to_owned())));
    obs.publish("cmd/arm", cmd("centimetres", "Raise the gripper 5 cm."));
    let evs = obs.events("centimetres");
    assert_eq!(states(&evs), ["accepted", "executing", "rejected"], "{evs:?}");
    assert!(evs[2]["error"].as_str().unwrap().contains("moves by a distance (0.05 m asked)"), "{evs:?}");

    obs.publish("cmd/picky", cmd("unsure", "back up 0.7 m"));
    let evs = obs.events("unsure");
    assert_eq!(states(&evs), ["accepted", "executing", "rejected"], "{evs:?}");
    let refused = &evs[2];
    let confidence = refused["confidence"].as_f64().unwrap();
    assert!((0.0..1.0).contains(&confidence), "{refused}");
    let candidate = &refused["candidate"];
    assert_eq!(candidate[0]["action"], "drive", "{refused}");
    assert!((candidate[0]["distance_m"].as_f64().unwrap() + 0.7).abs() < 1e-4, "{refused}");
    assert_eq!(candidate.as_array().unwrap().len(), 1, "{refused}");
    // Nothing moved so far.
    obs.skip("telemetry");
    obs.wait("telemetry", |p| {
        serde_json::from_slice::<Value>(p).is_ok_and(|t| t["robot"]["motions"] == 0 && t["robot"]["x_m"] == 0.0)
    });

    // Confirmed: the candidate as a typed plan skips the model and runs.
    obs.publish("cmd/picky", json!({"id": "confirmed", "plan": refused["candidate"]}).to_string());
    let evs = obs.events("confirmed");
    assert_eq!(states(&evs), ["accepted", "executing", "succeeded"], "{evs:?}");
    obs.wait("telemetry", |p| {
        serde_json::from_slice::<Value>(p).is_ok_and(|t| (t["robot"]["x_m"].as_f64().unwrap() + 0.7).abs() < 0.01)
    });
}

/// Everything published under `filter`, as (topic, payload, retained).
fn watch(port: u16, filter: &str) -> (Client, Receiver<(String, Vec<u8>, bool)>) {
    let unique = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let mut o = MqttOptions::new(format!("watch-{unique}"), "127.0.0.1", port);
    o.set_max_packet_size(1 << 20, 1 << 20);
    let (client, mut conn) = Client::new(o, 64);
    client.subscribe(filter, QoS::AtLeastOnce).unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for ev in conn.iter() {
            match ev {
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    if tx.send((p.topic, p.payload.to_vec(), p.retain)).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    });
    (client, rx)
}

/// Wait until `want` distinct topics have been seen with a payload `pred` accepts; their
/// latest payloads by topic.
fn collect(
    rx: &Receiver<(String, Vec<u8>, bool)>,
    want: usize,
    pred: impl Fn(&[u8]) -> bool,
) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut seen = std::collections::BTreeMap::new();
    let t0 = Instant::now();
    while seen.len() < want {
        let left = WAIT.checked_sub(t0.elapsed()).unwrap_or_else(|| panic!("saw only {:?}", seen.keys()));
        let (t, p, _) = rx.recv_timeout(left).unwrap_or_else(|_| panic!("saw only {:?}", seen.keys()));
        if pred(&p) {
            seen.insert(t, p);
        }
    }
    seen
}

#[test]
fn home_assistant_discovery_shows_the_robot_its_buttons_and_text_work_and_turning_it_off_removes_it() {
    let broker = Mosquitto::start();
    let state = tempfile::tempdir().unwrap();
    let obs = Observer::connect(broker.port, "r-ha");
    let (_w, ha) = watch(broker.port, "ha-test/#");
    let on = "\n[homeassistant]\ndiscovery = true\nprefix = \"ha-test\"\n";
    let mut d = Daemon::start_with_state(broker.port, "r-ha", on, state.path());
    obs.wait_online();
    let configs = collect(&ha, 9, |p| !p.is_empty());
    let config = |object: &str| -> Value {
        let (_, p) = configs.iter().find(|(t, _)| t.ends_with(&format!("/{object}/config"))).unwrap();
        serde_json::from_slice(p).unwrap()
    };
    assert!(configs.keys().all(|t| t.starts_with("ha-test/") && t.contains("/trinity_r-ha/")), "{:?}", configs.keys());

    // The e-stop buttons publish what they say, where they say, and the robot obeys.
    let press = |object: &str| {
        let c = config(object);
        let topic = c["command_topic"].as_str().unwrap().to_owned();
        obs.client.publish(topic, QoS::AtLeastOnce, false, c["payload_press"].as_str().unwrap().as_bytes()).unwrap();
    };
    press("estop_engage");
    wait_estop(&obs, true);
    press("estop_release");
    wait_estop(&obs, false);

    // The text entity's topic takes a plain-text command; telemetry's `last` then feeds the
    // last-outcome sensor.
    let text_topic = config("command")["command_topic"].as_str().unwrap().to_owned();
    obs.client.publish(text_topic, QoS::AtLeastOnce, false, "stop".as_bytes()).unwrap();
    obs.wait("telemetry", |p| serde_json::from_slice::<Value>(p).is_ok_and(|t| t["last"]["state"] == "succeeded"));
    assert_eq!(config("last_outcome")["state_topic"], "trinity/r-ha/telemetry");

    // Turned off: the next start removes every entity (empty retained payloads), once.
    let _ = Command::new("kill").arg(d.child.id().to_string()).status();
    assert!(d.child.wait().unwrap().success());
    let _d2 = Daemon::start_with_state(broker.port, "r-ha", "", state.path());
    let removed = collect(&ha, 9, <[u8]>::is_empty);
    assert_eq!(removed.keys().collect::<Vec<_>>(), configs.keys().collect::<Vec<_>>());
    let (_w2, late) = watch(broker.port, "ha-test/#");
    assert!(late.recv_timeout(Duration::from_secs(2)).is_err(), "nothing retained is left");
}
