//! What the engine thread does with one job.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::path::Path;

use super::disk::{self, PrefixKey, PrefixStore};
use super::slots::{Lookup, SlotKey, Slots};
use super::{
    AdapterId, AdapterInfo, Backend, EngineConfig, EngineError, EngineInfo, Generation, Job, PrefixCacheEntry,
    StopReason,
};
use trinity_llama::grammar::TokenData;
use trinity_llama::{Adapter, Context, ContextParams, Grammar, Model, Token};

pub(super) struct Worker {
    ctx: Context,
    slots: Slots,
    /// Loaded adapters by id.
    adapters: HashMap<AdapterId, Arc<Adapter>>,
    next_adapter: AdapterId,
    /// Compiled grammars by source text (compiling is not free; reset is).
    grammars: HashMap<String, Grammar>,
    /// Reused candidates buffer for full-vocabulary grammar passes.
    scratch: Vec<TokenData>,
    /// Printable ASCII characters and their single-character tokens (for jump-forward;
    /// empty when it is off).
    ascii: Vec<(u8, Token)>,
    /// Check guessed plan tokens from the command in the same decode ([`draft`]).
    draft: bool,
    /// Prefixes on disk, the model's sha256 and this build's identity (their key parts).
    disk: Option<(PrefixStore, [u8; 32], String)>,
    info: EngineInfo,
}

/// Longest forced run looked ahead at once (the longest in a plan is ~20 characters).
const MAX_FORCED_CHARS: usize = 48;

/// The text `grammar` allows next and nothing else, one character at a time, and the
/// characters it allows after that text. Only for grammars over ASCII (every character the
/// grammar can allow is then in `ascii`, so "one allowed" means "forced"). `eos` counts as
/// an alternative: where the grammar may end, nothing is forced.
fn forced_text(grammar: &Grammar, ascii: &[(u8, Token)], eos: Option<Token>) -> Forced {
    let Some(mut probe) = grammar.try_clone() else { return Forced::default() };
    let mut text = Vec::new();
    loop {
        let allowed: Vec<(u8, Token)> = ascii.iter().copied().filter(|&(_, t)| probe.allows(t)).collect();
        let may_end = eos.is_some_and(|t| probe.allows(t));
        if allowed.len() != 1 || may_end || text.len() >= MAX_FORCED_CHARS {
            return Forced { text, next: allowed.into_iter().map(|(c, _)| c).collect() };
        }
        probe.accept(allowed[0].1);
        text.push(allowed[0].0);
    }
}

/// What [`forced_text`] found.
#[derive(Default)]
struct Forced {
    /// The characters the grammar allows next and nothing else.
    text: Vec<u8>,
    /// The characters it allows after them.
    next: Vec<u8>,
}

/// Jump-forward's character probe covers every character a grammar can allow only when
/// the grammar is printable ASCII without escapes or negated classes (`\n`, `\x41`,
/// `[^"]` could allow what the probe never tries). The plan grammars are.
fn plain_ascii_grammar(gbnf: &str) -> bool {
    gbnf.bytes().all(|b| b == b'\n' || (0x20..0x7f).contains(&b))
        && !gbnf.contains("[^")
        && !["\\n", "\\r", "\\t", "\\x", "\\u", "\\U"].iter().any(|e| gbnf.contains(e))
}

/// The tokens to append for `forced` after `generated` (whose text is `text`), as the model's
/// tokenizer writes the whole text: the model was trained on that tokenization, not on
/// pieces. Empty when tokenizing the whole would re-split what is already generated.
/// Tokens that a character the grammar allows next could re-split are held back (left to
/// the model), so whatever follows, the tokens written stay the tokenizer's own.
fn forced_tokens(model: &Model, text: &[u8], generated: &[Token], forced: &[u8], next: &[u8]) -> Vec<Token> {
    let mut full = Vec::with_capacity(text.len() + forced.len() + 1);
    full.extend_from_slice(text);
    full.extend_from_slice(forced);
    let tokenize = |bytes: &[u8]| std::str::from_utf8(bytes).ok().and_then(|s| model.tokenize(s, false).ok());
    let Some(all) = tokenize(&full) else { return Vec::new() };
    if !all.starts_with(generated) {
        return Vec::new();
    }
    let mut new = all[generated.len()..].to_vec();
    // The tokens that stay put whatever character comes next.
    for &c in next {
        full.push(c);
        let then = tokenize(&full);
        full.pop();
        let Some(then) = then.filter(|t| t.starts_with(generated)) else { return Vec::new() };
        let stable = new.iter().zip(&then[generated.len()..]).take_while(|(a, b)| a == b).count();
        new.truncate(stable);
    }
    new
}

/// Longest guess checked in one decode.
const MAX_DRAFT: usize = 6;

/// Tokens the plan may copy from the command next ("prompt lookup"): where `last` (the
/// plan's last token) occurs in the command, the tokens after it there, as far as the
/// grammar allows them (the longest such run over every occurrence). A plan copies its
/// numbers: after the `9` of "turn left 90 degrees", the guess is `0`. Nothing is accepted
/// on a guess: each guessed token is checked against what the model picks at its place
/// (`generate`), so the plan is the one decoding token by token would give.
/// A guess ends before a token after which the grammar forces text (jump-forward's, with
/// `ascii`): that text is jump-forward's to write, as without drafting.
fn draft(command: &[Token], last: Token, grammar: &Grammar, ascii: &[(u8, Token)], eos: Option<Token>) -> Vec<Token> {
    let mut best = Vec::new();
    for (i, _) in command.iter().enumerate().filter(|(_, &t)| t == last) {
        let Some(mut probe) = grammar.try_clone() else { return Vec::new() };
        let mut run = Vec::new();
        for &t in command[i + 1..].iter().take(MAX_DRAFT) {
            if Some(t) == eos || !probe.allows(t) {
                break;
            }
            probe.accept(t);
            if !ascii.is_empty() && !forced_text(&probe, ascii, eos).text.is_empty() {
                break;
            }
            run.push(t);
        }
        if run.len() > best.len() {
            best = run;
        }
    }
    best
}

/// The softmax probability of `token` under `logits` (the model's own, before any grammar):
/// how sure the model was of what it wrote.
fn probability(logits: &[f32], token: usize) -> f32 {
    let Some(&l) = logits.get(token) else { return 0.0 };
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if !max.is_finite() || !l.is_finite() {
        return 0.0;
    }
    let sum: f32 = logits.iter().map(|&x| (x - max).exp()).sum();
    (l - max).exp() / sum
}

/// Index of the largest logit (first on ties), skipping -inf.
fn argmax(logits: &[f32]) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (i, &l) in logits.iter().enumerate() {
        if l > f32::NEG_INFINITY && best.is_none_or(|(_, b)| l > b) {
            best = Some((i, l));
        }
    }
    best.map(|(i, _)| i)
}

impl Worker {
    pub(super) fn new(config: &EngineConfig) -> Result<Worker, EngineError> {
        let model = Arc::new(Model::load(&config.model, config.repack)?);
        let threads = i32::try_from(config.threads.max(1)).unwrap_or(1);
        let params =
            ContextParams { n_ctx_seq: config.n_ctx, n_batch: 512, n_seq_max: config.prefix_slots.max(1), threads };
        let info = EngineInfo {
            model: config.model.clone(),
            architecture: model.header().architecture().unwrap_or("?").to_owned(),
            model_bytes: model.size_bytes(),
            threads: threads as usize,
            n_ctx: config.n_ctx,
            kv_bytes_per_token: model.header().kv_bytes_per_token().unwrap_or(0),
            header: Arc::new(model.header().clone()),
        };
        // Jump-forward needs a token that is exactly each printable ASCII character (a
        // vocabulary that writes `a` as `▁a` has none): all 95 or it stays off.
        let mut ascii = Vec::new();
        if config.jump_forward {
            for c in 0x20u8..0x7f {
                if let Ok(t) = model.tokenize(&(c as char).to_string(), false) {
                    if let [one] = t[..] {
                        if model.token_bytes(one) == [c] {
                            ascii.push((c, one));
                        }
                    }
                }
            }
            if ascii.len() != 95 {
                tracing::info!("jump-forward off: this vocabulary has no plain token for every ASCII character");
                ascii.clear();
            }
        }
        let disk = config.prefix_dir.as_ref().and_then(|dir| {
            let sha = disk::model_sha256(dir, &config.model)?;
            // This very build: llama.cpp's state format has no version of its own, so any
            // rebuild (another llama.cpp included) starts a new cache.
            let exe = std::env::current_exe().and_then(std::fs::metadata).ok();
            let exe = exe.map(|m| format!("{} {:?}", m.len(), m.modified().ok())).unwrap_or_default();
            let build = format!("trinity {} {exe} {}", env!("CARGO_PKG_VERSION"), trinity_llama::system_info());
            Some((PrefixStore::new(dir.clone()), sha, build))
        });
        let ctx = Context::new(model, params)?;
        Ok(Worker {
            disk,
            ctx,
            slots: Slots::new(params.n_seq_max as usize),
            adapters: HashMap::new(),
            next_adapter: 1,
            grammars: HashMap::new(),
            scratch: Vec::new(),
            ascii,
            draft: config.draft,
            info,
        })
    }

    pub(super) fn info(&self) -> EngineInfo {
        self.info.clone()
    }
}

impl Backend for Worker {
    fn load_adapter(&mut self, path: &Path) -> Result<AdapterInfo, EngineError> {
        let t0 = Instant::now();
        let adapter = Adapter::load(self.ctx.model(), path)?;
        let id = self.next_adapter;
        self.next_adapter += 1;
        let info = AdapterInfo {
            id,
            path: path.to_owned(),
            file_bytes: adapter.file_bytes(),
            summary: adapter.summary().clone(),
            load_time: t0.elapsed(),
        };
        self.adapters.insert(id, Arc::new(adapter));
        Ok(info)
    }

    fn unload_adapter(&mut self, id: AdapterId) -> bool {
        for seq in self.slots.invalidate_adapter(id) {
            self.ctx.seq_rm(seq, -1, -1);
        }
        // The context may still hold it as its current set; it is freed when that changes.
        self.adapters.remove(&id).is_some()
    }

    fn prefix_cache(&self) -> Vec<PrefixCacheEntry> {
        let per_token = self.info.kv_bytes_per_token;
        self.slots
            .filled()
            .into_iter()
            .map(|(label, tokens)| PrefixCacheEntry { label, tokens, kv_bytes: tokens as u64 * per_token })
            .collect()
    }

    fn run(&mut self, job: &Job, cancel: &AtomicBool) -> Result<Generation, EngineError> {
        let canceled = || cancel.load(Ordering::Relaxed);
        let model = self.ctx.model().clone();

        // 0. The adapter set: zero scales are the base model, so they are left out (and the
        //    base's cached prefix serves them).
        let mut set = Vec::with_capacity(job.adapters.len());
        for &(id, scale) in job.adapters.iter().filter(|(_, s)| *s != 0.0) {
            let a = self.adapters.get(&id).ok_or(EngineError::UnknownAdapter(id))?;
            set.push((a.clone(), scale));
        }
        let key = SlotKey {
            prefix: job.prefix.clone(),
            adapters: job.adapters.iter().filter(|(_, s)| *s != 0.0).map(|(id, s)| (*id, s.to_bits())).collect(),
        };
        self.ctx.set_adapters(&set);

        // 1. The prefix: reuse its KV sequence, or evaluate it into one.
        let t0 = Instant::now();
        let mut saved_in = Duration::ZERO;
        let (seq, prefix_len, prefix_cached, from_disk) = match self.slots.lookup(&key) {
            Lookup::Hit { seq, len } => (seq, len, true, false),
            Lookup::Miss { seq } => {
                self.ctx.seq_rm(seq, -1, -1);
                let tokens = model.tokenize(&job.prefix, true)?;
                // From disk when an earlier process evaluated the same prefix under the same
                // adapters (every byte checked first), else evaluated, then kept there.
                let on_disk =
                    self.disk.as_ref().filter(|_| tokens.len() >= disk::MIN_TOKENS).map(|(store, sha, build)| {
                        let adapters: Vec<([u8; 32], f32)> = set.iter().map(|(a, s)| (a.sha256(), *s)).collect();
                        (store.clone(), PrefixKey::new(sha, &adapters, &job.prefix, build))
                    });
                let restored = on_disk
                    .as_ref()
                    .and_then(|(store, k)| store.load(k, tokens.len()))
                    .is_some_and(|data| self.ctx.set_seq_state(seq, &data));
                if !restored {
                    if !self.ctx.decode(&tokens, 0, seq, || !canceled())? {
                        self.ctx.seq_rm(seq, -1, -1);
                        return Err(EngineError::Canceled);
                    }
                    if let Some((store, k)) = &on_disk {
                        // Timed apart: on an SD card the write can take longer than a decode.
                        let evaluated = t0.elapsed();
                        let state = self.ctx.seq_state(seq);
                        if !state.is_empty() {
                            store.save(k, tokens.len(), &state);
                        }
                        tracing::debug!("prefix evaluated in {evaluated:?}, saved in {:?}", t0.elapsed() - evaluated);
                        saved_in = t0.elapsed() - evaluated;
                    }
                }
                self.slots.fill(seq, &key, &job.label, tokens.len());
                (seq, tokens.len(), restored, restored)
            }
        };
        let prefix_time = if prefix_cached && !from_disk { Duration::ZERO } else { t0.elapsed() - saved_in };
        if job.text.is_empty() && job.max_tokens == 0 {
            // A warm-up job: the prefix is cached, nothing to generate.
            return Ok(Generation {
                prefix_cached_tokens: if prefix_cached { prefix_len } else { 0 },
                prefix_tokens: if prefix_cached { 0 } else { prefix_len },
                prefix_from_disk: from_disk,
                prefix_time,
                ..Generation::default()
            });
        }

        // 2. The job's own tokens, then generation; afterwards cut the sequence back to
        //    its prefix whatever happened, so the cache stays exact.
        let result = self.generate(job, seq, prefix_len, cancel);
        if !self.ctx.seq_rm(seq, prefix_len as i32, -1) {
            self.ctx.seq_rm(seq, -1, -1);
            self.slots.invalidate(seq);
        }
        let mut g = result?;
        g.prefix_cached_tokens = if prefix_cached { prefix_len } else { 0 };
        g.prefix_tokens = if prefix_cached { 0 } else { prefix_len };
        g.prefix_from_disk = from_disk;
        g.prefix_time = prefix_time;
        Ok(g)
    }
}

impl Worker {
    fn generate(
        &mut self,
        job: &Job,
        seq: i32,
        prefix_len: usize,
        cancel: &AtomicBool,
    ) -> Result<Generation, EngineError> {
        let canceled = || cancel.load(Ordering::Relaxed);
        let model = self.ctx.model().clone();
        let t_prompt = Instant::now();
        let tokens = model.tokenize(&job.text, false)?;
        let needed = prefix_len + tokens.len() + job.max_tokens;
        if needed > self.ctx.n_ctx() as usize {
            return Err(trinity_llama::LlamaError::ContextFull { needed, n_ctx: self.ctx.n_ctx() }.into());
        }
        if !self.ctx.decode(&tokens, prefix_len as i32, seq, || !canceled())? {
            return Err(EngineError::Canceled);
        }
        let prompt_time = t_prompt.elapsed();

        let mut grammar = match &job.grammar {
            Some(src) => {
                let g = match self.grammars.remove(src) {
                    Some(g) => g,
                    None => Grammar::new(&model, src)?,
                };
                Some(g)
            }
            None => None,
        };
        if let Some(g) = grammar.as_mut() {
            g.reset();
        }

        // Jump-forward: where the grammar forces the next characters (`","distance_m":`
        // after an action name), their tokens are evaluated in the same decode as the token
        // before them instead of being sampled one decode each. Only for ASCII grammars.
        let jump = !self.ascii.is_empty() && job.grammar.as_ref().is_some_and(|g| plain_ascii_grammar(g));
        let eos = model.eos();

        let t_gen = Instant::now();
        let mut out: Vec<u8> = Vec::new();
        let mut out_tokens: Vec<Token> = Vec::new();
        let mut pos = (prefix_len + tokens.len()) as i32;
        let mut generated = 0;
        let mut forced_n = 0;
        let mut decodes = 0;
        let mut fallbacks = 0;
        let mut stop = StopReason::MaxTokens;
        let mut confidence = 1.0f32;
        // Forced text not yet written (jump-forward left it to the model): a token inside it
        // was no choice, so it does not count towards the confidence.
        let mut pending: Vec<u8> = Vec::new();
        let stopped = |out: &[u8]| job.stop_at.as_ref().is_some_and(|s| out.ends_with(s.as_bytes()));
        // Which logits the next token is picked from (counted from the last decode's end),
        // and the token already picked there (a guess that was not the model's choice).
        let mut row = 1;
        let mut picked: Option<Token> = None;
        let drafting = self.draft && job.grammar.is_some();
        let mut drafted = 0;
        let result = 'gen: loop {
            if canceled() {
                break Err(EngineError::Canceled);
            }
            let token = match picked.take().or_else(|| self.pick(grammar.as_mut(), row, &mut fallbacks)) {
                Some(t) => t,
                None => break Err(EngineError::GrammarDeadEnd(String::from_utf8_lossy(&out).into())),
            };
            if model.is_eog(token) {
                stop = StopReason::EndOfText;
                break Ok(());
            }
            let bytes = model.token_bytes(token);
            if !(pending.len() >= bytes.len() && pending.starts_with(&bytes)) {
                confidence = confidence.min(probability(self.ctx.logits_from_end(row), token as usize));
            }
            pending.clear();
            if let Some(g) = grammar.as_mut() {
                g.accept(token);
            }
            out.extend_from_slice(&bytes);
            out_tokens.push(token);
            generated += 1;
            if stopped(&out) {
                stop = StopReason::StopText;
                break Ok(());
            }
            if generated >= job.max_tokens {
                // The last token's logits would never be read: skip its decode.
                break Ok(());
            }
            let mut batch = vec![token];
            if let (true, Some(g)) = (jump, grammar.as_mut()) {
                let Forced { text, next } = forced_text(g, &self.ascii, eos);
                if !text.is_empty() {
                    let mut more = forced_tokens(&model, &out, &out_tokens, &text, &next);
                    more.truncate(job.max_tokens - generated);
                    let mut written = 0;
                    for t in more {
                        if !g.allows(t) {
                            break;
                        }
                        g.accept(t);
                        let b = model.token_bytes(t);
                        written += b.len();
                        out.extend_from_slice(&b);
                        out_tokens.push(t);
                        batch.push(t);
                        generated += 1;
                        forced_n += 1;
                    }
                    pending = text.get(written..).unwrap_or_default().to_vec();
                }
                if stopped(&out) {
                    stop = StopReason::StopText;
                    break Ok(());
                }
                if generated >= job.max_tokens {
                    break Ok(());
                }
            }
            // Drafting: the tokens the plan may copy from the command next ride along, each
            // with its logits kept, and are checked below.
            let guess = match (drafting && pending.is_empty(), grammar.as_ref()) {
                (true, Some(g)) => {
                    let ascii: &[(u8, Token)] = if jump { &self.ascii } else { &[] };
                    let mut d = draft(&tokens, *batch.last().unwrap_or(&token), g, ascii, eos);
                    // Within the tokens left, and within one batch (logits are kept only there).
                    d.truncate((job.max_tokens - generated).min(self.ctx.n_batch().saturating_sub(batch.len())));
                    d
                }
                _ => Vec::new(),
            };
            let n_fixed = batch.len();
            batch.extend_from_slice(&guess);
            if let Err(e) = self.ctx.decode_outputs(&batch, pos, seq, 1 + guess.len(), || true) {
                break Err(e.into());
            }
            decodes += 1;
            pos += n_fixed as i32;
            row = 1 + guess.len();
            // Each guessed token is kept only where the model, given everything before it,
            // picks it itself; at the first other pick, the rest is dropped from the cache
            // and that pick is the next token.
            for &g in &guess {
                let Some(choice) = self.pick(grammar.as_mut(), row, &mut fallbacks) else {
                    break 'gen Err(EngineError::GrammarDeadEnd(String::from_utf8_lossy(&out).into()));
                };
                if choice != g {
                    picked = Some(choice);
                    if !self.ctx.seq_rm(seq, pos, -1) {
                        break 'gen Err(EngineError::CacheCut);
                    }
                    break;
                }
                confidence = confidence.min(probability(self.ctx.logits_from_end(row), g as usize));
                if let Some(gr) = grammar.as_mut() {
                    gr.accept(g);
                }
                out.extend_from_slice(&model.token_bytes(g));
                out_tokens.push(g);
                generated += 1;
                drafted += 1;
                pos += 1;
                row -= 1;
                if stopped(&out) {
                    stop = StopReason::StopText;
                    break 'gen Ok(());
                }
                if generated >= job.max_tokens {
                    break 'gen Ok(());
                }
            }
            if picked.is_none() {
                row = 1;
            }
        };
        if let (Some(src), Some(g)) = (&job.grammar, grammar) {
            self.grammars.insert(src.clone(), g);
        }
        result?;
        Ok(Generation {
            text: String::from_utf8_lossy(&out).into_owned(),
            stop,
            prefix_cached_tokens: 0,
            prefix_tokens: 0,
            prefix_from_disk: false,
            prefix_time: Duration::ZERO,
            prompt_tokens: tokens.len(),
            prompt_time,
            generated_tokens: generated,
            forced_tokens: forced_n,
            drafted_tokens: drafted,
            decodes,
            generation_time: t_gen.elapsed(),
            grammar_fallbacks: fallbacks,
            confidence,
            parts: 0,
        })
    }

    /// Greedy choice. With a grammar: the model's best token if the grammar allows it,
    /// else the best of what the grammar allows (one full-vocabulary pass).
    fn pick(&mut self, grammar: Option<&mut Grammar>, row: usize, fallbacks: &mut usize) -> Option<Token> {
        let logits = self.ctx.logits_from_end(row);
        let best = argmax(logits)? as Token;
        let Some(g) = grammar else { return Some(best) };
        if g.allows(best) {
            return Some(best);
        }
        *fallbacks += 1;
        g.filter(logits, &mut self.scratch);
        self.scratch
            .iter()
            .filter(|t| t.logit > f32::NEG_INFINITY)
            .max_by(|a, b| a.logit.total_cmp(&b.logit).then(b.id.cmp(&a.id)))
            .map(|t| t.id)
    }
}

#[cfg(test)]
mod tests {
    use super::{argmax, probability};

    #[test]
    fn probability_is_the_softmax_of_the_token() {
        let p = probability(&[0.0, 0.0], 1);
        assert!((p - 0.5).abs() < 1e-6, "{p}");
        let p = probability(&[10.0, 0.0, f32::NEG_INFINITY], 0);
        assert!(p > 0.9999 && p <= 1.0, "{p}");
        assert_eq!(probability(&[f32::NEG_INFINITY, 1.0], 0), 0.0);
        assert_eq!(probability(&[1.0], 5), 0.0);
    }

    #[test]
    fn argmax_takes_the_first_of_equal_maxima_and_skips_neg_inf() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0, 2.0]), Some(1));
        assert_eq!(argmax(&[f32::NEG_INFINITY, -5.0]), Some(1));
        assert_eq!(argmax(&[f32::NEG_INFINITY]), None);
        assert_eq!(argmax(&[]), None);
    }
}
