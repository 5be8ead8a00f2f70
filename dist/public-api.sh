#!/usr/bin/env bash
# Brings the packaged libraries' public API baselines (src/*/PublicAPI.Shipped.txt and PublicAPI.Unshipped.txt, read
# by Microsoft.CodeAnalysis.PublicApiAnalyzers) up to date with the code, or ships them at a release:
#
#   dist/public-api.sh [PROJECT_DIR...]        record the API as it is now in PublicAPI.Unshipped.txt: a symbol that is
#                                              gone or changed (RS0017) is struck from Unshipped, or marked *REMOVED*
#                                              there when it had shipped; a new one (RS0016) is added (by the
#                                              analyzer's own code fix, through dotnet format)
#   dist/public-api.sh --ship [PROJECT_DIR...] at a release: Unshipped moves into Shipped (*REMOVED* lines take their
#                                              symbol out of it) and Unshipped is left empty
#
# Without PROJECT_DIR, every project under src/ with a PublicAPI.Shipped.txt. Review the diff: a *REMOVED* line is a
# breaking change for the packages' users.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

ship=""
if [ "${1:-}" = "--ship" ]; then
  ship=yes
  shift
fi
projects=("$@")
if [ ${#projects[@]} -eq 0 ]; then
  for shipped in src/*/PublicAPI.Shipped.txt; do
    projects+=("$(dirname "$shipped")")
  done
fi

header='#nullable enable'

# Writes FILE back sorted, with the #nullable header first (the analyzer reads the header on the first line only).
normalize() {
  local file="$1" body
  body=$(grep -v -x -F "$header" "$file" | grep -v '^$' | LC_ALL=C sort -u || true)
  { echo "$header"; if [ -n "$body" ]; then echo "$body"; fi; } >"$file" # (an empty body must not end the script: set -e)
}

for project in "${projects[@]}"; do
  project="${project%/}"
  shipped="$project/PublicAPI.Shipped.txt"
  unshipped="$project/PublicAPI.Unshipped.txt"
  if [ ! -f "$shipped" ] || [ ! -f "$unshipped" ]; then
    echo "public-api: $project has no PublicAPI.Shipped.txt and PublicAPI.Unshipped.txt" >&2
    exit 1
  fi

  if [ -n "$ship" ]; then
    removed=$(sed -n 's/^\*REMOVED\*//p' "$unshipped")
    added=$(grep -v -x -F "$header" "$unshipped" | grep -v '^\*REMOVED\*' || true)
    if [ -n "$removed" ]; then
      grep -v -x -F -f <(echo "$removed") "$shipped" >"$shipped.new" || true
      mv "$shipped.new" "$shipped"
    fi
    [ -n "$added" ] && echo "$added" >>"$shipped"
    normalize "$shipped"
    echo "$header" >"$unshipped"
    echo "public-api: $project: shipped $(echo -n "$added" | grep -c '' || true) added, $(echo -n "$removed" | grep -c '' || true) removed"
    continue
  fi

  # Symbols that are gone or changed: the build names the baseline file and line of each (RS0017).
  log=$(dotnet build "$project" -c Release -nologo -p:TreatWarningsAsErrors=false 2>&1 || true)
  gone=$(grep -o "PublicAPI\.\(Shipped\|Unshipped\)\.txt([0-9]*,[0-9]*): \(error\|warning\) RS0017" <<<"$log" \
    | sed 's/^PublicAPI\.\([A-Za-z]*\)\.txt(\([0-9]*\),.*/\1 \2/' | sort -u || true)
  strike=()
  while read -r file line; do
    [ -n "$file" ] || continue
    if [ "$file" = Shipped ]; then
      echo "*REMOVED*$(sed -n "${line}p" "$shipped")" >>"$unshipped"
    else
      strike+=("${line}d")
    fi
  done <<<"$gone"
  if [ ${#strike[@]} -gt 0 ]; then
    sed -i "$(IFS=';'; echo "${strike[*]}")" "$unshipped"
  fi

  # New symbols: the analyzer's code fix adds them to Unshipped.
  dotnet format analyzers "$project" --diagnostics RS0016 --severity warn -v q
  normalize "$unshipped"
  echo "public-api: $project: $(echo -n "$gone" | grep -c '' || true) gone or changed; Unshipped now $(($(wc -l <"$unshipped") - 1)) line(s)"
done
