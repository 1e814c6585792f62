#!/usr/bin/env bash
# Conveyor runner for the side-by-side peer benchmark: run.sh info|enqueue|worker
#   BACKEND=redis|postgres|sqlite   (contract: ../../README.md and the harness's README.md)
# Builds bench/Conveyor.PeerRunner in Release from this checkout when a source is newer than the build
# (CONVEYOR_RUNNER_PREBUILT=1 skips that check, so a measurement run uses one build throughout).
set -euo pipefail
HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
ART=${CONVEYOR_RUNNER_ARTIFACTS:-$HERE/.build}
DLL=$ART/bin/Conveyor.PeerRunner/release/Conveyor.PeerRunner.dll
stale() {
  [ ! -f "$DLL" ] && return 0
  [ "${CONVEYOR_RUNNER_PREBUILT:-0}" = 1 ] && return 1
  [ -n "$(find "$ROOT/bench/Conveyor.PeerRunner" "$ROOT/src/Conveyor" "$ROOT/src/Conveyor.Redis" \
      "$ROOT/src/Conveyor.Postgres" "$ROOT/src/Conveyor.Sqlite" "$ROOT"/Directory.*.props \
      \( -path '*/bin' -o -path '*/obj' \) -prune -o -type f -newer "$DLL" -print -quit)" ]
}
if stale; then
  dotnet build "$ROOT/bench/Conveyor.PeerRunner/Conveyor.PeerRunner.csproj" -c Release \
    --artifacts-path "$ART" --nologo -v q >&2
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1
exec dotnet "$DLL" "$@"
