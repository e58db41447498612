//! Issue 14: a robot learns a skill from the broker. Signed bundles published with
//! `trinity skill publish` are downloaded in chunks, checked, installed and served without a
//! restart; what is not trusted, not meant for the robot or damaged in transit changes
//! nothing; rollback and remove work by request.

use super::*;

struct Bundles {
    work: tempfile::TempDir,
}

impl Bundles {
    fn p(&self, name: &str) -> String {
        self.work.path().join(name).to_str().unwrap().to_owned()
    }

    /// `dock` (the rover skill renamed) at `version`, packed and signed by `key`.
    fn make(&self, version: &str, key: &str) -> String {
        self.make_with(version, key, &[])
    }

    /// A robot's `[skills]` and `[fleet]` config: skills in `skills`, this set's `fleet.pub`
    /// trusted, `dock` wanted, and `more` `[fleet]` lines.
    fn robot_config(&self, skills: &std::path::Path, more: &str) -> String {
        format!(
            "\n[skills]\ndir = \"{}\"\npoll_ms = 0\n[fleet]\nkeys = \"{}\"\nskills = [\"dock\"]\n{more}",
            skills.display(),
            self.p("fleet.pub")
        )
    }

    /// As [`Bundles::make`], with more `skill pack` arguments.
    fn make_with(&self, version: &str, key: &str, pack_args: &[&str]) -> String {
        let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../skills/rover");
        let src = self.work.path().join(format!("src-{version}-{key}"));
        copy_skill(&shipped, &src, "dock");
        set_min_confidence(&src, 0.0);
        let out = self.p(&format!("dock-{version}-{key}.tskill"));
        let m = default_model();
        let mut args = vec![
            "skill",
            "pack",
            src.to_str().unwrap(),
            "--version",
            version,
            "-o",
            &out,
            "--model",
            m.to_str().unwrap(),
        ];
        args.extend(pack_args);
        trinity_cli(&args, true);
        trinity_cli(&["skill", "sign", &out, "--key", &self.p(&format!("{key}.key"))], true);
        out
    }
}

fn publish(port: u16, bundle: &str, to: Option<&str>) -> Value {
    let port = port.to_string();
    let mut args = vec!["skill", "publish", bundle, "--host", "127.0.0.1", "--port", &port];
    if let Some(t) = to {
        args.extend(["--to", t]);
    }
    serde_json::from_str(trinity_cli(&args, true).lines().next().unwrap()).unwrap()
}

/// The next `skills/evt` event that is not a progress report.
fn outcome(obs: &Observer) -> Value {
    let p = obs.wait("skills/evt", |p| !String::from_utf8_lossy(p).contains("\"downloading\""));
    serde_json::from_slice(&p).unwrap()
}

#[test]
fn a_published_skill_is_downloaded_checked_installed_and_served_and_what_is_bad_changes_nothing() {
    let b = Bundles { work: tempfile::tempdir().unwrap() };
    trinity_cli(&["skill", "keygen", &b.p("fleet")], true);
    trinity_cli(&["skill", "keygen", &b.p("stranger")], true);
    let (v1, v2, v3) = (b.make("1.0.0", "fleet"), b.make("1.1.0", "fleet"), b.make("1.2.0", "fleet"));
    let foreign = b.make("2.0.0", "stranger");
    let skills = b.work.path().join("skills");
    std::fs::create_dir(&skills).unwrap();

    let broker = Mosquitto::start();
    let obs = Observer::connect(broker.port, "r-fleet");
    // A retained request acts never (it would act again at every reconnect): were it taken,
    // the first event below would be its failure ("not installed").
    obs.client.publish("trinity/r-fleet/skills/remove", QoS::AtLeastOnce, true, r#"{"name": "dock"}"#).unwrap();
    let extra = b.robot_config(&skills, "labels = [\"lab\"]\n");
    let _d = Daemon::start(broker.port, "r-fleet", &extra);
    obs.wait_online();

    // Signed by a key the robot does not trust: refused from the announcement alone.
    publish(broker.port, &foreign, None);
    let ev = outcome(&obs);
    assert_eq!(ev["event"], "failed", "{ev}");
    assert!(ev["reason"].as_str().unwrap().contains("not among the trusted keys"), "{ev}");

    // A good one: downloaded with progress, installed, served by the next command.
    let t0 = Instant::now();
    let summary = publish(broker.port, &v1, None);
    assert!(summary["chunks"].as_u64().unwrap() > 100, "a 7.6 MB skill in 32 KiB chunks: {summary}");
    let ev = outcome(&obs);
    assert_eq!((ev["event"].as_str(), ev["version"].as_str()), (Some("installed"), Some("1.0.0")), "{ev}");
    assert_eq!(ev["sha256"], summary["sha256"]);
    obs.wait("info", |p| info_has(p, |v| served_version(v, "dock").as_deref() == Some("1.0.0")));
    obs.publish("cmd/dock", cmd("v1", "back up one meter"));
    assert_eq!(states(&obs.events("v1")), ["accepted", "executing", "succeeded"]);
    eprintln!("publish -> first command served with 1.0.0: {:?}", t0.elapsed());

    // For another robot: nothing happens here until asked for.
    publish(broker.port, &v2, Some("someone-else,label=canary"));
    std::thread::sleep(Duration::from_secs(2));
    assert!(obs.untaken("skills/evt").is_empty(), "{:?}", obs.untaken("skills/evt"));
    obs.publish("skills/install", r#"{"name": "dock", "version": "9.9.9"}"#);
    let ev = outcome(&obs);
    assert!(ev["reason"].as_str().unwrap().contains("not announced"), "{ev}");
    obs.publish("skills/install", r#"{"name": "dock"}"#);
    let ev = outcome(&obs);
    assert_eq!((ev["event"].as_str(), ev["version"].as_str()), (Some("installed"), Some("1.1.0")), "{ev}");
    assert_eq!(ev["previous"], "1.0.0");
    obs.wait("info", |p| info_has(p, |v| served_version(v, "dock").as_deref() == Some("1.1.0")));

    // A chunk replaced in transit (at the broker): refused, the served version untouched.
    let s3 = publish(broker.port, &v3, Some("label=nobody"));
    let (raw, _rx) = watch(broker.port, "trinity/none");
    let chunk = format!("trinity/fleet/blobs/{}/3", s3["sha256"].as_str().unwrap());
    raw.publish(chunk, QoS::AtLeastOnce, true, vec![7u8; 32 << 10]).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    obs.publish("skills/install", r#"{"name": "dock", "version": "1.2.0"}"#);
    let ev = outcome(&obs);
    assert_eq!(ev["event"], "failed", "{ev}");
    assert!(ev["reason"].as_str().unwrap().contains("chunk 3"), "{ev}");
    obs.publish("cmd/dock", cmd("still", "back up one meter"));
    assert_eq!(states(&obs.events("still")), ["accepted", "executing", "succeeded"]);
    let versions = std::fs::read_dir(skills.join(".versions/dock")).unwrap().flatten().count();
    assert!(versions <= 3, "two versions and the rollback marker at most: {versions}");

    // A genuine signed manifest (1.2.0) pointing at the bytes of another genuine bundle
    // (1.0.0): only the manifest is signed, so the bytes must carry that very manifest.
    use trinity_runtime::fleet::{Announcement, CHUNK_BYTES};
    let signed = trinity_runtime::skills::bundle::Bundle::open(std::path::Path::new(&v3)).unwrap();
    let other_bytes = std::fs::read(&v1).unwrap();
    let other = trinity_runtime::skills::bundle::Bundle::open(std::path::Path::new(&v1)).unwrap();
    let mut forged = Announcement::of(&other_bytes, &other, CHUNK_BYTES, None).unwrap();
    forged.version = signed.manifest.version.clone();
    forged.manifest = String::from_utf8(signed.manifest_bytes.clone()).unwrap();
    forged.signature = signed.signature.clone().unwrap();
    for (i, c) in other_bytes.chunks(CHUNK_BYTES as usize).enumerate() {
        let t = trinity_runtime::fleet::chunk_topic(&forged.bundle.sha256, i);
        raw.publish(t, QoS::AtLeastOnce, true, c.to_vec()).unwrap();
    }
    let t = trinity_runtime::fleet::announcement_topic("dock");
    raw.publish(t, QoS::AtLeastOnce, true, serde_json::to_vec(&forged).unwrap()).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    obs.publish("skills/install", r#"{"name": "dock", "version": "1.2.0"}"#);
    let ev = outcome(&obs);
    assert_eq!(ev["event"], "failed", "{ev}");
    assert!(ev["reason"].as_str().unwrap().contains("not the announced one"), "{ev}");
    let served = trinity_runtime::skills::bundle::current_version(&skills, "dock");
    assert_eq!(served.as_deref(), Some("1.1.0"), "the served version is untouched");

    // Rollback and remove, by request.
    obs.publish("skills/rollback", r#"{"name": "dock"}"#);
    let ev = outcome(&obs);
    assert_eq!((ev["event"].as_str(), ev["to"].as_str()), (Some("rolled_back"), Some("1.0.0")), "{ev}");
    obs.wait("info", |p| info_has(p, |v| served_version(v, "dock").as_deref() == Some("1.0.0")));
    obs.publish("skills/remove", r#"{"name": "dock"}"#);
    let ev = outcome(&obs);
    assert_eq!(ev["event"], "removed", "{ev}");
    obs.wait("info", |p| info_has(p, |v| !skill_names(v).contains(&"dock".to_owned())));
    assert!(!skills.join("dock").exists());

    // The operator's view: the robot, online, and each skill's last event.
    let port = broker.port.to_string();
    let out = trinity_cli(&["fleet", "status", "--host", "127.0.0.1", "--port", &port], true);
    let robots: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    let me = robots.as_array().unwrap().iter().find(|r| r["robot_id"] == "r-fleet").unwrap().clone();
    assert_eq!((me["online"].as_bool(), me["board"].as_str()), (Some(true), Some("sim")), "{me}");
    assert_eq!(me["last_skill_events"]["dock"]["event"], "removed", "{me}");
}

/// Issue 14: a broker restart in the middle of a transfer. The bundle's chunks are published
/// by hand with one held back, so the robot is certainly mid-transfer when the broker goes
/// away. Before the restart every chunk it holds is cleared at the broker, so it can finish
/// only with what it kept on disk (resumed, not downloaded again); after the restart it asks
/// for what it lacks at once (not after its stall timer), the held chunk arrives, and the
/// skill installs.
#[test]
fn a_transfer_cut_by_a_broker_restart_resumes_and_installs() {
    use trinity_runtime::fleet::{announcement_topic, chunk_topic, Announcement, CHUNK_BYTES};
    let b = Bundles { work: tempfile::tempdir().unwrap() };
    trinity_cli(&["skill", "keygen", &b.p("fleet")], true);
    let v1 = b.make("1.0.0", "fleet");
    let skills = b.work.path().join("skills");
    std::fs::create_dir(&skills).unwrap();

    let mut broker = Mosquitto::start();
    let obs = Observer::connect(broker.port, "r-cut");
    let extra = b.robot_config(&skills, "");
    let state = b.work.path().join("state");
    let _d = Daemon::start_with_state(broker.port, "r-cut", &extra, &state);
    obs.wait_online();

    let bytes = std::fs::read(&v1).unwrap();
    let bundle = trinity_runtime::skills::bundle::Bundle::open(std::path::Path::new(&v1)).unwrap();
    let ann = Announcement::of(&bytes, &bundle, CHUNK_BYTES, None).unwrap();
    let chunks: Vec<&[u8]> = bytes.chunks(CHUNK_BYTES as usize).collect();
    let held = chunks.len() / 2;
    let (raw, _rx) = watch(broker.port, "trinity/none");
    for (i, c) in chunks.iter().enumerate().filter(|(i, _)| *i != held) {
        raw.publish(chunk_topic(&ann.bundle.sha256, i), QoS::AtLeastOnce, true, c.to_vec()).unwrap();
    }
    raw.publish(announcement_topic("dock"), QoS::AtLeastOnce, true, serde_json::to_vec(&ann).unwrap()).unwrap();

    // Mid-transfer by construction: every chunk but the held one kept on disk.
    let kept = state.join("fleet").join(&ann.bundle.sha256);
    let on_disk = || {
        std::fs::read_dir(&kept).map_or(0, |d| {
            d.flatten().filter(|e| e.file_name().to_str().is_some_and(|n| n.parse::<usize>().is_ok())).count()
        })
    };
    let t0 = Instant::now();
    while on_disk() < chunks.len() - 1 {
        assert!(t0.elapsed() < WAIT, "{} of {} chunks on disk", on_disk(), chunks.len() - 1);
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!kept.join(held.to_string()).exists());
    let early: Vec<String> = obs.untaken("skills/evt").into_iter().filter(|e| !e.contains("\"downloading\"")).collect();
    assert!(early.is_empty(), "{early:?}");
    // What the robot holds is gone from the broker: it must resume from its disk.
    for i in (0..chunks.len()).filter(|i| *i != held) {
        raw.publish(chunk_topic(&ann.bundle.sha256, i), QoS::AtLeastOnce, true, Vec::new()).unwrap();
    }
    std::thread::sleep(Duration::from_millis(500));

    broker.stop();
    broker.restart();
    let restarted = Instant::now();
    let (raw, _rx) = watch(broker.port, "trinity/none");
    raw.publish(chunk_topic(&ann.bundle.sha256, held), QoS::AtLeastOnce, true, chunks[held].to_vec()).unwrap();

    // Every chunk in (the event before the install's checks), asked for again on reconnect:
    // well before the 15 s stall timer would have asked.
    obs.wait("skills/evt", |p| {
        let v: Value = serde_json::from_slice(p).unwrap_or_default();
        v["event"] == "downloading" && v["bytes"] == v["total"]
    });
    assert!(restarted.elapsed() < Duration::from_secs(10), "{:?}", restarted.elapsed());
    let ev = outcome(&obs);
    assert_eq!((ev["event"].as_str(), ev["version"].as_str()), (Some("installed"), Some("1.0.0")), "{ev}");
    assert_eq!(ev["sha256"], ann.bundle.sha256.as_str());
    obs.wait("info", |p| info_has(p, |v| served_version(v, "dock").as_deref() == Some("1.0.0")));
    obs.publish("cmd/dock", cmd("cut", "back up one meter"));
    assert_eq!(states(&obs.events("cut")), ["accepted", "executing", "succeeded"]);
}

/// The retained topics under `trinity/fleet/` on a broker, read for two seconds.
fn retained_fleet_topics(port: u16) -> Vec<String> {
    let out = Command::new("mosquitto_sub")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-t", "trinity/fleet/#"])
        .args(["-F", "%t", "-W", "2", "--retained-only"])
        .output()
        .expect("mosquitto_sub is installed (cargo xtask setup)");
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()
}

/// Issue 14, item 6: for a cluster whose retained messages stay on one node (RabbitMQ),
/// `skill publish --node` leaves the announcement and every chunk retained on each node
/// named, and says which nodes it published to.
#[test]
fn publish_with_node_leaves_the_whole_bundle_on_every_node() {
    let b = Bundles { work: tempfile::tempdir().unwrap() };
    trinity_cli(&["skill", "keygen", &b.p("fleet")], true);
    let v1 = b.make("1.0.0", "fleet");
    let (one, two) = (Mosquitto::start(), Mosquitto::start());
    let (p1, p2) = (one.port.to_string(), format!("127.0.0.1:{}", two.port));
    let out = trinity_cli(&["skill", "publish", &v1, "--host", "127.0.0.1", "--port", &p1, "--node", &p2], true);
    let summary: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(summary["brokers"].as_array().unwrap().len(), 2, "{summary}");
    let chunks = summary["chunks"].as_u64().unwrap() as usize;
    let sha = summary["sha256"].as_str().unwrap();
    for port in [one.port, two.port] {
        let topics = retained_fleet_topics(port);
        assert!(topics.iter().any(|t| t == "trinity/fleet/skills/dock"), "no announcement on {port}: {topics:?}");
        let held = topics.iter().filter(|t| t.starts_with(&format!("trinity/fleet/blobs/{sha}/"))).count();
        assert_eq!(held, chunks, "chunks retained on {port}");
    }
    // A node that cannot be reached: an error that names it, nothing claimed.
    let dead = format!("127.0.0.1:{}", free_port());
    let out = trinity_cli(&["skill", "publish", &v1, "--port", &p1, "--node", &dead, "--timeout", "20"], false);
    assert!(out.contains(&dead), "{out}");
}

/// Python's HTTP server on a free port, serving `dir` and logging each request to a file;
/// killed on drop.
struct HttpServer {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl HttpServer {
    fn start(dir: &std::path::Path, log: PathBuf) -> HttpServer {
        let port = free_port();
        let child = Command::new("python3")
            .args(["-m", "http.server", &port.to_string(), "--bind", "127.0.0.1", "--directory"])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("python3 is installed (cargo xtask setup)");
        wait_for_port(port);
        HttpServer { child, port, log }
    }

    fn url(&self, file: &str) -> String {
        format!("http://127.0.0.1:{}/{file}", self.port)
    }

    /// The request lines it has logged.
    fn requests(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Issue 14: a bundle whose signed manifest names an HTTP(S) mirror is fetched from there
/// (here the broker holds only its announcement, so nothing else could have delivered it);
/// a mirror that fails (nothing at the URL) or lies (another file's bytes, every chunk
/// refused) costs the robot nothing: the chunks come from the broker and the skill installs.
#[test]
fn a_bundle_comes_from_its_mirror_and_from_the_broker_when_the_mirror_fails() {
    use trinity_runtime::fleet::{announcement_topic, Announcement, CHUNK_BYTES};
    let b = Bundles { work: tempfile::tempdir().unwrap() };
    trinity_cli(&["skill", "keygen", &b.p("fleet")], true);
    let www = b.work.path().join("www");
    std::fs::create_dir(&www).unwrap();
    let http = HttpServer::start(&www, b.work.path().join("http.log"));
    let v1 = b.make_with("1.0.0", "fleet", &["--mirror", &http.url("dock-1.0.0.tskill")]);
    std::fs::copy(&v1, www.join("dock-1.0.0.tskill")).unwrap();
    let v2 = b.make_with("1.1.0", "fleet", &["--mirror", &http.url("nowhere.tskill")]);
    let v3 = b.make_with("1.2.0", "fleet", &["--mirror", &http.url("dock-1.0.0.tskill")]);
    let skills = b.work.path().join("skills");
    std::fs::create_dir(&skills).unwrap();

    let broker = Mosquitto::start();
    let obs = Observer::connect(broker.port, "r-mirror");
    let extra = b.robot_config(&skills, "");
    let _d = Daemon::start(broker.port, "r-mirror", &extra);
    obs.wait_online();

    // Only the announcement on the broker: the bytes can come from the mirror alone.
    let bytes = std::fs::read(&v1).unwrap();
    let bundle = trinity_runtime::skills::bundle::Bundle::open(std::path::Path::new(&v1)).unwrap();
    let ann = Announcement::of(&bytes, &bundle, CHUNK_BYTES, None).unwrap();
    let (raw, _rx) = watch(broker.port, "trinity/none");
    let t0 = Instant::now();
    raw.publish(announcement_topic("dock"), QoS::AtLeastOnce, true, serde_json::to_vec(&ann).unwrap()).unwrap();
    let ev = outcome(&obs);
    assert_eq!((ev["event"].as_str(), ev["version"].as_str()), (Some("installed"), Some("1.0.0")), "{ev}");
    eprintln!("announced -> installed from the mirror (the daemon's first install): {:?}", t0.elapsed());
    assert_eq!(ev["sha256"].as_str(), Some(ann.bundle.sha256.as_str()));
    assert!(http.requests().contains("GET /dock-1.0.0.tskill HTTP/1.1\" 200"), "{}", http.requests());
    obs.wait("info", |p| info_has(p, |v| served_version(v, "dock").as_deref() == Some("1.0.0")));
    obs.publish("cmd/dock", cmd("m1", "back up one meter"));
    assert_eq!(states(&obs.events("m1")), ["accepted", "executing", "succeeded"]);

    // Nothing at the mirror's URL: from the broker.
    let t0 = Instant::now();
    publish(broker.port, &v2, None);
    let ev = outcome(&obs);
    eprintln!("published -> installed from the broker (mirror 404): {:?}", t0.elapsed());
    assert_eq!((ev["event"].as_str(), ev["version"].as_str()), (Some("installed"), Some("1.1.0")), "{ev}");
    assert!(http.requests().contains("GET /nowhere.tskill HTTP/1.1\" 404"), "{}", http.requests());

    // The mirror serves another bundle's bytes: every chunk refused, the broker's taken.
    publish(broker.port, &v3, None);
    let ev = outcome(&obs);
    assert_eq!((ev["event"].as_str(), ev["version"].as_str()), (Some("installed"), Some("1.2.0")), "{ev}");
    assert_eq!(http.requests().matches("GET /dock-1.0.0.tskill").count(), 2, "{}", http.requests());
    obs.publish("cmd/dock", cmd("m3", "back up one meter"));
    assert_eq!(states(&obs.events("m3")), ["accepted", "executing", "succeeded"]);
}

/// Python's HTTP server with byte ranges (`Range: bytes=N-` answered 206), which
/// `http.server` alone does not do.
const RANGE_SERVER: &str = r#"
import http.server, os, sys
class H(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        r, path = self.headers.get("Range"), self.translate_path(self.path)
        if not r or not os.path.isfile(path):
            return super().do_GET()
        start = int(r.removeprefix("bytes=").split("-")[0])
        data = open(path, "rb").read()
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), lambda *a: H(*a, directory=sys.argv[2])).serve_forever()
"#;

/// Issue 14: the mirror fetch itself. From a server with byte ranges and from one without
/// (the first chunks skipped), a resumed fetch yields exactly the chunks still missing; a
/// short file, a missing one and a closed port are errors that say so; a stop is honoured.
#[test]
fn a_mirror_fetch_resumes_with_or_without_byte_ranges_and_says_what_failed() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use trinity_runtime::fleet::{mirror::fetch, BlobRef};
    let work = tempfile::tempdir().unwrap();
    let bytes: Vec<u8> = (0..10_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
    std::fs::write(work.path().join("b.tskill"), &bytes).unwrap();
    std::fs::write(work.path().join("short.tskill"), &bytes[..5000]).unwrap();
    let sha = |b: &[u8]| {
        use sha2::Digest;
        sha2::Sha256::digest(b).iter().map(|x| format!("{x:02x}")).collect::<String>()
    };
    let blob = BlobRef {
        sha256: sha(&bytes),
        size: bytes.len() as u64,
        chunk_bytes: 1024,
        chunks: bytes.chunks(1024).map(sha).collect(),
    };
    let plain = HttpServer::start(work.path(), work.path().join("plain.log"));
    let port = free_port();
    let log = std::fs::File::create(work.path().join("ranges.log")).unwrap();
    let ranges = HttpServer {
        child: Command::new("python3")
            .args(["-c", RANGE_SERVER, &port.to_string()])
            .arg(work.path())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
        port,
        log: work.path().join("ranges.log"),
    };
    wait_for_port(port);
    let go = AtomicBool::new(false);
    for server in [&plain, &ranges] {
        let mut got = Vec::new();
        fetch(&server.url("b.tskill"), &blob, 3, &go, |i, b| {
            got.push((i, b));
            true
        })
        .unwrap();
        assert_eq!(got.iter().map(|(i, _)| *i).collect::<Vec<_>>(), (3..10).collect::<Vec<_>>());
        for (i, b) in &got {
            assert_eq!(b.as_slice(), &bytes[i * 1024..((i + 1) * 1024).min(bytes.len())], "chunk {i}");
        }
    }
    assert!(plain.requests().contains("\"GET /b.tskill HTTP/1.1\" 200"), "{}", plain.requests());
    assert!(ranges.requests().contains("\"GET /b.tskill HTTP/1.1\" 206"), "{}", ranges.requests());

    let short = |first| fetch(&plain.url("short.tskill"), &blob, first, &go, |_, _| true).unwrap_err();
    assert!(short(0).contains("ends after 5000 bytes"), "{}", short(0));
    assert!(short(6).contains("ends after 5000 bytes"), "{}", short(6));
    let e = fetch(&plain.url("none.tskill"), &blob, 0, &go, |_, _| true).unwrap_err();
    assert!(e.contains("404"), "{e}");
    let closed = format!("http://127.0.0.1:{}/b.tskill", free_port());
    assert!(fetch(&closed, &blob, 0, &go, |_, _| true).is_err());

    // Stopped by the caller, or by the flag: no more chunks, no error.
    let mut n = 0;
    fetch(&plain.url("b.tskill"), &blob, 0, &go, |_, _| {
        n += 1;
        n < 2
    })
    .unwrap();
    assert_eq!(n, 2);
    let stop = AtomicBool::new(false);
    let mut n = 0;
    fetch(&ranges.url("b.tskill"), &blob, 0, &stop, |_, _| {
        n += 1;
        stop.store(true, Ordering::Relaxed);
        true
    })
    .unwrap();
    assert_eq!(n, 1);
}
