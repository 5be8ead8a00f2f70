import { describe, expect, it, vi } from 'vitest';
import { linkDetails, linkRows, summaryText } from './render';
import { lab } from './fixtures';

describe('linkRows', () => {
  it('writes each link’s state as text, its why, and a down/up button that calls back', () => {
    const table = document.createElement('table');
    const body = table.createTBody();
    document.body.append(table);
    const actions = { select: vi.fn(), setState: vi.fn() };
    linkRows(body, lab(), 'h1:eth1-r1:eth2', actions);
    const rows = Array.from(body.rows);
    expect(rows.map((r) => [r.dataset.link, r.dataset.state, r.cells[0].textContent])).toEqual([
      ['r1:eth1-r2:eth1', 'up', '● up'],
      ['h1:eth1-r1:eth2', 'error', '✕ error'],
    ]);
    expect(rows[1].getAttribute('aria-selected')).toBe('true');
    expect(rows[1].cells[2].textContent).toBe('r1:Ethernet2 (eth2) is down');
    rows[0].querySelector<HTMLButtonElement>('button[data-action]')!.click();
    expect(actions.setState).toHaveBeenCalledWith('r1:eth1-r2:eth1', 'down');
    rows[1].querySelector<HTMLButtonElement>('button.linklike')!.click();
    expect(actions.select).toHaveBeenCalledWith('h1:eth1-r1:eth2');
  });

  it('gives the focus back to the same control when the rows are built again', () => {
    const table = document.createElement('table');
    const body = table.createTBody();
    document.body.append(table);
    const actions = { select: vi.fn(), setState: vi.fn() };
    linkRows(body, lab(), null, actions);
    body.rows[1].querySelector<HTMLButtonElement>('button[data-action]')!.focus();
    const next = lab();
    next.links[1].state = 'up';
    linkRows(body, next, null, actions);
    expect((document.activeElement as HTMLElement).closest('tr')!.dataset.link).toBe('h1:eth1-r1:eth2');
    expect((document.activeElement as HTMLElement).dataset.action).toBe('down');
  });

  it('offers set up for a link that is down', () => {
    const body = document.createElement('table').createTBody();
    const view = lab();
    view.links[0].state = 'down';
    linkRows(body, view, null, { select: vi.fn(), setState: vi.fn() });
    expect(body.rows[0].querySelector('button[data-action]')!.textContent).toBe('Set up');
  });
});

describe('details and summary', () => {
  it('shows why, the tag, the MTU and both ends, the missing one as missing', () => {
    const panel = document.createElement('aside');
    const view = lab();
    linkDetails(panel, view.links[1], view.observed, new Date('2026-12-07T01:00:01Z'));
    const text = panel.textContent!;
    expect(text).toContain('r1:Ethernet2 (eth2) is down');
    expect(text).toContain('VLAN tag12');
    expect(text).toContain('MTU9000');
    expect(text).toContain('nothing named eth1 in demo-h1');
    expect(text).toContain('read from the kernel1 s ago');
    expect(panel.querySelectorAll('section.end').length).toBe(2);
  });

  it('sums the links up', () => {
    expect(summaryText(lab())).toBe('3 nodes, 2 links: 1 up, 1 in error');
  });
});
