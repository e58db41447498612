//! The inference engine: one thread owns the model and its context; async callers submit
//! jobs and may cancel a running one between tokens.
//!
//! A job is a prompt in two parts, a fixed `prefix` (a skill's instructions and few-shot
//! examples) and the command's own `text`, plus an optional GBNF grammar and the set of
//! LoRA adapters (with scales) to run it under. The engine keeps each recently used
//! (prefix, adapter set) evaluated in its own KV sequence (`slots.rs`), so a command
//! evaluates only its own tokens, whichever skill it belongs to. Decoding is greedy: a robot
//! should do the same thing for the same words.
//!
//! Adapters are loaded on the engine thread ([`Engine::load_adapter`], checked in Rust
//! first) and referred to by [`AdapterId`]; unloading one frees it once no job uses it.
//!
//! - this file: [`Engine`], [`Job`], [`JobHandle`], [`Generation`], the thread and its queue;
//! - `worker.rs`: what the thread does with a job (adapters, prefix reuse, decode, grammar);
//!   [`Engine::scripted`] puts a script in its place for tests;
//! - `slots.rs`: which KV sequence holds which prefix;
//! - [`disk`]: evaluated prefixes kept on disk for the next process.

pub mod disk;
mod slots;
mod worker;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use tokio::sync::oneshot;

use trinity_gguf::AdapterSummary;
use trinity_llama::LlamaError;

/// A loaded adapter's handle. Ids are never reused within an engine.
pub type AdapterId = u64;

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
    /// Evaluate text the grammar forces in one decode with the token before it instead of
    /// one decode per token ("jump-forward"; see `worker.rs`). Off only to measure it.
    pub jump_forward: bool,
    /// Guess the tokens after a plan token from the command's own tokens (a number the
    /// plan copies: `9` `0` of "turn left 90 degrees") and check the guess in the same
    /// decode ("prompt lookup"; see `worker.rs`). Off only to measure it.
    pub draft: bool,
    /// Keep evaluated prefixes' KV state in this directory and reuse it in later processes
    /// ([`disk`]); `None`: only in memory.
    pub prefix_dir: Option<PathBuf>,
    /// Let llama.cpp repack weights for its fastest CPU kernels (`[model] repack`).
    pub repack: bool,
}

impl EngineConfig {
    /// Defaults for `model`: all cores, 4 cached prefixes of up to 1024 tokens each
    /// (prefix + command + plan; the KV cache holds 4096 tokens in all).
    pub fn new(model: PathBuf) -> Self {
        let threads = thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        EngineConfig {
            model,
            threads,
            n_ctx: 1024,
            prefix_slots: 4,
            jump_forward: true,
            draft: true,
            prefix_dir: None,
            repack: true,
        }
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
    /// LoRA adapters and scales to run under (empty: the base model).
    pub adapters: Vec<(AdapterId, f32)>,
    /// Who the job is for (a skill name); labels its cached prefix in reports.
    pub label: String,
    /// A command cut into steps ([`crate::clauses`]): each step's `text`, generated one by
    /// one after the same prefix, grammar and adapters, and the outputs joined when every
    /// one is a JSON array of one or more items; `text` when any is not. Empty: `text`.
    pub parts: Vec<String>,
}

impl Job {
    /// A job that only makes sure `prefix` is cached under `adapters` (nothing generated).
    pub fn warm(prefix: String, adapters: Vec<(AdapterId, f32)>, label: String) -> Job {
        Job {
            prefix,
            text: String::new(),
            grammar: None,
            max_tokens: 0,
            stop_at: None,
            adapters,
            label,
            parts: Vec::new(),
        }
    }
}

/// Run `job` on `w`: its [`Job::parts`] one by one and their arrays joined into one, or its
/// `text` when it has none or one of them is no array of items (an empty `[]`, no closing
/// `]`, an error other than a cancel). A step said twice ("…, four times") is generated once.
/// After a fall back, the counters are the whole text's only (the steps' time is in the
/// caller's wall clock).
fn run_job(w: &mut dyn Backend, job: &Job, cancel: &AtomicBool) -> Result<Generation, EngineError> {
    if job.parts.is_empty() {
        return w.run(job, cancel);
    }
    let mut done: Vec<(&str, Generation)> = Vec::new();
    let mut items: Vec<String> = Vec::new();
    for part in &job.parts {
        let g = match done.iter().find(|(t, _)| *t == part.as_str()) {
            Some((_, g)) => g.clone(),
            None => {
                // A step that fails (other than by a cancel) is a step that is no plan.
                let g = match w.run(&Job { text: part.clone(), parts: Vec::new(), ..job.clone() }, cancel) {
                    Ok(g) => g,
                    Err(EngineError::Canceled) => return Err(EngineError::Canceled),
                    Err(_) => return w.run(job, cancel),
                };
                done.push((part, g.clone()));
                g
            }
        };
        let inner = g.text.trim().strip_prefix('[').and_then(|t| t.strip_suffix(']')).map(str::trim);
        match inner {
            Some(inner) if g.stop == StopReason::StopText && !inner.is_empty() => items.push(inner.to_owned()),
            _ => return w.run(job, cancel),
        }
    }
    let gens = done.iter().map(|(_, g)| g);
    let sum = |f: fn(&Generation) -> usize| gens.clone().map(f).sum::<usize>();
    let time = |f: fn(&Generation) -> Duration| gens.clone().map(f).sum::<Duration>();
    Ok(Generation {
        text: format!(" [{}]", items.join(",")),
        stop: StopReason::StopText,
        prefix_cached_tokens: sum(|g| g.prefix_cached_tokens),
        prefix_tokens: sum(|g| g.prefix_tokens),
        prefix_from_disk: gens.clone().any(|g| g.prefix_from_disk),
        prefix_time: time(|g| g.prefix_time),
        prompt_tokens: sum(|g| g.prompt_tokens),
        prompt_time: time(|g| g.prompt_time),
        generated_tokens: sum(|g| g.generated_tokens),
        forced_tokens: sum(|g| g.forced_tokens),
        drafted_tokens: sum(|g| g.drafted_tokens),
        decodes: sum(|g| g.decodes),
        generation_time: time(|g| g.generation_time),
        grammar_fallbacks: sum(|g| g.grammar_fallbacks),
        confidence: gens.clone().map(|g| g.confidence).fold(1.0, f32::min),
        parts: job.parts.len(),
    })
}

/// A loaded adapter.
#[derive(Debug, Clone)]
pub struct AdapterInfo {
    /// Its id for [`Job::adapters`].
    pub id: AdapterId,
    /// The file it was read from.
    pub path: PathBuf,
    /// File size in bytes.
    pub file_bytes: u64,
    /// What the checks found.
    pub summary: AdapterSummary,
    /// Read + check + load time.
    pub load_time: Duration,
}

/// One cached prompt prefix.
#[derive(Debug, Clone, PartialEq)]
pub struct PrefixCacheEntry {
    /// The job label (skill) that filled it.
    pub label: String,
    /// Prefix tokens held.
    pub tokens: usize,
    /// KV cache memory they take, in bytes (f16 K and V).
    pub kv_bytes: u64,
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StopReason {
    /// The output ended with the job's `stop_at`.
    StopText,
    /// The model produced an end-of-generation token.
    EndOfText,
    /// `max_tokens` were generated.
    #[default]
    MaxTokens,
}

/// What a job produced, with its timings.
#[derive(Debug, Clone, Default)]
pub struct Generation {
    /// The generated text.
    pub text: String,
    /// Why generation ended.
    pub stop: StopReason,
    /// Prefix tokens reused from the cache (0 when the prefix was evaluated for this job).
    pub prefix_cached_tokens: usize,
    /// Prefix tokens evaluated for this job.
    pub prefix_tokens: usize,
    /// The prefix's KV state came from the disk cache ([`disk`]); it counts as cached, and
    /// `prefix_time` is the time to load it.
    pub prefix_from_disk: bool,
    /// Time spent evaluating the prefix.
    pub prefix_time: Duration,
    /// The job's own prompt tokens evaluated.
    pub prompt_tokens: usize,
    /// Time spent evaluating them.
    pub prompt_time: Duration,
    /// Tokens generated.
    pub generated_tokens: usize,
    /// Of `generated_tokens`, those the grammar forced and jump-forward evaluated together
    /// with the token before them (not sampled; see `worker.rs`).
    pub forced_tokens: usize,
    /// Of `generated_tokens`, those guessed from the command and checked in the decode
    /// before (drafting; see `worker.rs`): each saved a decode of its own.
    pub drafted_tokens: usize,
    /// Decodes during generation: one per sampled token, less the last (a closing `]`, or
    /// the `max_tokens`-th, is not evaluated); forced tokens ride along with the one before,
    /// and so do guessed tokens (drafting), which need no decode of their own when kept.
    pub decodes: usize,
    /// Time spent generating (sampling + decoding).
    pub generation_time: Duration,
    /// Tokens the grammar refused as the model's first choice (each cost a full-vocabulary pass).
    pub grammar_fallbacks: usize,
    /// The lowest probability the model gave any token it chose (softmax over the whole
    /// vocabulary, before the grammar): 1 when every token was certain, near 0 when one was
    /// a guess. Tokens the grammar forced are certain and not counted. 1 when nothing was
    /// generated.
    pub confidence: f32,
    /// How many steps of [`Job::parts`] were planned one by one and joined (the lowest
    /// confidence of them is the plan's); 0 when the job's `text` was generated whole.
    pub parts: usize,
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
    /// llama.cpp could not cut a sequence back (the guessed tokens after a wrong guess).
    #[error("llama.cpp could not remove tokens from its cache")]
    CacheCut,
    /// A job names an adapter that is not loaded (it was unloaded meanwhile).
    #[error("adapter {0} is not loaded")]
    UnknownAdapter(AdapterId),
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
    /// KV cache bytes per token (f16), from the model's hyperparameters.
    pub kv_bytes_per_token: u64,
    /// The base model's checked header (for checking adapters before they are sent here).
    pub header: Arc<trinity_gguf::Gguf>,
}

enum Request {
    Job { job: Job, cancel: Arc<AtomicBool>, reply: oneshot::Sender<Result<Generation, EngineError>> },
    LoadAdapter { path: PathBuf, reply: oneshot::Sender<Result<AdapterInfo, EngineError>> },
    UnloadAdapter { id: AdapterId, reply: oneshot::Sender<bool> },
    PrefixCache { reply: oneshot::Sender<Vec<PrefixCacheEntry>> },
}

/// What the engine thread runs jobs on: the model (`worker.rs`), or a script
/// ([`Engine::scripted`]).
trait Backend {
    fn run(&mut self, job: &Job, cancel: &AtomicBool) -> Result<Generation, EngineError>;
    fn load_adapter(&mut self, path: &Path) -> Result<AdapterInfo, EngineError>;
    fn unload_adapter(&mut self, id: AdapterId) -> bool;
    fn prefix_cache(&self) -> Vec<PrefixCacheEntry>;
}

type Script = Box<dyn FnMut(&Job, &AtomicBool) -> Result<Generation, EngineError> + Send>;

struct Scripted(Script);

impl Backend for Scripted {
    fn run(&mut self, job: &Job, cancel: &AtomicBool) -> Result<Generation, EngineError> {
        (self.0)(job, cancel)
    }

    fn load_adapter(&mut self, path: &Path) -> Result<AdapterInfo, EngineError> {
        Err(EngineError::Llama(LlamaError::Load(format!("{}: a scripted engine loads no adapters", path.display()))))
    }

    fn unload_adapter(&mut self, _id: AdapterId) -> bool {
        false
    }

    fn prefix_cache(&self) -> Vec<PrefixCacheEntry> {
        Vec::new()
    }
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
        Engine::spawn(move || {
            let w = worker::Worker::new(&config)?;
            Ok((w.info(), Box::new(w) as Box<dyn Backend>))
        })
    }

    /// An engine that answers every job with `script` instead of a model: the daemon's
    /// contract (ids, queue, cancel, e-stop, events) tested in milliseconds, and a planner
    /// that is slow, fails or panics on demand. No adapters load on it. Its `info` names the
    /// model `scripted` with an empty header.
    pub fn scripted(
        script: impl FnMut(&Job, &AtomicBool) -> Result<Generation, EngineError> + Send + 'static,
    ) -> Engine {
        let info = EngineInfo {
            model: PathBuf::from("scripted"),
            architecture: "scripted".into(),
            model_bytes: 0,
            threads: 1,
            n_ctx: 1024,
            kv_bytes_per_token: 0,
            header: Arc::new(trinity_gguf::Gguf {
                version: 3,
                metadata: Default::default(),
                tensors: Vec::new(),
                data_offset: 0,
                file_size: 0,
            }),
        };
        // Infallible: only the thread's spawn can fail, and then the handle reads Stopped.
        let stopped = || Engine { tx: None, thread: None, info: info.clone() };
        let ready = info.clone();
        Engine::spawn(move || Ok((ready, Box::new(Scripted(Box::new(script))) as Box<dyn Backend>)))
            .unwrap_or_else(|_| stopped())
    }

    /// The engine thread around whatever `make` builds on it (the model is loaded there, so
    /// that llama.cpp's state never moves between threads).
    fn spawn(
        make: impl FnOnce() -> Result<(EngineInfo, Box<dyn Backend>), EngineError> + Send + 'static,
    ) -> Result<Engine, EngineError> {
        let (tx, rx) = mpsc::channel::<Request>();
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("trinity-engine".into())
            .spawn(move || {
                let mut w = match make() {
                    Ok((info, w)) => {
                        let _ = ready_tx.send(Ok(info));
                        w
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                while let Ok(req) = rx.recv() {
                    match req {
                        Request::Job { job, cancel, reply } => {
                            let result = if cancel.load(Ordering::Relaxed) {
                                Err(EngineError::Canceled)
                            } else {
                                run_job(w.as_mut(), &job, &cancel)
                            };
                            let _ = reply.send(result);
                        }
                        Request::LoadAdapter { path, reply } => {
                            let _ = reply.send(w.load_adapter(&path));
                        }
                        Request::UnloadAdapter { id, reply } => {
                            let _ = reply.send(w.unload_adapter(id));
                        }
                        Request::PrefixCache { reply } => {
                            let _ = reply.send(w.prefix_cache());
                        }
                    }
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
            let _ = tx.send(Request::Job { job, cancel: cancel.clone(), reply });
        }
        JobHandle { cancel, rx }
    }

    fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Request) -> oneshot::Receiver<T> {
        let (reply, rx) = oneshot::channel();
        if let Some(tx) = &self.tx {
            let _ = tx.send(make(reply));
        }
        rx
    }

    /// Read, check and load a LoRA adapter (after the jobs queued before it). Blocking:
    /// call from a plain thread or `spawn_blocking`.
    pub fn load_adapter(&self, path: &Path) -> Result<AdapterInfo, EngineError> {
        let rx = self.ask(|reply| Request::LoadAdapter { path: path.to_owned(), reply });
        rx.blocking_recv().unwrap_or(Err(EngineError::Stopped))
    }

    /// Unload an adapter: jobs queued later that name it fail with
    /// [`EngineError::UnknownAdapter`], and the prefixes cached under it are dropped.
    /// False if it was not loaded. Blocking, as [`Engine::load_adapter`].
    pub fn unload_adapter(&self, id: AdapterId) -> bool {
        self.ask(|reply| Request::UnloadAdapter { id, reply }).blocking_recv().unwrap_or(false)
    }

    /// The cached prompt prefixes and their KV memory (after the jobs queued before).
    pub async fn prefix_cache(&self) -> Vec<PrefixCacheEntry> {
        self.ask(|reply| Request::PrefixCache { reply }).await.unwrap_or_default()
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// An engine whose output is the job's text looked up in `outputs` (with its
    /// confidence), recording every text it was asked for.
    fn engine(outputs: &'static [(&'static str, &'static str, f32)]) -> (Engine, Arc<Mutex<Vec<String>>>) {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        let engine = Engine::scripted(move |job, _| {
            log.lock().unwrap().push(job.text.clone());
            let (_, text, confidence) = outputs.iter().find(|(t, _, _)| *t == job.text).expect("a scripted text");
            Ok(Generation {
                text: (*text).into(),
                stop: StopReason::StopText,
                generated_tokens: 3,
                confidence: *confidence,
                ..Default::default()
            })
        });
        (engine, asked)
    }

    fn job(text: &str, parts: &[&str]) -> Job {
        Job {
            text: text.into(),
            parts: parts.iter().map(|p| p.to_string()).collect(),
            ..Job::warm(String::new(), Vec::new(), "t".into())
        }
    }

    const OUTPUTS: &[(&str, &str, f32)] =
        &[("whole", " [W]", 0.9), ("a", " [A]", 0.8), ("b", " [B1, B2]", 0.6), ("nothing", " []", 1.0)];

    #[test]
    fn parts_are_generated_one_by_one_and_their_arrays_joined() {
        let (engine, asked) = engine(OUTPUTS);
        let g = engine.submit(job("whole", &["a", "b", "a", "b"])).wait().unwrap();
        assert_eq!(g.text, " [A,B1, B2,A,B1, B2]");
        assert_eq!(g.parts, 4);
        assert_eq!(g.confidence, 0.6, "the lowest of the parts");
        assert_eq!(g.generated_tokens, 6, "counted once per generation");
        assert_eq!(*asked.lock().unwrap(), ["a", "b"], "a repeated step is generated once");
    }

    #[test]
    fn a_part_that_is_no_plan_falls_back_to_the_whole_text() {
        let (engine, asked) = engine(OUTPUTS);
        let g = engine.submit(job("whole", &["a", "nothing", "b"])).wait().unwrap();
        assert_eq!((g.text.as_str(), g.parts, g.confidence), (" [W]", 0, 0.9));
        assert_eq!(*asked.lock().unwrap(), ["a", "nothing", "whole"]);
        // One part (the command without its fillers) is planned alone; none: the whole text.
        let g = engine.submit(job("whole", &["a"])).wait().unwrap();
        assert_eq!((g.text.as_str(), g.parts), (" [A]", 1));
        let g = engine.submit(job("whole", &[])).wait().unwrap();
        assert_eq!((g.text.as_str(), g.parts), (" [W]", 0));
    }
}
