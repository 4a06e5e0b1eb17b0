import { BlockList, isIP } from 'node:net';
import { badInput } from '../errors.js';

/**
 * Our network rule: load goes only to loopback or into the lab's own namespaces (198.18.0.0/15,
 * RFC 2544's benchmarking range). A load generator pointed at someone else's server is an attack.
 */
const allowed = new BlockList();
allowed.addSubnet('127.0.0.0', 8, 'ipv4');
allowed.addSubnet('198.18.0.0', 15, 'ipv4');
allowed.addAddress('::1', 'ipv6');

export interface LoadUrl {
  host: string;
  port: number;
  /** Path and query, as sent on the request line. */
  path: string;
}

/** Parses and checks a URL for `dpbench load`; names are not resolved, apart from localhost. */
export function parseLoadUrl(text: string): LoadUrl {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw badInput(`not a URL: ${text}`, 'give a full URL, e.g. http://127.0.0.1:8080/');
  }
  if (u.protocol !== 'http:') throw badInput(`only http:// URLs are supported, not ${u.protocol}//`, 'the engine speaks plain HTTP/1.1');
  const name = u.hostname.replace(/^\[|\]$/g, '');
  const host = name === 'localhost' ? '127.0.0.1' : name;
  const family = isIP(host);
  if (!family || !allowed.check(host, family === 6 ? 'ipv6' : 'ipv4')) {
    throw badInput(
      `refusing to send load to ${u.hostname}: dpbench only loads loopback (127.0.0.0/8, ::1) or its lab (198.18.0.0/15)`,
      'start the server on 127.0.0.1, or inside a lab namespace and pass --netns',
    );
  }
  return { host, port: u.port ? Number(u.port) : 80, path: `${u.pathname}${u.search}` };
}
