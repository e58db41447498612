//! The daemon's side of skills over the broker: its own MQTT connection (client id
//! `{client_id}-fleet`, a clean session: everything it needs is retained), so a transfer of
//! megabytes never queues in front of a command or an event, and the e-stop has its own
//! connection anyway.
//!
//! On an announcement for a skill this robot takes (`[fleet] skills`, and the announcement's
//! audience), or on a request on `skills/install`: check the signature and the base model
//! from the announcement alone, download the chunks (each checked as it arrives, kept on disk,
//! resumed after a reconnect or a restart; from the HTTP(S) mirror the signed manifest names,
//! if any and `[fleet] mirror` allows, and from the broker what the mirror did not deliver),
//! join and hash them, then [`bundle::install`] in a
//! blocking task (every file's hash, the adapters against the base model, staged, switched
//! by one rename, the version before kept) and ask the skills task to rescan: the new
//! version serves the next command, a command planning already keeps the one it started
//! with. Every step is reported on `skills/evt`; a failure leaves the served version as it
//! was.
//!
//! One download at a time; announcements for other skills wait in a queue of at most
//! [`MAX_SKILLS`] names (a flood of announcements costs a log line each, nothing more). What
//! was installed, refused, rolled back or removed is remembered by its signed manifest in
//! `{downloads}/state.json`, so a retained announcement is not acted on again after every
//! reconnect or restart (a rollback stays rolled back until a newer version is announced).

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, Event, Outgoing, Packet, Publish, QoS};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::store::{self, Download, Put};
use super::{Announcement, SkillEvent, SkillRequest, ANNOUNCEMENTS, MAX_CHUNK_BYTES};
use crate::mqtt::link::{
    base_options, disconnect, flush, hand_over, no_delay, settle_after_error, Backoff, LinkConfig, LinkError,
};
use crate::skills::bundle::{self, Manifest};
use crate::throttle::Throttle;
use trinity_config::{FleetSettings, Wanted};
use trinity_wire::outbox::{Keep, Msg, Outbox, MAX_PAYLOAD};

/// Most skill names an agent keeps announcements of.
pub const MAX_SKILLS: usize = 64;
/// A download that receives nothing for this long subscribes again (the broker sends the
/// retained chunks again); after [`MAX_STALLS`] such tries it fails.
const STALL: Duration = Duration::from_secs(15);
const MAX_STALLS: u32 = 3;
/// Longest reason in an event (peer text is quoted in some).
const MAX_REASON: usize = 400;
/// Progress events at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);
/// Chunks asked for at a time (each its own subscription, so the broker sends its retained
/// copy): a bounded burst on any broker. A wildcard over all of a bundle's chunks made
/// rumqttd (the embedded broker) stall after its in-flight window of 100.
const WINDOW: usize = 16;

/// Everything the agent needs.
pub struct Agent {
    /// The broker (the main link's settings).
    pub link: LinkConfig,
    /// `trinity/{robot_id}/…`.
    pub robot_id: String,
    /// What to take and whom to trust.
    pub settings: FleetSettings,
    /// The daemon's skills directory.
    pub skills_dir: PathBuf,
    /// Where downloads and the agent's state live.
    pub downloads: PathBuf,
    /// The base model file (its adapters are checked against it).
    pub model_path: PathBuf,
    /// The base model's sha256, once the daemon knows it.
    pub model_sha256: Arc<Mutex<Option<String>>>,
    /// Asks the skills task to rescan now (and hears back once it has).
    pub reload: mpsc::UnboundedSender<crate::daemon::skills_task::Reload>,
}

struct Active {
    ann: Announcement,
    download: Download,
    /// Chunks subscribed to and not received yet.
    requested: std::collections::BTreeSet<usize>,
    /// Chunks that came with other bytes than announced, and how often.
    bad: BTreeMap<usize, u32>,
    last_chunk: Instant,
    last_progress: Instant,
    stalls: u32,
    /// Set while the bundle comes from its mirror (and what stops that fetch); the broker
    /// is asked for nothing meanwhile.
    mirror: Option<Arc<AtomicBool>>,
}

/// What a mirror fetch (a thread of its own) tells the agent. `fetch` is that fetch's stop
/// flag, which tells it from an earlier fetch of the same bundle (cancelled, then asked
/// for again).
enum FromMirror {
    Chunk { fetch: Arc<AtomicBool>, index: usize, bytes: Vec<u8> },
    End { fetch: Arc<AtomicBool>, result: Result<(), String> },
}

impl Active {
    /// Subscribe to missing chunks until [`WINDOW`] are asked for (nothing while the
    /// mirror sends them).
    fn fill_window(&mut self, client: &AsyncClient) {
        if self.mirror.is_some() {
            return;
        }
        let missing: Vec<usize> = self
            .download
            .missing_indices()
            .filter(|i| !self.requested.contains(i))
            .take(WINDOW.saturating_sub(self.requested.len()))
            .collect();
        for i in missing {
            if client.try_subscribe(super::chunk_topic(&self.ann.bundle.sha256, i), QoS::AtLeastOnce).is_err() {
                break; // the request queue is full: the stall check asks again
            }
            self.requested.insert(i);
        }
    }

    /// Stop the mirror fetch, if any.
    fn stop_mirror(&mut self) {
        if let Some(stop) = self.mirror.take() {
            stop.store(true, Ordering::Relaxed);
        }
    }

    /// Drop every chunk subscription, and the mirror fetch.
    fn cancel(&mut self, client: &AsyncClient) {
        self.stop_mirror();
        for i in std::mem::take(&mut self.requested) {
            let _ = client.try_unsubscribe(super::chunk_topic(&self.ann.bundle.sha256, i));
        }
    }
}

enum Phase {
    Idle,
    Downloading(Box<Active>),
    /// Installing this skill (in a blocking task).
    Installing(String),
}

/// What a finished blocking step reports back.
enum Done {
    Installed {
        ann: Announcement,
        result: Result<bundle::Installed, String>,
    },
    Other {
        name: String,
        sha: Option<String>,
        event: SkillEvent,
    },
    /// The skills task rescanned (`served`: each folder skill and its version; `None`: no
    /// answer in time): report `event` if it took effect.
    Served {
        event: SkillEvent,
        served: Option<Vec<(String, Option<String>)>>,
    },
    /// An install that did not load was undone: report why.
    Undone(SkillEvent),
}

/// Install the downloaded bundle `file` if it is the version `ann` announced: the manifest
/// inside must be the one whose signature was checked (the bundle's bytes and chunk list
/// are not signed, only the manifest is). Then every check of [`bundle::install`], with the
/// skills directory to itself (`ops`).
fn install_announced(
    file: &std::path::Path,
    ann: &Announcement,
    known: Option<String>,
    model_path: &std::path::Path,
    keys: &std::path::Path,
    skills_dir: &std::path::Path,
    ops: &Mutex<()>,
) -> Result<bundle::Installed, String> {
    let b = bundle::Bundle::open(file).map_err(|e| e.to_string())?;
    if b.manifest_bytes != ann.manifest.as_bytes() || b.signature.as_deref() != Some(ann.signature.as_str()) {
        return Err("the downloaded bundle is not the announced one (its manifest or signature differs)".into());
    }
    drop(b);
    let sha = match known {
        Some(s) => s,
        None => crate::model_store::sha256_file(model_path).map_err(|e| e.to_string())?,
    };
    let trust = bundle::Trust { keys, base_model_sha256: &sha, allow_downgrade: false };
    let _one_at_a_time = ops.lock().unwrap_or_else(|p| p.into_inner());
    bundle::install(file, skills_dir, &trust, bundle::adapters_fit(model_path)).map_err(|e| e.to_string())
}

struct State {
    agent: Agent,
    client: AsyncClient,
    evt: String,
    announced: BTreeMap<String, Announcement>,
    queue: VecDeque<(String, bool)>,
    phase: Phase,
    /// The announcement key ([`Announcement::key`]) each skill was last installed, refused,
    /// rolled back or removed at.
    handled: BTreeMap<String, String>,
    done_tx: mpsc::UnboundedSender<Done>,
    mirror_tx: mpsc::Sender<FromMirror>,
    log: Throttle,
    /// Each skill's last outcome, published retained on `skills/state` for `fleet status`.
    last: BTreeMap<String, SkillEvent>,
    /// Announcement keys refused already (reported once, not at every reconnect).
    refused: std::collections::BTreeSet<String>,
    /// Held by every change of the skills directory (install, rollback, remove), so that
    /// they run one after the other in this process, in the order asked (`bundle`'s file
    /// lock also orders them against other processes, in no particular order).
    ops: Arc<Mutex<()>>,
    /// Whether the link is up (a transfer stalls only while it is).
    connected: bool,
    /// Events and `skills/state` until the broker acknowledged them: sent again after a
    /// reconnect (the link's sessions are clean, and rumqttc forgets what was in flight).
    outbox: Outbox,
    /// `skills/install` requests for a skill not announced (yet) on this connection: its own
    /// topic was subscribed to, since some brokers (RabbitMQ) send the retained
    /// announcement only to that; failed if nothing comes by the deadline.
    asked: BTreeMap<String, (Option<String>, Instant)>,
}

/// How long `skills/install` waits for an announcement it subscribed to.
const ASK_WAIT: Duration = Duration::from_secs(10);

impl Agent {
    /// The client id for the main link's `client_id`.
    pub fn client_id(main: &str) -> String {
        format!("{main}-fleet")
    }

    /// Run until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), LinkError> {
        let mut options = base_options(&self.link, &Self::client_id(&self.link.client_id))?;
        options.set_clean_session(true);
        // Incoming: well over an announcement, so that a too-large junk message on our
        // filters is read and refused, not a protocol error that drops the link at every
        // reconnect (brokers should cap message sizes too). Outgoing: `skills/state` at most
        // MAX_SKILLS events with reasons cut to MAX_REASON.
        options.set_max_packet_size(1 << 20, 256 << 10);
        let (client, mut events) = AsyncClient::new(options, 4 * WINDOW + 16);
        no_delay(&mut events);
        let _ = std::fs::create_dir_all(&self.downloads);
        let handled = load_state(&self.downloads);
        let (done_tx, mut done_rx) = mpsc::unbounded_channel();
        // A few chunks ahead of the agent at most: the fetch waits for the disk.
        let (mirror_tx, mut mirror_rx) = mpsc::channel(4);
        let evt = format!("trinity/{}/skills/evt", self.robot_id);
        let mut st = State {
            agent: self,
            client: client.clone(),
            evt,
            announced: BTreeMap::new(),
            queue: VecDeque::new(),
            phase: Phase::Idle,
            handled,
            done_tx,
            mirror_tx,
            log: Throttle::for_peers(),
            last: BTreeMap::new(),
            refused: Default::default(),
            ops: Default::default(),
            connected: false,
            outbox: Outbox::new(256),
            asked: BTreeMap::new(),
        };
        let mut backoff = Backoff::default();
        let mut connected: Option<Instant> = None;
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                Some(done) = done_rx.recv() => st.finished(done),
                Some(m) = mirror_rx.recv() => st.on_mirror(m),
                _ = tick.tick() => {
                    st.check_stall();
                    st.check_asked();
                    st.hand_over();
                }
                event = events.poll() => match event {
                    Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                        connected = Some(Instant::now());
                        st.connected = true;
                        st.outbox.on_connack(ack.session_present);
                        st.subscribe();
                        st.hand_over();
                    }
                    Ok(Event::Incoming(Packet::PubAck(ack))) => st.outbox.on_puback(ack.pkid),
                    Ok(Event::Outgoing(Outgoing::Publish(pkid))) => st.outbox.on_outgoing_publish(pkid),
                    Ok(Event::Incoming(Packet::Publish(p))) => st.on_publish(p),
                    Ok(_) => {}
                    Err(e) => {
                        st.connected = false;
                        settle_after_error(&mut events, &mut st.outbox);
                        let wait = backoff.after_failure(connected.take().map(|t| t.elapsed()));
                        tracing::warn!("fleet link to {}:{}: {e}; retrying in {wait:?}", st.agent.link.host, st.agent.link.port);
                        tokio::select! {
                            _ = shutdown.cancelled() => break,
                            _ = tokio::time::sleep(wait) => {}
                        }
                    }
                },
            }
        }
        // A mirror fetch stops at its next chunk (its thread is not waited for).
        if let Phase::Downloading(a) = &mut st.phase {
            a.stop_mirror();
        }
        // The last events (an `installed` just sent) go out before the goodbye.
        if st.connected {
            flush(&client, &mut events, &mut st.outbox).await;
        }
        if !st.outbox.is_empty() {
            tracing::warn!("fleet: {} events not delivered at shutdown", st.outbox.len());
        }
        disconnect(&client, &mut events).await;
        Ok(())
    }
}

fn state_file(dir: &std::path::Path) -> PathBuf {
    dir.join("state.json")
}

fn load_state(dir: &std::path::Path) -> BTreeMap<String, String> {
    std::fs::read(state_file(dir)).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
}

impl State {
    fn warn(&mut self, line: &str) {
        if let Some(note) = self.log.allow(Instant::now()) {
            tracing::warn!("fleet: {}{note}", super::short(line, MAX_REASON));
        }
    }

    fn emit(&mut self, mut event: SkillEvent) {
        if let SkillEvent::Failed { reason, .. } = &mut event {
            *reason = super::short(reason, MAX_REASON);
        }
        match &event {
            SkillEvent::Failed { name, version, reason } => {
                tracing::warn!("fleet: `{name}` {}: {reason}", version.as_deref().unwrap_or(""))
            }
            SkillEvent::Downloading { .. } => {}
            other => tracing::info!("fleet: {other:?}"),
        }
        let json = serde_json::to_vec(&event).unwrap_or_default();
        let keep = if matches!(event, SkillEvent::Downloading { .. }) { Keep::Progress } else { Keep::Final };
        if let Err(e) = self.outbox.push(Msg::at_least_once(self.evt.clone(), json, keep)) {
            self.warn(&format!("event not sent: {e}"));
        }
        let name = match &event {
            SkillEvent::Downloading { .. } => return self.hand_over(),
            SkillEvent::Installed { name, .. }
            | SkillEvent::Failed { name, .. }
            | SkillEvent::RolledBack { name, .. }
            | SkillEvent::Removed { name } => name.clone(),
        };
        // Names were checked (skill alphabet) and are at most MAX_SKILLS announced ones, or
        // ones asked for; the oldest go first past that.
        self.last.insert(name, event);
        while self.last.len() > MAX_SKILLS {
            self.last.pop_first();
        }
        let mut state = serde_json::to_vec(&self.last).unwrap_or_default();
        // Within the outbox's payload limit: the oldest go first.
        while state.len() > MAX_PAYLOAD && self.last.len() > 1 {
            self.last.pop_first();
            state = serde_json::to_vec(&self.last).unwrap_or_default();
        }
        if let Err(e) = self.outbox.push(Msg::retained(self.robot_topic("state"), state)) {
            self.warn(&format!("skills/state not sent: {e}"));
        }
        self.hand_over();
    }

    /// Hand queued events to rumqttc, while connected (handed while not, they would wait in
    /// its channel and go out twice after the reconnect: the outbox sends them again too).
    fn hand_over(&mut self) {
        if self.connected {
            hand_over(&self.client, &mut self.outbox);
        }
    }

    fn remember(&mut self, name: &str, sha: &str) {
        self.handled.insert(name.to_owned(), sha.to_owned());
        let path = state_file(&self.agent.downloads);
        let tmp = path.with_extension("tmp");
        let bytes = serde_json::to_vec(&self.handled).unwrap_or_default();
        if let Err(e) = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, &path)) {
            self.warn(&format!("{}: {e}", path.display()));
        }
    }

    fn robot_topic(&self, leaf: &str) -> String {
        format!("trinity/{}/skills/{leaf}", self.agent.robot_id)
    }

    fn subscribe(&mut self) {
        let mut filters = vec![ANNOUNCEMENTS.to_owned()];
        // Each wanted skill's own topic too: some brokers (RabbitMQ) send retained messages
        // only to a filter without wildcards, so a robot that was off when a skill was
        // published would otherwise never hear of it. Where both match, a broker may send
        // the announcement twice; the second changes nothing.
        if let Wanted::Only(names) = &self.agent.settings.skills {
            filters.extend(names.iter().map(|n| super::announcement_topic(n)));
        }
        filters.extend(["install", "rollback", "remove"].map(|l| self.robot_topic(l)));
        for f in filters {
            if let Err(e) = self.client.try_subscribe(f, QoS::AtLeastOnce) {
                tracing::error!("fleet link: cannot subscribe: {e}");
            }
        }
        // A clean session: the chunk subscriptions are gone, ask again (and the time away
        // is not a stall).
        if let Phase::Downloading(a) = &mut self.phase {
            a.requested.clear();
            a.last_chunk = Instant::now();
            a.stalls = 0;
            a.fill_window(&self.client);
        }
    }

    fn on_publish(&mut self, p: Publish) {
        if let Some((sha, index)) = super::parse_chunk_topic(&p.topic) {
            return self.on_chunk(sha.to_owned(), index, &p.payload);
        }
        if let Some(name) = super::parse_announcement_topic(&p.topic) {
            return self.on_announcement(name.to_owned(), &p.payload);
        }
        let leaf = p.topic.rsplit('/').next().unwrap_or("").to_owned();
        if p.retain {
            return self.warn(&format!("retained skills/{leaf} request ignored: a request acts once, when published"));
        }
        let req: SkillRequest = match serde_json::from_slice(&p.payload) {
            Ok(r) if p.payload.len() <= 1024 => r,
            _ => return self.warn(&format!("skills/{leaf}: expected {{\"name\": \"…\"}}")),
        };
        if trinity_wire::names::skill(&req.name).is_err() {
            return self.warn(&format!("skills/{leaf}: not a skill name"));
        }
        if req.version.as_deref().is_some_and(|v| v.len() > 64 || semver::Version::parse(v).is_err()) {
            return self.warn(&format!("skills/{leaf}: `version` is not a semantic version"));
        }
        match leaf.as_str() {
            "install" => self.on_install(req),
            "rollback" | "remove" => self.on_change(leaf == "rollback", req.name),
            _ => {}
        }
    }

    fn on_announcement(&mut self, name: String, payload: &[u8]) {
        if trinity_wire::names::skill(&name).is_err() {
            return self.warn("announcement on a topic that is not a skill name");
        }
        if payload.is_empty() {
            // A cleared announcement: nothing on offer (a download in progress goes on).
            self.announced.remove(&name);
            return;
        }
        let wanted = self.agent.settings.skills.contains(&name);
        let key = super::sha256_hex(payload);
        if self.refused.contains(&key) {
            return;
        }
        // Only what a trusted key signed, for this base model, is kept or acted on: an
        // unsigned announcement neither replaces a good one nor stops its download.
        let checked = Announcement::parse(&name, payload)
            .and_then(|(a, _)| self.check_signed(&a).map(|_| a).map_err(|e| e.to_string()));
        let ann = match checked {
            Ok(a) => a,
            Err(reason) => {
                if self.refused.len() >= 1024 {
                    self.refused.clear();
                }
                self.refused.insert(key);
                let reason = format!("announcement: {reason}");
                if wanted {
                    return self.emit(SkillEvent::Failed { name, version: None, reason });
                }
                return self.warn(&format!("`{name}`: {reason}"));
            }
        };
        if !self.announced.contains_key(&name) && self.announced.len() >= MAX_SKILLS {
            return self.warn(&format!("announcement for `{name}` ignored: {MAX_SKILLS} skills announced already"));
        }
        let targets = ann.targets(&self.agent.robot_id, &self.agent.settings.labels);
        self.announced.insert(name.clone(), ann);
        if let Some((version, _)) = self.asked.remove(&name) {
            return self.on_install(SkillRequest { name, version });
        }
        if wanted && targets {
            self.consider(name, false);
        }
    }

    fn on_install(&mut self, req: SkillRequest) {
        let name = req.name.clone();
        let fail = |reason: String| SkillEvent::Failed { name: name.clone(), version: req.version.clone(), reason };
        match self.announced.get(&name) {
            None if !self.asked.contains_key(&name) && self.asked.len() < MAX_SKILLS => {
                // Not heard of on this connection: ask its own topic for the retained copy.
                if let Err(e) = self.client.try_subscribe(super::announcement_topic(&name), QoS::AtLeastOnce) {
                    return self.emit(fail(format!("cannot subscribe to trinity/fleet/skills/{name}: {e}")));
                }
                self.asked.insert(name, (req.version, Instant::now()));
            }
            None => self.emit(fail(format!("nothing is announced for `{name}` on trinity/fleet/skills/{name}"))),
            Some(a) if req.version.as_ref().is_some_and(|v| *v != a.version) => {
                let reason = format!(
                    "version {} is not announced (the broker offers {})",
                    req.version.as_deref().unwrap_or(""),
                    a.version
                );
                self.emit(fail(reason))
            }
            Some(_) => self.consider(name, true),
        }
    }

    /// Install the announced version of `name` unless it was handled already (`explicit`:
    /// asked for on `skills/install`, which retries a refused or rolled-back version).
    fn consider(&mut self, name: String, explicit: bool) {
        let Some(ann) = self.announced.get(&name).cloned() else { return };
        let sha = ann.bundle.sha256.clone();
        let key = ann.key();
        let served = bundle::current_version(&self.agent.skills_dir, &name);
        if served.as_deref() == Some(ann.version.as_str()) {
            if explicit {
                tracing::info!("fleet: `{name}` {} is served already", ann.version);
            }
            return;
        }
        if !explicit && self.handled.get(&name) == Some(&key) {
            return;
        }
        match &self.phase {
            Phase::Downloading(a) if a.ann.name == name && a.ann.bundle.sha256 == sha => return,
            Phase::Downloading(_) if self.downloading(&name) => {
                // A newer announcement replaces the one downloading.
                if let Phase::Downloading(a) = &mut self.phase {
                    a.cancel(&self.client);
                }
                self.phase = Phase::Idle;
            }
            Phase::Idle => {}
            _ => {
                if !self.queue.iter().any(|(n, _)| *n == name) {
                    self.queue.push_back((name, explicit));
                }
                return;
            }
        }
        // Checked when it arrived; again, as the base model's hash may be known only now.
        let manifest = match self.check_signed(&ann) {
            Ok(m) => m,
            Err(e) => {
                self.remember(&name, &key);
                self.emit(SkillEvent::Failed { name, version: Some(ann.version), reason: e.to_string() });
                return self.next();
            }
        };
        store::prune(&self.agent.downloads, &[sha.as_str(), "state"]);
        let download = match Download::open(&self.agent.downloads, ann.bundle.clone()) {
            Ok(d) => d,
            Err(e) => {
                self.emit(SkillEvent::Failed {
                    name,
                    version: Some(ann.version),
                    reason: format!("downloads folder: {e}"),
                });
                return self.next();
            }
        };
        tracing::info!(
            "fleet: downloading `{name}` {} ({} bytes, {} chunks)",
            ann.version,
            ann.bundle.size,
            ann.bundle.chunks.len()
        );
        let now = Instant::now();
        let missing = download.missing();
        let requested = Default::default();
        let mut a = Box::new(Active {
            ann,
            download,
            requested,
            bad: BTreeMap::new(),
            last_chunk: now,
            last_progress: now,
            stalls: 0,
            mirror: None,
        });
        if missing == 0 {
            self.phase = Phase::Downloading(a);
            return self.complete();
        }
        match manifest.mirror {
            Some(url) if self.agent.settings.mirror => self.start_mirror(&mut a, url),
            _ => a.fill_window(&self.client),
        }
        self.phase = Phase::Downloading(a);
    }

    /// Fetch what `a` lacks from the mirror `url`, on a thread of its own: detached, so that
    /// a mirror that stalls never holds the daemon's exit (tokio waits for its blocking
    /// tasks; this thread ends with the process).
    fn start_mirror(&mut self, a: &mut Active, url: String) {
        let stop = Arc::new(AtomicBool::new(false));
        let (blob, tx, fetch) = (a.ann.bundle.clone(), self.mirror_tx.clone(), stop.clone());
        let first = a.download.missing_indices().next().unwrap_or(0);
        tracing::info!("fleet: fetching `{}` {} from its mirror {url}", a.ann.name, a.ann.version);
        let spawned = std::thread::Builder::new().name("fleet-mirror".into()).spawn(move || {
            let result = super::mirror::fetch(&url, &blob, first, &stop, |index, bytes| {
                tx.blocking_send(FromMirror::Chunk { fetch: stop.clone(), index, bytes }).is_ok()
            })
            .map_err(|e| format!("{url}: {e}"));
            let _ = tx.blocking_send(FromMirror::End { fetch: stop.clone(), result });
        });
        match spawned {
            Ok(_) => a.mirror = Some(fetch),
            Err(e) => {
                tracing::warn!("fleet: no thread for the mirror ({e}); from the broker");
                a.fill_window(&self.client);
            }
        }
    }

    fn on_mirror(&mut self, m: FromMirror) {
        let Phase::Downloading(a) = &mut self.phase else { return };
        let current = |a: &Active, fetch: &Arc<AtomicBool>| a.mirror.as_ref().is_some_and(|m| Arc::ptr_eq(m, fetch));
        let (fetch, outcome) = match m {
            FromMirror::Chunk { fetch, index, bytes } => {
                if !current(a, &fetch) {
                    return;
                }
                a.last_chunk = Instant::now();
                match a.download.put(index, &bytes) {
                    Ok(Put::Duplicate) => return,
                    Ok(Put::Stored) => return self.stored(),
                    Err(reason) => (fetch, Err(reason)),
                }
            }
            FromMirror::End { fetch, result } => (fetch, result),
        };
        if !current(a, &fetch) {
            return;
        }
        a.stop_mirror();
        if a.download.missing() == 0 {
            return self.complete();
        }
        // A mirror is a shortcut, never a reason to fail: the broker has every chunk.
        let why = match outcome {
            Ok(()) => "it sent too little".to_owned(),
            Err(e) => e,
        };
        let line = format!("mirror of `{}` {}: {why}; the rest comes from the broker", a.ann.name, a.ann.version);
        a.last_chunk = Instant::now();
        a.fill_window(&self.client);
        self.warn(&line);
    }

    /// A new good chunk is on disk: install once all are, else report progress now and then.
    fn stored(&mut self) {
        let Phase::Downloading(a) = &mut self.phase else { return };
        if a.download.missing() == 0 {
            return self.complete();
        }
        if a.last_progress.elapsed() >= PROGRESS_EVERY {
            a.last_progress = Instant::now();
            let ev = SkillEvent::Downloading {
                name: a.ann.name.clone(),
                version: a.ann.version.clone(),
                bytes: a.download.bytes(),
                total: a.ann.bundle.size,
            };
            self.emit(ev);
        }
    }

    /// The announcement alone proves who signed it and for which base model. Returns the
    /// signed manifest.
    fn check_signed(&self, ann: &Announcement) -> Result<Manifest, bundle::BundleError> {
        bundle::verify_manifest_signature(ann.manifest.as_bytes(), &ann.signature, &self.agent.settings.keys)?;
        let m: Manifest =
            serde_json::from_str(&ann.manifest).map_err(|e| bundle::BundleError::Manifest(e.to_string()))?;
        match self.agent.model_sha256.lock().unwrap_or_else(|p| p.into_inner()).as_deref() {
            Some(have) if *have != m.base_model_sha256 => {
                Err(bundle::BundleError::WrongBaseModel { want: m.base_model_sha256.clone(), have: have.to_owned() })
            }
            _ => Ok(m),
        }
    }

    fn downloading(&self, name: &str) -> bool {
        matches!(&self.phase, Phase::Downloading(a) if a.ann.name == name)
    }

    fn on_chunk(&mut self, sha: String, index: usize, payload: &[u8]) {
        let Phase::Downloading(a) = &mut self.phase else { return };
        if a.ann.bundle.sha256 != sha || payload.is_empty() || payload.len() > MAX_CHUNK_BYTES as usize {
            return;
        }
        a.last_chunk = Instant::now();
        a.stalls = 0;
        if a.requested.remove(&index) {
            let _ = self.client.try_unsubscribe(super::chunk_topic(&sha, index));
        }
        let put = a.download.put(index, payload);
        if put.is_ok() {
            a.fill_window(&self.client);
        }
        match put {
            Ok(Put::Duplicate) => {}
            Ok(Put::Stored) => self.stored(),
            Err(reason) => {
                // Dropped and asked for again (a peer may have sent junk once); the broker's
                // own copy wrong twice fails the transfer. The good chunks stay on disk.
                let strikes = a.bad.entry(index).or_insert(0);
                *strikes += 1;
                if *strikes < 2 {
                    return a.fill_window(&self.client);
                }
                let (name, version, key) = (a.ann.name.clone(), a.ann.version.clone(), a.ann.key());
                a.cancel(&self.client);
                self.phase = Phase::Idle;
                self.remember(&name, &key);
                let reason = format!("{reason}, twice: the broker holds a damaged or forged chunk");
                self.emit(SkillEvent::Failed { name, version: Some(version), reason });
                self.next();
            }
        }
    }

    /// `skills/install` requests whose announcement did not come: failed.
    fn check_asked(&mut self) {
        let late: Vec<String> =
            self.asked.iter().filter(|(_, (_, t))| t.elapsed() >= ASK_WAIT).map(|(n, _)| n.clone()).collect();
        for name in late {
            if let Some((version, _)) = self.asked.remove(&name) {
                let reason = format!("nothing is announced for `{name}` on trinity/fleet/skills/{name}");
                self.emit(SkillEvent::Failed { name, version, reason });
            }
        }
    }

    fn check_stall(&mut self) {
        if !self.connected {
            return;
        }
        let Phase::Downloading(a) = &mut self.phase else { return };
        // A mirror fetch ends by its own timeouts (then the broker is asked).
        if a.mirror.is_some() || a.last_chunk.elapsed() < STALL {
            return;
        }
        a.stalls += 1;
        a.last_chunk = Instant::now();
        // The broker sends a retained chunk again on a new subscription.
        a.cancel(&self.client);
        if a.stalls <= MAX_STALLS {
            return a.fill_window(&self.client);
        }
        let (name, version, key) = (a.ann.name.clone(), a.ann.version.clone(), a.ann.key());
        let reason = format!(
            "transfer stalled with {} of {} bytes ({} chunks missing at the broker?); kept for a later `skills/install`",
            a.download.bytes(),
            a.ann.bundle.size,
            a.download.missing()
        );
        self.phase = Phase::Idle;
        self.remember(&name, &key);
        self.emit(SkillEvent::Failed { name, version: Some(version), reason });
        self.next();
    }

    /// Every chunk is in: join, verify, install, in a blocking task.
    fn complete(&mut self) {
        let Phase::Downloading(mut a) = std::mem::replace(&mut self.phase, Phase::Idle) else { return };
        a.cancel(&self.client);
        let Active { ann, download, .. } = *a;
        tracing::info!("fleet: `{}` {}: every chunk in, installing", ann.name, ann.version);
        let ev = SkillEvent::Downloading {
            name: ann.name.clone(),
            version: ann.version.clone(),
            bytes: download.bytes(),
            total: ann.bundle.size,
        };
        self.emit(ev);
        self.phase = Phase::Installing(ann.name.clone());
        let (skills_dir, keys, model_path) =
            (self.agent.skills_dir.clone(), self.agent.settings.keys.clone(), self.agent.model_path.clone());
        let known = self.agent.model_sha256.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let (tx, ops) = (self.done_tx.clone(), self.ops.clone());
        tokio::spawn(async move {
            let a = ann.clone();
            let job = tokio::task::spawn_blocking(move || {
                let file = download.assemble()?;
                let r = install_announced(&file, &a, known, &model_path, &keys, &skills_dir, &ops);
                let _ = std::fs::remove_file(&file);
                r
            });
            // A panic in the task (the daemon aborts on one; in-process users may not) still
            // ends the install, so the queue goes on.
            let result = job.await.unwrap_or_else(|e| Err(format!("the install task failed: {e}")));
            let _ = tx.send(Done::Installed { ann, result });
        });
    }

    fn on_change(&mut self, rollback: bool, name: String) {
        if matches!(&self.phase, Phase::Installing(n) if *n == name) {
            let reason = "an install of this skill is running: ask again when it has ended".to_owned();
            return self.emit(SkillEvent::Failed { name, version: None, reason });
        }
        // What the operator asks for wins over a download of the same skill in progress.
        if self.downloading(&name) {
            if let Phase::Downloading(a) = &mut self.phase {
                a.cancel(&self.client);
            }
            self.phase = Phase::Idle;
        }
        self.queue.retain(|(n, _)| *n != name);
        let skills_dir = self.agent.skills_dir.clone();
        let sha = self.announced.get(&name).map(Announcement::key);
        let (tx, ops) = (self.done_tx.clone(), self.ops.clone());
        tokio::task::spawn_blocking(move || {
            let _one_at_a_time = ops.lock().unwrap_or_else(|p| p.into_inner());
            let event = if rollback {
                match bundle::rollback(&skills_dir, &name) {
                    Ok((from, to)) => SkillEvent::RolledBack { name: name.clone(), from, to },
                    Err(e) => SkillEvent::Failed { name: name.clone(), version: None, reason: e.to_string() },
                }
            } else {
                match bundle::remove(&skills_dir, &name) {
                    Ok(()) => SkillEvent::Removed { name: name.clone() },
                    Err(e) => SkillEvent::Failed { name: name.clone(), version: None, reason: e.to_string() },
                }
            };
            let _ = tx.send(Done::Other { name, sha, event });
        });
    }

    /// Ask the skills task to rescan and report `event` once the change is served: after
    /// `installed`, the next command is planned with the new version.
    fn serve_then_emit(&mut self, event: SkillEvent) {
        let (ack, served) = tokio::sync::oneshot::channel();
        if self.agent.reload.send(Some(ack)).is_err() {
            return self.emit(event);
        }
        let tx = self.done_tx.clone();
        tokio::spawn(async move {
            // A rescan loads adapters and reads file headers: seconds at most.
            let served = tokio::time::timeout(Duration::from_secs(60), served).await.ok().and_then(Result::ok);
            let _ = tx.send(Done::Served { event, served });
        });
    }

    fn finished(&mut self, done: Done) {
        match done {
            Done::Served { event: SkillEvent::Installed { name, version, previous, sha256, key }, served } => {
                let loaded = served
                    .as_ref()
                    .is_some_and(|s| s.iter().any(|(n, v)| *n == name && v.as_deref() == Some(version.as_str())));
                if loaded {
                    return self.emit(SkillEvent::Installed { name, version, previous, sha256, key });
                }
                // Switched to, but the daemon does not serve it (its folder failed to load, or
                // no answer): back to what was served before, so that a restart does not lose it.
                let (skills_dir, ops, tx) = (self.agent.skills_dir.clone(), self.ops.clone(), self.done_tx.clone());
                tokio::task::spawn_blocking(move || {
                    let undone = {
                        let _one_at_a_time = ops.lock().unwrap_or_else(|p| p.into_inner());
                        match &previous {
                            Some(_) => bundle::rollback(&skills_dir, &name).map(|_| ()),
                            None => bundle::remove(&skills_dir, &name),
                        }
                    };
                    let reason = format!(
                        "{version} was switched to but not loaded (see `info`'s skill_errors); {}",
                        match undone {
                            Ok(()) => format!("back to {}", previous.as_deref().unwrap_or("nothing")),
                            Err(e) => format!("undoing it failed: {e}"),
                        }
                    );
                    let _ = tx.send(Done::Undone(SkillEvent::Failed { name, version: Some(version), reason }));
                });
            }
            Done::Undone(event) => {
                let _ = self.agent.reload.send(None);
                self.emit(event);
            }
            Done::Served { event, .. } => self.emit(event),
            Done::Installed { ann, result } => {
                self.remember(&ann.name, &ann.key());
                match result {
                    Ok(i) => {
                        self.serve_then_emit(SkillEvent::Installed {
                            name: i.name,
                            version: i.version,
                            previous: i.previous,
                            sha256: ann.bundle.sha256,
                            key: i.key,
                        });
                    }
                    Err(reason) => self.emit(SkillEvent::Failed { name: ann.name, version: Some(ann.version), reason }),
                }
                store::prune(&self.agent.downloads, &["state"]);
                self.phase = Phase::Idle;
                self.next();
            }
            Done::Other { name, sha, event } => {
                if matches!(event, SkillEvent::Failed { .. }) {
                    return self.emit(event);
                }
                // What is announced now stays as the operator left it until a newer
                // version is announced.
                if let Some(sha) = sha {
                    self.remember(&name, &sha);
                }
                self.serve_then_emit(event);
            }
        }
    }

    fn next(&mut self) {
        while matches!(self.phase, Phase::Idle) {
            let Some((name, explicit)) = self.queue.pop_front() else { return };
            self.consider(name, explicit);
        }
    }
}
