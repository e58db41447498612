//! A GBNF grammar sampler that we drive by hand.
//!
//! Stock grammar sampling checks all 262k candidates of Gemma's vocabulary against the
//! grammar for every token, which costs ~3x the decode itself. [`Grammar::allows`] checks a
//! single token instead, so the engine can take the model's own best token when the grammar
//! allows it and fall back to [`Grammar::filter`] over the whole vocabulary only when not
//! (what llama.cpp's common sampler does). [`Grammar::accept`] advances the grammar; the
//! caller accepts each token exactly once.

use std::ffi::CString;
use std::ptr::NonNull;

use llama_cpp_sys_2 as sys;

use super::{LlamaError, Model, Token};

/// A compiled grammar with its parse state.
pub struct Grammar {
    ptr: NonNull<sys::llama_sampler>,
}

// SAFETY: the sampler is owned by one thread at a time (`&mut self` for every call).
unsafe impl Send for Grammar {}

impl Grammar {
    /// Compile `gbnf` (start symbol `root`) for `model`'s vocabulary.
    pub fn new(model: &Model, gbnf: &str) -> Result<Grammar, LlamaError> {
        let text = CString::new(gbnf).map_err(|_| LlamaError::Grammar)?;
        // SAFETY: both strings are NUL-terminated; the vocab pointer is valid for `model`'s
        // lifetime, which the engine keeps longer than any grammar (Arc<Model> in Context).
        let raw = unsafe {
            let vocab = sys::llama_model_get_vocab(model.as_ptr());
            sys::llama_sampler_init_grammar(vocab, text.as_ptr(), c"root".as_ptr())
        };
        NonNull::new(raw).map(|ptr| Grammar { ptr }).ok_or(LlamaError::Grammar)
    }

    fn apply(&mut self, data: &mut [sys::llama_token_data]) {
        let mut arr =
            sys::llama_token_data_array { data: data.as_mut_ptr(), size: data.len(), selected: -1, sorted: false };
        // SAFETY: arr points at `data.len()` valid entries for the duration of the call;
        // the grammar only rewrites logits in place.
        unsafe { sys::llama_sampler_apply(self.ptr.as_ptr(), &mut arr) };
    }

    /// Whether the grammar, in its current state, allows `token` next.
    pub fn allows(&mut self, token: Token) -> bool {
        let mut one = [sys::llama_token_data { id: token, logit: 0.0, p: 0.0 }];
        self.apply(&mut one);
        one[0].logit != f32::NEG_INFINITY
    }

    /// Set the logit of every token the grammar forbids to -inf. `scratch` is reused
    /// between calls to avoid a 262k-entry allocation per token.
    pub fn filter(&mut self, logits: &[f32], scratch: &mut Vec<sys::llama_token_data>) {
        scratch.clear();
        scratch.extend(logits.iter().enumerate().map(|(i, &logit)| sys::llama_token_data {
            id: i as Token,
            logit,
            p: 0.0,
        }));
        self.apply(scratch);
    }

    /// A copy with the same parse state, to look ahead without moving this one.
    pub fn try_clone(&self) -> Option<Grammar> {
        // SAFETY: valid sampler; llama_sampler_clone deep-copies the grammar (rules and
        // stacks) into a new sampler that we own, or returns NULL.
        let raw = unsafe { sys::llama_sampler_clone(self.ptr.as_ptr()) };
        NonNull::new(raw).map(|ptr| Grammar { ptr })
    }

    /// Back to the start state, for the next generation.
    pub fn reset(&mut self) {
        // SAFETY: valid sampler.
        unsafe { sys::llama_sampler_reset(self.ptr.as_ptr()) }
    }

    /// Advance the grammar past `token`. Call once per generated token.
    pub fn accept(&mut self, token: Token) {
        // SAFETY: valid sampler; the engine only accepts tokens the grammar allowed.
        unsafe { sys::llama_sampler_accept(self.ptr.as_ptr(), token) }
    }
}

impl Drop for Grammar {
    fn drop(&mut self) {
        // SAFETY: we own the sampler; freed once.
        unsafe { sys::llama_sampler_free(self.ptr.as_ptr()) }
    }
}

/// One entry of a candidates array, re-exported for scratch buffers.
pub type TokenData = sys::llama_token_data;
