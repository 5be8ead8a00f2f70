#!/usr/bin/env bash
# Benchmark peer using iproute2 batch mode (`ip -batch`).
#
# Workload (identical across all peers):
#   converge: for i in 0..N-1 create named netns {P}{i}, veth {P}h{i} (host) <->
#             {P}n{i} (created directly inside the namespace), 10.200.x.y/30 on
#             both ends, both ends up, lo up inside the namespace.
#             -> one `ip -batch` file for the whole host side, then one
#                `ip -n {P}{i} -batch -` per namespace.
#   observe:  `ip -j link show` in the host, then per namespace
#             `ip -n NS -j link show` and `ip -n NS -j addr show`; counting is
#             done once at the end of the phase with jq (or /usr/bin/python3 if
#             jq is not installed), and is included in observe_s.
#   teardown: one `ip -batch` with every `netns del` (umount + unlink); the
#             kernel's asynchronous cleanup is not waited for.
#
# Usage (as root): bench/peers/ip_batch_peer.sh --n N --prefix P
# Output: one JSON line on stdout, without peak_rss_kb (the driver measures it):
#   {"peer":"iproute2-batch","n":N,"converge_s":F,"observe_s":F,"teardown_s":F,
#    "host_links":I,"ns_links":I,"ns_addrs":I}
# Phases are timed with `date +%s.%N` (wall clock).
# Env: IP=/path/to/ip (default: ip from PATH); COUNTER=jq|python3 to force the
#      JSON counter (default: jq if installed, else /usr/bin/python3).
# Debug: BENCH_STOP_BEFORE_TEARDOWN=1 makes the script SIGSTOP itself after
# observe (outside the timed phases) so the state can be inspected.
set -u
set -o pipefail

IP="${IP:-ip}"
n=""
prefix=""

die() {
    echo "ip_batch_peer: $*" >&2
    exit 1
}

usage() {
    echo "usage: $0 --n N --prefix P   (N>0, 1<=len(P)<=6)" >&2
    exit 2
}

while (($#)); do
    case "$1" in
        --n) n="${2:-}"; shift 2 || usage ;;
        --n=*) n="${1#--n=}"; shift ;;
        --prefix) prefix="${2:-}"; shift 2 || usage ;;
        --prefix=*) prefix="${1#--prefix=}"; shift ;;
        *) usage ;;
    esac
done
[[ "$n" =~ ^[0-9]+$ ]] && ((n > 0)) || usage
[[ -n "$prefix" && ${#prefix} -le 6 && "$prefix" =~ ^[A-Za-z0-9_]+$ ]] || usage
name_h="${prefix}h$((n - 1))"
((${#name_h} <= 15)) || die "interface names would exceed 15 bytes"
((4 * (n - 1) / 256 <= 255)) || die "N too large for 10.200.0.0/16"
command -v "$IP" >/dev/null 2>&1 || die "'$IP' not found"

if [[ -n "${COUNTER:-}" ]]; then
    counter="$COUNTER"
elif command -v jq >/dev/null 2>&1; then
    counter=jq
elif [[ -x /usr/bin/python3 ]]; then
    counter=python3
else
    die "need jq or /usr/bin/python3 to parse ip -j output"
fi

# Refuse to run if any namespace with our names already exists, so that the
# cleanup below can only ever delete what this script created.
for ((i = 0; i < n; i++)); do
    [[ -e "/run/netns/${prefix}${i}" ]] && die "/run/netns/${prefix}${i} already exists"
done

work="$(mktemp -d "${TMPDIR:-/tmp}/ip_batch_peer.XXXXXX")" || die "mktemp failed"
done_ok=0

cleanup() {
    if ((done_ok == 0)); then
        # Best effort: delete whatever namespaces of ours exist (the veth pairs
        # go away with them).
        local i
        for ((i = 0; i < n; i++)); do
            [[ -e "/run/netns/${prefix}${i}" ]] && echo "netns del ${prefix}${i}"
        done > "$work/cleanup.batch"
        [[ -s "$work/cleanup.batch" ]] && "$IP" -force -batch "$work/cleanup.batch" >/dev/null 2>&1
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

now() { date +%s.%N; }

# ---------------------------------------------------------------- converge
t0="$(now)"
{
    for ((i = 0; i < n; i++)); do
        echo "netns add ${prefix}${i}"
    done
    for ((i = 0; i < n; i++)); do
        echo "link add ${prefix}h${i} type veth peer name ${prefix}n${i} netns ${prefix}${i}"
    done
    for ((i = 0; i < n; i++)); do
        b=$((4 * i))
        echo "address add 10.200.$((b / 256)).$((b % 256 + 1))/30 dev ${prefix}h${i}"
    done
    for ((i = 0; i < n; i++)); do
        echo "link set ${prefix}h${i} up"
    done
} > "$work/host.batch"
"$IP" -batch "$work/host.batch" || die "host batch failed"

for ((i = 0; i < n; i++)); do
    b=$((4 * i))
    printf 'address add 10.200.%d.%d/30 dev %sn%d\nlink set %sn%d up\nlink set lo up\n' \
        $((b / 256)) $((b % 256 + 2)) "$prefix" "$i" "$prefix" "$i" |
        "$IP" -n "${prefix}${i}" -batch - || die "namespace batch for ${prefix}${i} failed"
done
t1="$(now)"

# ----------------------------------------------------------------- observe
"$IP" -j link show > "$work/host.json" || die "ip -j link show failed"
for ((i = 0; i < n; i++)); do
    "$IP" -n "${prefix}${i}" -j link show > "$work/link_${i}.json" || die "ip -n ${prefix}${i} -j link show failed"
    "$IP" -n "${prefix}${i}" -j addr show > "$work/addr_${i}.json" || die "ip -n ${prefix}${i} -j addr show failed"
done

if [[ $counter == jq ]]; then
    # One jq process for everything (jq 1.6 start-up alone is ~40 ms). The link
    # named {P}n{i} must be found in namespace {P}{i}: i comes from the file name.
    read -r host_links ns_links ns_addrs < <(cd "$work" && jq -nr --arg p "$prefix" '
        reduce (inputs | [input_filename, .]) as [$f, $doc] ({h: 0, l: 0, a: 0};
            if $f == "host.json" then
                .h += ([$doc[] | select(.ifname | startswith($p + "h"))] | length)
            elif ($f | startswith("link_")) then
                ($f | capture("^link_(?<i>[0-9]+)[.]json$").i) as $i
                | .l += ([$doc[] | select(.ifname == ($p + "n" + $i))] | length)
            else
                .a += ([$doc[] | (.addr_info // [])[]
                        | select(.family == "inet" and (.local | startswith("10.200.")))] | length)
            end)
        | "\(.h) \(.l) \(.a)"' host.json link_*.json addr_*.json) || die "jq counter failed"
else
    read -r host_links ns_links ns_addrs < <(/usr/bin/python3 - "$work" "$prefix" "$n" <<'PY'
import ipaddress, json, sys
work, p, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
pool = ipaddress.ip_network("10.200.0.0/16")
with open(f"{work}/host.json") as f:
    hl = sum(1 for l in json.load(f) if l.get("ifname", "").startswith(p + "h"))
nl = na = 0
for i in range(n):
    with open(f"{work}/link_{i}.json") as f:
        nl += sum(1 for l in json.load(f) if l.get("ifname") == f"{p}n{i}")
    with open(f"{work}/addr_{i}.json") as f:
        for l in json.load(f):
            for a in l.get("addr_info", []):
                if a.get("family") == "inet" and ipaddress.ip_address(a["local"]) in pool:
                    na += 1
print(hl, nl, na)
PY
    ) || die "python3 counter failed"
fi
t2="$(now)"

if [[ "${BENCH_STOP_BEFORE_TEARDOWN:-}" == 1 ]]; then
    kill -STOP $$
fi

# ---------------------------------------------------------------- teardown
t3="$(now)"
for ((i = 0; i < n; i++)); do
    echo "netns del ${prefix}${i}"
done > "$work/teardown.batch"
"$IP" -batch "$work/teardown.batch" || die "teardown batch failed"
t4="$(now)"
done_ok=1

json="$(awk -v n="$n" -v p="iproute2-batch" -v t0="$t0" -v t1="$t1" -v t2="$t2" -v t3="$t3" -v t4="$t4" \
    -v hl="$host_links" -v nl="$ns_links" -v na="$ns_addrs" '
    function d(a, b,   sa, sb, ia, ib) {
        # subtract seconds and nanoseconds separately to keep full precision
        split(a, sa, "."); split(b, sb, ".")
        return (sb[1] - sa[1]) + (sb[2] - sa[2]) / 1e9
    }
    BEGIN {
        printf "{\"peer\":\"%s\",\"n\":%d,\"converge_s\":%.9f,\"observe_s\":%.9f,\"teardown_s\":%.9f,\"host_links\":%d,\"ns_links\":%d,\"ns_addrs\":%d}\n",
            p, n, d(t0, t1), d(t1, t2), d(t3, t4), hl, nl, na
    }')"

if [[ "$host_links" != "$n" || "$ns_links" != "$n" || "$ns_addrs" != "$n" ]]; then
    echo "ip_batch_peer: count mismatch: $json" >&2
    exit 1
fi
echo "$json"
