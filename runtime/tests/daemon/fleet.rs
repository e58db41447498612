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
        let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../skills/rover");
        let src = self.work.path().join(format!("src-{version}-{key}"));
        copy_skill(&shipped, &src, "dock");
        set_min_confidence(&src, 0.0);
        let out = self.p(&format!("dock-{version}-{key}.tskill"));
        let m = default_model();
        trinity_cli(
            &["skill", "pack", src.to_str().unwrap(), "--version", version, "-o", &out, "--model", m.to_str().unwrap()],
            true,
        );
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
    let extra = format!(
        "\n[skills]\ndir = \"{}\"\npoll_ms = 0\n[fleet]\nkeys = \"{}\"\nskills = [\"dock\"]\nlabels = [\"lab\"]\n",
        skills.display(),
        b.p("fleet.pub")
    );
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
    let extra = format!(
        "\n[skills]\ndir = \"{}\"\npoll_ms = 0\n[fleet]\nkeys = \"{}\"\nskills = [\"dock\"]\n",
        skills.display(),
        b.p("fleet.pub")
    );
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
