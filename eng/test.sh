#!/usr/bin/env bash
# The whole test suite: installs and starts what the store tests need (on loopback), builds once,
# runs every test project, stops the servers, and prints the totals over all projects as
#   <passed> passed, <failed> failed[, <skipped> skipped]
# Exit code: 0 only if every project ran, nothing failed, and at least one test ran.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
RESULTS=${TEST_RESULTS:-$ROOT/artifacts/test-results}
rm -rf "$RESULTS" && mkdir -p "$RESULTS"
log() { echo "[test $(date +%T)] $*" >&2; }

# Servers: each eng/services/<name>.sh understands start|stop and, on start, prints the
# environment the tests need (e.g. CONVEYOR_TEST_REDIS=127.0.0.1:6391) as export lines. They start (and, on a fresh
# machine, install from Debian) while the solution builds: both take minutes there, and neither needs the other.
state=$(mktemp -d)
touch "$state/started" "$state/env"
start_services() {
  for script in eng/services/*.sh; do
    [ -e "$script" ] || continue
    local name; name=$(basename "$script" .sh)
    log "starting $name"
    local env_lines
    if env_lines=$(bash "$script" start); then
      echo "$name" >>"$state/started"
      printf '%s\n' "$env_lines" >>"$state/env"
    else
      log "could not start $name (its tests will fail in CI, or be skipped outside CI)"
    fi
  done
}
services_pid=
cleanup() {
  [ -n "$services_pid" ] && wait "$services_pid" 2>/dev/null
  while read -r s; do bash "eng/services/$s.sh" stop >&2 || true; done <"$state/started"
  rm -rf "$state"
}
trap cleanup EXIT
start_services &
services_pid=$!

log "building"
if ! dotnet build Conveyor.slnx -c Release -nologo -v q; then
  echo "build failed" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
wait "$services_pid"
services_pid=
eval "$(cat "$state/env")"

# Three lanes side by side, each running its projects one after another: most tests wait on a store, a browser or a
# child process, so three at a time finish sooner on two cores. Lane A holds every project that uses the shared
# PostgreSQL (its restart tests stop it for everyone else: the Postgres and Server tests); lane B the browser and the
# packages; lane C the Redis tests (which start their own Redis for every fault), the HTTP API's and then the quick
# projects, the core's among them. With two lanes (A also ran the Redis tests) lane A took 13 of a run's 15.7 minutes
# and ended alone; with three, runs took 15.0 and 17.2: the two cores are busy throughout, so the lanes mostly share
# them, and what is left to gain is in the tests' own work.
# Each project's output is printed whole when it ends, so the log reads project by project.
run_lane() {
  local lane=$1; shift
  for proj in "$@"; do
    local name; name=$(basename "$proj" .csproj)
    log "lane $lane: running $name"
    if ! dotnet test "$proj" -c Release --no-build -nologo -v q \
        --logger "trx;LogFileName=$name.trx" --results-directory "$RESULTS" ${TEST_FILTER:+--filter "$TEST_FILTER"} \
        >"$RESULTS/$name.log" 2>&1; then
      echo "$name" >>"$RESULTS/failed-projects"
    fi
    cat "$RESULTS/$name.log"
    log "lane $lane: $name done"
  done
}

lane_a=() lane_b=() lane_c=()
# Longest first within each lane (PostgreSQL, the browser and packaging take the most).
for proj in $(find tests samples -name '*.Tests.csproj' -not -path '*/bin/*' -not -path '*/obj/*' | sort); do
  case $(basename "$proj" .csproj) in
    Conveyor.Postgres.Tests) lane_a=("$proj" "${lane_a[@]}") ;;
    Conveyor.Server.Tests) lane_a+=("$proj") ;;
    Conveyor.Packaging.Tests|Conveyor.Dashboard.Tests) lane_b+=("$proj") ;;
    Conveyor.Redis.Tests|Conveyor.AspNetCore.Tests) lane_c=("$proj" "${lane_c[@]}") ;;
    *) lane_c+=("$proj") ;;
  esac
done
run_lane A "${lane_a[@]}" &
lane_a_pid=$!
run_lane B "${lane_b[@]}" &
lane_b_pid=$!
run_lane C "${lane_c[@]}"
wait "$lane_a_pid" "$lane_b_pid"
failed_projects=$( [ -f "$RESULTS/failed-projects" ] && wc -l <"$RESULTS/failed-projects" || echo 0)

# Totals from the TRX files: one <Counters .../> element per project.
python3 - "$RESULTS" "$failed_projects" <<'PY'
import glob, re, sys
passed = failed = skipped = 0
files = glob.glob(sys.argv[1] + "/*.trx")
for f in files:
    text = open(f, encoding="utf-8").read()
    m = re.search(r"<Counters ([^>]*)/>", text)
    if not m:
        failed += 1
        continue
    attrs = dict(re.findall(r'(\w+)="(\d+)"', m.group(1)))
    passed += int(attrs.get("passed", 0))
    failed += int(attrs.get("failed", 0)) + int(attrs.get("error", 0)) + int(attrs.get("timeout", 0)) + int(attrs.get("aborted", 0))
    skipped += int(attrs.get("notExecuted", 0))
# What failed and why, from the same files: a CI log that only says "1 failed" cannot be diagnosed afterwards.
import xml.etree.ElementTree as ET
ns = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"
for f in files:
    try:
        root = ET.parse(f).getroot()
        for result in root.iter(ns + "UnitTestResult"):
            if result.get("outcome") not in ("Failed", "Error", "Timeout", "Aborted"):
                continue
            print(f"\n--- {result.get('outcome').upper()} {result.get('testName')}")
            output = result.find(ns + "Output")
            for tag, limit in (("ErrorInfo/" + ns + "Message", 4000), ("ErrorInfo/" + ns + "StackTrace", 3000), ("StdOut", 8000)):
                node = output.find(ns + tag) if output is not None else None
                if node is not None and node.text:
                    text = node.text.strip()
                    print(text if len(text) <= limit else text[:limit // 2] + "\n[...]\n" + text[-limit // 2:])
    except Exception as e:  # the details help; the totals below must print whatever happens here
        print(f"(could not read the failures of {f}: {e})")
    print(end="", flush=True)
projects_failed = int(sys.argv[2])
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed or projects_failed or passed == 0 else 0)
PY
