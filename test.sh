#!/usr/bin/env bash
# Runs every test: installs what the tests need from Debian when it is missing, builds everything with warnings as
# errors, runs the unit tests and the integration tests (root, real kernel), then checks that no test object
# survived. The last line is always "tests: N passed, N failed, N skipped"; the exit code is non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")"

if [ "$(id -u)" != 0 ]; then
  echo "test.sh: the integration tests create namespaces and links: run as root" >&2
  echo "tests: 0 passed, 1 failed, 0 skipped"
  exit 1
fi

# Debian packages the tests use: iproute2 (ip, the oracle), procps (sysctl, the sysctl oracle), iputils-ping
# (traffic across a topology, inside test namespaces only), nftables (nft, the nftables oracle; it brings
# libnftables1, which Aether's nftables source loads), wireguard-go (the userspace WireGuard where the kernel has
# none) and wireguard-tools (wg, the WireGuard oracle), openvswitch-switch (ovsdb-tool, ovsdb-server and ovs-vswitchd,
# which the OVS tests start privately in a temp directory, and ovs-vsctl, their oracle), gcc with libc6-dev (the
# linker of the native build of the CLI that ./aether publishes and the end-to-end tests run), frr (FRR 8.4's zebra
# and ospfd: the routers of the example lab examples/labs/frr-ospf.yaml, which the lab tests run), postgresql (initdb,
# pg_ctl and psql: the lab store's tests start private PostgreSQL servers in temp directories, psql their oracle;
# Debian keeps the binaries in /usr/lib/postgresql/N/bin, off PATH, so they are looked for there too, as
# tests/Shared/PrivatePostgres.cs does) and sqlite3 (the SQLite oracle of the same tests). --no-install-recommends:
# wireguard-tools recommends a kernel package, which the tests do not need (and gcc only recommends libc6-dev, which
# is named for that reason). docker.io (dockerd 20.10 with containerd and runc: the Docker driver's tests start a
# private dockerd in a temp directory), busybox-static (the rootfs of the image those tests import, since no registry
# is reachable; the dynamic busybox would need a libc in the image) and podman with containernetworking-plugins (the
# CNI plugin's test runs one container through podman with a private root and CNI configuration directory), and
# graphviz (dot, the oracle of `aether graph --format dot`: the CLI tests render its output to SVG and read it back).
# zsh and fish: `aether completion zsh|fish` is loaded into the real shells and asked what completes (bash is there
# already).
need=()
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v sysctl >/dev/null 2>&1 || need+=(procps)
command -v ping >/dev/null 2>&1 || need+=(iputils-ping)
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v wireguard-go >/dev/null 2>&1 || need+=(wireguard-go)
command -v wg >/dev/null 2>&1 || need+=(wireguard-tools)
command -v ovsdb-server >/dev/null 2>&1 || need+=(openvswitch-switch)
./aether --can-link-native || need+=(gcc libc6-dev)
[ -x /usr/lib/frr/zebra ] || need+=(frr)
{ command -v initdb || ls /usr/lib/postgresql/*/bin/initdb; } >/dev/null 2>&1 || need+=(postgresql)
command -v sqlite3 >/dev/null 2>&1 || need+=(sqlite3)
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
command -v podman >/dev/null 2>&1 || need+=(podman)
[ -x /usr/lib/cni/bridge ] || [ -x /usr/lib/cni/loopback ] || need+=(containernetworking-plugins)
command -v dot >/dev/null 2>&1 || need+=(graphviz)
command -v zsh >/dev/null 2>&1 || need+=(zsh)
command -v fish >/dev/null 2>&1 || need+=(fish)
# nodejs and npm build the daemon's web view (src/Aether.Server/web, Vite) and run its unit tests (Vitest); chromium
# is the browser its end-to-end test drives headless through Playwright (by its path: Playwright never downloads one).
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# tcpdump: the capture on the simulated underlay that shows a lab link over transport: wireguard as WireGuard's UDP,
# never its inner ICMP.
command -v tcpdump >/dev/null 2>&1 || need+=(tcpdump)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

# The CLI as people run it (./aether publishes it when the sources are newer): the end-to-end tests run this binary.
# Before the solution's build, which restores the projects the way the tests' build wants them.
if ! ./aether --help >/dev/null; then
  echo "build failed"
  echo "tests: 0 passed, 1 failed, 0 skipped"
  exit 1
fi
export AETHER_CLI="$PWD/.build/aether/aether"

if ! dotnet build Aether.slnx -c Release -nologo -v q; then
  echo "build failed"
  echo "tests: 0 passed, 1 failed, 0 skipped"
  exit 1
fi

status=0
projects=(tests/*/*.csproj)
for csproj in "${projects[@]}"; do
  project=$(dirname "$csproj")
  name=$(basename "$project")
  dotnet test "$project" -c Release --no-build -nologo \
    --logger "trx;LogFileName=$name.trx" --results-directory "$results" || status=1
done

passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  skipped=$((skipped + $(get notExecuted)))
done
if [ "$(ls "$results"/*.trx 2>/dev/null | wc -l)" -lt ${#projects[@]} ]; then
  echo "a test project produced no results"
  failed=$((failed + 1)); status=1
fi

# Leak check: no namespace or link with the tests' prefix, and no private PostgreSQL server, may survive the run.
if ./tests/leak-check.sh; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); status=1
fi

[ "$failed" -gt 0 ] && status=1
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $status
