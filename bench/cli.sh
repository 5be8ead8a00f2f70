#!/usr/bin/env bash
# The CLI benchmark (issue: the aether CLI and the topology file), whole processes side by side:
#   1. `aether apply` of an N-namespace generated topology from empty (process start, load, plan and apply), beside
#      the same work by the Go peer (vishvananda/netlink; its converge phase, from its own JSON) and by `ip -batch`
#      (bench/peers/ip_batch_peer.sh; its converge phase). The work: N named namespaces, a veth from the host into
#      each, an address on both ends, both ends up (the peers also raise lo in each namespace).
#   2. a no-op `aether apply` of the same topology (everything in sync), whole process, beside the peers' observe
#      phase (their read-back of every namespace's links and addresses, the nearest they have to a no-op apply), each
#      NOOP_SETTLE seconds (default 3) after its creation ended;
#   3. `aether destroy` of the same topology, whole process, and the time from its start until the last host end is
#      gone (polled from outside with `ip -o link`: the kernel removes the host ends as it tears the deleted
#      namespaces down, in the background), beside the peers' teardown (unmount and unlink of every namespace) and
#      their own time until the host ends are gone;
#   4. `aether diff` of examples/aether-ctl.yaml, whole process, from empty (exit 3, everything to create).
# and, where gcc is installed, the kernel floor of the same work: bench/peers/c/floor.c, the fewest system calls C
# can make it with (no ownership marks; its converge phase), and of the no-op's reading (its observe phase: every
# namespace's links and addresses read back, as the Go peer's observe phase does); and the same floor with Aether's
# ownership marks (floor.c --marks: an alias on each namespace's loopback, on each host end and on each peer), which
# the plain floor leaves out, so the ratio to it says how much of the gap is the marks (FLOOR_MARKS=0 leaves it out).
# Each is run RUNS times; every run's figures are printed, then the medians and the ratios. Needs root, and for the
# Go peer: apt-get install golang-go golang-github-vishvananda-netlink-dev.
#   bench/cli.sh [N] [RUNS]      (defaults 1000, 3; AETHER_BIN=path measures that binary instead of this checkout's;
#                                 IP_BATCH=0 leaves the ip -batch peer out, its figures 0: minutes at 10,000;
#                                 GO_PEER=0 leaves the Go peer out, its figures 0: about two minutes and its teardown
#                                 at 10,000, where the comparison that matters is with the C floor)
# With NETNS_TMPFS=1, everything runs in a mount namespace of its own with a tmpfs on /run/netns (the machine's
# /run/netns is not touched): the figures for a machine whose /run is tmpfs, where making the namespaces' mount point
# files costs next to nothing, against a /run on a disk file system (ext4 here), where it does.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${NETNS_TMPFS:-}" = 1 ] && [ -z "${AETHER_BENCH_IN_MOUNT_NS:-}" ]; then
  ./aether --help >/dev/null   # build outside, where the build's files are
  exec env AETHER_BENCH_IN_MOUNT_NS=1 unshare --mount --propagation private \
    bash -c 'mkdir -p /run/netns && mount -t tmpfs -o mode=0755 aether-bench /run/netns && exec "$0" "$@"' "$0" "$@"
fi
n="${1:-1000}"
runs="${2:-3}"
# AETHER_BIN: another aether binary to measure (an earlier build, for a before/after within one machine's day);
# otherwise this checkout's, built once, outside the timings.
bin="${AETHER_BIN:-.build/aether/aether}"
[ -n "${AETHER_BIN:-}" ] || ./aether --help >/dev/null
mkdir -p .build/peers
go=.build/peers/gonetlink
[ "${GO_PEER:-1}" = 0 ] || [ "$go" -nt bench/peers/go/main.go ] || bench/peers/go/build.sh "$PWD/$go" >/dev/null
floor=""
if command -v gcc >/dev/null 2>&1; then
  floor=.build/peers/floor
  [ "$floor" -nt bench/peers/c/floor.c ] || gcc -O2 -pthread -o "$floor" bench/peers/c/floor.c
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
field() { sed -E "s/.*\"$1\":([0-9.]+).*/\1/"; } # a number from a peer's JSON line
phases() { # NAME LINE: a peer's converge, observe, teardown and host-ends-gone figures, each to its file
  field converge_s <<<"$2" >>"$work/$1"
  field observe_s <<<"$2" >>"$work/$1-observe"
  field teardown_s <<<"$2" >>"$work/$1-teardown"
  field hostgone_s <<<"$2" >>"$work/$1-gone"
}
wall() { # wall seconds of a whole process, to the millisecond
  local start=$EPOCHREALTIME code=0
  "$@" >"$work/out" 2>"$work/err" || code=$?
  local end=$EPOCHREALTIME
  [ "$code" -eq 0 ] || [ "$code" -eq 3 ] || { cat "$work/err" >&2; exit 1; }
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f\n", e - s }'
}

# The kernel tears deleted namespaces down in the background, for seconds after a thousand, holding locks that every
# namespace creation needs: each timed creation starts after a pause, so none pays for the one before it.
settle() { sleep "${SETTLE:-10}"; }
# And after each creation, before the read-back (the no-op apply; the peers' observe phase), the same pause for all,
# untimed: the kernel's own work on a thousand new links (IPv6 duplicate address detection, about a second after each
# is up, under the RTNL lock) is then over, so no reading pays for how soon after its creation it came (NOOP_SETTLE
# seconds, default 3; 0 reads at once, as before 2026-12-07).
noop_settle="${NOOP_SETTLE:-3}"

for r in $(seq "$runs"); do
  p="bc$r$RANDOM"
  bash examples/generate-topology.sh "$n" "$p" >"$work/topo.yaml"
  settle
  wall "$bin" diff -f examples/aether-ctl.yaml --state-dir "$work/small" >>"$work/diff"
  wall "$bin" apply -f "$work/topo.yaml" --state-dir "$work/state" >>"$work/apply"
  sleep "$noop_settle"
  wall "$bin" apply -f "$work/topo.yaml" --state-dir "$work/state" >>"$work/noop"
  grep -q "in sync" "$work/out" || { echo "no-op apply was not in sync:" >&2; tail -3 "$work/out" >&2; exit 1; }
  start=$EPOCHREALTIME
  wall "$bin" destroy --no-wait -f "$work/topo.yaml" --state-dir "$work/state" >>"$work/destroy"
  while ip -o link show | grep -qF " $p-h"; do sleep 0.002; done
  awk -v s="$start" -v e="$EPOCHREALTIME" 'BEGIN { printf "%.3f\n", e - s }' >>"$work/destroy-gone"
  if [ "${GO_PEER:-1}" = 1 ]; then
    settle
    phases go "$("$go" --n "$n" --prefix "bg$r$((RANDOM % 100))" --settle "${noop_settle}s")"
  else
    for f in go go-observe go-teardown go-gone; do echo 0 >>"$work/$f"; done
  fi
  if [ "${IP_BATCH:-1}" = 1 ]; then
    settle
    line=$(bench/peers/ip_batch_peer.sh --n "$n" --prefix "bi$r$((RANDOM % 100))")
    field converge_s <<<"$line" >>"$work/ipb"
    field observe_s <<<"$line" >>"$work/ipb-observe"
  else
    echo 0 >>"$work/ipb"; echo 0 >>"$work/ipb-observe"
  fi
  if [ -n "$floor" ]; then
    settle
    phases floor "$("$floor" --n "$n" --prefix "bf$r$((RANDOM % 100))" --settle "$noop_settle")"
    if [ "${FLOOR_MARKS:-1}" = 1 ]; then
      settle
      line=$("$floor" --n "$n" --prefix "bm$r$((RANDOM % 100))" --marks)
      field converge_s <<<"$line" >>"$work/floor-marks"
    fi
  fi
  printf 'run %d: apply %s s, Go %.3f s, ip -batch %.3f s, C floor %s s (with marks %s s), no-op apply %s s (Go observe %.3f s, ip observe %.3f s, C floor observe %s s), diff %s s\n' "$r" \
    "$(tail -1 "$work/apply")" "$(tail -1 "$work/go")" "$(tail -1 "$work/ipb")" "$([ -n "$floor" ] && tail -1 "$work/floor" || echo -)" \
    "$(tail -1 "$work/floor-marks" 2>/dev/null || echo -)" "$(tail -1 "$work/noop")" \
    "$(tail -1 "$work/go-observe")" "$(tail -1 "$work/ipb-observe")" "$([ -n "$floor" ] && tail -1 "$work/floor-observe" || echo -)" "$(tail -1 "$work/diff")"
  printf '       destroy %s s (host ends gone %s s), Go teardown %.3f s (gone %.3f s), C floor teardown %s s (gone %s s)\n' "$(tail -1 "$work/destroy")" "$(tail -1 "$work/destroy-gone")" \
    "$(tail -1 "$work/go-teardown")" "$(tail -1 "$work/go-gone")" "$([ -n "$floor" ] && tail -1 "$work/floor-teardown" || echo -)" "$([ -n "$floor" ] && tail -1 "$work/floor-gone" || echo -)"
done

a=$(median <"$work/apply"); o=$(median <"$work/noop"); g=$(median <"$work/go"); i=$(median <"$work/ipb"); d=$(median <"$work/diff")
echo "N=$n, $runs runs, medians (seconds)$([ -n "${AETHER_BENCH_IN_MOUNT_NS:-}" ] && echo ', /run/netns on tmpfs'):"
echo "  aether apply from empty (whole process)   $a"
echo "  Go netlink peer, converge phase           $g"
echo "  ip -batch peer, converge phase            $i"
[ -n "$floor" ] && echo "  C kernel floor, converge phase            $(median <"$work/floor")"
[ -s "$work/floor-marks" ] && echo "  C floor with Aether's marks, converge     $(median <"$work/floor-marks")"
echo "  aether no-op apply (whole process)        $o"
echo "  Go netlink peer, observe phase            $(median <"$work/go-observe")"
echo "  ip -batch peer, observe phase             $(median <"$work/ipb-observe")"
[ -n "$floor" ] && echo "  C floor, observe phase                    $(median <"$work/floor-observe")"
echo "  aether destroy (whole process)           $(median <"$work/destroy")"
echo "  aether destroy until host ends gone       $(median <"$work/destroy-gone")"
echo "  Go netlink peer, teardown (unmount all)   $(median <"$work/go-teardown")"
echo "  Go netlink peer, until host ends gone     $(median <"$work/go-gone")"
[ -n "$floor" ] && echo "  C floor, teardown (unmount all)           $(median <"$work/floor-teardown")"
[ -n "$floor" ] && echo "  C floor, until host ends gone             $(median <"$work/floor-gone")"
echo "  aether diff examples/aether-ctl.yaml      $d"
awk -v a="$a" -v g="$g" -v i="$i" -v f="$([ -n "$floor" ] && median <"$work/floor" || echo 0)" -v o="$o" -v go="$(median <"$work/go-observe")" \
  -v fm="$([ -s "$work/floor-marks" ] && median <"$work/floor-marks" || echo 0)" \
  -v fo="$([ -n "$floor" ] && median <"$work/floor-observe" || echo 0)" \
  -v x="$(median <"$work/destroy")" -v xg="$(median <"$work/destroy-gone")" -v gt="$(median <"$work/go-teardown")" -v gg="$(median <"$work/go-gone")" \
  'BEGIN { printf "  ratios:"; if (g > 0) printf " apply/Go %.2fx,", a/g; if (i > 0) printf " apply/ip-batch %.2fx,", a/i; if (f > 0) printf " apply/C floor %.2fx,", a/f; if (fm > 0) printf " apply/C floor with marks %.2fx", a/fm; print "";
           printf "         "; if (go > 0) printf " no-op/Go observe %.2fx,", o/go; if (fo > 0) printf " no-op/C floor observe %.2fx", o/fo;
           if (gt > 0) printf ", destroy/Go teardown %.2fx, host ends gone aether/Go %.2fx", x/gt, xg/gg; print "" }'
