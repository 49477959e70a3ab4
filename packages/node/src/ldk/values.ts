// Turning the bindings' loosely typed values into plain ones in one place: Result_* into a value or a
// NodeError, Option_* into `T | undefined`, 0/1 "booleans" into booleans, null-pointer wrappers into
// undefined. Nothing past this layer touches `is_ok()`, `.res`, `.err` or `.some`.
import * as ldk from 'lightningdevkit';
import { NodeError, type NodeErrorCode } from '../errors.ts';

export interface LdkResult {
  is_ok(): boolean;
}

const HEX = '0123456789abcdef';
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += HEX[b >> 4]! + HEX[b & 15]!;
  return s;
}

export function fromHex(text: string, what = 'hex'): Uint8Array {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    throw new NodeError('INVALID_INPUT', `"${what}" expected hex, got ${JSON.stringify(text.slice(0, 80))}`);
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The bindings type booleans as `boolean` but hand back 0/1 numbers. */
export function bool(value: boolean | number): boolean {
  return value === true || value === 1;
}

/** "Nullable" returns are wrappers around a NULL pointer, never JS null. */
export function isNullPointer(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  const ptr = (value as { ptr?: unknown }).ptr;
  return ptr === 0n || ptr === 0;
}

/** Option_*Z → T | undefined. */
export function someOf<T>(option: unknown): T | undefined {
  if (option && typeof option === 'object' && 'some' in option) return (option as { some: T }).some;
  return undefined;
}

export const optionU64 = (v: bigint | undefined): ldk.Option_u64Z =>
  v === undefined ? ldk.Option_u64Z.constructor_none() : ldk.Option_u64Z.constructor_some(v);
export const optionU32 = (v: number | undefined): ldk.Option_u32Z =>
  v === undefined ? ldk.Option_u32Z.constructor_none() : ldk.Option_u32Z.constructor_some(v);
export const optionU16 = (v: number | undefined): ldk.Option_u16Z =>
  v === undefined ? ldk.Option_u16Z.constructor_none() : ldk.Option_u16Z.constructor_some(v);
export const option32Bytes = (v: Uint8Array | undefined): ldk.Option_ThirtyTwoBytesZ =>
  v === undefined
    ? ldk.Option_ThirtyTwoBytesZ.constructor_none()
    : ldk.Option_ThirtyTwoBytesZ.constructor_some(v);

/** A readable name for whatever sits in a Result's error slot (APIError, DecodeError, enum number, …). */
export function describeLdkError(err: unknown, enumNames?: Record<number, string>): string {
  if (typeof err === 'number') return enumNames?.[err]?.replace(/^LDK[A-Za-z]+_/, '') ?? `error ${err}`;
  if (err === null || err === undefined) return 'unknown error';
  if (typeof err === 'object') {
    const name = (err as object).constructor?.name ?? 'Error';
    const detail = (err as { err?: unknown }).err;
    return typeof detail === 'string' ? `${name}: ${detail}` : name;
  }
  return String(err);
}

/** The error slot of a failed Result (undefined for Result_*NoneZ). */
export function errorOf(result: LdkResult): unknown {
  return (result as unknown as { err?: unknown }).err;
}

/**
 * The value of an ok Result, or a NodeError with `code` naming what failed. The caller states the
 * ok type (the bindings' base Result classes do not carry it).
 */
export function unwrap<T>(
  result: LdkResult,
  code: NodeErrorCode,
  what: string,
  enumNames?: Record<number, string>,
): T {
  if (bool(result.is_ok())) return (result as unknown as { res: T }).res;
  throw new NodeError(code, `${what}: ${describeLdkError(errorOf(result), enumNames)}`);
}

/** For Result_NoneAPIErrorZ and friends; `MonitorUpdateInProgress` is success (the update is queued). */
export function expectOk(result: LdkResult, code: NodeErrorCode, what: string): void {
  if (bool(result.is_ok())) return;
  const err = errorOf(result);
  if (err instanceof ldk.APIError_MonitorUpdateInProgress) return;
  throw new NodeError(code, `${what}: ${describeLdkError(err)}`);
}

/**
 * A u128 read from LDK (user channel ids). Bindings bug in 0.1.0: `encodeUint128` writes little-endian
 * (what Rust expects) but `decodeUint128` reads big-endian, so every u128 coming back from LDK is
 * byte-reversed. Reversing again gives the value Rust holds (and the one we passed in).
 */
export function u128FromLdk(value: bigint): bigint {
  let out = 0n;
  for (let i = 0; i < 16; i++) {
    out = (out << 8n) | (value & 0xffn);
    value >>= 8n;
  }
  return out;
}

export function channelIdHex(id: ldk.ChannelId): string {
  return toHex(id.get_a());
}

/** "txid:vout" with the txid in the usual (reversed, display) byte order. */
export function outpointKey(outpoint: ldk.OutPoint): string {
  return `${toHex(Uint8Array.from(outpoint.get_txid()).reverse())}:${outpoint.get_index()}`;
}
