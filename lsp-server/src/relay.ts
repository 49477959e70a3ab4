// The relay: one HTTP request to another origin on a wallet's behalf (its CSP lets it reach only
// this origin). Bounded on every side: GET/POST only, https only (http to loopback only on a devnet),
// every resolved address checked (no private, loopback, link-local or multicast destinations, also
// after a redirect), a few request headers, a response size cap and a deadline.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { ApiError, type RelayFetchOutput, type relayFetchInput } from '@lpw/api';
import type { z } from 'zod';
import type { Deps } from './deps.ts';

const MAX_REDIRECTS = 3;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

// Not the public internet: every block of IANA's IPv4 and IPv6 special-purpose address registries
// whose "Globally Reachable" is false (src/relay.test.ts holds both registries as a table), plus
// multicast, the deprecated IPv4-compatible (::/96) and site-local (fec0::/10) forms. Blocks that
// only embed or reach an IPv4 address (NAT64, 6to4, Teredo, ::/96) are refused whole rather than
// decoded, and so are the few globally reachable anycast blocks inside 192.0.0.0/24 and 2001::/23:
// no LNURL or L402 site lives there.
const NOT_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 96],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['100:0:0:1::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['3fff::', 20],
  ['5f00::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv6');
}
const MAPPED = new BlockList();
MAPPED.addSubnet('::ffff:0:0', 96, 'ipv6');
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

export type AddressClass = 'public' | 'loopback' | 'private';

/** What an IP address is, for the relay's purpose; IPv4-mapped IPv6 counts as its IPv4 address. */
export function classifyAddress(address: string): AddressClass {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const ip = mapped ? mapped[1]! : address;
  const family = isIP(ip) === 4 ? 'ipv4' : 'ipv6';
  if (isIP(ip) === 0) return 'private';
  // mapped, but not dotted (::ffff:7f00:1, 0:0:0:0:0:ffff:…): refuse. A separate list, because
  // Node's BlockList matches an IPv4 address against IPv4-mapped IPv6 rules.
  if (family === 'ipv6' && MAPPED.check(ip, 'ipv6')) return 'private';
  if (LOOPBACK.check(ip, family)) return 'loopback';
  if (NOT_PUBLIC.check(ip, family)) return 'private';
  return 'public';
}

export interface RelayPolicy {
  /** Devnet: loopback destinations (and plain http to them) are allowed. */
  allowLoopback: boolean;
  timeoutMs: number;
  maxResponseBytes: number;
}

const refused = (why: string) => new ApiError('RELAY_REFUSED', why);

function checkAddress(address: string, host: string, policy: RelayPolicy): void {
  const kind = classifyAddress(address);
  if (kind === 'public' || (kind === 'loopback' && policy.allowLoopback)) return;
  throw refused(`${host} is at a ${kind} address (${address}); the relay reaches public sites only`);
}

/** The URL if the relay may request it; RELAY_REFUSED naming the rule otherwise. */
function checkUrl(text: string, policy: RelayPolicy): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ApiError('INVALID_INPUT', 'url is not an absolute URL', { field: 'url' });
  }
  if (url.username !== '' || url.password !== '') throw refused('URLs with a user name or password');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (url.protocol === 'http:') {
    const loopbackName = host === 'localhost' || (isIP(host) !== 0 && classifyAddress(host) === 'loopback');
    if (!(policy.allowLoopback && loopbackName)) throw refused(`http://${url.host}: only https is relayed`);
  } else if (url.protocol !== 'https:') {
    throw refused(`${url.protocol} URLs: only https is relayed`);
  }
  if (isIP(host) !== 0) checkAddress(host, host, policy);
  return url;
}

/** DNS lookup that refuses a name if any of its addresses is not allowed (checked where we connect). */
function checkedLookup(policy: RelayPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      try {
        if (addresses.length === 0) throw new ApiError('RELAY_UNREACHABLE', `${hostname} has no address`);
        for (const a of addresses) checkAddress(a.address, hostname, policy);
      } catch (refusal) {
        return callback(refusal as NodeJS.ErrnoException, '', 0);
      }
      if (options.all) return (callback as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

function once(
  url: URL,
  method: 'GET' | 'POST',
  headers: OutgoingHttpHeaders,
  body: string | undefined,
  policy: RelayPolicy,
  signal: AbortSignal,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(url, { method, headers, lookup: checkedLookup(policy), signal }, (res) => {
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > policy.maxResponseBytes) {
        res.destroy();
        return reject(tooLarge(policy));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > policy.maxResponseBytes) {
          res.destroy();
          reject(tooLarge(policy));
        } else chunks.push(chunk);
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    // a deadline that passes while the body streams in ends the read too
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    req.end(body);
  });
}

const tooLarge = (policy: RelayPolicy) =>
  new ApiError('RELAY_TOO_LARGE', `the answer is larger than ${policy.maxResponseBytes} bytes`);

export type RelayOutcome = 'ok' | 'refused' | 'unreachable' | 'timeout' | 'too_large' | 'invalid';

export class RelayService {
  constructor(private readonly deps: Pick<Deps, 'config' | 'metrics' | 'log'>) {}

  private get policy(): RelayPolicy {
    const { allowLoopback, timeoutMs, maxResponseBytes } = this.deps.config.relay;
    return { allowLoopback, timeoutMs, maxResponseBytes };
  }

  /** Makes the request (following up to 3 redirects, each checked) and returns what came back. */
  async fetch(walletId: string, input: z.output<typeof relayFetchInput>): Promise<RelayFetchOutput> {
    const policy = this.policy;
    const started = performance.now();
    const signal = AbortSignal.timeout(policy.timeoutMs);
    let url = checkUrl(input.url, policy);
    let method = input.method;
    let body = input.body;
    const headers: OutgoingHttpHeaders = {
      'user-agent': 'lpw-lsp-relay',
      'accept-encoding': 'identity',
    };
    for (const [name, value] of Object.entries(input.headers)) if (value !== undefined) headers[name] = value;
    const firstOrigin = url.origin;
    try {
      for (let hop = 0; ; hop++) {
        let answer: Answer;
        try {
          answer = await once(url, method, headers, body, policy, signal);
        } catch (error) {
          throw this.failure(error, url, policy);
        }
        const location = answer.headers.location;
        if (REDIRECTS.has(answer.status) && typeof location === 'string') {
          if (hop >= MAX_REDIRECTS) throw new ApiError('RELAY_UNREACHABLE', 'too many redirects');
          url = checkUrl(new URL(location, url).toString(), policy);
          if (
            answer.status === 303 ||
            ((answer.status === 301 || answer.status === 302) && method === 'POST')
          ) {
            method = 'GET';
            body = undefined;
            delete headers['content-type'];
          }
          // credentials are for the site they were given to
          if (url.origin !== firstOrigin) delete headers.authorization;
          continue;
        }
        const pick = (name: string) => {
          const v = answer.headers[name];
          return typeof v === 'string' ? v.slice(0, 8192) : undefined;
        };
        const contentType = pick('content-type');
        const challenge = pick('www-authenticate');
        this.record('ok', walletId, url, started, answer.status, answer.body.length);
        return {
          url: url.toString(),
          status: answer.status,
          headers: {
            ...(contentType === undefined ? {} : { 'content-type': contentType }),
            ...(challenge === undefined ? {} : { 'www-authenticate': challenge }),
          },
          body_base64: answer.body.toString('base64'),
        };
      }
    } catch (error) {
      if (error instanceof ApiError) {
        const outcome: RelayOutcome =
          error.code === 'RELAY_REFUSED'
            ? 'refused'
            : error.code === 'RELAY_TIMEOUT'
              ? 'timeout'
              : error.code === 'RELAY_TOO_LARGE'
                ? 'too_large'
                : error.code === 'INVALID_INPUT'
                  ? 'invalid'
                  : 'unreachable';
        this.record(outcome, walletId, url, started, undefined, 0, error.message);
      }
      throw error;
    }
  }

  /** A failed request as one of the relay's typed errors. */
  private failure(error: unknown, url: URL, policy: RelayPolicy): ApiError {
    if (error instanceof ApiError) return error;
    const e = error as NodeJS.ErrnoException;
    if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || e?.code === 'ABORT_ERR') {
      return new ApiError('RELAY_TIMEOUT', `${url.host} did not answer within ${policy.timeoutMs} ms`);
    }
    return new ApiError('RELAY_UNREACHABLE', `${url.host} could not be reached (${e?.code ?? e?.message})`);
  }

  private record(
    outcome: RelayOutcome,
    walletId: string,
    url: URL,
    started: number,
    status: number | undefined,
    bytes: number,
    reason?: string,
  ): void {
    const { metrics, log } = this.deps;
    metrics.relayRequests.inc(1, { outcome });
    if (bytes > 0) metrics.relayResponseBytes.inc(bytes);
    // the host, not the path or query: enough to operate, no more of the wallet's browsing kept
    const entry = {
      wallet: walletId.slice(0, 16),
      host: url.host,
      outcome,
      status,
      bytes,
      ms: Math.round(performance.now() - started),
    };
    if (outcome === 'ok') log.debug(entry, 'relay');
    else log.info({ ...entry, reason }, 'relay refused or failed');
  }
}
