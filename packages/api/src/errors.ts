// The contract's one error type: an app code the client can act on, mapped to one tRPC code.
// LSPS2 (bLIP 52) errors keep their numeric codes (200–203) so wallets can speak the spec.

export const API_ERRORS = {
  // bLIP 52 `lsps2.get_info` / `lsps2.buy`
  UNRECOGNIZED_OR_STALE_TOKEN: { trpc: 'BAD_REQUEST', lsps2: 200 },
  INVALID_OPENING_FEE_PARAMS: { trpc: 'BAD_REQUEST', lsps2: 201 },
  PAYMENT_SIZE_TOO_SMALL: { trpc: 'BAD_REQUEST', lsps2: 202 },
  PAYMENT_SIZE_TOO_LARGE: { trpc: 'BAD_REQUEST', lsps2: 203 },
  // fee arithmetic left the u64 range (bLIP 52 says: abort)
  FEE_OVERFLOW: { trpc: 'BAD_REQUEST', lsps2: 203 },
  // auth
  INVALID_CHALLENGE: { trpc: 'UNAUTHORIZED', lsps2: undefined },
  INVALID_SIGNATURE: { trpc: 'UNAUTHORIZED', lsps2: undefined },
  SESSION_REQUIRED: { trpc: 'UNAUTHORIZED', lsps2: undefined },
  SESSION_EXPIRED: { trpc: 'UNAUTHORIZED', lsps2: undefined },
  // backups
  VERSION_CONFLICT: { trpc: 'CONFLICT', lsps2: undefined },
  LEASE_FENCED: { trpc: 'CONFLICT', lsps2: undefined },
  BLOB_TOO_LARGE: { trpc: 'PAYLOAD_TOO_LARGE', lsps2: undefined },
  QUOTA_EXCEEDED: { trpc: 'FORBIDDEN', lsps2: undefined },
  /** acquireLease with takeOver false while another device holds an unexpired lease. */
  LEASE_HELD: { trpc: 'CONFLICT', lsps2: undefined },
  // backups v2 (binary routes): what the LSP can check in the clear header
  BACKUP_TOO_LARGE: { trpc: 'PAYLOAD_TOO_LARGE', lsps2: undefined },
  BACKUP_CORRUPT: { trpc: 'BAD_REQUEST', lsps2: undefined },
  BACKUP_TRUNCATED: { trpc: 'BAD_REQUEST', lsps2: undefined },
  BACKUP_UNKNOWN_FORMAT: { trpc: 'BAD_REQUEST', lsps2: undefined },
  /** The header names another wallet than the session's. */
  BACKUP_WRONG_WALLET: { trpc: 'FORBIDDEN', lsps2: undefined },
  /** The header's version is not above the stored one: versions only grow. */
  BACKUP_VERSION_NOT_GROWING: { trpc: 'CONFLICT', lsps2: undefined },
  BACKUP_NOT_FOUND: { trpc: 'NOT_FOUND', lsps2: undefined },
  // relay (the LSP's HTTP requests for the wallet)
  /** The destination is not one the relay may reach (scheme, private address, redirect there). */
  RELAY_REFUSED: { trpc: 'FORBIDDEN', lsps2: undefined },
  /** The site did not answer (DNS, connection, TLS). */
  RELAY_UNREACHABLE: { trpc: 'BAD_GATEWAY', lsps2: undefined },
  RELAY_TIMEOUT: { trpc: 'GATEWAY_TIMEOUT', lsps2: undefined },
  /** The site's answer is larger than the relay returns. */
  RELAY_TOO_LARGE: { trpc: 'PAYLOAD_TOO_LARGE', lsps2: undefined },
  // exchange rates: none configured, or the source has not yet answered with good ones
  RATES_UNAVAILABLE: { trpc: 'BAD_GATEWAY', lsps2: undefined },
  // Lightning Addresses
  /** Another wallet holds this name. */
  NAME_TAKEN: { trpc: 'CONFLICT', lsps2: undefined },
  /** This LSP serves no Lightning Addresses (it has no PUBLIC_URL outside regtest). */
  ADDRESSES_OFF: { trpc: 'PRECONDITION_FAILED', lsps2: undefined },
  // general
  INVALID_INPUT: { trpc: 'BAD_REQUEST', lsps2: undefined },
  NOT_FOUND: { trpc: 'NOT_FOUND', lsps2: undefined },
  RATE_LIMITED: { trpc: 'TOO_MANY_REQUESTS', lsps2: undefined },
  /** More tRPC calls in one HTTP request than the LSP takes (details.limit). */
  BATCH_TOO_LARGE: { trpc: 'PAYLOAD_TOO_LARGE', lsps2: undefined },
  /** A request body without a Content-Length (HTTP 411): the LSP reads no body of unknown size. */
  LENGTH_REQUIRED: { trpc: 'BAD_REQUEST', lsps2: undefined },
  UNAVAILABLE: { trpc: 'PRECONDITION_FAILED', lsps2: undefined },
  NOT_IMPLEMENTED: { trpc: 'NOT_IMPLEMENTED', lsps2: undefined },
  INTERNAL: { trpc: 'INTERNAL_SERVER_ERROR', lsps2: undefined },
} as const satisfies Record<string, { trpc: string; lsps2: number | undefined }>;

export type ApiErrorCode = keyof typeof API_ERRORS;
export type TrpcErrorCode = (typeof API_ERRORS)[ApiErrorCode]['trpc'];

/** Extra facts a client needs to recover (e.g. the current version after a CAS conflict). */
export interface ApiErrorDetails {
  currentVersion?: number;
  retryAfterSec?: number;
  /** BACKUP_TOO_LARGE: the body's size and the LSP's limit. */
  sizeBytes?: number;
  limitBytes?: number;
  /** LEASE_HELD: the device holding the lease, and until when (ISO 8601). */
  deviceId?: string;
  expiresAt?: string;
  field?: string;
  /** BATCH_TOO_LARGE, QUOTA_EXCEEDED: the limit that was hit. */
  limit?: number;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: ApiErrorCode,
    message?: string,
    readonly details: ApiErrorDetails = {},
  ) {
    super(message ? `${code}: ${message}` : code);
    // A typed answer, not a bug: where it was thrown says nothing its code does not. tRPC copies
    // every thrown error's stack, and formatting one (through source maps) cost more than the LSP's
    // refusal it carried; a stack set here is never formatted.
    this.stack = `${this.name}: ${this.message}`;
  }
  get trpcCode(): TrpcErrorCode {
    return API_ERRORS[this.code].trpc;
  }
  /** The bLIP 52 numeric code, when the error is one of LSPS2's. */
  get lsps2Code(): number | undefined {
    return API_ERRORS[this.code].lsps2;
  }
}

export function isApiError(e: unknown, code?: ApiErrorCode): e is ApiError {
  return e instanceof ApiError && (code === undefined || e.code === code);
}

/** What the server puts in a tRPC error's `data.app` so the client can act without parsing text. */
export interface ApiErrorData {
  code: ApiErrorCode;
  lsps2Code?: number;
  details: ApiErrorDetails;
}
