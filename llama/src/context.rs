//! An inference context: KV cache, batches, logits.

use std::ptr::NonNull;
use std::sync::Arc;

use llama_cpp_sys_2 as sys;

use super::{Adapter, LlamaError, Model, Token};

/// How to size a context.
#[derive(Debug, Clone, Copy)]
pub struct ContextParams {
    /// Context length of each sequence, in tokens.
    pub n_ctx_seq: u32,
    /// Most tokens per `llama_decode` call.
    pub n_batch: u32,
    /// Number of KV sequences (one per cached prompt prefix).
    pub n_seq_max: u32,
    /// Threads for generation and for prompt batches.
    pub threads: i32,
}

/// A llama.cpp context on a shared [`Model`]. Not `Sync`: one thread drives it.
pub struct Context {
    ptr: NonNull<sys::llama_context>,
    batch: sys::llama_batch,
    params: ContextParams,
    /// The adapters llama.cpp applies now, kept alive while it may use them.
    adapters: Vec<(Arc<Adapter>, f32)>,
    model: Arc<Model>,
    /// How many tokens of the last successful decode kept their logits (the last ones).
    outputs: usize,
}

// SAFETY: a llama_context may move between threads as long as one thread at a time uses it;
// `Context` is not `Sync` and every mutating call takes `&mut self`.
unsafe impl Send for Context {}

impl Context {
    /// Create a context on `model`.
    pub fn new(model: Arc<Model>, params: ContextParams) -> Result<Context, LlamaError> {
        // SAFETY: default params are plain data.
        let mut cp = unsafe { sys::llama_context_default_params() };
        cp.n_ctx = params.n_ctx_seq * params.n_seq_max;
        cp.n_batch = params.n_batch;
        cp.n_ubatch = params.n_batch;
        cp.n_seq_max = params.n_seq_max;
        cp.n_threads = params.threads;
        cp.n_threads_batch = params.threads;
        // A KV stream per sequence: each sequence holds another skill's prefix, so they
        // share nothing, and attention then spans only the sequence's own cells (with one
        // unified buffer, every prompt would attend over every cached prefix, masked).
        // Full-size sliding-window caches, so that a sequence can be cut back to its prefix
        // (Gemma 3 uses SWA layers).
        cp.kv_unified = false;
        cp.swa_full = true;
        cp.no_perf = true;
        // SAFETY: the model pointer is valid and outlives the context (we hold an Arc).
        let raw = unsafe { sys::llama_init_from_model(model.as_ptr(), cp) };
        let ptr = NonNull::new(raw).ok_or(LlamaError::Context { n_ctx: cp.n_ctx })?;
        // SAFETY: allocates arrays for n_batch tokens with one seq id each; freed in Drop.
        let batch = unsafe { sys::llama_batch_init(params.n_batch as i32, 0, 1) };
        Ok(Context { ptr, batch, params, adapters: Vec::new(), model, outputs: 0 })
    }

    /// The model this context runs.
    pub fn model(&self) -> &Arc<Model> {
        &self.model
    }

    /// The most tokens one decode evaluates in one batch; [`Context::decode_outputs`] keeps
    /// logits only within the last batch.
    pub fn n_batch(&self) -> usize {
        self.params.n_batch as usize
    }

    /// The context length of one sequence, in tokens.
    pub fn n_ctx(&self) -> u32 {
        // SAFETY: valid context pointer.
        unsafe { sys::llama_n_ctx_seq(self.ptr.as_ptr()) }
    }

    /// Evaluate `tokens` at positions `pos0..` of sequence `seq`, in batches. Logits are kept
    /// for the last token only. `keep_going` is asked between batches; when it says no, the
    /// call stops early and returns `Ok(false)`.
    pub fn decode(
        &mut self,
        tokens: &[Token],
        pos0: i32,
        seq: i32,
        keep_going: impl FnMut() -> bool,
    ) -> Result<bool, LlamaError> {
        self.decode_outputs(tokens, pos0, seq, 1, keep_going)
    }

    /// [`Context::decode`], keeping the logits of the last `outputs` tokens (at least one,
    /// at most the tokens' number and one batch): to check several guessed tokens in one
    /// decode ([`Context::logits_from_end`]).
    pub fn decode_outputs(
        &mut self,
        tokens: &[Token],
        pos0: i32,
        seq: i32,
        outputs: usize,
        mut keep_going: impl FnMut() -> bool,
    ) -> Result<bool, LlamaError> {
        if tokens.is_empty() {
            return Ok(true);
        }
        let n_batch = self.params.n_batch as usize;
        // Only the last chunk's tokens can keep their logits.
        let outputs = outputs.clamp(1, (tokens.len() - 1) % n_batch + 1);
        self.outputs = 0;
        let end = pos0 as usize + tokens.len();
        if end > self.n_ctx() as usize {
            return Err(LlamaError::ContextFull { needed: end, n_ctx: self.n_ctx() });
        }
        for (ci, chunk) in tokens.chunks(n_batch).enumerate() {
            if ci > 0 && !keep_going() {
                return Ok(false);
            }
            let last_chunk = (ci + 1) * n_batch >= tokens.len();
            for (i, &tok) in chunk.iter().enumerate() {
                // SAFETY: i < n_batch, the capacity llama_batch_init allocated for every array,
                // and each seq_id row holds one id (n_seq_max = 1 in batch_init).
                unsafe {
                    *self.batch.token.add(i) = tok;
                    *self.batch.pos.add(i) = pos0 + (ci * n_batch + i) as i32;
                    *self.batch.n_seq_id.add(i) = 1;
                    *(*self.batch.seq_id.add(i)) = seq;
                    *self.batch.logits.add(i) = i8::from(last_chunk && i + outputs >= chunk.len());
                }
            }
            self.batch.n_tokens = chunk.len() as i32;
            // SAFETY: the batch is filled for n_tokens entries; the context is valid.
            let rc = unsafe { sys::llama_decode(self.ptr.as_ptr(), self.batch) };
            if rc != 0 {
                return Err(LlamaError::Decode(rc));
            }
        }
        self.outputs = outputs;
        Ok(true)
    }

    /// Apply exactly these LoRA adapters with these scales from the next decode on (an empty
    /// set: the base model alone). Cheap when the set is unchanged.
    pub fn set_adapters(&mut self, set: &[(Arc<Adapter>, f32)]) {
        let same = set.len() == self.adapters.len()
            && set.iter().zip(&self.adapters).all(|((a, s), (b, t))| Arc::ptr_eq(a, b) && s == t);
        if same {
            return;
        }
        let mut ptrs: Vec<*mut sys::llama_adapter_lora> = set.iter().map(|(a, _)| a.as_ptr()).collect();
        let mut scales: Vec<f32> = set.iter().map(|(_, s)| *s).collect();
        // SAFETY: both arrays hold `set.len()` entries; every adapter was loaded on this
        // context's model and stays alive while stored in `self.adapters` (replaced only
        // after llama.cpp has switched to the new set).
        unsafe { sys::llama_set_adapters_lora(self.ptr.as_ptr(), ptrs.as_mut_ptr(), ptrs.len(), scales.as_mut_ptr()) };
        self.adapters = set.to_vec();
    }

    /// Logits of the last evaluated token (one per vocabulary entry).
    pub fn last_logits(&self) -> &[f32] {
        self.logits_from_end(1)
    }

    /// The logits after the `k`-th last token of the last decode (`1`: the last token), or
    /// empty when that decode did not keep them.
    pub fn logits_from_end(&self, k: usize) -> &[f32] {
        if k == 0 || k > self.outputs {
            return &[];
        }
        let n = self.model.n_vocab();
        // SAFETY: the last successful decode requested logits for its last `self.outputs`
        // tokens (k <= outputs), which llama.cpp holds as n_vocab floats per output, indexed
        // from the end by -k, until the next decode (which needs `&mut self`, so the borrow
        // cannot outlive them).
        unsafe {
            let p = sys::llama_get_logits_ith(self.ptr.as_ptr(), -(k as i32));
            if p.is_null() {
                return &[];
            }
            std::slice::from_raw_parts(p, n)
        }
    }

    fn memory(&self) -> sys::llama_memory_t {
        // SAFETY: valid context pointer; the memory handle lives as long as the context.
        unsafe { sys::llama_get_memory(self.ptr.as_ptr()) }
    }

    /// `seq`'s KV cache in llama.cpp's own serialization, to keep outside the context (the
    /// prefix cache on disk).
    pub fn seq_state(&mut self, seq: i32) -> Vec<u8> {
        // SAFETY: valid context; the buffer holds the `n` bytes llama.cpp asked for, and it
        // writes at most that many.
        unsafe {
            let n = sys::llama_state_seq_get_size(self.ptr.as_ptr(), seq);
            let mut buf = vec![0u8; n];
            let written = sys::llama_state_seq_get_data(self.ptr.as_ptr(), buf.as_mut_ptr(), n, seq);
            buf.truncate(written);
            buf
        }
    }

    /// Put `data` from [`Context::seq_state`] back into `seq` (emptied first). llama.cpp
    /// parses it as its own: the caller must have checked its integrity (a checksum over
    /// what this process family wrote). False when llama.cpp refuses it; `seq` is then empty.
    pub fn set_seq_state(&mut self, seq: i32, data: &[u8]) -> bool {
        self.seq_rm(seq, -1, -1);
        // SAFETY: valid context; `data` is readable for its length for the whole call.
        let read = unsafe { sys::llama_state_seq_set_data(self.ptr.as_ptr(), data.as_ptr(), data.len(), seq) };
        if read == 0 {
            self.seq_rm(seq, -1, -1);
        }
        read != 0
    }

    /// Drop positions `p0..p1` of `seq` from the KV cache (`p1 < 0`: to the end).
    /// False when the cache cannot cut a sequence there (then remove the whole sequence).
    pub fn seq_rm(&mut self, seq: i32, p0: i32, p1: i32) -> bool {
        // SAFETY: valid memory handle; any seq/pos values are accepted.
        unsafe { sys::llama_memory_seq_rm(self.memory(), seq, p0, p1) }
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: we own both; the batch was made by llama_batch_init; freed once.
        unsafe {
            sys::llama_batch_free(self.batch);
            sys::llama_free(self.ptr.as_ptr());
        }
    }
}
