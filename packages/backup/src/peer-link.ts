// The backup on the peer WebSocket to the LSP: a put rides as a side frame ahead of the Lightning
// messages its commit releases, and the LSP stores it before it reads any of them, so the wallet need
// not wait for the answer before LDK sends them (docs/architecture.md, "The backup on the peer
// socket"). The answer (stored, or refused and the socket closed) still moves the uploader's status.
// Side frames (after the transport's tag byte):
//   put      1, u16 header length, JSON { key, expectedVersion, leaseToken }, the blob
//   stored   2, JSON { key, version }
//   refused  3, JSON { code, message, details }
import type { SideFrames } from '@lpw/node';
import { concatBytes } from '@noble/hashes/utils.js';
import { BackupError } from './errors.ts';
import { backupRefusal } from './http.ts';

const PUT = 1;
const STORED = 2;
const REFUSED = 3;

export interface PeerPut {
  key: string;
  expectedVersion: number;
  leaseToken: number;
  blob: Uint8Array;
}

const text = new TextEncoder();
const json = (type: number, value: unknown) =>
  concatBytes(Uint8Array.of(type), text.encode(JSON.stringify(value)));
const parse = (bytes: Uint8Array): unknown => {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
};
const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

export function encodePeerPut(put: PeerPut): Uint8Array {
  const header = text.encode(
    JSON.stringify({ key: put.key, expectedVersion: put.expectedVersion, leaseToken: put.leaseToken }),
  );
  return concatBytes(Uint8Array.of(PUT, header.length >> 8, header.length & 0xff), header, put.blob);
}

/** The LSP's reading of a side frame: a put, or INVALID_INPUT naming what is wrong. */
export function decodePeerPut(frame: Uint8Array): PeerPut {
  const invalid = (why: string) => new BackupError('INVALID_INPUT', `backup frame: ${why}`);
  if (frame.length < 3 || frame[0] !== PUT) throw invalid('expected a put');
  const headerLength = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint16(1);
  if (frame.length < 3 + headerLength) throw invalid('shorter than its header length');
  const header = parse(frame.subarray(3, 3 + headerLength)) as Record<string, unknown> | undefined;
  if (typeof header !== 'object' || header === null) throw invalid('header is not a JSON object');
  const { key, expectedVersion, leaseToken } = header;
  // the key's alphabet is the LSP's to check, as on the HTTP route (`backupKey` of @lpw/api)
  if (typeof key !== 'string') throw invalid('key: expected a string');
  if (!isCount(expectedVersion)) throw invalid('expectedVersion: expected a whole number');
  if (!isCount(leaseToken)) throw invalid('leaseToken: expected a whole number');
  return { key, expectedVersion, leaseToken, blob: frame.slice(3 + headerLength) };
}

export const encodePeerStored = (stored: { key: string; version: number }) => json(STORED, stored);

export const encodePeerRefused = (refused: { code: string; message: string; details?: unknown }) =>
  json(REFUSED, refused);

/**
 * The wallet's end: a `SideFrames` for the peer WebSocket (pass it to the connector) and the
 * uploader's way to put on it. One put at a time (the uploader's loop is sequential).
 */
export class PeerBackupLink implements SideFrames {
  private send: ((payload: Uint8Array) => boolean) | undefined;
  private pending:
    | { key: string; resolve: (stored: { version: number }) => void; reject: (error: BackupError) => void }
    | undefined;

  /** `protocol`: the Sec-WebSocket-Protocol value of tagged framing (PEER_WS_BACKUP_PROTOCOL). */
  constructor(readonly protocol: string) {}

  opened(send: (payload: Uint8Array) => boolean): void {
    this.send = send;
  }

  closed(): void {
    this.send = undefined;
    this.fail(new BackupError('BACKUP_UNAVAILABLE', 'the peer socket closed before the LSP answered'));
  }

  received(payload: Uint8Array): undefined {
    const answer = parse(payload.subarray(1)) as Record<string, unknown> | undefined;
    const pending = this.pending;
    if (payload[0] === STORED && pending && answer?.key === pending.key && isCount(answer.version)) {
      this.pending = undefined;
      pending.resolve({ version: answer.version });
    } else if (payload[0] === REFUSED && typeof answer?.code === 'string') {
      this.send = undefined; // the LSP closes the socket after a refusal
      const message = typeof answer.message === 'string' ? answer.message : `LSP refused: ${answer.code}`;
      const details = typeof answer.details === 'object' && answer.details ? answer.details : {};
      this.fail(backupRefusal(answer.code, message, details as Record<string, unknown>));
    } else {
      this.fail(new BackupError('BACKUP_UNAVAILABLE', 'the LSP answered a backup outside the contract'));
    }
    return undefined;
  }

  /**
   * Writes the put on the socket, ahead of every byte sent after this returns, and gives the LSP's
   * answer; undefined (nothing sent) when no tagged socket is open.
   */
  put(key: string, blob: Uint8Array, request: { expectedVersion: number; leaseToken: number }) {
    if (!this.send || this.pending) return undefined;
    if (!this.send(encodePeerPut({ key, blob, ...request }))) return undefined;
    return new Promise<{ version: number }>((resolve, reject) => {
      this.pending = { key, resolve, reject };
    });
  }

  private fail(error: BackupError): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(error);
  }
}
