use super::*;

fn folder(toml: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join(SKILL_TOML), toml).unwrap();
    d
}

const MINIMAL: &str = r#"
name = "dock"
description = "docking"
allowed = ["drive", "stop"]
[prompt]
prefix = "Dock the robot.\n\n"
"#;

/// Every command file of a shipped skill: its training examples, then the sets it is
/// measured on (the generated held-out set and the hand-written ones).
const SHIPPED_SETS: [&str; 23] = [
    "examples.jsonl",
    "heldout.jsonl",
    "wild.jsonl",
    "blind.jsonl",
    "fresh.jsonl",
    "unseen.jsonl",
    "sealed.jsonl",
    "sealed2.jsonl",
    "sealed3.jsonl",
    "sealed4.jsonl",
    "sealed5.jsonl",
    "sealed6.jsonl",
    "sealed7.jsonl",
    "sealed8.jsonl",
    "sealed9.jsonl",
    "sealed10.jsonl",
    "sealed11.jsonl",
    "sealed12.jsonl",
    "sealed13.jsonl",
    "sealed14.jsonl",
    "sealed15.jsonl",
    "sealed16.jsonl",
    "sealed17.jsonl",
];

/// Issue 12: no held-out or hand-written command shares a template (numbers, units, joint
/// and output names masked) with a training example, so their figures measure phrasings the
/// adapter never saw.
#[test]
fn shipped_evaluation_sets_share_no_template_with_training() {
    use std::collections::HashSet;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../skills");
    for name in ["rover", "arm"] {
        let dir = root.join(name);
        let train: HashSet<String> =
            read_examples(&dir.join("examples.jsonl")).unwrap().iter().map(|e| eval::template(&e.command)).collect();
        for file in &SHIPPED_SETS[1..] {
            let set = read_examples(&dir.join(file)).unwrap();
            assert!(set.len() >= 100, "{name}/{file}: {} commands", set.len());
            let shared: Vec<&str> = set
                .iter()
                .filter(|e| train.contains(&eval::template(&e.command)))
                .map(|e| e.command.as_str())
                .collect();
            assert!(shared.is_empty(), "{name}/{file} shares training templates: {shared:?}");
        }
    }
}

#[test]
fn shipped_skill_folders_load_and_their_examples_fit_the_sim_board() {
    let limits = trinity_boards::sim().limits;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../skills");
    for name in ["rover", "arm"] {
        let sd = SkillDir::load(&root.join(name)).unwrap();
        assert_eq!(sd.skill.name, name);
        assert!(sd.examples >= 100, "{name}: {} examples", sd.examples);
        assert_eq!(sd.adapters.len(), 1);
        assert!(sd.skill.prefix.ends_with("Command: "), "{:?}", sd.skill.prefix);
        assert_eq!(sd.skill.suffix("stop"), "stop\nPlan:");
        assert!(sd.skill.normalize, "{name}");
        for file in SHIPPED_SETS {
            let set = read_examples(&root.join(name).join(file)).unwrap();
            // "Nothing to do" (an empty plan) is taught and measured, but not most of the time.
            let nothing = set.iter().filter(|e| e.plan.is_empty()).count();
            assert!(nothing > 0 && nothing * 3 < set.len(), "{name}/{file}: {nothing} of {} empty", set.len());
            // `limits` lines ask for more than the board allows on purpose.
            for ex in set.iter().filter(|e| !e.plan.is_empty() && e.kind.as_deref() != Some("limits")) {
                let kinds_ok = ex.plan.actions().iter().all(|a| sd.skill.allowed.contains(&a.kind()));
                assert!(kinds_ok, "{name}/{file}: {}", ex.command);
                limits.check(&ex.plan).unwrap_or_else(|v| panic!("{name}/{file}: {}: {v}", ex.command));
            }
        }
    }
}

#[test]
fn minimal_folder_gets_the_default_template_and_no_adapters() {
    let d = folder(MINIMAL);
    let sd = SkillDir::load(d.path()).unwrap();
    assert_eq!(sd.skill.prefix, "Dock the robot.\n\nCommand: ");
    assert_eq!(sd.skill.after_command, "\nPlan:");
    assert_eq!(sd.skill.max_tokens, 160);
    assert!(sd.adapters.is_empty());
    assert_eq!(sd.examples, 0);
}

#[test]
fn few_shot_examples_are_rendered_with_the_template() {
    let d = folder(&format!(
        "{MINIMAL}template = \"Q: {{command}}\\nA:\"\n[[prompt.examples]]\ncommand = \"halt\"\nplan = '[{{\"action\":\"stop\"}}]'\n"
    ));
    let sd = SkillDir::load(d.path()).unwrap();
    assert_eq!(sd.skill.prefix, "Dock the robot.\n\nQ: halt\nA: [{\"action\":\"stop\"}]\n\nQ: ");
    assert_eq!(sd.skill.suffix("go"), "go\nA:");
}

#[test]
fn broken_folders_are_refused_with_the_reason() {
    let cases: &[(&str, &str)] = &[
        ("name = \"Dock Bot\"\ndescription = \"\"\nallowed = [\"stop\"]\n[prompt]\nprefix = \"\"\n", "lowercase"),
        ("name = \"d\"\ndescription = \"\"\nallowed = [\"fly\"]\n[prompt]\nprefix = \"\"\n", "unknown action `fly`"),
        ("name = \"d\"\ndescription = \"\"\nallowed = []\n[prompt]\nprefix = \"\"\n", "`allowed` is empty"),
        ("name = \"d\"\ndescription = \"\"\nallowed = [\"stop\"]\n[prompt]\nprefix = \"\"\ntemplate = \"no slot\"\n", "has no `{command}`"),
        ("name = \"d\"\ndescription = \"\"\nallowed = [\"stop\"]\nmax_tokens = 0\n[prompt]\nprefix = \"\"\n", "max_tokens"),
        ("name = \"d\"\ndescription = \"\"\nallowed = [\"stop\"]\nmin_confidance = 0.9\n[prompt]\nprefix = \"\"\n", "did you mean `min_confidence`"),
        ("name = \"d\"\ndescription = \"\"\nallowed = [\"stop\"]\n[prompt]\nprefix = \"\"\nvoice = 1\n", "unknown field `voice`"),
        ("name = \"d\"\ndescription = \"\"\nallowed = [\"stop\"]\n[prompt]\nprefix = \"\"\n[[adapters]]\nfile = \"../x.gguf\"\n", "inside the skill folder"),
        ("name = \"d\"\ndescription = \"\"\nallowed = [\"stop\"]\n[prompt]\nprefix = \"\"\n[[adapters]]\nfile = \"gone.gguf\"\n", "not found"),
        ("name = \"d\"\ndescription = \"\"\nallowed = [\"stop\"]\n[prompt]\nprefix = \"\"\n[[prompt.examples]]\ncommand = \"go\"\nplan = '[{\"action\":\"drive\",\"distance_m\":1}]'\n", "not allowed"),
        ("name = \"d\"\ndescription = \"\"\nallowed = [\"stop\"]\n[prompt]\nprefix = \"\"\nsplit = true\n", "needs `normalize = true`"),
        ("name = \"d\"\n", "missing field"),
    ];
    for (toml, expect) in cases {
        let d = folder(toml);
        let e = SkillDir::load(d.path()).unwrap_err().to_string();
        assert!(e.contains(expect), "{toml}\n=> {e}\n(expected {expect:?})");
        assert!(e.contains("skill.toml"), "{e}");
    }
}

/// Issue 14: a folder written for a later Trinity (a key this build does not know) still
/// loads; the key is ignored.
#[test]
fn unknown_top_level_keys_from_a_later_trinity_are_ignored() {
    let d = folder(MINIMAL);
    let toml = MINIMAL.replacen("allowed =", "voice = \"calm\"\nchannels = [\"beta\"]\nallowed =", 1);
    std::fs::write(d.path().join(SKILL_TOML), toml).unwrap();
    assert_eq!(SkillDir::load(d.path()).unwrap().skill.name, "dock");
}

#[test]
fn a_bad_example_line_is_named() {
    let d = folder(MINIMAL);
    std::fs::write(d.path().join("examples.jsonl"), "{\"command\":\"halt\",\"plan\":[{\"action\":\"stop\"}]}\n{\"command\":\"fly\",\"plan\":[{\"action\":\"fly\"}]}\n").unwrap();
    let e = SkillDir::load(d.path()).unwrap_err().to_string();
    assert!(e.contains("examples.jsonl: line 2"), "{e}");
}

#[test]
fn missing_folder_is_an_io_error() {
    let e = SkillDir::load(Path::new("/nonexistent/skill")).unwrap_err();
    assert!(matches!(e, SkillError::Io { .. }), "{e}");
}

/// The normalizer on every command of the shipped sets: no panic, and a second pass changes
/// nothing (what the model is shown is a fixed point).
#[test]
fn normalizing_the_shipped_commands_is_idempotent() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../skills");
    for name in ["rover", "arm"] {
        for file in SHIPPED_SETS {
            for ex in read_examples(&root.join(name).join(file)).unwrap() {
                let once = crate::normalize::normalize(&ex.command);
                assert_eq!(crate::normalize::normalize(&once), once, "{name}/{file}: {:?}", ex.command);
                // And the splitter cuts it into at most a plan's worth of non-empty steps.
                let steps =
                    crate::clauses::clauses(&once, &["lights", "horn"], &["base", "shoulder", "elbow", "wrist"]);
                assert!(steps.len() <= crate::clauses::MAX_CLAUSES && steps.iter().all(|s| !s.is_empty()));
            }
        }
    }
}
