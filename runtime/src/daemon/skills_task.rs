//! The daemon's skills: the built-in few-shot skills plus the skill folders, kept in step
//! with the folder directory while commands keep being served.
//!
//! The skills task rescans the directory every `poll` and whenever `skills/reload` is
//! published; a changed set of skills is swapped into the [`SkillTable`] in one step (a
//! command already planning keeps the version it started with), each new skill's prefix is
//! evaluated ahead of its first command, and `info` is republished. It also republishes
//! `info` when the prefix cache changes, so the memory each cached prefix takes is current.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::engine::{Engine, Job, PrefixCacheEntry};
use crate::mqtt::link::Outbound;
use crate::planner::Planner;
use crate::prompt::{self, Skill};
use crate::skills::{ActiveSkill, Library, ScanReport};
use trinity_wire::{AdapterInfo, PrefixInfo, SkillFolderError, SkillInfo};

/// The skills commands are planned with; replaced whole on every change.
#[derive(Clone, Default)]
pub struct SkillTable(Arc<RwLock<Arc<Vec<Skill>>>>);

impl SkillTable {
    /// The current skills (a snapshot: later changes do not affect it).
    pub fn get(&self) -> Arc<Vec<Skill>> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set(&self, skills: Vec<Skill>) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(skills);
    }
}

/// Built-ins first (the default skill leads), folder skills replacing built-ins of their name.
fn merged(active: &[&ActiveSkill]) -> Vec<Skill> {
    let mut out: Vec<Skill> = prompt::BUILTIN
        .iter()
        .filter(|n| !active.iter().any(|a| a.skill.name == **n))
        .filter_map(|n| prompt::builtin(n))
        .collect();
    out.extend(active.iter().map(|a| a.skill.clone()));
    let default = out.iter().position(|s| s.name == prompt::DEFAULT_SKILL).unwrap_or(0);
    out[..=default].rotate_right(1);
    out
}

/// What `info` says about the skills.
#[derive(Debug, Clone, Default)]
pub struct SkillsInfo {
    pub(super) skills: Vec<SkillInfo>,
    pub(super) errors: Vec<SkillFolderError>,
    prefix_cache: Vec<PrefixCacheEntry>,
}

impl SkillsInfo {
    /// `info`'s `prefix_cache`.
    pub fn prefix_cache(&self) -> Vec<PrefixInfo> {
        self.prefix_cache
            .iter()
            .map(|e| PrefixInfo { skill: e.label.clone(), tokens: e.tokens, kv_bytes: e.kv_bytes })
            .collect()
    }
}

fn describe(skills: &[Skill], active: &[&ActiveSkill]) -> Vec<SkillInfo> {
    skills
        .iter()
        .map(|s| match active.iter().find(|a| a.skill.name == s.name) {
            Some(a) => SkillInfo {
                name: s.name.clone(),
                description: s.description.clone(),
                source: a.dir.to_string_lossy().into_owned(),
                // Installed from a bundle (`trinity skill install`): its version.
                version: crate::skills::bundle::version_in(&a.dir),
                examples: Some(a.examples),
                adapters: a
                    .adapters
                    .iter()
                    .zip(&a.skill.adapters)
                    .map(|(i, (_, scale))| AdapterInfo {
                        file: i.path.file_name().map(|f| f.to_string_lossy().into_owned()),
                        bytes: i.file_bytes,
                        rank: i.summary.rank,
                        alpha: i.summary.alpha,
                        scale: *scale,
                        load_ms: i.load_time.as_secs_f64() * 1e3,
                    })
                    .collect(),
            },
            None => SkillInfo {
                name: s.name.clone(),
                description: s.description.clone(),
                source: "builtin".into(),
                ..Default::default()
            },
        })
        .collect()
}

/// Scan (blocking), and return the library with its report and the merged skills.
fn scan_blocking(
    mut lib: Library,
    engine: &Engine,
    settled_only: bool,
) -> (Library, ScanReport, Vec<Skill>, Vec<SkillInfo>) {
    let report = if settled_only { lib.scan(engine) } else { lib.scan_now(engine) };
    let active = lib.skills();
    let skills = merged(&active);
    let described = describe(&skills, &active);
    drop(active);
    (lib, report, skills, described)
}

fn log_report(r: &ScanReport, errors: &mut Vec<SkillFolderError>) {
    for n in &r.added {
        tracing::info!("skill `{n}` loaded");
    }
    for n in &r.changed {
        tracing::info!("skill `{n}` reloaded");
    }
    for n in &r.removed {
        tracing::info!("skill `{n}` removed");
    }
    for (p, why) in &r.failed {
        tracing::warn!("skill folder {} not served: {why}", p.display());
        errors.retain(|e| e.folder != *p);
        errors.push(SkillFolderError { folder: p.clone(), error: why.to_string() });
    }
}

/// Evaluate each skill's prefix now, so that its first command does not pay for it.
fn warm(engine: &Engine, skills: &[Skill]) {
    for s in skills {
        // Dropped handle: the job still runs; its result is not needed.
        let _ = engine.submit(Job::warm(s.prefix.clone(), s.adapters.clone(), s.name.clone()));
    }
}

/// The first scan, before the daemon serves: every folder loaded, settled or not.
pub async fn initial(
    dir: Option<PathBuf>,
    planner: Arc<Planner>,
    table: &SkillTable,
) -> anyhow::Result<(Option<Library>, SkillsInfo)> {
    let Some(dir) = dir else {
        let skills = merged(&[]);
        let info = SkillsInfo { skills: describe(&skills, &[]), ..Default::default() };
        warm(planner.engine(), &skills);
        table.set(skills);
        return Ok((None, info));
    };
    let p = planner.clone();
    let (lib, report, skills, described) =
        tokio::task::spawn_blocking(move || scan_blocking(Library::new(&dir), p.engine(), false)).await?;
    let mut errors = Vec::new();
    log_report(&report, &mut errors);
    warm(planner.engine(), &skills);
    table.set(skills);
    Ok((Some(lib), SkillsInfo { skills: described, errors, prefix_cache: Vec::new() }))
}

/// A request to rescan now; its sender, if any, hears back once the rescan's skills are the
/// ones commands are planned with: each folder skill served, with its version.
pub type Reload = Option<tokio::sync::oneshot::Sender<Vec<(String, Option<String>)>>>;

/// The task that keeps the skills in step with their directory (polled, and rescanned on
/// request), republishing `info` when what is served changes.
pub struct SkillsTask {
    /// The library from the first scan (`None`: no skills directory).
    pub(crate) lib: Option<Library>,
    /// What `info` says about the skills now.
    pub(crate) info: SkillsInfo,
    /// Whose engine loads adapters and warms prefixes.
    pub(crate) planner: Arc<Planner>,
    /// The skills commands are planned with.
    pub(crate) table: SkillTable,
    /// Tells the dispatcher which skills it may accept.
    pub(crate) names: watch::Sender<Vec<String>>,
    /// Requests to rescan now (`skills/reload`, the fleet agent).
    pub(crate) reload: mpsc::UnboundedReceiver<Reload>,
    /// Where a fresh `info` goes.
    pub(crate) out: mpsc::UnboundedSender<Outbound>,
    /// Makes the `info` payload from the skills' part of it.
    pub(crate) make_info: Box<dyn Fn(&SkillsInfo) -> String + Send>,
    /// Rescan period (zero: only on request).
    pub(crate) poll: Duration,
}

impl SkillsTask {
    /// Run until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        let SkillsTask { mut lib, mut info, planner, table, names, mut reload, out, make_info, poll } = self;
        // Info refresh (prefix cache) runs every 2 s even when polling is off.
        let mut tick = tokio::time::interval(if poll.is_zero() {
            Duration::from_secs(2)
        } else {
            poll.min(Duration::from_secs(2))
        });
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut since_scan = Duration::ZERO;
        let mut acks = Vec::new();
        loop {
            let asked = tokio::select! {
                _ = shutdown.cancelled() => break,
                r = reload.recv() => {
                    let Some(ack) = r else { break };
                    acks.extend(ack);
                    // A burst of requests (a flood on skills/reload) is one rescan.
                    while let Ok(ack) = reload.try_recv() {
                        acks.extend(ack);
                    }
                    true
                }
                _ = tick.tick() => false,
            };
            since_scan += if asked { Duration::ZERO } else { tick.period() };
            let due = asked || (!poll.is_zero() && since_scan >= poll);
            let mut republish = false;
            // Taken only when due: `(due, lib.take())` took it on every tick, and with polling
            // off (`poll_ms = 0`) the first tick dropped the library for good, so
            // `skills/reload` never rescanned.
            if let Some(l) = if due { lib.take() } else { None } {
                since_scan = Duration::ZERO;
                let p = planner.clone();
                let Ok((l, report, skills, described)) =
                    tokio::task::spawn_blocking(move || scan_blocking(l, p.engine(), !asked)).await
                else {
                    break;
                };
                lib = Some(l);
                log_report(&report, &mut info.errors);
                if report.changed_anything() {
                    warm(planner.engine(), &skills);
                    let _ = names.send(skills.iter().map(|s| s.name.clone()).collect());
                    table.set(skills);
                    info.skills = described;
                    // Errors of folders that now load are history.
                    info.errors.retain(|e| !info.skills.iter().any(|s| std::path::Path::new(&s.source) == e.folder));
                    republish = true;
                }
                republish |= !report.failed.is_empty();
            }
            if !acks.is_empty() {
                let served: Vec<(String, Option<String>)> = lib
                    .as_ref()
                    .map(|l| {
                        l.skills()
                            .iter()
                            .map(|a| (a.skill.name.clone(), crate::skills::bundle::version_in(&a.dir)))
                            .collect()
                    })
                    .unwrap_or_default();
                for ack in acks.drain(..) {
                    let _ = ack.send(served.clone());
                }
            }
            let cache = planner.engine().prefix_cache().await;
            if cache != info.prefix_cache {
                info.prefix_cache = cache;
                republish = true;
            }
            if republish && out.send(Outbound::Info(make_info(&info))).is_err() {
                break;
            }
        }
    }
}
