#!/usr/bin/env bash
# Headless Chromium and its WebDriver for the dashboard's browser tests (Conveyor.Dashboard.Tests).
#   start: installs Debian's chromium and chromium-driver if missing, and prints
#          CONVEYOR_CHROMIUM / CONVEYOR_CHROMEDRIVER for the tests.
#   stop:  nothing to stop (each test quits its own browser).
set -euo pipefail
log() { echo "[chromium.sh] $*" >&2; }

case "${1:-}" in
  start)
    if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
      log "installing chromium and chromium-driver from Debian"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >&2
      apt-get install -y -q --no-install-recommends chromium chromium-driver fonts-dejavu-core >&2
    fi
    log "$(chromium --version 2>/dev/null || echo 'chromium: version unknown')"
    echo "export CONVEYOR_CHROMIUM=$(command -v chromium) CONVEYOR_CHROMEDRIVER=$(command -v chromedriver)"
    ;;
  stop) ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
