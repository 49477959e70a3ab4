// The JIT fee menu the operator set on the admin page: kept in the LSP's database (the node_kv
// table, namespace "admin") so a restart keeps it, and applied over the configured JIT_MIN_FEE_MSAT
// and JIT_PROPORTIONAL. Menus handed out before a change stay valid: their promise covers their fees.
import type { Config } from '../config.ts';
import type { LspStore } from '../store/types.ts';

const NAMESPACE = 'admin';
const KEY = 'jit-fee-policy';

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
