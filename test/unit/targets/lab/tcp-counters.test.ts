import { describe, expect, it } from 'vitest';
import { parseNetstat } from '../../../../src/targets/lab/tcp-counters.js';

describe('parseNetstat', () => {
  it('pairs each header line with its values line, per section', () => {
    const text = 'TcpExt: SyncookiesSent TCPSynRetrans TW\nTcpExt: 0 265 12\nIpExt: InNoRoutes InOctets\nIpExt: 3 1450584\n';
    expect(parseNetstat(text)).toEqual({
      TcpExtSyncookiesSent: 0,
      TcpExtTCPSynRetrans: 265,
      TcpExtTW: 12,
      IpExtInNoRoutes: 3,
      IpExtInOctets: 1450584,
    });
  });

  it('skips a section whose lines do not pair up', () => {
    expect(parseNetstat('TcpExt: A B\nIpExt: 1 2\n')).toEqual({});
  });
});
