// Wallet login by node signature: single-use challenges (60 s), then a random bearer token of which
// the store keeps only the SHA-256, bound to the node id and an expiry.
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { ApiError, type AuthLoginInput, loginMessage, zbase32Decode } from '@lpw/api';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { Deps } from './deps.ts';
import { GroupCommit } from './group-commit.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { LoginRecord } from './store/types.ts';

export const CHALLENGE_TTL_MS = 60_000;

/** DER SubjectPublicKeyInfo of a secp256k1 key: this prefix, then the 33-byte compressed key. */
const SPKI_SECP256K1 = Buffer.from('3036301006072a8648ce3d020106052b8104000a032200', 'hex');
const SIGNED_MESSAGE_PREFIX = Buffer.from('Lightning Signed Message:');

/**
 * Whether `nodeId` signed `message` in the Lightning signmessage format (as verifyNodeMessage in
 * @lpw/api), checked by OpenSSL: ~0.1 ms against ~1.7 ms for the pure-JS key recovery, and a login is
 * the check the LSP makes most, for every new identity too. The claimed key is known, so the
 * signature is verified against it; the recovery id is not needed.
 */
export function signedByNode(message: string, zbase32Sig: string, nodeId: string): boolean {
  if (zbase32Sig.length !== 104 || !/^0[23][0-9a-f]{64}$/.test(nodeId)) return false;
  const raw = zbase32Decode(zbase32Sig);
  if (raw?.length !== 65 || raw[0]! < 27 || raw[0]! > 34) return false;
  try {
    const key = createPublicKey({
      key: Buffer.concat([SPKI_SECP256K1, Buffer.from(nodeId, 'hex')]),
      format: 'der',
      type: 'spki',
    });
    // OpenSSL hashes once more: sha256 over sha256(prefix + message) is the format's sha256d
    const digest = createHash('sha256').update(SIGNED_MESSAGE_PREFIX).update(message).digest();
    return verify('sha256', digest, { key, dsaEncoding: 'ieee-p1363' }, raw.subarray(1));
  } catch {
    return false; // not a point on the curve
  }
}

function tooManyNewWallets(wait: number): void {
  if (wait > 0) {
    throw new ApiError('RATE_LIMITED', `too many new wallets from this address; retry in ${wait} s`, {
      retryAfterSec: wait,
    });
  }
}

export const tokenHash = (token: string) => bytesToHex(sha256(new TextEncoder().encode(token)));

export class AuthService {
  // logins and challenges arrive in bursts: each kind commits as a group (group-commit.ts)
  private readonly challenges = new GroupCommit((list: { challenge: string; expiresAtMs: number }[]) =>
    this.deps.store.insertChallenges(list).then(() => list.map(() => undefined)),
  );
  private readonly logins = new GroupCommit((list: LoginRecord[]) => this.deps.store.completeLogins(list));

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
    await this.challenges.add({ challenge, expiresAtMs });
    return { challenge, expires_at: new Date(expiresAtMs).toISOString() };
  }

  async login(
    input: AuthLoginInput,
    ip = 'unknown',
  ): Promise<{ token: string; expires_at: string; nodeId: string }> {
    const now = this.deps.clock();
    const quota = this.newWalletsPerIp;
    const isNew = quota !== undefined && !(await this.deps.store.getWallet(input.nodeId));
    // a throwaway identity past its address's quota is refused before its signature costs a check;
    // the quota is taken only after the check, so forged logins do not spend an address's quota
    if (isNew) tooManyNewWallets(quota.wait(ip));
    // verify before consuming: a forged signature must not burn someone else's challenge
    if (!signedByNode(loginMessage(input.challenge), input.signature, input.nodeId)) {
      throw new ApiError('INVALID_SIGNATURE', 'signature does not match nodeId and challenge');
    }
    if (isNew) tooManyNewWallets(quota.take(ip));
    const token = randomBytes(32).toString('base64url');
    const expiresAtMs = now + this.deps.config.limits.sessionTtlSec * 1000;
    const session = { nodeId: input.nodeId, expiresAtMs };
    if (
      !(await this.logins.add({
        challenge: input.challenge,
        nowMs: now,
        tokenHash: tokenHash(token),
        session,
      }))
    ) {
      throw new ApiError('INVALID_CHALLENGE', 'challenge unknown, already used, or expired');
    }
    // debug: every wallet logs in each session; the count is in /metrics (lsp_wallets, requests)
    this.deps.log.debug({ nodeId: input.nodeId }, 'wallet logged in');
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
