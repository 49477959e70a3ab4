// The fees the operator set on the admin page, kept in the LSP's database (the node_kv table,
// namespace "admin") so a restart keeps them. The JIT fee menu applies over the configured
// JIT_MIN_FEE_MSAT and JIT_PROPORTIONAL; menus handed out before a change stay valid (their promise
// covers their fees). The routing fees are handed to the node at start (every channel, new ones too).
import type { ForwardingFees } from '@lpw/node';
import type { Config } from '../config.ts';
import type { LspStore } from '../store/types.ts';

const NAMESPACE = 'admin';
const KEY = 'jit-fee-policy';
const ROUTING_KEY = 'routing-fees';

export interface FeePolicy {
  minFeeMsat: bigint;
  proportional: number;
}

/** Applies a stored policy to `config.fee` (in place: the JIT service reads it per menu). */
export async function loadFeePolicy(store: LspStore, config: Config): Promise<FeePolicy | undefined> {
  const raw = (await store.nodeStore(NAMESPACE).load()).get(KEY);
  if (!raw) return undefined;
  const parsed = JSON.parse(new TextDecoder().decode(raw)) as { minFeeMsat: string; proportional: number };
  const policy = { minFeeMsat: BigInt(parsed.minFeeMsat), proportional: parsed.proportional };
  config.fee.minFeeMsat = policy.minFeeMsat;
  config.fee.proportional = policy.proportional;
  return policy;
}

export async function saveFeePolicy(store: LspStore, config: Config, policy: FeePolicy): Promise<void> {
  const value = new TextEncoder().encode(
    JSON.stringify({ minFeeMsat: policy.minFeeMsat.toString(), proportional: policy.proportional }),
  );
  await store.nodeStore(NAMESPACE).commit([{ key: KEY, value }]);
  config.fee.minFeeMsat = policy.minFeeMsat;
  config.fee.proportional = policy.proportional;
}

export async function loadRoutingFees(store: LspStore): Promise<ForwardingFees | undefined> {
  const raw = (await store.nodeStore(NAMESPACE).load()).get(ROUTING_KEY);
  return raw ? (JSON.parse(new TextDecoder().decode(raw)) as ForwardingFees) : undefined;
}

/** Stored before the node applies them: a crash in between applies them at the next start. */
export async function saveRoutingFees(store: LspStore, fees: ForwardingFees): Promise<void> {
  const value = new TextEncoder().encode(
    JSON.stringify({ baseMsat: fees.baseMsat, proportionalMillionths: fees.proportionalMillionths }),
  );
  await store.nodeStore(NAMESPACE).commit([{ key: ROUTING_KEY, value }]);
}
