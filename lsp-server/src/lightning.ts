// The Lightning half of the service: JIT channels, LSPS1 order channels and the forwards log, all
// listening to the one node. Started after the node, stopped before it.
import type { LightningNode } from '@lpw/node';
import type { Deps } from './deps.ts';
import { ForwardLog } from './liquidity/forwards.ts';
import { JitChannels } from './liquidity/jit-channels.ts';
import { OrderChannels } from './liquidity/order-channels.ts';

export interface LightningServices {
  jit: JitChannels;
  forwards: ForwardLog;
  orders: OrderChannels;
  /** Everything queued so far has been handled (tests). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export async function startLightningServices(
  deps: Pick<Deps, 'store' | 'clock' | 'config' | 'metrics' | 'log'>,
  node: LightningNode,
): Promise<LightningServices> {
  const forwards = new ForwardLog({ deps, node });
  forwards.start();
  const jit = new JitChannels({
    deps,
    node,
    onForwarding: (channelId, startedAtMs) => forwards.expectJit(channelId, startedAtMs),
  });
  await jit.start();
  const orders = new OrderChannels({ deps, node });
  await orders.start();
  return {
    jit,
    forwards,
    orders,
    async idle() {
      await jit.idle();
      await orders.idle();
      await forwards.idle();
    },
    async stop() {
      await jit.stop();
      await orders.stop();
      await forwards.stop();
    },
  };
}
