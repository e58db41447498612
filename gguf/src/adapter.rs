//! Checks that a GGUF file is a LoRA adapter llama.cpp can apply to a given base model.
//!
//! llama.cpp's own adapter loader checks some of this, but by then it has parsed the file
//! with its C parser; and some of its failures abort rather than return. Here every rule is
//! checked in Rust first, and the first broken one is named.

use std::collections::BTreeMap;
use std::path::Path;

use super::{GgmlType, Gguf, GgufError, Value};

/// What a checked adapter holds.
#[derive(Debug, Clone, PartialEq)]
pub struct AdapterSummary {
    /// `general.architecture`, equal to the base's.
    pub architecture: String,
    /// `adapter.lora.alpha`.
    pub alpha: f32,
    /// The largest LoRA rank of its pairs.
    pub rank: u64,
    /// Base tensors the adapter changes.
    pub targets: usize,
}

/// Check the header of a LoRA adapter (already parsed by [`super::read`] or
/// [`super::read_bytes`], so bounds and data offsets are checked) against the base model.
pub fn check_adapter(path: &Path, g: &Gguf, base: &Gguf) -> Result<AdapterSummary, GgufError> {
    let bad = |what: String| GgufError::Unsuitable { path: path.to_owned(), what };
    match g.get_str("general.type") {
        Some("adapter") => {}
        Some(other) => {
            return Err(bad(format!("general.type is `{other}`, not `adapter`: this is not a LoRA adapter")))
        }
        None => return Err(bad("no `general.type`: not a llama.cpp adapter (expected `adapter`)".into())),
    }
    match g.get_str("adapter.type") {
        Some("lora") => {}
        Some(other) => return Err(bad(format!("adapter.type is `{other}`; only `lora` adapters are supported"))),
        None => return Err(bad("no `adapter.type` (expected `lora`)".into())),
    }
    let base_arch = base.architecture().unwrap_or("?");
    match g.architecture() {
        Some(a) if a == base_arch => {}
        Some(a) => {
            return Err(bad(format!("the adapter is for architecture `{a}`, but the base model is `{base_arch}`")))
        }
        None => return Err(bad("no `general.architecture`".into())),
    }
    let alpha = match g.metadata.get("adapter.lora.alpha") {
        Some(Value::Float(a)) if a.is_finite() => *a as f32,
        Some(Value::Float(a)) => return Err(bad(format!("adapter.lora.alpha is {a}, not a finite number"))),
        Some(other) => return Err(bad(format!("adapter.lora.alpha is {other:?}, not a float"))),
        None => return Err(bad("no `adapter.lora.alpha`".into())),
    };
    if let Some(v) = g.metadata.get("adapter.alora.invocation_tokens") {
        if !matches!(v, Value::Array { elem_type: 4, .. }) {
            return Err(bad(format!("adapter.alora.invocation_tokens is {v:?}, not an array of u32")));
        }
    }
    if g.tensors.is_empty() {
        return Err(bad("the adapter holds no tensors".into()));
    }

    // Pair every `<base>.lora_a` with its `<base>.lora_b`, in file order.
    let mut pairs: BTreeMap<&str, [Option<&super::TensorInfo>; 2]> = BTreeMap::new();
    for t in &g.tensors {
        let (target, which) = if let Some(b) = t.name.strip_suffix(".lora_a") {
            (b, 0)
        } else if let Some(b) = t.name.strip_suffix(".lora_b") {
            (b, 1)
        } else {
            return Err(bad(format!("tensor `{}` is neither a `.lora_a` nor a `.lora_b` matrix", t.name)));
        };
        if !GgmlType::LORA.contains(&t.ggml_type) {
            return Err(bad(format!(
                "tensor `{}` has ggml type {}; LoRA matrices must be f32, f16 or bf16",
                t.name, t.ggml_type
            )));
        }
        if t.dims.len() != 2 {
            return Err(bad(format!("tensor `{}` has {} dimensions; LoRA matrices have 2", t.name, t.dims.len())));
        }
        let slot = &mut pairs.entry(target).or_default()[which];
        if slot.is_some() {
            return Err(bad(format!("tensor `{}` appears twice", t.name)));
        }
        *slot = Some(t);
    }

    let mut rank = 0;
    for (target, [a, b]) in &pairs {
        let (Some(a), Some(b)) = (a, b) else {
            let missing = if a.is_none() { "lora_a" } else { "lora_b" };
            return Err(bad(format!("`{target}` has no `.{missing}` matrix")));
        };
        let Some(w) = base.tensor(target) else {
            return Err(bad(format!("`{target}` is not a tensor of the base model (wrong base model?)")));
        };
        if w.dims.len() != 2 {
            return Err(bad(format!("base tensor `{target}` is not a matrix ({:?})", w.dims)));
        }
        if *target == "token_embd.weight" {
            return Err(bad("adapters on `token_embd.weight` are not supported".into()));
        }
        let (n_in, n_out) = (w.dims[0], w.dims[1]);
        let r = a.dims[1];
        if a.dims[0] != n_in || b.dims != [r, n_out] || r == 0 {
            return Err(bad(format!(
                "`{target}` is {n_in}x{n_out} (ggml ne), so lora_a must be [{n_in}, r] and lora_b [r, {n_out}]; \
                 found lora_a {:?} and lora_b {:?}",
                a.dims, b.dims
            )));
        }
        rank = rank.max(r);
    }
    Ok(AdapterSummary { architecture: base_arch.to_owned(), alpha, rank, targets: pairs.len() })
}

/// Check that every LoRA matrix of a checked adapter (`g`, parsed from `bytes`) holds only
/// finite numbers: one NaN would turn every logit to NaN.
pub fn check_adapter_data(path: &Path, g: &Gguf, bytes: &[u8]) -> Result<(), GgufError> {
    for t in &g.tensors {
        let start = (g.data_offset + t.offset) as usize;
        let data = &bytes[start..start + t.size as usize];
        let finite = match t.ggml_type {
            GgmlType::F32 => data.chunks_exact(4).all(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]).is_finite()),
            GgmlType::F16 => data.chunks_exact(2).all(|b| half::f16::from_le_bytes([b[0], b[1]]).is_finite()),
            GgmlType::BF16 => data.chunks_exact(2).all(|b| half::bf16::from_le_bytes([b[0], b[1]]).is_finite()),
            _ => true,
        };
        if !finite {
            return Err(GgufError::Unsuitable {
                path: path.to_owned(),
                what: format!("tensor `{}` holds NaN or infinite values", t.name),
            });
        }
    }
    Ok(())
}
