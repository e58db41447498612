//! The commands about the robot's machine: `trinity run` (the daemon), `safe-outputs`,
//! `doctor`, `boards`.

use std::path::PathBuf;

use anyhow::{anyhow, bail};

use super::settings::{prefix_cache_dir, ModelArgs, Settings};
use super::DEFAULT_ROBOT_ID;
use crate::config::Config;
use crate::engine::EngineConfig;
use crate::model_store;

/// The daemon's options from the resolved settings: robot id, broker (configured or
/// embedded), TLS, and the config file's daemon, skills, fleet and Home Assistant sections.
pub(super) fn daemon_options(settings: Settings, robot_id: Option<String>) -> anyhow::Result<crate::daemon::Options> {
    let c = &settings.config;
    let robot_id = robot_id.or(c.robot_id.clone()).unwrap_or_else(|| DEFAULT_ROBOT_ID.into());
    trinity_wire::names::robot_id(&robot_id)?;
    let mut engine = settings.engine_config()?;
    engine.prefix_dir = Some(prefix_cache_dir());
    let m = &c.mqtt;
    let (host, port, embedded_broker) = match m.broker() {
        Some((h, port)) => (h, port, None),
        None => (m.embedded().ip().to_string(), m.embedded().port(), Some(m.embedded())),
    };
    let client_auth = match (&m.client_cert, &m.client_key) {
        (Some(c), Some(k)) => Some((c.clone(), k.clone())),
        (None, None) => None,
        _ => bail!("mqtt.client_cert and mqtt.client_key go together"),
    };
    warn_if_exposed(&host, m);
    let link = crate::mqtt::link::LinkConfig {
        host,
        port,
        client_id: m.client_id.clone().unwrap_or_else(|| format!("trinity-{robot_id}")),
        keep_alive: m.keep_alive(),
        credentials: m.username.clone().map(|u| (u, m.password.clone().unwrap_or_default())),
        ca_file: m.ca_file.clone(),
        client_auth,
        announce: Vec::new(),
    };
    Ok(crate::daemon::Options {
        robot_id,
        link,
        embedded_broker,
        board: settings.board,
        engine,
        queue_capacity: c.daemon.queue(),
        telemetry: c.daemon.telemetry(),
        skills_dir: settings.skills_dir.clone(),
        skills_poll: c.skills.poll(),
        state_dir: c.daemon.state_dir(),
        run_queued_after_restart: c.daemon.run_queued_after_restart(),
        homeassistant: c.homeassistant.enabled_prefix().map_err(|e| anyhow!(e))?,
        fleet: c.fleet.settings().map_err(|e| anyhow!(e))?,
        abort_on_panic: true,
    })
}

/// Warn about settings that expose the robot: a password sent in the clear to another
/// machine, an embedded broker that others can reach (anyone who can publish to it can
/// move the robot).
fn warn_if_exposed(host: &str, m: &crate::config::MqttConfig) {
    let loopback = |h: &str| h == "localhost" || h.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if m.password.is_some() && m.ca_file.is_none() && !loopback(host) {
        tracing::warn!("mqtt.password is sent without TLS to {host}: set mqtt.ca_file to encrypt it");
    }
    if m.host.is_none() && !m.embedded().ip().is_loopback() {
        tracing::warn!(
            "the embedded broker listens on {} with no authentication: anyone who reaches it can move the robot",
            m.embedded()
        );
    }
}

/// `trinity run`: the daemon until SIGINT or SIGTERM.
pub(super) fn run_daemon(settings: Settings, robot_id: Option<String>) -> anyhow::Result<()> {
    let cfg = daemon_options(settings, robot_id)?;
    eprintln!(
        "trinity: robot {} on {}:{}{}; send commands to trinity/{}/cmd",
        cfg.robot_id,
        cfg.link.host,
        cfg.link.port,
        if cfg.embedded_broker.is_some() { " (embedded broker)" } else { "" },
        cfg.robot_id
    );
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let shutdown = tokio_util::sync::CancellationToken::new();
        let signal = shutdown.clone();
        tokio::spawn(async move {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
            }
            tracing::info!("shutting down");
            signal.cancel();
        });
        crate::daemon::run(cfg, shutdown).await
    })
}

/// `trinity safe-outputs`: the board's outputs safe, then exit.
pub(super) fn safe_outputs(config: Option<PathBuf>, name: Option<String>) -> anyhow::Result<()> {
    let config = match config {
        Some(p) => Config::load(&p)?,
        None => Config::default(),
    };
    let b = trinity_boards::by_name(config.board_name(name.as_deref()))?;
    // Opening the board puts every output in its safe state; the e-stop holds them.
    let mut robot = crate::daemon::robot::open(&b, trinity_firmware::Millis(0))?;
    robot.engage_estop();
    eprintln!("trinity: board {}: outputs safe", b.name);
    Ok(())
}

/// `trinity doctor`: the findings, one per line; an error if any blocks.
pub(super) fn doctor(model: ModelArgs) -> anyhow::Result<()> {
    let settings = Settings::resolve(&model)?;
    let m = &settings.config.mqtt;
    // The engine's own defaults, without fetching the model (doctor only looks).
    let engine = EngineConfig::new(settings.model.clone().unwrap_or_else(model_store::default_model_path));
    let input = crate::doctor::DoctorInput {
        n_ctx: settings.context.unwrap_or(engine.n_ctx),
        slots: engine.prefix_slots,
        model: engine.model,
        broker: m.broker(),
        embedded: m.embedded(),
        skills_dir: settings.skills_dir.clone(),
        root: PathBuf::from("/"),
        required_cpu_flags: crate::build_info::required_cpu_flags(),
        board: settings.board,
    };
    let findings = crate::doctor::run(&input);
    for f in &findings {
        println!("{f}");
    }
    let fails = findings.iter().filter(|f| f.level == crate::doctor::Level::Fail).count();
    if fails > 0 {
        bail!("{fails} blocking problem(s) above");
    }
    Ok(())
}

/// `trinity boards`: every board profile, and whether the model and its KV cache fit its RAM.
pub(super) fn list_boards(args: &ModelArgs) -> anyhow::Result<()> {
    let settings = Settings::resolve(args)?;
    let path = settings.model.unwrap_or_else(model_store::default_model_path);
    let defaults = EngineConfig::new(path.clone());
    let (context, slots) = (settings.context.unwrap_or(defaults.n_ctx), defaults.prefix_slots);
    let sizes = trinity_gguf::check_model(&path)
        .ok()
        .and_then(|g| Some((g.file_size, g.kv_bytes_per_token()? * u64::from(context) * u64::from(slots))));
    match sizes {
        Some((m, kv)) => println!(
            "model {}: {} MiB + KV cache {} MiB ({slots} skill slots x {context} tokens)\n",
            path.display(),
            m >> 20,
            kv >> 20
        ),
        None => println!("model {} not readable: RAM fit not checked\n", path.display()),
    }
    println!("{:<11} {:<28} {:<22} {:>7}  fit", "board", "description", "cpu", "RAM MiB");
    for name in trinity_boards::NAMES {
        let b = trinity_boards::by_name(name)?;
        let fit = match sizes.and_then(|(m, kv)| b.fit(m, kv)) {
            Some(f) if f.fits => {
                format!("ok ({} MiB needed, {} kept free)", f.needed_mb, f.margin_mb)
            }
            Some(f) => format!("NO ({} MiB needed + {} for the OS)", f.needed_mb, f.margin_mb),
            None => "-".into(),
        };
        let ram = if b.profile.ram_mb == 0 { "-".into() } else { b.profile.ram_mb.to_string() };
        println!("{:<11} {:<28} {:<22} {:>7}  {fit}", b.name, b.description, b.profile.cpu, ram);
    }
    Ok(())
}

/// `trinity doctor --service`: run doctor again with the installed unit's environment and
/// configuration file, and this call's other arguments.
pub(super) fn doctor_as_service() -> anyhow::Result<()> {
    let root = std::path::Path::new("/");
    let Some((unit, svc)) = crate::service::ServiceEnv::installed(root) else {
        bail!("no {} installed (looked in /etc, /run, /usr/lib and /lib systemd/system)", crate::service::UNIT);
    };
    let mut env = svc.env.clone();
    if let Some(c) = &svc.config {
        env.push(("TRINITY_CONFIG".into(), c.display().to_string()));
    }
    println!("as {} runs it ({}):", crate::service::UNIT, unit.display());
    for (k, v) in &env {
        println!("  {k}={v}");
    }
    if svc.has_environment_file {
        println!("  (its EnvironmentFile= is not read here)");
    }
    println!("  (as this user, not the unit's: run it as root or `sudo -u trinity` for the service's permissions)\n");
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--service").collect();
    // Only what the service has: the caller's TRINITY_*, XDG_* or RUST_LOG would not reach it.
    let mut cmd = std::process::Command::new(std::env::current_exe()?);
    cmd.env_clear();
    for keep in ["PATH", "HOME", "LANG"] {
        if let Some(v) = std::env::var_os(keep) {
            cmd.env(keep, v);
        }
    }
    let status = cmd.args(&args).envs(env).status()?;
    if !status.success() {
        // The inner doctor has said why.
        std::process::exit(status.code().unwrap_or(1));
    }
    Ok(())
}
