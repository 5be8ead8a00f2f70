#!/usr/bin/python3
"""Benchmark peer using pyroute2 (Debian bookworm: python3-pyroute2 0.7.x).

Workload (identical across all peers):

  converge: for i in 0..N-1 create named netns {P}{i} (bind mount under
            /run/netns), veth {P}h{i} (host) <-> {P}n{i} (created directly
            inside the namespace), 10.200.x.y/30 on both ends, both ends up,
            lo up inside the namespace.
  observe:  dump host links; per namespace dump links and addresses (all
            families); count {P}h* host links, {P}n{i} links in namespaces and
            IPv4 addresses inside 10.200.0.0/16.
  teardown: delete every namespace like `ip netns del` (umount + unlink); the
            kernel's asynchronous cleanup is not waited for.

Output: one JSON line on stdout.

Run (as root):  /usr/bin/python3 bench/peers/pyroute2_peer.py --n N --prefix P
                     [--ns-mode proxy|setns]

Use Debian's /usr/bin/python3 (it sees python3-pyroute2), not a pyenv python.

API notes for pyroute2 0.7.x:
  * pyroute2.netns.create(name) forks a helper process that unshares and
    bind-mounts the namespace (the iproute2 algorithm, including making
    /run/netns a shared mount); pyroute2.netns.remove(name) does
    umount2(MNT_DETACH) + unlink.
  * IPRoute(netns=...) does not exist in 0.7.x (it arrived in 0.8/0.9). The
    documented way to talk to another namespace is NetNS(name), which forks a
    proxy process that setns()es into the namespace and relays netlink traffic
    over pipes. It must be close()d. That costs a fork per namespace, so
    --ns-mode setns offers the other common idiom: pushns(name); IPRoute();
    popns() -- a netlink socket stays bound to the namespace it was opened in.
  * veth peer straight into a namespace: peer={'ifname': ..., 'net_ns_fd': name};
    pyroute2 opens /var/run/netns/<name> itself.

Debug: BENCH_STOP_BEFORE_TEARDOWN=1 makes the process SIGSTOP itself after
observe (outside the timed phases) so the state can be inspected.
"""

import argparse
import ipaddress
import json
import os
import signal
import sys
import time

from pyroute2 import IPRoute, NetNS
from pyroute2 import netns as pnetns

PEER = "pyroute2"
POOL = ipaddress.ip_network("10.200.0.0/16")

created = []  # namespaces created by this process, for cleanup on failure


def addrs(i):
    base = 4 * i
    hi, lo = base // 256, base % 256
    return f"10.200.{hi}.{lo + 1}", f"10.200.{hi}.{lo + 2}"


NS_MODE = "proxy"


def open_ns(ns):
    """An IPRoute-like object talking to namespace `ns`; caller must close() it.

    proxy (default): NetNS(ns) -- the documented pyroute2 0.7 way; forks a
                     proxy process per namespace.
    setns:           pushns(ns); IPRoute(); popns() -- the netlink socket stays
                     bound to the namespace it was created in; no extra process.
    """
    if NS_MODE == "proxy":
        return NetNS(ns, flags=0)
    pnetns.pushns(ns)
    try:
        return IPRoute()
    finally:
        pnetns.popns()


def converge(ipr, n, p):
    for i in range(n):
        ns, hname, pname = f"{p}{i}", f"{p}h{i}", f"{p}n{i}"
        haddr, naddr = addrs(i)

        pnetns.create(ns)
        created.append(ns)

        ipr.link(
            "add",
            ifname=hname,
            kind="veth",
            peer={"ifname": pname, "net_ns_fd": ns},
        )
        hidx = ipr.link_lookup(ifname=hname)[0]
        ipr.addr("add", index=hidx, address=haddr, prefixlen=30)
        ipr.link("set", index=hidx, state="up")

        nsr = open_ns(ns)
        try:
            pidx = nsr.link_lookup(ifname=pname)
            if not pidx:
                raise RuntimeError(f"{pname} not found in {ns}")
            nsr.addr("add", index=pidx[0], address=naddr, prefixlen=30)
            nsr.link("set", index=pidx[0], state="up")
            loidx = nsr.link_lookup(ifname="lo")[0]
            nsr.link("set", index=loidx, state="up")
        finally:
            nsr.close()


def observe(ipr, n, p):
    hp = p + "h"
    host_links = sum(
        1 for link in ipr.get_links() if (link.get_attr("IFLA_IFNAME") or "").startswith(hp)
    )
    ns_links = 0
    ns_addrs = 0
    for i in range(n):
        ns, want = f"{p}{i}", f"{p}n{i}"
        nsr = open_ns(ns)
        try:
            for link in nsr.get_links():
                if link.get_attr("IFLA_IFNAME") == want:
                    ns_links += 1
            for a in nsr.get_addr():  # family AF_UNSPEC: IPv4 + IPv6
                if a["family"] != 2:  # AF_INET
                    continue
                addr = a.get_attr("IFA_LOCAL") or a.get_attr("IFA_ADDRESS")
                if addr and ipaddress.ip_address(addr) in POOL:
                    ns_addrs += 1
        finally:
            nsr.close()
    return host_links, ns_links, ns_addrs


def teardown():
    errors = []
    remaining = []
    for ns in created:
        try:
            pnetns.remove(ns)
        except Exception as e:  # noqa: BLE001
            errors.append(f"remove({ns}): {e}")
            remaining.append(ns)
    created[:] = remaining
    if errors:
        raise RuntimeError("; ".join(errors))


def vm_hwm():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--prefix", required=True)
    ap.add_argument(
        "--ns-mode",
        choices=("proxy", "setns"),
        default="proxy",
        help="how to reach a namespace: NetNS proxy process (default) or "
        "pushns/IPRoute()/popns",
    )
    args = ap.parse_args()
    n, p = args.n, args.prefix
    global NS_MODE
    NS_MODE = args.ns_mode
    if n <= 0 or not p or len(p) > 6:
        ap.error("need N > 0 and 1 <= len(prefix) <= 6")
    if len(f"{p}h{n - 1}") > 15:
        ap.error("interface names would exceed 15 bytes")
    if 4 * (n - 1) // 256 > 255:
        ap.error("N too large for 10.200.0.0/16")

    ipr = IPRoute()
    try:
        t0 = time.monotonic()
        converge(ipr, n, p)
        converge_s = time.monotonic() - t0

        t1 = time.monotonic()
        host_links, ns_links, ns_addrs = observe(ipr, n, p)
        observe_s = time.monotonic() - t1

        if os.environ.get("BENCH_STOP_BEFORE_TEARDOWN") == "1":
            os.kill(os.getpid(), signal.SIGSTOP)

        t2 = time.monotonic()
        teardown()
        teardown_s = time.monotonic() - t2
    finally:
        ipr.close()

    res = {
        "peer": PEER if NS_MODE == "proxy" else PEER + "-setns",
        "n": n,
        "converge_s": converge_s,
        "observe_s": observe_s,
        "teardown_s": teardown_s,
        "host_links": host_links,
        "ns_links": ns_links,
        "ns_addrs": ns_addrs,
        "peak_rss_kb": vm_hwm(),
    }
    if host_links != n or ns_links != n or ns_addrs != n:
        raise RuntimeError("count mismatch: " + json.dumps(res))
    print(json.dumps(res, separators=(",", ":")), flush=True)


if __name__ == "__main__":
    try:
        main()
    except BaseException as e:  # noqa: BLE001
        if isinstance(e, SystemExit) and e.code in (0, None):
            raise
        if not isinstance(e, SystemExit):
            print(f"pyroute2_peer: {type(e).__name__}: {e}", file=sys.stderr)
        if created:
            try:
                teardown()
            except Exception as ce:  # noqa: BLE001
                print(f"pyroute2_peer: cleanup: {ce}", file=sys.stderr)
        sys.exit(e.code if isinstance(e, SystemExit) and isinstance(e.code, int) else 1)
