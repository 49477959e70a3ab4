// The LSP's database as an L402 usage store (`UsageStore` of @lpw/l402, matched by shape): a paid
// API served beside the LSP counts token uses durably, and correctly across every process that
// shares the database (SQLite file or PostgreSQL).
import type { LspStore } from './store/types.ts';

/** @example l402({ node, rootKeys, priceSat: 10, maxUses: 3, store: l402UsageStore(lsp.store) }) */
export function l402UsageStore(store: Pick<LspStore, 'consumeL402Use'>): {
  consume(tokenId: string, maxUses: number, expiresAtSec: number | undefined): Promise<boolean>;
} {
  return {
    consume: (tokenId, maxUses, expiresAtSec) => store.consumeL402Use(tokenId, maxUses, expiresAtSec),
  };
}
