// The address every per-IP limit is keyed by. Behind a reverse proxy the TCP peer is the proxy, so
// X-Forwarded-For is read, but only when the peer is a proxy the operator named in TRUSTED_PROXIES:
// anyone else could write any address there and get a fresh budget per request.
import { BlockList, isIP } from 'node:net';

/** `::ffff:a.b.c.d` (an IPv4 client on a dual-stack socket) and `a.b.c.d` are one client. */
function normalize(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return (mapped ? mapped[1]! : address).toLowerCase();
}

/** Why a TRUSTED_PROXIES entry (an address or a CIDR) is not one, or undefined. */
export function trustedProxyProblem(entry: string): string | undefined {
  const [address, prefix, ...rest] = entry.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || rest.length > 0) return `${entry} is not an IP address or CIDR`;
  if (prefix === undefined) return undefined;
  const bits = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > bits)
    return `${entry} has a prefix length outside 0–${bits}`;
  return undefined;
}

export class TrustedProxies {
  private readonly list = new BlockList();
  readonly empty: boolean;

  /** `entries` are addresses or CIDRs, already checked by `trustedProxyProblem`. */
  constructor(entries: readonly string[]) {
    this.empty = entries.length === 0;
    for (const entry of entries) {
      const [address, prefix] = entry.split('/') as [string, string | undefined];
      const type = isIP(address) === 4 ? 'ipv4' : 'ipv6';
      if (prefix === undefined) this.list.addAddress(address, type);
      else this.list.addSubnet(address, Number(prefix), type);
    }
  }

  has(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && this.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }

  /**
   * The client's address: the socket peer, unless that is a trusted proxy; then X-Forwarded-For is
   * walked from the right (each proxy appends the address it saw) past trusted hops to the first one
   * that is not. Hops left of it were written by the client and mean nothing. A hop that is not an
   * address ends the walk at the trusted hop that wrote it.
   * @example new TrustedProxies(['127.0.0.1']).clientAddress('127.0.0.1', '10.9.9.9, 203.0.113.5') // '203.0.113.5'
   */
  clientAddress(socketAddress: string, forwardedFor: string | undefined): string {
    let client = normalize(socketAddress);
    if (this.empty || !forwardedFor || !this.has(client)) return client;
    const hops = forwardedFor.split(',').map((h) => h.trim());
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normalize(hops[i]!);
      if (isIP(hop) === 0) return client;
      client = hop;
      if (!this.has(hop)) return client;
    }
    return client; // every hop is a proxy of ours: the request came from inside
  }
}
