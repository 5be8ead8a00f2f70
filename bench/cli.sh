#!/usr/bin/env bash
# The CLI benchmark (issue: the aether CLI and the topology file), whole processes side by side:
#   1. `aether apply` of an N-namespace generated topology from empty (process start, load, plan and apply), beside
#      the same work by the Go peer (vishvananda/netlink; its converge phase, from its own JSON) and by `ip -batch`
#      (bench/peers/ip_batch_peer.sh; its converge phase). The work: N named namespaces, a veth from the host into
#      each, an address on both ends, both ends up (the peers also raise lo in each namespace).
#   2. a no-op `aether apply` of the same topology (everything in sync), whole process;
#   3. `aether diff` of examples/aether-ctl.yaml, whole process, from empty (exit 3, everything to create).
# Each is run RUNS times; medians are printed, then the ratios. Needs root, /usr/bin/time (Debian: time), and for
# the Go peer: apt-get install golang-go golang-github-vishvananda-netlink-dev.
#   bench/cli.sh [N] [RUNS]      (defaults 1000, 3)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000}"
runs="${2:-3}"
./aether --help >/dev/null   # build once, outside the timings
bin=.build/aether/aether
go=/tmp/aether-bench-gonetlink
[ -x "$go" ] || bench/peers/go/build.sh "$go" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
wall() { # wall seconds of a whole process
  /usr/bin/time -f '%e' -o "$work/t" "$@" >"$work/out" 2>"$work/err" || { [ $? -eq 3 ] || { cat "$work/err" >&2; exit 1; }; }
  tail -1 "$work/t"
}

# The kernel tears deleted namespaces down in the background, for seconds after a thousand, holding locks that every
# namespace creation needs: each timed creation starts after a pause, so none pays for the one before it.
settle() { sleep "${SETTLE:-10}"; }

for r in $(seq "$runs"); do
  p="bc$r$RANDOM"
  bash examples/generate-topology.sh "$n" "$p" >"$work/topo.yaml"
  settle
  wall "$bin" diff -f examples/aether-ctl.yaml --state-dir "$work/small" >>"$work/diff"
  wall "$bin" apply -f "$work/topo.yaml" --state-dir "$work/state" >>"$work/apply"
  wall "$bin" apply -f "$work/topo.yaml" --state-dir "$work/state" >>"$work/noop"
  grep -q "in sync" "$work/out" || { echo "no-op apply was not in sync:" >&2; tail -3 "$work/out" >&2; exit 1; }
  "$bin" destroy -f "$work/topo.yaml" --state-dir "$work/state" >/dev/null
  settle
  "$go" --n "$n" --prefix "bg$r$((RANDOM % 100))" | sed -E 's/.*"converge_s":([0-9.]+).*/\1/' >>"$work/go"
  settle
  bench/peers/ip_batch_peer.sh --n "$n" --prefix "bi$r$((RANDOM % 100))" | sed -E 's/.*"converge_s":([0-9.]+).*/\1/' >>"$work/ipb"
done

a=$(median <"$work/apply"); o=$(median <"$work/noop"); g=$(median <"$work/go"); i=$(median <"$work/ipb"); d=$(median <"$work/diff")
echo "N=$n, $runs runs, medians (seconds):"
echo "  aether apply from empty (whole process)   $a"
echo "  Go netlink peer, converge phase           $g"
echo "  ip -batch peer, converge phase            $i"
echo "  aether no-op apply (whole process)        $o"
echo "  aether diff examples/aether-ctl.yaml      $d"
awk -v a="$a" -v g="$g" -v i="$i" 'BEGIN { printf "  ratios: aether/Go %.2fx, aether/ip-batch %.2fx\n", a/g, a/i }'
