//! A bundle's chunks on disk while it downloads: `{root}/{sha256}/{index}`, each written
//! only after its hash matched the announcement's, so what is on disk is always good and a
//! transfer resumes where it stopped (after a reconnect or a restart). Disk use is bounded:
//! one bundle's chunks at a time per skill, each bundle at most `MAX_BUNDLE_BYTES`, and
//! [`prune`] removes every other download.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{sha256_hex, BlobRef};

/// One bundle's download.
#[derive(Debug)]
pub struct Download {
    dir: PathBuf,
    blob: BlobRef,
    have: Vec<bool>,
    bytes: u64,
}

/// What [`Download::put`] made of a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    /// New and good.
    Stored,
    /// Had it already.
    Duplicate,
}

impl Download {
    /// Open (or resume) the download of `blob` under `root`: chunks already on disk are
    /// checked again and kept if good.
    pub fn open(root: &Path, blob: BlobRef) -> std::io::Result<Download> {
        let dir = root.join(&blob.sha256);
        std::fs::create_dir_all(&dir)?;
        let mut d = Download { have: vec![false; blob.chunks.len()], dir, blob, bytes: 0 };
        for i in 0..d.have.len() {
            let p = d.dir.join(i.to_string());
            match std::fs::read(&p) {
                Ok(bytes) if sha256_hex(&bytes) == d.blob.chunks[i] && bytes.len() as u64 == d.chunk_len(i) => {
                    d.have[i] = true;
                    d.bytes += bytes.len() as u64;
                }
                Ok(_) => {
                    let _ = std::fs::remove_file(&p);
                }
                Err(_) => {}
            }
        }
        Ok(d)
    }

    /// The bundle being downloaded.
    pub fn blob(&self) -> &BlobRef {
        &self.blob
    }

    fn chunk_len(&self, i: usize) -> u64 {
        let c = u64::from(self.blob.chunk_bytes);
        if i + 1 == self.have.len() {
            self.blob.size - c * (self.have.len() as u64 - 1)
        } else {
            c
        }
    }

    /// Keep chunk `index` if it is the one announced.
    pub fn put(&mut self, index: usize, bytes: &[u8]) -> Result<Put, String> {
        let Some(&have) = self.have.get(index) else {
            return Err(format!("chunk {index} of {}: no such chunk", self.have.len()));
        };
        if have {
            return Ok(Put::Duplicate);
        }
        if bytes.len() as u64 != self.chunk_len(index) || sha256_hex(bytes) != self.blob.chunks[index] {
            return Err(format!("chunk {index}: {} bytes that are not the announced chunk", bytes.len()));
        }
        let p = self.dir.join(index.to_string());
        let tmp = self.dir.join(format!(".{index}.tmp"));
        std::fs::File::create(&tmp)
            .and_then(|mut f| f.write_all(bytes))
            .and_then(|()| std::fs::rename(&tmp, &p))
            .map_err(|e| format!("{}: {e}", p.display()))?;
        self.have[index] = true;
        self.bytes += bytes.len() as u64;
        Ok(Put::Stored)
    }

    /// Bytes received and checked.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The indices of the chunks still missing, in order.
    pub fn missing_indices(&self) -> impl Iterator<Item = usize> + '_ {
        self.have.iter().enumerate().filter(|(_, h)| !**h).map(|(i, _)| i)
    }

    /// Chunks still missing.
    pub fn missing(&self) -> usize {
        self.have.iter().filter(|h| !**h).count()
    }

    /// Join the chunks into `{root}/{sha256}.tskill`, check the whole file's hash, and
    /// remove the chunks. Call when nothing is missing.
    pub fn assemble(self) -> Result<PathBuf, String> {
        if self.missing() > 0 {
            return Err(format!("{} chunks missing", self.missing()));
        }
        let out = self.dir.with_extension(crate::skills::bundle::EXTENSION);
        let mut bytes = Vec::with_capacity(self.blob.size as usize);
        for i in 0..self.have.len() {
            let p = self.dir.join(i.to_string());
            bytes.extend(std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        if sha256_hex(&bytes) != self.blob.sha256 {
            return Err("the chunks do not make the announced bundle (its sha256 differs)".into());
        }
        std::fs::write(&out, &bytes).map_err(|e| format!("{}: {e}", out.display()))?;
        Ok(out)
    }
}

/// Remove every download under `root` but those of `keep` (bundle sha256s).
pub fn prune(root: &Path, keep: &[&str]) {
    let Ok(entries) = std::fs::read_dir(root) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let sha = name.split('.').next().unwrap_or("");
        if keep.contains(&sha) {
            continue;
        }
        let p = e.path();
        let _ = if p.is_dir() { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
    }
}
