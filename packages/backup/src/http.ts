// The LSP's binary backup routes, client side (fetch only, so the PWA worker and the CLI share it):
//   PUT /backup/v2/:key   body application/octet-stream, headers expected version + lease token
//   GET /backup/v2/:key   the bytes, version in a header; 404 BACKUP_NOT_FOUND when none
// Refusals come back as JSON { code, message, details? } and become BackupErrors.
import { BackupError, type BackupErrorCode } from './errors.ts';

export const BACKUP_ROUTE = '/backup/v2';
export const HEADER_EXPECTED_VERSION = 'x-backup-expected-version';
export const HEADER_LEASE_TOKEN = 'x-backup-lease-token';
export const HEADER_VERSION = 'x-backup-version';

/** Codes of the LSP that the uploader acts on; any other refusal is BACKUP_UNAVAILABLE with `lspCode`. */
const KNOWN: ReadonlySet<string> = new Set<BackupErrorCode>([
  'VERSION_CONFLICT',
  'LEASE_FENCED',
  'LEASE_HELD',
  'BACKUP_TOO_LARGE',
  'BACKUP_CORRUPT',
  'BACKUP_TRUNCATED',
  'BACKUP_UNKNOWN_FORMAT',
  'BACKUP_WRONG_WALLET',
  'INVALID_INPUT',
]);

export interface HttpBlobClientOptions {
  /** The LSP's origin, e.g. "https://lsp.example" (no trailing slash needed). */
  baseUrl: string;
  /** The wallet's session token (from auth.login), asked for on every request. */
  token: () => string | Promise<string>;
  fetch?: typeof fetch;
}

export interface HttpBlobClient {
  put(
    key: string,
    blob: Uint8Array,
    request: { expectedVersion: number; leaseToken: number },
  ): Promise<{ version: number }>;
  get(key: string): Promise<{ blob: Uint8Array; version: number } | undefined>;
}

export function httpBlobClient(options: HttpBlobClientOptions): HttpBlobClient {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const url = (key: string) =>
    `${options.baseUrl.replace(/\/+$/, '')}${BACKUP_ROUTE}/${encodeURIComponent(key)}`;
  const call = async (key: string, init: RequestInit): Promise<Response> => {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${await options.token()}`);
    try {
      return await doFetch(url(key), { ...init, headers });
    } catch (cause) {
      throw new BackupError('BACKUP_UNAVAILABLE', `LSP unreachable: ${String(cause)}`, {}, { cause });
    }
  };
  return {
    async put(key, blob, request) {
      const res = await call(key, {
        method: 'PUT',
        body: blob as BodyInit,
        headers: {
          'content-type': 'application/octet-stream',
          [HEADER_EXPECTED_VERSION]: String(request.expectedVersion),
          [HEADER_LEASE_TOKEN]: String(request.leaseToken),
        },
      });
      if (!res.ok) throw await refusal(res);
      const body = (await res.json()) as { version?: unknown };
      if (typeof body.version !== 'number')
        throw new BackupError('BACKUP_UNAVAILABLE', 'LSP answered without a version');
      return { version: body.version };
    },
    async get(key) {
      const res = await call(key, { method: 'GET' });
      if (res.status === 404) {
        const refused = await refusal(res);
        if (refused.details.lspCode === 'BACKUP_NOT_FOUND') return undefined;
        throw refused;
      }
      if (!res.ok) throw await refusal(res);
      const version = Number(res.headers.get(HEADER_VERSION));
      if (!Number.isSafeInteger(version) || version < 1)
        throw new BackupError('BACKUP_UNAVAILABLE', 'LSP answered without a version');
      return { blob: new Uint8Array(await res.arrayBuffer()), version };
    },
  };
}

async function refusal(res: Response): Promise<BackupError> {
  let body: { code?: unknown; message?: unknown; details?: unknown } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    // not our JSON (a proxy's error page): the status is all we know
  }
  const lspCode = typeof body.code === 'string' ? body.code : `HTTP_${res.status}`;
  const message = typeof body.message === 'string' ? body.message : `LSP answered ${res.status}`;
  const details = typeof body.details === 'object' && body.details ? body.details : {};
  return backupRefusal(lspCode, message, { ...details, status: res.status });
}

/** The LSP's refusal (over HTTP or the peer socket) as the BackupError the uploader acts on. */
export function backupRefusal(
  lspCode: string,
  message: string,
  details: Record<string, unknown>,
): BackupError {
  const code = (KNOWN.has(lspCode) ? lspCode : 'BACKUP_UNAVAILABLE') as BackupErrorCode;
  return new BackupError(code, message, { ...details, lspCode });
}
