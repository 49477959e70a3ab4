// `--lsp-transport bolt8`: the LSP reached only as a Lightning peer, over its public TCP port, and
// spoken to in LSPS over BOLT 8 custom messages (bLIP 50/52) — no HTTP, no login, no tRPC. What the
// wallet asks of its LSP then comes from the LSPS client; what only the LSP's HTTP API offers (the
// LSP's routes for paying, backups) is refused with a message saying so.
import type { LspClient } from '@lpw/lsp-server/client';
import { createLspsClient } from '@lpw/lsp-server/lsps-client';
import type { LightningNode } from '@lpw/node';
import { tcp } from '@lpw/node/tcp';
import { CliError } from './errors.ts';

/** What the wallet uses of its LSP, whichever way it reaches it. */
export type WalletLsp = Pick<
  LspClient,
  'token' | 'login' | 'connect' | 'quoteJit' | 'receiveJit' | 'route' | 'sendPayment' | 'sendOffer'
>;

export interface LspPeer {
  nodeId: string;
  host: string;
  port: number;
}

/** `NODE_ID@HOST:PORT`, the form a Lightning peer is given in. */
export function parseLspPeer(uri: string | undefined): LspPeer {
  if (uri === undefined)
    throw new CliError(
      'USAGE',
      '--lsp-transport bolt8 needs --lsp-peer NODE_ID@HOST:PORT (the LSP as a Lightning peer)',
    );
  const m = /^(0[23][0-9a-fA-F]{64})@([^\s@]+):([0-9]{1,5})$/.exec(uri.trim());
  const port = Number(m?.[3]);
  if (!m || port < 1 || port > 65_535)
    throw new CliError('USAGE', `--lsp-peer expects NODE_ID@HOST:PORT, got "${uri}"`);
  return { nodeId: m[1]!.toLowerCase(), host: m[2]!.replace(/^\[(.*)\]$/, '$1'), port };
}

/** The LSP over BOLT 8 alone, in the shape the wallet uses. */
export function bolt8Lsp(node: Pick<LightningNode, 'customMessages' | 'on'>, peer: LspPeer): WalletLsp {
  const lsps = createLspsClient(node, peer.nodeId);
  const httpOnly = (what: string) => () =>
    Promise.reject(
      new CliError(
        'USAGE',
        `${what} needs the LSP's HTTP API (its routes): run without --lsp-transport bolt8`,
      ),
    );
  return {
    // BOLT 8 authenticates both ends: there is no session to keep
    token: 'bolt8',
    login: async () => 'bolt8',
    async connect(wallet) {
      if (!wallet.isConnected(peer.nodeId)) await wallet.connect(peer.nodeId, tcp(peer.host, peer.port));
    },
    quoteJit: (amountMsat) => lsps.quoteJit(amountMsat),
    receiveJit: (wallet, request) => lsps.receiveJit(wallet, request),
    route: httpOnly('paying'),
    sendPayment: httpOnly('paying'),
    sendOffer: httpOnly('paying an offer'),
  };
}
