#!/bin/bash
# run-frr.sh CONF_DIR [RUN_DIR]: runs FRR 8.4's zebra and ospfd for one lab router, in the foreground, with the
# configuration CONF_DIR/frr.conf, until either daemon exits or this script gets SIGTERM/SIGINT (then both are stopped).
# Its exit status is the status of the daemon that exited first (143 after SIGTERM, 130 after SIGINT).
#
# Meant to be a lab node's supervised process (examples/labs/frr-ospf.yaml): started inside the node's network
# namespace, its output is the node's log. Several routers run on one host beside the system's own FRR, so each run
# keeps its runtime files in RUN_DIR (default: a new directory under ${TMPDIR:-/tmp}, removed at the end; a RUN_DIR
# given here is kept, so `vtysh --vty_socket RUN_DIR` can be pointed at the router):
#   --vty_socket   the directory of the daemons' vty sockets;
#   -z             zebra's zserv socket, where ospfd finds this router's zebra and no other;
#   -i             the pid files (FRR locks them: a shared one would stop the second router);
#   -f             the configuration, read by both daemons: each applies its own lines and logs the others' as
#                  "No such command" (zebra the OSPF lines, ospfd the addresses);
#   -u frr -g frr  the Debian package's user and group, FRR's default, said out loud: the daemons drop to them, keeping
#                  only the capabilities they need (root is refused: it is not in the vty group, frrvty);
#   -P 0           no vty TCP port: the socket is enough;
#   --log stdout   log lines to standard output, which is the node's log.
# What has no option is private too: FRR 8.4's ospfd reads and rewrites /var/run/frr/ospfd-gr.json (its
# graceful-restart state) whatever the pathspace (-N) says, so the script runs in a mount namespace of its own
# (unshare --mount, propagation slave: nothing mounted here is seen outside, and namespaces deleted outside go here too)
# where RUN_DIR is bind-mounted on /var/run/frr. Where that cannot be done (no CAP_SYS_ADMIN, no /var/run/frr), it
# says so and goes on with -N aether-PID (the pathspace keeps FRR's default paths apart, not that file).
# Relative paths are resolved against the working directory, which the lab engine sets to the lab file's directory.
set -u

usage="usage: run-frr.sh CONF_DIR [RUN_DIR]"
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "$usage" >&2; exit 2; }
conf_dir=$(cd "$1" 2>/dev/null && pwd) || { echo "run-frr.sh: no directory $1" >&2; exit 2; }
conf="$conf_dir/frr.conf"
[ -r "$conf" ] || { echo "run-frr.sh: cannot read $conf" >&2; exit 2; }
sbin=${FRR_SBIN:-/usr/lib/frr}

# Into a private mount namespace first: unshare execs this script again, in place (same pid).
if [ "${RUN_FRR_MOUNTS:-}" = "" ]; then
    if unshare --mount --propagation slave true 2>/dev/null; then
        RUN_FRR_MOUNTS=private exec unshare --mount --propagation slave -- "$0" "$@"
    fi
    echo "run-frr.sh: no private mount namespace (unshare --mount failed): /var/run/frr/ospfd-gr.json is shared" >&2
    RUN_FRR_MOUNTS=shared
fi
made_run_dir=
if [ $# -ge 2 ]; then
    mkdir -p "$2" && run_dir=$(cd "$2" && pwd) || exit 1
else
    run_dir=$(mktemp -d "${TMPDIR:-/tmp}/frr.XXXXXX") || exit 1
    made_run_dir=1
fi
fail() {
    echo "run-frr.sh: $1" >&2
    [ -n "$made_run_dir" ] && rm -rf "$run_dir"
    exit 1
}
# The daemons write their sockets and pid files as user frr. A socket or pid file left by a run that was killed is
# removed (ospfd must not find an old zserv socket before zebra has made the new one).
chown frr:frr "$run_dir" || fail "cannot give $run_dir to user frr"
if command -v runuser >/dev/null; then
    runuser -u frr -- test -r "$conf" || fail "user frr cannot read $conf"
    runuser -u frr -- test -w "$run_dir" -a -x "$run_dir" ||
        fail "user frr cannot write in $run_dir (is a directory above it private?)"
fi
rm -f "$run_dir/zserv.api" "$run_dir/zebra.vty" "$run_dir/ospfd.vty" "$run_dir/zebra.pid" "$run_dir/ospfd.pid"

common=(-f "$conf" --vty_socket "$run_dir" -z "$run_dir/zserv.api" -u frr -g frr -P 0 --log stdout)
if [ "$RUN_FRR_MOUNTS" = private ] && ! { [ -d /var/run/frr ] && mount --bind "$run_dir" /var/run/frr; }; then
    echo "run-frr.sh: cannot bind $run_dir on /var/run/frr: /var/run/frr/ospfd-gr.json is shared" >&2
    RUN_FRR_MOUNTS=shared
fi
[ "$RUN_FRR_MOUNTS" = shared ] && common=(-N "aether-$$" "${common[@]}")

zebra_pid=
ospfd_pid=
stop() {
    trap '' TERM INT
    local pids=($zebra_pid $ospfd_pid)
    if [ ${#pids[@]} -gt 0 ]; then
        kill -TERM "${pids[@]}" 2>/dev/null
        wait "${pids[@]}" 2>/dev/null
    fi
    [ "$RUN_FRR_MOUNTS" = shared ] && rm -rf "/var/run/frr/aether-$$"
    [ -n "$made_run_dir" ] && rm -rf "$run_dir"
}
trap 'stop; exit 143' TERM
trap 'stop; exit 130' INT

echo "run-frr.sh: $conf, runtime files in $run_dir ($RUN_FRR_MOUNTS mounts)"
"$sbin/zebra" "${common[@]}" -i "$run_dir/zebra.pid" &
zebra_pid=$!

# ospfd would retry until zebra listens, but logs each failure: start it once zebra's socket is there (5 s at most).
for _ in $(seq 100); do
    [ -S "$run_dir/zserv.api" ] && break
    kill -0 "$zebra_pid" 2>/dev/null || break
    sleep 0.05
done
"$sbin/ospfd" "${common[@]}" -i "$run_dir/ospfd.pid" &
ospfd_pid=$!

# The first of the two to exit ends the router: its supervisor restarts the whole of it.
wait -n "$zebra_pid" "$ospfd_pid"
status=$?
echo "run-frr.sh: a daemon exited with status $status; stopping the other"
stop
exit "$status"
