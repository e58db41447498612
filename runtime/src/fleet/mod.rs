//! Skills over the broker (issue 14): a robot learns a skill from the broker it already
//! talks to, with no other network and no restart.
//!
//! ```text
//! trinity/fleet/skills/{name}          retained announcement (JSON, below): the newest
//!                                      version, its signed manifest and its chunk list
//! trinity/fleet/blobs/{sha256}/{i}     retained chunk i of the bundle whose sha256 it is
//!                                      (raw bytes, at most CHUNK_BYTES)
//! trinity/{robot_id}/skills/evt        the robot's install events (JSON, QoS 1)
//! trinity/{robot_id}/skills/state      retained: each skill's last event (`fleet status`)
//! trinity/{robot_id}/skills/install    {"name": "rover", "version": "1.2.0"} (version optional)
//! trinity/{robot_id}/skills/rollback   {"name": "rover"}
//! trinity/{robot_id}/skills/remove     {"name": "rover"}
//! ```
//!
//! Chunks are content-addressed (the topic names the whole bundle's sha256; the
//! announcement lists every chunk's), so a robot resumes a transfer where it stopped, across
//! reconnects and restarts, and never mixes the chunks of two versions. A robot subscribes to
//! a few missing chunks at a time, each by its own topic (the broker sends the retained
//! copy), so no broker is asked for a bundle's worth of messages at once. The announcement
//! carries the signed manifest: a robot checks the signature and the base model before it
//! downloads a byte, so an unsigned or foreign announcement costs it one message. Everything
//! is retained, so robots that were off when a skill was published get it when they come
//! back, and the publisher need not stay connected. Brokers that keep retained messages on
//! one node of a cluster, and send none to wildcard filters (RabbitMQ), are met halfway:
//! `publish` can name every node, and robots also subscribe to each wanted skill's own
//! topic.
//!
//! - this file: topics, the announcement, the install events (sans-IO);
//! - [`store`]: the chunks on disk, checked one by one, resumable;
//! - [`mirror`]: the same chunks from the HTTP(S) mirror a signed manifest names;
//! - [`agent`]: the daemon's side (its own MQTT connection);
//! - [`publish`]: `trinity skill publish`;
//! - [`status`]: `trinity fleet status`.

pub mod agent;
pub mod mirror;
pub mod publish;
pub mod status;
pub mod store;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::skills::bundle::{self, is_sha256_hex, Manifest, MAX_BUNDLE_BYTES, MAX_MANIFEST_BYTES};

/// Announcement format this build writes and the newest it reads.
pub const FORMAT: u32 = 1;
/// Chunk size `publish` uses: below every broker's packet limit we know of (AWS IoT's is
/// 128 KiB) and the daemon's own.
pub const CHUNK_BYTES: u32 = 32 << 10;
/// Largest chunk a robot accepts.
pub const MAX_CHUNK_BYTES: u32 = 64 << 10;
/// Largest announcement a robot reads.
pub const MAX_ANNOUNCEMENT_BYTES: usize = 192 << 10;
/// Filter of every announcement.
pub const ANNOUNCEMENTS: &str = "trinity/fleet/skills/+";

/// `trinity/fleet/skills/{name}`.
pub fn announcement_topic(name: &str) -> String {
    format!("trinity/fleet/skills/{name}")
}

/// `trinity/fleet/blobs/{sha256}/{index}`.
pub fn chunk_topic(sha256: &str, index: usize) -> String {
    format!("trinity/fleet/blobs/{sha256}/{index}")
}

/// The bundle and chunk index a chunk topic names.
pub fn parse_chunk_topic(topic: &str) -> Option<(&str, usize)> {
    let rest = topic.strip_prefix("trinity/fleet/blobs/")?;
    let (sha, index) = rest.split_once('/')?;
    Some((sha, index.parse().ok()?))
}

/// The skill an announcement topic names.
pub fn parse_announcement_topic(topic: &str) -> Option<&str> {
    topic.strip_prefix("trinity/fleet/skills/").filter(|n| !n.contains('/'))
}

/// A skill version on offer: what `trinity/fleet/skills/{name}` holds (retained).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Announcement {
    /// [`FORMAT`].
    pub format: u32,
    /// The skill.
    pub name: String,
    /// Its version (the manifest's).
    pub version: String,
    /// The bundle's `manifest.json`, exact bytes as text (what the signature covers).
    pub manifest: String,
    /// Its minisign signature.
    pub signature: String,
    /// The bundle's bytes and chunks.
    pub bundle: BlobRef,
    /// Which robots should install it without being asked; absent: every robot that wants
    /// the skill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Target>,
}

/// A bundle file cut into chunks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlobRef {
    /// sha256 of the whole file (hex): the chunks' topic.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
    /// Every chunk's size but the last one's.
    pub chunk_bytes: u32,
    /// sha256 of each chunk (hex), in order.
    pub chunks: Vec<String>,
}

/// A rollout's audience: robots by id, or by label (`[fleet] labels`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// Robot ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub robots: Vec<String>,
    /// Labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
}

impl Target {
    /// Parse `--to`: `robot1,robot2` or `label=canary` (several: comma-separated).
    pub fn parse(spec: &str) -> Result<Target, String> {
        let mut t = Target::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (list, name) = match part.strip_prefix("label=") {
                Some(l) => (&mut t.labels, l),
                None => (&mut t.robots, part),
            };
            trinity_wire::names::robot_id(name).map_err(|e| format!("--to {part:?}: {e}"))?;
            list.push(name.to_owned());
        }
        if t.robots.is_empty() && t.labels.is_empty() {
            return Err(format!("--to {spec:?} names no robot and no label"));
        }
        Ok(t)
    }
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    crate::engine::disk::hex(&Sha256::digest(bytes).into())
}

pub(crate) use trinity_wire::short;

impl Announcement {
    /// What identifies this version for the robot: the sha256 of its signed manifest (the
    /// bundle's bytes and chunk list are not signed).
    pub fn key(&self) -> String {
        sha256_hex(self.manifest.as_bytes())
    }

    /// The announcement of a bundle file's `bytes`, cut into `chunk_bytes` chunks.
    pub fn of(bytes: &[u8], b: &bundle::Bundle, chunk_bytes: u32, to: Option<Target>) -> Result<Self, String> {
        let signature = b.signature.clone().ok_or("the bundle is not signed (`trinity skill sign`)")?;
        let manifest = String::from_utf8(b.manifest_bytes.clone()).map_err(|_| "the manifest is not UTF-8")?;
        Ok(Announcement {
            format: FORMAT,
            name: b.manifest.name.clone(),
            version: b.manifest.version.clone(),
            manifest,
            signature,
            bundle: BlobRef {
                sha256: sha256_hex(bytes),
                size: bytes.len() as u64,
                chunk_bytes,
                chunks: bytes.chunks(chunk_bytes as usize).map(sha256_hex).collect(),
            },
            to,
        })
    }

    /// Parse and check everything that can be checked without keys: size, format, names,
    /// hashes, a chunk list that adds up to the size, the manifest (checked as a bundle's
    /// is) naming the same skill and version. Returns the manifest.
    pub fn parse(topic_name: &str, payload: &[u8]) -> Result<(Announcement, Manifest), String> {
        if payload.len() > MAX_ANNOUNCEMENT_BYTES {
            return Err(format!("announcement of {} bytes (at most {MAX_ANNOUNCEMENT_BYTES})", payload.len()));
        }
        let a: Announcement = serde_json::from_slice(payload).map_err(|e| format!("not an announcement: {e}"))?;
        if a.format > FORMAT {
            return Err(format!("announcement format {} is newer than this trinity reads ({FORMAT})", a.format));
        }
        if a.name != topic_name {
            return Err(format!("announcement for `{}` on the topic of `{topic_name}`", a.name));
        }
        let b = &a.bundle;
        if !is_sha256_hex(&b.sha256) || !b.chunks.iter().all(|c| is_sha256_hex(c)) {
            return Err("a sha256 is not 64 lowercase hex digits".into());
        }
        if b.size == 0 || b.size > MAX_BUNDLE_BYTES {
            return Err(format!("bundle of {} bytes (1 to {MAX_BUNDLE_BYTES})", b.size));
        }
        if !(1024..=MAX_CHUNK_BYTES).contains(&b.chunk_bytes) {
            return Err(format!("chunks of {} bytes (1 KiB to {MAX_CHUNK_BYTES})", b.chunk_bytes));
        }
        if b.chunks.len() as u64 != b.size.div_ceil(u64::from(b.chunk_bytes)) {
            return Err(format!("{} chunks for {} bytes of {}", b.chunks.len(), b.size, b.chunk_bytes));
        }
        if a.manifest.len() as u64 > MAX_MANIFEST_BYTES {
            return Err("manifest too large".into());
        }
        let m: Manifest = serde_json::from_str(&a.manifest).map_err(|e| format!("bad manifest: {e}"))?;
        m.check().map_err(|e| e.to_string())?;
        // The archive is its files, the manifest and signature, and a few hundred bytes per
        // entry: nothing bigger is downloaded (the manifest is signed, the size is not).
        let files: u64 = m.files.iter().map(|f| f.size).sum();
        let most = files + MAX_MANIFEST_BYTES + 8192 + 1024 * (m.files.len() as u64 + 2);
        if b.size > most {
            return Err(format!("bundle of {} bytes for {files} bytes of files (at most {most})", b.size));
        }
        if m.name != a.name || m.version != a.version {
            return Err(format!(
                "the manifest is `{}` {}, the announcement `{}` {}",
                m.name, m.version, a.name, a.version
            ));
        }
        Ok((a, m))
    }

    /// Whether `robot_id` (with `labels`) is in the audience.
    pub fn targets(&self, robot_id: &str, labels: &[String]) -> bool {
        match &self.to {
            None => true,
            Some(t) => t.robots.iter().any(|r| r == robot_id) || t.labels.iter().any(|l| labels.contains(l)),
        }
    }
}

/// What a robot reports on `trinity/{robot_id}/skills/evt`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SkillEvent {
    /// A transfer in progress.
    Downloading {
        /// The skill.
        name: String,
        /// The version.
        version: String,
        /// Bytes received and checked.
        bytes: u64,
        /// The bundle's size.
        total: u64,
    },
    /// Verified, switched to and loaded.
    Installed {
        /// The skill.
        name: String,
        /// The version now served.
        version: String,
        /// The version it replaced.
        previous: Option<String>,
        /// The bundle's sha256.
        sha256: String,
        /// The signing key's id.
        key: String,
    },
    /// Refused or failed; the version served before is untouched.
    Failed {
        /// The skill.
        name: String,
        /// The version, when known.
        version: Option<String>,
        /// Why.
        reason: String,
    },
    /// `skills/rollback` carried out.
    RolledBack {
        /// The skill.
        name: String,
        /// The version served before.
        from: String,
        /// The version served now.
        to: String,
    },
    /// `skills/remove` carried out.
    Removed {
        /// The skill.
        name: String,
    },
}

/// A request on `skills/install`, `skills/rollback` or `skills/remove`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillRequest {
    /// The skill.
    pub name: String,
    /// For `install`: the version wanted (default: the one announced).
    #[serde(default)]
    pub version: Option<String>,
}

#[cfg(test)]
mod tests;
