// Wallet login by node signature: single-use challenges (60 s), then a random bearer token of which
// the store keeps only the SHA-256, bound to the node id and an expiry.
import { randomBytes } from 'node:crypto';
import { ApiError, type AuthLoginInput, loginMessage, verifyNodeMessage } from '@lpw/api';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { Deps } from './deps.ts';
import type { RateLimiter } from './rate-limit.ts';

export const CHALLENGE_TTL_MS = 60_000;

export const tokenHash = (token: string) => bytesToHex(sha256(new TextEncoder().encode(token)));

export class AuthService {
  constructor(
    private readonly deps: Pick<Deps, 'store' | 'clock' | 'config' | 'log'>,
    /** Logins of never-seen node ids per client IP: throwaway identities would escape per-wallet limits. */
    private readonly newWalletsPerIp?: RateLimiter,
    /** Told after a logout (the WebSocket peer link closes that session's sockets). */
    private readonly onLogout?: (token: string) => void,
  ) {}

  async challenge(): Promise<{ challenge: string; expires_at: string }> {
    const challenge = randomBytes(32).toString('hex');
    const expiresAtMs = this.deps.clock() + CHALLENGE_TTL_MS;
    await this.deps.store.insertChallenge(challenge, expiresAtMs);
    return { challenge, expires_at: new Date(expiresAtMs).toISOString() };
  }

  async login(
    input: AuthLoginInput,
    ip = 'unknown',
  ): Promise<{ token: string; expires_at: string; nodeId: string }> {
    const now = this.deps.clock();
    // verify before consuming: a forged signature must not burn someone else's challenge
    if (!verifyNodeMessage(loginMessage(input.challenge), input.signature, input.nodeId)) {
      throw new ApiError('INVALID_SIGNATURE', 'signature does not match nodeId and challenge');
    }
    if (this.newWalletsPerIp && !(await this.deps.store.getWallet(input.nodeId))) {
      const wait = this.newWalletsPerIp.take(ip);
      if (wait > 0) {
        throw new ApiError('RATE_LIMITED', `too many new wallets from this address; retry in ${wait} s`, {
          retryAfterSec: wait,
        });
      }
    }
    const token = randomBytes(32).toString('base64url');
    const expiresAtMs = now + this.deps.config.limits.sessionTtlSec * 1000;
    const session = { nodeId: input.nodeId, expiresAtMs };
    if (!(await this.deps.store.completeLogin(input.challenge, now, tokenHash(token), session))) {
      throw new ApiError('INVALID_CHALLENGE', 'challenge unknown, already used, or expired');
    }
    this.deps.log.info({ nodeId: input.nodeId }, 'wallet logged in');
    return { token, expires_at: new Date(expiresAtMs).toISOString(), nodeId: input.nodeId };
  }

  /** The wallet behind a bearer token, or a typed refusal. */
  async walletFor(token: string | undefined): Promise<{ nodeId: string; expiresAtMs: number }> {
    if (!token) throw new ApiError('SESSION_REQUIRED', 'send Authorization: Bearer <token> from auth.login');
    if (token.length > 128) throw new ApiError('SESSION_EXPIRED', 'unknown or expired session');
    const session = await this.deps.store.getSession(tokenHash(token), this.deps.clock());
    if (!session) throw new ApiError('SESSION_EXPIRED', 'unknown or expired session; log in again');
    return session;
  }

  async logout(token: string): Promise<void> {
    await this.deps.store.deleteSession(tokenHash(token));
    this.onLogout?.(token);
  }
}
