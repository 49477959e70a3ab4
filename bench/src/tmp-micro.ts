import * as ldk from 'lightningdevkit';
import { initWasm } from './product.ts';

await initWasm();
const keys = ldk.KeysManager.constructor_new(new Uint8Array(32).fill(7), 1n, 1);
const ids = Array.from({ length: 500 }, (_, i) => {
  const id = new Uint8Array(32);
  id[7] = i & 255;
  id[6] = i >> 8;
  id[20] = 1;
  return id;
});
const t = (label: string, fn: () => void) => {
  const c = process.cpuUsage();
  const w = performance.now();
  fn();
  const u = process.cpuUsage(c);
  console.log(
    label,
    ((performance.now() - w) / 500).toFixed(3),
    'ms wall',
    ((u.user + u.system) / 1000 / 500).toFixed(3),
    'ms cpu each',
  );
};
const derived: ldk.InMemorySigner[] = [];
t('derive_channel_keys', () => {
  for (const id of ids) derived.push(keys.derive_channel_keys(100_000n, id));
});
t('InMemorySigner.new', () => {
  for (const d of derived)
    ldk.InMemorySigner.constructor_new(
      d.get_funding_key(),
      d.get_revocation_base_key(),
      d.get_payment_key(),
      d.get_delayed_payment_base_key(),
      d.get_htlc_base_key(),
      d.get_commitment_seed(),
      100_000n,
      new Uint8Array(32),
      new Uint8Array(32),
    );
});
t('getters only', () => {
  for (const d of derived) {
    d.get_funding_key();
    d.get_revocation_base_key();
    d.get_payment_key();
    d.get_delayed_payment_base_key();
    d.get_htlc_base_key();
    d.get_commitment_seed();
  }
});
