#!/usr/bin/env bash
# The lab benchmark's script peer: what a careful `ip` script does to deploy the same lab, one command per object.
# usage: ip_lab.sh PREFIX LINKS_FILE up|down   (LINKS_FILE: one "A B" pair of node indexes per line)
# up: a namespace per node (PREFIX-rI), a veth pair per link straight between the two namespaces under ethN names
# (N counted per node, as the lab file's nodes number their interfaces), both ends set up. down: the namespaces go.
set -euo pipefail
prefix=$1 links=$2 action=$3
nodes=$(awk '{ if ($1 > m) m = $1; if ($2 > m) m = $2 } END { print m + 1 }' "$links")
if [ "$action" = down ]; then
  for ((i = 0; i < nodes; i++)); do ip netns del "$prefix-r$i" 2>/dev/null || true; done
  exit 0
fi
for ((i = 0; i < nodes; i++)); do ip netns add "$prefix-r$i"; done
declare -A next
while read -r a b; do
  ia=$(( ${next[$a]:-0} + 1 )); next[$a]=$ia
  ib=$(( ${next[$b]:-0} + 1 )); next[$b]=$ib
  ip link add "eth$ia" netns "$prefix-r$a" type veth peer name "eth$ib" netns "$prefix-r$b"
  ip -n "$prefix-r$a" link set "eth$ia" up
  ip -n "$prefix-r$b" link set "eth$ib" up
done < "$links"
