import { describe, expect, it } from 'vitest';
import { SseParser } from './sse';

describe('SseParser', () => {
  it('reads named events whose lines arrive split across chunks', () => {
    const p = new SseParser();
    expect(p.push('event: lab\ndata: {"a"')).toEqual([]);
    expect(p.push(':1}\n')).toEqual([]);
    expect(p.push('\nevent: overview\ndata: x\n\n')).toEqual([
      { event: 'lab', data: '{"a":1}' },
      { event: 'overview', data: 'x' },
    ]);
  });

  it('skips comments (the keep-alive), joins data lines, defaults the event name', () => {
    const p = new SseParser();
    expect(p.push(': keep-alive\n\ndata: one\ndata: two\n\n')).toEqual([{ event: 'message', data: 'one\ntwo' }]);
  });

  it('takes CRLF and a CR split from its LF', () => {
    const p = new SseParser();
    expect(p.push('event: lab\r\ndata: 1\r')).toEqual([]);
    expect(p.push('\n\r\n')).toEqual([{ event: 'lab', data: '1' }]);
  });

  it('drops an event without data', () => {
    expect(new SseParser().push('event: lab\n\n')).toEqual([]);
  });
});
