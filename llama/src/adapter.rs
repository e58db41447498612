//! LoRA adapters: checked in Rust, then handed to llama.cpp from the very bytes checked.

use std::path::Path;
use std::ptr::NonNull;
use std::sync::Arc;

use llama_cpp_sys_2 as sys;
use sha2::Digest as _;

use super::{LlamaError, Model};
use trinity_gguf::{self as gguf, AdapterSummary, GgufError};

/// Largest adapter file accepted (a rank-64 adapter on every matrix of a 1B model is ~100 MB).
pub const MAX_ADAPTER_BYTES: u64 = 512 << 20;

/// A LoRA adapter loaded on a [`Model`]. Applied to a context with
/// [`super::Context::set_adapters`]; freed when the last holder drops it.
pub struct Adapter {
    ptr: NonNull<sys::llama_adapter_lora>,
    summary: AdapterSummary,
    bytes: u64,
    sha256: [u8; 32],
    // Keeps the model alive until `Drop::drop` has freed the adapter (fields drop after it).
    _model: Arc<Model>,
}

// SAFETY: an adapter's tensors are read-only after loading; llama.cpp only reads them during
// decode. Contexts using it hold an `Arc<Adapter>`, so it is freed only when none does.
unsafe impl Send for Adapter {}
// SAFETY: as above; no method mutates the adapter.
unsafe impl Sync for Adapter {}

impl Adapter {
    /// Read `path` once, check those bytes ([`gguf::read_bytes`], [`gguf::check_adapter`]
    /// against the model's header), and load exactly those bytes. A file that changes while
    /// this runs is either refused or loaded whole as it was read.
    pub fn load(model: &Arc<Model>, path: &Path) -> Result<Adapter, LlamaError> {
        let io = |source| LlamaError::Check(GgufError::Io { path: path.to_owned(), source });
        let len = std::fs::metadata(path).map_err(io)?.len();
        if len > MAX_ADAPTER_BYTES {
            return Err(LlamaError::Check(GgufError::Unsuitable {
                path: path.to_owned(),
                what: format!("{len} bytes is more than the {MAX_ADAPTER_BYTES}-byte limit for an adapter"),
            }));
        }
        let bytes = std::fs::read(path).map_err(io)?;
        Self::from_bytes(model, path, &bytes)
    }

    /// Check and load an adapter held in memory (`name` only labels errors and logs).
    pub fn from_bytes(model: &Arc<Model>, name: &Path, bytes: &[u8]) -> Result<Adapter, LlamaError> {
        let header = gguf::read_bytes(bytes, name)?;
        let summary = gguf::check_adapter(name, &header, model.header())?;
        gguf::check_adapter_data(name, &header, bytes)?;
        // SAFETY: fmemopen reads from `bytes` (which outlives the FILE: closed below) in read
        // mode, so the buffer is never written; the length is that of the slice.
        let file = unsafe { libc::fmemopen(bytes.as_ptr() as *mut libc::c_void, bytes.len(), c"r".as_ptr()) };
        if file.is_null() {
            return Err(LlamaError::Load(format!("{} (fmemopen failed)", name.display())));
        }
        // SAFETY: the model pointer is valid (we hold an Arc); `file` is an open read-only
        // stream over bytes that passed the checks above; llama.cpp does not close it.
        let raw = unsafe { sys::llama_adapter_lora_init_from_file_ptr(model.as_ptr(), file.cast()) };
        // SAFETY: `file` came from fmemopen and is closed exactly once.
        unsafe { libc::fclose(file) };
        let ptr = NonNull::new(raw).ok_or_else(|| LlamaError::Load(name.display().to_string()))?;
        let sha256 = sha2::Sha256::digest(bytes).into();
        Ok(Adapter { ptr, summary, bytes: bytes.len() as u64, sha256, _model: model.clone() })
    }

    pub(crate) fn as_ptr(&self) -> *mut sys::llama_adapter_lora {
        self.ptr.as_ptr()
    }

    /// Architecture, alpha, rank and number of target tensors.
    pub fn summary(&self) -> &AdapterSummary {
        &self.summary
    }

    /// Size of the adapter file in bytes.
    pub fn file_bytes(&self) -> u64 {
        self.bytes
    }

    /// sha256 of the adapter file (what a cached prefix evaluated under it is keyed by).
    pub fn sha256(&self) -> [u8; 32] {
        self.sha256
    }
}

impl Drop for Adapter {
    fn drop(&mut self) {
        // SAFETY: we own the adapter; the model is alive (we hold an Arc), and no context
        // uses it (each context holds an Arc to the adapters it has set).
        unsafe { sys::llama_adapter_lora_free(self.ptr.as_ptr()) }
    }
}
