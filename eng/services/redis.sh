#!/usr/bin/env bash
# Throwaway Redis for the Redis store tests.
#   start: installs redis-server/redis-tools from Debian if missing, starts redis-server on 127.0.0.1:6391
#          (AOF on, everysec) in a directory under /tmp, waits until it answers, and prints on stdout only
#          the export lines the tests read.
#   stop:  stops that server and any server the tests started under the same directory (cluster nodes,
#          restart tests), then removes the directory.
# Everything else goes to stderr.
set -euo pipefail

PORT=${CONVEYOR_REDIS_PORT:-6391}
BASE=${CONVEYOR_REDIS_DIR:-/tmp/conveyor-redis}
PIDFILE="$BASE/main/redis.pid"
log() { echo "[redis.sh] $*" >&2; }

install_if_missing() {
  if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
    return
  fi
  log "installing redis-server and redis-tools from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -q redis-server redis-tools >&2
}

# Stops the redis-server whose pid is in $1, if it is still that server.
stop_pidfile() {
  local pidfile=$1 pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q redis-server "/proc/$pid/cmdline" 2>/dev/null; then
    kill -CONT "$pid" 2>/dev/null || true   # a paused test server cannot act on TERM
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

stop() {
  [ -d "$BASE" ] || return 0
  # Servers the tests started (cluster nodes, restart and outage tests) keep their pid files under $BASE/tests.
  while IFS= read -r -d '' f; do
    stop_pidfile "$f"
  done < <(find "$BASE" -name '*.pid' -print0 2>/dev/null)
  rm -rf "$BASE"
  log "stopped"
}

start() {
  install_if_missing
  stop
  mkdir -p "$BASE/main" "$BASE/tests"
  redis-server --bind 127.0.0.1 --port "$PORT" --protected-mode yes \
    --dir "$BASE/main" --daemonize yes --pidfile "$PIDFILE" --logfile "$BASE/main/redis.log" \
    --appendonly yes --appendfsync everysec --save "" >&2
  for _ in $(seq 1 100); do
    if [ "$(redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null)" = "PONG" ]; then
      log "redis $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') answers on 127.0.0.1:$PORT"
      echo "export CONVEYOR_TEST_REDIS=127.0.0.1:$PORT"
      echo "export CONVEYOR_TEST_REDIS_SERVER=$(command -v redis-server)"
      echo "export CONVEYOR_TEST_REDIS_CLI=$(command -v redis-cli)"
      echo "export CONVEYOR_TEST_REDIS_DIR=$BASE/tests"
      return 0
    fi
    sleep 0.1
  done
  log "redis-server did not answer on 127.0.0.1:$PORT; its log:"
  tail -n 20 "$BASE/main/redis.log" >&2 || true
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
