// The view's tables and panels, built from the daemon's data with DOM calls only (no innerHTML: names and kernel
// messages are text, never markup).
import { age, endFacts, endName, lookOf, peerRows, tally, type LabView, type LinkInfo, type Overview } from './model';

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

/** The state as a badge: symbol and word, coloured; the word is what a screen reader reads. */
export function stateBadge(state: string): HTMLSpanElement {
  const look = lookOf(state);
  const badge = el('span', undefined, `state state-${look.label}`);
  badge.append(el('span', look.symbol, 'symbol'), el('span', ` ${look.label}`));
  badge.querySelector('.symbol')!.setAttribute('aria-hidden', 'true');
  return badge;
}

export interface LinkActions {
  select(id: string): void;
  setState(id: string, state: 'up' | 'down'): void;
}

/** The links table's rows: state, the link (a button that selects it), why, and the down/up button. */
export function linkRows(body: HTMLTableSectionElement, view: LabView, selected: string | null, actions: LinkActions): void {
  // Rows are built again on every change: the focused control gets its focus back in the new row.
  const active = document.activeElement instanceof HTMLElement && body.contains(document.activeElement) ? document.activeElement : null;
  const focusLink = active?.closest('tr')?.dataset.link;
  const focusKind = active?.dataset.action ? 'action' : 'pick';
  body.replaceChildren(
    ...view.links.map((l) => {
      const row = el('tr');
      row.dataset.link = l.id;
      row.dataset.state = l.state;
      if (l.id === selected) row.setAttribute('aria-selected', 'true');
      const state = el('td');
      state.append(stateBadge(l.state));
      const name = el('td');
      const pick = el('button', `${endName(l.a)} ↔ ${endName(l.b)}`, 'linklike');
      pick.type = 'button';
      pick.addEventListener('click', () => actions.select(l.id));
      name.append(pick);
      const why = el('td', l.error ?? '', 'error-text');
      const action = el('td');
      const target = l.state === 'down' ? 'up' : 'down';
      const toggle = el('button', target === 'down' ? 'Set down' : 'Set up');
      toggle.type = 'button';
      toggle.setAttribute('aria-label', `Set link ${l.id} ${target}`);
      toggle.dataset.action = target;
      toggle.disabled = l.state === 'creating' || l.state === 'pending';
      toggle.addEventListener('click', () => actions.setState(l.id, target));
      action.append(toggle);
      row.append(state, name, why, action);
      return row;
    }),
  );
  if (focusLink) {
    const row = Array.from(body.rows).find((r) => r.dataset.link === focusLink);
    row?.querySelector<HTMLButtonElement>(focusKind === 'action' ? 'button[data-action]' : 'button.linklike')?.focus();
  }
}

/** The summary line: counts by state, and the last reconciliation's counts. */
export function summaryText(view: LabView): string {
  const t = tally(view.links);
  const parts = [`${view.nodes.length} nodes`, `${view.links.length} links: ${t.up} up`];
  if (t.down) parts.push(`${t.down} down`);
  if (t.error) parts.push(`${t.error} in error`);
  if (t.creating + t.pending) parts.push(`${t.creating + t.pending} being made`);
  return parts.join(', ');
}

export function runtimeText(view: LabView, now: Date): string {
  const r = view.runtime;
  let text = `fabric ${view.fabric}; kept: ${r.state}${r.detail ? ` (${r.detail})` : ''}`;
  const last = r.lastReport;
  if (last) {
    text += `; last ${last.trigger} ${age(last.at, now)}`;
    if (last.counts) text += `: checked ${last.counts.checked}, valid ${last.counts.valid}, repaired ${last.counts.repaired}, errors ${last.counts.errors}`;
  }
  return text;
}

/** The details panel of one link: state, why, tag or VNI, MTU, last check, and both ends' kernel facts. */
export function linkDetails(panel: HTMLElement, link: LinkInfo | undefined, observed: string, now: Date): void {
  const title = el('h2', 'Details');
  title.id = 'details-title';
  if (!link) {
    panel.replaceChildren(title, el('p', 'Choose a link in the graph or the table.', 'muted'));
    return;
  }
  const head = el('p');
  head.append(stateBadge(link.state), document.createTextNode(` ${link.id}`));
  const facts = el('dl');
  const add = (k: string, v: string) => facts.append(el('dt', k), el('dd', v));
  add('state now', link.state);
  add('state stored', link.stored ?? '–');
  if (link.error) add('why', link.error);
  if (link.vlan != null) add('VLAN tag', String(link.vlan));
  if (link.vni != null) add('VNI', String(link.vni));
  add('MTU', link.mtu != null ? String(link.mtu) : 'kernel default');
  add('read from the kernel', age(observed, now));
  add('last stored check', age(link.checked, now));
  const ends = [link.a, link.b].map((end) => {
    const box = el('section', undefined, 'end');
    box.append(el('h3', endName(end)));
    const dl = el('dl');
    for (const [k, v] of endFacts(end)) dl.append(el('dt', k), el('dd', v));
    box.append(dl);
    return box;
  });
  panel.replaceChildren(title, head, facts, ...ends);
}

/** The loops table: the hub's reconcile loops, then each lab's runtime. */
export function loopRows(body: HTMLTableSectionElement, overview: Overview, now: Date): void {
  const rows: HTMLTableRowElement[] = [];
  for (const loop of overview.status?.loops ?? []) {
    const r = loop.lastReport;
    const row = el('tr');
    row.append(
      el('td', `hub: ${loop.source}`),
      el('td', age(r?.started, now)),
      el('td', r ? `${r.outcome}${r.error ? `: ${r.error}` : ''}` : '–'),
      el('td', String(loop.passes)),
      el('td', r && r.drift.length ? r.drift.join(', ') : 'none'),
    );
    rows.push(row);
  }
  for (const lab of overview.labs ?? []) {
    const r = lab.runtime.lastReport;
    const row = el('tr');
    row.append(
      el('td', `lab ${lab.lab}: ${lab.runtime.state}`),
      el('td', age(r?.at, now)),
      el('td', r ? `${r.trigger}: ${r.up} up, ${r.down} down, ${r.errors} in error` : '–'),
      el('td', r?.counts ? `checked ${r.counts.checked}` : '–'),
      el('td', r?.counts ? `repaired ${r.counts.repaired}` : '–'),
    );
    rows.push(row);
  }
  if (rows.length === 0) {
    const row = el('tr');
    const cell = el('td', 'No loops.', 'muted');
    cell.colSpan = 5;
    row.append(cell);
    rows.push(row);
  }
  body.replaceChildren(...rows);
}

/** The hub table: a row per peer, or per network without peers. */
export function hubRows(body: HTMLTableSectionElement, overview: Overview, now: Date): void {
  const rows = peerRows(overview.hub, now).map((cells) => {
    const row = el('tr');
    row.append(...cells.map((c) => el('td', c)));
    return row;
  });
  for (const net of overview.hub?.networks ?? []) {
    if (net.peers.length === 0) {
      const row = el('tr');
      row.append(el('td', net.network.networkId), el('td', `${net.network.wgInterface} (${net.state}${net.deviceUp ? '' : ', device down'})`), el('td', 'no peers'), el('td', '–'), el('td', '–'), el('td', '–'));
      rows.push(row);
    }
  }
  if (rows.length === 0) {
    const row = el('tr');
    const cell = el('td', overview.hub ? 'No networks.' : 'This daemon runs no hub.', 'muted');
    cell.colSpan = 6;
    row.append(cell);
    rows.push(row);
  }
  body.replaceChildren(...rows);
}
