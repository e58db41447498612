//! The committed fuzz corpora (`fuzz/corpus/<target>/`, grown by `cargo xtask fuzz`)
//! replayed through the same entry points as the cargo-fuzz targets, on stable Rust: every
//! input that once found new code paths still gets an answer and keeps the invariants.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

use trinity_runtime::fuzzing;

fn corpus(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target)
}

fn replay(target: &str, f: fn(&[u8])) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(corpus(target)).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let ok = std::panic::catch_unwind(|| f(&data));
        assert!(ok.is_ok(), "{target}: {} breaks an invariant", path.display());
        n += 1;
    }
    n
}

#[test]
fn payload_corpus_replays() {
    assert!(replay("payload", fuzzing::payload) >= 10);
}

#[test]
fn gguf_corpus_replays() {
    assert!(replay("gguf", fuzzing::gguf) >= 3);
}

#[test]
fn skill_toml_corpus_replays() {
    assert!(replay("skill_toml", fuzzing::skill_toml) >= 3);
}

/// The hand-made seeds (`cargo test --test fuzz_corpus write_seeds -- --ignored`).
#[test]
#[ignore = "writes the seed corpora"]
fn write_seeds() {
    use trinity_gguf::{GgufWriter, MetaValue};
    let write = |target: &str, name: &str, data: &[u8]| {
        std::fs::create_dir_all(corpus(target)).unwrap();
        std::fs::write(corpus(target).join(format!("seed-{name}")), data).unwrap();
    };
    let payloads: [&[u8]; 12] = [
        b"\x00go forward two meters",
        b"\x00{\"id\":\"c-42\",\"text\":\"go forward two meters\",\"skill\":\"rover\",\"deadline_ms\":5000}",
        b"\x01{\"id\":\"c-1\",\"plan\":[{\"action\":\"drive\",\"distance_m\":0.5},{\"action\":\"stop\"}]}",
        b"\x80{\"id\":\"old\",\"text\":\"stop\",\"not_after\":1764000000001}",
        b"\x00{\"id\":\"bell\\u0007\",\"text\":\"go\"}",
        b"\x00{\"id\":7,\"text\":\"go\"}",
        b"\x02{\"text\":\"go\"}",
        b"\x03rover{\"text\":\"turn left\"}",
        b"\x00\"turn left\"",
        b"\x00{\"id\":\"x",
        b"\x00[1,2]",
        b"\x00{\"id\":\"p\",\"plan\":[{\"action\":\"servo\",\"joint\":\"wrist\",\"angle_deg\":10},{\"action\":\"grip\",\"state\":\"open\"}]}",
    ];
    for (i, e) in payloads.iter().enumerate() {
        write("payload", &i.to_string(), e);
    }
    let adapter = GgufWriter::lora_adapter("gemma3", 16.0)
        .tensor_f32("blk.0.attn_q.weight.lora_a", &[4, 2], &[0.1; 8])
        .tensor_f32("blk.0.attn_q.weight.lora_b", &[2, 6], &[0.1; 12])
        .to_bytes();
    write("gguf", "adapter", &adapter);
    write("gguf", "adapter-cut", &adapter[..adapter.len() / 2]);
    let model = GgufWriter::new()
        .meta("general.architecture", MetaValue::Str("gemma3".into()))
        .meta("tokenizer.ggml.tokens", MetaValue::StrArray(vec!["a".into(), "b".into()]))
        .tensor_f32("blk.0.attn_q.weight", &[4, 6], &[0.0; 24])
        .to_bytes();
    write("gguf", "model", &model);
    for skill in ["rover", "arm"] {
        let text =
            std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../skills").join(skill).join("skill.toml"));
        write("skill_toml", skill, &text.unwrap());
    }
    write("skill_toml", "minimal", b"name = \"x\"\ndescription = \"d\"\nallowed = [\"stop\"]\nmax_tokens = 8\n[prompt]\nprefix = \"p\"\ntemplate = \"C: {command}\\nP:\"\n");
}
