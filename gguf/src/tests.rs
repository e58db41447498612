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
    let g = tiny_model().tensor("bad", &[4], GgmlType(4), vec![0; 16]); // type 4 (Q4_2) was removed
    let e = read(write(&g.to_bytes()).path()).unwrap_err();
    assert!(e.to_string().contains("unknown ggml type 4"), "{e}");
}

#[test]
fn a_quantized_row_that_is_not_whole_blocks_is_refused() {
    // q8_0 packs 32 elements in 34 bytes: a 16-element row cannot be stored, even though
    // the tensor's 32 elements would make one block.
    let g = tiny_model().tensor("bad", &[16, 2], GgmlType::Q8_0, vec![0; 34]);
    let e = read(write(&g.to_bytes()).path()).unwrap_err();
    assert!(e.to_string().contains("row of 16 is not a multiple of its block size 32"), "{e}");
    let ok = tiny_model().tensor("good", &[32, 2], GgmlType::Q8_0, vec![0; 68]);
    assert_eq!(read(write(&ok.to_bytes()).path()).unwrap().tensor("good").unwrap().size, 68);
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

mod adapters {
    use super::*;
    use std::path::Path;

    /// A base with one 4 -> 6 matrix (ggml ne [4, 6]) and a norm vector.
    fn base() -> Gguf {
        let bytes = GgufWriter::new()
            .meta("general.architecture", MetaValue::Str("gemma3".into()))
            .meta("tokenizer.ggml.tokens", MetaValue::StrArray(vec!["a".into()]))
            .tensor_f32("blk.0.attn_q.weight", &[4, 6], &[0.0; 24])
            .tensor_f32("blk.0.attn_norm.weight", &[4], &[1.0; 4])
            .to_bytes();
        read_bytes(&bytes, Path::new("base.gguf")).unwrap()
    }

    fn adapter() -> GgufWriter {
        GgufWriter::lora_adapter("gemma3", 16.0)
    }

    fn with_pair(w: GgufWriter, a: &[u64], b: &[u64]) -> GgufWriter {
        let n = |d: &[u64]| d.iter().product::<u64>() as usize;
        w.tensor_f32("blk.0.attn_q.weight.lora_a", a, &vec![0.1; n(a)]).tensor_f32(
            "blk.0.attn_q.weight.lora_b",
            b,
            &vec![0.1; n(b)],
        )
    }

    fn check(w: GgufWriter) -> Result<AdapterSummary, GgufError> {
        let bytes = w.to_bytes();
        let p = Path::new("skill.gguf");
        let g = read_bytes(&bytes, p)?;
        check_adapter(p, &g, &base())
    }

    fn refused(w: GgufWriter, expect: &str) {
        let e = check(w).unwrap_err().to_string();
        assert!(e.contains(expect), "{e:?} should mention {expect:?}");
        assert!(e.starts_with("skill.gguf"), "{e}");
    }

    #[test]
    fn a_well_formed_adapter_passes() {
        let s = check(with_pair(adapter(), &[4, 2], &[2, 6])).unwrap();
        assert_eq!(s, AdapterSummary { architecture: "gemma3".into(), alpha: 16.0, rank: 2, targets: 1 });
    }

    #[test]
    fn each_broken_rule_is_named() {
        let arch = GgufWriter::lora_adapter("llama", 16.0);
        refused(with_pair(arch, &[4, 2], &[2, 6]), "architecture `llama`, but the base model is `gemma3`");
        let no_alpha = GgufWriter::new()
            .meta("general.architecture", MetaValue::Str("gemma3".into()))
            .meta("general.type", MetaValue::Str("adapter".into()))
            .meta("adapter.type", MetaValue::Str("lora".into()));
        refused(with_pair(no_alpha, &[4, 2], &[2, 6]), "no `adapter.lora.alpha`");
        let inf = GgufWriter::lora_adapter("gemma3", f32::INFINITY);
        refused(with_pair(inf, &[4, 2], &[2, 6]), "not a finite number");
        let model = GgufWriter::new()
            .meta("general.architecture", MetaValue::Str("gemma3".into()))
            .meta("general.type", MetaValue::Str("model".into()));
        refused(with_pair(model, &[4, 2], &[2, 6]), "not `adapter`");
        let ia3 = GgufWriter::new()
            .meta("general.architecture", MetaValue::Str("gemma3".into()))
            .meta("general.type", MetaValue::Str("adapter".into()))
            .meta("adapter.type", MetaValue::Str("ia3".into()));
        refused(with_pair(ia3, &[4, 2], &[2, 6]), "only `lora`");
        // Shapes: swapped, transposed, wrong rank between a and b.
        refused(with_pair(adapter(), &[2, 6], &[4, 2]), "lora_a must be [4, r] and lora_b [r, 6]");
        refused(with_pair(adapter(), &[2, 4], &[6, 2]), "lora_a must be [4, r]");
        refused(with_pair(adapter(), &[4, 2], &[3, 6]), "found lora_a [4, 2] and lora_b [3, 6]");
        // A tensor for something the base does not have.
        refused(
            adapter().tensor_f32("blk.9.attn_q.weight.lora_a", &[4, 2], &[0.0; 8]).tensor_f32(
                "blk.9.attn_q.weight.lora_b",
                &[2, 6],
                &[0.0; 12],
            ),
            "`blk.9.attn_q.weight` is not a tensor of the base model",
        );
        refused(adapter().tensor_f32("blk.0.attn_q.weight.lora_a", &[4, 2], &[0.0; 8]), "has no `.lora_b`");
        refused(adapter().tensor_f32("blk.0.attn_q.weight", &[4, 6], &[0.0; 24]), "neither a `.lora_a` nor");
        refused(adapter(), "holds no tensors");
        refused(
            adapter().tensor("blk.0.attn_q.weight.lora_a", &[32, 2], GgmlType::Q8_0, vec![0; 68]).tensor_f32(
                "blk.0.attn_q.weight.lora_b",
                &[2, 6],
                &[0.0; 12],
            ),
            "must be f32, f16 or bf16",
        );
    }

    #[test]
    fn non_finite_weights_are_refused() {
        let mut b = vec![0.1f32; 12];
        b[7] = f32::NAN;
        let bytes = adapter()
            .tensor_f32("blk.0.attn_q.weight.lora_a", &[4, 2], &[0.1; 8])
            .tensor_f32("blk.0.attn_q.weight.lora_b", &[2, 6], &b)
            .to_bytes();
        let p = Path::new("skill.gguf");
        let g = read_bytes(&bytes, p).unwrap();
        check_adapter(p, &g, &base()).unwrap();
        let e = check_adapter_data(p, &g, &bytes).unwrap_err().to_string();
        assert!(e.contains("`blk.0.attn_q.weight.lora_b` holds NaN"), "{e}");
        let fine = with_pair(adapter(), &[4, 2], &[2, 6]).to_bytes();
        check_adapter_data(p, &read_bytes(&fine, p).unwrap(), &fine).unwrap();
    }

    #[test]
    fn truncated_and_foreign_bytes_are_refused_before_any_check() {
        let bytes = with_pair(adapter(), &[4, 2], &[2, 6]).to_bytes();
        let p = Path::new("skill.gguf");
        for cut in [0, 3, 10, 40, bytes.len() / 2, bytes.len() - 40] {
            let e = read_bytes(&bytes[..cut], p).unwrap_err();
            assert!(matches!(e, GgufError::Truncated { .. } | GgufError::NotGguf { .. }), "cut {cut}: {e}");
        }
        assert!(matches!(read_bytes(b"PK\x03\x04zip", p), Err(GgufError::NotGguf { .. })));
    }
}

#[test]
fn mutated_adapters_are_errors_never_panics() {
    // A seeded mutation fuzzer over a valid adapter: flip, overwrite and cut bytes; the
    // header parser and the adapter check must answer every variant with Ok or Err.
    let base_bytes = GgufWriter::new()
        .meta("general.architecture", MetaValue::Str("gemma3".into()))
        .meta("tokenizer.ggml.tokens", MetaValue::StrArray(vec!["a".into()]))
        .tensor_f32("blk.0.attn_q.weight", &[4, 6], &[0.0; 24])
        .to_bytes();
    let base = read_bytes(&base_bytes, std::path::Path::new("base")).unwrap();
    let valid = GgufWriter::lora_adapter("gemma3", 16.0)
        .tensor_f32("blk.0.attn_q.weight.lora_a", &[4, 2], &[0.1; 8])
        .tensor_f32("blk.0.attn_q.weight.lora_b", &[2, 6], &[0.1; 12])
        .to_bytes();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let p = std::path::Path::new("fuzz.gguf");
    let (mut ok, mut refused) = (0, 0);
    for _ in 0..20_000 {
        let mut b = valid.clone();
        for _ in 0..1 + next() % 4 {
            let i = (next() as usize) % b.len();
            match next() % 4 {
                0 => b[i] ^= 1 << (next() % 8),
                1 => b[i] = next() as u8,
                2 => b[i] = 0xff,
                _ => b.truncate(i),
            }
            if b.is_empty() {
                break;
            }
        }
        match read_bytes(&b, p).and_then(|g| check_adapter(p, &g, &base)) {
            Ok(_) => ok += 1,
            Err(_) => refused += 1,
        }
    }
    // Most mutations break something; some only touch tensor data (still a valid file).
    assert!(refused > 10_000 && ok > 100, "ok {ok}, refused {refused}");
}
