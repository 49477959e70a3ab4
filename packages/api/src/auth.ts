// Wallet login: sign the LSP's single-use challenge with the node key, get a bearer session token.
import * as z from 'zod/mini';
import { nodeIdHex } from './amounts.ts';
import { isoDatetime } from './lsps2.ts';
import { checked } from './schema.ts';

/** What a wallet signs (signmessage format): domain-separated so a login signature is good for nothing else. */
export function loginMessage(challenge: string): string {
  return `lpw-lsp-login:${challenge}`;
}

/**
 * The WebSocket peer link carries the session token as a Sec-WebSocket-Protocol value, not in the
 * URL (proxies and access logs keep URLs). The client offers both; the LSP answers `lpw-peer`.
 */
export const PEER_WS_PROTOCOL = 'lpw-peer';
export const PEER_WS_TOKEN_PREFIX = 'lpw-token.';
/**
 * Offered before `lpw-peer` by a wallet that sends its backup on the peer socket; an LSP that serves
 * it answers with it, and every frame of that socket is then tagged (BOLT 8 or backup). An older LSP
 * answers `lpw-peer`, and the wallet keeps the HTTP backup route.
 */
export const PEER_WS_BACKUP_PROTOCOL = 'lpw-peer-backup';
export const peerWebSocketProtocols = (token: string, options: { backup?: boolean } = {}): string[] => [
  ...(options.backup ? [PEER_WS_BACKUP_PROTOCOL] : []),
  PEER_WS_PROTOCOL,
  `${PEER_WS_TOKEN_PREFIX}${token}`,
];

export const challengeString = checked(
  z.string(),
  z.regex(/^[0-9a-f]{64}$/, 'expected the 32-byte hex challenge'),
);

export const authChallengeOutput = z.object({ challenge: challengeString, expires_at: isoDatetime });
export type AuthChallengeOutput = z.infer<typeof authChallengeOutput>;

export const authLoginInput = z.strictObject({
  nodeId: nodeIdHex,
  challenge: challengeString,
  signature: checked(
    z.string(),
    z.regex(/^[ybndrfg8ejkmcpqxot1uwisza345h769]{104}$/, 'expected a zbase32 signature'),
  ),
});
export type AuthLoginInput = z.infer<typeof authLoginInput>;

export const authLoginOutput = z.object({ token: z.string(), expires_at: isoDatetime, nodeId: nodeIdHex });
export type AuthLoginOutput = z.infer<typeof authLoginOutput>;

export const authWhoamiOutput = z.object({ nodeId: nodeIdHex, expires_at: isoDatetime });
