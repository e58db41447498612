//! The inference engine: one thread owns the model and its context; async callers submit
//! jobs and may cancel a running one between tokens.
//!
//! A job is a prompt in two parts, a fixed `prefix` (a skill's instructions and few-shot
//! examples) and the command's own `text`, plus an optional GBNF grammar. The engine keeps
//! each recently used prefix evaluated in its own KV sequence (`slots.rs`), so a command
//! evaluates only its own tokens. Decoding is greedy: a robot should do the same thing
//! for the same words.
//!
//! - this file: [`Engine`], [`Job`], [`JobHandle`], [`Generation`], the thread and its queue;
//! - `worker.rs`: what the thread does with a job (prefix reuse, decode, grammar sampling);
//! - `slots.rs`: which KV sequence holds which prefix.

mod slots;
mod worker;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::llama::LlamaError;

/// How to start an engine.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The GGUF model (checked in Rust before llama.cpp opens it).
    pub model: PathBuf,
    /// Inference threads.
    pub threads: usize,
    /// Context length of each prefix slot: its prefix, the command and the output.
    pub n_ctx: u32,
    /// How many prompt prefixes stay cached (one KV sequence each).
    pub prefix_slots: u32,
}

impl EngineConfig {
    /// Defaults for `model`: all cores, 4 cached prefixes of up to 1024 tokens each
    /// (prefix + command + plan; the KV cache holds 4096 tokens in all).
    pub fn new(model: PathBuf) -> Self {
        let threads = thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        EngineConfig { model, threads, n_ctx: 1024, prefix_slots: 4 }
    }
}

/// One generation request.
#[derive(Debug, Clone)]
pub struct Job {
    /// The fixed part of the prompt; cached across jobs that share it.
    pub prefix: String,
    /// The per-job part, evaluated after the prefix.
    pub text: String,
    /// GBNF (start symbol `root`) the output must follow; `None`: unconstrained.
    pub grammar: Option<String>,
    /// Most tokens to generate.
    pub max_tokens: usize,
    /// Stop once the output ends with this (checked after each token).
    pub stop_at: Option<String>,
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The output ended with the job's `stop_at`.
    StopText,
    /// The model produced an end-of-generation token.
    EndOfText,
    /// `max_tokens` were generated.
    MaxTokens,
}

/// What a job produced, with its timings.
#[derive(Debug, Clone)]
pub struct Generation {
    /// The generated text.
    pub text: String,
    /// Why generation ended.
    pub stop: StopReason,
    /// Prefix tokens reused from the cache (0 when the prefix was evaluated for this job).
    pub prefix_cached_tokens: usize,
    /// Prefix tokens evaluated for this job.
    pub prefix_tokens: usize,
    /// Time spent evaluating the prefix.
    pub prefix_time: Duration,
    /// The job's own prompt tokens evaluated.
    pub prompt_tokens: usize,
    /// Time spent evaluating them.
    pub prompt_time: Duration,
    /// Tokens generated.
    pub generated_tokens: usize,
    /// Single-token decodes during generation: one fewer than the tokens, since the last
    /// token (a closing `]`, or the `max_tokens`-th) is not evaluated.
    pub decodes: usize,
    /// Time spent generating (sampling + decoding).
    pub generation_time: Duration,
    /// Tokens the grammar refused as the model's first choice (each cost a full-vocabulary pass).
    pub grammar_fallbacks: usize,
}

/// Errors of the engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// llama.cpp or the model check failed.
    #[error(transparent)]
    Llama(#[from] LlamaError),
    /// The job was canceled.
    #[error("canceled")]
    Canceled,
    /// The grammar allows no token in this state (a bug in the grammar).
    #[error("the grammar allows no continuation after {0:?}")]
    GrammarDeadEnd(String),
    /// The engine thread is gone.
    #[error("the inference engine has stopped")]
    Stopped,
}

/// What the running engine serves.
#[derive(Debug, Clone)]
pub struct EngineInfo {
    /// Model path.
    pub model: PathBuf,
    /// `general.architecture` of the model.
    pub architecture: String,
    /// Weights size in bytes.
    pub model_bytes: u64,
    /// Inference threads.
    pub threads: usize,
    /// Context length per prefix slot.
    pub n_ctx: u32,
}

struct Request {
    job: Job,
    cancel: Arc<AtomicBool>,
    reply: oneshot::Sender<Result<Generation, EngineError>>,
}

/// Handle to the engine thread. Dropping it stops the thread after the running job.
pub struct Engine {
    tx: Option<mpsc::Sender<Request>>,
    thread: Option<thread::JoinHandle<()>>,
    info: EngineInfo,
}

/// A submitted job: cancel it, or wait for its result.
pub struct JobHandle {
    cancel: Arc<AtomicBool>,
    rx: oneshot::Receiver<Result<Generation, EngineError>>,
}

impl JobHandle {
    /// Ask the engine to stop this job at the next token (or before it starts).
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// Wait for the result (async).
    pub async fn result(self) -> Result<Generation, EngineError> {
        self.rx.await.unwrap_or(Err(EngineError::Stopped))
    }

    /// Wait for the result, blocking this thread (not for use inside an async task).
    pub fn wait(self) -> Result<Generation, EngineError> {
        self.rx.blocking_recv().unwrap_or(Err(EngineError::Stopped))
    }
}

impl Engine {
    /// Check and load the model on a new thread; returns once it is ready or failed.
    pub fn start(config: EngineConfig) -> Result<Engine, EngineError> {
        let (tx, rx) = mpsc::channel::<Request>();
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("trinity-engine".into())
            .spawn(move || {
                let mut w = match worker::Worker::new(&config) {
                    Ok(w) => {
                        let _ = ready_tx.send(Ok(w.info()));
                        w
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                while let Ok(req) = rx.recv() {
                    let result = if req.cancel.load(Ordering::Relaxed) {
                        Err(EngineError::Canceled)
                    } else {
                        w.run(&req.job, &req.cancel)
                    };
                    let _ = req.reply.send(result);
                }
            })
            .map_err(|e| EngineError::Llama(LlamaError::Load(format!("engine thread: {e}"))))?;
        let info = ready_rx.recv().map_err(|_| EngineError::Stopped)??;
        Ok(Engine { tx: Some(tx), thread: Some(thread), info })
    }

    /// What this engine serves.
    pub fn info(&self) -> &EngineInfo {
        &self.info
    }

    /// Queue a job. Jobs run one at a time, in order.
    pub fn submit(&self, job: Job) -> JobHandle {
        self.submit_with(job, Arc::new(AtomicBool::new(false)))
    }

    /// Queue a job whose cancel flag the caller made (and may already have shared, so that a
    /// cancel before this call is not lost).
    pub fn submit_with(&self, job: Job, cancel: Arc<AtomicBool>) -> JobHandle {
        let (reply, rx) = oneshot::channel();
        if let Some(tx) = &self.tx {
            // A send error means the thread is gone; the dropped `reply` then reads as Stopped.
            let _ = tx.send(Request { job, cancel: cancel.clone(), reply });
        }
        JobHandle { cancel, rx }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
