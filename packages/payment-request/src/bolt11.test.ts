// BOLT 11 (11-payment-encoding.md): every example and invalid example of the spec, from the shared
// vector file, plus the writer rules and the payability checks a wallet needs before paying.

import { readFileSync } from 'node:fs';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { bech32 } from '@scure/base';
import { describe, expect, it } from 'vitest';
import {
  assertPayable,
  type Bolt11Fields,
  type Bolt11Invoice,
  type Bolt11TaggedField,
  decodeBolt11,
  encodeBolt11,
  encodeBolt11TaggedFields,
  isExpired,
  PaymentRequestError,
  type PaymentRequestErrorCode,
  privateKeySigner,
  verifyDescriptionHash,
} from './index.ts';

interface Vector {
  title: string;
  invoice: string;
  valid: boolean;
  network?: string;
  amount_msat?: number | null;
}
const vectorFile = JSON.parse(
  readFileSync(new URL('../../../vectors/bolt11.json', import.meta.url), 'utf8'),
) as { payee_node_id: string; vectors: Vector[] };
const validVectors = vectorFile.vectors.filter((vector) => vector.valid);
const invalidVectors = vectorFile.vectors.filter((vector) => !vector.valid);

// "All the examples are signed with priv_key e126f6…" (BOLT 11, Examples).
const SPEC_PRIVATE_KEY = hexToBytes('e126f68f7eafcc8b74f54d269fe206be715000f94dac067d1c04a8ca3b2db734');
const SPEC_PAYEE = vectorFile.payee_node_id;
const HASH_0102 = '0001020304050607080900010203040506070809000102030405060708090102';
const SECRET_11 = '11'.repeat(32);
const SPEC_TIMESTAMP = 1496314658;
const CAKE =
  'One piece of chocolate cake, one icecream cone, one pickle, one slice of swiss cheese, one slice of salami, one lollypop, one piece of cherry pie, one sausage, one cupcake, and one slice of watermelon';
const CAKE_HASH = bytesToHex(sha256(utf8ToBytes(CAKE)));

// The semantic fields of a decoded invoice (what a wallet acts on), for comparisons.
function semantic(invoice: Bolt11Invoice) {
  const { paymentRequest, signature, recoveryId, taggedFields, ...rest } = invoice;
  return rest;
}

const standard = {
  network: 'bitcoin' as const,
  amountMsat: undefined,
  timestamp: SPEC_TIMESTAMP,
  paymentHash: HASH_0102,
  paymentSecret: SECRET_11,
  description: undefined,
  descriptionHash: undefined,
  payeeNodeId: SPEC_PAYEE,
  expirySeconds: 3600,
  expiresAt: SPEC_TIMESTAMP + 3600,
  minFinalCltvExpiryDelta: 18,
  routeHints: [],
  features: [8, 14],
  fallbacks: [],
  metadata: undefined,
};
const cakeInvoice = { ...standard, amountMsat: 2_000_000_000n, descriptionHash: CAKE_HASH };
const coffeeBeans = {
  ...standard,
  amountMsat: 2_500_000_000n,
  description: 'coffee beans',
  features: [8, 14, 99],
};
const donation = { ...standard, description: 'Please consider supporting this project' };

// Expected fields per spec example, from the example's title and its breakdown in the spec.
const EXPECTED: Record<string, ReturnType<typeof semantic>> = {
  'Please make a donation of any amount using payment_hash 0001020304050607080900010203040506070809000102030405060708090102 to me @03e7156ae33b0a208d0744199163177e909e80176e55d97a2f221ede0f934dd9ad':
    donation,
  'Please send $3 for a cup of coffee to the same peer, within one minute': {
    ...standard,
    amountMsat: 250_000_000n,
    description: '1 cup coffee',
    expirySeconds: 60,
    expiresAt: SPEC_TIMESTAMP + 60,
  },
  'Please send 0.0025 BTC for a cup of nonsense (ナンセンス 1杯) to the same peer, within one minute': {
    ...standard,
    amountMsat: 250_000_000n,
    description: 'ナンセンス 1杯',
    expirySeconds: 60,
    expiresAt: SPEC_TIMESTAMP + 60,
  },
  'Now send $24 for an entire list of things (hashed)': cakeInvoice,
  'The same, on testnet, with a fallback address mk2QpYatsKicvFVuTAQLBryyccRXMUaGHP': {
    ...cakeInvoice,
    network: 'testnet' as const,
    fallbacks: [
      {
        version: 17,
        program: '3172b5654f6683c8fb146959d347ce303cae4ca7',
        address: 'mk2QpYatsKicvFVuTAQLBryyccRXMUaGHP',
      },
    ],
  },
  'On mainnet, with fallback address 1RustyRX2oai4EYYDpQGWvEL62BBGqN9T with extra routing info to go via nodes 029e03a901b85534ff1e92c43c74431f7ce72046060fcf7a95c37e148f78c77255 then 039e03a901b85534ff1e92c43c74431f7ce72046060fcf7a95c37e148f78c77255':
    {
      ...cakeInvoice,
      fallbacks: [
        {
          version: 17,
          program: '04b61f7dc1ea0dc99424464cc4064dc564d91e89',
          address: '1RustyRX2oai4EYYDpQGWvEL62BBGqN9T',
        },
      ],
      routeHints: [
        [
          {
            pubkey: '029e03a901b85534ff1e92c43c74431f7ce72046060fcf7a95c37e148f78c77255',
            shortChannelId: 0x0102030405060708n,
            feeBaseMsat: 1n,
            feeProportionalMillionths: 20,
            cltvExpiryDelta: 3,
          },
          {
            pubkey: '039e03a901b85534ff1e92c43c74431f7ce72046060fcf7a95c37e148f78c77255',
            shortChannelId: 0x030405060708090an,
            feeBaseMsat: 2n,
            feeProportionalMillionths: 30,
            cltvExpiryDelta: 4,
          },
        ],
      ],
    },
  'On mainnet, with fallback (P2SH) address 3EktnHQD7RiAE6uzMj2ZifT9YgRrkSgzQX': {
    ...cakeInvoice,
    fallbacks: [
      {
        version: 18,
        program: '8f55563b9a19f321c211e9b9f38cdf686ea07845',
        address: '3EktnHQD7RiAE6uzMj2ZifT9YgRrkSgzQX',
      },
    ],
  },
  'On mainnet, with fallback (P2WPKH) address bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4': {
    ...cakeInvoice,
    fallbacks: [
      {
        version: 0,
        program: '751e76e8199196d454941c45d1b3a323f1433bd6',
        address: 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4',
      },
    ],
  },
  'On mainnet, with fallback (P2WSH) address bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3':
    {
      ...cakeInvoice,
      fallbacks: [
        {
          version: 0,
          program: '1863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262',
          address: 'bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3',
        },
      ],
    },
  'On mainnet, with fallback (P2TR) address bc1pptdvg0d2nj99568qn6ssdy4cygnwuxgw2ukmnwgwz7jpqjz2kszse2s3lm': {
    ...cakeInvoice,
    fallbacks: [
      {
        version: 1,
        program: '0adac43daa9c8a5a68e09ea10692b82226ee190e572db9b90e17a410484ab405',
        address: 'bc1pptdvg0d2nj99568qn6ssdy4cygnwuxgw2ukmnwgwz7jpqjz2kszse2s3lm',
      },
    ],
  },
  'Please send 0.00967878534 BTC for a list of items within one week, amount in pico-BTC': {
    ...standard,
    amountMsat: 967_878_534n,
    timestamp: 1572468703,
    paymentHash: '462264ede7e14047e9b249da94fefc47f41f7d02ee9b091815a5506bc8abf75f',
    description:
      'Blockstream Store: 88.85 USD for Blockstream Ledger Nano S x 1, "Back In My Day" Sticker x 2, "I Got Lightning Working" Sticker x 2 and 1 more items',
    expirySeconds: 604800,
    expiresAt: 1572468703 + 604800,
    minFinalCltvExpiryDelta: 10,
    routeHints: [
      [
        {
          pubkey: '03d06758583bb5154774a6eb221b1276c9e82d65bbaceca806d90e20c108f4b1c7',
          shortChannelId: (589390n << 40n) | (3312n << 16n) | 1n,
          feeBaseMsat: 1000n,
          feeProportionalMillionths: 2500,
          cltvExpiryDelta: 40,
        },
      ],
    ],
  },
  'Please send $30 for coffee beans to the same peer, which supports features 8, 14 and 99, using secret 0x1111111111111111111111111111111111111111111111111111111111111111':
    coffeeBeans,
  'Same, but all upper case.': coffeeBeans,
  'Same, but including fields which must be ignored.': coffeeBeans,
  'Please send 0.01 BTC with payment metadata 0x01fafaf0': {
    ...standard,
    amountMsat: 1_000_000_000n,
    description: 'payment metadata inside',
    features: [8, 14, 48],
    metadata: '01fafaf0',
  },
  // The example negates s of the donation signature but keeps its recovery id 1, which belongs to the
  // low-S twin. Standard ECDSA recovery (libsecp256k1, which LDK, eclair, CLN and lnd use) of (r, s_high,
  // recid 1) gives this key, not the spec's payee; what the example requires is that decoding succeeds.
  'Public-key recovery with high-S signature': {
    ...donation,
    payeeNodeId: '02d0139ce7427d6dfffd26a326c18be754ef1e64672b42694ba5b23ef6e6e7803d',
  },
};

const EXPECTED_ERROR: Record<string, PaymentRequestErrorCode> = {
  'Same, but adding invalid unknown feature 100': 'UNKNOWN_REQUIRED_FEATURE',
  'Malformed bech32 string (no 1)': 'INVALID_BECH32',
  'Bech32 checksum is invalid.': 'INVALID_CHECKSUM',
  'Malformed bech32 string (mixed case)': 'INVALID_BECH32',
  'Signature is not recoverable.': 'INVALID_SIGNATURE',
  'String is too short.': 'TOO_SHORT',
  'Invalid multiplier': 'INVALID_AMOUNT',
  'Invalid sub-millisatoshi precision.': 'INVALID_AMOUNT',
  'Missing required `s` field.': 'MISSING_PAYMENT_SECRET',
  "Non canonical signature (high-S) with 'n' field defined": 'INVALID_SIGNATURE',
};

function errorOf(run: () => unknown): PaymentRequestError {
  try {
    run();
  } catch (error) {
    if (error instanceof PaymentRequestError) return error;
    throw error;
  }
  throw new Error('expected a PaymentRequestError, but nothing was thrown');
}

// A decoded invoice turned back into writer fields; x, c and n only where the invoice had them.
function fieldsOf(invoice: Bolt11Invoice): Bolt11Fields {
  const has = (tag: string) => invoice.taggedFields.some((field) => field.tag === tag);
  return {
    network: invoice.network,
    amountMsat: invoice.amountMsat,
    timestamp: invoice.timestamp,
    paymentHash: invoice.paymentHash,
    paymentSecret: invoice.paymentSecret,
    description: invoice.description,
    descriptionHash: invoice.descriptionHash,
    payeeNodeId: has('n') ? invoice.payeeNodeId : undefined,
    expirySeconds: has('x') ? invoice.expirySeconds : undefined,
    minFinalCltvExpiryDelta: has('c') ? invoice.minFinalCltvExpiryDelta : undefined,
    fallbacks: invoice.fallbacks,
    routeHints: invoice.routeHints,
    features: invoice.features,
    metadata: invoice.metadata,
  };
}

const specSigner = privateKeySigner(SPEC_PRIVATE_KEY);

describe('BOLT 11 examples (valid)', () => {
  it('has an expectation for every valid vector', () => {
    expect(validVectors.length).toBeGreaterThan(0);
    for (const vector of validVectors) expect(EXPECTED, vector.title).toHaveProperty([vector.title]);
  });

  for (const vector of validVectors) {
    it(`decodes: ${vector.title}`, () => {
      const invoice = decodeBolt11(vector.invoice);
      expect(invoice.network).toBe(vector.network);
      expect(invoice.amountMsat).toBe(vector.amount_msat == null ? undefined : BigInt(vector.amount_msat));
      expect(invoice.paymentRequest).toBe(vector.invoice);
      expect(semantic(invoice)).toEqual(EXPECTED[vector.title]);
    });

    it(`re-signs its own tagged fields to the same string: ${vector.title}`, () => {
      const invoice = decodeBolt11(vector.invoice);
      const reencoded = encodeBolt11TaggedFields(invoice, specSigner);
      if (invoice.signature !== decodeBolt11(reencoded).signature) {
        // Only the hand-made high-S example differs: our signer is RFC 6979 low-S, like the spec's.
        expect(vector.title).toBe('Public-key recovery with high-S signature');
        expect(reencoded).toBe(validVectors[0]!.invoice);
      } else {
        expect(reencoded).toBe(vector.invoice.toLowerCase());
      }
    });

    it(`decode(encode(fields)) gives the same invoice: ${vector.title}`, () => {
      const invoice = decodeBolt11(vector.invoice);
      if (invoice.payeeNodeId !== SPEC_PAYEE) return; // the high-S example: nobody holds that key
      const reencoded = decodeBolt11(encodeBolt11(fieldsOf(invoice), SPEC_PRIVATE_KEY));
      expect(semantic(reencoded)).toEqual(semantic(invoice));
    });
  }

  it('writes fields in the spec examples’ modern order (s, p, d|h, …, f, r, 9), so most re-encode exactly', () => {
    let identical = 0;
    for (const vector of validVectors) {
      const invoice = decodeBolt11(vector.invoice);
      if (invoice.payeeNodeId !== SPEC_PAYEE) continue;
      if (encodeBolt11(fieldsOf(invoice), SPEC_PRIVATE_KEY) === vector.invoice.toLowerCase()) identical++;
    }
    expect(identical).toBe(6); // the other 9 differ only in field order; the high-S one is skipped
  });

  it('checks the description hash against the description it commits to', () => {
    const invoice = decodeBolt11(validVectors.find((vector) => vector.title.includes('(hashed)'))!.invoice);
    expect(verifyDescriptionHash(invoice, CAKE)).toBe(true);
    expect(verifyDescriptionHash(invoice, `${CAKE}.`)).toBe(false);
  });
});

describe('decoding one invoice again', () => {
  // a payment's invoice is checked by three layers in turn; they share one decode
  it('gives the same frozen invoice, which no caller can change for the next', () => {
    const text = validVectors[0]!.invoice;
    const first = decodeBolt11(text);
    expect(decodeBolt11(text)).toBe(first);
    expect(() => {
      (first as { amountMsat: bigint | undefined }).amountMsat = 1n;
    }).toThrow(TypeError);
    expect(() => (first.routeHints as RouteHintArray).push([])).toThrow(TypeError);
    expect(() => (first.taggedFields[0]!.words as number[]).push(0)).toThrow(TypeError);
    expect(decodeBolt11(text).amountMsat).toBe(
      validVectors[0]!.amount_msat == null ? undefined : BigInt(validVectors[0]!.amount_msat),
    );
  });

  it('checks a changed text afresh, and refuses a bad one every time', () => {
    const good = validVectors[0]!.invoice;
    decodeBolt11(good);
    const broken = `${good.slice(0, -1)}${good.endsWith('q') ? 'p' : 'q'}`;
    expect(() => decodeBolt11(broken)).toThrow(PaymentRequestError);
    expect(() => decodeBolt11(broken)).toThrow(PaymentRequestError);
  });
});
type RouteHintArray = unknown[][];

describe('BOLT 11 examples of invalid invoices', () => {
  it('has an expected error for every invalid vector', () => {
    expect(invalidVectors.length).toBeGreaterThan(0);
    for (const vector of invalidVectors) expect(EXPECTED_ERROR, vector.title).toHaveProperty([vector.title]);
  });

  for (const vector of invalidVectors) {
    it(`rejects: ${vector.title}`, () => {
      const error = errorOf(() => decodeBolt11(vector.invoice));
      expect(error.code).toBe(EXPECTED_ERROR[vector.title]);
      expect(error.message.length).toBeGreaterThan(20);
    });
  }
});

// Invoices crafted here, signed with a test key, for the rules the spec examples do not cover.
const TEST_KEY = hexToBytes('01'.repeat(32));
const TEST_PAYEE = bytesToHex(secp256k1.getPublicKey(TEST_KEY, true));
const base: Bolt11Fields = {
  network: 'regtest',
  amountMsat: 10_000n,
  timestamp: 1_700_000_000,
  paymentHash: 'aa'.repeat(32),
  paymentSecret: 'bb'.repeat(32),
  description: 'test',
  features: [8, 14, 17],
};
const tagged = (fields: Bolt11Fields) => decodeBolt11(encodeBolt11(fields, TEST_KEY)).taggedFields;
const craft = (taggedFields: readonly Bolt11TaggedField[]) =>
  encodeBolt11TaggedFields(
    { network: 'regtest', amountMsat: 10_000n, timestamp: 1_700_000_000, taggedFields },
    TEST_KEY,
  );
const without = (fields: readonly Bolt11TaggedField[], tag: string) =>
  fields.filter((field) => field.tag !== tag);

describe('human-readable part', () => {
  it('names every network by its prefix, bcrt and tbs included', () => {
    const prefixes = {
      bitcoin: 'lnbc',
      testnet: 'lntb',
      signet: 'lntbs',
      regtest: 'lnbcrt',
      simnet: 'lnsb',
    } as const;
    for (const [network, prefix] of Object.entries(prefixes)) {
      const text = encodeBolt11({ ...base, network: network as Bolt11Fields['network'] }, TEST_KEY);
      expect(text.startsWith(`${prefix}100n1`)).toBe(true);
      expect(decodeBolt11(text).network).toBe(network);
      expect(decodeBolt11(text.toUpperCase()).network).toBe(network);
    }
  });

  it('writes the shortest amount and reads it back exactly', () => {
    const cases: [bigint, string][] = [
      [100_000_000_000n, '1'],
      [250_000_000n, '2500u'],
      [2_000_000_000n, '20m'],
      [10_000n, '100n'],
      [967_878_534n, '9678785340p'],
      [1n, '10p'],
      [18_446_744_073_709_551_615n, '184467440737095516150p'],
    ];
    for (const [amountMsat, amount] of cases) {
      const text = encodeBolt11({ ...base, amountMsat }, TEST_KEY);
      expect(text.startsWith(`lnbcrt${amount}1`)).toBe(true);
      expect(decodeBolt11(text).amountMsat).toBe(amountMsat);
    }
    expect(
      decodeBolt11(encodeBolt11({ ...base, amountMsat: undefined }, TEST_KEY)).amountMsat,
    ).toBeUndefined();
  });

  it('rejects amounts that are zero, have leading zeros or do not fit a u64', () => {
    const fields = tagged(base);
    const reprefix = (amount: string) => {
      const invoice = decodeBolt11(craft(fields));
      const hrp = `lnbcrt${amount}`;
      const data = invoice.paymentRequest.slice(invoice.paymentRequest.lastIndexOf('1') + 1, -6);
      return bech32Reencode(hrp, data);
    };
    for (const amount of ['0', '0100n', '184467440737095516160p', '1x', '12pn']) {
      expect(errorOf(() => decodeBolt11(reprefix(amount))).code).toBe('INVALID_AMOUNT');
    }
    expect(() => encodeBolt11({ ...base, amountMsat: 0n }, TEST_KEY)).toThrow(PaymentRequestError);
  });

  it('tells an unknown network from text that is not an invoice', () => {
    const invoice = decodeBolt11(craft(tagged(base)));
    const data = invoice.paymentRequest.slice(invoice.paymentRequest.lastIndexOf('1') + 1, -6);
    expect(errorOf(() => decodeBolt11(bech32Reencode('lnxyz', data))).code).toBe('UNKNOWN_NETWORK');
    expect(errorOf(() => decodeBolt11(bech32Reencode('lnbcx100n', data))).code).toBe('UNKNOWN_NETWORK');
    expect(errorOf(() => decodeBolt11(bech32Reencode('bc', data))).code).toBe('INVALID_PREFIX');
    expect(errorOf(() => decodeBolt11('lnbc1qq€qq')).code).toBe('INVALID_BECH32');
    expect(errorOf(() => decodeBolt11(42 as unknown as string)).code).toBe('INVALID_BECH32');
  });
});

// Re-encode hrp + data words with a fresh checksum (the signature will no longer match the new hrp,
// but the human-readable part is checked before the signature).
function bech32Reencode(hrp: string, data: string): string {
  const alphabet = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
  return bech32.encode(
    hrp,
    Array.from(data, (char) => alphabet.indexOf(char)),
    false,
  );
}

describe('tagged fields', () => {
  it('reads n and verifies against it; a wrong n is an invalid signature', () => {
    const invoice = decodeBolt11(encodeBolt11({ ...base, payeeNodeId: TEST_PAYEE }, TEST_KEY));
    expect(invoice.payeeNodeId).toBe(TEST_PAYEE);
    expect(invoice.taggedFields.some((field) => field.tag === 'n')).toBe(true);
    const someoneElse = bytesToHex(secp256k1.getPublicKey(hexToBytes('02'.repeat(32)), true));
    expect(errorOf(() => encodeBolt11({ ...base, payeeNodeId: someoneElse }, TEST_KEY)).code).toBe(
      'INVALID_SIGNATURE',
    );
  });

  it('requires p and s, and exactly one of d and h', () => {
    const fields = tagged(base);
    expect(errorOf(() => decodeBolt11(craft(without(fields, 'p')))).code).toBe('MISSING_PAYMENT_HASH');
    expect(errorOf(() => decodeBolt11(craft(without(fields, 's')))).code).toBe('MISSING_PAYMENT_SECRET');
    expect(errorOf(() => decodeBolt11(craft(without(fields, 'd')))).code).toBe('MISSING_DESCRIPTION');
    const hashed = tagged({ ...base, description: undefined, descriptionHash: 'cc'.repeat(32) });
    const both = [...fields, ...hashed.filter((field) => field.tag === 'h')];
    expect(errorOf(() => decodeBolt11(craft(both))).code).toBe('INVALID_DESCRIPTION');
    expect(() => encodeBolt11({ ...base, descriptionHash: 'cc'.repeat(32) }, TEST_KEY)).toThrow(
      /exactly one/,
    );
  });

  it('rejects a description that is not UTF-8', () => {
    const fields = without(tagged(base), 'd');
    const notUtf8 = {
      tag: 'd',
      words: tagged({ ...base, metadata: 'ff' }).find((f) => f.tag === 'm')!.words,
    };
    expect(errorOf(() => decodeBolt11(craft([...fields, notUtf8]))).code).toBe('INVALID_DESCRIPTION');
  });

  it('uses the first valid p when several are given and skips ones of the wrong length', () => {
    const fields = tagged(base);
    const shortHash = { tag: 'p', words: Array(51).fill(0) };
    const otherHash = tagged({ ...base, paymentHash: 'dd'.repeat(32) }).find((field) => field.tag === 'p')!;
    const invoice = decodeBolt11(craft([shortHash, ...fields, otherHash]));
    expect(invoice.paymentHash).toBe('aa'.repeat(32));
  });

  it('defaults x to 3600 and c to 18, and reads them when present', () => {
    const defaults = decodeBolt11(encodeBolt11(base, TEST_KEY));
    expect([defaults.expirySeconds, defaults.minFinalCltvExpiryDelta]).toEqual([3600, 18]);
    const set = decodeBolt11(
      encodeBolt11({ ...base, expirySeconds: 86_400, minFinalCltvExpiryDelta: 144 }, TEST_KEY),
    );
    expect([set.expirySeconds, set.minFinalCltvExpiryDelta, set.expiresAt]).toEqual([
      86_400, 144, 1_700_086_400,
    ]);
  });

  it('treats x, c and 9 fields with a leading zero character as invalid (not minimal)', () => {
    const fields = tagged(base);
    for (const tag of ['x', 'c', '9']) {
      const padded = { tag, words: [0, 1, 2] };
      expect(errorOf(() => decodeBolt11(craft([...without(fields, '9'), padded]))).code).toBe(
        'INVALID_FIELD',
      );
    }
  });

  it('accepts unknown odd features and names unknown even ones', () => {
    expect(decodeBolt11(encodeBolt11({ ...base, features: [8, 14, 17, 1001] }, TEST_KEY)).features).toEqual([
      8, 14, 17, 1001,
    ]);
    // Bits 200, 14 and 8: 41 five-bit words, big-endian.
    const required200 = { tag: '9', words: [1, ...Array(37).fill(0), 16, 8, 0] };
    const text = craft([...without(tagged(base), '9'), required200]);
    const error = errorOf(() => decodeBolt11(text));
    expect(error.code).toBe('UNKNOWN_REQUIRED_FEATURE');
    expect(error.message).toContain('200');
  });

  it('round-trips several route hints, fallbacks and metadata', () => {
    const hop = (n: number) => ({
      pubkey: bytesToHex(secp256k1.getPublicKey(hexToBytes(n.toString(16).padStart(64, '0')), true)),
      shortChannelId: (700_000n << 40n) | (BigInt(n) << 16n) | 1n,
      feeBaseMsat: 4_294_967_295n,
      feeProportionalMillionths: 4_294_967_295,
      cltvExpiryDelta: 65_535,
    });
    const fields: Bolt11Fields = {
      ...base,
      routeHints: [[hop(3)], Array.from({ length: 12 }, (_, i) => hop(i + 4))],
      fallbacks: [{ version: 0, program: '75'.repeat(20) }],
      metadata: '00ff00',
    };
    const invoice = decodeBolt11(encodeBolt11(fields, TEST_KEY));
    expect(invoice.routeHints).toEqual(fields.routeHints);
    expect(invoice.fallbacks).toEqual([
      { version: 0, program: '75'.repeat(20), address: expect.stringMatching(/^bcrt1q/) },
    ]);
    expect(invoice.metadata).toBe('00ff00');
    expect(() =>
      encodeBolt11({ ...base, routeHints: [Array.from({ length: 13 }, (_, i) => hop(i + 4))] }, TEST_KEY),
    ).toThrow(/at most 1023/);
  });

  it('skips f fields of unknown version and r fields that are not whole hops', () => {
    const fields = tagged(base);
    const unknownVersion = { tag: 'f', words: [19, ...Array(32).fill(0)] };
    const halfHop = { tag: 'r', words: Array(41).fill(0) };
    const invoice = decodeBolt11(craft([...fields, unknownVersion, halfHop, { tag: '2', words: [0, 0, 0] }]));
    expect(invoice.fallbacks).toEqual([]);
    expect(invoice.routeHints).toEqual([]);
    expect(invoice.taggedFields).toHaveLength(fields.length + 3);
  });

  it('rejects a tagged field that runs into the signature', () => {
    const invoice = decodeBolt11(encodeBolt11(base, TEST_KEY));
    const data = invoice.paymentRequest.slice(invoice.paymentRequest.lastIndexOf('1') + 1, -6);
    // 7 timestamp words, then a `d` header claiming 1000 words.
    const broken = `${data.slice(0, 7)}d${'l'}${'l'}${data.slice(10)}`;
    expect(errorOf(() => decodeBolt11(bech32Reencode('lnbcrt100n', broken))).code).toBe('INVALID_FIELD');
  });

  it('refuses a description longer than one field can hold', () => {
    expect(() => encodeBolt11({ ...base, description: 'x'.repeat(640) }, TEST_KEY)).toThrow(/at most 1023/);
    expect(
      decodeBolt11(encodeBolt11({ ...base, description: 'x'.repeat(639) }, TEST_KEY)).description,
    ).toHaveLength(639);
  });

  it('checks writer inputs and names the bad one', () => {
    expect(() => encodeBolt11({ ...base, paymentHash: 'zz' }, TEST_KEY)).toThrow(
      /"paymentHash" expected hex/,
    );
    expect(() => encodeBolt11({ ...base, paymentSecret: 'aa' }, TEST_KEY)).toThrow(
      /"paymentSecret" expected 32 bytes/,
    );
    expect(() => encodeBolt11({ ...base, timestamp: 2 ** 35 }, TEST_KEY)).toThrow(/35 bits/);
    expect(() => encodeBolt11({ ...base, expirySeconds: -1 }, TEST_KEY)).toThrow(/expirySeconds/);
    expect(() => encodeBolt11({ ...base, fallbacks: [{ version: 0, program: 'aa' }] }, TEST_KEY)).toThrow(
      /fallback/,
    );
    expect(() => encodeBolt11(base, () => ({ signature64: new Uint8Array(64), recovery: 4 }))).toThrow(
      /recovery id/,
    );
    expect(() => privateKeySigner(new Uint8Array(31))).toThrow(/privateKey/);
  });

  it('accepts a signer callback (the node key never has to leave its keystore)', () => {
    const signer = privateKeySigner(TEST_KEY);
    let calls = 0;
    const text = encodeBolt11(base, (hash) => {
      calls++;
      expect(hash).toHaveLength(32);
      return signer(hash);
    });
    expect(calls).toBe(1);
    expect(decodeBolt11(text).payeeNodeId).toBe(TEST_PAYEE);
  });

  it('writes and reads invoices past the 90-character bech32 limit', () => {
    const text = encodeBolt11(base, TEST_KEY);
    expect(text.length).toBeGreaterThan(90);
    expect(decodeBolt11(text).paymentRequest).toBe(text);
  });

  it('limits one field to 1,023 words, never the whole invoice (LDK 0.1 stops at 1,023 characters)', () => {
    const hop = (n: number) => ({
      pubkey: TEST_PAYEE,
      shortChannelId: BigInt(n),
      feeBaseMsat: 1n,
      feeProportionalMillionths: 1,
      cltvExpiryDelta: 40,
    });
    // a 639-byte description, 70 one-hop hints and one of 12 hops (612 bytes, one full field)
    const routeHints = [
      ...Array.from({ length: 70 }, (_, n) => [hop(n)]),
      Array.from({ length: 12 }, (_, n) => hop(n)),
    ];
    const text = encodeBolt11({ ...base, description: 'x'.repeat(639), routeHints }, TEST_KEY);
    expect(text.length).toBeGreaterThan(7_000);
    const invoice = decodeBolt11(text.toUpperCase());
    expect(invoice.description).toHaveLength(639);
    expect(invoice.routeHints).toHaveLength(71);
    expect(invoice.routeHints[70]).toHaveLength(12);
    expect(invoice.payeeNodeId).toBe(TEST_PAYEE);
  });
});

describe('payability', () => {
  const invoice = decodeBolt11(encodeBolt11({ ...base, expirySeconds: 600 }, TEST_KEY));

  it('is expired from timestamp + expiry on', () => {
    expect(invoice.expiresAt).toBe(1_700_000_600);
    expect(isExpired(invoice, 1_700_000_599)).toBe(false);
    expect(isExpired(invoice, 1_700_000_600)).toBe(true);
  });

  it('assertPayable throws INVOICE_EXPIRED and WRONG_NETWORK', () => {
    expect(() => assertPayable(invoice, { network: 'regtest', nowSec: 1_700_000_100 })).not.toThrow();
    const expired = errorOf(() => assertPayable(invoice, { network: 'regtest', nowSec: 1_700_000_600 }));
    expect(expired.code).toBe('INVOICE_EXPIRED');
    expect(expired.message).toContain('2023-11-14T22:23:20.000Z');
    const wrongNetwork = errorOf(() => assertPayable(invoice, { network: 'bitcoin', nowSec: 1_700_000_100 }));
    expect(wrongNetwork.code).toBe('WRONG_NETWORK');
    expect(wrongNetwork.message).toBe('This invoice is for regtest, but this wallet is on bitcoin');
  });

  it('the spec examples are long expired and on their own networks', () => {
    const example = decodeBolt11(validVectors[0]!.invoice);
    expect(errorOf(() => assertPayable(example, { network: 'bitcoin', nowSec: 1_800_000_000 })).code).toBe(
      'INVOICE_EXPIRED',
    );
    expect(errorOf(() => assertPayable(example, { network: 'testnet', nowSec: SPEC_TIMESTAMP })).code).toBe(
      'WRONG_NETWORK',
    );
  });
});
