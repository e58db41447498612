//! `trinity adapter import`: a PEFT LoRA (`adapter_config.json` + `adapter_model.safetensors`)
//! to a llama.cpp GGUF adapter, for the llama, qwen2 and gemma3 tensor layouts.
//!
//! What llama.cpp's `convert_lora_to_gguf.py` does, for the layouts Trinity runs:
//! - names: `…layers.N.self_attn.q_proj.lora_A.weight` → `blk.N.attn_q.weight.lora_a`
//!   (k/v/o, and the MLP's gate/up/down → `ffn_gate`/`ffn_up`/`ffn_down`);
//! - shapes: PEFT's `lora_A` (r, n_in) and `lora_B` (n_out, r) are stored as they are, which
//!   ggml reads as ne = [n_in, r] and [r, n_out];
//! - llama only: the GGUF conversion permutes the rows of q and k for its rope layout, so the
//!   rows of their `lora_B` are permuted the same way (qwen2 and gemma3 are not permuted);
//! - scaling: llama.cpp applies `alpha / r`; an rsLoRA adapter (`alpha / sqrt(r)`) gets its
//!   `lora_B` multiplied by `sqrt(r)` to match.
//!
//! What cannot be expressed is refused by name: DoRA, per-module alphas, `fan_in_fan_out`,
//! `modules_to_save`, target modules other than the seven projections.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors};
use serde::Deserialize;

use super::{check_adapter, read_bytes, AdapterSummary, GgmlType, Gguf, GgufWriter};

/// Largest `adapter_model.safetensors` read.
const MAX_PEFT_BYTES: u64 = 1 << 30;

/// Why a PEFT adapter cannot be imported.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The PEFT files are malformed or use something llama.cpp cannot apply.
    #[error("{path}: {what}")]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What.
        what: String,
    },
    /// The converted adapter does not fit the base model.
    #[error(transparent)]
    Check(#[from] super::GgufError),
}

#[derive(Debug, Deserialize)]
struct PeftConfig {
    #[serde(default)]
    peft_type: Option<String>,
    r: u32,
    lora_alpha: f32,
    #[serde(default)]
    fan_in_fan_out: bool,
    #[serde(default)]
    use_rslora: bool,
    #[serde(default)]
    use_dora: bool,
    #[serde(default)]
    alpha_pattern: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    modules_to_save: Option<Vec<String>>,
}

const PROJECTIONS: &[(&str, &str)] = &[
    ("self_attn.q_proj", "attn_q"),
    ("self_attn.k_proj", "attn_k"),
    ("self_attn.v_proj", "attn_v"),
    ("self_attn.o_proj", "attn_output"),
    ("mlp.gate_proj", "ffn_gate"),
    ("mlp.up_proj", "ffn_up"),
    ("mlp.down_proj", "ffn_down"),
];

/// `…layers.N.<proj>.lora_A.weight` → (`blk.N.<gguf>.weight`, is_a, proj).
fn map_name(name: &str) -> Option<(String, bool, &'static str)> {
    let (module, is_a) = if let Some(m) = name.strip_suffix(".lora_A.weight") {
        (m, true)
    } else {
        (name.strip_suffix(".lora_B.weight")?, false)
    };
    let at = module.rfind("layers.")?;
    let rest = &module[at + "layers.".len()..];
    let (layer, proj) = rest.split_once('.')?;
    let layer: u32 = layer.parse().ok()?;
    let (hf, gguf) = PROJECTIONS.iter().find(|(hf, _)| *hf == proj)?;
    Some((format!("blk.{layer}.{gguf}.weight"), is_a, hf))
}

fn to_f32(path: &Path, name: &str, dtype: Dtype, data: &[u8]) -> Result<Vec<f32>, ImportError> {
    Ok(match dtype {
        Dtype::F32 => data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
        Dtype::F16 => data.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
        Dtype::BF16 => data.chunks_exact(2).map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
        other => {
            return Err(ImportError::Unsupported {
                path: path.to_owned(),
                what: format!("tensor `{name}` is {other:?}; expected f32, f16 or bf16"),
            })
        }
    })
}

/// Rows of a (n_out, r) matrix permuted as llama.cpp's converter permutes q/k weights:
/// `reshape(n_head, 2, n_out / n_head / 2, r).swapaxes(1, 2)`.
fn permute_rows(m: &[f32], n_out: usize, r: usize, n_head: usize) -> Option<Vec<f32>> {
    if n_head == 0 || !n_out.is_multiple_of(n_head * 2) {
        return None;
    }
    let half = n_out / n_head / 2;
    let mut out = vec![0.0; m.len()];
    for h in 0..n_head {
        for two in 0..2 {
            for j in 0..half {
                let src = (h * 2 + two) * half + j;
                let dst = (h * half + j) * 2 + two;
                out[dst * r..(dst + 1) * r].copy_from_slice(&m[src * r..(src + 1) * r]);
            }
        }
    }
    Some(out)
}

/// Options for [`import_peft`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Write f32 matrices (default: f16, half the size).
    pub f32: bool,
}

/// Convert the PEFT adapter in `dir` for the base model `base` (its checked header) and
/// return the GGUF bytes, already checked with [`check_adapter`].
pub fn import_peft(dir: &Path, base: &Gguf, opts: ImportOptions) -> Result<(Vec<u8>, AdapterSummary), ImportError> {
    let cfg_path = dir.join("adapter_config.json");
    let unsupported = |path: &Path, what: String| ImportError::Unsupported { path: path.to_owned(), what };
    let text =
        std::fs::read_to_string(&cfg_path).map_err(|source| ImportError::Io { path: cfg_path.clone(), source })?;
    let cfg: PeftConfig = serde_json::from_str(&text).map_err(|e| unsupported(&cfg_path, e.to_string()))?;
    if cfg.peft_type.as_deref().is_some_and(|t| t != "LORA") {
        return Err(unsupported(&cfg_path, format!("peft_type is {:?}; only LORA adapters import", cfg.peft_type)));
    }
    if cfg.use_dora {
        return Err(unsupported(&cfg_path, "DoRA adapters (use_dora) cannot be applied by llama.cpp".into()));
    }
    if cfg.fan_in_fan_out {
        return Err(unsupported(&cfg_path, "fan_in_fan_out (Conv1D layers) is not a llama/qwen2/gemma3 layout".into()));
    }
    if !cfg.alpha_pattern.is_empty() {
        return Err(unsupported(&cfg_path, "per-module alphas (alpha_pattern): llama.cpp has one alpha".into()));
    }
    if cfg.modules_to_save.as_ref().is_some_and(|m| !m.is_empty()) {
        return Err(unsupported(&cfg_path, "modules_to_save (fully trained modules) cannot be a LoRA adapter".into()));
    }
    if !cfg.lora_alpha.is_finite() || cfg.r == 0 {
        return Err(unsupported(&cfg_path, format!("r = {}, lora_alpha = {}", cfg.r, cfg.lora_alpha)));
    }
    let arch = base.architecture().unwrap_or("?").to_owned();
    if !["llama", "qwen2", "gemma3"].contains(&arch.as_str()) {
        return Err(unsupported(
            &cfg_path,
            format!("base architecture `{arch}`: import knows llama, qwen2 and gemma3"),
        ));
    }
    let heads = base.get_u64(&format!("{arch}.attention.head_count")).unwrap_or(0) as usize;
    let kv_heads = base.get_u64(&format!("{arch}.attention.head_count_kv")).map(|v| v as usize).unwrap_or(heads);

    let st_path = dir.join("adapter_model.safetensors");
    let io = |source| ImportError::Io { path: st_path.clone(), source };
    let len = std::fs::metadata(&st_path).map_err(io)?.len();
    if len > MAX_PEFT_BYTES {
        return Err(unsupported(&st_path, format!("{len} bytes; the limit is {MAX_PEFT_BYTES}")));
    }
    let bytes = std::fs::read(&st_path).map_err(io)?;
    let st = SafeTensors::deserialize(&bytes).map_err(|e| unsupported(&st_path, format!("not safetensors: {e}")))?;

    let mut names: Vec<String> = st.names().into_iter().cloned().collect();
    names.sort_by_key(|n| {
        // Layer order, then the order llama.cpp's converter writes: a before b.
        let layer = n.split("layers.").nth(1).and_then(|r| r.split('.').next()).and_then(|l| l.parse::<u32>().ok());
        (layer, n.clone())
    });
    let mut w = GgufWriter::lora_adapter(&arch, cfg.lora_alpha);
    for name in names {
        let Some((target, is_a, proj)) = map_name(&name) else {
            return Err(unsupported(&st_path, format!("tensor `{name}` is not a LoRA matrix of the 7 projections")));
        };
        let view = st.tensor(&name).map_err(|e| unsupported(&st_path, format!("`{name}`: {e}")))?;
        let shape = view.shape();
        if shape.len() != 2 {
            return Err(unsupported(&st_path, format!("`{name}` has shape {shape:?}; expected a matrix")));
        }
        let (rows, cols) = (shape[0], shape[1]);
        let mut m = to_f32(&st_path, &name, view.dtype(), view.data())?;
        if !is_a {
            let r = cols;
            if cfg.use_rslora {
                let f = (r as f32).sqrt();
                m.iter_mut().for_each(|v| *v *= f);
            }
            if arch == "llama" && (proj == "self_attn.q_proj" || proj == "self_attn.k_proj") {
                let n = if proj == "self_attn.q_proj" { heads } else { kv_heads };
                m = permute_rows(&m, rows, r, n).ok_or_else(|| {
                    unsupported(&st_path, format!("`{name}`: {rows} rows do not split into {n} rope heads"))
                })?;
            }
        }
        if m.iter().any(|v| !v.is_finite()) {
            return Err(unsupported(&st_path, format!("`{name}` holds NaN or infinite values")));
        }
        let suffix = if is_a { "lora_a" } else { "lora_b" };
        let dims = [cols as u64, rows as u64];
        let full = format!("{target}.{suffix}");
        w = if opts.f32 {
            w.tensor_f32(&full, &dims, &m)
        } else {
            let data = m.iter().flat_map(|v| half::f16::from_f32(*v).to_le_bytes()).collect();
            w.tensor(&full, &dims, GgmlType::F16, data)
        };
    }
    let out = w.to_bytes();
    let label = dir.join("(imported).gguf");
    let g = read_bytes(&out, &label)?;
    let summary = check_adapter(&label, &g, base)?;
    Ok((out, summary))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MetaValue;

    #[test]
    fn names_map_to_llama_cpp_tensors() {
        assert_eq!(
            map_name("base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight"),
            Some(("blk.3.attn_q.weight".into(), true, "self_attn.q_proj"))
        );
        assert_eq!(
            map_name("base_model.model.model.language_model.layers.17.mlp.down_proj.lora_B.weight"),
            Some(("blk.17.ffn_down.weight".into(), false, "mlp.down_proj"))
        );
        assert_eq!(map_name("base_model.model.lm_head.lora_A.weight"), None);
        assert_eq!(map_name("base_model.model.model.layers.x.self_attn.q_proj.lora_A.weight"), None);
    }

    #[test]
    fn permutation_matches_the_converters_reshape_swapaxes() {
        // n_out = 8 rows, 2 heads, r = 1: rows [h0: a0 a1 | b0 b1][h1: …] → interleaved.
        let m: Vec<f32> = (0..8).map(|i| i as f32).collect();
        let p = permute_rows(&m, 8, 1, 2).unwrap();
        // numpy: arange(8).reshape(2, 2, 2, 1).swapaxes(1, 2).reshape(8)
        assert_eq!(p, vec![0.0, 2.0, 1.0, 3.0, 4.0, 6.0, 5.0, 7.0]);
        assert!(permute_rows(&m, 8, 1, 3).is_none());
    }

    /// A base with one attention block: q 4 -> 8, k 4 -> 4, 2 heads, 1 kv head.
    fn base(arch: &str) -> Gguf {
        let bytes = GgufWriter::new()
            .meta("general.architecture", MetaValue::Str(arch.into()))
            .meta(&format!("{arch}.attention.head_count"), MetaValue::U32(2))
            .meta(&format!("{arch}.attention.head_count_kv"), MetaValue::U32(1))
            .meta("tokenizer.ggml.tokens", MetaValue::StrArray(vec!["a".into()]))
            .tensor_f32("blk.0.attn_q.weight", &[4, 8], &[0.0; 32])
            .tensor_f32("blk.0.attn_k.weight", &[4, 4], &[0.0; 16])
            .to_bytes();
        read_bytes(&bytes, Path::new("base.gguf")).unwrap()
    }

    /// A PEFT folder: rank 1 on q and k; B rows numbered 0..n_out.
    fn peft(config: &str, extra: &[(&str, Vec<usize>)]) -> tempfile::TempDir {
        use safetensors::tensor::TensorView;
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("adapter_config.json"), config).unwrap();
        let p = "base_model.model.model.layers.0.self_attn";
        let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = vec![
            (format!("{p}.q_proj.lora_A.weight"), vec![1, 4], vec![0.5f32; 4]),
            (format!("{p}.q_proj.lora_B.weight"), vec![8, 1], (0..8).map(|i| i as f32).collect()),
            (format!("{p}.k_proj.lora_A.weight"), vec![1, 4], vec![0.5f32; 4]),
            (format!("{p}.k_proj.lora_B.weight"), vec![4, 1], (0..4).map(|i| i as f32).collect()),
        ]
        .into_iter()
        .map(|(n, s, v)| (n, s, v.iter().flat_map(|x| x.to_le_bytes()).collect()))
        .collect();
        for (n, s) in extra {
            let len = s.iter().product::<usize>() * 4;
            tensors.push((n.to_string(), s.clone(), vec![0; len]));
        }
        let views: Vec<(String, TensorView)> =
            tensors.iter().map(|(n, s, b)| (n.clone(), TensorView::new(Dtype::F32, s.clone(), b).unwrap())).collect();
        let bytes = safetensors::tensor::serialize(views, &None).unwrap();
        std::fs::write(d.path().join("adapter_model.safetensors"), bytes).unwrap();
        d
    }

    const LORA: &str = r#"{"peft_type":"LORA","r":1,"lora_alpha":2.0}"#;

    fn b_rows(bytes: &[u8], name: &str) -> Vec<f32> {
        let g = read_bytes(bytes, Path::new("x")).unwrap();
        let t = g.tensor(name).unwrap();
        let at = (g.data_offset + t.offset) as usize;
        bytes[at..at + t.size as usize].chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
    }

    #[test]
    fn llama_permutes_q_and_k_rows_qwen2_and_gemma3_do_not() {
        let d = peft(LORA, &[]);
        let f32 = ImportOptions { f32: true };
        let (bytes, s) = import_peft(d.path(), &base("llama"), f32).unwrap();
        assert_eq!((s.rank, s.targets, s.alpha), (1, 2, 2.0));
        // q: 2 heads of 4 rows; k: 1 kv head of 4 rows.
        assert_eq!(b_rows(&bytes, "blk.0.attn_q.weight.lora_b"), [0.0, 2.0, 1.0, 3.0, 4.0, 6.0, 5.0, 7.0]);
        assert_eq!(b_rows(&bytes, "blk.0.attn_k.weight.lora_b"), [0.0, 2.0, 1.0, 3.0]);
        for arch in ["qwen2", "gemma3"] {
            let (bytes, _) = import_peft(d.path(), &base(arch), f32).unwrap();
            assert_eq!(b_rows(&bytes, "blk.0.attn_q.weight.lora_b"), (0..8).map(|i| i as f32).collect::<Vec<_>>());
        }
    }

    #[test]
    fn rslora_scaling_is_folded_into_b_and_f16_is_the_default() {
        let cfg = r#"{"peft_type":"LORA","r":4,"lora_alpha":2.0,"use_rslora":true}"#;
        let (bytes, _) = import_peft(peft(cfg, &[]).path(), &base("gemma3"), ImportOptions { f32: true }).unwrap();
        // rank of the matrices is 1: sqrt(1) = 1 leaves B as it was.
        assert_eq!(b_rows(&bytes, "blk.0.attn_k.weight.lora_b"), [0.0, 1.0, 2.0, 3.0]);
        let (small, _) = import_peft(peft(LORA, &[]).path(), &base("gemma3"), ImportOptions::default()).unwrap();
        let g = read_bytes(&small, Path::new("x")).unwrap();
        assert!(g.tensors.iter().all(|t| t.ggml_type == GgmlType::F16), "f16");
    }

    #[test]
    fn what_llama_cpp_cannot_apply_is_refused_by_name() {
        let cases = [
            (r#"{"peft_type":"LORA","r":1,"lora_alpha":2.0,"use_dora":true}"#, vec![], "DoRA"),
            (r#"{"peft_type":"LORA","r":1,"lora_alpha":2.0,"alpha_pattern":{"q_proj":4}}"#, vec![], "alpha_pattern"),
            (r#"{"peft_type":"IA3","r":1,"lora_alpha":2.0}"#, vec![], "only LORA"),
            (r#"{"peft_type":"LORA","r":1,"lora_alpha":2.0,"modules_to_save":["lm_head"]}"#, vec![], "modules_to_save"),
            (r#"{"r":1}"#, vec![], "lora_alpha"),
            (LORA, vec![("base_model.model.lm_head.lora_A.weight", vec![1, 4])], "not a LoRA matrix"),
            // A layer the base does not have: caught by the adapter check.
            (
                LORA,
                vec![
                    ("base_model.model.model.layers.5.self_attn.q_proj.lora_A.weight", vec![1, 4]),
                    ("base_model.model.model.layers.5.self_attn.q_proj.lora_B.weight", vec![8, 1]),
                ],
                "not a tensor of the base model",
            ),
        ];
        for (cfg, extra, expect) in cases {
            let d = peft(cfg, &extra);
            let e = import_peft(d.path(), &base("gemma3"), ImportOptions::default()).unwrap_err().to_string();
            assert!(e.contains(expect), "{cfg}: {e:?} should say {expect:?}");
        }
        let e = import_peft(peft(LORA, &[]).path(), &base("phi3"), ImportOptions::default()).unwrap_err();
        assert!(e.to_string().contains("llama, qwen2 and gemma3"), "{e}");
        let d = peft(LORA, &[]);
        std::fs::write(d.path().join("adapter_model.safetensors"), b"not safetensors").unwrap();
        let e = import_peft(d.path(), &base("gemma3"), ImportOptions::default()).unwrap_err();
        assert!(e.to_string().contains("not safetensors"), "{e}");
    }
}
