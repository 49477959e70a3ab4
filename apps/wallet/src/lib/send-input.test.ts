import { encodeBolt11 } from '@lpw/payment-request';
import { describe, expect, it } from 'vitest';
import { maxRoutingFeeMsat, parsePayable, SendInputError } from './send-input.ts';

const key = new Uint8Array(32).fill(3);
const NOW = 1_800_000_000;
function invoice(network: 'regtest' | 'bitcoin', amountMsat?: bigint, expirySeconds = 3600): string {
  return encodeBolt11(
    {
      network,
      amountMsat,
      timestamp: NOW,
      paymentHash: '11'.repeat(32),
      paymentSecret: '22'.repeat(32),
      description: 'coffee',
      expirySeconds,
      features: [8, 14],
    },
    key,
  );
}

const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e instanceof SendInputError ? e.code : 'other';
  }
  return 'none';
};

describe('parsePayable', () => {
  it('reads a plain, lightning: and BIP 21 wrapped invoice', () => {
    const inv = invoice('regtest', 20_000_000n);
    for (const text of [
      inv,
      `lightning:${inv}`,
      `LIGHTNING:${inv.toUpperCase()}`,
      `bitcoin:bcrt1qxyz?amount=0.0002&lightning=${inv}`,
    ]) {
      const p = parsePayable(text, 'regtest', NOW * 1000);
      expect(p.amountMsat).toBe(20_000_000n);
      expect(p.description).toBe('coffee');
      expect(p.bolt11).toBe(inv);
    }
  });

  it('names what is wrong: garbage, broken, wrong network, expired, unsupported', () => {
    expect(codeOf(() => parsePayable('hello world', 'regtest', NOW * 1000))).toBe('NOT_AN_INVOICE');
    expect(codeOf(() => parsePayable('', 'regtest', NOW * 1000))).toBe('EMPTY');
    const inv = invoice('regtest', 1000n);
    expect(codeOf(() => parsePayable(`${inv.slice(0, -3)}qqq`, 'regtest', NOW * 1000))).toBe('INVALID');
    expect(codeOf(() => parsePayable(invoice('bitcoin', 1000n), 'regtest', NOW * 1000))).toBe(
      'WRONG_NETWORK',
    );
    expect(() => parsePayable(invoice('bitcoin', 1000n), 'regtest', NOW * 1000)).toThrow(/Bitcoin mainnet/);
    expect(codeOf(() => parsePayable(invoice('regtest', 1000n, 60), 'regtest', (NOW + 61) * 1000))).toBe(
      'EXPIRED',
    );
    expect(codeOf(() => parsePayable('alice@example.com', 'regtest', 0))).toBe('UNSUPPORTED');
    expect(codeOf(() => parsePayable('bitcoin:bcrt1qxyz?amount=1', 'regtest', 0))).toBe('UNSUPPORTED');
  });

  it('caps routing fees at 1% with a 10 sat floor', () => {
    expect(maxRoutingFeeMsat(100_000n)).toBe(10_000n);
    expect(maxRoutingFeeMsat(50_000_000n)).toBe(500_000n);
  });
});
