// The relay's address classifier against IANA's special-purpose address registries (IPv4 and IPv6,
// as last updated in 2025), entry by entry: every block that is not globally reachable must be
// refused at its first, middle and last address. The registries are copied here as data so a
// change to either shows up as a failing row, not as a silent gap.
import { describe, expect, it } from 'vitest';
import { classifyAddress } from './relay.ts';

/** [block, name, globally reachable] as the registry lists them (N/A counted as not reachable). */
const IPV4_SPECIAL: [string, string, boolean][] = [
  ['0.0.0.0/8', '"This network"', false],
  ['0.0.0.0/32', '"This host on this network"', false],
  ['10.0.0.0/8', 'Private-Use', false],
  ['100.64.0.0/10', 'Shared Address Space', false],
  ['127.0.0.0/8', 'Loopback', false],
  ['169.254.0.0/16', 'Link Local', false],
  ['172.16.0.0/12', 'Private-Use', false],
  ['192.0.0.0/24', 'IETF Protocol Assignments', false],
  ['192.0.0.0/29', 'IPv4 Service Continuity Prefix', false],
  ['192.0.0.8/32', 'IPv4 dummy address', false],
  ['192.0.0.9/32', 'Port Control Protocol Anycast', true],
  ['192.0.0.10/32', 'Traversal Using Relays around NAT Anycast', true],
  ['192.0.0.170/32', 'NAT64/DNS64 Discovery', false],
  ['192.0.0.171/32', 'NAT64/DNS64 Discovery', false],
  ['192.0.2.0/24', 'Documentation (TEST-NET-1)', false],
  ['192.31.196.0/24', 'AS112-v4', true],
  ['192.52.193.0/24', 'AMT', true],
  ['192.88.99.0/24', 'Deprecated (6to4 Relay Anycast)', false],
  ['192.168.0.0/16', 'Private-Use', false],
  ['192.175.48.0/24', 'Direct Delegation AS112 Service', true],
  ['198.18.0.0/15', 'Benchmarking', false],
  ['198.51.100.0/24', 'Documentation (TEST-NET-2)', false],
  ['203.0.113.0/24', 'Documentation (TEST-NET-3)', false],
  ['240.0.0.0/4', 'Reserved', false],
  ['255.255.255.255/32', 'Limited Broadcast', false],
];

const IPV6_SPECIAL: [string, string, boolean][] = [
  ['::1/128', 'Loopback Address', false],
  ['::/128', 'Unspecified Address', false],
  ['::ffff:0:0/96', 'IPv4-mapped Address', false],
  ['64:ff9b::/96', 'IPv4-IPv6 Translat.', true],
  ['64:ff9b:1::/48', 'IPv4-IPv6 Translat.', false],
  ['100::/64', 'Discard-Only Address Block', false],
  ['100:0:0:1::/64', 'Dummy IPv6 Prefix', false],
  ['2001::/23', 'IETF Protocol Assignments', false],
  ['2001::/32', 'TEREDO', false],
  ['2001:1::1/128', 'Port Control Protocol Anycast', true],
  ['2001:1::2/128', 'Traversal Using Relays around NAT Anycast', true],
  ['2001:1::3/128', 'DNS-SD Service Registration Protocol Anycast', true],
  ['2001:2::/48', 'Benchmarking', false],
  ['2001:3::/32', 'AMT', true],
  ['2001:4:112::/48', 'AS112-v6', true],
  ['2001:10::/28', 'Deprecated (previously ORCHID)', false],
  ['2001:20::/28', 'ORCHIDv2', true],
  ['2001:30::/28', 'Drone Remote ID Protocol Entity Tags (DETs) Prefix', true],
  ['2001:db8::/32', 'Documentation', false],
  ['2002::/16', '6to4', false],
  ['2620:4f:8000::/48', 'Direct Delegation AS112 Service', true],
  ['3fff::/20', 'Documentation', false],
  ['5f00::/16', 'Segment Routing (SRv6) SIDs', false],
  ['fc00::/7', 'Unique-Local', false],
  ['fe80::/10', 'Link-Local Unicast', false],
];

/** Outside the special-purpose registries, but never a public web site either. */
const ALSO_REFUSED: [string, string][] = [
  ['224.0.0.0/4', 'IPv4 multicast'],
  ['::/96', 'IPv4-compatible IPv6 (deprecated, RFC 4291)'],
  ['fec0::/10', 'site-local (deprecated, RFC 3879)'],
  ['ff00::/8', 'IPv6 multicast'],
];

function v4(n: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.');
}
function v6(n: bigint): string {
  return Array.from({ length: 8 }, (_, i) => ((n >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)).join(':');
}
function parse(address: string): bigint {
  if (address.includes('.')) return address.split('.').reduce((a, o) => (a << 8n) | BigInt(o), 0n);
  const [head = '', tail = ''] = address.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.reduce((a, g) => (a << 16n) | BigInt(`0x${g}`), 0n);
}

/** First, middle and last address of a block, written out in full (no `::` shorthand). */
function samples(block: string): string[] {
  const [net = '', len = ''] = block.split('/');
  const bits = net.includes('.') ? 32n : 128n;
  const size = 1n << (bits - BigInt(len));
  const first = parse(net);
  const show = bits === 32n ? v4 : v6;
  return [...new Set([first, first + size / 2n, first + size - 1n])].map(show);
}

describe('relay classifier against the IANA special-purpose registries', () => {
  for (const [block, name, reachable] of [...IPV4_SPECIAL, ...IPV6_SPECIAL]) {
    if (reachable) continue;
    it(`${block} (${name}) is never public`, () => {
      for (const address of samples(block))
        expect([address, classifyAddress(address)]).not.toEqual([address, 'public']);
    });
  }
  for (const [block, name] of ALSO_REFUSED) {
    it(`${block} (${name}) is never public`, () => {
      for (const address of samples(block)) expect(classifyAddress(address)).not.toBe('public');
    });
  }

  it('the IPv4-compatible form of loopback (issue 12: ::7f00:1) is refused', () => {
    expect(classifyAddress('::7f00:1')).not.toBe('public');
    expect(classifyAddress('::127.0.0.1')).not.toBe('public');
    expect(classifyAddress('0:0:0:0:0:ffff:7f00:1')).not.toBe('public');
  });

  it('public addresses next to the special blocks stay public', () => {
    for (const address of [
      '1.1.1.1',
      '8.8.8.8',
      '100.128.0.1',
      '172.32.0.1',
      '192.0.3.1',
      '2606:4700::1111',
      '2001:4860:4860::8888',
      '2a00:1450::1',
    ])
      expect([address, classifyAddress(address)]).toEqual([address, 'public']);
  });

  it('loopback is its own class (the devnet relay may reach it)', () => {
    expect(classifyAddress('127.0.0.1')).toBe('loopback');
    expect(classifyAddress('::1')).toBe('loopback');
    expect(classifyAddress('::ffff:127.0.0.1')).toBe('loopback');
  });
});
