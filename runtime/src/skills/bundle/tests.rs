//! Skill bundles: the round trip, and every hostile bundle of issue 14 refused with nothing
//! installed and the served version untouched.

use super::*;

const BASE: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const OTHER_BASE: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn skill_toml(description: &str) -> String {
    format!(
        "name = \"dock\"\ndescription = \"{description}\"\nallowed = [\"drive\", \"stop\"]\n\
         [prompt]\nprefix = \"Dock the robot.\\n\\n\"\n"
    )
}

struct Setup {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    skills: PathBuf,
    secret: PathBuf,
    public: PathBuf,
}

fn setup() -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_owned();
    let skills = root.join("skills");
    std::fs::create_dir(&skills).unwrap();
    let (secret, public) = (root.join("fleet.key"), root.join("fleet.pub"));
    keygen(&secret, &public).unwrap();
    Setup { _tmp: tmp, root, skills, secret, public }
}

impl Setup {
    /// A skill folder `dock` with `description`, packed as `version` and signed.
    fn bundle(&self, version: &str, description: &str) -> PathBuf {
        let dir = self.root.join(format!("src-{version}-{}", description.replace(' ', "_")));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(SKILL_TOML), skill_toml(description)).unwrap();
        std::fs::write(dir.join("examples.jsonl"), "{\"command\":\"stop\",\"plan\":[{\"action\":\"stop\"}]}\n")
            .unwrap();
        // Evaluation sets stay home: the assertion on the manifest's files below checks it.
        for set in ["heldout.jsonl", "sealed.shared.jsonl"] {
            std::fs::write(dir.join(set), "{\"command\":\"halt\",\"plan\":[{\"action\":\"stop\"}]}\n").unwrap();
        }
        let out = self.root.join(format!("dock-{version}-{}.{EXTENSION}", description.replace(' ', "_")));
        pack(&dir, version, BASE, None, &out).unwrap();
        sign(&out, &self.secret).unwrap();
        out
    }

    fn trust(&self) -> Trust<'_> {
        Trust { keys: &self.public, base_model_sha256: BASE, allow_downgrade: false }
    }

    fn install(&self, bundle: &Path) -> Result<Installed, BundleError> {
        install(bundle, &self.skills, &self.trust(), |_| Ok(()))
    }

    fn served_description(&self) -> Option<String> {
        SkillDir::load(&self.skills.join("dock")).ok().map(|sd| sd.skill.description)
    }

    /// The skills directory's visible state: the served folder's description and every
    /// entry under it (hidden staging folders included).
    fn state(&self) -> (Option<String>, Vec<(String, Option<String>)>) {
        let mut names: Vec<(String, Option<String>)> = walk(&self.skills)
            .into_iter()
            .map(|p| {
                let content = std::fs::read(&p).ok().map(|b| sha(&b));
                (p, content)
            })
            .collect();
        names.sort();
        (self.served_description(), names)
    }

    /// Rewrite a bundle's parts (the signature kept unless `resign`).
    fn rewrite(
        &self,
        bundle: &Path,
        edit: impl FnOnce(&mut Manifest, &mut Vec<(String, Vec<u8>)>),
        resign: bool,
    ) -> PathBuf {
        let mut b = Bundle::open(bundle).unwrap();
        let mut m = b.manifest.clone();
        let mut files: Vec<(String, Vec<u8>)> = m
            .files
            .iter()
            .map(|f| {
                (f.path.clone(), read_entry_capped(&mut b.archive, &format!("{FILES}{}", f.path), f.size).unwrap())
            })
            .collect();
        edit(&mut m, &mut files);
        let json = serde_json::to_vec_pretty(&m).unwrap();
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let out = self.root.join(format!("edited-{n}.tskill"));
        let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, v)| (n.as_str(), v.as_slice())).collect();
        // Re-signed over the edited manifest directly (`sign` would refuse to open it).
        let sig = if resign {
            let sk = minisign::SecretKeyBox::from_string(&std::fs::read_to_string(&self.secret).unwrap())
                .unwrap()
                .into_unencrypted_secret_key()
                .unwrap();
            Some(minisign::sign(None, &sk, Cursor::new(&json), None, None).unwrap().into_string())
        } else {
            b.signature.clone()
        };
        std::fs::write(&out, archive(&json, sig.as_deref().map(str::as_bytes), &refs).unwrap()).unwrap();
        out
    }
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        out.push(p.to_string_lossy().into_owned());
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&p));
        }
    }
    out
}

fn sha(bytes: &[u8]) -> String {
    hex(Sha256::digest(bytes))
}

#[test]
fn pack_sign_install_upgrade_and_roll_back() {
    let s = setup();
    let v1 = s.bundle("1.0.0", "first");
    let m = Bundle::open(&v1).unwrap().manifest;
    assert_eq!((m.name.as_str(), m.version.as_str(), m.format), ("dock", "1.0.0", FORMAT));
    assert_eq!(m.allowed, ["drive", "stop"]);
    assert_eq!(m.files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), ["examples.jsonl", SKILL_TOML]);
    assert!(
        is_evaluation_set("wild.jsonl") && !is_evaluation_set("examples.jsonl") && !is_evaluation_set("rover.gguf")
    );
    assert_eq!(m.file_name(), "dock-1.0.0.tskill");

    // `verify` checks all an install does and installs nothing.
    let (vm, key) = verify(&v1, &s.trust(), |_| Ok(())).unwrap();
    assert_eq!((vm, key.len()), (m.clone(), 16));
    assert!(walk(&s.skills).is_empty());
    let wrong_base = Trust { keys: &s.public, base_model_sha256: OTHER_BASE, allow_downgrade: false };
    assert!(matches!(verify(&v1, &wrong_base, |_| Ok(())), Err(BundleError::WrongBaseModel { .. })));

    let i = s.install(&v1).unwrap();
    assert_eq!((i.version.as_str(), i.previous.as_deref()), ("1.0.0", None));
    assert_eq!(s.served_description().as_deref(), Some("first"));
    assert_eq!(current_version(&s.skills, "dock").as_deref(), Some("1.0.0"));
    // What the daemon's scan sees: one skill folder, the hidden ones skipped.
    assert_eq!(super::super::folders(&s.skills), [s.skills.join("dock")]);

    let i = s.install(&s.bundle("1.1.0", "second")).unwrap();
    assert_eq!(i.previous.as_deref(), Some("1.0.0"));
    assert_eq!(s.served_description().as_deref(), Some("second"));

    assert_eq!(rollback(&s.skills, "dock").unwrap(), ("1.1.0".into(), "1.0.0".into()));
    assert_eq!(s.served_description().as_deref(), Some("first"));
    // Rolling back again goes forward again: the two kept versions swap.
    rollback(&s.skills, "dock").unwrap();
    assert_eq!(s.served_description().as_deref(), Some("second"));

    // A third version: only the served one and the one before stay on disk.
    s.install(&s.bundle("2.0.0", "third")).unwrap();
    let kept: Vec<String> = std::fs::read_dir(s.skills.join(VERSIONS).join("dock"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(kept.contains(&"2.0.0".to_owned()) && kept.contains(&"1.1.0".to_owned()), "{kept:?}");

    remove(&s.skills, "dock").unwrap();
    assert!(super::super::folders(&s.skills).is_empty());
    assert!(matches!(rollback(&s.skills, "dock"), Err(BundleError::NotInstalled(_))));
}

#[test]
fn versions_name_one_content_and_old_ones_are_not_replayed() {
    let s = setup();
    let v1 = s.bundle("1.0.0", "first");
    s.install(&v1).unwrap();
    // The same bundle again: nothing to do but (re)point at it.
    let again = s.install(&v1).unwrap();
    assert_eq!((again.version.as_str(), again.previous), ("1.0.0", None));
    assert_eq!(s.served_description().as_deref(), Some("first"));
    // Other bytes under the same version: refused, nothing changed.
    let before = s.state();
    let other = s.bundle("1.0.0", "other bytes");
    assert!(matches!(s.install(&other), Err(BundleError::Version(_))));
    assert_eq!(s.state(), before);

    s.install(&s.bundle("1.1.0", "second")).unwrap();
    // Version 1.0.0 replayed while 1.1.0 is served: refused unless allowed.
    let before = s.state();
    let e = s.install(&v1).unwrap_err();
    assert!(matches!(e, BundleError::Version(_)) && e.to_string().contains("older"), "{e}");
    assert_eq!(s.state(), before);
    let allow = Trust { allow_downgrade: true, ..s.trust() };
    install(&v1, &s.skills, &allow, |_| Ok(())).unwrap();
    assert_eq!(s.served_description().as_deref(), Some("first"));
}

#[test]
fn versions_are_pruned_by_semantic_version_not_by_text() {
    let s = setup();
    for (v, d) in [("1.9.0", "a"), ("1.10.0", "b"), ("1.11.0", "c")] {
        s.install(&s.bundle(v, d)).unwrap();
    }
    let mut kept: Vec<String> = std::fs::read_dir(s.skills.join(VERSIONS).join("dock"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    kept.sort();
    assert_eq!(kept, ["1.10.0", "1.11.0"]);
}

#[test]
fn a_short_global_signature_and_a_zip64_directory_are_refused_without_a_panic() {
    let s = setup();
    let good = s.bundle("1.0.0", "x");
    let b = Bundle::open(&good).unwrap();
    let sig = b.signature.clone().unwrap();
    let mut lines: Vec<&str> = sig.lines().collect();
    lines[3] = "AAAA";
    let short = lines.join("\n") + "\n";
    let toml = skill_toml("x");
    let ex = "{\"command\":\"stop\",\"plan\":[{\"action\":\"stop\"}]}\n";
    let files: Vec<(&str, &[u8])> = vec![("examples.jsonl", ex.as_bytes()), ("skill.toml", toml.as_bytes())];
    let out = s.root.join("short-sig.tskill");
    std::fs::write(&out, archive(&b.manifest_bytes, Some(short.as_bytes()), &files).unwrap()).unwrap();
    assert!(matches!(s.install(&out), Err(BundleError::BadSignature(_))));

    // An end-of-directory record claiming 65535 entries (what zip64 archives carry).
    let mut bytes = std::fs::read(&good).unwrap();
    let at = bytes.windows(4).rposition(|w| w == [0x50, 0x4b, 0x05, 0x06]).unwrap();
    bytes[at + 8..at + 12].copy_from_slice(&[0xff, 0xff, 0xff, 0xff]);
    let zip64 = s.root.join("zip64.tskill");
    std::fs::write(&zip64, &bytes).unwrap();
    assert!(matches!(s.install(&zip64), Err(BundleError::Archive(_))));
    // And one claiming a thousand.
    bytes[at + 8..at + 12].copy_from_slice(&[0xe8, 0x03, 0xe8, 0x03]);
    std::fs::write(&zip64, &bytes).unwrap();
    assert!(matches!(s.install(&zip64), Err(BundleError::TooLarge(_))));
}

#[test]
fn a_folder_copied_by_hand_is_kept_as_the_version_to_roll_back_to() {
    let s = setup();
    let by_hand = s.skills.join("dock");
    std::fs::create_dir(&by_hand).unwrap();
    std::fs::write(by_hand.join(SKILL_TOML), skill_toml("by hand")).unwrap();
    let i = s.install(&s.bundle("1.0.0", "bundled")).unwrap();
    assert!(i.previous.as_deref().is_some_and(|p| p.starts_with("unversioned-")), "{i:?}");
    assert_eq!(s.served_description().as_deref(), Some("bundled"));
    rollback(&s.skills, "dock").unwrap();
    assert_eq!(s.served_description().as_deref(), Some("by hand"));
}

#[test]
fn the_signature_is_minisigns_over_the_manifest() {
    let s = setup();
    let b = Bundle::open(&s.bundle("1.0.0", "x")).unwrap();
    let sig = b.signature.as_deref().unwrap();
    assert!(sig.starts_with("untrusted comment:"), "{sig}");
    assert!(sig.contains("trusted comment: trinity skill dock 1.0.0"), "{sig}");
    let pk = std::fs::read_to_string(&s.public).unwrap();
    assert!(pk.starts_with("untrusted comment: minisign public key"), "{pk}");
    // The key id the signature names is the public key's.
    assert_eq!(b.verify_signature(&s.public).unwrap(), b.verify_signature(&s.root).unwrap());
}

/// Each hostile bundle: refused with the error it deserves, and the skills directory
/// exactly as it was (version 1.0.0 still served, nothing staged left behind).
#[test]
fn hostile_bundles_are_refused_and_change_nothing() {
    let s = setup();
    s.install(&s.bundle("1.0.0", "good")).unwrap();
    let before = s.state();
    let good = s.bundle("1.1.0", "new");
    type Check = fn(&BundleError) -> bool;
    let mut cases: Vec<(&str, PathBuf, Check)> = Vec::new();

    // Unsigned.
    let unsigned = s.root.join("unsigned.tskill");
    pack(&s.root.join("src-1.1.0-new"), "1.1.0", BASE, None, &unsigned).unwrap();
    cases.push(("unsigned", unsigned.clone(), |e| matches!(e, BundleError::Unsigned)));
    // Signed by a key nobody trusts.
    let (other_sk, other_pk) = (s.root.join("other.key"), s.root.join("other.pub"));
    keygen(&other_sk, &other_pk).unwrap();
    let untrusted = s.root.join("untrusted.tskill");
    std::fs::copy(&unsigned, &untrusted).unwrap();
    sign(&untrusted, &other_sk).unwrap();
    cases.push(("untrusted key", untrusted, |e| matches!(e, BundleError::UntrustedKey(_))));
    // The manifest changed after signing (a claimed description; same key id).
    let tampered = s.rewrite(&good, |m, _| m.description = "evil".into(), false);
    cases.push(("wrong signature", tampered, |e| matches!(e, BundleError::BadSignature(_))));
    // Trained for another base model (signed honestly).
    let other_base = s.rewrite(&good, |m, _| m.base_model_sha256 = OTHER_BASE.into(), true);
    cases.push(("other base model", other_base, |e| matches!(e, BundleError::WrongBaseModel { .. })));
    // A file whose bytes are not the manifest's (signature valid: the manifest is intact).
    let swapped = s.rewrite(&good, |_, files| files[0].1 = b"{\"command\":\"go\",\"plan\":[]}\n".to_vec(), false);
    cases.push(("file with a wrong hash", swapped, |e| matches!(e, BundleError::File { .. })));
    // A file shorter than the manifest says (a truncated transfer inside the archive).
    let short = s.rewrite(&good, |_, files| files[0].1.truncate(3), false);
    cases.push(("short file", short, |e| matches!(e, BundleError::File { .. })));
    // Path traversal in the manifest and the archive (hash and size right, signed).
    let traversal = s.rewrite(
        &good,
        |m, files| {
            let bytes = b"x".to_vec();
            m.files.push(FileEntry { path: "../../escape".into(), sha256: sha(&bytes), size: 1 });
            files.push(("../../escape".into(), bytes));
        },
        true,
    );
    cases.push(("path traversal", traversal, |e| matches!(e, BundleError::Manifest(_))));
    // A claimed size of 10 GB (signed).
    let huge = s.rewrite(&good, |m, _| m.files[0].size = 10_000_000_000, true);
    cases.push(("10 GB claimed", huge, |e| matches!(e, BundleError::TooLarge(_))));
    // A newer format (signed): refused by name, not as garbage.
    let newer = s.rewrite(&good, |m, _| m.format = FORMAT + 1, true);
    cases.push(("newer format", newer, |e| matches!(e, BundleError::NewerFormat(_))));
    // An entry the manifest does not list.
    let extra = {
        let b = Bundle::open(&good).unwrap();
        let out = s.root.join("extra.tskill");
        let toml = skill_toml("new");
        let files: Vec<(&str, &[u8])> = vec![("skill.toml", toml.as_bytes()), ("smuggled.sh", b"rm -rf /")];
        std::fs::write(&out, archive(&b.manifest_bytes, b.signature.as_deref().map(str::as_bytes), &files).unwrap())
            .unwrap();
        out
    };
    cases.push(("unlisted entry", extra, |e| matches!(e, BundleError::Archive(_))));
    // A truncated download of the whole file.
    let truncated = s.root.join("truncated.tskill");
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    cases.push(("truncated bundle", truncated, |e| matches!(e, BundleError::Archive(_))));
    // Not a bundle at all.
    let garbage = s.root.join("garbage.tskill");
    std::fs::write(&garbage, b"PK\x03\x04 not really").unwrap();
    cases.push(("garbage", garbage, |e| matches!(e, BundleError::Archive(_))));
    // The manifest and skill.toml disagree about the name (signed, hashes right).
    let renamed = s.rewrite(&good, |m, _| m.name = "other".into(), true);
    cases.push(("name mismatch", renamed, |e| matches!(e, BundleError::Manifest(_))));
    // The manifest claims fewer actions than skill.toml allows (signed, hashes right).
    let claims = s.rewrite(&good, |m, _| m.allowed = vec!["stop".into()], true);
    cases.push(("allowed mismatch", claims, |e| matches!(e, BundleError::Manifest(_))));

    for (what, bundle, expected) in cases {
        let e = s.install(&bundle).expect_err(what);
        assert!(expected(&e), "{what}: {e}");
        assert!(!e.to_string().is_empty());
        assert_eq!(s.state(), before, "{what} changed the skills directory");
    }
    // A check of the adapters that fails (as `gguf::check_adapter` does for a bad one).
    let e = install(&good, &s.skills, &s.trust(), |_| Err("not a LoRA for this model".into())).unwrap_err();
    assert!(matches!(e, BundleError::Adapter(_)) && e.to_string().contains("not a LoRA"), "{e}");
    assert_eq!(s.state(), before);
    // And the good one still installs after all that.
    s.install(&good).unwrap();
    assert_eq!(s.served_description().as_deref(), Some("new"));
}

#[test]
fn unknown_optional_manifest_fields_are_ignored() {
    let s = setup();
    let good = s.bundle("1.0.0", "x");
    let b = Bundle::open(&good).unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&b.manifest_bytes).unwrap();
    v["released_by"] = "ci".into();
    v["channels"] = serde_json::json!(["canary"]);
    let json = serde_json::to_vec(&v).unwrap();
    let toml = skill_toml("x");
    let ex = "{\"command\":\"stop\",\"plan\":[{\"action\":\"stop\"}]}\n";
    let out = s.root.join("future.tskill");
    let files: Vec<(&str, &[u8])> = vec![("examples.jsonl", ex.as_bytes()), ("skill.toml", toml.as_bytes())];
    std::fs::write(&out, archive(&json, None, &files).unwrap()).unwrap();
    sign(&out, &s.secret).unwrap();
    assert_eq!(s.install(&out).unwrap().version, "1.0.0");
}

#[test]
fn manifest_rules() {
    let m = |f: &dyn Fn(&mut Manifest)| {
        let mut m = Manifest {
            format: FORMAT,
            name: "dock".into(),
            version: "1.0.0".into(),
            description: String::new(),
            allowed: vec![],
            base_model_sha256: BASE.into(),
            files: vec![FileEntry { path: SKILL_TOML.into(), sha256: BASE.into(), size: 10 }],
            mirror: None,
        };
        f(&mut m);
        m.check()
    };
    assert!(m(&|_| {}).is_ok());
    assert!(m(&|m| m.version = "1.0".into()).is_err());
    assert!(m(&|m| m.name = "Dock/x".into()).is_err());
    assert!(m(&|m| m.files.clear()).is_err(), "no skill.toml");
    assert!(m(&|m| m.files.push(m.files[0].clone())).is_err(), "twice");
    assert!(m(&|m| m.files[0].sha256 = "ABC".into()).is_err());
    for bad in ["", ".hidden", "a/b", "..", "a\\b", "ü", &"x".repeat(101)] {
        assert!(!valid_file_name(bad), "{bad:?}");
    }
    assert!(m(&|m| m.mirror = Some("file:///etc/passwd".into())).is_err());
    assert!(m(&|m| m.mirror = Some("https://example.invalid/dock-1.0.0.tskill".into())).is_ok());
    let too_many = |m: &mut Manifest| {
        for i in 0..MAX_FILES {
            m.files.push(FileEntry { path: format!("f{i}"), sha256: BASE.into(), size: 1 });
        }
    };
    assert!(matches!(m(&too_many), Err(BundleError::TooLarge(_))));
}

/// The daemon's fleet agent and `trinity skill install` by hand on the same folder take
/// turns: an install waits while another holds the folder's lock, then goes through.
#[test]
fn changes_to_one_skills_folder_take_turns() {
    let s = setup();
    let b = s.bundle("1.0.0", "first");
    let held = lock(&s.skills).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let (bundle, skills, public) = (b.clone(), s.skills.clone(), s.public.clone());
    let installer = std::thread::spawn(move || {
        let trust = Trust { keys: &public, base_model_sha256: BASE, allow_downgrade: false };
        tx.send(install(&bundle, &skills, &trust, |_| Ok(())).map(|i| i.version)).unwrap();
    });
    assert!(
        rx.recv_timeout(std::time::Duration::from_millis(1500)).is_err(),
        "an install went ahead while another process held the skills folder"
    );
    assert_eq!(s.served_description(), None);
    drop(held);
    let installed = rx.recv_timeout(std::time::Duration::from_secs(10)).expect("the install never went ahead");
    assert_eq!(installed.unwrap(), "1.0.0");
    installer.join().unwrap();
    assert_eq!(s.served_description().as_deref(), Some("first"));
}
