// The LSP's reading of a wallet's backup side frame: a put round-trips, and anything else is a typed
// INVALID_INPUT naming what is wrong (the LSP then refuses and closes the socket, storing nothing).
import { describe, expect, it } from 'vitest';
import { BackupError } from './errors.ts';
import { decodePeerPut, encodePeerPut } from './peer-link.ts';

const text = new TextEncoder();
/** A put frame with this header text (the tag and the u16 length are written here, right or not). */
const frame = (header: string, blob = Uint8Array.of(9, 9), tag = 1, length?: number) => {
  const h = text.encode(header);
  const n = length ?? h.length;
  return Uint8Array.of(tag, n >> 8, n & 0xff, ...h, ...blob);
};

describe('decodePeerPut', () => {
  it('reads back what the wallet encoded, blob included', () => {
    const put = { key: 'channel-state', expectedVersion: 7, leaseToken: 3, blob: Uint8Array.of(1, 2, 3) };
    expect(decodePeerPut(encodePeerPut(put))).toEqual(put);
  });

  const good = '{"key":"k","expectedVersion":0,"leaseToken":1}';
  it.each([
    ['an empty frame', new Uint8Array(0), 'expected a put'],
    ['another tag', frame(good, undefined, 2), 'expected a put'],
    ['a header length past the end', frame(good, new Uint8Array(0), 1, 500), 'shorter than its header'],
    ['a header that is not JSON', frame('{"key":'), 'not a JSON object'],
    ['a header that is not UTF-8', Uint8Array.of(1, 0, 2, 0xc3, 0x28), 'not a JSON object'],
    ['a JSON array header', frame('[1,2]'), 'key'],
    ['a key that is not a string', frame('{"key":5,"expectedVersion":0,"leaseToken":1}'), 'key'],
    ['a negative version', frame('{"key":"k","expectedVersion":-1,"leaseToken":1}'), 'expectedVersion'],
    ['a fractional version', frame('{"key":"k","expectedVersion":1.5,"leaseToken":1}'), 'expectedVersion'],
    ['no lease token', frame('{"key":"k","expectedVersion":0}'), 'leaseToken'],
  ])('%s is INVALID_INPUT', (_, bytes, why) => {
    const error = (() => {
      try {
        decodePeerPut(bytes);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(BackupError);
    expect((error as BackupError).code).toBe('INVALID_INPUT');
    expect((error as BackupError).message).toContain(why);
  });
});
