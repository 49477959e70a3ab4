// Amounts and identifiers on the wire: msat as decimal strings (bLIP 52 style), bigint inside;
// short channel ids in BOLT 7's "block x tx x output" form.
import * as z from 'zod/mini';
import { checked } from './schema.ts';

export const U64_MAX = 0xffff_ffff_ffff_ffffn;
export const U32_MAX = 0xffff_ffff;

const DECIMAL_U64 = /^(0|[1-9][0-9]{0,19})$/;

/** Wire form of an msat amount: a canonical decimal string (no sign, no leading zeros) within u64. */
// one check, not regex + refine: zod 4 runs later checks even after a failed regex
export const msatString = checked(
  z.string(),
  z.refine(
    (s) => DECIMAL_U64.test(s) && BigInt(s) <= U64_MAX,
    'expected a decimal u64 amount without sign or leading zeros',
  ),
);

/** An msat amount as received: validated wire string, handed to the handler as bigint. */
export const msatInput = z.pipe(
  msatString,
  z.transform((s) => BigInt(s)),
);

export const u32 = checked(z.number(), z.int(), z.minimum(0), z.maximum(U32_MAX));

/** Same rule for whole satoshis (LSPS1 uses sat strings). */
export const satString = msatString;
export const satInput = msatInput;

export const hex = (bytes: number) =>
  checked(z.string(), z.length(bytes * 2), z.regex(/^[0-9a-f]*$/, 'expected lowercase hex'));

/** A 33-byte compressed secp256k1 public key, lowercase hex (a Lightning node id). */
export const nodeIdHex = checked(
  hex(33),
  z.refine((s) => s.startsWith('02') || s.startsWith('03'), {
    message: 'expected a compressed public key (02/03 prefix)',
  }),
);

/** BOLT 7 short channel id as "block x tx x output", each within its field width. */
export const scidString = checked(
  z.string(),
  z.regex(/^[0-9]{1,8}x[0-9]{1,8}x[0-9]{1,5}$/, 'expected NxNxN'),
);

export function formatScid(scid: bigint): string {
  if (scid < 0n || scid > U64_MAX) throw new RangeError(`"scid" out of u64 range: ${scid}`);
  return `${scid >> 40n}x${(scid >> 16n) & 0xff_ffffn}x${scid & 0xffffn}`;
}

export function parseScid(text: string): bigint {
  const m = /^([0-9]{1,8})x([0-9]{1,8})x([0-9]{1,5})$/.exec(text);
  if (!m) throw new RangeError(`"scid" expected NxNxN, got ${JSON.stringify(text).slice(0, 40)}`);
  const [block, tx, out] = [BigInt(m[1]!), BigInt(m[2]!), BigInt(m[3]!)];
  if (block > 0xff_ffffn || tx > 0xff_ffffn || out > 0xffffn) throw new RangeError(`"scid" field too large`);
  return (block << 40n) | (tx << 16n) | out;
}

export function msatToWire(msat: bigint): string {
  if (msat < 0n || msat > U64_MAX) throw new RangeError(`msat out of u64 range: ${msat}`);
  return msat.toString(10);
}
