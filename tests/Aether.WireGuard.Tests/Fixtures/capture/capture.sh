#!/usr/bin/env bash
# How the kernel WireGuard fixtures (Fixtures/wg_*.hex) were made, on a machine whose kernel has no WireGuard:
# wg(8) is run with genl-standin.so preloaded, which answers its generic netlink socket as the kernel would and
# records every request it sends. Rerun it to compare a newer wg against the fixtures. Needs gcc and wireguard-tools.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -Wall -shared -fPIC -o "$work/standin.so" "$here/genl-standin.c" -ldl
run() { STANDIN_CAPTURE="$work/capture" STANDIN_REPLY="${REPLY_HEX:-}" LD_PRELOAD="$work/standin.so" wg "$@"; }

key() { python3 -c "import base64,sys; print(base64.b64encode(bytes((int(sys.argv[1],16)+i)&255 for i in range(32))).decode())" "$1"; }
key 10 > "$work/priv"; key 40 > "$work/psk"
peer1=$(key 60); peer2=$(key 80); peer3=$(key a0)

: > "$work/capture"; run show aetfix0 dump || true
echo "get request:";   sed -n 2p "$work/capture"

: > "$work/capture"
run set aetfix0 private-key "$work/priv" listen-port 51820 fwmark 0x2a \
    peer "$peer1" preshared-key "$work/psk" endpoint 10.0.0.2:51820 persistent-keepalive 25 allowed-ips 10.1.0.0/24,fd00::/64 \
    peer "$peer2" remove \
    peer "$peer3" endpoint '[fd00::2]:51821' allowed-ips 10.2.0.1/32
echo "set request:";   sed -n 2p "$work/capture"

printf '[Interface]\nPrivateKey = %s\nListenPort = 51821\n\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.3.0.0/16\n' "$(cat "$work/priv")" "$peer1" > "$work/conf"
: > "$work/capture"; run setconf aetfix0 "$work/conf"
echo "setconf request:"; sed -n 2p "$work/capture"

ips=$(python3 -c "print(','.join(f'10.{i//250}.{i%250}.0/24' for i in range(300)))")
: > "$work/capture"; run set aetfix0 peer "$peer1" endpoint 10.0.0.2:51820 allowed-ips "$ips" peer "$peer3" allowed-ips 10.200.0.1/32
echo "large set request:"; sed -n '2,$p' "$work/capture"

# The get reply is checked the other way: wg reads it and prints what it understood.
REPLY_HEX="$here/../wg_get_reply.hex" run show aetfix0 dump
