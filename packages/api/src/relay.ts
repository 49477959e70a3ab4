// `relay.fetch`: the LSP makes one HTTP request for the wallet. The wallet's Content-Security-Policy
// lets it talk to its own origin only, so LNURL-pay, Lightning Addresses and L402 sites on other
// origins are reached through this bounded, authenticated relay (see DESIGN.md).
import { z } from 'zod';

/** Request bodies are small (LNURL and L402 send JSON or nothing). */
export const MAX_RELAY_REQUEST_BODY_CHARS = 64 * 1024;
/** The most of a response the LSP reads and returns. */
export const MAX_RELAY_RESPONSE_BYTES = 1024 * 1024;

export const relayMethod = z.enum(['GET', 'POST']);

/** The only request headers passed on; anything else (cookies, hosts, forwarding) is refused. */
export const relayRequestHeaders = z
  .object({
    authorization: z.string().max(8192).optional(),
    accept: z.string().max(256).optional(),
    'content-type': z.string().max(256).optional(),
  })
  .strict();

export const relayFetchInput = z
  .object({
    url: z.string().min(1).max(2048),
    method: relayMethod.default('GET'),
    headers: relayRequestHeaders.default({}),
    /** Text body, POST only. */
    body: z.string().max(MAX_RELAY_REQUEST_BODY_CHARS).optional(),
  })
  .strict()
  .refine((r) => r.body === undefined || r.method === 'POST', {
    message: 'a body is sent with POST only',
    path: ['body'],
  });
export type RelayFetchInput = z.input<typeof relayFetchInput>;

export const relayFetchOutput = z.object({
  /** Where the answer came from (after redirects the LSP followed and checked). */
  url: z.string(),
  status: z.number().int().min(100).max(599),
  headers: z.object({
    'content-type': z.string().optional(),
    'www-authenticate': z.string().optional(),
  }),
  /** The response body, standard base64 (binary survives). */
  body_base64: z.string(),
});
export type RelayFetchOutput = z.infer<typeof relayFetchOutput>;
