//! Skill bundles (issue 14): one file that carries a skill folder to a robot, signed,
//! versioned and tied to the base model its adapters were trained on.
//!
//! ```text
//! rover-1.2.0.tskill          a zip archive, entries in this order:
//!   manifest.json             name, version (semver), base model sha256, every file's sha256 and size
//!   manifest.json.minisig     minisign signature of manifest.json's exact bytes (after `skill sign`)
//!   files/skill.toml          the folder's files, flat (its evaluation sets stay home)
//!   files/rover.gguf
//!   …
//! ```
//!
//! The signature covers the manifest, the manifest covers every file by hash: one signature
//! check and one hash per file prove the whole bundle. Signatures are minisign's (Ed25519),
//! so `minisign -Vm manifest.json -p key.pub` checks one without Trinity.
//!
//! Nothing in a bundle is trusted before it is checked, and nothing is installed before all
//! of it is: the archive's own size fields are never believed (every file is read through a
//! cap of the size the signed manifest gives, then hashed), names are plain file names,
//! counts and sizes are bounded, and a bundle of a newer *format* is refused by name. A
//! bundle is staged in a hidden folder of the skills directory, loaded as a skill folder
//! there, and only then switched in by renaming one symlink (atomic): `skills/rover` →
//! `.versions/rover/1.2.0`. The version it replaced stays for [`rollback`]; older ones are
//! pruned, so disk use is bounded.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{valid_name, SkillDir, SkillError, SKILL_TOML};

/// The bundle format this build writes and the newest it reads.
pub const FORMAT: u32 = 1;
/// A bundle's file extension.
pub const EXTENSION: &str = "tskill";
/// The manifest's entry in the archive.
pub const MANIFEST: &str = "manifest.json";
/// The signature's entry in the archive.
pub const SIGNATURE: &str = "manifest.json.minisig";
/// Where the folder's files are in the archive.
const FILES: &str = "files/";
/// Largest manifest read.
pub const MAX_MANIFEST_BYTES: u64 = 64 << 10;
/// Largest signature read.
const MAX_SIGNATURE_BYTES: u64 = 4 << 10;
/// Most files in a bundle.
pub const MAX_FILES: usize = 32;
/// Largest file in a bundle, and all of them together.
pub const MAX_FILE_BYTES: u64 = 64 << 20;
/// Largest bundle: its files plus the archive's own overhead.
pub const MAX_BUNDLE_BYTES: u64 = 2 * MAX_FILE_BYTES;
/// Longest file name in a bundle.
const MAX_NAME: usize = 100;
/// Versions kept per skill: the one served and the one before it.
const KEEP_VERSIONS: usize = 2;
/// Where the versions live, inside the skills directory (hidden: not scanned as a skill).
pub const VERSIONS: &str = ".versions";

/// What a bundle says about itself; signed. Unknown fields are ignored (a later format
/// version may add optional ones); a newer `format` is refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Bundle format version ([`FORMAT`]).
    pub format: u32,
    /// The skill's name (its `skill.toml`'s).
    pub name: String,
    /// Semantic version, e.g. `1.2.0`.
    pub version: String,
    /// The skill's description.
    #[serde(default)]
    pub description: String,
    /// The actions the skill may plan.
    #[serde(default)]
    pub allowed: Vec<String>,
    /// sha256 (hex) of the base model the adapters were trained against; a robot with
    /// another base refuses the bundle.
    pub base_model_sha256: String,
    /// Every file of the folder.
    pub files: Vec<FileEntry>,
    /// Optional HTTP(S) mirror of this bundle, for robots that can reach one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror: Option<String>,
}

/// One file of a bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    /// A plain file name (no folders).
    pub path: String,
    /// sha256 of its bytes, hex.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
}

/// Why a bundle was refused. Each says what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The archive is not a readable bundle (truncated, not a zip, an entry missing).
    #[error("not a readable skill bundle: {0}")]
    Archive(String),
    /// The manifest is malformed or breaks a rule.
    #[error("bad manifest: {0}")]
    Manifest(String),
    /// Made by a newer Trinity.
    #[error("bundle format {0} is newer than this trinity reads ({FORMAT}): update trinity first")]
    NewerFormat(u32),
    /// A limit on counts or sizes.
    #[error("too large: {0}")]
    TooLarge(String),
    /// No signature in the bundle.
    #[error("the bundle is not signed (`trinity skill sign BUNDLE --key KEY`)")]
    Unsigned,
    /// Signed, but by a key that is not trusted here.
    #[error("signed by key {0}, which is not among the trusted keys")]
    UntrustedKey(String),
    /// The signature does not match the manifest.
    #[error("bad signature: {0}")]
    BadSignature(String),
    /// Trained for another base model.
    #[error("trained for base model {want}, but this robot runs {have}: retrain the skill on this model")]
    WrongBaseModel {
        /// The manifest's.
        want: String,
        /// This robot's.
        have: String,
    },
    /// A file's bytes are not what the manifest says.
    #[error("file `{path}`: {what}")]
    File {
        /// The file.
        path: String,
        /// What was wrong.
        what: String,
    },
    /// The files do not make a skill folder this build serves.
    #[error("the bundle's skill folder is invalid: {0}")]
    Skill(#[from] SkillError),
    /// A key file could not be used.
    #[error("key {path}: {what}")]
    Key {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        what: String,
    },
    /// An adapter does not check against this robot's base model.
    #[error("adapter check failed: {0}")]
    Adapter(String),
    /// This version is installed already with other contents, or is older than the one
    /// served.
    #[error("{0}")]
    Version(String),
    /// Nothing to roll back to or remove.
    #[error("{0}")]
    NotInstalled(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BundleError + '_ {
    move |source| BundleError::Io { path: path.to_owned(), source }
}

/// A sha256 digest as lowercase hex.
fn hex(digest: impl Into<[u8; 32]>) -> String {
    crate::engine::disk::hex(&digest.into())
}

/// 64 lowercase hex digits: a sha256 as manifests and announcements write it.
pub(crate) fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A file name a bundle may hold: 1-100 of `[A-Za-z0-9._-]`, not starting with `.`.
pub fn valid_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl Manifest {
    /// Check everything that can be checked without the files: format, name, version,
    /// hashes, file names, counts and sizes.
    pub fn check(&self) -> Result<(), BundleError> {
        let bad = |s: String| Err(BundleError::Manifest(s));
        if self.format > FORMAT {
            return Err(BundleError::NewerFormat(self.format));
        }
        if self.format == 0 {
            return bad("format 0".into());
        }
        if !valid_name(&self.name) {
            return bad(format!("name {:?}: use lowercase letters, digits, `-` and `_`", self.name));
        }
        if semver::Version::parse(&self.version).is_err() || self.version.len() > 64 {
            return bad(format!("version {:?} is not a semantic version (e.g. 1.2.0)", self.version));
        }
        if !is_sha256_hex(&self.base_model_sha256) {
            return bad("base_model_sha256 is not 64 lowercase hex digits".into());
        }
        if self.files.len() > MAX_FILES {
            return Err(BundleError::TooLarge(format!("{} files (at most {MAX_FILES})", self.files.len())));
        }
        let mut seen = BTreeSet::new();
        let mut total = 0u64;
        for f in &self.files {
            if !valid_file_name(&f.path) {
                return bad(format!("file name {:?}: plain names of letters, digits, `.`, `_`, `-` only", f.path));
            }
            if !seen.insert(f.path.as_str()) {
                return bad(format!("file {:?} listed twice", f.path));
            }
            if !is_sha256_hex(&f.sha256) {
                return bad(format!("file {:?}: sha256 is not 64 lowercase hex digits", f.path));
            }
            if f.size > MAX_FILE_BYTES {
                return Err(BundleError::TooLarge(format!(
                    "file {:?} claims {} bytes (at most {MAX_FILE_BYTES})",
                    f.path, f.size
                )));
            }
            total = total.saturating_add(f.size);
        }
        if total > MAX_FILE_BYTES {
            return Err(BundleError::TooLarge(format!("files total {total} bytes (at most {MAX_FILE_BYTES})")));
        }
        if !seen.contains(SKILL_TOML) {
            return bad(format!("no {SKILL_TOML}"));
        }
        if let Some(m) = &self.mirror {
            if !(m.starts_with("https://") || m.starts_with("http://")) || m.len() > 2048 {
                return bad("mirror must be an http(s) URL".into());
            }
        }
        Ok(())
    }

    /// The bundle's file name: `{name}-{version}.tskill`.
    pub fn file_name(&self) -> String {
        format!("{}-{}.{EXTENSION}", self.name, self.version)
    }
}

/// Pack the skill folder `dir` as version `version`, for the base model whose sha256 is
/// `base_model_sha256`, into `out`, naming `mirror` (an HTTP(S) URL the file will be served
/// at) if given. The folder must load as a skill; its regular files at the top level go in,
/// except hidden ones, sub-folders and evaluation sets ([`is_evaluation_set`]).
pub fn pack(
    dir: &Path,
    version: &str,
    base_model_sha256: &str,
    mirror: Option<&str>,
    out: &Path,
) -> Result<Manifest, BundleError> {
    let sd = SkillDir::load(dir)?;
    let mut names = Vec::new();
    for e in std::fs::read_dir(dir).map_err(io(dir))? {
        let e = e.map_err(io(dir))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !e.file_type().map_err(io(&e.path()))?.is_file() || is_evaluation_set(&name) {
            continue;
        }
        if !valid_file_name(&name) {
            return Err(BundleError::Manifest(format!(
                "{}: file name {name:?} cannot go into a bundle (plain names of letters, digits, `.`, `_`, `-`)",
                dir.display()
            )));
        }
        names.push(name);
    }
    names.sort();
    let mut files = Vec::new();
    let mut contents = Vec::new();
    for name in names {
        let path = dir.join(&name);
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        files.push(FileEntry { path: name.clone(), sha256: hex(Sha256::digest(&bytes)), size: bytes.len() as u64 });
        contents.push((name, bytes));
    }
    let manifest = Manifest {
        format: FORMAT,
        name: sd.skill.name.clone(),
        version: version.to_owned(),
        description: sd.skill.description.clone(),
        allowed: sd.skill.allowed.iter().map(|k| k.name().to_owned()).collect(),
        base_model_sha256: base_model_sha256.to_owned(),
        files,
        mirror: mirror.map(str::to_owned),
    };
    manifest.check()?;
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| BundleError::Manifest(e.to_string()))?;
    let files: Vec<(&str, &[u8])> = contents.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    write_atomically(out, &archive(&json, None, &files)?)?;
    Ok(manifest)
}

/// Whether the file `name` of a skill folder is an evaluation set: any `.jsonl` but the
/// training examples (`heldout.jsonl`, `sealed.jsonl`, `wild.shared.jsonl`, …). A robot
/// serves a skill from its `skill.toml` and adapters; its sets are measured where it is
/// trained, so they stay out of its bundle (and out of a bundle's file limit).
pub fn is_evaluation_set(name: &str) -> bool {
    name.ends_with(".jsonl") && name != super::EXAMPLES
}

/// The archive's bytes: the manifest, the signature if any, then the files.
pub(crate) fn archive(
    manifest: &[u8],
    signature: Option<&[u8]>,
    files: &[(&str, &[u8])],
) -> Result<Vec<u8>, BundleError> {
    let zerr = |e: zip::result::ZipError| BundleError::Archive(e.to_string());
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    w.start_file(MANIFEST, stored).map_err(zerr)?;
    w.write_all(manifest).map_err(|e| BundleError::Archive(e.to_string()))?;
    if let Some(sig) = signature {
        w.start_file(SIGNATURE, stored).map_err(zerr)?;
        w.write_all(sig).map_err(|e| BundleError::Archive(e.to_string()))?;
    }
    for (name, bytes) in files {
        w.start_file(format!("{FILES}{name}"), deflated).map_err(zerr)?;
        w.write_all(bytes).map_err(|e| BundleError::Archive(e.to_string()))?;
    }
    Ok(w.finish().map_err(zerr)?.into_inner())
}

/// Write `bytes` beside `path` and rename: a reader never sees half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), BundleError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

/// Check the minisign signature `sig` of a manifest's exact bytes against the public keys in
/// `trusted` (a `.pub` file, or a folder of them). Returns the signing key's id.
pub fn verify_manifest_signature(manifest: &[u8], sig: &str, trusted: &Path) -> Result<String, BundleError> {
    if sig.trim().is_empty() {
        return Err(BundleError::Unsigned);
    }
    if sig.len() as u64 > MAX_SIGNATURE_BYTES {
        return Err(BundleError::BadSignature("over 4 KiB".into()));
    }
    // minisign slices the global signature without checking its length: a shortened
    // fourth line of a genuine signature would panic inside it. 64 bytes are 88 base64
    // characters ending in `==`.
    let global = sig.lines().nth(3).unwrap_or("").trim();
    let b64 = |c: u8| c.is_ascii_alphanumeric() || c == b'+' || c == b'/';
    if global.len() != 88 || !global.ends_with("==") || !global.bytes().take(86).all(b64) {
        return Err(BundleError::BadSignature("the global signature is not 64 bytes of base64".into()));
    }
    let sig_box = minisign::SignatureBox::from_string(sig).map_err(|e| BundleError::BadSignature(e.to_string()))?;
    let key_id = key_id(sig_box.keynum());
    for (path, pk) in trusted_keys(trusted)? {
        if pk.keynum() == sig_box.keynum() {
            return minisign::verify(&pk, &sig_box, Cursor::new(manifest), true, false, false)
                .map(|()| key_id)
                .map_err(|e| BundleError::BadSignature(format!("{e} (key {})", path.display())));
        }
    }
    Err(BundleError::UntrustedKey(key_id))
}

/// The check [`install`] runs on a staged folder: every adapter against the base model at
/// `base_path`, in Rust (llama.cpp never sees an unchecked file).
pub fn adapters_fit(base_path: &Path) -> impl FnOnce(&SkillDir) -> Result<(), String> + '_ {
    move |sd| {
        if sd.adapters.is_empty() {
            return Ok(());
        }
        let base = trinity_gguf::check_model(base_path).map_err(|e| e.to_string())?;
        for (path, _) in &sd.adapters {
            let g = trinity_gguf::read(path).map_err(|e| e.to_string())?;
            trinity_gguf::check_adapter(path, &g, &base).map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// An opened bundle: its manifest checked, its entries matched against it. The files'
/// bytes are checked when they are read ([`Bundle::extract`]).
pub struct Bundle {
    /// Where it was read from.
    pub path: PathBuf,
    /// The manifest, checked.
    pub manifest: Manifest,
    /// The manifest's exact bytes (what the signature covers).
    pub manifest_bytes: Vec<u8>,
    /// The signature's text, if signed.
    pub signature: Option<String>,
    archive: zip::ZipArchive<File>,
}

/// Read the archive's end-of-central-directory record before the zip reader does: it would
/// allocate for however many entries the record claims (zip64 records claim up to the
/// directory's offset). Refuse zip64 and more than [`MAX_FILES`] + 2 entries.
fn check_directory(file: &mut File, len: u64) -> Result<(), BundleError> {
    use std::io::{Seek, SeekFrom};
    const EOCD: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
    let tail_len = len.min(22 + 65535);
    let mut tail = vec![0u8; tail_len as usize];
    file.seek(SeekFrom::Start(len - tail_len))
        .and_then(|_| file.read_exact(&mut tail))
        .map_err(|e| BundleError::Archive(format!("cannot read the archive's directory: {e}")))?;
    let at = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| tail[i..i + 4] == EOCD)
        .ok_or_else(|| BundleError::Archive("no end-of-directory record (truncated?)".into()))?;
    let entries = u16::from_le_bytes([tail[at + 10], tail[at + 11]]);
    if entries == u16::MAX || (at >= 20 && tail[at - 20..at - 16] == [0x50, 0x4b, 0x06, 0x07]) {
        return Err(BundleError::Archive("zip64 archives are not bundles".into()));
    }
    if usize::from(entries) > MAX_FILES + 2 {
        return Err(BundleError::TooLarge(format!("{entries} archive entries (at most {})", MAX_FILES + 2)));
    }
    file.seek(SeekFrom::Start(0)).map_err(|e| BundleError::Archive(e.to_string()))?;
    Ok(())
}

fn read_entry_capped(archive: &mut zip::ZipArchive<File>, name: &str, cap: u64) -> Result<Vec<u8>, BundleError> {
    let entry = archive.by_name(name).map_err(|e| BundleError::Archive(format!("{name}: {e}")))?;
    let mut buf = Vec::new();
    entry.take(cap + 1).read_to_end(&mut buf).map_err(|e| BundleError::Archive(format!("{name}: {e}")))?;
    if buf.len() as u64 > cap {
        return Err(BundleError::TooLarge(format!("{name} is over {cap} bytes")));
    }
    Ok(buf)
}

impl Bundle {
    /// Open `path`: size bound, manifest parsed and checked, and the archive holding
    /// exactly the manifest, maybe a signature, and the manifest's files.
    pub fn open(path: &Path) -> Result<Bundle, BundleError> {
        let file = File::open(path).map_err(io(path))?;
        let len = file.metadata().map_err(io(path))?.len();
        if len > MAX_BUNDLE_BYTES {
            return Err(BundleError::TooLarge(format!("the bundle is {len} bytes (at most {MAX_BUNDLE_BYTES})")));
        }
        let mut file = file;
        check_directory(&mut file, len)?;
        let mut archive = zip::ZipArchive::new(file).map_err(|e| BundleError::Archive(e.to_string()))?;
        if archive.len() > MAX_FILES + 2 {
            return Err(BundleError::TooLarge(format!("{} archive entries", archive.len())));
        }
        let manifest_bytes = read_entry_capped(&mut archive, MANIFEST, MAX_MANIFEST_BYTES)?;
        let manifest: Manifest =
            serde_json::from_slice(&manifest_bytes).map_err(|e| BundleError::Manifest(e.to_string()))?;
        manifest.check()?;
        let signature = match archive.index_for_name(SIGNATURE) {
            Some(_) => {
                let bytes = read_entry_capped(&mut archive, SIGNATURE, MAX_SIGNATURE_BYTES)?;
                Some(String::from_utf8(bytes).map_err(|_| BundleError::BadSignature("not text".into()))?)
            }
            None => None,
        };
        let mut expected: BTreeSet<String> = manifest.files.iter().map(|f| format!("{FILES}{}", f.path)).collect();
        expected.insert(MANIFEST.into());
        if signature.is_some() {
            expected.insert(SIGNATURE.into());
        }
        let present: BTreeSet<String> = archive.file_names().map(str::to_owned).collect();
        if let Some(extra) = present.difference(&expected).next() {
            return Err(BundleError::Archive(format!("entry {extra:?} is not in the manifest")));
        }
        if let Some(missing) = expected.difference(&present).next() {
            return Err(BundleError::Archive(format!("entry {missing:?} is missing")));
        }
        Ok(Bundle { path: path.to_owned(), manifest, manifest_bytes, signature, archive })
    }

    /// Check the signature against the public keys in `trusted` (a `.pub` file, or a
    /// folder of them). Returns the signing key's id.
    pub fn verify_signature(&self, trusted: &Path) -> Result<String, BundleError> {
        let sig = self.signature.as_deref().ok_or(BundleError::Unsigned)?;
        verify_manifest_signature(&self.manifest_bytes, sig, trusted)
    }

    /// [`Bundle::open`], then the signature and the base model against `trust`. Returns
    /// the signing key's id with the bundle.
    pub fn open_trusted(path: &Path, trust: &Trust) -> Result<(Bundle, String), BundleError> {
        let b = Bundle::open(path)?;
        let key = b.verify_signature(trust.keys)?;
        b.check_base_model(trust.base_model_sha256)?;
        Ok((b, key))
    }

    /// Refuse a bundle trained for another base model.
    pub fn check_base_model(&self, sha256: &str) -> Result<(), BundleError> {
        if self.manifest.base_model_sha256 != sha256 {
            return Err(BundleError::WrongBaseModel {
                want: self.manifest.base_model_sha256.clone(),
                have: sha256.to_owned(),
            });
        }
        Ok(())
    }

    /// Write every file into the folder `dest` (created; must not exist), each read
    /// through a cap of its manifest size and hashed. On any error `dest` is removed.
    pub fn extract(&mut self, dest: &Path) -> Result<(), BundleError> {
        std::fs::create_dir(dest).map_err(io(dest))?;
        let r = self.extract_into(dest);
        if r.is_err() {
            let _ = std::fs::remove_dir_all(dest);
        }
        r
    }

    fn extract_into(&mut self, dest: &Path) -> Result<(), BundleError> {
        for f in self.manifest.files.clone() {
            let bad = |what: String| BundleError::File { path: f.path.clone(), what };
            let entry = self.archive.by_name(&format!("{FILES}{}", f.path)).map_err(|e| bad(e.to_string()))?;
            let target = dest.join(&f.path);
            let mut out = File::create(&target).map_err(io(&target))?;
            let mut h = Sha256::new();
            let mut limited = entry.take(f.size + 1);
            let mut buf = vec![0u8; 64 << 10];
            let mut n_total = 0u64;
            loop {
                let n = limited.read(&mut buf).map_err(|e| bad(format!("cannot read: {e}")))?;
                if n == 0 {
                    break;
                }
                n_total += n as u64;
                if n_total > f.size {
                    return Err(bad(format!("longer than the {} bytes the manifest says", f.size)));
                }
                h.update(&buf[..n]);
                out.write_all(&buf[..n]).map_err(io(&target))?;
            }
            if n_total != f.size {
                return Err(bad(format!("{n_total} bytes, the manifest says {}", f.size)));
            }
            if hex(h.finalize()) != f.sha256 {
                return Err(bad("sha256 does not match the manifest".into()));
            }
            out.sync_all().map_err(io(&target))?;
        }
        Ok(())
    }
}

fn key_id(keynum: &[u8]) -> String {
    // minisign prints key ids as the little-endian u64, in upper-case hex.
    keynum.iter().rev().map(|b| format!("{b:02X}")).collect()
}

/// The public keys in `trusted`: the file itself, or every `*.pub` in the folder.
fn trusted_keys(trusted: &Path) -> Result<Vec<(PathBuf, minisign::PublicKey)>, BundleError> {
    let paths: Vec<PathBuf> = if trusted.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(trusted)
            .map_err(io(trusted))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "pub"))
            .collect();
        v.sort();
        v
    } else {
        vec![trusted.to_owned()]
    };
    let mut keys = Vec::new();
    for p in paths {
        let text = read_small(&p, 4096)?;
        let pk = minisign::PublicKeyBox::from_string(&text)
            .and_then(|b| b.into_public_key())
            .or_else(|_| minisign::PublicKey::from_base64(text.trim()))
            .map_err(|e| BundleError::Key { path: p.clone(), what: e.to_string() })?;
        keys.push((p, pk));
    }
    Ok(keys)
}

fn read_small(path: &Path, cap: u64) -> Result<String, BundleError> {
    let mut s = String::new();
    File::open(path).map_err(io(path))?.take(cap + 1).read_to_string(&mut s).map_err(io(path))?;
    if s.len() as u64 > cap {
        return Err(BundleError::Key { path: path.to_owned(), what: format!("over {cap} bytes") });
    }
    Ok(s)
}

/// A new signing key pair: the secret key (unencrypted, mode 0600) at `secret`, the public
/// key at `public`, both in minisign's format. Returns the key id.
pub fn keygen(secret: &Path, public: &Path) -> Result<String, BundleError> {
    for p in [secret, public] {
        if p.exists() {
            return Err(BundleError::Key { path: p.to_owned(), what: "exists already; not overwritten".into() });
        }
    }
    let kerr = |e: minisign::PError| BundleError::Key { path: secret.to_owned(), what: e.to_string() };
    let kp = minisign::KeyPair::generate_unencrypted_keypair().map_err(kerr)?;
    let id = key_id(kp.pk.keynum());
    let pk_box = kp.pk.to_box().map_err(kerr)?;
    let sk_box = kp.sk.to_box(Some("trinity skill signing key")).map_err(kerr)?;
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f =
            std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(secret).map_err(io(secret))?;
        f.write_all(sk_box.into_string().as_bytes()).map_err(io(secret))?;
    }
    std::fs::write(public, pk_box.into_string()).map_err(io(public))?;
    Ok(id)
}

/// Sign the bundle at `path` in place with the secret key at `secret`. Returns the key id.
pub fn sign(path: &Path, secret: &Path) -> Result<String, BundleError> {
    let text = read_small(secret, 4096)?;
    let kerr = |e: minisign::PError| BundleError::Key { path: secret.to_owned(), what: e.to_string() };
    let sk_box = minisign::SecretKeyBox::from_string(&text).map_err(kerr)?;
    let sk = sk_box.into_unencrypted_secret_key().map_err(kerr)?;
    let mut b = Bundle::open(path)?;
    let comment = format!("trinity skill {} {}", b.manifest.name, b.manifest.version);
    let sig = minisign::sign(None, &sk, Cursor::new(&b.manifest_bytes), Some(&comment), None).map_err(kerr)?;
    let id = key_id(sig.keynum());
    let mut files = Vec::new();
    for f in b.manifest.files.clone() {
        let bytes = read_entry_capped(&mut b.archive, &format!("{FILES}{}", f.path), f.size)?;
        if hex(Sha256::digest(&bytes)) != f.sha256 {
            return Err(BundleError::File {
                path: f.path,
                what: "sha256 does not match the manifest: not signing".into(),
            });
        }
        files.push((f.path.clone(), bytes));
    }
    let files: Vec<(&str, &[u8])> = files.iter().map(|(n, v)| (n.as_str(), v.as_slice())).collect();
    let bytes = archive(&b.manifest_bytes, Some(sig.into_string().as_bytes()), &files)?;
    write_atomically(path, &bytes)?;
    Ok(id)
}

/// What [`install`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Installed {
    /// The skill.
    pub name: String,
    /// The version now served.
    pub version: String,
    /// The version it replaced, if any (kept for [`rollback`]).
    pub previous: Option<String>,
    /// The signing key's id.
    pub key: String,
}

/// The checks an install makes beyond the bundle's own: whose signatures are trusted, and
/// the base model this robot runs.
pub struct Trust<'a> {
    /// A `.pub` file or a folder of them.
    pub keys: &'a Path,
    /// This robot's base model sha256 (hex).
    pub base_model_sha256: &'a str,
    /// Install a version older than the one served (else refused: a replayed old bundle).
    pub allow_downgrade: bool,
}

/// Verify the bundle at `path` (signature, format, base model, every file), stage it in
/// `skills_dir`, load it as a skill folder there, run `check` on it (the adapters against
/// the base model, in Rust), and switch `skills_dir/{name}` to it atomically. On any
/// error nothing in `skills_dir` changes (the staging folder is removed).
pub fn install(
    path: &Path,
    skills_dir: &Path,
    trust: &Trust,
    check: impl FnOnce(&SkillDir) -> Result<(), String>,
) -> Result<Installed, BundleError> {
    let (mut b, key) = Bundle::open_trusted(path, trust)?;
    let name = b.manifest.name.clone();
    let version = b.manifest.version.clone();
    std::fs::create_dir_all(skills_dir).map_err(io(skills_dir))?;
    let _changing = lock(skills_dir)?;
    let served = current_version(skills_dir, &name);
    if let Some(older) = served.as_deref().filter(|s| !trust.allow_downgrade && is_newer(s, &version)) {
        return Err(BundleError::Version(format!(
            "`{name}` {older} is served; {version} is older (a replayed bundle?): use `skill rollback`, or allow downgrades"
        )));
    }
    let versions = skills_dir.join(VERSIONS).join(&name);
    let target = versions.join(&version);
    if target.exists() {
        // Installed before: the same bytes are switched to again; other bytes under the
        // same version are refused (a version names one content).
        if !same_files(&target, &b.manifest) {
            return Err(BundleError::Version(format!(
                "`{name}` {version} is installed already with other contents: give the bundle a new version"
            )));
        }
    } else {
        std::fs::create_dir_all(skills_dir).map_err(io(skills_dir))?;
        clean_stale(skills_dir);
        let staging = skills_dir.join(format!(".staging-{name}-{}", std::process::id()));
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
        }
        stage(&mut b, &staging, check)?;
        let placed = std::fs::create_dir_all(&versions).and_then(|()| std::fs::rename(&staging, &target));
        if let Err(e) = placed {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(BundleError::Io { path: target, source: e });
        }
    }
    let previous = match switch(skills_dir, &name, &version) {
        Ok(p) => p,
        Err(e) => {
            if served.as_deref() != Some(version.as_str()) {
                let _ = std::fs::remove_dir_all(&target);
            }
            return Err(e);
        }
    };
    prune(&versions, &[Some(version.as_str()), previous.as_deref()]);
    Ok(Installed { name, version, previous, key })
}

/// `a` is a newer semantic version than `b` (unparsable ones, such as `unversioned-…`,
/// are never newer).
fn is_newer(a: &str, b: &str) -> bool {
    matches!((semver::Version::parse(a), semver::Version::parse(b)), (Ok(a), Ok(b)) if a > b)
}

/// The folder holds exactly the manifest's files, with their hashes.
fn same_files(dir: &Path, m: &Manifest) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else { return false };
    if entries.flatten().count() != m.files.len() {
        return false;
    }
    m.files.iter().all(|f| {
        let p = dir.join(&f.path);
        std::fs::metadata(&p).is_ok_and(|md| md.len() == f.size)
            && std::fs::read(&p).is_ok_and(|bytes| hex(Sha256::digest(&bytes)) == f.sha256)
    })
}

/// Remove what an install that died left behind (`.staging-*`, `.link-*`), so that disk
/// use stays bounded. Called under [`lock`]: no other install is staging.
fn clean_stale(skills_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(skills_dir) else { return };
    for e in entries.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if n.starts_with(".staging-") {
            let _ = std::fs::remove_dir_all(e.path());
        } else if n.starts_with(".link-") {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// The version `skills_dir/{name}` serves (its symlink's target), if it is one.
pub fn current_version(skills_dir: &Path, name: &str) -> Option<String> {
    version_of(&skills_dir.join(name))
}

/// The bundle version a skill folder path serves: the name of the `.versions/{name}/…`
/// folder its symlink points at; `None` for a folder copied by hand.
fn version_of(folder: &Path) -> Option<String> {
    let t = std::fs::read_link(folder).ok()?;
    if !t.starts_with(VERSIONS) {
        return None;
    }
    Some(t.file_name()?.to_string_lossy().into_owned())
}

/// The version a resolved skill folder (`…/.versions/{name}/{version}`) holds; `None` for
/// a folder copied by hand. The daemon records it when it loads the folder, so `info`
/// names the version actually served.
pub fn version_in(resolved: &Path) -> Option<String> {
    let parent = resolved.parent()?;
    if parent.parent()?.file_name()? != VERSIONS {
        return None;
    }
    Some(resolved.file_name()?.to_string_lossy().into_owned())
}

/// Point `skills_dir/{name}` at `.versions/{name}/{version}` by renaming a new symlink over
/// it (atomic: a scan sees the old folder or the new one). A plain folder there (copied
/// by hand) is moved into `.versions` first as `unversioned-{time}`, and moved back if the
/// switch fails. Returns the version it pointed at before.
fn switch(skills_dir: &Path, name: &str, version: &str) -> Result<Option<String>, BundleError> {
    let link = skills_dir.join(name);
    let versions = skills_dir.join(VERSIONS).join(name);
    let mut previous = current_version(skills_dir, name);
    let mut moved = None;
    if previous.is_none() && std::fs::symlink_metadata(&link).is_ok_and(|m| m.is_dir()) {
        let stamp =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let keep = format!("unversioned-{stamp}");
        let dest = versions.join(&keep);
        std::fs::rename(&link, &dest).map_err(io(&link))?;
        moved = Some(dest);
        previous = Some(keep);
    }
    let previous = previous.filter(|p| p != version);
    let result = (|| {
        // What to roll back to, written before the switch: a failure here changes nothing.
        if let Some(p) = &previous {
            let state = versions.join(".previous");
            std::fs::write(&state, p).map_err(io(&state))?;
        }
        let tmp = skills_dir.join(format!(".link-{name}-{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(Path::new(VERSIONS).join(name).join(version), &tmp).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &link).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            BundleError::Io { path: link.clone(), source: e }
        })
    })();
    if let Err(e) = result {
        if let Some(dest) = moved {
            let _ = std::fs::rename(&dest, &link);
        }
        return Err(e);
    }
    Ok(previous)
}

/// Remove the versions of a skill other than `keep` (the served one and the one before),
/// so that disk use stays bounded: the newest by semantic version stay.
fn prune(versions: &Path, keep: &[Option<&str>]) {
    let Ok(entries) = std::fs::read_dir(versions) else { return };
    let mut others: Vec<(Option<semver::Version>, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            (!n.starts_with('.') && !keep.iter().flatten().any(|k| *k == n))
                .then(|| (semver::Version::parse(&n).ok(), e.path()))
        })
        .collect();
    // Oldest first (folders copied by hand, unversioned, before every version).
    others.sort();
    let room = KEEP_VERSIONS.saturating_sub(keep.iter().flatten().count());
    for (_, p) in others.iter().rev().skip(room) {
        let _ = std::fs::remove_dir_all(p);
    }
}

/// Held while a skills folder changes ([`install`], [`rollback`], [`remove`]): an advisory
/// lock (`flock`) on the folder's `.versions` directory, so that the daemon's fleet agent
/// and `trinity skill install|rollback|remove` run by hand on the same folder take turns
/// instead of removing each other's staging folder or interleaving a switch. The directory
/// is opened read-only (no lock file whose owner could shut the daemon out); the kernel
/// releases the lock when the holder drops it or dies.
#[derive(Debug)]
pub struct Lock {
    _dir: File,
}

/// Take the skills folder's [`Lock`], waiting (with a log line) while another process
/// holds it. `skills_dir` must exist; its `.versions` is created if missing.
pub fn lock(skills_dir: &Path) -> Result<Lock, BundleError> {
    let dir = skills_dir.join(VERSIONS);
    match std::fs::create_dir(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
            return Err(BundleError::Io { path: dir, source: e })
        }
        _ => {}
    }
    let handle = File::open(&dir).map_err(io(&dir))?;
    match handle.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            tracing::warn!("waiting for {}: another install, rollback or remove on this folder", dir.display());
            handle.lock().map_err(io(&dir))?;
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(BundleError::Io { path: dir, source: e }),
    }
    Ok(Lock { _dir: handle })
}

/// Serve the version before the current one again. Returns (from, to).
pub fn rollback(skills_dir: &Path, name: &str) -> Result<(String, String), BundleError> {
    if !valid_name(name) {
        return Err(BundleError::NotInstalled(format!("{name:?} is not a skill name")));
    }
    // No folder, nothing to change (and nothing created): the checks below say so.
    let _changing = if skills_dir.is_dir() { Some(lock(skills_dir)?) } else { None };
    let versions = skills_dir.join(VERSIONS).join(name);
    let state = versions.join(".previous");
    let previous = std::fs::read_to_string(&state)
        .map_err(|_| BundleError::NotInstalled(format!("`{name}` has no earlier version to roll back to")))?;
    let previous = previous.trim().to_owned();
    if !versions.join(&previous).join(SKILL_TOML).is_file() {
        return Err(BundleError::NotInstalled(format!("`{name}` {previous} is no longer on disk")));
    }
    let current = current_version(skills_dir, name)
        .ok_or_else(|| BundleError::NotInstalled(format!("`{name}` was not installed from a bundle")))?;
    switch(skills_dir, name, &previous)?;
    std::fs::write(&state, &current).map_err(io(&state))?;
    Ok((current, previous))
}

/// Stop serving `name` and delete its versions.
pub fn remove(skills_dir: &Path, name: &str) -> Result<(), BundleError> {
    if !valid_name(name) {
        return Err(BundleError::NotInstalled(format!("{name:?} is not a skill name")));
    }
    // No folder, nothing to change (and nothing created): the checks below say so.
    let _changing = if skills_dir.is_dir() { Some(lock(skills_dir)?) } else { None };
    let link = skills_dir.join(name);
    let versions = skills_dir.join(VERSIONS).join(name);
    if std::fs::symlink_metadata(&link).is_err() && !versions.exists() {
        return Err(BundleError::NotInstalled(format!("`{name}` is not installed")));
    }
    if std::fs::symlink_metadata(&link).is_ok_and(|m| m.file_type().is_symlink()) {
        std::fs::remove_file(&link).map_err(io(&link))?;
    } else if link.is_dir() {
        std::fs::remove_dir_all(&link).map_err(io(&link))?;
    }
    if versions.exists() {
        std::fs::remove_dir_all(&versions).map_err(io(&versions))?;
    }
    Ok(())
}

/// Everything [`install`] checks, without installing: the bundle is staged in a private
/// folder of the temporary directory, loaded and `check`ed there, and removed. Returns the
/// manifest and the signing key's id.
pub fn verify(
    path: &Path,
    trust: &Trust,
    check: impl FnOnce(&SkillDir) -> Result<(), String>,
) -> Result<(Manifest, String), BundleError> {
    let (mut b, key) = Bundle::open_trusted(path, trust)?;
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let tmp = std::env::temp_dir().join(format!("trinity-verify-{}-{stamp}", std::process::id()));
    std::fs::create_dir(&tmp).map_err(io(&tmp))?;
    let dest = tmp.join(&b.manifest.name);
    let r = stage(&mut b, &dest, check);
    let _ = std::fs::remove_dir_all(&tmp);
    r.map(|_| (b.manifest, key))
}

/// Extract `b` into `dest`, load it as a skill folder and `check` it; on error `dest` is
/// removed.
fn stage(b: &mut Bundle, dest: &Path, check: impl FnOnce(&SkillDir) -> Result<(), String>) -> Result<(), BundleError> {
    b.extract(dest)?;
    let name = &b.manifest.name;
    let r = SkillDir::load(dest).map_err(BundleError::from).and_then(|sd| {
        if &sd.skill.name != name {
            return Err(BundleError::Manifest(format!("the manifest says `{name}`, skill.toml `{}`", sd.skill.name)));
        }
        let allowed: Vec<&str> = sd.skill.allowed.iter().map(|k| k.name()).collect();
        if allowed != b.manifest.allowed || sd.skill.description != b.manifest.description {
            return Err(BundleError::Manifest("its `allowed` or `description` differ from skill.toml's".into()));
        }
        check(&sd).map_err(BundleError::Adapter)
    });
    if r.is_err() {
        let _ = std::fs::remove_dir_all(dest);
    }
    r
}

#[cfg(test)]
mod tests;
