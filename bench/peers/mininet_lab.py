#!/usr/bin/python3
"""The lab benchmark's Mininet peer: N hosts and the given host-to-host links through Mininet's Python API (no
switches, no controller), build() + start() timed, then stop(). Prints one JSON line:
{"peer": "mininet", "nodes": N, "links": L, "build_start_s": ..., "stop_s": ...}.
usage: mininet_lab.py PREFIX LINKS_FILE   (LINKS_FILE: one "A B" pair of host indexes per line)"""
import json
import sys
import time

from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.topo import Topo

setLogLevel("warning")
prefix, links_file = sys.argv[1], sys.argv[2]
pairs = [tuple(int(x) for x in line.split()) for line in open(links_file) if line.strip()]
count = max(max(a, b) for a, b in pairs) + 1



class Lab(Topo):
    """The lab as a Mininet topology: made by build(), so that build() + start() is the whole deployment."""

    def build(self):  # pylint: disable=arguments-differ
        hosts = [self.addHost(f"{prefix}{i}") for i in range(count)]
        for a, b in pairs:
            self.addLink(hosts[a], hosts[b])


net = Mininet(topo=Lab(), build=False, controller=None, autoSetMacs=False, waitConnected=False)
start = time.monotonic()
net.build()
net.start()
built = time.monotonic() - start
start = time.monotonic()
net.stop()
stopped = time.monotonic() - start
print(json.dumps({"peer": "mininet", "nodes": count, "links": len(pairs), "build_start_s": round(built, 3), "stop_s": round(stopped, 3)}))
