//! A loaded model and its vocabulary.

use std::ffi::CString;
use std::path::Path;
use std::ptr::NonNull;

use llama_cpp_sys_2 as sys;

use super::{init_backend, LlamaError, Token};
use trinity_gguf::{self as gguf, Gguf};

/// A base model loaded by llama.cpp. Read-only once loaded, so it may be shared.
pub struct Model {
    ptr: NonNull<sys::llama_model>,
    header: Gguf,
}

// SAFETY: a llama_model is immutable after loading; llama.cpp documents sharing one model
// between contexts on several threads.
unsafe impl Send for Model {}
// SAFETY: as above, every method takes `&self` and only reads the model.
unsafe impl Sync for Model {}

impl Model {
    /// Check `path` in Rust ([`gguf::check_model`]), then load it with llama.cpp on the CPU;
    /// `repack`: let llama.cpp copy weights into its faster kernels' layout ("extra buffer
    /// types", e.g. `CPU_REPACK`).
    pub fn load(path: &Path, repack: bool) -> Result<Model, LlamaError> {
        let header = gguf::check_model(path)?;
        init_backend();
        let c_path = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| LlamaError::Load(format!("{} (path contains a NUL byte)", path.display())))?;
        // SAFETY: default params are plain data; we only switch off GPU offload and, if
        // asked, weight repacking.
        let mut params = unsafe { sys::llama_model_default_params() };
        params.n_gpu_layers = 0;
        params.use_extra_bufts = repack;
        // SAFETY: c_path is a valid NUL-terminated string; the file passed `check_model`.
        let raw = unsafe { sys::llama_model_load_from_file(c_path.as_ptr(), params) };
        let ptr = NonNull::new(raw).ok_or_else(|| LlamaError::Load(path.display().to_string()))?;
        Ok(Model { ptr, header })
    }

    pub(crate) fn as_ptr(&self) -> *mut sys::llama_model {
        self.ptr.as_ptr()
    }

    /// The checked GGUF header this model was loaded from.
    pub fn header(&self) -> &Gguf {
        &self.header
    }

    fn vocab(&self) -> *const sys::llama_vocab {
        // SAFETY: the model pointer is valid for self's lifetime; the vocab lives as long.
        unsafe { sys::llama_model_get_vocab(self.as_ptr()) }
    }

    /// Number of tokens in the vocabulary.
    pub fn n_vocab(&self) -> usize {
        // SAFETY: valid vocab pointer.
        let n = unsafe { sys::llama_vocab_n_tokens(self.vocab()) };
        usize::try_from(n).unwrap_or(0)
    }

    /// Size of the weights in bytes.
    pub fn size_bytes(&self) -> u64 {
        // SAFETY: valid model pointer.
        unsafe { sys::llama_model_size(self.as_ptr()) }
    }

    /// The end-of-sequence token, if the vocabulary has one.
    pub fn eos(&self) -> Option<Token> {
        // SAFETY: valid vocab pointer.
        let t = unsafe { sys::llama_vocab_eos(self.vocab()) };
        (t >= 0).then_some(t)
    }

    /// True for end-of-generation tokens (EOS, EOT, …).
    pub fn is_eog(&self, token: Token) -> bool {
        // SAFETY: valid vocab pointer; any token id is accepted (out of range → false).
        unsafe { sys::llama_vocab_is_eog(self.vocab(), token) }
    }

    /// Tokenize `text`; `add_bos` adds the model's BOS token if it uses one. Special-token
    /// text is not parsed, so a command cannot inject control tokens.
    pub fn tokenize(&self, text: &str, add_bos: bool) -> Result<Vec<Token>, LlamaError> {
        let len = i32::try_from(text.len())
            .map_err(|_| LlamaError::Tokenize(format!("text of {} bytes is too long", text.len())))?;
        let mut tokens: Vec<Token> = vec![0; text.len() + 2];
        loop {
            let cap = i32::try_from(tokens.len()).unwrap_or(i32::MAX);
            // SAFETY: text points to `len` readable bytes; tokens has room for `cap` tokens.
            let n = unsafe {
                sys::llama_tokenize(self.vocab(), text.as_ptr().cast(), len, tokens.as_mut_ptr(), cap, add_bos, false)
            };
            if n >= 0 {
                tokens.truncate(n as usize);
                return Ok(tokens);
            }
            if n == i32::MIN {
                return Err(LlamaError::Tokenize("token count overflows".into()));
            }
            tokens.resize((-n) as usize, 0);
        }
    }

    /// The text of one token (raw bytes; a token may hold part of a UTF-8 character).
    pub fn token_bytes(&self, token: Token) -> Vec<u8> {
        let mut buf = vec![0u8; 32];
        loop {
            let cap = i32::try_from(buf.len()).unwrap_or(i32::MAX);
            // SAFETY: buf has `cap` writable bytes; llama.cpp writes at most that many.
            let n = unsafe { sys::llama_token_to_piece(self.vocab(), token, buf.as_mut_ptr().cast(), cap, 0, false) };
            if n >= 0 {
                buf.truncate(n as usize);
                return buf;
            }
            buf.resize((-n) as usize, 0);
        }
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: we own the pointer; every Context holds an Arc<Model>, so none outlives it.
        unsafe { sys::llama_model_free(self.as_ptr()) }
    }
}
