//! The installed systemd unit, read the way systemd reads it, so `trinity doctor --service`
//! checks the machine with the service's own environment and configuration file instead of
//! the caller's (no `env TRINITY_CACHE_DIR=… trinity doctor --config …` line to type).
//!
//! Read: `Environment=` assignments (in order, an empty one clears the list, later ones
//! win) and `ExecStart=`'s `--config PATH`, from the unit file and its drop-ins.
//! `EnvironmentFile=` is not read; doctor says so when a unit uses it.

use std::path::{Path, PathBuf};

/// The unit the Debian package installs.
pub const UNIT: &str = "trinity.service";

/// Where systemd looks for a unit, most specific first.
const UNIT_DIRS: &[&str] =
    &["/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"];

/// What `trinity run` gets from its unit.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ServiceEnv {
    /// `Environment=` variables, in order, each name once (the last assignment wins).
    pub env: Vec<(String, String)>,
    /// `ExecStart=`'s `--config`.
    pub config: Option<PathBuf>,
    /// The unit uses `EnvironmentFile=` (not read here).
    pub has_environment_file: bool,
}

impl ServiceEnv {
    /// Apply one unit file's (or drop-in's) text on top of what earlier files set.
    pub fn apply(&mut self, text: &str) {
        for line in text.lines().map(str::trim) {
            if let Some(v) = line.strip_prefix("Environment=") {
                let words = split_words(v);
                if words.is_empty() {
                    self.env.clear();
                }
                for w in words {
                    if let Some((k, val)) = w.split_once('=') {
                        self.env.retain(|(name, _)| name != k);
                        self.env.push((k.to_owned(), val.to_owned()));
                    }
                }
            } else if let Some(v) = line.strip_prefix("ExecStart=") {
                // Each ExecStart= (an empty one included) replaces the command line.
                let words = split_words(v);
                self.config = match words.iter().position(|w| w == "--config") {
                    Some(i) => words.get(i + 1).map(PathBuf::from),
                    None => words.iter().find_map(|w| w.strip_prefix("--config=")).map(PathBuf::from),
                };
            } else if line.starts_with("EnvironmentFile=") {
                self.has_environment_file = true;
            }
        }
    }

    /// The installed unit under `root` (`/` on a robot) and its drop-ins; `None` when the
    /// unit is not installed.
    pub fn installed(root: &Path) -> Option<(PathBuf, ServiceEnv)> {
        let unit = UNIT_DIRS.iter().map(|d| root.join(d.trim_start_matches('/')).join(UNIT)).find(|p| p.is_file())?;
        let mut env = ServiceEnv::default();
        env.apply(&std::fs::read_to_string(&unit).ok()?);
        for dir in UNIT_DIRS.iter().rev() {
            let drop_ins = root.join(dir.trim_start_matches('/')).join(format!("{UNIT}.d"));
            let mut confs: Vec<PathBuf> = std::fs::read_dir(&drop_ins)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "conf"))
                .collect();
            confs.sort();
            for c in confs {
                if let Ok(t) = std::fs::read_to_string(&c) {
                    env.apply(&t);
                }
            }
        }
        Some((unit, env))
    }
}

/// Whitespace-separated words, with systemd's double and single quotes.
fn split_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_packaged_unit_gives_its_config_and_environment() {
        let unit = include_str!("../../packaging/debian/trinity.service");
        let mut s = ServiceEnv::default();
        s.apply(unit);
        assert_eq!(s.config.as_deref(), Some(Path::new("/etc/trinity/trinity.toml")));
        assert!(s.env.contains(&("TRINITY_CACHE_DIR".into(), "/var/lib/trinity".into())), "{s:?}");
        assert!(s.env.contains(&("TRINITY_SKILLS".into(), "/var/lib/trinity/skills".into())), "{s:?}");
        assert!(!s.has_environment_file);
    }

    #[test]
    fn drop_ins_override_clear_and_quote_as_systemd_does() {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("lib/systemd/system");
        std::fs::create_dir_all(lib.join("trinity.service.d")).unwrap();
        std::fs::write(
            lib.join(UNIT),
            "[Service]\nExecStart=/usr/bin/trinity run --config /etc/trinity/trinity.toml\nEnvironment=A=1 B=2\n",
        )
        .unwrap();
        let etc = dir.path().join("etc/systemd/system/trinity.service.d");
        std::fs::create_dir_all(&etc).unwrap();
        std::fs::write(etc.join("10-cache.conf"), "[Service]\nEnvironment=\"B=two words\" C='3'\n").unwrap();
        std::fs::write(
            etc.join("20-start.conf"),
            "[Service]\nExecStart=\nExecStart=/usr/bin/trinity run --config=/srv/t.toml\n",
        )
        .unwrap();
        std::fs::write(etc.join("README"), "Environment=IGNORED=1\n").unwrap();
        let (unit, s) = ServiceEnv::installed(dir.path()).unwrap();
        assert_eq!(unit, lib.join(UNIT));
        assert_eq!(s.config.as_deref(), Some(Path::new("/srv/t.toml")));
        assert_eq!(s.env, vec![("A".into(), "1".into()), ("B".into(), "two words".into()), ("C".into(), "3".into())]);
        let mut cleared = s.clone();
        cleared.apply("Environment=\n");
        assert!(cleared.env.is_empty());
        assert!(ServiceEnv::installed(&dir.path().join("nothing")).is_none());
    }
}
