use super::*;

fn tiny_model() -> GgufWriter {
    GgufWriter::new()
        .meta("general.architecture", MetaValue::Str("llama".into()))
        .meta("general.alignment", MetaValue::U32(32))
        .meta("tokenizer.ggml.tokens", MetaValue::StrArray(vec!["<s>".into(), "a".into()]))
        .tensor_f32("token_embd.weight", &[4, 2], &[0.5; 8])
        .tensor_f32("output_norm.weight", &[4], &[1.0; 4])
}

fn write(bytes: &[u8]) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), bytes).unwrap();
    f
}

#[test]
fn well_formed_file_reads_back() {
    let f = write(&tiny_model().to_bytes());
    let g = check_model(f.path()).unwrap();
    assert_eq!(g.version, 3);
    assert_eq!(g.architecture(), Some("llama"));
    assert_eq!(g.tensors.len(), 2);
    assert_eq!(g.tensor("token_embd.weight").unwrap().size, 32);
    assert_eq!(g.tensor("output_norm.weight").unwrap().dims, vec![4]);
    assert_eq!(g.metadata["tokenizer.ggml.tokens"], Value::Array { elem_type: 8, len: 2 });
}

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    let bytes = tiny_model().to_bytes();
    let whole = read(write(&bytes).path()).unwrap();
    let last = whole.tensors.last().unwrap();
    // Every cut before the end of the last tensor's data (the rest is alignment padding).
    let data_end = (whole.data_offset + last.offset + last.size) as usize;
    for cut in 0..data_end {
        let f = write(&bytes[..cut]);
        let e = check_model(f.path()).unwrap_err();
        assert!(matches!(e, GgufError::Truncated { .. } | GgufError::NotGguf { .. }), "cut at {cut}: {e}");
    }
}

#[test]
fn non_gguf_bytes_are_refused() {
    let f = write(b"PK\x03\x04 this is a zip, not a model");
    let e = read(f.path()).unwrap_err();
    assert!(matches!(e, GgufError::NotGguf { .. }), "{e}");
    assert!(e.to_string().contains("not a GGUF file"));
}

#[test]
fn missing_file_names_the_path() {
    let e = read(std::path::Path::new("/nonexistent/model.gguf")).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/model.gguf"), "{e}");
}

#[test]
fn unknown_version_is_refused() {
    let mut bytes = tiny_model().to_bytes();
    bytes[4..8].copy_from_slice(&99u32.to_le_bytes());
    let e = read(write(&bytes).path()).unwrap_err();
    assert!(matches!(e, GgufError::Version { version: 99, .. }), "{e}");
}

#[test]
fn huge_announced_counts_are_refused_without_allocating() {
    let mut bytes = tiny_model().to_bytes();
    bytes[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
    let e = read(write(&bytes).path()).unwrap_err();
    assert!(matches!(e, GgufError::Truncated { .. }), "{e}");
}

#[test]
fn unknown_tensor_type_is_refused() {
    let g = tiny_model().tensor("bad", &[4], 4, vec![0; 16]); // type 4 (Q4_2) was removed
    let e = read(write(&g.to_bytes()).path()).unwrap_err();
    assert!(e.to_string().contains("unknown ggml type 4"), "{e}");
}

#[test]
fn adapter_is_not_a_base_model() {
    let g = tiny_model().meta("general.type", MetaValue::Str("adapter".into()));
    let e = check_model(write(&g.to_bytes()).path()).unwrap_err();
    assert!(e.to_string().contains("LoRA adapter"), "{e}");
}

#[test]
fn model_without_vocabulary_is_refused() {
    let g = GgufWriter::new().meta("general.architecture", MetaValue::Str("llama".into())).tensor_f32(
        "output_norm.weight",
        &[4],
        &[1.0; 4],
    );
    let e = check_model(write(&g.to_bytes()).path()).unwrap_err();
    assert!(e.to_string().contains("no vocabulary"), "{e}");
}

#[test]
fn kv_size_comes_from_the_hyperparameters() {
    let g = tiny_model()
        .meta("llama.block_count", MetaValue::U32(18))
        .meta("llama.embedding_length", MetaValue::U32(640))
        .meta("llama.attention.head_count", MetaValue::U32(4))
        .meta("llama.attention.head_count_kv", MetaValue::U32(1))
        .meta("llama.attention.key_length", MetaValue::U32(256))
        .meta("llama.attention.value_length", MetaValue::U32(256));
    let g = read(write(&g.to_bytes()).path()).unwrap();
    // 18 layers x 1 KV head x (256 + 256) x 2 bytes (f16): Gemma 3 270M.
    assert_eq!(g.kv_bytes_per_token(), Some(18 * 512 * 2));
    assert_eq!(read(write(&tiny_model().to_bytes()).path()).unwrap().kv_bytes_per_token(), None);
}
