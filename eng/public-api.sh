#!/usr/bin/env bash
# Records new public API: builds each named library and appends the symbols the PublicApiAnalyzers report as
# undeclared (RS0016) to its PublicAPI.Unshipped.txt. A removed or changed member (RS0017) is deleted by hand.
# Usage: eng/public-api.sh Conveyor Conveyor.Redis ...
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
for project in "$@"; do
  file="$root/src/$project/PublicAPI.Unshipped.txt"
  output=$(cd "$root/src/$project" && dotnet build -v q 2>&1 || true)
  added=$(printf '%s\n' "$output" | grep "src/$project/.*error RS0016" |
    sed -E "s/.*Symbol '(.*)' is not part of the declared public API.*/\1/" | sort -u || true)
  if [ -n "$added" ]; then
    printf '%s\n' "$added" >> "$file"
  fi
  echo "$project: $(printf '%s' "$added" | grep -c . || true) symbols added"
done
