#!/usr/bin/env bash
# tmux for the test that drives `conveyor dash` in a real terminal (Conveyor.Cli.Tests).
#   start: installs Debian's tmux if missing; prints nothing on stdout (the test finds /usr/bin/tmux itself).
#   stop:  nothing to stop (each test kills its own session).
set -euo pipefail
log() { echo "[tmux.sh] $*" >&2; }

case "${1:-}" in
  start)
    if ! command -v tmux >/dev/null 2>&1; then
      log "installing tmux from Debian"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >&2
      apt-get install -y -q --no-install-recommends tmux >&2
    fi
    log "$(tmux -V)"
    ;;
  stop) ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
