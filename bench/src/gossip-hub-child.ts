// The devnet's gossip hub in a process of its own (`gossip-hub-child.ts <json>`), so the LSP's WASM
// memory in the bench process holds the LSP's graph alone. Prints one HUB_READY line, follows the
// parent's chain, stops on SIGTERM.
import { startGossipHub } from '@lpw/devnet/gossip-graph';

const { esploraUrl, seed, nodes, channels } = JSON.parse(process.argv[2] ?? '{}') as {
  esploraUrl: string;
  seed: string;
  nodes: number;
  channels: number;
};
const hub = await startGossipHub({ esploraUrl }, { seed, nodes, channels });
const follow = setInterval(() => void hub.node.syncChain().catch(() => {}), 500);
process.on('SIGTERM', () => {
  clearInterval(follow);
  void hub.stop().finally(() => process.exit(0));
});
const { node: _node, stop: _stop, ...ready } = hub;
console.log(`HUB_READY ${JSON.stringify(ready)}`);
