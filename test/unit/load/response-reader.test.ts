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
