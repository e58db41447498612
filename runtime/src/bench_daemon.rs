//! Daemon figures for BENCHMARKS.md (`trinity bench-daemon`): e-stop latency from MQTT
//! receipt to outputs safe, idle and while the model generates, and the time from a
//! command's publish to its `succeeded` event. The daemon runs in this process so that
//! both ends read one clock; the broker is the embedded one or the one named.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::daemon::{self, EstopProbe, Options};

/// Percentiles of a sample, ms.
#[derive(Debug, Serialize)]
pub struct Stats {
    /// Samples.
    pub n: usize,
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

fn stats(mut v: Vec<Duration>) -> Stats {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let at = |q: f64| v.get(((q * v.len() as f64).ceil() as usize).saturating_sub(1)).copied().unwrap_or_default();
    Stats { n: v.len(), p50_ms: ms(at(0.5)), p99_ms: ms(at(0.99)), max_ms: ms(v.last().copied().unwrap_or_default()) }
}

struct Client {
    client: AsyncClient,
    rx: mpsc::UnboundedReceiver<(String, Value)>,
    base: String,
}

impl Client {
    async fn wait(&mut self, topic_leaf: &str, state: &str) -> anyhow::Result<()> {
        let topic = format!("{}/{topic_leaf}", self.base);
        tokio::time::timeout(Duration::from_secs(60), async {
            while let Some((t, v)) = self.rx.recv().await {
                if t == topic && (v["state"] == state || v == state) {
                    return Ok(());
                }
            }
            Err(anyhow!("client closed"))
        })
        .await
        .map_err(|_| anyhow!("no {state} on {topic} within 60 s"))?
    }

    async fn publish(&self, leaf: &str, payload: String) -> anyhow::Result<()> {
        Ok(self.client.publish(format!("{}/{leaf}", self.base), QoS::AtLeastOnce, false, payload).await?)
    }
}

/// Release the e-stop and wait until the daemon has (the e-stop has its own connection: a
/// command published right after `release` could overtake it).
async fn release(c: &Client, probe: &EstopProbe) -> anyhow::Result<()> {
    let n = probe.released.load(std::sync::atomic::Ordering::SeqCst);
    c.publish("estop", "release".into()).await?;
    let t0 = Instant::now();
    while probe.released.load(std::sync::atomic::Ordering::SeqCst) <= n {
        if t0.elapsed() > Duration::from_secs(5) {
            bail!("release {} never took effect", n + 1);
        }
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    Ok(())
}

/// A client publishing hostile traffic on every input but `estop` (malformed, oversize,
/// control characters, wrong types, unknown skills, retained) as fast as the broker takes
/// it, until `stop`. Returns how many messages it sent. On a thread and runtime of its own,
/// so that it competes with the measuring client as another process would (for the CPU and
/// the broker), not for this runtime's workers.
fn flood(host: String, port: u16, base: String, stop: CancellationToken) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        rt.block_on(flood_on(host, port, base, stop))
    })
}

async fn flood_on(host: String, port: u16, base: String, stop: CancellationToken) -> u64 {
    {
        let mut o = MqttOptions::new("bench-hostile", host, port);
        o.set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut events) = AsyncClient::new(o, 1024);
        tokio::spawn(async move { while events.poll().await.is_ok() {} });
        let payloads: Vec<(&str, Vec<u8>, bool)> = vec![
            ("cmd", b"{\"id\":\"x".to_vec(), false),
            ("cmd", vec![b'a'; 100 << 10], false),
            ("cmd", br#"{"id":"ctl\u0007id","text":"go"}"#.to_vec(), false),
            ("cmd", br#"{"id":"types","text":42}"#.to_vec(), false),
            ("cmd", br#"{"id":"retained","plan":[{"action":"stop"}]}"#.to_vec(), true),
            ("cmd/no skill", br#"{"text":"go"}"#.to_vec(), false),
            ("cmd/juggling", br#"{"text":"go"}"#.to_vec(), false),
            ("cancel", b"\x01".to_vec(), false),
            ("cmd", vec![0xff, 0xfe], false),
        ];
        let mut sent = 0u64;
        while !stop.is_cancelled() {
            for (leaf, p, retain) in &payloads {
                if client.publish(format!("{base}/{leaf}"), QoS::AtMostOnce, *retain, p.clone()).await.is_ok() {
                    sent += 1;
                }
            }
        }
        let _ = client.publish(format!("{base}/cmd"), QoS::AtLeastOnce, true, Vec::<u8>::new()).await;
        sent
    }
}

/// `trials` engage/release pairs with nothing running: (receipt→safe, publish→safe) each.
async fn idle_estops(c: &Client, probe: &EstopProbe, trials: usize) -> anyhow::Result<(Vec<Duration>, Vec<Duration>)> {
    let (mut receipt, mut publish) = (vec![], vec![]);
    for _ in 0..trials {
        let n = probe.engaged.lock().map(|v| v.len()).unwrap_or(0);
        let t_pub = Instant::now();
        c.publish("estop", "engage".into()).await?;
        probe_len(probe, n + 1).await?;
        let (received, safe, _) = probe.engaged.lock().map_err(|_| anyhow!("poisoned"))?[n];
        receipt.push(safe - received);
        publish.push(safe - t_pub);
        release(c, probe).await?;
    }
    Ok((receipt, publish))
}

async fn probe_len(probe: &EstopProbe, n: usize) -> anyhow::Result<()> {
    let t0 = Instant::now();
    while probe.engaged.lock().map(|v| v.len()).unwrap_or(0) < n {
        if t0.elapsed() > Duration::from_secs(5) {
            bail!("e-stop {n} never reached the outputs");
        }
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    Ok(())
}

/// Run the daemon with `cfg` and measure; `trials` e-stops of each kind and commands.
pub async fn run(cfg: Options, trials: usize) -> anyhow::Result<Value> {
    let probe = Arc::new(EstopProbe::default());
    let shutdown = CancellationToken::new();
    let (host, port) = (cfg.link.host.clone(), cfg.link.port);
    let base = format!("trinity/{}", cfg.robot_id);
    let daemon = tokio::spawn(daemon::run_probed(cfg, shutdown.clone(), Some(probe.clone())));

    let (client, mut events) = AsyncClient::new(MqttOptions::new("bench-observer", host.clone(), port), 64);
    crate::mqtt::link::no_delay(&mut events);
    client.subscribe(format!("{base}/evt/+"), QoS::AtLeastOnce).await?;
    client.subscribe(format!("{base}/status"), QoS::AtLeastOnce).await?;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let v = serde_json::from_slice(&p.payload)
                        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&p.payload).into()));
                    if tx.send((p.topic, v)).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });
    let mut c = Client { client, rx, base };
    c.wait("status", "online").await?;

    // E-stop with nothing running.
    let (idle, idle_e2e) = idle_estops(&c, &probe, trials).await?;

    // E-stop with nothing running while a hostile client floods every other input.
    let stop_flood = CancellationToken::new();
    let t_flood = Instant::now();
    let flooder = flood(host.clone(), port, c.base.clone(), stop_flood.clone());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (flooded, flooded_e2e) = idle_estops(&c, &probe, trials).await?;
    let flood_secs = t_flood.elapsed().as_secs_f64();
    stop_flood.cancel();
    let flood_sent =
        tokio::task::spawn_blocking(move || flooder.join()).await?.map_err(|_| anyhow!("flood panicked"))?;

    // E-stop right after a command starts executing: the model is generating its plan.
    let (mut busy, mut busy_e2e, mut generating) = (vec![], vec![], 0);
    for i in 0..trials {
        let id = format!("g{i}");
        let text = "drive forward two meters and then turn right ninety degrees";
        c.publish("cmd", json!({"id": id, "text": text}).to_string()).await?;
        c.wait(&format!("evt/{id}"), "executing").await?;
        let n = probe.engaged.lock().map(|v| v.len()).unwrap_or(0);
        let t_pub = Instant::now();
        c.publish("estop", "engage".into()).await?;
        probe_len(&probe, n + 1).await?;
        let (received, safe, was_generating) = probe.engaged.lock().map_err(|_| anyhow!("poisoned"))?[n];
        busy.push(safe - received);
        busy_e2e.push(safe - t_pub);
        generating += usize::from(was_generating);
        c.wait(&format!("evt/{id}"), "canceled").await?;
        release(&c, &probe).await?;
    }

    // Command to `succeeded` for a short command.
    let mut cmd = vec![];
    for i in 0..trials.min(100) {
        let id = format!("s{i}");
        let t0 = Instant::now();
        c.publish("cmd", json!({"id": id, "text": "stop"}).to_string()).await?;
        c.wait(&format!("evt/{id}"), "succeeded").await?;
        cmd.push(t0.elapsed());
    }
    shutdown.cancel();
    let _ = daemon.await;
    Ok(json!({
        "broker": format!("{host}:{port}"),
        "estop_idle": {"receipt_to_safe": stats(idle), "publish_to_safe": stats(idle_e2e)},
        "estop_idle_under_flood": {
            "receipt_to_safe": stats(flooded), "publish_to_safe": stats(flooded_e2e),
            "hostile_messages": flood_sent, "hostile_per_s": (flood_sent as f64 / flood_secs).round(),
        },
        "estop_generating": {
            "receipt_to_safe": stats(busy), "publish_to_safe": stats(busy_e2e),
            "trials_with_generation_running": generating,
        },
        "cmd_stop_to_succeeded": stats(cmd),
    }))
}
