//! A directory of skill folders, kept in step with what the engine serves.
//!
//! [`Library::scan`] compares each folder's fingerprint (name, size and mtime of every
//! file) with the one it served last. Added and changed folders are loaded and checked in
//! full before they replace anything; a folder that fails keeps its previous version in
//! service (or stays absent) and is not retried until it changes again. A folder touched in
//! the last [`SETTLE`] is left for the next scan: it may still be being copied. Folders
//! whose name starts with `.` are ignored, so `cp -r x skills/.x && mv skills/.x skills/x`
//! installs a skill atomically.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::{activate, deactivate, ActiveSkill, SkillDir};
use crate::engine::Engine;

/// How long a folder must be left alone before it is (re)loaded.
pub const SETTLE: Duration = Duration::from_millis(500);

/// Name, size and mtime of every file in a folder, sorted.
type Fingerprint = Vec<(String, u64, SystemTime)>;

fn fingerprint(dir: &Path) -> std::io::Result<Fingerprint> {
    let mut fp = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let m = e.metadata()?;
        if m.is_file() {
            fp.push((e.file_name().to_string_lossy().into_owned(), m.len(), m.modified()?));
        }
    }
    fp.sort();
    Ok(fp)
}

/// What one scan changed.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ScanReport {
    /// Skills served for the first time.
    pub added: Vec<String>,
    /// Skills whose new version replaced the old.
    pub changed: Vec<String>,
    /// Skills no longer served (their folder is gone).
    pub removed: Vec<String>,
    /// Folders that could not be loaded, with why (reported once per version of the folder).
    pub failed: Vec<(PathBuf, String)>,
    /// Folders left for the next scan because they changed within the last 500 ms.
    pub settling: Vec<PathBuf>,
}

impl ScanReport {
    /// True when the set of served skills changed.
    pub fn changed_anything(&self) -> bool {
        !(self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty())
    }
}

struct Entry {
    skill: ActiveSkill,
    fingerprint: Fingerprint,
}

/// The skills of one directory, as served.
pub struct Library {
    dir: PathBuf,
    /// By folder.
    served: BTreeMap<PathBuf, Entry>,
    /// Folder versions that failed, so that they are reported once.
    failed: BTreeMap<PathBuf, Fingerprint>,
}

impl Library {
    /// A library of `dir`'s skill folders (nothing loaded until [`Library::scan`]).
    pub fn new(dir: &Path) -> Self {
        Library { dir: dir.to_owned(), served: BTreeMap::new(), failed: BTreeMap::new() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The skills served, by name.
    pub fn skills(&self) -> Vec<&ActiveSkill> {
        let mut v: Vec<&ActiveSkill> = self.served.values().map(|e| &e.skill).collect();
        v.sort_by(|a, b| a.skill.name.cmp(&b.skill.name));
        v
    }

    /// Bring the served skills in step with the directory (blocking: loads adapters).
    /// A missing directory serves no skills and is not an error.
    pub fn scan(&mut self, engine: &Engine) -> ScanReport {
        self.scan_inner(engine, Some(SETTLE))
    }

    /// [`Library::scan`], without waiting for recently changed folders to settle (at start,
    /// or when asked to reload: the files are taken to be complete, and are checked anyway).
    pub fn scan_now(&mut self, engine: &Engine) -> ScanReport {
        self.scan_inner(engine, None)
    }

    fn scan_inner(&mut self, engine: &Engine, settle: Option<Duration>) -> ScanReport {
        let now = SystemTime::now();
        let mut report = ScanReport::default();
        // Each folder is resolved once per scan (a skill installed from a bundle is a symlink
        // into `.versions/`, switched by rename): its fingerprint and its load read the same
        // version even if the link switches meanwhile; the next scan sees the switch.
        let mut present: Vec<(PathBuf, PathBuf, Fingerprint)> = Vec::new();
        for path in super::folders(&self.dir) {
            let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
            match fingerprint(&real) {
                Ok(mut fp) => {
                    fp.push((real.to_string_lossy().into_owned(), 0, SystemTime::UNIX_EPOCH));
                    present.push((path, real, fp));
                }
                Err(err) => report.failed.push((path, err.to_string())),
            }
        }

        // Gone: unload.
        let gone: Vec<PathBuf> =
            self.served.keys().filter(|p| !present.iter().any(|(q, _, _)| q == *p)).cloned().collect();
        for p in gone {
            if let Some(e) = self.served.remove(&p) {
                deactivate(engine, &e.skill);
                report.removed.push(e.skill.skill.name);
            }
        }
        self.failed.retain(|p, _| present.iter().any(|(q, _, _)| q == p));

        for (path, real, fp) in present {
            if self.served.get(&path).is_some_and(|e| e.fingerprint == fp) || self.failed.get(&path) == Some(&fp) {
                continue;
            }
            let newest = fp.iter().map(|(_, _, t)| *t).max().unwrap_or(SystemTime::UNIX_EPOCH);
            if settle.is_some_and(|s| now.duration_since(newest).unwrap_or(Duration::ZERO) < s) {
                report.settling.push(path);
                continue;
            }
            match self.load(engine, &path, &real) {
                Ok(active) => {
                    let name = active.skill.name.clone();
                    let old = self.served.insert(path.clone(), Entry { skill: active, fingerprint: fp });
                    self.failed.remove(&path);
                    match old {
                        Some(old) => {
                            deactivate(engine, &old.skill);
                            report.changed.push(name);
                        }
                        None => report.added.push(name),
                    }
                }
                Err(why) => {
                    report.failed.push((path.clone(), why));
                    self.failed.insert(path, fp);
                }
            }
        }
        report
    }

    fn load(&self, engine: &Engine, path: &Path, real: &Path) -> Result<ActiveSkill, String> {
        let sd = SkillDir::load(real).map_err(|e| e.to_string())?;
        let name = &sd.skill.name;
        if let Some((other, _)) = self.served.iter().find(|(p, e)| *p != path && e.skill.skill.name == *name) {
            return Err(format!("skill `{name}` is already served from {}", other.display()));
        }
        activate(engine, sd).map_err(|e| e.to_string())
    }
}
