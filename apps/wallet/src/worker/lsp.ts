// The wallet's side of the LSP's tRPC API: one typed client, login by signing the LSP's challenge with
// the node key (session renewed before it expires), and the error code the server put in `data.app`.
import { type InfoOutput, loginMessage, signNodeMessage, type TrpcErrorCode } from '@lpw/api';
import { BackupError } from '@lpw/backup';
import type { AppRouter } from '@lpw/lsp-server';
import { backoffLink, isLspBusy } from '@lpw/lsp-server/client';
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import type { LspErrorCode } from './protocol.ts';

export type LspClient = ReturnType<typeof createTRPCClient<AppRouter>>;

/**
 * A code to act on: LSP_BUSY when the LSP kept refusing for load (its message says when to come
 * back), the server's ApiError code, or UNREACHABLE when no answer came back.
 */
export function lspErrorCode(error: unknown): LspErrorCode {
  if (isLspBusy(error)) return 'LSP_BUSY';
  // the binary backup routes answer JSON { code }; the package keeps the LSP's code in details
  if (error instanceof BackupError) {
    const lspCode = error.details.lspCode;
    return typeof lspCode === 'string' ? (lspCode as LspErrorCode) : error.code;
  }
  if (error instanceof TRPCClientError) {
    const app = (error.data as { app?: { code?: string } } | undefined)?.app;
    if (app?.code) return app.code as LspErrorCode;
    if (error.cause instanceof TypeError || /fetch|network/i.test(error.message)) return 'UNREACHABLE';
    return (error.data as { code?: TrpcErrorCode } | undefined)?.code ?? 'LSP_ERROR';
  }
  return 'UNREACHABLE';
}

export class LspSession {
  readonly api: LspClient;
  private token: string | undefined;
  private expiresAtMs = 0;
  private loggingIn: Promise<void> | null = null;

  constructor(
    readonly baseUrl: string,
    private readonly nodeId: string,
    /** Returns the node's 32-byte secret key; the caller wipes nothing we keep (we keep nothing). */
    private readonly nodeSecret: () => Uint8Array,
  ) {
    this.api = createTRPCClient<AppRouter>({
      links: [
        // RATE_LIMITED: wait as the LSP asks, a few times, then LspBusyError (same as createLspClient)
        backoffLink(),
        httpLink({
          url: new URL('trpc', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`).toString(),
          headers: () => (this.token ? { authorization: `Bearer ${this.token}` } : {}),
        }),
      ],
    });
  }

  info(): Promise<InfoOutput> {
    return this.api.info.get.query();
  }

  /** A valid bearer session (logs in again a minute before it expires). */
  async ensureSession(): Promise<void> {
    if (this.token && Date.now() < this.expiresAtMs - 60_000) return;
    this.loggingIn ??= (async () => {
      try {
        const { challenge } = await this.api.auth.challenge.mutate();
        const secret = this.nodeSecret();
        let signature: string;
        try {
          signature = signNodeMessage(loginMessage(challenge), secret);
        } finally {
          secret.fill(0);
        }
        const session = await this.api.auth.login.mutate({ nodeId: this.nodeId, challenge, signature });
        this.token = session.token;
        this.expiresAtMs = Date.parse(session.expires_at);
      } finally {
        this.loggingIn = null;
      }
    })();
    return this.loggingIn;
  }

  /** The bearer token of a valid session (for the binary backup routes). */
  async bearer(): Promise<string> {
    await this.ensureSession();
    return this.token!;
  }

  /** Runs an authenticated call; on an expired session logs in once more and retries. */
  async authed<T>(call: () => Promise<T>): Promise<T> {
    await this.ensureSession();
    try {
      return await call();
    } catch (error) {
      const code = lspErrorCode(error);
      if (code !== 'SESSION_EXPIRED' && code !== 'SESSION_REQUIRED') throw error;
      this.token = undefined;
      await this.ensureSession();
      return call();
    }
  }
}
