//! Our thin safe layer over llama.cpp (`llama-cpp-sys-2`). All `unsafe` in Trinity lives
//! in this crate, each block with a `// SAFETY:` note; every other crate forbids `unsafe_code`.
//!
//! Why not `llama-cpp-2`: its safe API holds one LoRA adapter at a time, and its
//! `LlamaSampler::sample` accepts the sampled token itself, which rules out the
//! "check one token against the grammar first" sampling that keeps constrained decoding
//! fast. What we need is small: load a model, a context with several KV sequences,
//! batches, logits, a grammar sampler we drive by hand, and sets of LoRA adapters.
//!
//! - [`model`] holds [`Model`] (loaded only after [`trinity_gguf::check_model`] accepted the file)
//!   and its vocabulary.
//! - [`context`] holds [`Context`]: decode, logits, KV sequences, threads.
//! - [`grammar`] holds [`Grammar`]: a GBNF sampler we apply to one candidate or to all.
//! - [`adapter`] holds [`Adapter`]: a LoRA adapter, checked in Rust and loaded from the
//!   bytes that were checked.

#![deny(missing_docs, unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

pub mod adapter;
pub mod context;
pub mod grammar;
pub mod model;

use std::ffi::{c_char, c_void, CStr};
use std::sync::Once;

pub use adapter::Adapter;
pub use context::{Context, ContextParams};
pub use grammar::Grammar;
pub use model::Model;

use llama_cpp_sys_2 as sys;

/// A token id.
pub type Token = sys::llama_token;

/// Errors of the binding layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LlamaError {
    /// The file was refused before llama.cpp saw it.
    #[error(transparent)]
    Check(#[from] trinity_gguf::GgufError),
    /// llama.cpp could not load a file it was given.
    #[error("llama.cpp could not load {0}")]
    Load(String),
    /// Context creation failed (usually out of memory).
    #[error("llama.cpp could not create a context of {n_ctx} tokens (out of memory?)")]
    Context {
        /// The context size asked for.
        n_ctx: u32,
    },
    /// `llama_decode` returned an error code.
    #[error("llama_decode failed with code {0}")]
    Decode(i32),
    /// The text could not be tokenized.
    #[error("tokenization failed: {0}")]
    Tokenize(String),
    /// The GBNF grammar was refused by llama.cpp's parser.
    #[error("llama.cpp refused the grammar (see the log above for the rule)")]
    Grammar,
    /// The prompt does not fit the context.
    #[error("{needed} tokens do not fit the context of {n_ctx}; shorten the command or raise n_ctx")]
    ContextFull {
        /// Tokens needed.
        needed: usize,
        /// Context size.
        n_ctx: u32,
    },
}

static INIT: Once = Once::new();

/// Initialise the llama.cpp backend once per process and route its log into `tracing`.
pub(crate) fn init_backend() {
    INIT.call_once(|| {
        // SAFETY: called once per process (guarded by `Once`) before any other llama call;
        // the callback is a plain `extern "C" fn` with no captured state.
        unsafe {
            sys::llama_log_set(Some(log_to_tracing), std::ptr::null_mut());
            sys::llama_backend_init();
        }
    });
}

unsafe extern "C" fn log_to_tracing(level: sys::ggml_log_level, text: *const c_char, _: *mut c_void) {
    if text.is_null() {
        return;
    }
    // SAFETY: llama.cpp passes a NUL-terminated string valid for the duration of the call.
    let text = unsafe { CStr::from_ptr(text) }.to_string_lossy();
    let text = text.trim_end();
    match level {
        sys::GGML_LOG_LEVEL_ERROR => tracing::error!(target: "llama.cpp", "{text}"),
        sys::GGML_LOG_LEVEL_WARN => tracing::warn!(target: "llama.cpp", "{text}"),
        sys::GGML_LOG_LEVEL_INFO => tracing::debug!(target: "llama.cpp", "{text}"),
        _ => tracing::trace!(target: "llama.cpp", "{text}"),
    }
}

/// llama.cpp's system info line: which SIMD kernels this build uses.
pub fn system_info() -> String {
    init_backend();
    // SAFETY: returns a pointer to a static NUL-terminated string owned by llama.cpp.
    unsafe { CStr::from_ptr(sys::llama_print_system_info()) }.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use trinity_gguf::GgmlType;

    use super::sys;

    /// The pure-Rust type table that checks GGUF files is ggml's own, id for id.
    #[test]
    fn gguf_type_table_matches_ggml() {
        for id in 0..sys::GGML_TYPE_COUNT + 2 {
            let ours = GgmlType(id).layout().map(|l| (l.block, l.bytes));
            let ggml = (id < sys::GGML_TYPE_COUNT)
                .then(|| {
                    // SAFETY: pure lookups into ggml's static type table; the index is in range.
                    let (blck, size) = unsafe { (sys::ggml_blck_size(id), sys::ggml_type_size(id)) };
                    Some((u64::try_from(blck).ok().filter(|b| *b > 0)?, u64::try_from(size).ok().filter(|s| *s > 0)?))
                })
                .flatten();
            assert_eq!(ours, ggml, "ggml type {id}");
            if ggml.is_some() {
                // SAFETY: as above; ggml_type_name returns a static NUL-terminated string.
                let name = unsafe { std::ffi::CStr::from_ptr(sys::ggml_type_name(id)) };
                assert_eq!(GgmlType(id).name(), name.to_str().ok(), "ggml type {id}");
            }
        }
    }
}
