#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for the PostgreSQL store tests.
#   start: installs postgresql from Debian if missing, creates a cluster with initdb in a directory under
#          /tmp owned by the postgres OS user, starts it on 127.0.0.1:5441 (trust auth for loopback only),
#          waits until pg_isready answers, creates the database conveyor_test, and prints on stdout only
#          the export lines the tests read.
#   stop:  stops exactly that cluster (pg_ctl stop on its data directory) and removes the directory.
# Everything else goes to stderr.
set -euo pipefail

PORT=${CONVEYOR_POSTGRES_PORT:-5441}
BASE=${CONVEYOR_POSTGRES_DIR:-/tmp/conveyor-postgres}
DATA="$BASE/data"
LOG="$BASE/postgres.log"
DATABASE=conveyor_test
log() { echo "[postgres.sh] $*" >&2; }

find_bin() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

install_if_missing() {
  if find_bin >/dev/null; then
    return
  fi
  log "installing postgresql from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -q postgresql >&2
}

# Runs a command as the postgres OS user (we run as root; PostgreSQL refuses to run as root).
as_postgres() {
  if [ "$(id -u)" = "0" ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

stop() {
  local bin
  if [ -f "$DATA/postmaster.pid" ] && bin=$(find_bin); then
    # A test that froze the cluster (SIGSTOP) and died before resuming it leaves processes that cannot act on a stop.
    local pm
    pm=$(head -1 "$DATA/postmaster.pid" 2>/dev/null || true)
    if [ -n "$pm" ] && kill -0 "$pm" 2>/dev/null; then
      kill -CONT "$pm" $(ps -o pid= --ppid "$pm" 2>/dev/null) 2>/dev/null || true
    fi
    as_postgres "$bin/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >&2 || true
  fi
  rm -rf "$BASE"
  log "stopped"
}

start() {
  install_if_missing
  local bin
  bin=$(find_bin)
  stop
  mkdir -p "$BASE"
  chown postgres:postgres "$BASE"
  chmod 700 "$BASE"
  as_postgres "$bin/initdb" -D "$DATA" -U postgres --auth-local=trust --auth-host=trust \
    --encoding=UTF8 --locale=C.UTF-8 >&2
  # Loopback only; the socket lives in the throwaway directory, not in /var/run/postgresql.
  # Durability settings are relaxed: the cluster is thrown away after the run. So an immediate stop or a kill of
  # this cluster can lose commits it acknowledged (jobs then run twice): tests restart it with 'pg_ctl -m fast', and
  # crash tests of PostgreSQL itself need a cluster with the defaults.
  cat >>"$DATA/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$BASE'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 256MB
EOF
  as_postgres "$bin/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >&2
  for _ in $(seq 1 100); do
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
      as_postgres "$bin/psql" -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres \
        -c "CREATE DATABASE $DATABASE" >&2
      log "$("$bin/postgres" --version) answers on 127.0.0.1:$PORT"
      echo "export CONVEYOR_TEST_POSTGRES=\"Host=127.0.0.1;Port=$PORT;Username=postgres;Database=$DATABASE\""
      echo "export CONVEYOR_TEST_POSTGRES_BIN=$bin"
      echo "export CONVEYOR_TEST_POSTGRES_DATA=$DATA"
      return 0
    fi
    sleep 0.1
  done
  log "postgres did not answer on 127.0.0.1:$PORT; its log:"
  tail -n 20 "$LOG" >&2 || true
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
