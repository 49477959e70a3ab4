// @lpw/l402: paid HTTP APIs over Lightning (L402): Hono middleware, real macaroons, a paying fetch.
export {
  type FetchWithL402Options,
  fetchWithL402,
  L402ClientError,
  type L402ClientErrorCode,
  type L402Offer,
  type L402Receipt,
  type TokenScope,
  tokenCovers,
  tokenScope,
} from './client.ts';
export { L402Error, type L402ErrorCode } from './errors.ts';
export {
  decodeBase64,
  formatAuthorization,
  formatChallenge,
  type L402Challenge,
  type L402Credentials,
  parseAuthorization,
  parseChallenge,
} from './header.ts';
export {
  addFirstPartyCaveat,
  decodeMacaroon,
  encodeMacaroon,
  type Macaroon,
  MacaroonError,
  mintMacaroon,
  verifyMacaroonSignature,
} from './macaroon.ts';
export { type InvoiceIssuer, type L402Env, type L402Options, l402 } from './middleware/l402/index.ts';
export { MemoryUsageStore, type UsageStore } from './store.ts';
export {
  decodeIdentifier,
  encodeIdentifier,
  type L402Grant,
  mintToken,
  parseCaveats,
  pathCovered,
  type RootKey,
  type TokenCaveats,
  type TokenIdentifier,
  verifyToken,
} from './token.ts';
