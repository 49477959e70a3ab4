// `info`: what a wallet needs to know before it talks to this LSP.
import * as z from 'zod/mini';
import { msatString, nodeIdHex, u32 } from './amounts.ts';

export const network = z.enum(['bitcoin', 'testnet', 'signet', 'regtest']);
export type Network = z.infer<typeof network>;

export const lspFeature = z.enum(['lsps1', 'lsps2', 'backup', 'routes', 'websocket-peer']);
export type LspFeature = z.infer<typeof lspFeature>;

export const infoOutput = z.object({
  nodeId: nodeIdHex,
  network,
  /** host:port where public Lightning peers reach the node over TCP, when it listens. */
  peerAddress: z.nullable(z.string()),
  /** Path on this server where wallets open the BOLT 8 WebSocket (e.g. "/peer"). */
  websocketPath: z.string(),
  /** Chain source wallets should sync from. */
  esploraUrl: z.nullable(z.string()),
  limits: z.object({
    minJitPaymentMsat: msatString,
    maxJitPaymentMsat: msatString,
    maxBackupBlobBytes: u32,
    maxBackupKeys: u32,
  }),
  features: z.array(lspFeature),
});
export type InfoOutput = z.infer<typeof infoOutput>;
