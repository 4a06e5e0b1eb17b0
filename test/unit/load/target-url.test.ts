import { describe, expect, it } from 'vitest';
import { DpbenchError } from '../../../src/errors.js';
import { parseLoadUrl } from '../../../src/load/target-url.js';

describe('parseLoadUrl', () => {
  it('accepts loopback and the lab range, with path and query', () => {
    expect(parseLoadUrl('http://127.0.0.1:8080/a?b=1')).toEqual({ host: '127.0.0.1', port: 8080, path: '/a?b=1' });
    expect(parseLoadUrl('http://127.9.9.9/')).toEqual({ host: '127.9.9.9', port: 80, path: '/' });
    expect(parseLoadUrl('http://localhost:1/').host).toBe('127.0.0.1');
    expect(parseLoadUrl('http://[::1]:9/').host).toBe('::1');
    expect(parseLoadUrl('http://198.18.1.2:8080/').host).toBe('198.18.1.2');
    expect(parseLoadUrl('http://198.19.255.254:80/').host).toBe('198.19.255.254');
  });

  it.each([
    'http://10.0.0.1/', 'http://198.17.255.255/', 'http://198.20.0.0/', 'http://128.0.0.1/', 'http://example.com/',
    'http://[::2]/', 'https://127.0.0.1/', 'not a url',
  ])('refuses %s with BAD_INPUT', (u) => {
    let e: unknown;
    try {
      parseLoadUrl(u);
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(DpbenchError);
    expect((e as DpbenchError).code).toBe('BAD_INPUT');
  });
});
