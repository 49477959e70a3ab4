// What the worker's parts (receive, pay, streams) ask of the running wallet; runtime.ts answers.
import type { LspClient } from '@lpw/lsp-server/client';
import type { LightningNode } from '@lpw/node';
import type { PeerLink } from './peer-link.ts';
import type { Snapshot } from './snapshot.ts';

export interface Session {
  /** The running node; NODE_NOT_RUNNING (with the reason the snapshot gives) until it runs. */
  node(): LightningNode;
  /** The LSP client of this start; LSP_UNREACHABLE before there is one. */
  client(): LspClient;
  peer: PeerLink;
  snapshot: Snapshot;
  log(level: string, message: string): void;
}
