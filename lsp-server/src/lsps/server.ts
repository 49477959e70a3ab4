// The LSP's LSPS0 server (bLIP 50): JSON-RPC 2.0 requests in BOLT 8 custom messages of type 37913
// from any peer, answered with the same services, limits and errors as the tRPC API. The peer is
// authenticated by BOLT 8 itself: its node id is the wallet, no login. Nothing is kept per peer
// beyond the requests being answered; an answer to a peer that left is dropped (bLIP 50: as if
// delivered).
import { ApiError } from '@lpw/api';
import { isNodeError, type LightningNode } from '@lpw/node';
import type { Deps } from '../deps.ts';
import { RateLimiter } from '../rate-limit.ts';
import type { Services } from '../router/trpc.ts';
import {
  encodeError,
  encodeResult,
  type JsonRpcError,
  LSPS_ERROR,
  LSPS0_MAX_PAYLOAD_BYTES,
  LSPS0_MESSAGE_TYPE,
  readRequest,
} from './jsonrpc.ts';
import { invalidParams, jsonRpcErrorOf, LSPS_METHODS, type LspsMethod } from './methods.ts';

/** Requests of one peer answered at once; more wait for none (a flood gets refusals, not a queue). */
export const MAX_IN_FLIGHT_PER_PEER = 8;
/** A request not answered by then gets -32603 and its slot back (the work itself cannot be cancelled). */
export const REQUEST_TIMEOUT_MS = 30_000;
const HOUR_MS = 3_600_000;

export interface LspsServerOptions {
  deps: Pick<Deps, 'store' | 'clock' | 'config' | 'log'>;
  node: Pick<LightningNode, 'customMessages' | 'on'>;
  /** The tRPC API's own services and limiters: one budget per wallet whichever way it asks. */
  services: Pick<Services, 'jit' | 'orders' | 'limits' | 'expensive'>;
  requestTimeoutMs?: number;
}

/**
 * @example
 * const lsps = new LspsServer({ deps, node, services }); lsps.start(); … lsps.stop();
 */
export class LspsServer {
  private readonly o: LspsServerOptions;
  private readonly inFlight = new Map<string, number>();
  /** Every message counts, as every HTTP request does against RATE_REQUESTS_PER_MIN per IP. */
  private readonly messagesPerPeer: RateLimiter;
  /**
   * Node ids cost a client nothing, so new wallets over BOLT 8 share one bucket of
   * RATE_NEW_WALLETS_PER_HOUR (tRPC counts them per IP; a custom message carries no IP).
   */
  private readonly newWallets: RateLimiter;
  private off: () => void = () => {};
  private readonly timeoutMs: number;

  constructor(options: LspsServerOptions) {
    this.o = options;
    const { limits } = options.deps.config;
    this.messagesPerPeer = new RateLimiter(limits.requestsPerMinutePerIp, options.deps.clock);
    this.newWallets = new RateLimiter(limits.newWalletsPerHourPerIp, options.deps.clock, 1, HOUR_MS);
    this.timeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  }

  start(): void {
    this.off = this.o.node.customMessages.onMessage(LSPS0_MESSAGE_TYPE, (peerId, payload) => {
      void this.onMessage(peerId, payload);
    });
  }

  stop(): void {
    this.off();
  }

  /** Requests being answered now, all peers together (tests: a departed client leaves none). */
  get pending(): number {
    let n = 0;
    for (const count of this.inFlight.values()) n += count;
    return n;
  }

  private async onMessage(peerId: string, payload: Uint8Array): Promise<void> {
    const { log } = this.o.deps;
    const wait = this.messagesPerPeer.take(peerId);
    const request = readRequest(payload);
    if (request.kind === 'notification') {
      // bLIP 50: clients send none; JSON-RPC: a notification is never answered
      log.debug({ peerId }, 'lsps: notification from a client, ignored');
      return;
    }
    if (wait > 0) {
      // past the rate a request is refused; garbage past it is not worth an answer
      if (request.kind === 'request')
        this.answer(
          peerId,
          encodeError(request.id, rateLimited(`too many requests; retry in ${wait} s`, wait)),
        );
      return;
    }
    if (request.kind === 'invalid') {
      log.info({ peerId, code: request.error.code, bytes: payload.length }, 'lsps: bad message');
      return this.answer(peerId, encodeError(request.id, request.error));
    }
    const running = this.inFlight.get(peerId) ?? 0;
    if (running >= MAX_IN_FLIGHT_PER_PEER)
      return this.answer(peerId, encodeError(request.id, rateLimited('too many requests in flight', 1)));
    this.inFlight.set(peerId, running + 1);
    try {
      const outcome = await this.withTimeout(this.call(peerId, request.method, request.params));
      this.answer(
        peerId,
        'error' in outcome
          ? encodeError(request.id, outcome.error)
          : encodeResult(request.id, outcome.result),
      );
    } finally {
      const left = (this.inFlight.get(peerId) ?? 1) - 1;
      if (left > 0) this.inFlight.set(peerId, left);
      else this.inFlight.delete(peerId);
    }
  }

  /** One method call: its params checked, its limits taken, its service asked. Never throws. */
  private async call(
    peerId: string,
    name: string,
    params: Record<string, unknown>,
  ): Promise<{ result: object } | { error: JsonRpcError }> {
    const { deps, services } = this.o;
    const m: LspsMethod | undefined = Object.hasOwn(LSPS_METHODS, name) ? LSPS_METHODS[name] : undefined;
    if (!m) return { error: { code: LSPS_ERROR.METHOD_NOT_FOUND, message: 'Method not found' } };
    const parsed = m.params.safeParse(params);
    if (!parsed.success) return { error: invalidParams(parsed.error) };
    try {
      const { cost } = m;
      if (cost.limit) {
        const wait = cost.limit(services.limits).take(peerId);
        if (wait > 0)
          throw new ApiError('RATE_LIMITED', `too many ${cost.what}; retry in ${wait} s`, {
            retryAfterSec: wait,
          });
      }
      if (cost.wallet) await this.ensureWallet(peerId);
      const run = () => Promise.resolve(m.run(services, peerId, parsed.data as never));
      const result = cost.expensive ? await services.expensive.run(run, peerId) : await run();
      return { result };
    } catch (e) {
      const error = jsonRpcErrorOf(e, m, params, services);
      if (error) return { error };
      deps.log.error({ err: e, peerId, method: name }, 'lsps: method failed');
      return { error: { code: LSPS_ERROR.INTERNAL_ERROR, message: 'Internal error' } };
    }
  }

  /** The wallet row a purchase or an order hangs on: what tRPC's login creates. */
  private async ensureWallet(peerId: string): Promise<void> {
    const { store, clock } = this.o.deps;
    if (!(await store.getWallet(peerId))) {
      const wait = this.newWallets.take('bolt8');
      if (wait > 0)
        throw new ApiError('RATE_LIMITED', `too many new wallets; retry in ${wait} s`, {
          retryAfterSec: wait,
        });
    }
    await store.touchWallet(peerId, clock());
  }

  private async withTimeout<T>(work: Promise<T>): Promise<T | { error: JsonRpcError }> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<{ error: JsonRpcError }>((resolve) => {
      timer = setTimeout(
        () => resolve({ error: { code: LSPS_ERROR.INTERNAL_ERROR, message: 'Internal error: timed out' } }),
        this.timeoutMs,
      );
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private answer(peerId: string, payload: Uint8Array): void {
    const { log } = this.o.deps;
    if (payload.length > LSPS0_MAX_PAYLOAD_BYTES) {
      log.error({ peerId, bytes: payload.length }, 'lsps: answer larger than a message');
      payload = encodeError(null, {
        code: LSPS_ERROR.INTERNAL_ERROR,
        message: 'Internal error: answer too large',
      });
    }
    try {
      this.o.node.customMessages.send(peerId, LSPS0_MESSAGE_TYPE, payload);
    } catch (e) {
      // bLIP 50: an answer the client left before getting is treated as delivered
      if (isNodeError(e, 'PEER_NOT_CONNECTED') || isNodeError(e, 'NODE_STOPPED'))
        log.debug({ peerId }, 'lsps: answer dropped, the peer left');
      else log.error({ err: e, peerId }, 'lsps: answer not sent');
    }
  }
}

function rateLimited(message: string, retryAfterSec: number): JsonRpcError {
  return { code: LSPS_ERROR.RATE_LIMITED, message, data: { retry_after_sec: retryAfterSec } };
}
