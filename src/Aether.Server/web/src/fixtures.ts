import type { LabView, LinkEnd } from './model';

export function end(node: string, vendor: string, linux: string, peer: string, up = true): LinkEnd {
  return {
    node,
    vendor,
    linux,
    namespace: `demo-${node}`,
    peer,
    kernel: { index: 3, kind: 'veth', up, carrier: up, operState: up ? 'up' : 'down', mtu: 1500, macAddress: '02:00:00:00:00:01', ours: true },
    peerIndex: 4,
    peerNamespaceId: 0,
  };
}

export function lab(): LabView {
  return {
    lab: 'demo',
    fabric: 'veth',
    observed: '2026-12-07T01:00:00Z',
    runtime: { state: 'running', detail: null, runnerPid: null, since: '2026-12-07T00:59:00Z', lastReport: { trigger: 'resync', at: '2026-12-07T00:59:30Z', up: 1, down: 0, errors: 1, counts: { checked: 2, valid: 1, repaired: 0, errors: 1 } } },
    nodes: [
      { name: 'r1', kind: 'arista_ceos', host: 'lab1', namespace: 'demo-r1', present: true, process: null },
      { name: 'r2', kind: 'juniper_vmx', host: 'lab1', namespace: 'demo-r2', present: true, process: null },
      { name: 'h1', kind: 'linux', host: 'lab1', namespace: 'demo-h1', present: false, process: 'running' },
    ],
    links: [
      { id: 'r1:eth1-r2:eth1', state: 'up', stored: 'up', error: null, vlan: null, vni: null, mtu: null, checked: '2026-12-07T00:59:30Z', a: end('r1', 'Ethernet1', 'eth1', 'r2:ge-0/0/0'), b: end('r2', 'ge-0/0/0', 'eth1', 'r1:Ethernet1') },
      { id: 'h1:eth1-r1:eth2', state: 'error', stored: 'up', error: 'r1:Ethernet2 (eth2) is down', vlan: 12, vni: null, mtu: 9000, checked: null, a: end('r1', 'Ethernet2', 'eth2', 'h1:eth1', false), b: { ...end('h1', 'eth1', 'eth1', 'r1:Ethernet2'), kernel: null, peerIndex: null, peerNamespaceId: null } },
    ],
    error: null,
  };
}
