//! `trinity run`: the daemon. MQTT in, plans out, the robot moving.
//!
//! Tasks (tokio), and who may wait on whom:
//! - the MQTT link ([`crate::mqtt::link`]) owns the connection; on `estop` it calls
//!   [`Shared::estop`] itself, which makes the outputs safe and flags the running
//!   generation to stop, before the dispatcher hears of it;
//! - the dispatcher task owns the [`Dispatcher`]: it turns link input into effects, starts a
//!   runner task per command, and feeds the robot's watchdog every tick (if it stalls, the
//!   control loop's watchdog makes the outputs safe);
//! - a runner plans on the engine thread (awaiting, never blocking), approves the plan
//!   against the board's limits and starts it on the robot;
//! - the control loop polls the robot every 10 ms and hands outcomes to the runner;
//! - the telemetry task publishes the robot's state periodically.
//!
//! - the skills task ([`skills`]) keeps the skill folders in step with what is served.
//!
//! Under systemd ([`notify`]) the dispatcher also sends `READY=1` once serving and the
//! watchdog pings: a stuck dispatcher stops them, and systemd restarts the service.
//!
//! [`robot`] holds the robot abstraction: the sim board, or a Pi's real hardware.

pub mod notify;
pub mod robot;
pub mod skills;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use trinity_boards::Board;
use trinity_firmware::{Millis, Outcome};

use crate::dispatch::{Command, Dispatcher, Effect, Finished};
use crate::engine::{Engine, EngineConfig};
use crate::mqtt::link::{self, LinkConfig, Outbound};
use crate::mqtt::{broker, Inbound, Topics};
use crate::planner::{self, Planner};
use crate::prompt::{self, Skill};
use robot::RobotCell;
use skills::{SkillTable, SkillsInfo};

/// Everything `trinity run` needs.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    /// `trinity/{robot_id}/…`.
    pub robot_id: String,
    /// The broker to connect to.
    pub link: LinkConfig,
    /// Start the in-process broker on this address first.
    pub embedded_broker: Option<SocketAddr>,
    /// The board.
    pub board: Board,
    /// The engine.
    pub engine: EngineConfig,
    /// Commands queued behind the running one.
    pub queue_capacity: usize,
    /// Telemetry period.
    pub telemetry: Duration,
    /// Skill folders, if any.
    pub skills_dir: Option<PathBuf>,
    /// How often to rescan them (zero: only on `skills/reload`).
    pub skills_poll: Duration,
    /// Test hook (debug builds' `TRINITY_TEST_HANG_MAIN_LOOP_MS`): the dispatcher blocks
    /// for good this long after `READY=1`, as a deadlocked main loop would.
    pub hang_main_loop_after: Option<Duration>,
}

/// E-stop timings, for the benchmark: (received by the MQTT link, outputs safe, whether a
/// generation was running).
#[derive(Debug, Default)]
pub struct EstopProbe {
    /// One entry per `engage`.
    pub engaged: Mutex<Vec<(Instant, Instant, bool)>>,
}

/// State shared between the tasks; every lock is held for microseconds.
pub struct Shared {
    probe: Option<Arc<EstopProbe>>,
    robot: Mutex<RobotCell>,
    running_cancel: Mutex<Option<Arc<AtomicBool>>>,
    queue_depth: AtomicUsize,
    last_timings: Mutex<Option<serde_json::Value>>,
    epoch: Instant,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    fn now(&self) -> Millis {
        Millis(self.epoch.elapsed().as_millis() as u64)
    }

    /// The e-stop path: outputs safe and the running generation flagged, without waiting on
    /// the model, the dispatcher or the queue. `received` is when the request arrived.
    pub fn estop(&self, engage: bool, received: Instant) {
        self.estop_probed(engage, Some(received));
    }

    fn estop_probed(&self, engage: bool, received: Option<Instant>) {
        let mut cell = lock(&self.robot);
        if engage {
            let o = cell.robot.engage_estop();
            let safe = Instant::now();
            cell.deliver(o);
            // Flagged while the robot is locked: a runner checks its flag under the same lock
            // before it starts a plan, so a plan made before the e-stop never starts after it.
            let generating = self.flag_running();
            drop(cell);
            if let (Some(p), Some(received)) = (&self.probe, received) {
                lock(&p.engaged).push((received, safe, generating));
            }
        } else {
            cell.robot.release_estop();
        }
    }

    /// Flag the running job (generation, or a plan not yet started) to stop.
    fn flag_running(&self) -> bool {
        match lock(&self.running_cancel).as_ref() {
            Some(flag) => {
                flag.store(true, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    fn cancel_running(&self) {
        let mut cell = lock(&self.robot);
        self.flag_running();
        let o = cell.robot.cancel();
        cell.deliver(o);
    }
}

fn info_json(cfg: &DaemonConfig, engine: &Engine, skills: &SkillsInfo, sha256: Option<&str>) -> String {
    let i = engine.info();
    let (skills, skill_errors, prefix_cache) = skills.to_json();
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "robot_id": cfg.robot_id,
        "board": cfg.board.name,
        "model": {"path": i.model, "architecture": i.architecture, "bytes": i.model_bytes, "sha256": sha256},
        "skills": skills,
        "skill_errors": skill_errors,
        "skills_dir": cfg.skills_dir,
        "prefix_cache": prefix_cache,
    })
    .to_string()
}

/// Run the daemon until `shutdown`.
pub async fn run(cfg: DaemonConfig, shutdown: CancellationToken) -> anyhow::Result<()> {
    run_probed(cfg, shutdown, None).await
}

/// [`run`], recording e-stop timings into `probe`.
pub async fn run_probed(
    cfg: DaemonConfig,
    shutdown: CancellationToken,
    probe: Option<Arc<EstopProbe>>,
) -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // The hardware first: a missing bus or HAT fails in milliseconds, not after the model.
    let epoch = Instant::now();
    let robot = robot::open(&cfg.board, Millis(0))?;
    if let Some(addr) = cfg.embedded_broker {
        broker::start(addr)?;
        tracing::info!("embedded MQTT broker on {addr}");
    }
    let engine_cfg = cfg.engine.clone();
    let engine = tokio::task::spawn_blocking(move || Engine::start(engine_cfg)).await??;
    let model_path = engine.info().model.clone();
    let planner = Arc::new(Planner::new(engine, cfg.board.clone()));
    let table = SkillTable::default();
    let (library, skills_info) = skills::initial(cfg.skills_dir.clone(), planner.clone(), &table).await?;
    let info = info_json(&cfg, planner.engine(), &skills_info, None);

    let shared = Arc::new(Shared {
        probe,
        robot: Mutex::new(RobotCell::new(robot)),
        running_cancel: Mutex::new(None),
        queue_depth: AtomicUsize::new(0),
        last_timings: Mutex::new(None),
        epoch,
    });

    let topics = Topics::new(&cfg.robot_id);
    let (out_tx, out_rx) = mpsc::unbounded_channel();
    let (in_tx, in_rx) = mpsc::unbounded_channel();
    let tracker = TaskTracker::new();
    let link_shutdown = CancellationToken::new();
    let estop_shared = shared.clone();
    let on_estop = Arc::new(move |engage: bool, received: Instant| estop_shared.estop(engage, received));
    let link_task = tracker.spawn(link::run(
        cfg.link.clone(),
        topics,
        info.clone(),
        out_rx,
        in_tx,
        on_estop,
        link_shutdown.clone(),
    ));

    // The model's sha256 takes a second or more: `info` carries it once known. The skills
    // task republishes `info` whenever skills or the prefix cache change.
    let sha = Arc::new(Mutex::new(None::<String>));
    {
        let sha = sha.clone();
        tracker.spawn(async move {
            let path = model_path.clone();
            if let Ok(Ok(s)) = tokio::task::spawn_blocking(move || crate::model::sha256_file(&path)).await {
                *lock(&sha) = Some(s);
            }
        });
    }
    let names: Vec<String> = table.get().iter().map(|s| s.name.clone()).collect();
    let (names_tx, names_rx) = watch::channel(names.clone());
    let (reload_tx, reload_rx) = mpsc::unbounded_channel();
    {
        let (info_cfg, info_planner) = (cfg.clone(), planner.clone());
        let make_info = move |s: &SkillsInfo| info_json(&info_cfg, info_planner.engine(), s, lock(&sha).as_deref());
        tracker.spawn(skills::run(
            library,
            skills_info,
            planner.clone(),
            table.clone(),
            names_tx,
            reload_rx,
            out_tx.clone(),
            make_info,
            cfg.skills_poll,
            shutdown.clone(),
        ));
    }

    tracker.spawn(control_loop(shared.clone(), shutdown.clone()));
    tracker.spawn(telemetry_loop(shared.clone(), out_tx.clone(), cfg.telemetry, shutdown.clone()));
    let dispatcher = Dispatcher::new(cfg.queue_capacity, names);
    let io = DispatchIo { inbound: in_rx, out: out_tx, names: names_rx, reload: reload_tx };
    let mut notifier = notify::Notifier::from_env();
    if let Some(n) = &notifier {
        let broker = format!("{}:{}", cfg.link.host, cfg.link.port);
        n.notify(&format!("READY=1\nSTATUS=serving trinity/{}/cmd via {broker}", cfg.robot_id));
        tracing::info!("sd_notify: READY=1, watchdog pings every {:?}", n.watchdog_interval());
    }
    let hang_at = cfg.hang_main_loop_after.map(|d| Instant::now() + d);
    let main_loop = MainLoop { notifier: notifier.as_mut(), hang_at };
    dispatch_loop(dispatcher, shared.clone(), planner, table, io, main_loop, shutdown.clone()).await;
    if let Some(n) = &notifier {
        n.notify("STOPPING=1");
    }

    // Shutdown: intake has stopped; outputs safe; then `offline` and disconnect.
    shared.estop_probed(true, None);
    link_shutdown.cancel();
    tracker.close();
    let _ = link_task.await;
    tracker.wait().await;
    Ok(())
}

async fn control_loop(shared: Arc<Shared>, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {
                let now = shared.now();
                let mut cell = lock(&shared.robot);
                let o = cell.robot.poll(now);
                cell.deliver(o);
            }
        }
    }
}

async fn telemetry_loop(
    shared: Arc<Shared>,
    out: mpsc::UnboundedSender<Outbound>,
    period: Duration,
    shutdown: CancellationToken,
) {
    let mut tick = tokio::time::interval(period);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {
                let robot = lock(&shared.robot).robot.telemetry();
                let t = json!({
                    "robot": robot,
                    "queue_depth": shared.queue_depth.load(Ordering::Relaxed),
                    "last_timings": *lock(&shared.last_timings),
                });
                if out.send(Outbound::Telemetry(t.to_string())).is_err() {
                    break;
                }
            }
        }
    }
}

/// The dispatcher task's channels.
struct DispatchIo {
    inbound: mpsc::UnboundedReceiver<Inbound>,
    out: mpsc::UnboundedSender<Outbound>,
    /// The names of the skills served, updated by the skills task.
    names: watch::Receiver<Vec<String>>,
    /// Asks the skills task to rescan.
    reload: mpsc::UnboundedSender<()>,
}

/// What the dispatcher does for systemd on every tick.
struct MainLoop<'a> {
    notifier: Option<&'a mut notify::Notifier>,
    hang_at: Option<Instant>,
}

impl MainLoop<'_> {
    fn tick(&mut self) {
        let now = Instant::now();
        if self.hang_at.is_some_and(|t| now >= t) {
            tracing::warn!("test hook: the main loop hangs now");
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        if let Some(n) = self.notifier.as_mut() {
            n.tick(now);
        }
    }
}

async fn dispatch_loop(
    mut d: Dispatcher,
    shared: Arc<Shared>,
    planner: Arc<Planner>,
    skills: SkillTable,
    io: DispatchIo,
    mut main_loop: MainLoop<'_>,
    shutdown: CancellationToken,
) {
    let DispatchIo { mut inbound, out, mut names, reload } = io;
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(String, Finished)>();
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    loop {
        let now = shared.now();
        let effects = tokio::select! {
            _ = shutdown.cancelled() => break,
            msg = inbound.recv() => match msg {
                Some(Inbound::Command { skill, payload }) => d.on_payload(now.0, &payload, skill.as_deref()),
                Some(Inbound::Cancel(id)) => d.on_cancel(now.0, &id),
                Some(Inbound::Estop(engage)) => d.on_estop(engage),
                Some(Inbound::ReloadSkills) => {
                    let _ = reload.send(());
                    vec![Effect::Log("skills reload requested".into())]
                }
                Some(Inbound::Invalid(why)) => vec![Effect::Log(why)],
                None => break,
            },
            Some((id, fin)) = done_rx.recv() => d.on_finished(now.0, &id, fin),
            Ok(()) = names.changed() => {
                d.set_skills(names.borrow_and_update().clone());
                Vec::new()
            }
            _ = tick.tick() => {
                // The dispatcher feeds the watchdog: if this task stalls, the control loop's
                // watchdog puts the outputs in their safe state. systemd's watchdog too.
                lock(&shared.robot).robot.feed(now);
                main_loop.tick();
                d.tick(now.0)
            }
        };
        for e in effects {
            match e {
                // Already done on the link task; repeating it is harmless and covers an
                // e-stop that reached the dispatcher another way.
                Effect::SafeOutputs => shared.estop_probed(true, None),
                Effect::Publish(ev) => {
                    let json = serde_json::to_string(&ev).unwrap_or_default();
                    let _ = out.send(Outbound::Event { id: ev.id, json });
                }
                Effect::Start { id, command } => {
                    // The cancel flag exists and is reachable from the e-stop path before the
                    // runner task even runs: an e-stop right after `executing` is never lost.
                    let flag = Arc::new(AtomicBool::new(false));
                    *lock(&shared.running_cancel) = Some(flag.clone());
                    let task = run_command(shared.clone(), planner.clone(), skills.get(), command, flag);
                    let done = done_tx.clone();
                    tokio::spawn(async move {
                        let fin = task.await;
                        let _ = done.send((id, fin));
                    });
                }
                Effect::CancelRunning { .. } => shared.cancel_running(),
                Effect::Log(line) => tracing::info!("{line}"),
            }
        }
        shared.queue_depth.store(d.queue_depth(), Ordering::Relaxed);
    }
}

/// Plan, approve and execute one command.
async fn run_command(
    shared: Arc<Shared>,
    planner: Arc<Planner>,
    skills: Arc<Vec<Skill>>,
    command: Command,
    flag: Arc<AtomicBool>,
) -> Finished {
    let failed = |error: String, plan: Option<serde_json::Value>| Finished::Failed { error, plan };
    let name = command.skill.clone().unwrap_or_else(|| prompt::DEFAULT_SKILL.to_owned());
    // Only our own flag: after a cancel the dispatcher may already have registered the next
    // command's.
    let unregister = || {
        let mut slot = lock(&shared.running_cancel);
        if slot.as_ref().is_some_and(|f| Arc::ptr_eq(f, &flag)) {
            *slot = None;
        }
    };
    let Some(skill) = skills.iter().find(|s| s.name == name) else {
        unregister();
        return failed(format!("unknown skill `{name}`"), None);
    };
    let t0 = Instant::now();
    let handle = match planner.submit_with(skill, &command.text, flag.clone()) {
        Ok(h) => h,
        Err(e) => {
            unregister();
            return failed(e.to_string(), None);
        }
    };
    // The flag stays registered until the plan is on the robot (below), so an e-stop or a
    // cancel that lands between the end of generation and the start is not lost.
    let generation = handle.result().await;
    let generation = match generation {
        Ok(g) => g,
        Err(crate::engine::EngineError::Canceled) => {
            unregister();
            return Finished::Canceled;
        }
        Err(e) => {
            unregister();
            return failed(e.to_string(), None);
        }
    };
    *lock(&shared.last_timings) = Some(json!({
        "prompt_tokens": generation.prompt_tokens,
        "prompt_ms": generation.prompt_time.as_secs_f64() * 1e3,
        "generated_tokens": generation.generated_tokens,
        "generation_ms": generation.generation_time.as_secs_f64() * 1e3,
        "time_to_plan_ms": t0.elapsed().as_secs_f64() * 1e3,
    }));
    let plan = match planner::finish(skill, planner.board(), &generation) {
        Ok(p) => p,
        Err(e) => {
            unregister();
            return failed(e.to_string(), None);
        }
    };
    let plan_json = serde_json::to_value(&plan).unwrap_or_default();
    let checked = match planner.board().limits.approve(&plan) {
        Ok(c) => c,
        Err(v) => {
            unregister();
            return failed(format!("plan refused by the board's limits: {v}"), Some(plan_json));
        }
    };
    let rx = {
        let mut cell = lock(&shared.robot);
        unregister();
        if flag.load(Ordering::Relaxed) {
            return Finished::Canceled;
        }
        let now = shared.now();
        match cell.start(&checked, now) {
            Ok(rx) => rx,
            Err(r) => return failed(format!("the robot refused the plan: {r:?}"), Some(plan_json)),
        }
    };
    match rx.await {
        Ok(Outcome::Succeeded) => Finished::Succeeded { plan: plan_json },
        Ok(Outcome::Canceled) | Err(_) => Finished::Canceled,
        Ok(Outcome::DriverFailed { index, error }) => failed(format!("action {index}: {error}"), Some(plan_json)),
        Ok(Outcome::WatchdogExpired) => failed("watchdog expired: outputs made safe".into(), Some(plan_json)),
    }
}
