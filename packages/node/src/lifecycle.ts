// Whether the node runs: every part of it refuses work once stop() has begun (NODE_STOPPED).
import { NodeError } from './errors.ts';

export class Lifecycle {
  /** stop() began: no new chain sync starts. */
  stopping = false;
  /** stop() took the last events and snapshot: calls are refused from here on. */
  stopped = false;

  assertRunning(): void {
    if (this.stopped) throw new NodeError('NODE_STOPPED');
  }
}

/** A user channel id: 120 random bits, because the bindings reject u128 values ≥ 2^124. */
export function randomU128(random: (length: number) => Uint8Array): bigint {
  let value = 0n;
  for (const b of random(15)) value = (value << 8n) | BigInt(b);
  return value;
}
