//! `trinity run`: the daemon. MQTT in, plans out, the robot moving.
//!
//! Tasks (tokio), and who may wait on whom:
//! - the e-stop link ([`crate::mqtt::estop_link`], its own connection and thread) owns the
//!   e-stop: on `estop` it calls [`Shared::estop`], which makes the outputs safe, flags the
//!   running generation to stop and records the latch ([`latch`]) before the dispatcher hears
//!   of it, in the same order as the requests came;
//! - the MQTT link ([`crate::mqtt::link`]) owns the main connection: commands, cancels,
//!   events, telemetry;
//! - the dispatcher task owns the [`Dispatcher`]: it turns link input into effects (the
//!   e-stop's first), starts a runner task per command, and feeds the robot's watchdog and
//!   systemd's every tick, but only while the control loop ticks. If the dispatcher stalls,
//!   the control loop's watchdog check makes the outputs safe; if the control loop stalls,
//!   the dispatcher stops the running plan (when the robot is not locked) and systemd,
//!   no longer fed, restarts the service, whose `ExecStopPost` makes the outputs safe;
//! - a runner plans on the engine thread (awaiting, never blocking), approves the plan
//!   against the board's limits and starts it on the robot, only while the e-stop link is up
//!   and only if no e-stop came that the dispatcher had not heard of when it started it;
//! - the control loop (its own thread) polls the robot every 10 ms and hands outcomes to the runner;
//! - the telemetry task publishes the robot's state periodically.
//!
//! - the skills task ([`skills_task`]) keeps the skill folders in step with what is served.
//!
//! Under systemd ([`notify`]) the dispatcher also sends `READY=1` once serving and the
//! watchdog pings: a stuck dispatcher stops them, and systemd restarts the service.
//!
//! [`robot`] holds the robot abstraction: the sim board, or a Pi's real hardware.
//!
//! Every way out makes the outputs safe: a normal stop, an error (a drop guard), a panic (a
//! hook that makes them safe, then aborts so that systemd restarts the service; on a thread
//! that holds the robot, the robot's lock guard does it as the panic unwinds, `RobotGuard`). A SIGKILL
//! leaves the hardware as it was: the PCA9685 keeps its last PWM, GPIO lines their level;
//! the systemd unit's `ExecStopPost=trinity safe-outputs` puts them safe after any exit.

mod info;
pub mod latch;
pub mod notify;
pub mod robot;
pub mod skills_task;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use std::sync::Weak;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use trinity_boards::Board;
use trinity_firmware::{Millis, Outcome};

use crate::engine::EngineConfig;
use crate::mqtt::broker;
use crate::mqtt::estop_link::EstopLink;
use crate::mqtt::link::{Link, LinkConfig, Outbound};
use crate::planner::{self, Planner};
use crate::prompt::{self, Skill};
use latch::Latch;
use robot::RobotCell;
use skills_task::{SkillTable, SkillsInfo};
use trinity_wire::dispatch::{Command, Dispatcher, Effect, Finished};
use trinity_wire::{Inbound, Topics};

/// Everything `trinity run` runs with, resolved from the configuration file
/// ([`crate::config::Config`]), the flags and the defaults (by `cli`).
#[derive(Debug, Clone)]
pub struct Options {
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
    /// Where the e-stop latch is kept ([`latch`]).
    pub state_dir: PathBuf,
    /// Run commands the broker queued while the daemon was down even when they carry no
    /// freshness (`not_after`).
    pub run_queued_after_restart: bool,
    /// Home Assistant discovery prefix, when discovery is on ([`crate::mqtt::homeassistant`]).
    pub homeassistant: Option<String>,
    /// Skills over the broker, when `[fleet] keys` is set ([`crate::fleet::agent`]).
    pub fleet: Option<crate::config::FleetSettings>,
    /// On a panic anywhere: outputs safe, then abort the process (the binary sets this;
    /// in-process users such as benchmarks may not want their process aborted).
    pub abort_on_panic: bool,
}

/// How long the panic hook tries for the robot another thread holds.
const PANIC_LOCK_WAIT: Duration = Duration::from_millis(100);

/// How long a planned command waits for the e-stop link to be up before it fails.
const ESTOP_LINK_WAIT: Duration = Duration::from_secs(30);

/// How long the control loop may go without a tick before the dispatcher stops feeding the
/// watchdogs (the robot's and systemd's).
const CONTROL_LOOP_STALE: Duration = Duration::from_millis(500);

/// E-stop timings, for the benchmark: (received by the MQTT link, outputs safe, whether a
/// generation was running).
#[derive(Debug, Default)]
pub struct EstopProbe {
    /// One entry per `engage`.
    pub engaged: Mutex<Vec<(Instant, Instant, bool)>>,
    /// `release`s carried out (the dispatcher told).
    pub released: AtomicUsize,
}

/// What [`Shared::estop`] did.
#[derive(Debug, Clone, Copy)]
pub enum Estop {
    /// Outputs safe at `safe`; `generating`: a job was running; `recorded`: the latch is on
    /// disk (if not, the request is not acknowledged, so the broker sends it again).
    Engaged {
        /// When the outputs were safe.
        safe: Instant,
        /// Whether a job was flagged: a generation, or a plan not yet on the robot (a plan
        /// already running is stopped by the robot itself).
        generating: bool,
        /// Whether the latch was written.
        recorded: bool,
    },
    /// The latch released (and recorded).
    Released,
    /// A release that could not be recorded: the robot stays stopped.
    Refused,
}

impl Estop {
    /// Whether the request was carried out (and may be acknowledged).
    pub fn carried_out(&self) -> bool {
        matches!(self, Estop::Engaged { recorded: true, .. } | Estop::Released)
    }
}

/// State shared between the tasks; every lock is held for microseconds.
pub struct Shared {
    robot: Mutex<RobotCell>,
    latch: Latch,
    /// When the control loop last ticked (ms since `epoch`).
    control_tick: AtomicU64,
    /// Engages carried out, counted under the robot's lock: a runner starts its plan only if
    /// the dispatcher had heard of every one of them when it started the command.
    engages: AtomicU64,
    /// Whether the e-stop link is subscribed: no plan starts while it is not.
    estop_link_up: Arc<AtomicBool>,
    running_cancel: Mutex<Option<Arc<AtomicBool>>>,
    queue_depth: AtomicUsize,
    last_timings: Mutex<Option<trinity_wire::Timings>>,
    /// The last command's terminal event (telemetry's `last`).
    last_outcome: Mutex<Option<trinity_wire::Event>>,
    epoch: Instant,
    /// Whether a panic aborts the process ([`abort_on_panic`]); then a panic on a thread that
    /// holds the robot makes its outputs safe as it unwinds ([`RobotGuard`]).
    abort_on_panic: AtomicBool,
}

std::thread_local! {
    /// How many [`RobotGuard`]s this thread holds (the panic hook asks).
    static HOLDING_ROBOT: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// The robot, locked. A panic while it is held (a driver bug in `poll`, say) cannot make the
/// outputs safe from the panic hook: the lock is taken, by the panicking thread itself. So
/// the hook lets that panic unwind to here, and this guard, which holds the robot, makes
/// the outputs safe and then aborts.
struct RobotGuard<'a> {
    cell: MutexGuard<'a, RobotCell>,
    abort_on_panic: bool,
}

impl<'a> RobotGuard<'a> {
    fn new(cell: MutexGuard<'a, RobotCell>, abort_on_panic: bool) -> Self {
        HOLDING_ROBOT.with(|h| h.set(h.get() + 1));
        RobotGuard { cell, abort_on_panic }
    }
}

impl std::ops::Deref for RobotGuard<'_> {
    type Target = RobotCell;
    fn deref(&self) -> &RobotCell {
        &self.cell
    }
}

impl std::ops::DerefMut for RobotGuard<'_> {
    fn deref_mut(&mut self) -> &mut RobotCell {
        &mut self.cell
    }
}

impl Drop for RobotGuard<'_> {
    fn drop(&mut self) {
        if self.abort_on_panic && std::thread::panicking() {
            // Still counted as held: a second panic in here goes past the hook's robot path
            // and aborts at once (a panic during unwinding); the unit's `ExecStopPost` is
            // then the last resort.
            self.cell.robot.engage_estop();
            eprintln!("trinity: panic while the robot was in use: outputs made safe; aborting");
            std::process::abort();
        }
        HOLDING_ROBOT.with(|h| h.set(h.get().saturating_sub(1)));
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    fn now(&self) -> Millis {
        Millis(self.epoch.elapsed().as_millis() as u64)
    }

    /// The robot, locked (every use of it goes through here: see [`RobotGuard`]).
    fn robot(&self) -> RobotGuard<'_> {
        RobotGuard::new(lock(&self.robot), self.abort_on_panic.load(Ordering::Relaxed))
    }

    /// The robot, if nobody holds it.
    fn try_robot(&self) -> Option<RobotGuard<'_>> {
        match self.robot.try_lock() {
            Ok(cell) => Some(RobotGuard::new(cell, self.abort_on_panic.load(Ordering::Relaxed))),
            Err(std::sync::TryLockError::Poisoned(p)) => {
                Some(RobotGuard::new(p.into_inner(), self.abort_on_panic.load(Ordering::Relaxed)))
            }
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    /// The e-stop path, its one owner: outputs safe and the running generation flagged,
    /// without waiting on the model, the dispatcher or the queue, then the latch recorded on
    /// disk. A `release` that cannot be recorded is refused (the robot stays stopped).
    ///
    /// `then` runs once the request is carried out, under the robot's lock: whoever reads
    /// the robot's latch (telemetry) finds the dispatcher told already.
    pub fn estop(&self, engage: bool, then: impl FnOnce()) -> Estop {
        if engage {
            let (cell, safe, generating) = self.engage();
            then();
            drop(cell);
            // Outputs are safe either way; not recorded, it is not acknowledged either, so
            // the broker sends it again.
            let recorded = match self.latch.store(true) {
                Ok(()) => true,
                Err(e) => {
                    tracing::error!("e-stop engaged, but not recorded in {}: {e}", self.latch.path().display());
                    false
                }
            };
            return Estop::Engaged { safe, generating, recorded };
        }
        if let Err(e) = self.latch.store(false) {
            tracing::error!("e-stop release refused: cannot record it in {}: {e}", self.latch.path().display());
            return Estop::Refused;
        }
        let mut cell = self.robot();
        cell.robot.release_estop();
        then();
        Estop::Released
    }

    /// Outputs safe and the running job flagged (the latch in memory only). Returns the
    /// robot, still locked, when the outputs were safe, and whether a job was running.
    fn engage(&self) -> (RobotGuard<'_>, Instant, bool) {
        let mut cell = self.robot();
        let o = cell.robot.engage_estop();
        let safe = Instant::now();
        self.engages.fetch_add(1, Ordering::SeqCst);
        cell.deliver(o);
        // Flagged while the robot is locked: a runner checks its flag under the same lock
        // before it starts a plan, so a plan made before the e-stop never starts after it.
        let generating = self.flag_running();
        (cell, safe, generating)
    }

    /// Outputs safe from a panic hook on a thread that does not hold the robot. Another
    /// thread holds it for microseconds at a time (the control loop every 10 ms), so the
    /// lock is tried for up to [`PANIC_LOCK_WAIT`], never for good: a holder that is stuck
    /// leaves the outputs to systemd's `ExecStopPost`.
    fn safe_from_panic(&self) {
        let t0 = Instant::now();
        loop {
            match self.robot.try_lock() {
                Ok(mut cell) => {
                    cell.robot.engage_estop();
                    return;
                }
                Err(std::sync::TryLockError::Poisoned(p)) => {
                    p.into_inner().robot.engage_estop();
                    return;
                }
                Err(std::sync::TryLockError::WouldBlock) if t0.elapsed() < PANIC_LOCK_WAIT => {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(std::sync::TryLockError::WouldBlock) => {
                    eprintln!(
                        "trinity: panic while another thread held the robot for {PANIC_LOCK_WAIT:?}: outputs left to systemd's ExecStopPost"
                    );
                    return;
                }
            }
        }
    }

    /// The running plan stopped (wheels off), unless the robot is locked (by a stuck control
    /// loop, say). Not the e-stop latch: a control loop that recovers finds the robot usable.
    fn stop_if_unlocked(&self) {
        if let Some(mut cell) = self.try_robot() {
            let o = cell.robot.cancel();
            cell.deliver(o);
        }
    }

    /// Whether the control loop ticked recently.
    fn control_loop_alive(&self, now: Millis) -> bool {
        now.0.saturating_sub(self.control_tick.load(Ordering::Relaxed)) <= CONTROL_LOOP_STALE.as_millis() as u64
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
        let mut cell = self.robot();
        self.flag_running();
        let o = cell.robot.cancel();
        cell.deliver(o);
    }
}

/// Makes the outputs safe when dropped: on every way out of [`run_with`], an error
/// included.
struct SafeOnDrop(Arc<Shared>);

impl Drop for SafeOnDrop {
    fn drop(&mut self) {
        drop(self.0.engage());
    }
}

/// On a panic anywhere in the process: outputs safe first, then the usual message, then
/// abort (a daemon with a dead task is not to be trusted; systemd restarts it).
fn abort_on_panic(shared: Weak<Shared>) {
    let previous = std::panic::take_hook();
    if let Some(s) = shared.upgrade() {
        s.abort_on_panic.store(true, Ordering::Relaxed);
    }
    std::panic::set_hook(Box::new(move |info| {
        if HOLDING_ROBOT.with(|h| h.get() > 0) {
            // This thread holds the robot: its guard makes the outputs safe and aborts as
            // the panic unwinds to it ([`RobotGuard`]).
            previous(info);
            return;
        }
        if let Some(s) = shared.upgrade() {
            s.safe_from_panic();
        }
        previous(info);
        eprintln!("trinity: panic: outputs made safe; aborting");
        std::process::abort();
    }));
}

/// A token for this run of the daemon: the `sync` payload and the prefix of generated
/// command ids.
fn boot_token() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    let mixed = (nanos as u64) ^ (u64::from(std::process::id()) << 40);
    format!("{:08x}", (mixed ^ (mixed >> 29)) as u32)
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Run the daemon until `shutdown`.
pub async fn run(cfg: Options, shutdown: CancellationToken) -> anyhow::Result<()> {
    run_probed(cfg, shutdown, None).await
}

/// Home Assistant's discovery configs when `[homeassistant] discovery` is on; when it is
/// off but was on at an earlier start (a marker in the state directory holds the prefix it
/// used), the empty retained payloads that remove them, once.
fn homeassistant_announcements(cfg: &Options, topics: &Topics) -> Vec<(String, Vec<u8>)> {
    use crate::mqtt::homeassistant;
    let marker = cfg.state_dir.join(format!("homeassistant-{}", cfg.robot_id));
    match &cfg.homeassistant {
        Some(prefix) => {
            if let Err(e) = std::fs::create_dir_all(&cfg.state_dir).and_then(|_| std::fs::write(&marker, prefix)) {
                tracing::warn!(
                    "cannot write {}: {e}; turning discovery off later will not remove it",
                    marker.display()
                );
            }
            homeassistant::discovery(prefix, &cfg.robot_id, topics, &cfg.board.name, env!("CARGO_PKG_VERSION"))
        }
        None => match std::fs::read_to_string(&marker) {
            Ok(prefix) => {
                let _ = std::fs::remove_file(&marker);
                tracing::info!("Home Assistant discovery is off: removing the entities announced under {prefix}/");
                homeassistant::removal(prefix.trim(), &cfg.robot_id, topics)
            }
            Err(_) => Vec::new(),
        },
    }
}

/// [`run`], recording e-stop timings into `probe`.
pub async fn run_probed(
    cfg: Options,
    shutdown: CancellationToken,
    probe: Option<Arc<EstopProbe>>,
) -> anyhow::Result<()> {
    run_with(cfg, Parts { probe, ..Parts::default() }, shutdown).await
}

/// What the daemon runs on besides its configuration. By default: the model that
/// `cfg.engine` names and the board's robot. Tests put in a scripted engine
/// ([`crate::engine::Engine::scripted`]) to run the daemon's contract in milliseconds, and a
/// robot of their own to watch what reaches the outputs.
#[derive(Default)]
pub struct Parts {
    /// The engine to plan on, instead of starting one from `cfg.engine`.
    pub engine: Option<crate::engine::Engine>,
    /// The robot to drive, instead of opening `cfg.board`'s (its limits still come from
    /// `cfg.board`).
    pub robot: Option<Box<dyn robot::Robot>>,
    /// Records e-stop timings (the benchmark).
    pub probe: Option<Arc<EstopProbe>>,
    /// systemd's notifications, instead of the one `NOTIFY_SOCKET` names (`None`: that
    /// one, if set).
    pub notifier: Option<notify::Notifier>,
    /// Stall the main loop, as a deadlock would (tests of the watchdog).
    pub stall: Option<Stall>,
}

/// The dispatcher blocks its thread `after` `READY=1` until `until` is canceled (or the
/// daemon shuts down).
#[derive(Debug, Clone)]
pub struct Stall {
    /// From `READY=1`.
    pub after: Duration,
    /// Ends the stall.
    pub until: CancellationToken,
}

/// [`run`] on the given [`Parts`].
pub async fn run_with(cfg: Options, parts: Parts, shutdown: CancellationToken) -> anyhow::Result<()> {
    let Parts { engine, robot, probe, notifier, stall } = parts;
    let _ = rustls::crypto::ring::default_provider().install_default();
    trinity_wire::names::robot_id(&cfg.robot_id)?;
    // The hardware first: a missing bus or HAT fails in milliseconds, not after the model.
    let epoch = Instant::now();
    let mut robot = match robot {
        Some(r) => r,
        None => robot::open(&cfg.board, Millis(0))?,
    };
    let latch = Latch::new(&cfg.state_dir, &cfg.robot_id);
    let latched = match latch.load() {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("cannot read the e-stop latch {}: {e}; starting engaged", latch.path().display());
            true
        }
    };
    if latched {
        tracing::warn!("the e-stop was engaged when the daemon stopped: it still is (publish `release` on estop)");
        robot.engage_estop();
    }
    let shared = Arc::new(Shared {
        robot: Mutex::new(RobotCell::new(robot)),
        latch,
        control_tick: AtomicU64::new(0),
        engages: AtomicU64::new(0),
        estop_link_up: Arc::new(AtomicBool::new(false)),
        running_cancel: Mutex::new(None),
        queue_depth: AtomicUsize::new(0),
        last_timings: Mutex::new(None),
        last_outcome: Mutex::new(None),
        epoch,
        abort_on_panic: AtomicBool::new(false),
    });
    let _safe_on_exit = SafeOnDrop(shared.clone());
    if cfg.abort_on_panic {
        abort_on_panic(Arc::downgrade(&shared));
    }

    // Both MQTT connections are set up (TLS files read) before anything runs: a bad file is
    // an error now, not a daemon that serves nobody.
    let topics = Topics::new(&cfg.robot_id);
    let boot = boot_token();
    let mut link_cfg = cfg.link.clone();
    link_cfg.announce.extend(homeassistant_announcements(&cfg, &topics));
    let link = Link::new(link_cfg, topics.clone(), &boot)?;
    let estop_link = EstopLink::new(cfg.link.clone(), topics.clone(), &boot)?;
    if let Some(addr) = cfg.embedded_broker {
        broker::start(addr)?;
        tracing::info!("embedded MQTT broker on {addr}");
    }
    // The e-stop serves from here on, while the model loads.
    let (in_tx, in_rx) = mpsc::unbounded_channel();
    // The e-stop's own way to the dispatcher, read before anything else.
    let (estop_tx, estop_rx) = mpsc::unbounded_channel();
    let estop_shutdown = CancellationToken::new();
    let on_estop = {
        let shared = shared.clone();
        Arc::new(move |engage: bool, received: Instant| {
            let done = shared.estop(engage, || {
                let _ = estop_tx.send(engage);
            });
            if let Some(p) = &probe {
                match done {
                    Estop::Engaged { safe, generating, .. } => lock(&p.engaged).push((received, safe, generating)),
                    Estop::Released => drop(p.released.fetch_add(1, Ordering::SeqCst)),
                    Estop::Refused => {}
                }
            }
            done.carried_out()
        })
    };
    let estop_thread = estop_link.spawn(on_estop, shared.estop_link_up.clone(), estop_shutdown.clone())?;
    // Stopped on every way out, an error while the model loads included.
    let _stop_estop_link = estop_shutdown.clone().drop_guard();

    let engine = match engine {
        Some(e) => e,
        None => {
            let engine_cfg = cfg.engine.clone();
            tokio::task::spawn_blocking(move || crate::engine::Engine::start(engine_cfg)).await??
        }
    };
    let model_path = engine.info().model.clone();
    let planner = Arc::new(Planner::new(engine, cfg.board.clone()));
    let table = SkillTable::default();
    let (library, skills_info) = skills_task::initial(cfg.skills_dir.clone(), planner.clone(), &table).await?;
    let info = info::json(&cfg, planner.engine(), &skills_info, None);

    let (out_tx, out_rx) = mpsc::unbounded_channel();
    let tracker = TaskTracker::new();
    let link_shutdown = CancellationToken::new();
    let link_task = tracker.spawn(link.run(info.clone(), out_rx, in_tx, link_shutdown.clone()));

    // The model's sha256 takes a second or more: `info` carries it once known. The skills
    // task republishes `info` whenever skills or the prefix cache change.
    let sha = Arc::new(Mutex::new(None::<String>));
    {
        let sha = sha.clone();
        // The prefix cache has hashed this model file already (and remembers the hash).
        let memo = cfg.engine.prefix_dir.clone();
        tracker.spawn(async move {
            let path = model_path.clone();
            let hash = move || match memo {
                Some(dir) => {
                    crate::engine::disk::model_sha256(&dir, &path).map(|h| crate::engine::disk::hex(&h)).ok_or(())
                }
                None => crate::model_store::sha256_file(&path).map_err(|_| ()),
            };
            if let Ok(Ok(s)) = tokio::task::spawn_blocking(hash).await {
                *lock(&sha) = Some(s);
            }
        });
    }
    let names: Vec<String> = table.get().iter().map(|s| s.name.clone()).collect();
    let (names_tx, names_rx) = watch::channel(names.clone());
    let (reload_tx, reload_rx) = mpsc::unbounded_channel();
    if let Some(settings) = cfg.fleet.clone() {
        let skills_dir = cfg.skills_dir.clone().ok_or_else(|| anyhow::anyhow!("[fleet] needs a skills directory"))?;
        let agent = crate::fleet::agent::Agent {
            link: cfg.link.clone(),
            robot_id: cfg.robot_id.clone(),
            settings,
            skills_dir,
            downloads: cfg.state_dir.join("fleet"),
            model_path: planner.engine().info().model.clone(),
            model_sha256: sha.clone(),
            reload: reload_tx.clone(),
        };
        let fleet_shutdown = shutdown.clone();
        tracker.spawn(async move {
            if let Err(e) = agent.run(fleet_shutdown).await {
                tracing::error!("fleet link: {e}");
            }
        });
    }
    {
        let (info_cfg, info_planner) = (cfg.clone(), planner.clone());
        let make_info = move |s: &SkillsInfo| info::json(&info_cfg, info_planner.engine(), s, lock(&sha).as_deref());
        let task = skills_task::SkillsTask {
            lib: library,
            info: skills_info,
            planner: planner.clone(),
            table: table.clone(),
            names: names_tx,
            reload: reload_rx,
            out: out_tx.clone(),
            make_info: Box::new(make_info),
            poll: cfg.skills_poll,
        };
        tracker.spawn(task.run(shutdown.clone()));
    }

    let control_thread = control_loop(shared.clone(), shutdown.clone())?;
    tracker.spawn(telemetry_loop(shared.clone(), out_tx.clone(), cfg.telemetry, shutdown.clone()));
    let dispatcher = Dispatcher::new(cfg.queue_capacity, names)
        .with_estop(latched)
        .with_auto_prefix(&format!("auto-{boot}"))
        .run_queued_after_restart(cfg.run_queued_after_restart);
    let io = DispatchIo { estop: estop_rx, inbound: in_rx, out: out_tx, names: names_rx, reload: reload_tx };
    let mut notifier = notifier.or_else(notify::Notifier::from_env);
    if let Some(n) = &notifier {
        let broker = format!("{}:{}", cfg.link.host, cfg.link.port);
        n.notify(&format!("READY=1\nSTATUS=serving trinity/{}/cmd via {broker}", cfg.robot_id));
        tracing::info!("sd_notify: READY=1, watchdog pings every {:?}", n.watchdog_interval());
    }
    let stall = stall.map(|s| (Instant::now() + s.after, s.until));
    let main_loop = MainLoop { notifier: notifier.as_mut(), stall, shutdown: shutdown.clone() };
    dispatch_loop(dispatcher, shared.clone(), planner, table, io, main_loop, shutdown.clone()).await;
    if let Some(n) = &notifier {
        n.notify("STOPPING=1");
    }

    // Shutdown: intake has stopped; outputs safe (not latched on disk: a restart is not an
    // e-stop); the last events flushed; then `offline` and disconnect.
    drop(shared.engage());
    link_shutdown.cancel();
    tracker.close();
    let _ = link_task.await;
    tracker.wait().await;
    estop_shutdown.cancel();
    let _ = tokio::task::spawn_blocking(move || (estop_thread.join(), control_thread.join())).await;
    Ok(())
}

/// The control loop: polls the robot every 10 ms (steps end on time, the watchdog is
/// checked). On a thread of its own, so that no load on the runtime (a flood of MQTT
/// traffic, say) can delay it.
fn control_loop(shared: Arc<Shared>, shutdown: CancellationToken) -> std::io::Result<std::thread::JoinHandle<()>> {
    const PERIOD: Duration = Duration::from_millis(10);
    // Alive from now: the dispatcher's first tick may come before this thread's first
    // (the model has loaded since `epoch`; a tick of 0 would read as a stall).
    shared.control_tick.store(shared.now().0, Ordering::Relaxed);
    std::thread::Builder::new().name("control-loop".into()).spawn(move || {
        let mut next = Instant::now();
        while !shutdown.is_cancelled() {
            let now = shared.now();
            let mut cell = shared.robot();
            let o = cell.robot.poll(now);
            cell.deliver(o);
            drop(cell);
            shared.control_tick.store(now.0, Ordering::Relaxed);
            next += PERIOD;
            let t = Instant::now();
            if next > t {
                std::thread::sleep(next - t);
            } else {
                next = t; // Late: skip the missed ticks.
            }
        }
    })
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
                let (robot, estop) = {
                    let cell = shared.robot();
                    (cell.robot.telemetry(), cell.robot.estopped())
                };
                let t = trinity_wire::Telemetry {
                    robot,
                    estop,
                    queue_depth: shared.queue_depth.load(Ordering::Relaxed),
                    last_timings: lock(&shared.last_timings).clone(),
                    last: lock(&shared.last_outcome).clone(),
                };
                let json = serde_json::to_string(&t).unwrap_or_default();
                if out.send(Outbound::Telemetry(json)).is_err() {
                    break;
                }
            }
        }
    }
}

/// The dispatcher task's channels.
struct DispatchIo {
    /// `engage` (true) or `release`, from the e-stop's owner, in order.
    estop: mpsc::UnboundedReceiver<bool>,
    inbound: mpsc::UnboundedReceiver<Inbound>,
    out: mpsc::UnboundedSender<Outbound>,
    /// The names of the skills served, updated by the skills task.
    names: watch::Receiver<Vec<String>>,
    /// Asks the skills task to rescan.
    reload: mpsc::UnboundedSender<skills_task::Reload>,
}

/// What the dispatcher does for systemd on every tick.
struct MainLoop<'a> {
    notifier: Option<&'a mut notify::Notifier>,
    stall: Option<(Instant, CancellationToken)>,
    /// A stall ends on shutdown too.
    shutdown: CancellationToken,
}

impl MainLoop<'_> {
    fn tick(&mut self) {
        let now = Instant::now();
        if let Some((_, until)) = self.stall.take_if(|(at, _)| now >= *at) {
            tracing::warn!("the main loop stalls now, as asked (Parts::stall)");
            while !until.is_cancelled() && !self.shutdown.is_cancelled() {
                std::thread::sleep(Duration::from_millis(10));
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
    let DispatchIo { mut estop, mut inbound, out, mut names, reload } = io;
    // Engages the dispatcher has heard of (see `Shared::engages`).
    let mut engages_heard = 0u64;
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(String, Finished)>();
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    let mut stale_logged = false;
    // Most log lines here are about what peers sent: a flood of them must not flood the log.
    let mut log = crate::throttle::Throttle::for_peers();
    loop {
        let now = shared.now();
        let effects = tokio::select! {
            // The e-stop first: a flood of commands must not delay the dispatcher's view.
            biased;
            _ = shutdown.cancelled() => d.shutdown(),
            Some(engage) = estop.recv() => {
                engages_heard += u64::from(engage);
                d.on_estop(engage)
            }
            msg = inbound.recv() => match msg {
                Some(Inbound::Command { skill, payload, source }) => {
                    d.set_wall_clock(unix_ms());
                    d.on_payload(now.0, &payload, skill.as_deref(), source)
                }
                Some(Inbound::Cancel(id)) => d.on_cancel(now.0, &id),
                Some(Inbound::Estop(engage)) => d.on_estop(engage),
                Some(Inbound::ReloadSkills) => {
                    let _ = reload.send(None);
                    vec![Effect::Log("skills reload requested".into())]
                }
                Some(Inbound::Invalid(why)) => vec![Effect::Log(why)],
                None => d.shutdown(),
            },
            Some((id, fin)) = done_rx.recv() => d.on_finished(now.0, &id, fin),
            Ok(()) = names.changed() => {
                d.set_skills(names.borrow_and_update().clone());
                Vec::new()
            }
            _ = tick.tick() => {
                // The dispatcher feeds the watchdogs (the robot's and systemd's), but only
                // while the control loop ticks too: if either stalls, the robot's watchdog
                // puts the outputs in their safe state and systemd restarts the service.
                if shared.control_loop_alive(now) {
                    shared.robot().robot.feed(now);
                    main_loop.tick();
                    stale_logged = false;
                } else {
                    // Nobody checks the robot's watchdog while the control loop is stuck:
                    // outputs safe from here (if the robot is not locked for good), and
                    // systemd's watchdog, no longer fed, restarts the service.
                    shared.stop_if_unlocked();
                    if !stale_logged {
                        tracing::error!("the control loop stopped ticking: outputs made safe, watchdogs no longer fed");
                        stale_logged = true;
                    }
                }
                d.set_wall_clock(unix_ms());
                d.tick(now.0)
            }
        };
        for e in effects {
            match e {
                // The e-stop's owner ([`Shared::estop`]) made the outputs safe before the
                // dispatcher heard of it; doing it again here could undo a `release` that
                // followed at once (issue 11, item 6).
                Effect::SafeOutputs => {}
                Effect::Publish(ev) => {
                    let json = serde_json::to_string(&ev).unwrap_or_default();
                    let terminal = ev.state.is_terminal();
                    if terminal {
                        // Telemetry's `last`: the id, the state, the error or plan.
                        *lock(&shared.last_outcome) = Some((*ev).clone());
                    }
                    let _ = out.send(Outbound::Event { id: ev.id, json, terminal });
                }
                Effect::Start { id, command } => {
                    // The cancel flag exists and is reachable from the e-stop path before the
                    // runner task even runs: an e-stop right after `executing` is never lost.
                    let flag = Arc::new(AtomicBool::new(false));
                    *lock(&shared.running_cancel) = Some(flag.clone());
                    let task =
                        run_command(shared.clone(), planner.clone(), skills.get(), *command, flag, engages_heard);
                    let done = done_tx.clone();
                    tokio::spawn(async move {
                        let fin = task.await;
                        let _ = done.send((id, fin));
                    });
                }
                Effect::CancelRunning { .. } => shared.cancel_running(),
                Effect::Log(line) => {
                    if let Some(note) = log.allow(Instant::now()) {
                        tracing::info!("{line}{note}");
                    }
                }
            }
        }
        shared.queue_depth.store(d.queue_depth(), Ordering::Relaxed);
        if d.is_stopping() {
            break;
        }
    }
}

/// Plan, approve and execute one command.
async fn run_command(
    shared: Arc<Shared>,
    planner: Arc<Planner>,
    skills: Arc<Vec<Skill>>,
    command: Command,
    flag: Arc<AtomicBool>,
    engages_heard: u64,
) -> Finished {
    let failed = |error: String, plan: Option<trinity_firmware::Plan>| Finished::Failed { error, plan };
    let name = command.skill.clone().unwrap_or_else(|| prompt::DEFAULT_SKILL.to_owned());
    // The flag stays registered until the plan is on the robot (below), so an e-stop or a
    // cancel that lands between the end of generation and the start is not lost.
    let registered = Registered { shared: &shared, flag: flag.clone() };
    let Some(skill) = skills.iter().find(|s| s.name == name) else {
        return failed(format!("unknown skill `{name}`"), None);
    };
    // A typed plan skips the model; both pass the same checks.
    let approved = match command.plan {
        Some(plan) => planner::check(skill, planner.board(), plan).map_err(|e| failed(e.to_string(), None)),
        None => plan_with_model(&shared, &planner, skill, &command.text, &flag).await,
    };
    let planner::Approved { plan, steps } = match approved {
        Ok(a) => a,
        Err(finished) => return finished,
    };
    // Only while the robot can be stopped remotely: wait (bounded) for the e-stop link.
    let t0 = Instant::now();
    while !shared.estop_link_up.load(Ordering::SeqCst) {
        if flag.load(Ordering::Relaxed) {
            return Finished::Canceled;
        }
        if t0.elapsed() > ESTOP_LINK_WAIT {
            return failed("the e-stop connection is down: not moving".into(), Some(plan.clone()));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rx = {
        let mut cell = shared.robot();
        // Off the e-stop path under the robot's lock: an e-stop either flagged it already
        // (read below) or finds the plan on the robot.
        drop(registered);
        // An engage the dispatcher had not heard of when it started this command (its queue
        // was behind) means the command predates the e-stop: it never moves the robot.
        if flag.load(Ordering::Relaxed) || shared.engages.load(Ordering::SeqCst) != engages_heard {
            return Finished::Canceled;
        }
        let now = shared.now();
        match cell.start(&steps, now) {
            Ok(rx) => rx,
            Err(r) => return failed(format!("the robot refused the plan: {r:?}"), Some(plan.clone())),
        }
    };
    match rx.await {
        Ok(Outcome::Succeeded) => Finished::Succeeded { plan },
        Ok(Outcome::Canceled) | Err(_) => Finished::Canceled,
        Ok(Outcome::DriverFailed { index, error }) => failed(format!("action {index}: {error}"), Some(plan.clone())),
        Ok(Outcome::WatchdogExpired) => failed("watchdog expired: outputs made safe".into(), Some(plan.clone())),
    }
}

/// A running command's cancel flag, where the e-stop path finds it; taken off again on every
/// way out of [`run_command`], but only while it is still this command's (after a cancel
/// the dispatcher may already have registered the next command's).
struct Registered<'a> {
    shared: &'a Shared,
    flag: Arc<AtomicBool>,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        let mut slot = lock(&self.shared.running_cancel);
        if slot.as_ref().is_some_and(|f| Arc::ptr_eq(f, &self.flag)) {
            *slot = None;
        }
    }
}

/// Plan `text` with the model; the error is the command's end.
async fn plan_with_model(
    shared: &Shared,
    planner: &Planner,
    skill: &Skill,
    text: &str,
    flag: &Arc<AtomicBool>,
) -> Result<planner::Approved, Finished> {
    let failed = |e: String| Finished::Failed { error: e, plan: None };
    let t0 = Instant::now();
    // A command the skill's actions cannot express is refused before the model.
    let handle = planner.submit_with(skill, text, flag.clone()).map_err(|e| match e {
        e if e.is_refusal() => Finished::Refused { error: e.to_string(), candidate: None, confidence: None },
        e => failed(e.to_string()),
    })?;
    let generation = match handle.result().await {
        Ok(g) => g,
        Err(crate::engine::EngineError::Canceled) => return Err(Finished::Canceled),
        Err(e) => return Err(failed(e.to_string())),
    };
    *lock(&shared.last_timings) = Some(trinity_wire::Timings {
        prompt_tokens: generation.prompt_tokens,
        prompt_ms: generation.prompt_time.as_secs_f64() * 1e3,
        generated_tokens: generation.generated_tokens,
        generation_ms: generation.generation_time.as_secs_f64() * 1e3,
        time_to_plan_ms: t0.elapsed().as_secs_f64() * 1e3,
    });
    planner::finish(skill, planner.board(), &generation).map_err(|e| match e {
        planner::PlanError::Unsure { ref candidate, confidence, .. } => Finished::Refused {
            error: e.to_string(),
            candidate: Some((**candidate).clone()),
            confidence: Some((confidence * 1000.0).round() / 1000.0),
        },
        e if e.is_refusal() => Finished::Refused { error: e.to_string(), candidate: None, confidence: None },
        e => failed(e.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(state: &std::path::Path) -> Shared {
        let board = trinity_boards::by_name("sim").unwrap();
        Shared {
            robot: Mutex::new(RobotCell::new(robot::sim(&board, Millis(0)).unwrap())),
            latch: Latch::new(state, "t"),
            control_tick: AtomicU64::new(0),
            engages: AtomicU64::new(0),
            estop_link_up: Arc::new(AtomicBool::new(true)),
            running_cancel: Mutex::new(None),
            queue_depth: AtomicUsize::new(0),
            last_timings: Mutex::new(None),
            last_outcome: Mutex::new(None),
            epoch: Instant::now(),
            abort_on_panic: AtomicBool::new(false),
        }
    }

    #[test]
    fn issue_11_the_watchdogs_are_fed_only_while_the_control_loop_ticks() {
        let dir = tempfile::tempdir().unwrap();
        let s = shared(dir.path());
        s.control_tick.store(1000, Ordering::Relaxed);
        assert!(s.control_loop_alive(Millis(1000 + CONTROL_LOOP_STALE.as_millis() as u64)));
        assert!(!s.control_loop_alive(Millis(1001 + CONTROL_LOOP_STALE.as_millis() as u64)));
    }

    #[test]
    fn the_control_loop_is_alive_from_its_start_not_only_from_its_first_tick() {
        let dir = tempfile::tempdir().unwrap();
        // The model took 3 s to load since the daemon's epoch.
        let s = Arc::new(Shared { epoch: Instant::now() - Duration::from_secs(3), ..shared(dir.path()) });
        let stop = CancellationToken::new();
        let thread = control_loop(s.clone(), stop.clone()).unwrap();
        // Read before the new thread may have run at all (it did not on a loaded machine).
        assert!(s.control_loop_alive(s.now()), "a stall reported at start");
        stop.cancel();
        thread.join().unwrap();
    }

    #[test]
    fn issue_11_an_engage_is_recorded_and_a_release_that_cannot_be_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let s = shared(dir.path());
        let told = AtomicUsize::new(0);
        assert!(s
            .estop(true, || {
                told.fetch_add(1, Ordering::Relaxed);
            })
            .carried_out());
        assert!(s.latch.load().unwrap() && lock(&s.robot).robot.estopped());
        // The state directory turns into a file: the release cannot be recorded.
        std::fs::remove_dir_all(dir.path()).unwrap();
        std::fs::write(dir.path(), "not a directory").unwrap();
        assert!(!s
            .estop(false, || {
                told.fetch_add(1, Ordering::Relaxed);
            })
            .carried_out());
        assert!(lock(&s.robot).robot.estopped(), "still stopped");
        assert_eq!(told.load(Ordering::Relaxed), 1, "the dispatcher heard only of the engage");
        let _ = std::fs::remove_file(dir.path());
    }
}
