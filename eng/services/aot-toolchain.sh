#!/usr/bin/env bash
# The native toolchain a Native AOT publish needs (NativeAotWorkerTests): a clang and zlib's headers.
#   start: installs Debian's clang and zlib1g-dev if missing, and prints CONVEYOR_AOT_CLANG=<compiler to use>
#   stop:  nothing to stop
set -euo pipefail
log() { echo "[aot-toolchain.sh] $*" >&2; }
find_clang() { command -v clang || command -v clang-14 || command -v clang-15 || command -v clang-16 || true; }

case "${1:-}" in
  start)
    if [ -z "$(find_clang)" ] || [ ! -e /usr/include/zlib.h ]; then
      log "installing clang and zlib1g-dev from Debian"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >&2
      apt-get install -y -q --no-install-recommends clang zlib1g-dev >&2
    fi
    clang=$(find_clang)
    [ -n "$clang" ] || { log "no clang after install"; exit 1; }
    log "$("$clang" --version | head -n 1)"
    echo "export CONVEYOR_AOT_CLANG=$clang"
    ;;
  stop) ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
