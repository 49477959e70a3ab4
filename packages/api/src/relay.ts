// `relay.fetch`: the LSP makes one HTTP request for the wallet, when the browser cannot make it
// itself (an LNURL-pay, Lightning Address or L402 site that sends no CORS headers): a bounded,
// authenticated fallback, which the wallet shows as "via your LSP" (see DESIGN.md).
import * as z from 'zod/mini';
import { checked } from './schema.ts';

/** Request bodies are small (LNURL and L402 send JSON or nothing). */
export const MAX_RELAY_REQUEST_BODY_CHARS = 64 * 1024;
/** The most of a response the LSP reads and returns. */
export const MAX_RELAY_RESPONSE_BYTES = 1024 * 1024;

export const relayMethod = z.enum(['GET', 'POST']);

/** The only request headers passed on; anything else (cookies, hosts, forwarding) is refused. */
export const relayRequestHeaders = z.strictObject({
  authorization: z.optional(checked(z.string(), z.maxLength(8192))),
  accept: z.optional(checked(z.string(), z.maxLength(256))),
  'content-type': z.optional(checked(z.string(), z.maxLength(256))),
});

export const relayFetchInput = checked(
  z.strictObject({
    url: checked(z.string(), z.minLength(1), z.maxLength(2048)),
    method: z._default(relayMethod, 'GET'),
    headers: z._default(relayRequestHeaders, {}),
    /** Text body, POST only. */
    body: z.optional(checked(z.string(), z.maxLength(MAX_RELAY_REQUEST_BODY_CHARS))),
  }),
  z.refine((r) => r.body === undefined || r.method === 'POST', {
    message: 'a body is sent with POST only',
    path: ['body'],
  }),
);
export type RelayFetchInput = z.input<typeof relayFetchInput>;

export const relayFetchOutput = z.object({
  /** Where the answer came from (after redirects the LSP followed and checked). */
  url: z.string(),
  status: checked(z.number(), z.int(), z.minimum(100), z.maximum(599)),
  headers: z.object({
    'content-type': z.optional(z.string()),
    'www-authenticate': z.optional(z.string()),
  }),
  /** The response body, standard base64 (binary survives). */
  body_base64: z.string(),
});
export type RelayFetchOutput = z.infer<typeof relayFetchOutput>;
