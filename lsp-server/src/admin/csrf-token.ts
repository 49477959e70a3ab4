// The admin forms' CSRF token: an HMAC of the request's credentials under a key made at start, so
// it differs per login and per process, and a page from another origin cannot know it. Checked on
// every POST besides the Origin check (hono/csrf), which old browsers and proxies may not send.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export class CsrfTokens {
  private readonly key = randomBytes(32);

  /** The token for a request carrying these credentials (the Authorization header). */
  tokenFor(credentials: string): string {
    return createHmac('sha256', this.key).update(credentials).digest('base64url');
  }

  matches(credentials: string, given: unknown): boolean {
    if (typeof given !== 'string') return false;
    const a = Buffer.from(given);
    const b = Buffer.from(this.tokenFor(credentials));
    return a.length === b.length && timingSafeEqual(a, b);
  }
}
