// Backups v2 over plain HTTP: the signed, encrypted blob travels as bytes (no base64, no JSON), so
// its size costs nothing to parse and the body limit is enforced while it is read.
//   PUT /backup/v2/:key  application/octet-stream; x-backup-expected-version, x-backup-lease-token
//   GET /backup/v2/:key  the bytes, the version in x-backup-version
// Session auth as tRPC's walletProcedure (Authorization: Bearer); refusals are JSON
// { code, message, details } with the status of the code.
import { API_ERRORS, ApiError, backupKey, type TrpcErrorCode } from '@lpw/api';
import { HEADER_EXPECTED_VERSION, HEADER_LEASE_TOKEN, HEADER_VERSION } from '@lpw/backup';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { tooLarge } from './backup.ts';
import type { Deps } from './deps.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { Services } from './router/trpc.ts';

const STATUS: Record<TrpcErrorCode, 400 | 401 | 403 | 404 | 409 | 412 | 413 | 429 | 500 | 501 | 502 | 504> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_REQUESTS: 429,
  INTERNAL_SERVER_ERROR: 500,
  NOT_IMPLEMENTED: 501,
  BAD_GATEWAY: 502,
  GATEWAY_TIMEOUT: 504,
};

type Env = { Variables: { nodeId: string } };

const refuse = (c: Context, error: ApiError) => {
  if (error.details.retryAfterSec !== undefined) c.header('Retry-After', String(error.details.retryAfterSec));
  return c.json(
    { code: error.code, message: error.message, details: error.details },
    STATUS[API_ERRORS[error.code].trpc],
  );
};

function count(c: Context, header: string): number {
  const text = c.req.header(header);
  const n = text !== undefined && /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n))
    throw new ApiError('INVALID_INPUT', `header ${header}: expected a whole number`, { field: header });
  return n;
}

const key = (c: Context): string => checkedBackupKey(c.req.param('key') ?? '');

/** A backup key as the HTTP route and the peer socket take it, or INVALID_INPUT. */
export function checkedBackupKey(k: string): string {
  if (!backupKey.safeParse(k).success) {
    throw new ApiError('INVALID_INPUT', 'backup key: expected 1–128 of [A-Za-z0-9._-]', { field: 'key' });
  }
  return k;
}

export function backupRoutes(
  deps: Deps,
  services: Services,
  perIp: { limiter: RateLimiter; ip: (c: Context) => string },
): Hono<Env> {
  const routes = new Hono<Env>();
  const limitBytes = deps.config.limits.maxBackupBlobBytes;

  routes.use('*', async (c, next) => {
    const wait = perIp.limiter.take(perIp.ip(c));
    if (wait > 0) {
      deps.metrics.rateLimited.inc(1, { scope: 'ip' });
      return refuse(
        c,
        new ApiError('RATE_LIMITED', `too many requests; retry in ${wait} s`, { retryAfterSec: wait }),
      );
    }
    const auth = c.req.header('authorization');
    const token = auth ? /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(auth)?.[1] : undefined;
    c.set('nodeId', (await services.auth.walletFor(token)).nodeId);
    await next();
  });

  routes.put(
    '/:key',
    bodyLimit({
      maxSize: limitBytes,
      onError: (c) => {
        const declared = Number(c.req.header('content-length'));
        return refuse(c, tooLarge(Number.isSafeInteger(declared) ? declared : limitBytes + 1, limitBytes));
      },
    }),
    async (c) => {
      const k = key(c);
      const expectedVersion = count(c, HEADER_EXPECTED_VERSION);
      const leaseToken = count(c, HEADER_LEASE_TOKEN);
      const blob = new Uint8Array(await c.req.arrayBuffer());
      const put = await services.backup.putV2(
        c.get('nodeId'),
        k,
        blob,
        { expectedVersion, leaseToken },
        perIp.ip(c),
      );
      return c.json(put);
    },
  );

  routes.get('/:key', async (c) => {
    const k = key(c);
    const record = await deps.store.getBackup(c.get('nodeId'), k);
    if (!record) throw new ApiError('BACKUP_NOT_FOUND', `no backup under "${k}"`);
    return c.body(record.blob as Uint8Array<ArrayBuffer>, 200, {
      'content-type': 'application/octet-stream',
      [HEADER_VERSION]: String(record.version),
      'cache-control': 'no-store',
    });
  });

  routes.onError((error, c) => {
    if (error instanceof ApiError) return refuse(c, error);
    deps.log.error({ err: error, path: c.req.path }, 'backup route failed');
    return refuse(c, new ApiError('INTERNAL', 'internal error'));
  });
  return routes;
}
