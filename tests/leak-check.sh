#!/usr/bin/env bash
# Leak check for the integration tests: every namespace, host link and userspace WireGuard device a test makes is
# named "aet..." (and every mount, and every FRR daemon's runtime directory, under a temp directory named so); no
# PostgreSQL server, ovsdb-server or ovs-vswitchd a test started in a temp directory may still run.
# After the run, none may be left. Namespace deletion frees the links inside (and the host ends of veths whose peer
# was inside) asynchronously in the kernel, so survivors get up to 10 seconds to go before they count as leaks.
# Exit 0 when clean; exit 1 naming every survivor.
set -u

prefix="${AETHER_TEST_PREFIX:-aet}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
deadline=$((SECONDS + ${LEAK_CHECK_TIMEOUT:-10}))

survivors() {
    # Named namespaces: "name" or "name (id: N)".
    ip netns list 2>/dev/null | awk -v p="$prefix" 'index($1, p) == 1 { print "namespace " $1 }'
    # Host links: "N: name@peer: <...>" or "N: name: <...>".
    ip -o link show 2>/dev/null | awk -F': ' -v p="$prefix" '{ split($2, n, "@"); if (index(n[1], p) == 1) print "link " n[1] }'
    # Userspace WireGuard: wireguard-go processes serving a test device (they keep a deleted namespace alive), and
    # UAPI sockets left in /var/run/wireguard.
    for pid in $(pgrep -x wireguard-go 2>/dev/null); do
        [ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" = Z ] && continue
        tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | awk -v p="$prefix" -v pid="$pid" '{ if (index($NF, p) == 1) print "wireguard-go " $NF " (pid " pid ")" }'
    done
    for sock in /var/run/wireguard/"$prefix"*.sock; do
        [ -e "$sock" ] && echo "socket $sock"
    done
    # FRR daemons of the lab tests: zebra and ospfd whose command line points into a test's temp directory (their
    # runtime files) or into this repository's examples (their configuration). A survivor keeps its node's namespace
    # alive and holds routes in it.
    for pid in $(pgrep -x 'zebra|ospfd' 2>/dev/null); do
        [ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" = Z ] && continue
        tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | awk -v t="${TMPDIR:-/tmp}/$prefix" -v e="$repo/examples/" -v pid="$pid" \
            '{ if (index($0, t) > 0 || index($0, e) > 0) print $1 " (pid " pid "): " $0 }'
    done
    # Private Open vSwitch daemons (tests/Shared/PrivateOvs.cs): an ovsdb-server or ovs-vswitchd whose command line
    # points into the temp directory outlived its test (the system's own, under /var/run/openvswitch, is not counted).
    for pid in $(pgrep -x ovsdb-server 2>/dev/null) $(pgrep -x ovs-vswitchd 2>/dev/null); do
        [ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" = Z ] && continue
        tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | awk -v t="${TMPDIR:-/tmp}/" -v pid="$pid" 'index($0, t) > 0 { print "process " $0 "(pid " pid ")" }'
    done
    # Private Docker engines (tests/Shared/PrivateDocker.cs) and podman's containers (the CNI plugin's test): a dockerd,
    # containerd, containerd-shim or conmon whose command line points into the temp directory, and a Docker plugin
    # socket of a test's daemon left in /run/docker/plugins.
    for pid in $(pgrep -x 'dockerd|containerd|containerd-shim|containerd-shim-runc-v2|conmon' 2>/dev/null); do
        [ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" = Z ] && continue
        tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | awk -v t="${TMPDIR:-/tmp}/" -v pid="$pid" 'index($0, t) > 0 { print "process " $0 "(pid " pid ")" }'
    done
    for sock in /run/docker/plugins/"$prefix"*; do
        [ -e "$sock" ] && echo "docker plugin socket $sock"
    done
    # Mounts under the private stand-ins for /run/netns that watcher tests make in the temp directory.
    awk -v t="${TMPDIR:-/tmp}/$prefix" 'index($5, t) == 1 { print "mount " $5 }' /proc/self/mountinfo
    # Private PostgreSQL servers (tests/Shared/PrivatePostgres.cs): a postgres process whose data directory (its
    # working directory: the postmaster and every backend chdir there) is in the temp directory. One line per server.
    for pid in $(pgrep -x postgres 2>/dev/null); do
        [ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" = Z ] && continue
        dir=$(readlink "/proc/$pid/cwd" 2>/dev/null) || continue
        case "$dir" in "${TMPDIR:-/tmp}"/*) echo "postgres server with data directory $dir" ;; esac
    done | sort -u
}

while :; do
    left="$(survivors)"
    if [ -z "$left" ]; then
        echo "leak-check: no '$prefix' namespaces, host links, wireguard-go or FRR processes, UAPI sockets, temp-dir PostgreSQL servers, private OVS or Docker daemons or plugin sockets left"
        exit 0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
        break
    fi
    sleep 0.5
done

echo "leak-check: FAILED: objects named '$prefix*' (or daemons run from the temp directory) survived the tests:" >&2
printf '%s\n' "$left" | sed 's/^/  /' >&2
exit 1
