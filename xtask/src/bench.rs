//! `cargo xtask bench`: Trinity's engine beside llama.cpp's own `llama-bench`, in one run,
//! on the same model, threads and token counts.
//!
//! `llama-bench` is built from the *same* llama.cpp sources that llama-cpp-sys-2 compiled
//! into Trinity, with the same CPU options (read from that build's CMakeCache). Those
//! sources lack the tool's own files, so `tools/llama-bench/` is taken from the PyPI sdist
//! of `llama-cpp-python` 0.3.36 and built against the crate's tree. Results go to stdout
//! and `bench-work/bench.md`; BENCHMARKS.md quotes them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;

use crate::{cmd, status};

const SDIST: &str = "llama-cpp-python==0.3.36";
const SDIST_DIR: &str = "llama_cpp_python-0.3.36";
/// Rounds of (trinity, llama-bench) pairs. This machine is a shared VM whose speed drifts
/// by 10-20 % between minutes, so each round's ratio compares runs seconds apart, and the
/// median ratio over the rounds is reported with its range.
const ROUNDS: usize = 5;

fn output(c: &mut Command) -> Result<String> {
    eprintln!("xtask: $ {c:?}");
    let out = c.output().with_context(|| format!("cannot run {c:?}"))?;
    if !out.status.success() {
        bail!("{c:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// The llama.cpp tree inside the llama-cpp-sys-2 crate that Trinity builds.
fn crate_llama_src() -> Result<PathBuf> {
    let meta: Value = serde_json::from_str(&output(&mut cmd("cargo", &["metadata", "--format-version", "1"]))?)?;
    let pkg = meta["packages"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "llama-cpp-sys-2"))
        .ok_or_else(|| anyhow!("llama-cpp-sys-2 not in cargo metadata"))?;
    let manifest = PathBuf::from(pkg["manifest_path"].as_str().unwrap_or_default());
    Ok(manifest.parent().unwrap_or(Path::new(".")).join("llama.cpp"))
}

/// CPU options of Trinity's own llama.cpp build, as `-DNAME=VALUE` cmake arguments.
fn cpu_options(root: &Path) -> Result<Vec<String>> {
    let build = root.join("target/release/build");
    let cache = std::fs::read_dir(&build)?
        .filter_map(|e| e.ok().map(|e| e.path().join("out/build/CMakeCache.txt")))
        .find(|p| p.exists() && p.to_string_lossy().contains("llama-cpp-sys-2"))
        .ok_or_else(|| anyhow!("no llama.cpp CMakeCache under {}", build.display()))?;
    let text = std::fs::read_to_string(&cache)?;
    let keep = |k: &str| {
        k.starts_with("GGML_") && !k.contains("INSTALL") && !k.contains("FOUND")
            || ["CMAKE_BUILD_TYPE", "CMAKE_C_FLAGS", "CMAKE_CXX_FLAGS"].contains(&k)
    };
    Ok(text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("//"))
        .filter_map(|l| l.split_once('='))
        .filter_map(|(k, v)| k.split_once(':').map(|(k, _)| (k, v)))
        .filter(|(k, _)| keep(k))
        .map(|(k, v)| format!("-D{k}={v}"))
        .collect())
}

fn build_llama_bench(root: &Path, work: &Path) -> Result<PathBuf> {
    let exe = work.join("llama-bench-build/bin/llama-bench");
    if exe.exists() {
        return Ok(exe);
    }
    let tool = work.join("llama-bench-tool");
    if !tool.join("llama-bench.cpp").exists() {
        status(
            cmd("python3", &["-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-q", "-d"])
                .arg(work)
                .arg(SDIST),
        )?;
        let member = format!("{SDIST_DIR}/vendor/llama.cpp/tools/llama-bench");
        let tarball = work.join(format!("{SDIST_DIR}.tar.gz"));
        let mut tar = cmd("tar", &["xzf"]);
        tar.arg(&tarball).arg("-C").arg(work).arg(&member);
        status(&mut tar)?;
        std::fs::rename(work.join(&member), &tool)?;
    }
    let wrapper = work.join("llama-bench-wrapper");
    std::fs::create_dir_all(&wrapper)?;
    let src = crate_llama_src()?;
    std::fs::write(
        wrapper.join("CMakeLists.txt"),
        format!(
            "cmake_minimum_required(VERSION 3.14)\nproject(trinity_llama_bench C CXX)\n\
             set(LLAMA_BUILD_COMMON ON CACHE BOOL \"\" FORCE)\n\
             set(LLAMA_BUILD_TOOLS OFF CACHE BOOL \"\" FORCE)\n\
             set(LLAMA_BUILD_EXAMPLES OFF CACHE BOOL \"\" FORCE)\n\
             set(LLAMA_BUILD_TESTS OFF CACHE BOOL \"\" FORCE)\n\
             set(LLAMA_BUILD_SERVER OFF CACHE BOOL \"\" FORCE)\n\
             set(LLAMA_CURL OFF CACHE BOOL \"\" FORCE)\n\
             set(LLAMA_OPENSSL OFF CACHE BOOL \"\" FORCE)\n\
             set(CMAKE_RUNTIME_OUTPUT_DIRECTORY ${{CMAKE_BINARY_DIR}}/bin)\n\
             add_subdirectory(\"{}\" llama.cpp)\nadd_subdirectory(\"{}\" llama-bench)\n",
            src.display(),
            tool.display()
        ),
    )?;
    let build = work.join("llama-bench-build");
    let mut configure = cmd("cmake", &["-S"]);
    configure.arg(&wrapper).arg("-B").arg(&build).args(cpu_options(root)?);
    status(&mut configure)?;
    status(cmd("cmake", &["--build"]).arg(&build).args(["--target", "llama-bench", "-j", "2"]))?;
    Ok(exe)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Mean tokens/s of the one test in a `llama-bench -o json` run.
fn llama_bench_ts(exe: &Path, model: &str, threads: usize, args: &[String]) -> Result<f64> {
    let mut c = Command::new(exe);
    c.args(["-m", model, "-t", &threads.to_string(), "-r", "5", "-o", "json"]).args(args);
    let v: Value = serde_json::from_str(&output(&mut c)?)?;
    v.as_array()
        .and_then(|a| a.first())
        .and_then(|t| t["avg_ts"].as_f64())
        .ok_or_else(|| anyhow!("llama-bench printed no avg_ts"))
}

pub fn run(root: &Path) -> Result<()> {
    let work = root.join("bench-work");
    std::fs::create_dir_all(&work)?;
    status(&mut cmd("cargo", &["build", "--release", "-p", "trinity-runtime"]))?;
    let exe = build_llama_bench(root, &work)?;
    let trinity = root.join("target/release/trinity");
    let model = output(Command::new(&trinity).args(["model", "path"]))?.trim().to_owned();
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);

    let (mut t_pp, mut t_tg, mut l_pp, mut l_tg) = (vec![], vec![], vec![], vec![]);
    let (mut gr_on, mut gr_off, mut ttp_ms) = (vec![], vec![], vec![]);
    let mut last: Vec<Value> = Vec::new();
    for round in 0..ROUNDS {
        eprintln!("xtask: bench round {}/{ROUNDS}", round + 1);
        let mut c = Command::new(&trinity);
        c.args(["bench", "--threads", &threads.to_string(), "--reps", "5"]);
        last = output(&mut c)?.lines().map(serde_json::from_str).collect::<Result<_, _>>()?;
        let tp = &last.iter().find(|v| v["bench"] == "throughput").ok_or_else(|| anyhow!("no throughput"))?["result"];
        let p = tp["prompt_tokens"].as_u64().unwrap_or(0);
        let n = tp["gen_tokens"].as_u64().unwrap_or(0);
        let result = |name: &str, field: &str| {
            last.iter().find(|v| v["bench"] == name).and_then(|v| v["result"][field].as_f64()).unwrap_or(0.0)
        };
        gr_on.push(result("grammar", "constrained_tok_s"));
        gr_off.push(result("grammar", "unconstrained_tok_s"));
        ttp_ms.push(result("time_to_plan", "time_to_plan_ms"));
        t_pp.push(tp["prompt_tok_s"].as_f64().unwrap_or(0.0));
        t_tg.push(tp["gen_tok_s"].as_f64().unwrap_or(0.0));
        // pp: p tokens into an empty context; tg: n tokens one by one after a p-token prompt.
        l_pp.push(llama_bench_ts(&exe, &model, threads, &["-p".into(), p.to_string(), "-n".into(), "0".into()])?);
        l_tg.push(llama_bench_ts(
            &exe,
            &model,
            threads,
            &["-p".into(), "0".into(), "-n".into(), n.to_string(), "-d".into(), p.to_string()],
        )?);
    }
    let tp = &last.iter().find(|v| v["bench"] == "throughput").unwrap()["result"];
    let gr = &last.iter().find(|v| v["bench"] == "grammar").ok_or_else(|| anyhow!("no grammar"))?["result"];
    let ttp = &last.iter().find(|v| v["bench"] == "time_to_plan").ok_or_else(|| anyhow!("no ttp"))?["result"];
    let ratios = |t: &[f64], l: &[f64]| -> (f64, f64, f64) {
        let r: Vec<f64> = t.iter().zip(l).map(|(t, l)| t / l).collect();
        let lo = r.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = r.iter().copied().fold(0.0, f64::max);
        (median(r), lo, hi)
    };
    let (rpp, rpp_lo, rpp_hi) = ratios(&t_pp, &l_pp);
    let (rtg, rtg_lo, rtg_hi) = ratios(&t_tg, &l_tg);
    let (gr_c, gr_u) = (median(gr_on.clone()), median(gr_off.clone()));
    let (rgr, rgr_lo, rgr_hi) = ratios(&gr_on, &gr_off);
    let (tpp, ttg, lpp, ltg) = (median(t_pp), median(t_tg), median(l_pp), median(l_tg));
    let mut md = String::new();
    let _ = writeln!(
        md,
        "threads: {threads}; model: {model}; medians of {ROUNDS} rounds; ratio = median of the per-round ratios [min-max]\n"
    );
    let _ = writeln!(md, "| test | trinity tok/s | llama-bench tok/s | ratio |\n| --- | --- | --- | --- |");
    let _ = writeln!(
        md,
        "| prompt, {} tokens | {tpp:.1} | {lpp:.1} | {rpp:.3} [{rpp_lo:.3}-{rpp_hi:.3}] |",
        tp["prompt_tokens"],
    );
    let _ = writeln!(
        md,
        "| generation, {} tokens after the prompt | {ttg:.1} | {ltg:.1} | {rtg:.3} [{rtg_lo:.3}-{rtg_hi:.3}] |\n",
        tp["gen_tokens"],
    );
    let _ = writeln!(
        md,
        "grammar: {} tokens of {:?}: constrained {gr_c:.1} tok/s, unconstrained {gr_u:.1} tok/s, ratio {rgr:.3} [{rgr_lo:.3}-{rgr_hi:.3}], {} full-vocabulary fallbacks\n",
        gr["tokens"], gr["command"].as_str().unwrap_or(""), gr["fallbacks"]
    );
    let _ = writeln!(
        md,
        "time to plan: {:?} -> {}: {:.1} ms median over the rounds ({} command tokens evaluated in {:.1} ms on {} cached prefix tokens, {} plan tokens); cold prefix evaluation {:.0} ms",
        ttp["command"].as_str().unwrap_or(""), ttp["plan"].as_str().unwrap_or(""),
        median(ttp_ms), ttp["prompt_tokens"], ttp["prompt_ms"].as_f64().unwrap_or(0.0),
        ttp["prefix_cached_tokens"], ttp["generated_tokens"], ttp["cold_prefix_ms"].as_f64().unwrap_or(0.0)
    );
    daemon_figures(&trinity, &work, &mut md)?;
    skill_figures(&trinity, root, &mut md)?;
    print!("{md}");
    std::fs::write(work.join("bench.md"), &md)?;
    Ok(())
}

/// Only the skills' figures (`cargo xtask bench skills`): accuracy, adapter costs.
pub fn run_skills(root: &Path) -> Result<()> {
    let work = root.join("bench-work");
    std::fs::create_dir_all(&work)?;
    status(&mut cmd("cargo", &["build", "--release", "-p", "trinity-runtime"]))?;
    let mut md = String::new();
    skill_figures(&root.join("target/release/trinity"), root, &mut md)?;
    print!("{md}");
    std::fs::write(work.join("bench-skills.md"), &md)?;
    Ok(())
}

/// Accuracy per shipped skill on each of its sets (the generated held-out set, split from
/// training by template; the hand-written `wild` and `blind` sets) with the adapter and for
/// the base model with the built-in few-shot prompt; what the skill's confidence threshold
/// does; training time and size; adapter cost on generation, alternating skills, load time.
/// The raw attempts go to `skills/eval/{skill}.{set}.attempts.jsonl`.
fn skill_figures(trinity: &Path, root: &Path, md: &mut String) -> Result<()> {
    let _ = writeln!(
        md,
        "\n| skill | set | commands | adapter | base, built-in few-shot | adapter at its threshold: executed right / executed (precision), coverage |"
    );
    let _ = writeln!(md, "| --- | --- | --- | --- | --- | --- |");
    for name in ["rover", "arm"] {
        let dir = root.join("skills").join(name);
        for set in [
            "heldout", "wild", "blind", "fresh", "unseen", "sealed", "sealed2", "sealed3", "sealed4", "sealed5",
            "sealed6", "sealed7", "sealed8", "sealed9", "sealed10", "sealed11", "sealed12", "sealed13", "sealed14",
            "sealed15", "sealed16", "sealed17",
        ] {
            let raw = root.join("skills/eval").join(format!("{name}.{set}.attempts.jsonl"));
            let mut c = Command::new(trinity);
            c.args(["skill", "eval"]).arg(&dir).args([
                "--file",
                &format!("{set}.jsonl"),
                "--runs",
                "adapter,base_few_shot",
            ]);
            c.arg("--out").arg(&raw);
            let v: Value = serde_json::from_str(output(&mut c)?.trim())?;
            let f = |k: &str| {
                format!("{}/{} ({:.1} %)", v[k]["exact"], v[k]["total"], v[k]["rate"].as_f64().unwrap_or(0.0) * 100.0)
            };
            let t = &v["adapter"]["at_skill_threshold"];
            let _ = writeln!(
                md,
                "| {name} | {set} | {} | {} | {} | {}/{} ({:.1} %), {:.1} % at {} |",
                v["adapter"]["total"],
                f("adapter"),
                f("base_few_shot"),
                t["executed_right"],
                t["executed"],
                t["precision"].as_f64().unwrap_or(0.0) * 100.0,
                t["coverage"].as_f64().unwrap_or(0.0) * 100.0,
                t["threshold"],
            );
            let _ = writeln!(md, "<!-- {name} {set}: {v} -->");
        }
        let train: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{name}.train.json")))?).unwrap_or_default();
        let _ = writeln!(
            md,
            "\n{name}: adapter {:.2} MB (rank {}), {} steps x {} in {:.0} s, validation loss {} -> {}",
            train["adapter_bytes"].as_f64().unwrap_or(0.0) / 1e6,
            train["rank"],
            train["steps"],
            train["batch"],
            train["train_seconds"].as_f64().unwrap_or(0.0),
            train["val_loss_before"],
            train["val_loss_after"],
        );
    }
    let mut c = Command::new(trinity);
    c.args(["bench-skills"]).arg(root.join("skills/rover")).arg(root.join("skills/arm"));
    let v: Value = serde_json::from_str(output(&mut c)?.trim())?;
    let r = &v["result"];
    let g = |k: &str| r[k].as_f64().unwrap_or(0.0);
    let _ = writeln!(
        md,
        "\nadapter cost: generation {:.1} tok/s with the rover adapter vs {:.1} without (ratio {:.3}); prompt {:.1} vs {:.1} tok/s",
        r["with_adapter"]["gen_tok_s"].as_f64().unwrap_or(0.0),
        r["base"]["gen_tok_s"].as_f64().unwrap_or(0.0),
        g("gen_ratio"),
        r["with_adapter"]["prompt_tok_s"].as_f64().unwrap_or(0.0),
        r["base"]["prompt_tok_s"].as_f64().unwrap_or(0.0),
    );
    let _ = writeln!(
        md,
        "switching: time to plan rover commands {:.1} ms staying on rover, {:.1} ms alternating with arm (ratio {:.3}); adapter load (read + check + llama.cpp) {:.1} ms for {:.2} MB",
        g("stay_time_to_plan_ms"),
        g("alternate_time_to_plan_ms"),
        g("alternate_ratio"),
        g("adapter_load_ms"),
        g("adapter_bytes") / 1e6,
    );
    let _ = writeln!(md, "<!-- skills: {v} -->");
    Ok(())
}

/// E-stop latency (idle, while generating, and while a hostile client floods every other
/// input) and command-to-succeeded, against the embedded broker and mosquitto.
fn daemon_figures(trinity: &Path, work: &Path, md: &mut String) -> Result<()> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let conf = work.join("mosquitto.conf");
    std::fs::write(&conf, format!("listener {port} 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n"))?;
    let mut mosquitto = Command::new("mosquitto").arg("-c").arg(&conf).spawn()?;
    let runs = [
        ("embedded (rumqttd)", vec![]),
        ("mosquitto", vec!["--host".to_owned(), "127.0.0.1".into(), "--port".into(), port.to_string()]),
    ];
    let _ = writeln!(md, "\n| daemon, broker | e-stop idle: receipt→safe p50 / p99 | publish→safe p50 / p99 | e-stop while generating: receipt→safe p50 / p99 | publish→safe p50 / p99 | e-stop under a hostile flood: publish→safe p50 / p99 (flood msg/s) | `stop` publish→succeeded p50 / p99 |");
    let _ = writeln!(md, "| --- | --- | --- | --- | --- | --- | --- |");
    for (name, args) in runs {
        let mut c = Command::new(trinity);
        c.args(["bench-daemon", "--trials", "200"]).args(&args);
        let v: Value = match output(&mut c) {
            Ok(out) => serde_json::from_str(out.trim())?,
            Err(e) => {
                let _ = mosquitto.kill();
                return Err(e);
            }
        };
        let f = |path: &[&str]| {
            let mut x = &v;
            for p in path {
                x = &x[*p];
            }
            format!("{:.3} / {:.3} ms", x["p50_ms"].as_f64().unwrap_or(0.0), x["p99_ms"].as_f64().unwrap_or(0.0))
        };
        let _ = writeln!(
            md,
            "| {name} | {} | {} | {} | {} | {} ({}) | {} |",
            f(&["estop_idle", "receipt_to_safe"]),
            f(&["estop_idle", "publish_to_safe"]),
            f(&["estop_generating", "receipt_to_safe"]),
            f(&["estop_generating", "publish_to_safe"]),
            f(&["estop_idle_under_flood", "publish_to_safe"]),
            v["estop_idle_under_flood"]["hostile_per_s"],
            f(&["cmd_stop_to_succeeded"]),
        );
        let _ = writeln!(md, "<!-- {name}: {v} -->");
    }
    let _ = mosquitto.kill();
    let _ = mosquitto.wait();
    Ok(())
}

/// `cargo xtask bench faults`: the daemon's figures (e-stop latency idle, while generating
/// and under a hostile flood) and issue 11's fault-injection suite at full size (200
/// commands through 10 broker restarts; 60 s of hostile flood), release builds. Results go
/// to stdout and `bench-work/bench-faults.md`.
pub fn run_faults(root: &Path) -> Result<()> {
    let work = root.join("bench-work");
    std::fs::create_dir_all(&work)?;
    status(&mut cmd("cargo", &["build", "--release", "-p", "trinity-runtime"]))?;
    let mut md = String::new();
    daemon_figures(&root.join("target/release/trinity"), &work, &mut md)?;
    let mut c = cmd("cargo", &["test", "--release", "-p", "trinity-runtime", "--test", "daemon", "faults::"]);
    c.args(["--", "--nocapture", "--test-threads", "1"]).env("TRINITY_FAULTS", "full");
    let out = output(&mut c)?;
    let _ = writeln!(md, "\n| fault | result |\n| --- | --- |");
    // With --nocapture a test's line may follow its name on the same line.
    for line in out.lines().filter_map(|l| Some(&l[l.find("{\"")?..=l.rfind('}')?])) {
        let v: Value = serde_json::from_str(line)?;
        let _ = writeln!(md, "| {} | `{line}` |", v["fault"].as_str().unwrap_or("?"));
    }
    print!("{md}");
    std::fs::write(work.join("bench-faults.md"), &md)?;
    Ok(())
}

/// `cargo xtask bench packages`: the per-board builds' sizes, and generation speed of the
/// Pi 5 build against the generic armv8-a (Pi 4) build, both emulated as a Cortex-A76.
pub fn run_packages(root: &Path) -> Result<()> {
    let work = root.join("bench-work");
    std::fs::create_dir_all(&work)?;
    let mut md = String::new();
    let _ =
        writeln!(md, "| build | llama.cpp -march | .deb | /usr/bin/trinity (stripped) |\n| --- | --- | --- | --- |");
    let mut built = Vec::new();
    for board in crate::package::DEFAULT_BOARDS {
        let p = crate::package::package(root, board)?;
        let dir = work.join(format!("pkg-{board}"));
        let _ = std::fs::remove_dir_all(&dir);
        status(Command::new("dpkg-deb").arg("-x").arg(&p.deb).arg(&dir))?;
        let bin = dir.join("usr/bin/trinity");
        let arch = trinity_boards::by_name(board).map(|b| b.profile.llama_cpu_arch).unwrap_or_default();
        let mib = |p: &Path| std::fs::metadata(p).map(|m| m.len() as f64 / (1 << 20) as f64).unwrap_or(0.0);
        let _ = writeln!(md, "| {board} | {arch} | {:.1} MiB | {:.1} MiB |", mib(&p.deb), mib(&bin));
        built.push((board.to_string(), bin));
    }
    let model = output(Command::new(root.join("target/release/trinity")).args(["model", "path"])).or_else(|_| {
        output(Command::new("cargo").args(["run", "--quiet", "-p", "trinity-runtime", "--", "model", "path"]))
    })?;
    let model = model.trim().to_owned();
    // Emulation is ~30x slower than the Pi: short runs, and rounds alternating the builds.
    let (words, gen, rounds) = ("16", "16", 3);
    let _ = writeln!(
        md,
        "\nEmulated (qemu-aarch64 TCG, QEMU_CPU=cortex-a76, 2 threads on this x86 VM; not Pi figures): \
         `trinity bench --throughput-only --prompt-words {words} --gen-tokens {gen} --reps 2`, {rounds} rounds\n"
    );
    let _ = writeln!(md, "| build | prompt tok/s | generation tok/s |\n| --- | --- | --- |");
    let mut results: Vec<(Vec<f64>, Vec<f64>)> = vec![(vec![], vec![]); built.len()];
    for round in 0..rounds {
        for (i, (board, bin)) in built.iter().enumerate() {
            eprintln!("xtask: emulated bench round {}/{rounds}: {board}", round + 1);
            let mut c = Command::new("qemu-aarch64");
            c.args(["-L", "/usr/aarch64-linux-gnu"]).arg(bin).env("QEMU_CPU", "cortex-a76");
            c.args(["bench", "--throughput-only", "--threads", "2", "--model", &model]);
            c.args(["--prompt-words", words, "--gen-tokens", gen, "--reps", "2"]);
            let lines: Vec<Value> = output(&mut c)?.lines().map(serde_json::from_str).collect::<Result<_, _>>()?;
            let tp =
                &lines.iter().find(|v| v["bench"] == "throughput").ok_or_else(|| anyhow!("no throughput"))?["result"];
            results[i].0.push(tp["prompt_tok_s"].as_f64().unwrap_or(0.0));
            results[i].1.push(tp["gen_tok_s"].as_f64().unwrap_or(0.0));
        }
    }
    for ((board, _), (pp, tg)) in built.iter().zip(results) {
        let _ = writeln!(md, "| {board} | {:.2} | {:.2} |", median(pp), median(tg));
    }
    print!("{md}");
    std::fs::write(work.join("bench-packages.md"), &md)?;
    Ok(())
}
