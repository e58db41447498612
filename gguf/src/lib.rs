//! A GGUF header reader of our own, so that llama.cpp never sees an unchecked file.
//!
//! llama.cpp trusts its inputs: a truncated or hostile GGUF can make it abort the whole
//! process. Before any path reaches it, [`read`] parses the header in Rust (magic, version,
//! every metadata value, every tensor description), bounds every length by the bytes that
//! remain in the file, and checks that each tensor's data lies inside the file. Large arrays
//! (the tokenizer's 262k strings) are walked, not kept: only their type and length are.
//!
//! What lives where: `reader.rs` is the byte-level parser; this file holds the result types
//! and the checks built on them ([`check_model`]); `adapter.rs` checks a LoRA adapter
//! against its base model ([`check_adapter`]); [`import`] converts PEFT adapters to GGUF;
//! `writer.rs` writes GGUF files; `types.rs` holds ggml's tensor types ([`GgmlType`]: ids,
//! names, block layouts), copied from ggml so that checking a file needs no C.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod adapter;
pub mod import;
mod reader;
mod types;
mod writer;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use adapter::{check_adapter, check_adapter_data, AdapterSummary};
pub use reader::{read, read_bytes};
pub use types::{GgmlType, Layout};
pub use writer::{GgufWriter, MetaValue};

/// A metadata value. Arrays keep only their element type and length.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Any unsigned integer type.
    UInt(u64),
    /// Any signed integer type.
    Int(i64),
    /// f32 or f64.
    Float(f64),
    /// A bool.
    Bool(bool),
    /// A UTF-8 string.
    Str(String),
    /// An array: element type id and length.
    Array {
        /// GGUF type id of the elements.
        elem_type: u32,
        /// Number of elements.
        len: u64,
    },
}

/// One tensor's description from the header.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    /// Tensor name (`blk.0.attn_q.weight`).
    pub name: String,
    /// ggml dimensions, innermost first (`ne[0]` is the row length).
    pub dims: Vec<u64>,
    /// ggml type.
    pub ggml_type: GgmlType,
    /// Offset of the data from the start of the data section.
    pub offset: u64,
    /// Size of the data in bytes.
    pub size: u64,
}

/// A parsed and checked GGUF header.
#[derive(Debug, Clone)]
pub struct Gguf {
    /// Format version (2 or 3).
    pub version: u32,
    /// Metadata, by key.
    pub metadata: BTreeMap<String, Value>,
    /// Tensor descriptions, in file order.
    pub tensors: Vec<TensorInfo>,
    /// Absolute offset of the data section.
    pub data_offset: u64,
    /// Size of the file in bytes.
    pub file_size: u64,
}

/// Why a file is not a usable GGUF. Each says what was wrong and where.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GgufError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The first four bytes are not `GGUF`.
    #[error("{path} is not a GGUF file (it does not start with the GGUF magic)")]
    NotGguf {
        /// The file.
        path: PathBuf,
    },
    /// A version this reader does not know.
    #[error("{path}: unsupported GGUF version {version} (expected 2 or 3)")]
    Version {
        /// The file.
        path: PathBuf,
        /// The version found.
        version: u32,
    },
    /// The header or a tensor's data runs past the end of the file.
    #[error("{path} is truncated: {what} (file is {file_size} bytes)")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// What did not fit.
        what: String,
        /// The file's size.
        file_size: u64,
    },
    /// A structurally invalid header.
    #[error("{path}: invalid GGUF header: {what}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        what: String,
    },
    /// The file is a valid GGUF but not what was asked for.
    #[error("{path}: {what}")]
    Unsuitable {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        what: String,
    },
}

impl Gguf {
    /// A string metadata value.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        match self.metadata.get(key) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// An unsigned integer metadata value (any unsigned width, or a non-negative signed one).
    pub fn get_u64(&self, key: &str) -> Option<u64> {
        match self.metadata.get(key) {
            Some(Value::UInt(v)) => Some(*v),
            Some(Value::Int(v)) => u64::try_from(*v).ok(),
            _ => None,
        }
    }

    /// `general.architecture`.
    pub fn architecture(&self) -> Option<&str> {
        self.get_str("general.architecture")
    }

    /// KV cache bytes per token of context at f16, from the architecture's hyperparameters
    /// (`None` when the header lacks them).
    pub fn kv_bytes_per_token(&self) -> Option<u64> {
        let arch = self.architecture()?;
        let key = |k: &str| self.get_u64(&format!("{arch}.{k}"));
        let layers = key("block_count")?;
        let heads = key("attention.head_count")?;
        let kv_heads = key("attention.head_count_kv").unwrap_or(heads);
        let head_dim = key("embedding_length")? / heads.max(1);
        let k = key("attention.key_length").unwrap_or(head_dim);
        let v = key("attention.value_length").unwrap_or(head_dim);
        Some(layers * kv_heads * (k + v) * 2)
    }

    /// The tensor with this name.
    pub fn tensor(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors.iter().find(|t| t.name == name)
    }
}

/// Check that `path` is a complete GGUF base model that llama.cpp may load.
pub fn check_model(path: &Path) -> Result<Gguf, GgufError> {
    let g = read(path)?;
    let unsuitable = |what: String| GgufError::Unsuitable { path: path.to_owned(), what };
    let arch = g.architecture().ok_or_else(|| unsuitable("no `general.architecture`: not a llama.cpp model".into()))?;
    if g.get_str("general.type") == Some("adapter") {
        return Err(unsuitable(format!(
            "this is a LoRA adapter for `{arch}`, not a base model; pass it to a skill instead"
        )));
    }
    if g.tensors.is_empty() {
        return Err(unsuitable("the file holds no tensors".into()));
    }
    let vocab_key = "tokenizer.ggml.tokens";
    if !matches!(g.metadata.get(vocab_key), Some(Value::Array { len, .. }) if *len > 0) {
        return Err(unsuitable(format!("no `{vocab_key}`: the model has no vocabulary")));
    }
    Ok(g)
}

#[cfg(test)]
mod tests;
