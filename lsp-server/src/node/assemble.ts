// Builds the LSP's Lightning node from the configuration: the in-process devnet (with its Esplora
// server) unless a real chain source is set (or the caller hands one in), node state in the LSP store.
import { type Devnet, startDevnet } from '@lpw/devnet';
import {
  bitcoindSource,
  type ChainOption,
  type ChainSource,
  createNode,
  esploraSource,
  type LightningNode,
  type NodeOptions,
} from '@lpw/node';
import { initLdkNode } from '@lpw/node/node-wasm';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { NodeFence } from '../standby.ts';
import type { LspStore } from '../store/types.ts';

export interface AssembledNode {
  node: LightningNode;
  devnet: Devnet | undefined;
  stop(): Promise<void>;
}

export async function assembleNode(
  config: Config,
  store: LspStore,
  nodeSeed: Uint8Array,
  log: Logger,
  overrides: {
    /** An Esplora URL to use instead of the configured chain (dev.ts runs one devnet for everything). */
    esploraUrl?: string;
    /** Last word on the node's options (tests). */
    node?: Partial<NodeOptions>;
    /** Hot standby: node state written through the lock's session, every broadcast preceded by a check. */
    fence?: NodeFence;
  } = {},
): Promise<AssembledNode> {
  await initLdkNode();
  let devnet: Devnet | undefined;
  let chain: ChainOption;
  if (overrides.esploraUrl) {
    chain = { esploraUrl: overrides.esploraUrl };
  } else if (config.chain === 'devnet') {
    devnet = await startDevnet({ seed: 'lsp-server' });
    chain = { esploraUrl: devnet.esploraUrl };
    log.warn(
      { esploraUrl: devnet.esploraUrl },
      'using the in-process devnet chain (regtest, for trying only)',
    );
  } else if (config.chain === 'esplora') {
    chain = { esploraUrl: config.esploraUrl! };
  } else {
    chain = bitcoindSource({ url: config.bitcoindRpcUrl! });
  }
  const fence = overrides.fence;
  const node = await createNode({
    seed: nodeSeed,
    network: config.network,
    role: 'lsp',
    store: store.nodeStore('lsp-0', fence?.db),
    chain: fence
      ? fenceBroadcasts('esploraUrl' in chain ? esploraSource({ url: chain.esploraUrl }) : chain, fence)
      : chain,
    alias: config.nodeAlias,
    ...(config.publicPeerAddress && /^\d+\.\d+\.\d+\.\d+:/.test(config.publicPeerAddress)
      ? {
          announceAddresses: [
            {
              host: config.publicPeerAddress.split(':')[0]!,
              port: Number(config.publicPeerAddress.split(':')[1]),
            },
          ],
        }
      : {}),
    log: (entry) => {
      if (entry.level === 'error') log.error({ module: entry.module }, entry.message);
      else if (entry.level === 'warn') log.warn({ module: entry.module }, entry.message);
    },
    ...overrides.node,
  });
  return {
    node,
    devnet,
    async stop() {
      await node.stop();
      await devnet?.stop();
    },
  };
}

/**
 * A process that lost the standby lock must not broadcast: a commitment it holds may be one the
 * active process has since revoked, and broadcasting it would hand the peer the channel's money.
 */
function fenceBroadcasts(source: ChainSource, fence: NodeFence): ChainSource {
  return new Proxy(source, {
    get(target, property, receiver) {
      if (property === 'broadcast')
        return async (rawTx: Uint8Array) => {
          await fence.assertHeld();
          return target.broadcast(rawTx);
        };
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
