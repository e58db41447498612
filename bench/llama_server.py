#!/usr/bin/env python3
"""Time to plan: llama-server against Trinity, same model, commands, prompts, adapters and
grammar, one after the other in one run (issue 15, item 2).

    bench/build-llama-server.sh /tmp/llama-server        # once: llama.cpp's server, Trinity's CPU flags
    python3 bench/llama_server.py --server /tmp/llama-server/build/bin/llama-server

Under qemu-user as a Pi 5 core (both sides aarch64 builds for the `pi5` board, a few
commands: emulation runs ~30x slower than this machine):

    bench/build-llama-server.sh /tmp/llama-server-pi5 pi5
    python3 bench/llama_server.py --emulate cortex-a76 --limit 8 \
        --server /tmp/llama-server-pi5/build/bin/llama-server \
        --trinity-bench target/board/pi5/aarch64-unknown-linux-gnu/release/trinity

llama-server gets, per command, what Trinity's engine evaluates: the skill's prefix and the
command as `trinity skill render` prints them (the same normalizer and template), the
skill's GBNF grammar (`trinity grammar --skill NAME`), the skill's adapter as a
per-request `lora` (both skills' adapters loaded with `--lora-init-without-apply`),
greedy decoding, `cache_prompt`. Times are wall clock from sending the request to having
the whole response, over one kept-alive HTTP connection. Trinity's side is its own
benchmarks on the same commands: `bench-jump-forward` (median and p90 from submission to
checked plan) and `bench-skills` (staying on one skill vs alternating two).

Prints one JSON object; nothing is written to the repository.
"""

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time


def sh(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def quantile(v, q):
    v = sorted(v)
    return v[round((len(v) - 1) * q)]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def emulated(cpu):
    """The command prefix that runs an aarch64 binary under qemu-user as `cpu` (none: native)."""
    return ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu", "-cpu", cpu] if cpu else []


class Server:
    def __init__(self, exe, model, adapters, threads, extra, cpu=None):
        self.port = free_port()
        # (under emulation the model loads and each request runs ~30x slower)
        self.timeout = 900 if cpu else 60
        args = emulated(cpu) + [exe, "-m", model, "-t", str(threads), "-tb", str(threads), "-c", "4096", "-np", "1",
                "--host", "127.0.0.1", "--port", str(self.port), "--lora-init-without-apply", "--no-webui"]
        for a in adapters:
            args += ["--lora", a]
        args += extra
        self.log = open(os.environ.get("LLAMA_SERVER_LOG", os.devnull), "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 2 * self.timeout
        while True:
            try:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                self.conn.request("GET", "/health")
                r = self.conn.getresponse()
                r.read()
                if r.status == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline or self.proc.poll() is not None:
                sys.exit("llama-server did not start (set LLAMA_SERVER_LOG=FILE to see why)")
            time.sleep(0.5)

    def plan(self, prompt, grammar, lora_id, n_lora):
        body = {
            "prompt": prompt,
            "grammar": grammar,
            "n_predict": 160,
            "temperature": 0.0,
            "top_k": 1,
            "cache_prompt": True,
            "lora": [{"id": i, "scale": 1.0 if i == lora_id else 0.0} for i in range(n_lora)],
        }
        t0 = time.perf_counter()
        self.conn.request("POST", "/completion", json.dumps(body), {"Content-Type": "application/json"})
        r = self.conn.getresponse()
        out = json.loads(r.read())
        ms = (time.perf_counter() - t0) * 1e3
        if r.status != 200:
            sys.exit(f"llama-server: {r.status} {out}")
        return ms, out

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def rendered(trinity, skill_dir, file):
    out = sh(trinity, "skill", "render", skill_dir, "--file", file)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True, help="the llama-server binary")
    ap.add_argument("--trinity", default="target/release/trinity")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--set", default="wild.jsonl", help="the rover set timed command by command")
    ap.add_argument("--limit", type=int, default=0, help="time only the set's first N commands (0: all)")
    ap.add_argument("--emulate", metavar="CPU",
                    help="run both sides under qemu-aarch64 as this CPU (e.g. cortex-a76): --server and "
                         "--trinity-bench are aarch64 builds; the alternating test is left out")
    ap.add_argument("--trinity-bench", help="the trinity binary that times Trinity's side (default: --trinity)")
    ap.add_argument("--reps", type=int, default=5, help="repetitions of the alternating test")
    ap.add_argument("--server-arg", action="append", default=[],
                    help="one more llama-server argument (repeatable), e.g. --server-arg=--swa-full")
    args = ap.parse_args()
    t = args.trinity
    model = sh(t, "model", "path").strip()
    rover, arm = "skills/rover", "skills/arm"
    grammar = {s: sh(t, "grammar", "--skill", s) for s in ("rover", "arm")}
    set_name = args.set
    if args.limit:
        # The first N commands as a set of their own, for both sides.
        lines = [line for line in open(f"{rover}/{args.set}") if line.strip()][: args.limit]
        subset = os.path.abspath(f"bench-work/llama-server-first-{args.limit}.jsonl")
        os.makedirs(os.path.dirname(subset), exist_ok=True)
        with open(subset, "w") as f:
            f.writelines(lines)
        args.set = subset
    cmds = rendered(t, rover, args.set)
    pairs = list(zip(rendered(t, rover, "examples.jsonl"), rendered(t, arm, "examples.jsonl")))[:6]

    srv = Server(args.server, model, [f"{rover}/rover.gguf", f"{arm}/arm.gguf"], args.threads, args.server_arg,
                 args.emulate)
    try:
        p = lambda c, g, i: srv.plan(c["prefix"] + c["text"], grammar[g], i, 2)
        p(cmds[0], "rover", 0)  # the prefix into the cache
        times, plans, prompt_ms, predicted = [], [], [], []
        for c in cmds:
            ms, out = p(c, "rover", 0)
            times.append(ms)
            plans.append(out.get("content", ""))
            prompt_ms.append(out.get("timings", {}).get("prompt_ms", 0.0))
            predicted.append(out.get("timings", {}).get("predicted_n", 0))
        stay, alt = [], []
        for a, b in pairs if not args.emulate else []:  # warm both
            p(a, "rover", 0)
            p(b, "arm", 1)
        for _ in range(args.reps if not args.emulate else 0):
            for a, _b in pairs:
                stay.append(p(a, "rover", 0)[0])
            for a, b in pairs:
                alt.append(p(a, "rover", 0)[0])
                p(b, "arm", 1)
    finally:
        srv.stop()

    tb = emulated(args.emulate) + [args.trinity_bench or t]
    jf = json.loads(sh(*tb, "bench-jump-forward", rover, "--file", args.set, "--threads", str(args.threads)))["result"]
    sk = None
    if not args.emulate:
        sk = json.loads(sh(*tb, "bench-skills", rover, arm, "--reps", str(args.reps), "--threads", str(args.threads)))[
            "result"]
    # The plans, compared as JSON with what Trinity's evaluation of the shipped adapter got.
    same = None
    path = f"skills/eval/rover.{set_name.removesuffix('.jsonl')}.attempts.jsonl"
    if os.path.exists(path):
        got = {}
        for line in open(path):
            a = json.loads(line)
            if a.get("run") == "adapter":
                got[a["command"]] = a.get("got", {}).get("Ok")
        commands = [json.loads(line)["command"] for line in open(os.path.join(rover, args.set)) if line.strip()]
        same = 0
        for c, text in zip(commands, plans):
            try:
                same += json.loads(text) == got.get(c)
            except ValueError:
                pass
    server_median = statistics.median(times)
    med = lambda v: round(statistics.median(v), 1) if v else None
    print(json.dumps({
        "set": f"rover {args.set}", "commands": len(cmds), "server_args": args.server_arg,
        "emulated_cpu": args.emulate,
        "llama_server": {"median_ms": round(server_median, 1), "p90_ms": round(quantile(times, 0.9), 1),
                         "prompt_eval_ms_median": round(statistics.median(prompt_ms), 1),
                         "tokens_predicted_median": statistics.median(predicted),
                         "stay_ms": med(stay), "alternate_ms": med(alt)},
        "trinity": {"median_ms": round(jf["on_ms"][0], 1), "p90_ms": round(jf["on_ms"][1], 1),
                    "without_jump_forward_median_ms": round(jf["off_ms"][0], 1),
                    "forced_share": round(jf["forced_share"], 3), "decodes": jf["decodes_on"],
                    "stay_ms": sk and round(sk["stay_time_to_plan_ms"], 1),
                    "alternate_ms": sk and round(sk["alternate_time_to_plan_ms"], 1)},
        "ratio_median": round(jf["on_ms"][0] / server_median, 2),
        "ratio_p90": round(jf["on_ms"][1] / quantile(times, 0.9), 2),
        "ratio_alternate": sk and round(sk["alternate_time_to_plan_ms"] / statistics.median(alt), 2),
        "same_plan_as_trinity_eval": same,
    }))


if __name__ == "__main__":
    main()
