#!/usr/bin/env bash
# Makes the release tarball aether-VERSION-linux-x64.tar.gz: the CLI as ./aether builds it (the native binary, with
# the daemon's ReadyToRun build in serve/ beside it where a C compiler could link the native one), the systemd units,
# shell completions and the man page (written by the CLI), the README and the LICENSE, laid out as under
# /usr/local, so that
#
#   tar -C /usr/local --strip-components=1 -xzf aether-VERSION-linux-x64.tar.gz
#
# installs it: bin/aether (a link to lib/aether/aether), lib/aether/, lib/systemd/system/ (a directory systemd reads
# units from), share/bash-completion/completions/aether, share/zsh/site-functions/_aether,
# share/fish/vendor_completions.d/aether.fish, share/man/man1/aether.1, share/doc/aether/, and
# share/aether/iproute2/rt_protos.d/aether.conf (copy it to /etc/iproute2/rt_protos.d/ for "proto aether").
#
#   dist/release.sh [--out DIR] [--build-dir DIR]
#
#   --out DIR        where the tarball goes (default: .build/release)
#   --build-dir DIR  package this build of the CLI (a directory with its `aether`) instead of the one ./aether makes
#                    (.build/aether, built first when it is missing or older than the sources)
#
# VERSION is the one the binary reports (`aether --version`, from the git tags: docs/build.md), without its build
# metadata. The last line of the output is the tarball's path.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

out="$root/.build/release"
build=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="${2:?--out needs a directory}"; shift 2 ;;
    --build-dir) build="${2:?--build-dir needs a directory}"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "release: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

if [ -z "$build" ]; then
  "$root/aether" --version >/dev/null # builds .build/aether when it is missing or stale (and says so on stderr)
  build="$root/.build/aether"
fi
bin="$build/aether"
if [ ! -x "$bin" ]; then
  echo "release: no executable aether in $build" >&2
  exit 1
fi

full=$("$bin" --version)
version="${full%%+*}"
if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
  echo "release: '$bin --version' printed '$full', not a version" >&2
  exit 1
fi
name="aether-$version-linux-x64"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
top="$stage/$name"
mkdir -p "$top/bin" "$top/lib" "$top/share/doc/aether"

# The CLI with everything published beside it (serve/, libe_sqlite3.so, ...), but its debug symbols (aether.dbg,
# *.pdb: about 30 MB) and the libraries' XML documentation, which nothing reads at run time.
cp -a "$build" "$top/lib/aether"
find "$top/lib/aether" -type f \( -name '*.dbg' -o -name '*.pdb' -o -name '*.xml' \) -delete
ln -s ../lib/aether/aether "$top/bin/aether"

# The systemd units and the iproute2 name of Aether's route protocol (to copy to /etc/iproute2/rt_protos.d/).
mkdir -p "$top/lib/systemd/system" "$top/share/aether/iproute2/rt_protos.d"
cp "$root"/dist/systemd/*.service "$root"/dist/systemd/*.socket "$top/lib/systemd/system/"
cp "$root"/dist/iproute2/rt_protos.d/aether.conf "$top/share/aether/iproute2/rt_protos.d/"

# Shell completions and aether(1), written by the CLI from its own command tree.
mkdir -p "$top/share/bash-completion/completions" "$top/share/zsh/site-functions" "$top/share/fish/vendor_completions.d" "$top/share/man/man1"
"$bin" completion bash >"$top/share/bash-completion/completions/aether"
"$bin" completion zsh >"$top/share/zsh/site-functions/_aether"
"$bin" completion fish >"$top/share/fish/vendor_completions.d/aether.fish"
"$bin" __man "$version" >"$top/share/man/man1/aether.1"

cp "$root/README.md" "$root/LICENSE" "$top/share/doc/aether/"

mkdir -p "$out"
tarball="$(cd "$out" && pwd)/$name.tar.gz"
tar -C "$stage" --owner=0 --group=0 --numeric-owner -czf "$tarball" "$name"
echo "$tarball"
