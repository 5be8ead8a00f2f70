#!/usr/bin/env bash
# Build the Go netlink benchmark peer in GOPATH mode against the Debian-packaged
# sources (no network access / no `go get` needed).
#
#   apt-get install golang-go golang-github-vishvananda-netlink-dev
#   bench/peers/go/build.sh [OUTPUT]     (default: bench/peers/go/gonetlink-bench)
#
# golang-github-vishvananda-netlink-dev pulls in golang-github-vishvananda-netns-dev
# and golang-golang-x-sys-dev, all installed under /usr/share/gocode/src.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/gonetlink-bench}"
gopath_src="${DEBIAN_GOPATH:-/usr/share/gocode}"

if ! command -v go >/dev/null 2>&1; then
    echo "build.sh: 'go' not found; install it with: apt-get install golang-go" >&2
    exit 1
fi

missing=()
for pkg in github.com/vishvananda/netlink github.com/vishvananda/netns golang.org/x/sys/unix; do
    [[ -d "$gopath_src/src/$pkg" ]] || missing+=("$pkg")
done
if ((${#missing[@]})); then
    echo "build.sh: Go packages missing under $gopath_src/src: ${missing[*]}" >&2
    echo "build.sh: install them with: apt-get install golang-github-vishvananda-netlink-dev" \
         "golang-github-vishvananda-netns-dev golang-golang-x-sys-dev" >&2
    exit 1
fi

mkdir -p "$(dirname "$out")"
# GOPATH mode: modules off, no proxy, no network. A private GOCACHE keeps the
# build independent of $HOME.
export GO111MODULE=off
export GOPATH="$gopath_src"
export GOFLAGS=
export GOPROXY=off
export CGO_ENABLED=0
export GOCACHE="${GOCACHE:-${TMPDIR:-/tmp}/gonetlink-bench-gocache}"

cd "$here"
go build -trimpath -o "$out" main.go
echo "built $out ($(go version))" >&2
