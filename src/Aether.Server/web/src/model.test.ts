import { describe, expect, it } from 'vitest';
import { age, bytes, elementsOf, endFacts, endName, lookOf, looks, peerRows, tally } from './model';
import { end, lab } from './fixtures';

describe('looks', () => {
  it('gives every state a distinct line style or symbol beside its colour', () => {
    const keys = Object.values(looks).map((l) => `${l.line}/${l.symbol}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(lookOf('error').colour).toBe('#cf222e');
    expect(lookOf('something new').label).toBe('error');
  });
});

describe('elementsOf', () => {
  it('makes a node per lab node and an edge per link with its state in the label', () => {
    const elements = elementsOf(lab());
    expect(elements.filter((e) => e.group === 'nodes').map((e) => e.data.id)).toEqual(['node:r1', 'node:r2', 'node:h1']);
    const edges = elements.filter((e) => e.group === 'edges');
    expect(edges.map((e) => [e.data.source, e.data.target, e.data.state, e.data.label])).toEqual([
      ['node:r1', 'node:r2', 'up', '● up'],
      ['node:r1', 'node:h1', 'error', '✕ error'],
    ]);
    expect(edges[1].data.line).toBe('solid');
    expect(elements[0].data.label).toBe('r1\narista_ceos\nlab1');
    expect(elements[2].data.present).toBe('no');
  });
});

describe('formatting', () => {
  it('names an end with the Linux name only when it differs', () => {
    expect(endName(end('r1', 'Ethernet1', 'eth1', 'x'))).toBe('r1 Ethernet1 (eth1)');
    expect(endName(end('h1', 'eth1', 'eth1', 'x'))).toBe('h1 eth1');
  });

  it('counts links by state', () => {
    expect(tally(lab().links)).toEqual({ up: 1, down: 0, error: 1, creating: 0, pending: 0 });
  });

  it('writes bytes in binary units', () => {
    expect([bytes(0), bytes(1023), bytes(1536), bytes(5 * 1024 * 1024), bytes(-1)]).toEqual(['0 B', '1023 B', '1.5 KiB', '5.0 MiB', '–']);
  });

  it('writes ages from now, and never for none', () => {
    const now = new Date('2026-12-07T01:00:00Z');
    expect([age(null, now), age('2026-12-07T00:59:48Z', now), age('2026-12-07T00:50:00Z', now), age('2026-12-06T20:00:00Z', now), age('2026-12-01T00:00:00Z', now)]).toEqual([
      'never',
      '12 s ago',
      '10 min ago',
      '5 h ago',
      '6 d ago',
    ]);
  });

  it('lists an end’s kernel facts, or says nothing is there', () => {
    const facts = Object.fromEntries(endFacts(end('r1', 'Ethernet1', 'eth1', 'r2:ge-0/0/0')));
    expect(facts).toMatchObject({ names: 'Ethernet1 ↔ eth1', namespace: 'demo-r1', peer: 'r2:ge-0/0/0 (ifindex 4, nsid 0)', carrier: 'yes', mtu: '1500' });
    const missing = Object.fromEntries(endFacts(lab().links[1].b));
    expect(missing.kernel).toBe('nothing named eth1 in demo-h1');
  });

  it('flattens the hub’s peers with handshake age and transfer', () => {
    const now = new Date('2026-12-07T01:00:00Z');
    const hub = {
      backend: 'userspace',
      networks: [
        {
          network: { networkId: 'net1', wgInterface: 'wg0', container: 'c', address: '10.0.0.2/24', networkCidr: '10.0.0.0/24' },
          deviceUp: true,
          listenPort: 51820,
          state: 'active',
          error: null,
          peers: [{ publicKey: 'ABCDEFGHIJKLMNOP=', endpoint: '127.0.0.1:51821', allowedIps: [], latestHandshake: '2026-12-07T00:59:30Z', receivedBytes: 2048, sentBytes: 100, persistentKeepalive: 0 }],
        },
      ],
    };
    expect(peerRows(hub, now)).toEqual([['net1', 'wg0', 'ABCDEFGHIJ…', '127.0.0.1:51821', '30 s ago', '↓ 2.0 KiB ↑ 100 B']]);
    expect(peerRows(null, now)).toEqual([]);
  });
});
