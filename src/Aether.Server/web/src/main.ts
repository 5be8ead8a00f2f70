// The page: token, the event stream, and the wiring between the data and what is drawn.
import './style.css';
import { LabGraph } from './graph';
import type { LabView, Overview } from './model';
import { hubRows, linkDetails, linkRows, loopRows, runtimeText, summaryText } from './render';
import { HttpError, stream } from './sse';

const TOKEN_KEY = 'aether-token';
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

let lab: string | null = new URLSearchParams(location.hash.slice(1)).get('lab');
let view: LabView | null = null;
let overview: Overview | null = null;
let selected: string | null = null;
let abort: AbortController | null = null;
let graph: LabGraph | null = null;

function headers(): Record<string, string> {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

function status(text: string): void {
  $('connection').textContent = text;
}

async function call(method: string, url: string, body?: unknown): Promise<unknown> {
  const response = await fetch(url, {
    method,
    headers: { ...headers(), ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (response.status === 401) askToken('the token was refused');
  if (!response.ok) {
    let detail = text;
    try {
      detail = (JSON.parse(text) as { detail?: string }).detail ?? text;
    } catch {
      // not JSON
    }
    throw new Error(`${response.status}: ${detail}`);
  }
  return text ? JSON.parse(text) : null;
}

function askToken(why?: string): void {
  abort?.abort();
  $('app').hidden = true;
  $('token-form').hidden = false;
  $('token-error').textContent = why ?? '';
  status('needs a token');
  $<HTMLInputElement>('token').focus();
}

function connect(): void {
  abort?.abort();
  const controller = new AbortController();
  abort = controller;
  const url = '/v1/ui/events' + (lab ? `?lab=${encodeURIComponent(lab)}` : '');
  status('connecting…');
  stream(url, headers(), controller.signal, (e) => {
    status('live');
    if (e.event === 'overview') onOverview(JSON.parse(e.data) as Overview);
    else if (e.event === 'lab') onLab(JSON.parse(e.data) as LabView);
  })
    .then(() => retry(controller))
    .catch((error: unknown) => {
      if (controller.signal.aborted) return;
      if (error instanceof HttpError && error.status === 401) {
        sessionStorage.removeItem(TOKEN_KEY);
        askToken(headers().Authorization ? 'the token was refused' : undefined);
        return;
      }
      retry(controller);
    });
}

function retry(controller: AbortController): void {
  if (controller.signal.aborted) return;
  status('disconnected: trying again in 1 s');
  setTimeout(() => {
    if (!controller.signal.aborted) connect();
  }, 1000);
}

function onOverview(next: Overview): void {
  overview = next;
  $('app').hidden = false;
  $('token-form').hidden = true;
  const now = new Date();
  if (next.status) $('daemon').textContent = `version ${next.status.version}`;
  const list = $<HTMLUListElement>('labs');
  const labs = next.labs ?? [];
  list.replaceChildren(
    ...labs.map((l) => {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = `${l.lab} (${l.up}/${l.links} up${l.errors ? `, ${l.errors} in error` : ''})`;
      if (l.lab === lab) button.setAttribute('aria-current', 'true');
      button.addEventListener('click', () => choose(l.lab));
      item.append(button);
      return item;
    }),
  );
  $('no-labs').hidden = labs.length > 0;
  $('lab').hidden = !lab;
  if (!lab && labs.length > 0) choose(labs[0].lab);
  loopRows($<HTMLTableElement>('loops').tBodies[0], next, now);
  hubRows($<HTMLTableElement>('hub').tBodies[0], next, now);
}

function choose(name: string): void {
  if (name === lab && abort) return;
  lab = name;
  view = null;
  selected = null;
  history.replaceState(null, '', `#lab=${encodeURIComponent(name)}`);
  $('lab').hidden = false;
  if (overview) onOverview(overview);
  connect();
}

function onLab(next: LabView): void {
  if (next.lab !== lab) return;
  view = next;
  const now = new Date();
  $('lab-title').textContent = `Lab ${next.lab}`;
  $('lab-summary').textContent = next.error ? `cannot read the lab: ${next.error}` : summaryText(next);
  $('lab-runtime').textContent = runtimeText(next, now);
  graph ??= new LabGraph($('graph'), select);
  graph.update(next);
  graph.select(selected);
  linkRows($<HTMLTableElement>('links').tBodies[0], next, selected, { select, setState });
  linkDetails($('details'), next.links.find((l) => l.id === selected), next.observed, now);
  $('graph').dataset.states = JSON.stringify(graph.states());
  $('graph').dataset.nodes = graph.nodes().join(',');
}

function select(id: string): void {
  selected = id;
  if (view) onLab(view);
}

async function setState(id: string, state: 'up' | 'down'): Promise<void> {
  if (!lab) return;
  $('action-status').textContent = `setting ${id} ${state}…`;
  try {
    await call('PATCH', `/v1/labs/${encodeURIComponent(lab)}/links/${encodeURIComponent(id)}`, { state });
    $('action-status').textContent = `${id} set ${state}`;
  } catch (error) {
    $('action-status').textContent = `could not set ${id} ${state}: ${(error as Error).message}`;
  }
}

async function reconcile(): Promise<void> {
  if (!lab) return;
  $('action-status').textContent = `reconciling ${lab}…`;
  try {
    const result = (await call('POST', `/v1/labs/${encodeURIComponent(lab)}/links/reconcile`)) as { counts: { checked: number; valid: number; repaired: number; errors: number } };
    const c = result.counts;
    $('action-status').textContent = `reconciled: checked ${c.checked}, valid ${c.valid}, repaired ${c.repaired}, errors ${c.errors}`;
  } catch (error) {
    $('action-status').textContent = `could not reconcile: ${(error as Error).message}`;
  }
}

$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $<HTMLInputElement>('token').value.trim());
  $<HTMLInputElement>('token').value = '';
  $('token-form').hidden = true;
  connect();
});
$('reconcile').addEventListener('click', () => void reconcile());
window.addEventListener('resize', () => graph?.resize());
$('lab').hidden = true;
connect();
