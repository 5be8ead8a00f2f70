#!/usr/bin/env bash
# Leak check for the integration tests: every namespace, host link and userspace WireGuard device a test makes is
# named "aet..." (and every mount, under a temp directory named so); private ovsdb-server and ovs-vswitchd processes
# run from a temp directory.
# After the run, none may be left. Namespace deletion frees the links inside (and the host ends of veths whose peer
# was inside) asynchronously in the kernel, so survivors get up to 10 seconds to go before they count as leaks.
# Exit 0 when clean; exit 1 naming every survivor.
set -u

prefix="${AETHER_TEST_PREFIX:-aet}"
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
    # Private Open vSwitch daemons (tests/Shared/PrivateOvs.cs): an ovsdb-server or ovs-vswitchd whose command line
    # points into the temp directory outlived its test (the system's own, under /var/run/openvswitch, is not counted).
    for pid in $(pgrep -x ovsdb-server 2>/dev/null) $(pgrep -x ovs-vswitchd 2>/dev/null); do
        [ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" = Z ] && continue
        tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | awk -v t="${TMPDIR:-/tmp}/" -v pid="$pid" 'index($0, t) > 0 { print "process " $0 "(pid " pid ")" }'
    done
    # Mounts under the private stand-ins for /run/netns that watcher tests make in the temp directory.
    awk -v t="${TMPDIR:-/tmp}/$prefix" 'index($5, t) == 1 { print "mount " $5 }' /proc/self/mountinfo
}

while :; do
    left="$(survivors)"
    if [ -z "$left" ]; then
        echo "leak-check: no '$prefix' namespaces, host links, wireguard-go processes, UAPI sockets or private OVS daemons left"
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
