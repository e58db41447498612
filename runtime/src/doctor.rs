//! `trinity doctor`: is this machine ready to run Trinity as configured?
//!
//! Each check gives a verdict line; a `FAIL` is something that stops the daemon from doing
//! its job (no model, not enough RAM, no I2C bus on a board that needs one, a configured
//! broker that cannot be reached), and makes the command exit non-zero. Nothing here loads
//! the model into llama.cpp: files are checked in Rust only.

use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

use trinity_boards::Board;

use crate::skills::SkillDir;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Fine.
    Ok,
    /// Works, but worth a look.
    Warn,
    /// Blocks the daemon.
    Fail,
}

/// One verdict line.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Verdict.
    pub level: Level,
    /// What was checked (`board`, `ram`, …).
    pub what: &'static str,
    /// What was found.
    pub detail: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tag = match self.level {
            Level::Ok => "ok  ",
            Level::Warn => "WARN",
            Level::Fail => "FAIL",
        };
        write!(f, "{tag} {:<8} {}", self.what, self.detail)
    }
}

/// What doctor checks against.
#[derive(Debug, Clone)]
pub struct DoctorInput {
    /// The configured board.
    pub board: Board,
    /// The model file.
    pub model: PathBuf,
    /// Context per prefix slot and number of slots (for the KV cache size).
    pub n_ctx: u32,
    /// Prefix slots.
    pub slots: u32,
    /// The configured broker (`None`: the embedded one on `embedded`).
    pub broker: Option<(String, u16)>,
    /// Where the embedded broker would listen.
    pub embedded: std::net::SocketAddr,
    /// Skill folders.
    pub skills_dir: Option<PathBuf>,
    /// Root of the system files read (`/`; tests point it elsewhere).
    pub root: PathBuf,
    /// The CPU flags this binary needs ([`crate::build_info::required_cpu_flags`]).
    pub required_cpu_flags: Vec<&'static str>,
}

/// This build against this CPU: a Pi 5 build on a Pi 4 would die of SIGILL in llama.cpp.
fn build_finding(required: &[&str], flags: Option<&(Vec<String>, bool)>) -> Finding {
    let build = crate::build_info::describe();
    match flags {
        Some((flags, true)) => {
            let missing: Vec<&str> = required.iter().copied().filter(|r| !flags.iter().any(|f| f == r)).collect();
            if missing.is_empty() {
                finding(Level::Ok, "build", format!("{build}: this CPU has what it needs"))
            } else {
                finding(
                    Level::Fail,
                    "build",
                    format!(
                        "{build} needs CPU features this CPU lacks ({}): install the pi4 package",
                        missing.join(" ")
                    ),
                )
            }
        }
        _ => finding(Level::Ok, "build", build),
    }
}

fn finding(level: Level, what: &'static str, detail: impl Into<String>) -> Finding {
    Finding { level, what, detail: detail.into() }
}

/// `/proc/meminfo`'s MemTotal, bytes.
fn mem_total(root: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(root.join("proc/meminfo")).ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The CPU feature flags of `/proc/cpuinfo` (`flags` on x86, `Features` on Arm), and
/// whether they are Arm's.
fn cpu_flags(root: &Path) -> Option<(Vec<String>, bool)> {
    let text = std::fs::read_to_string(root.join("proc/cpuinfo")).ok()?;
    let line = text.lines().find(|l| l.starts_with("flags") || l.starts_with("Features"))?;
    let flags = line.split_once(':')?.1.split_whitespace().map(str::to_owned).collect();
    Some((flags, line.starts_with("Features")))
}

/// The flags that matter to llama.cpp and rustls.
const INTERESTING: &[&str] =
    &["avx", "avx2", "fma", "f16c", "avx512f", "asimd", "asimddp", "i8mm", "aes", "sha2", "fphp"];

/// Run every check.
pub fn run(input: &DoctorInput) -> Vec<Finding> {
    let base = trinity_gguf::check_model(&input.model);
    let mut out = vec![board(input)];
    out.extend(cpu(input));
    out.extend(model_and_ram(input, &base));
    out.extend(devices(input));
    out.push(broker(input));
    out.extend(skills(input, base.as_ref().ok()));
    out.push(finding(Level::Ok, "llama", trinity_llama::system_info()));
    out
}

/// The board profile against the machine's device tree.
fn board(input: &DoctorInput) -> Finding {
    let dt = std::fs::read_to_string(input.root.join("proc/device-tree/model"))
        .ok()
        .map(|s| s.trim_end_matches('\0').trim().to_owned());
    match (&dt, input.board.is_simulated()) {
        (_, true) => finding(Level::Ok, "board", format!("sim ({}); no hardware needed", input.board.description)),
        (Some(m), false) if m.contains("Raspberry Pi") => {
            finding(Level::Ok, "board", format!("profile {} on \"{m}\"", input.board.name))
        }
        (Some(m), false) => {
            finding(Level::Warn, "board", format!("profile {} but this machine is \"{m}\"", input.board.name))
        }
        (None, false) => finding(
            Level::Warn,
            "board",
            format!("profile {}, but /proc/device-tree/model is absent: not a Raspberry Pi?", input.board.name),
        ),
    }
}

/// The CPU's features, and whether it has what this build was compiled for.
fn cpu(input: &DoctorInput) -> Vec<Finding> {
    let mut out = Vec::new();
    let flags = cpu_flags(&input.root);
    out.push(match &flags {
        Some((f, _)) => {
            let f: Vec<&str> = f.iter().map(String::as_str).filter(|f| INTERESTING.contains(f)).collect();
            finding(
                Level::Ok,
                "cpu",
                format!("features: {}", if f.is_empty() { "none of note".into() } else { f.join(" ") }),
            )
        }
        None => finding(Level::Warn, "cpu", "cannot read /proc/cpuinfo"),
    });
    out.push(build_finding(&input.required_cpu_flags, flags.as_ref()));
    out
}

/// The model file (checked in Rust; the default one against its sha256), and whether it
/// fits the RAM with its KV cache.
fn model_and_ram(input: &DoctorInput, base: &Result<trinity_gguf::Gguf, trinity_gguf::GgufError>) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut model_bytes = None;
    match base {
        Err(e) => out.push(finding(Level::Fail, "model", e.to_string())),
        Ok(g) => {
            let kv = g.kv_bytes_per_token().unwrap_or(0) * u64::from(input.n_ctx) * u64::from(input.slots);
            model_bytes = Some((g.file_size, kv));
            let default = crate::model_store::default_model_path();
            let detail =
                format!("{} ({} MiB, {})", input.model.display(), g.file_size >> 20, g.architecture().unwrap_or("?"));
            out.push(if input.model == default {
                match crate::model_store::verify_sha256(&input.model, crate::model_store::DEFAULT_SHA256) {
                    Ok(()) => finding(Level::Ok, "model", format!("{detail}, sha256 verified")),
                    Err(e) => finding(Level::Fail, "model", format!("{detail}: {e}")),
                }
            } else {
                finding(
                    Level::Ok,
                    "model",
                    format!("{detail}, checked in Rust (not the default model: no sha256 to compare)"),
                )
            });
        }
    }
    match (model_bytes, mem_total(&input.root)) {
        (Some((m, kv)), Some(total)) => {
            let need = m + kv + (64 << 20);
            let line = format!(
                "{} MiB needed (model {} + KV {} + runtime 64) of {} MiB",
                need >> 20,
                m >> 20,
                kv >> 20,
                total >> 20
            );
            out.push(if need > total {
                finding(Level::Fail, "ram", line)
            } else if need * 10 > total * 8 {
                finding(Level::Warn, "ram", format!("{line}: little left for the OS"))
            } else {
                finding(Level::Ok, "ram", line)
            });
        }
        (_, None) => out.push(finding(Level::Warn, "ram", "cannot read /proc/meminfo")),
        (None, _) => {}
    }
    out
}

/// The I2C bus, the servo HAT on it, and the GPIO chip (none needed on the sim board).
fn devices(input: &DoctorInput) -> Vec<Finding> {
    let mut out = Vec::new();
    let sim = input.board.is_simulated();
    let p = &input.board.profile;
    // The profile names device nodes by absolute path; they are looked up under `root`.
    let i2c = p.i2c_bus.trim_start_matches('/').to_owned();
    for (what, node) in [("i2c", i2c.clone()), ("gpio", p.gpio_chip.trim_start_matches('/').to_owned())] {
        out.push(if sim {
            finding(Level::Ok, what, "not needed (sim board)")
        } else if input.root.join(&node).exists() {
            finding(Level::Ok, what, format!("/{node} present"))
        } else {
            let hint = if what == "i2c" { " (enable I2C: raspi-config nonint do_i2c 0)" } else { "" };
            finding(Level::Fail, what, format!("/{node} missing{hint}"))
        });
    }
    if !sim && input.root.join(&i2c).exists() {
        let addr = input.board.wiring.pca9685_address;
        out.push(match trinity_boards::linux::probe_pca9685(&input.root.join(&i2c), addr) {
            Ok(mode1) => {
                finding(Level::Ok, "pca9685", format!("answers at {addr:#04x} on /{i2c} (MODE1 {mode1:#04x})"))
            }
            Err(e) => {
                finding(Level::Fail, "pca9685", format!("servo HAT not found on /{i2c}: {e} (wiring, power, address?)"))
            }
        });
    }
    out
}

/// The configured broker reachable, or the embedded one able to listen.
fn broker(input: &DoctorInput) -> Finding {
    match &input.broker {
        Some((host, port)) => {
            let addr = (host.as_str(), *port).to_socket_addrs().ok().and_then(|mut a| a.next());
            match addr.map(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2))) {
                Some(Ok(_)) => finding(Level::Ok, "broker", format!("{host}:{port} reachable")),
                Some(Err(e)) => finding(Level::Fail, "broker", format!("{host}:{port} unreachable: {e}")),
                None => finding(Level::Fail, "broker", format!("{host}:{port}: cannot resolve")),
            }
        }
        None => match TcpListener::bind(input.embedded) {
            Ok(_) => finding(Level::Ok, "broker", format!("embedded broker can listen on {}", input.embedded)),
            Err(e) => {
                finding(Level::Warn, "broker", format!("embedded broker cannot listen on {}: {e}", input.embedded))
            }
        },
    }
}

/// The skill folders, their adapters checked in Rust against the model.
fn skills(input: &DoctorInput, base: Option<&trinity_gguf::Gguf>) -> Vec<Finding> {
    let mut out = Vec::new();
    match &input.skills_dir {
        None => out.push(finding(Level::Ok, "skills", "no skill folders configured: built-in skills only")),
        Some(dir) => {
            let dirs = crate::skills::folders(dir);
            if dirs.is_empty() {
                out.push(finding(Level::Warn, "skills", format!("no skill folders in {}", dir.display())));
            }
            for d in dirs {
                let checked = SkillDir::load(&d).map_err(|e| e.to_string()).and_then(|sd| {
                    for (path, _) in &sd.adapters {
                        if let Some(base) = base {
                            let g = trinity_gguf::read(path).map_err(|e| e.to_string())?;
                            trinity_gguf::check_adapter(path, &g, base).map_err(|e| e.to_string())?;
                        }
                    }
                    Ok(sd)
                });
                out.push(match checked {
                    Ok(sd) => finding(
                        Level::Ok,
                        "skills",
                        format!("{}: {} adapter(s), {} examples", sd.skill.name, sd.adapters.len(), sd.examples),
                    ),
                    Err(e) => finding(Level::Warn, "skills", format!("{} not servable: {e}", d.display())),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(root: &Path, board: &str) -> DoctorInput {
        DoctorInput {
            board: trinity_boards::by_name(board).unwrap(),
            model: root.join("missing.gguf"),
            n_ctx: 1024,
            slots: 4,
            broker: None,
            embedded: ([127, 0, 0, 1], 0).into(),
            skills_dir: None,
            root: root.to_owned(),
            required_cpu_flags: Vec::new(),
        }
    }

    #[test]
    fn a_pi_profile_without_i2c_or_model_fails_and_names_why() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("proc/device-tree")).unwrap();
        std::fs::write(root.path().join("proc/device-tree/model"), "Raspberry Pi 5 Model B Rev 1.0\0").unwrap();
        std::fs::write(root.path().join("proc/cpuinfo"), "Features\t: fp asimd aes sha2 asimddp\n").unwrap();
        std::fs::write(root.path().join("proc/meminfo"), "MemTotal:        8000000 kB\n").unwrap();
        let f = run(&input(root.path(), "pi5"));
        let line = |w: &str| f.iter().find(|x| x.what == w).unwrap().clone();
        assert_eq!(line("board").level, Level::Ok, "{}", line("board"));
        assert!(line("cpu").detail.contains("asimddp"), "{}", line("cpu"));
        assert_eq!(line("model").level, Level::Fail);
        assert_eq!(line("i2c").level, Level::Fail);
        assert!(line("i2c").detail.contains("raspi-config"), "{}", line("i2c"));
        assert_eq!(line("gpio").level, Level::Fail);
        assert!(line("gpio").detail.contains("/dev/gpiochip0 missing"), "{}", line("gpio"));

        // With the nodes there (plain files here), the bus and chip pass.
        std::fs::create_dir_all(root.path().join("dev")).unwrap();
        std::fs::write(root.path().join("dev/i2c-1"), "").unwrap();
        std::fs::write(root.path().join("dev/gpiochip0"), "").unwrap();
        let f = run(&input(root.path(), "pi5"));
        let line = |w: &str| f.iter().find(|x| x.what == w).unwrap().clone();
        assert_eq!(line("i2c").level, Level::Ok, "{}", line("i2c"));
        assert_eq!(line("gpio").level, Level::Ok, "{}", line("gpio"));
    }

    #[test]
    fn an_unreachable_broker_fails() {
        let root = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut i = input(root.path(), "sim");
        i.broker = Some(("127.0.0.1".into(), port));
        let f = run(&i);
        let b = f.iter().find(|x| x.what == "broker").unwrap();
        assert_eq!(b.level, Level::Fail, "{b}");
        assert!(f.iter().any(|x| x.what == "i2c" && x.level == Level::Ok), "sim needs no I2C");
    }

    #[test]
    fn a_pi5_build_on_a_cpu_without_dotprod_fails() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("proc")).unwrap();
        // A Pi 4's Cortex-A72: no asimddp, no fphp.
        std::fs::write(root.path().join("proc/cpuinfo"), "Features\t: fp asimd evtstrm crc32 cpuid\n").unwrap();
        let mut i = input(root.path(), "sim");
        i.required_cpu_flags = vec!["asimddp", "fphp"];
        let b = run(&i).into_iter().find(|x| x.what == "build").unwrap();
        assert_eq!(b.level, Level::Fail, "{b}");
        assert!(b.detail.contains("asimddp fphp") && b.detail.contains("pi4 package"), "{b}");
        // The same CPU is fine for a build that needs nothing.
        i.required_cpu_flags.clear();
        assert_eq!(run(&i).into_iter().find(|x| x.what == "build").unwrap().level, Level::Ok);
    }

    #[test]
    fn a_bus_without_a_pca9685_fails_the_probe() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("dev")).unwrap();
        // Not a character device: the I2C_SLAVE ioctl is refused, as on a bus with no HAT
        // the write is.
        std::fs::write(root.path().join("dev/i2c-1"), "").unwrap();
        let f = run(&input(root.path(), "pi4"));
        let p = f.iter().find(|x| x.what == "pca9685").expect("probed when the bus exists");
        assert_eq!(p.level, Level::Fail, "{p}");
        assert!(p.detail.contains("servo HAT not found on /dev/i2c-1"), "{p}");
        // No bus node, no probe (the i2c line already says why).
        let empty = tempfile::tempdir().unwrap();
        assert!(!run(&input(empty.path(), "pi4")).iter().any(|x| x.what == "pca9685"));
    }
}
