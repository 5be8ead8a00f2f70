#!/usr/bin/env bash
# Cross-host lab links over WireGuard, two designs side by side with plain VXLAN as the baseline, in one run:
#   base      a VXLAN per link between the hosts' underlay addresses (today's cross-host link; MTU 1450)
#   shared    ONE WireGuard device per host pair (wireguard-go, inner 169.254.32.0/31, MTU 1440) and a VXLAN per
#             link between the WireGuard inner addresses (MTU 1390)
#   per-link  a WireGuard device pair PER LINK (own port, own inner /31 in 169.254.33.0/24), its VXLAN inside
# Two simulated hosts (namespaces bwtX-h1, bwtX-h2, a veth underlay 192.168.77.1/2, MTU 1500), and per design N node
# namespaces on each; link i joins node i on host 1 (10.200.i.1/24) with node i on host 2 (10.200.i.2/24). Each VXLAN
# is created in its host namespace and moved into the node namespace, so its UDP socket stays in the host namespace.
# Per design: time to up (first command until every link answers a ping, the pings run in parallel; "setup" is the
# share spent in the commands, "wgo" the part of it from launching each wireguard-go until its control socket
# exists), that a full-MTU packet crosses link 1 with no fragment on either host (ping -M do -s 1362 under WireGuard,
# -s 1422 for base; IP FragCreates unchanged), the wireguard-go processes (count, total VmRSS idle and again after
# the stream), a TCP stream over link 1 (iperf3: Mbit/s, sender retransmits, datagrams the hosts dropped for a full
# UDP receive buffer, CPU seconds of the wireguard-go processes and of the whole machine during it, so CPU per Gbit
# compares; the machine figure includes anything else running), and teardown time (devices, then namespaces).
# Then ratios. Designs run one after the other; each is torn down (devices first) before the next.
#   bench/peers/wg_transport.sh [--links N] [--seconds 10]
# Needs root, wireguard-go + wireguard-tools, and iperf3: apt-get install -y --no-install-recommends iperf3.
# Everything is named bwt<hex>...; a trap removes it all (devices, so wireguard-go exits, then namespaces) on any exit.
set -euo pipefail
links=1 secs=10
while [ $# -gt 0 ]; do
  case $1 in
    --links) links=$2; shift 2 ;;
    --seconds) secs=$2; shift 2 ;;
    *) echo "usage: $0 [--links N] [--seconds 10]" >&2; exit 2 ;;
  esac
done
if [ "$links" -lt 1 ] || [ "$links" -gt 120 ]; then echo "--links: 1..120" >&2; exit 2; fi
for c in wireguard-go wg iperf3 ip ss; do command -v "$c" >/dev/null || { echo "missing: $c" >&2; exit 2; }; done

p=bwt$(od -An -N2 -tx2 /dev/urandom | tr -d ' ')
h1=$p-h1 h2=$p-h2 u1=192.168.77.1 u2=192.168.77.2
dir=$(mktemp -d "/tmp/$p.XXXX")
tck=$(getconf CLK_TCK)
declare -A R
wgstart=0

cleanup() {
  local h ns d
  set +e
  trap - EXIT INT TERM
  for pid in $(jobs -p); do kill "$pid" 2>/dev/null || true; done
  for h in "$h1" "$h2"; do   # devices first: deleting a wireguard-go tun device ends its process
    ip netns list | grep -q "^$h\b" || continue
    for d in $(ip -n "$h" -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep "^$p-" || true); do
      ip -n "$h" link del "$d" 2>/dev/null || true
    done
  done
  wait_wg_gone "" || true
  for ns in $(ip netns list | awk '{ print $1 }' | grep "^$p-" || true); do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$dir"
  local left=""
  ip netns list | grep -q "^$p-" && left+=" namespaces"
  ip -o link show | grep -q ": $p-" && left+=" links"
  pgrep -f "^wireguard-go $p-" >/dev/null && left+=" wireguard-go"
  compgen -G "/var/run/wireguard/$p*" >/dev/null && left+=" sockets"
  [ -z "$left" ] && echo "cleanup: no $p namespace, link, wireguard-go process or socket remains" \
    || echo "cleanup: LEFT OVER:$left" >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s%N; }
ms() { echo $(( ($(now) - $1) / 1000000 )); }
wg_pids() { pgrep -f "^wireguard-go $p-$1" || true; }
wait_wg_gone() {
  local i; for ((i = 0; i < 100; i++)); do [ -z "$(wg_pids "$1")" ] && return 0; sleep 0.05; done; return 1
}

# wg_pair NAME1 NAME2 PORT INNER1 INNER2: a wireguard-go device on each host, keyed to each other, inner /31, MTU 1440.
wg_pair() {
  local n1=$1 n2=$2 port=$3 a1=$4 a2=$5 i t
  (umask 077; wg genkey > "$dir/$n1.key"; wg genkey > "$dir/$n2.key")
  t=$(now)
  ip netns exec "$h1" wireguard-go "$n1" >"$dir/$n1.log" 2>&1
  ip netns exec "$h2" wireguard-go "$n2" >"$dir/$n2.log" 2>&1
  for ((i = 0; i < 200; i++)); do
    [ -S "/var/run/wireguard/$n1.sock" ] && [ -S "/var/run/wireguard/$n2.sock" ] && break; sleep 0.01
  done
  if ! [ -S "/var/run/wireguard/$n1.sock" ] || ! [ -S "/var/run/wireguard/$n2.sock" ]; then
    echo "wireguard-go $n1/$n2: no control socket after 2 s" >&2; exit 1
  fi
  wgstart=$(( wgstart + $(now) - t ))   # launch of both wireguard-go until both control sockets exist
  ip netns exec "$h1" wg set "$n1" private-key "$dir/$n1.key" listen-port "$port" \
    peer "$(wg pubkey < "$dir/$n2.key")" endpoint "$u2:$port" allowed-ips "$a2/32"
  ip netns exec "$h2" wg set "$n2" private-key "$dir/$n2.key" listen-port "$port" \
    peer "$(wg pubkey < "$dir/$n1.key")" endpoint "$u1:$port" allowed-ips "$a1/32"
  ip -n "$h1" addr add "$a1/31" dev "$n1"; ip -n "$h1" link set "$n1" mtu 1440 up
  ip -n "$h2" addr add "$a2/31" dev "$n2"; ip -n "$h2" link set "$n2" mtu 1440 up
}

# vx_link D I LOCAL1 LOCAL2 MTU: link I's VXLAN (VNI I) from each host namespace into its node namespace.
vx_link() {
  local d=$1 i=$2 l1=$3 l2=$4 mtu=$5 x=$p-x$2
  ip -n "$h1" link add "$x" type vxlan id "$i" local "$l1" remote "$l2" dstport 4789
  ip -n "$h2" link add "$x" type vxlan id "$i" local "$l2" remote "$l1" dstport 4789
  ip -n "$h1" link set "$x" mtu "$mtu" netns "$p-$d${i}a"
  ip -n "$h2" link set "$x" mtu "$mtu" netns "$p-$d${i}b"
  ip -n "$p-$d${i}a" addr add "10.200.$i.1/24" dev "$x"; ip -n "$p-$d${i}a" link set "$x" up
  ip -n "$p-$d${i}b" addr add "10.200.$i.2/24" dev "$x"; ip -n "$p-$d${i}b" link set "$x" up
}

# snmp PROTO FIELD: the counter summed over both hosts (the column found by its header: newer kernels add columns)
snmp() {
  local h; for h in "$h1" "$h2"; do ip netns exec "$h" cat /proc/net/snmp | awk -v p="$1:" -v f="$2" '$1 == p {
    if (++n == 1) { for (i = 2; i <= NF; i++) if ($i == f) c = i } else print $c }'; done | sum
}
sum() { awk '{ s += $1 } END { print s + 0 }'; }
ticks() { local pid; for pid in "$@"; do awk '{ print $14 + $15 }' "/proc/$pid/stat"; done | sum; }   # utime+stime
rss() { local pid; for pid in "$@"; do awk '/^VmRSS/ { print $2 }' "/proc/$pid/status"; done | sum; }
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

# run D: builds design D (base|shared|per-link), measures it, tears it down.
run() {
  local d=$1 t0 i pid pids=() na=$p-${1:0:1}1a nb=$p-${1:0:1}1b deadline f0 w0 m0 u0 big=1362
  local k=${1:0:1} h dev   # node namespaces $p-{b,s,p}I{a,b}; WireGuard devices $p-S1/2 (shared), $p-PI{a,b}
  wgstart=0 t0=$(now)
  for ((i = 1; i <= links; i++)); do ip netns add "$p-$k${i}a"; ip netns add "$p-$k${i}b"; done
  case $d in
    base) for ((i = 1; i <= links; i++)); do vx_link "$k" "$i" "$u1" "$u2" 1450; done; big=1422 ;;
    shared) wg_pair "$p-S1" "$p-S2" 51820 169.254.32.0 169.254.32.1
      for ((i = 1; i <= links; i++)); do vx_link "$k" "$i" 169.254.32.0 169.254.32.1 1390; done ;;
    per-link) for ((i = 1; i <= links; i++)); do
        wg_pair "$p-P${i}a" "$p-P${i}b" $((51820 + i)) "169.254.33.$((2 * i - 2))" "169.254.33.$((2 * i - 1))"
        vx_link "$k" "$i" "169.254.33.$((2 * i - 2))" "169.254.33.$((2 * i - 1))" 1390
      done ;;
  esac
  R[$d.setup]=$(ms "$t0") R[$d.wgstart]=$(( wgstart / 1000000 ))
  deadline=$(( $(now) + 30000000000 ))
  for ((i = 1; i <= links; i++)); do
    ( until ip netns exec "$p-$k${i}a" ping -c1 -W1 -q "10.200.$i.2" >/dev/null 2>&1; do
        [ "$(now)" -lt "$deadline" ] || exit 1; done ) &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || { echo "$d: a link did not answer within 30 s" >&2; exit 1; }; done
  R[$d.up]=$(ms "$t0")

  f0=$(snmp Ip FragCreates)
  ip netns exec "$na" ping -c1 -W2 -q -M "do" -s "$big" 10.200.1.2 >/dev/null \
    || { echo "$d: a $((big + 28))-byte packet does not cross link 1" >&2; exit 1; }
  [ "$(snmp Ip FragCreates)" = "$f0" ] || { echo "$d: a host fragmented the $((big + 28))-byte packet" >&2; exit 1; }
  R[$d.mtu]="$((big + 28))ok"

  mapfile -t pids < <(wg_pids "${k^^}")
  R[$d.procs]=${#pids[@]} R[$d.rss]=$(rss "${pids[@]}")

  ip netns exec "$nb" iperf3 -s -1 -B 10.200.1.2 >/dev/null 2>&1 &
  local srv=$!
  until ip netns exec "$nb" ss -Hltn 'sport = :5201' | grep -q .; do sleep 0.05; done
  w0=$(ticks "${pids[@]}") m0=$(busy) u0=$(snmp Udp RcvbufErrors)
  ip netns exec "$na" iperf3 -c 10.200.1.2 -t "$secs" -f m > "$dir/$d.iperf"
  R[$d.wgcpu]=$(awk -v a="$w0" -v b="$(ticks "${pids[@]}")" -v t="$tck" 'BEGIN { printf "%.2f", (b - a) / t }')
  R[$d.cpu]=$(awk -v a="$m0" -v b="$(busy)" -v t="$tck" 'BEGIN { printf "%.2f", (b - a) / t }')
  wait "$srv" || true
  R[$d.rss2]=$(rss "${pids[@]}")
  R[$d.mbit]=$(awk '/receiver$/ { print $(NF - 2) }' "$dir/$d.iperf")
  R[$d.retr]=$(awk '/sender$/ { print $(NF - 1) }' "$dir/$d.iperf") R[$d.drop]=$(( $(snmp Udp RcvbufErrors) - u0 ))

  t0=$(now)
  for h in "$h1" "$h2"; do
    for dev in $(ip -n "$h" -o link show | awk -F': ' '{ print $2 }' | grep "^$p-${k^^}" || true); do
      ip -n "$h" link del "$dev"; done
  done
  wait_wg_gone "${k^^}" || { echo "$d: wireguard-go still running after its devices went" >&2; exit 1; }
  for ((i = 1; i <= links; i++)); do ip netns del "$p-$k${i}a"; ip netns del "$p-$k${i}b"; done
  R[$d.down]=$(ms "$t0")
}

ip netns add "$h1"; ip netns add "$h2"
ip link add "$p-u1" netns "$h1" type veth peer name "$p-u2" netns "$h2"
ip -n "$h1" addr add "$u1/24" dev "$p-u1"; ip -n "$h1" link set "$p-u1" up
ip -n "$h2" addr add "$u2/24" dev "$p-u2"; ip -n "$h2" link set "$p-u2" up
echo "prefix $p, $links link(s), ${secs}s stream, $(nproc) CPUs, $(wireguard-go --version | head -1)"

for d in base shared per-link; do run "$d"; done

f() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f", a / b }'; }
gb() { awk -v c="$1" -v m="$2" -v s="$secs" 'BEGIN { if (m == 0) print "-"; else printf "%.2f", c / (m * s / 1000) }'; }
row='%-9s %5s %8s %8s %8s %7s %5s %8s %8s %8s %6s %6s %7s %8s %8s %9s %7s\n'
# shellcheck disable=SC2059
printf "$row" design links setup_ms wgo_ms up_ms mtu wg_go rss_kB rss_kB2 Mbit/s retr udpdrop wg_cpu mach_cpu wg_s/Gb \
  mach_s/Gb down_ms
for d in base shared per-link; do
  # shellcheck disable=SC2059
  printf "$row" "$d" "$links" "${R[$d.setup]}" "${R[$d.wgstart]}" "${R[$d.up]}" "${R[$d.mtu]}" "${R[$d.procs]}" \
    "${R[$d.rss]}" "${R[$d.rss2]}" "${R[$d.mbit]}" "${R[$d.retr]}" "${R[$d.drop]}" "${R[$d.wgcpu]}" "${R[$d.cpu]}" \
    "$(gb "${R[$d.wgcpu]}" "${R[$d.mbit]}")" "$(gb "${R[$d.cpu]}" "${R[$d.mbit]}")" "${R[$d.down]}"
done
echo "per-link/shared: up $(f "${R[per-link.up]}" "${R[shared.up]}")x, setup $(f "${R[per-link.setup]}" \
"${R[shared.setup]}")x, rss $(f "${R[per-link.rss]}" "${R[shared.rss]}")x, throughput $(f "${R[per-link.mbit]}" \
"${R[shared.mbit]}")x, machine CPU/Gbit $(f "$(gb "${R[per-link.cpu]}" "${R[per-link.mbit]}")" \
"$(gb "${R[shared.cpu]}" "${R[shared.mbit]}")")x, down $(f "${R[per-link.down]}" "${R[shared.down]}")x"
echo "vs base:  up shared $(f "${R[shared.up]}" "${R[base.up]}")x per-link $(f "${R[per-link.up]}" "${R[base.up]}")x," \
  "throughput shared $(f "${R[shared.mbit]}" "${R[base.mbit]}")x per-link $(f "${R[per-link.mbit]}" "${R[base.mbit]}")x"
