#!/bin/bash
# Skills over a clustered broker (issue 14): N sim-board daemons spread over the three nodes
# of a RabbitMQ cluster (bench/rabbitmq-cluster.sh), the publisher on node 1.
#  1. published to node 1 only: who gets it (RabbitMQ keeps retained messages on the node
#     that received them);
#  2. published with `--node` for the other two: all installed, time to the last one;
#  3. a robot that was off during 2 starts on node 3 and installs the retained version.
# Usage: apt-get install rabbitmq-server mosquitto-clients python3 && (systemctl stop rabbitmq-server || true) &&
#        cargo build --release -p trinity-runtime && bench/fleet-cluster.sh [N, default 20]
# Times are from the start of the `skill publish` command.
set -euo pipefail
T=$PWD/target/release/trinity
N=${1:-20}
W=$(mktemp -d)
BASE=$((30000 + RANDOM % 20000))
# KEEP=1: leave the logs (robots' and brokers') in the work folder.
cleanup() { pkill -P $$ 2>/dev/null || true; pkill -f "config $W/" 2>/dev/null || true; bench/rabbitmq-cluster.sh stop "$W/rmq"; sleep 1; [ -n "${KEEP:-}" ] && echo "kept $W" || rm -rf "$W"; }
trap cleanup EXIT
M=$($T model path)
now() { date +%s%3N; }
port() { echo $((BASE + $1)); } # MQTT port of node $1
$T skill keygen "$W/fleet" >/dev/null
for v in 1.0.0 1.1.0; do
  $T skill pack skills/rover --version $v -o "$W/rover-$v.tskill" --model "$M" >/dev/null
  $T skill sign "$W/rover-$v.tskill" --key "$W/fleet.key" >/dev/null
done
mkdir -p "$W/rmq"
t=$(now); bench/rabbitmq-cluster.sh start "$W/rmq" $BASE; echo "cluster up after $(( $(now) - t )) ms"

robot() { # $1 id, $2 node
  mkdir -p "$W/$1"
  cat > "$W/$1/trinity.toml" <<TOML
robot_id = "$1"
[model]
path = "$M"
repack = false
[mqtt]
host = "127.0.0.1"
port = $(port $2)
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
node_of() { echo $(( ($1 - 1) % 3 + 1 )); }
online() { # $1 id, $2 node: the robot's retained status, on its own node (within 5 minutes)
  local t; t=$(now)
  until [ "$(mosquitto_sub -p "$(port $2)" -t "trinity/$1/status" -C 1 -W 2 2>/dev/null)" = online ]; do
    [ $(( $(now) - t )) -lt 300000 ] || { echo "robot $1 did not come online: $W/$1/log"; exit 1; }
    sleep 0.2
  done
}
# Every robot's events, from node 2 (live messages cross nodes).
events() { mosquitto_sub -p "$(port 2)" -t 'trinity/+/skills/evt' -v > "$1" & }
count() { # $1 file, $2 event, $3 version: "robots (by node)"
  local all=0 n1=0 n2=0 n3=0 i
  for i in $(seq 1 $N); do
    if grep "^trinity/r$i/skills/evt " "$1" | grep '"event":"'"$2"'"' | grep -q "\"$3\""; then
      all=$((all + 1)); eval "n$(node_of $i)=\$((n$(node_of $i) + 1))"
    fi
  done
  echo "$all of $N (node 1: $n1, node 2: $n2, node 3: $n3)"
}

ended() { # $1 file, $2 version: how many robots ended (installed or failed) that version
  local n=0 i
  for i in $(seq 1 $N); do
    grep "^trinity/r$i/skills/evt " "$1" | grep '"installed"\|"failed"' | grep -q "\"$2\"" && n=$((n + 1))
  done
  echo $n
}

for i in $(seq 1 $N); do robot "r$i" "$(node_of $i)"; done
t=$(now); for i in $(seq 1 $N); do online "r$i" "$(node_of $i)"; done
echo "$N robots online (robot i on node (i-1)%3+1) after $(( $(now) - t )) ms"
sleep 20 # let every daemon warm its prefixes

echo "1. rover 1.0.0 published to node 1 only:"
events "$W/evt1"; sleep 0.5
t0=$(now)
$T skill publish "$W/rover-1.0.0.tskill" --host 127.0.0.1 --port "$(port 1)" > /dev/null
until [ "$(ended "$W/evt1" 1.0.0)" -ge $N ] || [ $(( $(now) - t0 )) -gt 300000 ]; do sleep 1; done
echo "   after $(( $(now) - t0 )) ms: installed on $(count "$W/evt1" installed 1.0.0); failed on $(count "$W/evt1" failed 1.0.0)"
grep -m1 '"failed"' "$W/evt1" | cut -c1-300 | sed 's/^/   e.g. /' || true

echo "2. rover 1.1.0 published to node 1 with --node for nodes 2 and 3:"
events "$W/evt2"; sleep 0.5
t0=$(now)
$T skill publish "$W/rover-1.1.0.tskill" --host 127.0.0.1 --port "$(port 1)" \
  --node "127.0.0.1:$(port 2)" --node "127.0.0.1:$(port 3)" > "$W/publish2"
tp=$(now)
until [ "$(ended "$W/evt2" 1.1.0)" -ge $N ] || [ $(( $(now) - t0 )) -gt 600000 ]; do sleep 0.2; done
echo "   publish returned after $((tp - t0)) ms; installed on $(count "$W/evt2" installed 1.1.0), failed on $(count "$W/evt2" failed 1.1.0), the last $(( $(now) - t0 )) ms after the publish started (gave up after 600 s if not all)"
pss=0
for pid in $(pgrep -f "trinity run --config $W/r"); do pss=$((pss + $(awk '/^Pss:/ {print $2}' /proc/$pid/smaps_rollup 2>/dev/null || echo 0))); done
rmq=0
for i in 1 2 3; do rmq=$((rmq + $(awk '/^Pss:/ {print $2}' "/proc/$(cat "$W/rmq/node$i/pid" 2>/dev/null)/smaps_rollup" 2>/dev/null || echo 0))); done
echo "   memory: the $N daemons $((pss / 1024)) MiB PSS, the 3 RabbitMQ nodes $((rmq / 1024)) MiB PSS"

echo "3. a robot that was off starts on node 3:"
events "$W/evt3"; sleep 0.5
t0=$(now)
robot late 3
until grep -q '"installed"\|"failed"' "$W/evt3" || [ $(( $(now) - t0 )) -gt 120000 ]; do sleep 0.1; done
echo "   $(grep -c '"downloading"' "$W/evt3") downloading events, then: $(grep -v '"downloading"' "$W/evt3" | cut -c1-160), $(( $(now) - t0 )) ms after its start"

echo "4. a command to robot r3 (node 3) sent through node 1:"
t0=$(now)
if $T send --host 127.0.0.1 --port "$(port 1)" --robot-id r3 --skill rover drive forward half a meter > "$W/send4" 2>&1; then
  echo "   succeeded after $(( $(now) - t0 )) ms"
else
  echo "   did not succeed: $(tail -c 300 "$W/send4")"
fi
