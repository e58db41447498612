#!/bin/bash
# Skills over the broker (issue 14), figures for BENCHMARKS.md:
#  1. publish -> `installed` -> first command served with the new version, one robot, for
#     the 7.6 MB rover skill: on mosquitto, then on the daemon's embedded broker;
#  2. N sim-board daemons on one mosquitto receiving a new version: all installed, time to
#     the last one, total memory (sum of PSS: the model file mapping is shared).
# Usage: cargo build --release -p trinity-runtime && bench/fleet.sh [N, default 20]
set -euo pipefail
T=$PWD/target/release/trinity
N=${1:-20}
W=$(mktemp -d)
cleanup() { pkill -P $$ 2>/dev/null || true; sleep 1; rm -rf "$W"; }
trap cleanup EXIT
M=$($T model path)
now() { date +%s%3N; }
$T skill keygen "$W/fleet" >/dev/null
for v in 1.0.0 1.1.0 1.2.0; do
  $T skill pack skills/rover --version $v -o "$W/rover-$v.tskill" --model "$M" >/dev/null
  $T skill sign "$W/rover-$v.tskill" --key "$W/fleet.key" >/dev/null
done
echo "bundle: $(stat -c %s "$W/rover-1.0.0.tskill") bytes"

robot() { # $1 id, $2 [mqtt] section
  mkdir -p "$W/$1"
  cat > "$W/$1/trinity.toml" <<TOML
robot_id = "$1"
[model]
path = "$M"
repack = false
$2
[daemon]
state_dir = "$W/$1/state"
[skills]
dir = "$W/$1/skills"
poll_ms = 0
[fleet]
keys = "$W/fleet.pub"
skills = ["rover"]
TOML
  RUST_LOG=warn TRINITY_CACHE_DIR="$W/$1/cache" $T run --config "$W/$1/trinity.toml" > "$W/$1/log" 2>&1 &
}
online() { # $1 port, $2 id
  until [ "$(mosquitto_sub -p $1 -t "trinity/$2/status" -C 1 -W 2 2>/dev/null)" = online ]; do sleep 0.2; done
}
# publish $3 to robot $2 on port $1; prints ms to `installed` and to the first command's
# `executing` (planned with the new version and checked; `succeeded` comes when the sim has
# driven the metre, 3.3 s later)
one() {
  mosquitto_sub -p $1 -t "trinity/$2/skills/evt" > "$W/evt-$2" &
  local sub=$!
  sleep 0.5
  local t0; t0=$(now)
  $T skill publish "$3" --host 127.0.0.1 --port $1 > /dev/null
  local tp; tp=$(now)
  until grep -q '"installed"\|"failed"' "$W/evt-$2"; do sleep 0.01; done
  local ti; ti=$(now)
  $T send --host 127.0.0.1 --port $1 --robot-id $2 --skill rover back up one meter > "$W/send-$2" &
  local send=$!
  until grep -q '"executing"' "$W/send-$2"; do sleep 0.01; done
  local tc; tc=$(now)
  wait $send
  kill $sub; grep -o '"event":"[a-z_]*"' "$W/evt-$2" | sort | uniq -c | tr '\n' ' '
  echo "| publish command returned $((tp - t0)) ms | installed $((ti - t0)) ms | first command executing $((tc - t0)) ms"
}

P=$((20000 + RANDOM % 10000))
mosquitto -p $P > "$W/mosquitto.log" 2>&1 &
sleep 0.5
robot solo "[mqtt]
host = \"127.0.0.1\"
port = $P"
online $P solo
echo "mosquitto, first install:"; one $P solo "$W/rover-1.0.0.tskill"
echo "mosquitto, upgrade:";       one $P solo "$W/rover-1.1.0.tskill"
E=$((P + 1))
robot embedded "[mqtt]
embedded_listen = \"127.0.0.1:$E\""
online $E embedded
echo "embedded broker, first install:"; one $E embedded "$W/rover-1.0.0.tskill"
echo "embedded broker, upgrade:";       one $E embedded "$W/rover-1.1.0.tskill"
pkill -f "config $W/solo/" || true; pkill -f "config $W/embedded/" || true

[ "$N" -gt 0 ] || exit 0
echo "$N robots on one mosquitto:"
for i in $(seq 1 $N); do robot "f$i" "[mqtt]
host = \"127.0.0.1\"
port = $P"; done
t=$(now); for i in $(seq 1 $N); do online $P "f$i"; done; echo "all online after $(( $(now) - t )) ms"
sleep 20 # let every daemon warm its prefixes
mosquitto_sub -p $P -t 'trinity/+/skills/evt' > "$W/evt-fleet" &
sleep 0.5
t0=$(now)
$T skill publish "$W/rover-1.2.0.tskill" --host 127.0.0.1 --port $P > /dev/null
until [ "$(grep -c '"installed"' "$W/evt-fleet")" -ge $N ] || [ $(( $(now) - t0 )) -gt 600000 ]; do sleep 0.05; done
echo "installed on $(grep -c '"installed"' "$W/evt-fleet") of $N robots, the last $(( $(now) - t0 )) ms after publish; failed: $(grep -c '"failed"' "$W/evt-fleet" || true)"
pss=0; rss=0
for pid in $(pgrep -f "trinity run --config $W/f"); do
  pss=$((pss + $(awk '/^Pss:/ {print $2}' /proc/$pid/smaps_rollup)))
  rss=$((rss + $(awk '/^VmRSS:/ {print $2}' /proc/$pid/status)))
done
echo "memory of the $N daemons: PSS sum $((pss / 1024)) MiB (RSS sum $((rss / 1024)) MiB, counting the shared model mapping $N times)"
