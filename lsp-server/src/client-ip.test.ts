import { describe, expect, it } from 'vitest';
import { TrustedProxies, trustedProxyProblem } from './client-ip.ts';
import { ConfigError, loadConfig } from './config.ts';

describe('the client address behind trusted proxies', () => {
  const proxies = new TrustedProxies(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);

  it('an untrusted peer is the client, whatever it writes in X-Forwarded-For', () => {
    expect(proxies.clientAddress('198.51.100.4', '203.0.113.9')).toBe('198.51.100.4');
    expect(new TrustedProxies([]).clientAddress('127.0.0.1', '203.0.113.9')).toBe('127.0.0.1');
  });

  it('through trusted proxies: the right-most hop that is not one of them', () => {
    expect(proxies.clientAddress('127.0.0.1', '203.0.113.9')).toBe('203.0.113.9');
    // the left hop was written by the client; the right one by our proxy
    expect(proxies.clientAddress('127.0.0.1', '1.2.3.4, 203.0.113.9')).toBe('203.0.113.9');
    // a CDN-like chain: two of our proxies, then the client
    expect(proxies.clientAddress('::ffff:127.0.0.1', '1.2.3.4,203.0.113.9, 10.1.2.3')).toBe('203.0.113.9');
    expect(proxies.clientAddress('127.0.0.1', '2001:DB8::1')).toBe('2001:db8::1');
  });

  it('no header, an all-trusted chain, or a hop that is not an address: the nearest trusted hop', () => {
    expect(proxies.clientAddress('::ffff:127.0.0.1', undefined)).toBe('127.0.0.1');
    expect(proxies.clientAddress('127.0.0.1', '10.0.0.2')).toBe('10.0.0.2');
    expect(proxies.clientAddress('127.0.0.1', 'evil, 10.0.0.2')).toBe('10.0.0.2');
    expect(proxies.clientAddress('127.0.0.1', '203.0.113.9:4444')).toBe('127.0.0.1');
  });

  it('TRUSTED_PROXIES takes addresses and CIDRs, and names a bad entry', () => {
    expect(loadConfig({}).trustedProxies).toEqual([]);
    expect(loadConfig({ TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8,::1' }).trustedProxies).toEqual([
      '127.0.0.1',
      '10.0.0.0/8',
      '::1',
    ]);
    expect(trustedProxyProblem('10.0.0.0/33')).toMatch(/prefix length/);
    expect(trustedProxyProblem('fd00::/129')).toMatch(/prefix length/);
    expect(trustedProxyProblem('nginx')).toMatch(/not an IP address/);
    expect(() => loadConfig({ TRUSTED_PROXIES: '127.0.0.1,localhost' })).toThrow(ConfigError);
    expect(() => loadConfig({ TRUSTED_PROXIES: 'localhost' })).toThrow(/TRUSTED_PROXIES: localhost/);
  });
});
