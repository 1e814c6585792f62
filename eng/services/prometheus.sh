#!/usr/bin/env bash
# Throwaway Prometheus for the dashboard and alert tests.
#   start: installs Debian's prometheus (which brings promtool) if missing, starts it on 127.0.0.1:9391 with its data
#          in a directory under /tmp, scraping every second whatever the tests name in file_sd target files
#          ($BASE/targets/*.json, e.g. [{"targets":["127.0.0.1:5123"],"labels":{"run":"abc"}}]), waits until it is
#          ready, and prints on stdout only the export lines the tests read.
#   stop:  stops that Prometheus and removes the directory.
# Everything else goes to stderr.
set -euo pipefail

PORT=${CONVEYOR_PROMETHEUS_PORT:-9391}
BASE=${CONVEYOR_PROMETHEUS_DIR:-/tmp/conveyor-prometheus}
PIDFILE="$BASE/prometheus.pid"
log() { echo "[prometheus.sh] $*" >&2; }

install_if_missing() {
  if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
    return
  fi
  log "installing prometheus from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -q --no-install-recommends prometheus >&2
}

stop() {
  if [ -f "$PIDFILE" ]; then
    local pid
    pid=$(cat "$PIDFILE" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q prometheus "/proc/$pid/cmdline" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  [ -d "$BASE" ] && rm -rf "$BASE"
  log "stopped"
}

start() {
  install_if_missing
  stop
  mkdir -p "$BASE/data" "$BASE/targets"
  # scrape_timeout (1 s, no longer than the interval allows) is under Conveyor:Metrics:StoreTimeout's 3 s default,
  # which docs/observability.md says a scrape_timeout must exceed: a hung store makes a scrape take StoreTimeout.
  # That holds because no test scraped here makes its store hang (the dashboard test's server reads a local SQLite
  # file); a test that does must give its server a StoreTimeout under 1 s.
  cat > "$BASE/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: conveyor
    file_sd_configs:
      - files: ['$BASE/targets/*.json']
        refresh_interval: 1s
YAML
  # setsid: the server outlives this script and the shell that ran it; stop finds it by its pid file.
  setsid prometheus --config.file="$BASE/prometheus.yml" --storage.tsdb.path="$BASE/data" \
    --storage.tsdb.retention.time=2h --web.listen-address="127.0.0.1:$PORT" \
    >"$BASE/prometheus.log" 2>&1 < /dev/null &
  echo $! > "$PIDFILE"
  for _ in $(seq 1 200); do
    if curl -fsS "http://127.0.0.1:$PORT/-/ready" >/dev/null 2>&1; then
      log "prometheus $(prometheus --version 2>&1 | sed -n '1s/^prometheus, version \([^ ]*\).*/\1/p') answers on 127.0.0.1:$PORT"
      echo "export CONVEYOR_TEST_PROMETHEUS=http://127.0.0.1:$PORT"
      echo "export CONVEYOR_TEST_PROMETHEUS_TARGETS=$BASE/targets"
      echo "export CONVEYOR_TEST_PROMTOOL=$(command -v promtool)"
      return 0
    fi
    sleep 0.1
  done
  log "prometheus did not answer on 127.0.0.1:$PORT; its log:"
  tail -n 20 "$BASE/prometheus.log" >&2 || true
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
