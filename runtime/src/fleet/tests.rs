use super::store::{Download, Put};
use super::*;

fn blob(bytes: &[u8], chunk: u32) -> BlobRef {
    BlobRef {
        sha256: sha256_hex(bytes),
        size: bytes.len() as u64,
        chunk_bytes: chunk,
        chunks: bytes.chunks(chunk as usize).map(sha256_hex).collect(),
    }
}

#[test]
fn topics_name_the_skill_and_the_chunk() {
    assert_eq!(announcement_topic("rover"), "trinity/fleet/skills/rover");
    assert_eq!(parse_announcement_topic("trinity/fleet/skills/rover"), Some("rover"));
    assert_eq!(parse_announcement_topic("trinity/fleet/skills/a/b"), None);
    let sha = "ab".repeat(32);
    assert_eq!(parse_chunk_topic(&chunk_topic(&sha, 7)), Some((sha.as_str(), 7)));
    assert_eq!(parse_chunk_topic("trinity/fleet/blobs/x/-1"), None);
}

#[test]
fn targets_by_robot_or_label() {
    assert_eq!(Target::parse("r1, r2").unwrap().robots, ["r1", "r2"]);
    assert_eq!(Target::parse("label=canary").unwrap().labels, ["canary"]);
    assert!(Target::parse("r+1").is_err());
    assert!(Target::parse(",").is_err());
}

#[test]
fn a_download_keeps_only_announced_chunks_and_resumes() {
    // Removed when the test ends (a folder per process id was left in /tmp by every run).
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let bytes: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
    let b = blob(&bytes, 1024);
    assert_eq!(b.chunks.len(), 5);
    let mut d = Download::open(&root, b.clone()).unwrap();
    assert_eq!(d.put(0, &bytes[..1024]), Ok(Put::Stored));
    assert_eq!(d.put(0, &bytes[..1024]), Ok(Put::Duplicate));
    // A chunk that is not the announced one, a short one, one out of range.
    assert!(d.put(1, &bytes[2048..3072]).is_err());
    assert!(d.put(4, &bytes[4096..4500]).is_err());
    assert!(d.put(9, &bytes[..10]).is_err());
    assert_eq!(d.put(4, &bytes[4096..]), Ok(Put::Stored));
    assert_eq!((d.bytes(), d.missing()), (1024 + 904, 3));
    drop(d);
    // Resumed: what is on disk counts; a chunk file damaged on disk does not.
    std::fs::write(root.join(&b.sha256).join("4"), b"junk").unwrap();
    let mut d = Download::open(&root, b.clone()).unwrap();
    assert_eq!((d.bytes(), d.missing()), (1024, 4));
    for i in 1..5 {
        d.put(i, &bytes[i * 1024..bytes.len().min((i + 1) * 1024)]).unwrap();
    }
    let out = d.assemble().unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
    store::prune(&root, &[]);
    assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0);
}

fn announcement(bytes: &[u8]) -> Announcement {
    let sha = "0".repeat(64);
    let manifest = serde_json::json!({
        "format": 1, "name": "rover", "version": "1.0.0", "base_model_sha256": sha,
        "files": [{"path": "skill.toml", "sha256": sha, "size": 10}]
    })
    .to_string();
    Announcement {
        format: FORMAT,
        name: "rover".into(),
        version: "1.0.0".into(),
        manifest,
        signature: "sig".into(),
        bundle: blob(bytes, 1024),
        to: None,
    }
}

#[test]
fn announcements_are_checked_before_anything_is_downloaded() {
    let a = announcement(&[1u8; 3000]);
    let ok = serde_json::to_vec(&a).unwrap();
    assert!(Announcement::parse("rover", &ok).is_ok());
    assert!(Announcement::parse("arm", &ok).unwrap_err().contains("topic"));
    let bad = |f: &dyn Fn(&mut Announcement)| {
        let mut b = a.clone();
        f(&mut b);
        Announcement::parse("rover", &serde_json::to_vec(&b).unwrap()).unwrap_err()
    };
    assert!(bad(&|b| b.format = FORMAT + 1).contains("newer"));
    assert!(bad(&|b| b.bundle.size = 10 << 30).contains("bytes"), "a claimed 10 GB");
    assert!(bad(&|b| b.bundle.chunks.pop().map(drop).unwrap_or(())).contains("chunks"));
    assert!(bad(&|b| b.bundle.chunk_bytes = 1 << 20).contains("chunks of"));
    assert!(bad(&|b| b.version = "2.0.0".into()).contains("manifest"));
    assert!(bad(&|b| b.bundle.sha256 = "x".into()).contains("hex"));
    assert!(Announcement::parse("rover", &vec![b' '; MAX_ANNOUNCEMENT_BYTES + 1]).is_err());
    // Bigger than the signed manifest's files can make: not downloaded.
    let big = vec![3u8; 200 << 10];
    assert!(bad(&|b| b.bundle = blob(&big, 1024)).contains("for 10 bytes of files"));
    assert_eq!(short("é".repeat(200).as_str(), 101).len(), 100 + "…".len());
    assert!(Announcement::parse("rover", b"{").is_err());
    // Unknown optional fields are ignored.
    let mut v: serde_json::Value = serde_json::from_slice(&ok).unwrap();
    v["later"] = serde_json::json!(1);
    assert!(Announcement::parse("rover", v.to_string().as_bytes()).is_ok());
}

#[test]
fn the_audience_is_everyone_or_named() {
    let mut a = announcement(&[1u8; 1500]);
    assert!(a.targets("r1", &[]));
    a.to = Some(Target { robots: vec!["r2".into()], labels: vec!["canary".into()] });
    assert!(!a.targets("r1", &[]));
    assert!(a.targets("r2", &[]));
    assert!(a.targets("r1", &["canary".into()]));
}

#[test]
fn events_are_tagged() {
    let e = SkillEvent::Failed { name: "rover".into(), version: None, reason: "x".into() };
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(v["event"], "failed");
    let r: SkillRequest = serde_json::from_str(r#"{"name":"rover","version":"1.2.0"}"#).unwrap();
    assert_eq!(r.version.as_deref(), Some("1.2.0"));
    assert!(serde_json::from_str::<SkillRequest>(r#"{"name":"rover","x":1}"#).is_err());
}
