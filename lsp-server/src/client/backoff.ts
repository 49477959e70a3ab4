// Backing off when the LSP says RATE_LIMITED: a tRPC link that waits the time the LSP asked for and
// tries again, a few times, then fails with LspBusyError ("The LSP is busy; try again in N s").
// Every RATE_LIMITED the LSP sends is decided before the call does anything (the per-IP and
// per-wallet buckets, the busy gate, the new-identity quota all refuse up front), so a mutation is
// as safe to send again as a query.
import type { ApiErrorData } from '@lpw/api';
import { TRPCClientError, type TRPCLink } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import { observable, type Unsubscribable } from '@trpc/server/observable';

export interface BackoffOptions {
  /** Tries after the first refusal (default 3). */
  maxRetries?: number;
  /** A longer wait is not waited out: the caller hears at once when to come back (default 10 s). */
  maxWaitSec?: number;
}

/** The LSP refused a call for load and the client stopped waiting: when to try again. */
export class LspBusyError extends TRPCClientError<AnyTRPCRouter> {
  readonly code = 'LSP_BUSY';

  constructor(
    readonly retryAfterSec: number,
    refusal: TRPCClientError<AnyTRPCRouter>,
  ) {
    // the LSP's own error shape stays readable (data.app.code is RATE_LIMITED) for code that maps it
    super(`The LSP is busy; try again in ${retryAfterSec} s`, {
      ...(refusal.shape ? { result: { error: refusal.shape } } : {}),
      ...(refusal.meta ? { meta: refusal.meta } : {}),
      cause: refusal,
    });
    // TRPCClientError's constructor pins its own prototype; ours must come back for instanceof
    Object.setPrototypeOf(this, LspBusyError.prototype);
  }
}

export function isLspBusy(error: unknown): error is LspBusyError {
  return error instanceof LspBusyError;
}

/**
 * The wait the LSP asked for when `error` is its RATE_LIMITED, else undefined: the error's
 * `retryAfterSec` (per call, also inside a batch), else the response's Retry-After, else 1 s.
 */
export function rateLimitWaitSec(error: unknown): number | undefined {
  if (!(error instanceof TRPCClientError)) return undefined;
  const app = (error.data as { app?: ApiErrorData } | undefined)?.app;
  if (app?.code !== 'RATE_LIMITED') return undefined;
  const fromData = app.details.retryAfterSec;
  if (typeof fromData === 'number' && fromData > 0) return Math.ceil(fromData);
  const header = (error.meta?.response as Response | undefined)?.headers?.get('retry-after');
  const fromHeader = Number(header);
  return Number.isFinite(fromHeader) && fromHeader > 0 ? Math.ceil(fromHeader) : 1;
}

/**
 * Put before the terminating link: `links: [backoffLink(), httpLink({ url })]`.
 * @example const trpc = createTRPCClient<AppRouter>({ links: [backoffLink({ maxRetries: 2 }), httpLink({ url })] });
 */
export function backoffLink<TRouter extends AnyTRPCRouter>(options: BackoffOptions = {}): TRPCLink<TRouter> {
  const maxRetries = options.maxRetries ?? 3;
  const maxWaitSec = options.maxWaitSec ?? 10;
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        let current: Unsubscribable | undefined;
        let timer: ReturnType<typeof setTimeout> | undefined;
        let done = false;
        const attempt = (retries: number) => {
          current = next(op).subscribe({
            next: (value) => observer.next(value),
            complete: () => observer.complete(),
            error: (error) => {
              const waitSec = rateLimitWaitSec(error);
              if (waitSec === undefined || done) return observer.error(error);
              if (retries >= maxRetries || waitSec > maxWaitSec) {
                return observer.error(new LspBusyError(waitSec, error));
              }
              // up to a quarter more than asked, so a crowd refused together does not return together
              timer = setTimeout(() => attempt(retries + 1), waitSec * 1000 * (1 + Math.random() / 4));
            },
          });
        };
        attempt(0);
        return () => {
          done = true;
          clearTimeout(timer);
          current?.unsubscribe();
        };
      });
}
