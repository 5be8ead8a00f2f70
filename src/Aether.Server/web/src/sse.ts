// A server-sent event stream read with fetch (EventSource cannot send the Authorization header, and the token never
// goes in a URL). The parser is the WHATWG one for the fields the daemon sends: event, data, comments.

export interface SseEvent {
  event: string;
  data: string;
}

/** Feeds text as it arrives; returns the events completed so far. Keeps what is incomplete for the next chunk. */
export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];

  push(chunk: string): SseEvent[] {
    this.buffer += chunk;
    const out: SseEvent[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      if (!match) break;
      // A lone \r at the end may be the start of \r\n: wait for more.
      if (match[0] === '\r' && match.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      if (line === '') {
        if (this.data.length > 0) out.push({ event: this.event || 'message', data: this.data.join('\n') });
        this.event = '';
        this.data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') this.event = value;
      else if (field === 'data') this.data.push(value);
    }
    return out;
  }
}

/** Reads `url` as an event stream until `signal` aborts or the server ends it; throws on an HTTP error. */
export async function stream(url: string, headers: Record<string, string>, signal: AbortSignal, onEvent: (e: SseEvent) => void): Promise<void> {
  const response = await fetch(url, { headers: { ...headers, Accept: 'text/event-stream' }, signal, cache: 'no-store' });
  if (!response.ok || !response.body) {
    throw new HttpError(response.status, await response.text().catch(() => ''));
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    for (const e of parser.push(value)) onEvent(e);
  }
}

export class HttpError extends Error {
  constructor(
    public readonly status: number,
    public readonly body: string,
  ) {
    super(`HTTP ${status}`);
  }
}
