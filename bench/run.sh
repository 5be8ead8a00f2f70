#!/usr/bin/env bash
# Builds the benchmark ReadyToRun (as `aether` itself ships) and runs it:
#   bench/run.sh compare [--n 50,200,1000] [--runs 3] [--peers ...]
#   bench/run.sh writer
#   bench/run.sh load [--n 250,1000,4000] [--seconds 4]   (topology files loaded in process; no kernel)
#   bench/run.sh run-footprint [--n 1000] [--seconds 60] [--heal 100] [--trials 30] [--cli PATH]   (needs ./aether built)
#   bench/run.sh lab-hosts [--per-host 30] [--trials 20] [--repairs 20] [--fabric veth|ovs]   (needs ./aether built: .build/aether/aether)
#   bench/run.sh lab-transport [--links 4]   (needs ./aether built, wireguard-go, and iperf3: apt-get install -y --no-install-recommends iperf3)
# The peers need: apt-get install golang-go golang-github-vishvananda-netlink-dev python3-pyroute2 time
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build/bench
dotnet publish bench/Aether.Bench -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$out" -nologo -v q >/dev/null
exec "$out/aether-bench" "$@"
