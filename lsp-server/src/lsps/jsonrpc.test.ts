// bLIP 50's "bad message format" rules and JSON-RPC 2.0's request shape, on the spec's own examples.
import { describe, expect, it } from 'vitest';
import { LSPS_ERROR, LSPS0_MAX_PAYLOAD_BYTES, readRequest, readResponse } from './jsonrpc.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const request = (o: Record<string, unknown>) => readRequest(bytes(JSON.stringify(o)));

describe('bLIP 50 message payloads', () => {
  it('takes one complete JSON object with whitespace around it ("` { } `")', () => {
    expect(readRequest(bytes(' { } '))).toEqual({ kind: 'notification', method: undefined });
  });

  it.each([
    ['"{": an object cut short (a request split across two messages)', '{'],
    ['"` [ ] `": not an object', ' [ ] '],
    ['"` { } { `": more than one object', ' { } { '],
    ['"` { } { }`": more than one object', ' { } { }'],
    ['the second half of a split request', '"method":"lsps0.list_protocols","params":{}}'],
    ['an empty message', ''],
  ])('answers -32700 with a null id to %s', (_, text) => {
    expect(readRequest(bytes(text))).toEqual({
      kind: 'invalid',
      id: null,
      error: { code: LSPS_ERROR.PARSE_ERROR, message: 'Parse error' },
    });
  });

  it('answers -32700 to a 0 byte, to bytes that are not UTF-8, and to more than a message holds', () => {
    const withNul = bytes('{"jsonrpc":"2.0","id":"a","method":"x","params":{}}\u0000');
    const notUtf8 = new Uint8Array([0x7b, 0xff, 0x7d]);
    const oversized = bytes(`{"pad":"${'x'.repeat(LSPS0_MAX_PAYLOAD_BYTES)}"}`);
    for (const payload of [withNul, notUtf8, oversized])
      expect(readRequest(payload)).toMatchObject({ kind: 'invalid', id: null, error: { code: -32700 } });
  });

  it('reads the spec example request of lsps0.list_protocols', () => {
    const id = 'example#3cad6a54d302edba4c9ade2f7ffac098';
    expect(request({ method: 'lsps0.list_protocols', jsonrpc: '2.0', id, params: {} })).toEqual({
      kind: 'request',
      id,
      method: 'lsps0.list_protocols',
      params: {},
    });
  });

  it('answers -32600 to an object that is not a JSON-RPC 2.0 request, echoing a string id', () => {
    expect(request({ jsonrpc: '1.0', id: 'a', method: 'x' })).toMatchObject({
      id: 'a',
      error: { code: -32600 },
    });
    expect(request({ jsonrpc: '2.0', id: 'a', method: 7 })).toMatchObject({
      id: 'a',
      error: { code: -32600 },
    });
    expect(request({ jsonrpc: '2.0', id: 7, method: 'x' })).toMatchObject({
      id: null,
      error: { code: -32600 },
    });
  });

  it('answers -32602 to by-position params', () => {
    expect(request({ jsonrpc: '2.0', id: 'a', method: 'x', params: [1] })).toMatchObject({
      id: 'a',
      error: { code: -32602, data: { unrecognized: [] } },
    });
  });

  it('a client ignores what is not a response or notification, and reads the spec example result', () => {
    expect(readResponse(bytes('{'))).toEqual({ kind: 'bad' });
    expect(readResponse(bytes('{"jsonrpc":"2.0","id":"a","result":[1]}'))).toEqual({ kind: 'bad' });
    const result = { protocols: [1, 3], 'example-undefined-key-that-clients-should-ignore': true };
    expect(readResponse(bytes(JSON.stringify({ jsonrpc: '2.0', id: 'x', result })))).toEqual({
      kind: 'result',
      id: 'x',
      result,
    });
  });
});
