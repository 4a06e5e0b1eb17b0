import { describe, expect, it } from 'vitest';
import { ResponseReader } from '../../../src/load/response-reader.js';

const resp = (body: string, status = 200) => `HTTP/1.1 ${status} OK\r\nServer: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

describe('ResponseReader', () => {
  it('completes a response only when its body has arrived, across chunks', () => {
    const r = new ResponseReader();
    const seen: number[] = [];
    const whole = resp('hello');
    r.feed(Buffer.from(whole.slice(0, 10)), (s) => seen.push(s));
    r.feed(Buffer.from(whole.slice(10, whole.length - 2)), (s) => seen.push(s));
    expect(seen).toEqual([]);
    r.feed(Buffer.from(whole.slice(-2)), (s) => seen.push(s));
    expect(seen).toEqual([200]);
  });

  it('splits pipelined responses and keeps their statuses', () => {
    const r = new ResponseReader();
    const seen: number[] = [];
    r.feed(Buffer.from(resp('a') + resp('', 503) + resp('ccc', 404)), (s) => seen.push(s));
    expect(seen).toEqual([200, 503, 404]);
  });

  it('completes a response without Content-Length at connection end', () => {
    const r = new ResponseReader();
    const seen: number[] = [];
    r.feed(Buffer.from('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\npartial'), (s) => seen.push(s));
    expect(seen).toEqual([]);
    r.end((s) => seen.push(s));
    expect(seen).toEqual([200]);
  });
});

describe('ResponseReader, edge cases', () => {
  it('reads Content-Length in any letter case and a head split inside its name', () => {
    const r = new ResponseReader();
    const seen: number[] = [];
    const whole = 'HTTP/1.1 201 Created\r\ncOnTeNt-LeNgTh: 4\r\n\r\nbody' + resp('x', 204);
    for (let i = 0; i < whole.length; i += 7) r.feed(Buffer.from(whole.slice(i, i + 7)), (s) => seen.push(s));
    expect(seen).toEqual([201, 204]);
  });

  it('completes an empty body at once and keeps a body split byte by byte', () => {
    const r = new ResponseReader();
    const seen: number[] = [];
    r.feed(Buffer.from(resp('')), (s) => seen.push(s));
    expect(seen).toEqual([200]);
    const whole = resp('0123456789', 500);
    for (const ch of whole) r.feed(Buffer.from(ch), (s) => seen.push(s));
    expect(seen).toEqual([200, 500]);
  });
});

describe('ResponseReader on a reused read buffer', () => {
  it('reads only [0, length) and ignores stale bytes after it', () => {
    const r = new ResponseReader();
    const seen: number[] = [];
    const shared = Buffer.alloc(256, 0);
    // Stale bytes that would complete a head and carry a body if they were read.
    shared.write('\r\n\r\nHTTP/1.1 500 X\r\nContent-Length: 0\r\n\r\n', 100, 'latin1');
    const part1 = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n';
    shared.write(part1, 0, 'latin1');
    r.feed(shared, (s) => seen.push(s), part1.length);
    expect(seen).toEqual([]);
    const part2 = '\r\nok';
    shared.fill(0x41, 0, 100);
    shared.write(part2, 0, 'latin1');
    r.feed(shared, (s) => seen.push(s), part2.length);
    expect(seen).toEqual([200]);
  });
});
