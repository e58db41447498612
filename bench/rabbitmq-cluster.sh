#!/bin/bash
# A 3-node RabbitMQ cluster with its MQTT plugin, on this machine, from Debian's package
# (`apt-get install rabbitmq-server`; the package's own service is not used).
# Usage: bench/rabbitmq-cluster.sh start DIR BASE   nodes trinity1..3@localhost, MQTT on
#                                                   BASE+1..BASE+3, AMQP on BASE+11..13
#        bench/rabbitmq-cluster.sh stop DIR
# Each node keeps its data and logs under DIR/nodeN.
set -euo pipefail
BIN=/usr/lib/rabbitmq/bin
[ $# -ge 2 ] || { sed -n '2,7p' "$0"; exit 2; }
cmd=$1
mkdir -p "$2"; W=$(cd "$2" && pwd)
node_env() { # $1 node number
  export RABBITMQ_NODENAME=trinity$1@localhost
  export RABBITMQ_MNESIA_BASE=$W/node$1/mnesia RABBITMQ_LOG_BASE=$W/node$1/log
  export RABBITMQ_PID_FILE=$W/node$1/pid RABBITMQ_CONFIG_FILE=$W/node$1/rabbitmq.conf
  export RABBITMQ_ENABLED_PLUGINS_FILE=$W/enabled_plugins RABBITMQ_ADVANCED_CONFIG_FILE=$W/node$1/advanced.config
}
case $cmd in
start)
  BASE=$3
  echo '[rabbitmq_mqtt].' > "$W/enabled_plugins"
  for i in 1 2 3; do
    mkdir -p "$W/node$i"
    cat > "$W/node$i/rabbitmq.conf" <<CONF
listeners.tcp.default = $((BASE + 10 + i))
mqtt.listeners.tcp.default = $((BASE + i))
mqtt.allow_anonymous = true
log.console = false
log.file.level = warning
CONF
    echo '[].' > "$W/node$i/advanced.config"
    (node_env $i; export RABBITMQ_DIST_PORT=$((BASE + 20 + i)); "$BIN/rabbitmq-server" > "$W/node$i/stdout" 2>&1 &)
  done
  for i in 1 2 3; do
    (node_env $i
     for _ in $(seq 1 120); do "$BIN/rabbitmqctl" -n trinity$i@localhost ping >/dev/null 2>&1 && break; sleep 1; done
     "$BIN/rabbitmqctl" -n trinity$i@localhost await_startup --timeout 120 >/dev/null)
  done
  for i in 2 3; do
    (node_env $i
     "$BIN/rabbitmqctl" -n trinity$i@localhost stop_app >/dev/null
     "$BIN/rabbitmqctl" -n trinity$i@localhost join_cluster trinity1@localhost >/dev/null
     "$BIN/rabbitmqctl" -n trinity$i@localhost start_app >/dev/null)
  done
  (node_env 1; "$BIN/rabbitmqctl" -n trinity1@localhost cluster_status --formatter json) | python3 -c \
    'import json,sys; s=json.load(sys.stdin); print("running nodes:", " ".join(sorted(s["running_nodes"])))'
  ;;
stop)
  for i in 3 2 1; do (node_env $i; "$BIN/rabbitmqctl" -n trinity$i@localhost stop >/dev/null 2>&1 || true); done
  # Erlang's port mapper, started by the first node, outlives them.
  epmd -kill >/dev/null 2>&1 || true
  ;;
esac
