//! Skill prefixes' KV state on disk, so that a cold `trinity ask` (a new process each time)
//! does not evaluate the skill's prompt prefix again (589 tokens for `general`: a second or
//! more on a Pi-class CPU), and a restarted daemon starts warm.
//!
//! A file holds one prefix's KV sequence under one adapter set. Its name is the sha256 of
//! everything the state depends on ([`PrefixKey`]): the model file's sha256, each adapter's
//! sha256 and scale, the prefix text, this build (Trinity's version and llama.cpp's
//! system info). Its header repeats that key and carries the token count and the sha256 of
//! the data, all checked before llama.cpp sees a byte; a file that fails any check is
//! deleted and the prefix evaluated as before. The checksum catches damage, not an
//! attacker: whoever can write the cache directory is trusted as much as the model file. At most [`MAX_FILES`] are kept (the oldest
//! go first): ~18 KiB per token for the default model, ~10 MB per cached skill.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// File magic and format version.
const MAGIC: &[u8; 8] = b"TRNKV\x00\x00\x01";
/// Header: magic, key, token count (u32 LE), data length (u64 LE), data sha256.
const HEADER: usize = 8 + 32 + 4 + 8 + 32;
/// Files kept in the directory.
pub const MAX_FILES: usize = 16;
/// Prefixes shorter than this are evaluated, not cached (a file costs more than they do).
pub const MIN_TOKENS: usize = 32;

/// What a prefix's KV state depends on, hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefixKey(pub [u8; 32]);

impl PrefixKey {
    /// The key for `prefix` evaluated on the model with sha256 `model` under `adapters`
    /// (sha256, scale), by this build (`build`: version and llama.cpp's system info).
    pub fn new(model: &[u8; 32], adapters: &[([u8; 32], f32)], prefix: &str, build: &str) -> PrefixKey {
        let mut h = Sha256::new();
        h.update(b"trinity prefix kv 1\0");
        h.update(model);
        h.update((adapters.len() as u64).to_le_bytes());
        for (sha, scale) in adapters {
            h.update(sha);
            h.update(scale.to_bits().to_le_bytes());
        }
        h.update((build.len() as u64).to_le_bytes());
        h.update(build.as_bytes());
        h.update((prefix.len() as u64).to_le_bytes());
        h.update(prefix.as_bytes());
        PrefixKey(h.finalize().into())
    }

    fn file_name(&self) -> String {
        format!("{}.kv", hex(&self.0))
    }
}

/// The directory of cached prefixes.
#[derive(Debug, Clone)]
pub struct PrefixStore {
    dir: PathBuf,
}

impl PrefixStore {
    /// A store in `dir` (created on first save).
    pub fn new(dir: PathBuf) -> PrefixStore {
        PrefixStore { dir }
    }

    /// The cached state for `key`, if a file passes every check and holds `tokens` tokens.
    /// A file that fails a check is removed.
    pub fn load(&self, key: &PrefixKey, tokens: usize) -> Option<Vec<u8>> {
        let path = self.dir.join(key.file_name());
        let bytes = std::fs::read(&path).ok()?;
        match check(&bytes, key, tokens) {
            Some(()) => {
                // Touched: the most recently used files are kept.
                let _ = std::fs::File::options().append(true).open(&path).and_then(|f| f.set_modified(now()));
                Some(bytes[HEADER..].to_vec())
            }
            None => {
                tracing::warn!("prefix cache {}: failed its checks; removed", path.display());
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Keep `data` (the state of a `tokens`-token prefix) under `key`, atomically; errors
    /// are logged, never fatal (the cache is an optimisation).
    pub fn save(&self, key: &PrefixKey, tokens: usize, data: &[u8]) {
        if let Err(e) = self.try_save(key, tokens, data) {
            tracing::warn!("prefix cache {}: not saved: {e}", self.dir.display());
        }
    }

    fn try_save(&self, key: &PrefixKey, tokens: usize, data: &[u8]) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let path = self.dir.join(key.file_name());
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&header(key, tokens, data))?;
        f.write_all(data)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, &path)?;
        self.evict(&path);
        Ok(())
    }

    /// Remove the least recently used files beyond [`MAX_FILES`] (never `keep`).
    fn evict(&self, keep: &Path) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return };
        let paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        // Temporary files of a process that died mid-save, after ten minutes.
        for p in &paths {
            let tmp = p.extension().and_then(|e| e.to_str()).is_some_and(|e| e.starts_with("tmp"));
            let old = std::fs::metadata(p)
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|a| a > std::time::Duration::from_secs(600)));
            if tmp && old {
                let _ = std::fs::remove_file(p);
            }
        }
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = paths
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "kv") && p != keep)
            .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
            .collect();
        files.sort();
        let excess = (files.len() + 1).saturating_sub(MAX_FILES);
        for (_, p) in files.into_iter().take(excess) {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn now() -> std::time::SystemTime {
    std::time::SystemTime::now()
}

fn header(key: &PrefixKey, tokens: usize, data: &[u8]) -> Vec<u8> {
    let mut h = Vec::with_capacity(HEADER);
    h.extend_from_slice(MAGIC);
    h.extend_from_slice(&key.0);
    h.extend_from_slice(&(tokens as u32).to_le_bytes());
    h.extend_from_slice(&(data.len() as u64).to_le_bytes());
    h.extend_from_slice(&Sha256::digest(data));
    h
}

/// Every check of a file's bytes: magic, key, token count, length, data sha256.
fn check(bytes: &[u8], key: &PrefixKey, tokens: usize) -> Option<()> {
    let head = bytes.get(..HEADER)?;
    let data = &bytes[HEADER..];
    let n_tokens = u32::from_le_bytes(head[40..44].try_into().ok()?) as usize;
    let len = u64::from_le_bytes(head[44..52].try_into().ok()?);
    let ok = &head[..8] == MAGIC
        && head[8..40] == key.0
        && n_tokens == tokens
        && len == data.len() as u64
        && head[52..84] == Sha256::digest(data)[..];
    ok.then_some(())
}

/// The sha256 of the model file at `path`, computed once per file version and remembered in
/// `dir` (keyed by path, size and modification time): hashing 250 MB costs a second.
pub fn model_sha256(dir: &Path, path: &Path) -> Option<[u8; 32]> {
    let meta = std::fs::metadata(path).ok()?;
    let canonical = std::fs::canonicalize(path).ok()?;
    let mtime = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos();
    // The inode and ctime too: `cp -p` or `rsync -t` of another file keeps size and mtime.
    let (ino, ctime) = {
        use std::os::unix::fs::MetadataExt as _;
        (meta.ino(), (meta.ctime(), meta.ctime_nsec()))
    };
    let id = Sha256::digest(format!("{}\0{}\0{mtime}\0{ino}\0{ctime:?}", canonical.display(), meta.len()).as_bytes());
    let memo = dir.join(format!("model-{}.sha256", id.iter().take(8).map(|b| format!("{b:02x}")).collect::<String>()));
    if let Some(sha) = std::fs::read_to_string(&memo).ok().and_then(|s| parse_hex(s.trim())) {
        return Some(sha);
    }
    let text = crate::model_store::sha256_file(path).ok()?;
    let sha = parse_hex(&text)?;
    let _ = std::fs::create_dir_all(dir).and_then(|_| std::fs::write(&memo, &text));
    Some(sha)
}

/// A sha256 as lowercase hex.
pub fn hex(sha: &[u8; 32]) -> String {
    sha.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_hex(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(prefix: &str) -> PrefixKey {
        PrefixKey::new(&[1; 32], &[([2; 32], 1.0)], prefix, "build")
    }

    #[test]
    fn the_key_changes_with_everything_the_state_depends_on() {
        let k = key("p");
        assert_ne!(k, PrefixKey::new(&[9; 32], &[([2; 32], 1.0)], "p", "build"), "model");
        assert_ne!(k, PrefixKey::new(&[1; 32], &[([3; 32], 1.0)], "p", "build"), "adapter");
        assert_ne!(k, PrefixKey::new(&[1; 32], &[([2; 32], 0.5)], "p", "build"), "scale");
        assert_ne!(k, PrefixKey::new(&[1; 32], &[], "p", "build"), "no adapter");
        assert_ne!(k, key("q"), "prefix");
        assert_ne!(k, PrefixKey::new(&[1; 32], &[([2; 32], 1.0)], "p", "other build"), "build");
        assert_eq!(k, key("p"));
    }

    #[test]
    fn a_saved_state_comes_back_and_a_damaged_one_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = PrefixStore::new(dir.path().join("kv"));
        let (k, data) = (key("prefix"), vec![7u8; 1000]);
        assert_eq!(store.load(&k, 40), None);
        store.save(&k, 40, &data);
        assert_eq!(store.load(&k, 40).as_deref(), Some(&data[..]));
        assert_eq!(store.load(&k, 41), None, "another token count");
        assert_eq!(store.load(&k, 40), None, "a failed check removes the file");

        store.save(&k, 40, &data);
        let path = dir.path().join("kv").join(k.file_name());
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(store.load(&k, 40), None, "one flipped bit");
        assert!(!path.exists());
        std::fs::write(&path, &bytes[..HEADER - 1]).unwrap();
        assert_eq!(store.load(&k, 40), None, "truncated");
    }

    #[test]
    fn at_most_max_files_are_kept_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        let store = PrefixStore::new(dir.path().to_owned());
        for i in 0..MAX_FILES + 3 {
            store.save(&key(&i.to_string()), 40, &[i as u8]);
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let kept = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(kept, MAX_FILES);
        assert!(store.load(&key(&(MAX_FILES + 2).to_string()), 40).is_some(), "the newest is kept");
        assert!(store.load(&key("0"), 40).is_none(), "the oldest went");
    }

    #[test]
    fn the_model_hash_is_remembered_per_file_version() {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("m.gguf");
        std::fs::write(&model, b"weights").unwrap();
        let a = model_sha256(&dir.path().join("memo"), &model).unwrap();
        assert_eq!(a, parse_hex(&crate::model_store::sha256_file(&model).unwrap()).unwrap());
        assert_eq!(model_sha256(&dir.path().join("memo"), &model), Some(a));
        std::fs::write(&model, b"other weights").unwrap();
        assert_ne!(model_sha256(&dir.path().join("memo"), &model), Some(a), "size and mtime changed");
    }
}
