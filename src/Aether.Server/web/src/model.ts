// What the daemon sends (/v1/ui/labs/{lab}, the `lab` and `overview` events) and how the view shows it. Pure: no DOM.

export type LinkStateName = 'up' | 'down' | 'error' | 'creating' | 'pending';

export interface KernelInterface {
  index: number;
  kind: string | null;
  up: boolean;
  carrier: boolean;
  operState: string | null;
  mtu: number | null;
  macAddress: string | null;
  ours: boolean;
}

export interface LinkEnd {
  node: string;
  vendor: string;
  linux: string;
  namespace: string;
  peer: string;
  kernel: KernelInterface | null;
  peerIndex: number | null;
  peerNamespaceId: number | null;
}

export interface LinkInfo {
  id: string;
  state: LinkStateName;
  stored: string | null;
  error: string | null;
  vlan: number | null;
  vni: number | null;
  mtu: number | null;
  checked: string | null;
  a: LinkEnd;
  b: LinkEnd;
}

export interface NodeInfo {
  name: string;
  kind: string;
  host: string;
  namespace: string;
  present: boolean;
  process: string | null;
}

export interface Counts {
  checked: number;
  valid: number;
  repaired: number;
  errors: number;
}

export interface RuntimeInfo {
  state: string;
  detail: string | null;
  runnerPid: number | null;
  since: string;
  lastReport: { trigger: string; at: string; up: number; down: number; errors: number; counts: Counts | null } | null;
}

export interface LabView {
  lab: string;
  fabric: string;
  observed: string;
  runtime: RuntimeInfo;
  nodes: NodeInfo[];
  links: LinkInfo[];
  error: string | null;
}

export interface LabSummary {
  lab: string;
  fabric: string;
  nodes: number;
  links: number;
  up: number;
  down: number;
  errors: number;
  runtime: RuntimeInfo;
}

export interface LoopReport {
  passId: number;
  outcome: string;
  started: string;
  durationMs: number;
  drift: string[];
  applied: string[];
  pending: string[];
  error: string | null;
}

export interface LoopStatus {
  source: string;
  running: boolean;
  passes: number;
  consecutiveFailures: number;
  lastSuccess: string | null;
  nextPass: string | null;
  lastReport: LoopReport | null;
}

export interface HubPeer {
  publicKey: string;
  endpoint: string | null;
  allowedIps: string[];
  latestHandshake: string | null;
  receivedBytes: number;
  sentBytes: number;
  persistentKeepalive: number;
}

export interface HubNetwork {
  network: { networkId: string; wgInterface: string; container: string; address: string; networkCidr: string };
  deviceUp: boolean;
  listenPort: number;
  peers: HubPeer[];
  error: string | null;
  state: string;
}

export interface Overview {
  labs: LabSummary[] | null;
  status: { version: string; loops?: LoopStatus[]; [key: string]: unknown } | null;
  hub: { backend: string; networks: HubNetwork[] } | null;
  error: string | null;
}

/** How a state is drawn: colour, line style and a symbol, so that colour is never the only signal. */
export interface StateLook {
  colour: string;
  line: 'solid' | 'dashed' | 'dotted';
  symbol: string;
  label: string;
}

export const looks: Record<LinkStateName, StateLook> = {
  up: { colour: '#1a7f37', line: 'solid', symbol: '●', label: 'up' },
  creating: { colour: '#9a6700', line: 'dashed', symbol: '◐', label: 'creating' },
  pending: { colour: '#9a6700', line: 'dashed', symbol: '○', label: 'pending' },
  error: { colour: '#cf222e', line: 'solid', symbol: '✕', label: 'error' },
  down: { colour: '#57606a', line: 'dotted', symbol: '▽', label: 'down' },
};

export function lookOf(state: string): StateLook {
  return (looks as Record<string, StateLook>)[state] ?? looks.error;
}

/** One end as people read it: `r1 Ethernet1 (eth1)`, the Linux name only when it differs. */
export function endName(end: LinkEnd): string {
  return end.vendor === end.linux ? `${end.node} ${end.vendor}` : `${end.node} ${end.vendor} (${end.linux})`;
}

/** The graph's elements: a node per lab node, an edge per link, each with its state and label. */
export interface GraphElement {
  group: 'nodes' | 'edges';
  data: Record<string, string | number | null>;
}

export function elementsOf(view: LabView): GraphElement[] {
  const nodes: GraphElement[] = view.nodes.map((n) => ({
    group: 'nodes',
    data: { id: `node:${n.name}`, name: n.name, label: `${n.name}\n${n.kind}\n${n.host}`, present: n.present ? 'yes' : 'no' },
  }));
  const edges: GraphElement[] = view.links.map((l) => {
    const look = lookOf(l.state);
    return {
      group: 'edges',
      data: {
        id: `link:${l.id}`,
        link: l.id,
        source: `node:${l.a.node}`,
        target: `node:${l.b.node}`,
        state: l.state,
        colour: look.colour,
        line: look.line,
        label: `${look.symbol} ${look.label}`,
        sourceLabel: l.a.vendor,
        targetLabel: l.b.vendor,
      },
    };
  });
  return [...nodes, ...edges];
}

/** Counts of links by state, for the summary line. */
export function tally(links: LinkInfo[]): Record<LinkStateName, number> {
  const counts: Record<LinkStateName, number> = { up: 0, down: 0, error: 0, creating: 0, pending: 0 };
  for (const l of links) {
    const key = (l.state in counts ? l.state : 'error') as LinkStateName;
    counts[key] += 1;
  }
  return counts;
}

/** Bytes in binary units: 0 B, 1.5 KiB, 3.2 MiB. */
export function bytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** How long ago `iso` was, from `now`: `never`, `12 s ago`, `3 min ago`, `2 h ago`, `4 d ago`. */
export function age(iso: string | null | undefined, now: Date): string {
  if (!iso) return 'never';
  const then = Date.parse(iso);
  if (Number.isNaN(then) || then <= 0) return 'never';
  const seconds = Math.max(0, Math.round((now.getTime() - then) / 1000));
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}

/** The facts of one end, as label/value rows for the details panel. */
export function endFacts(end: LinkEnd): [string, string][] {
  const k = end.kernel;
  const rows: [string, string][] = [
    ['names', end.vendor === end.linux ? end.linux : `${end.vendor} ↔ ${end.linux}`],
    ['namespace', end.namespace],
    ['peer', end.peer + (end.peerIndex != null ? ` (ifindex ${end.peerIndex}${end.peerNamespaceId != null ? `, nsid ${end.peerNamespaceId}` : ''})` : '')],
  ];
  if (!k) {
    rows.push(['kernel', `nothing named ${end.linux} in ${end.namespace}`]);
    return rows;
  }
  rows.push(['ifindex', String(k.index)]);
  rows.push(['kind', k.kind ?? '–']);
  rows.push(['admin', k.up ? 'up' : 'down']);
  rows.push(['carrier', k.carrier ? 'yes' : 'no']);
  rows.push(['operstate', k.operState ?? '–']);
  rows.push(['mtu', k.mtu != null ? String(k.mtu) : '–']);
  rows.push(['mac', k.macAddress ?? '–']);
  rows.push(['lab mark', k.ours ? 'yes' : 'no (not the lab’s)']);
  return rows;
}

/** The hub's peers flattened for the table: network, device, key (short), endpoint, handshake age, transfer. */
export function peerRows(hub: Overview['hub'], now: Date): string[][] {
  if (!hub) return [];
  const rows: string[][] = [];
  for (const net of hub.networks) {
    for (const p of net.peers ?? []) {
      rows.push([
        net.network.networkId,
        net.network.wgInterface,
        `${p.publicKey.slice(0, 10)}…`,
        p.endpoint ?? '–',
        age(p.latestHandshake, now),
        `↓ ${bytes(p.receivedBytes)} ↑ ${bytes(p.sentBytes)}`,
      ]);
    }
  }
  return rows;
}
