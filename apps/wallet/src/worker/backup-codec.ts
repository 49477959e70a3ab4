// The channel-state backup the LSP keeps but cannot read: every key of the node's store, with the
// backup version it was written as, sealed with AES-256-GCM under a key derived from the words.
// The version inside the ciphertext lets a restoring wallet tell an old blob served as new.

const MAGIC = new TextEncoder().encode('LPWB1');

export class BackupCodecError extends Error {
  override readonly name = 'BackupCodecError';
}

export interface BackupSnapshot {
  /** The server version this blob lands as (put with `version = seq - 1`). */
  seq: number;
  entries: Map<string, Uint8Array>;
}

export function encodeSnapshot(snapshot: BackupSnapshot): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  let size = MAGIC.length + 8;
  const keys = [...snapshot.entries.keys()].sort();
  for (const key of keys) {
    const k = enc.encode(key);
    const v = snapshot.entries.get(key)!;
    parts.push(k, v);
    size += 2 + k.length + 4 + v.length;
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  let at = MAGIC.length;
  view.setUint32(at, snapshot.seq);
  view.setUint32(at + 4, keys.length);
  at += 8;
  for (let i = 0; i < parts.length; i += 2) {
    const k = parts[i]!;
    const v = parts[i + 1]!;
    view.setUint16(at, k.length);
    out.set(k, at + 2);
    at += 2 + k.length;
    view.setUint32(at, v.length);
    out.set(v, at + 4);
    at += 4 + v.length;
  }
  return out;
}

export function decodeSnapshot(bytes: Uint8Array): BackupSnapshot {
  const fail = (why: string) => new BackupCodecError(`backup unreadable: ${why}`);
  if (bytes.length < MAGIC.length + 8 || MAGIC.some((b, i) => bytes[i] !== b)) throw fail('bad header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dec = new TextDecoder('utf-8', { fatal: true });
  let at = MAGIC.length;
  const seq = view.getUint32(at);
  const count = view.getUint32(at + 4);
  at += 8;
  const entries = new Map<string, Uint8Array>();
  for (let i = 0; i < count; i++) {
    if (at + 2 > bytes.length) throw fail('truncated');
    const kl = view.getUint16(at);
    if (at + 2 + kl + 4 > bytes.length) throw fail('truncated');
    const key = dec.decode(bytes.subarray(at + 2, at + 2 + kl));
    at += 2 + kl;
    const vl = view.getUint32(at);
    if (at + 4 + vl > bytes.length) throw fail('truncated');
    entries.set(key, bytes.slice(at + 4, at + 4 + vl));
    at += 4 + vl;
  }
  if (at !== bytes.length) throw fail('trailing bytes');
  return { seq, entries };
}

const aad = (nodeId: string) => new TextEncoder().encode(`lpw-backup-v1:${nodeId}`);

async function aesKey(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', raw as BufferSource, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

/** iv (12 bytes) ‖ AES-GCM ciphertext, bound to the wallet's node id. */
export async function sealSnapshot(
  snapshot: BackupSnapshot,
  key: Uint8Array,
  nodeId: string,
): Promise<Uint8Array> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: aad(nodeId) },
      await aesKey(key),
      encodeSnapshot(snapshot) as BufferSource,
    ),
  );
  const out = new Uint8Array(12 + sealed.length);
  out.set(iv);
  out.set(sealed, 12);
  return out;
}

export async function openSnapshot(
  blob: Uint8Array,
  key: Uint8Array,
  nodeId: string,
): Promise<BackupSnapshot> {
  if (blob.length < 12 + 16) throw new BackupCodecError('backup unreadable: too short');
  let plain: ArrayBuffer;
  try {
    plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: blob.subarray(0, 12) as BufferSource, additionalData: aad(nodeId) },
      await aesKey(key),
      blob.subarray(12) as BufferSource,
    );
  } catch {
    throw new BackupCodecError('backup does not decrypt with this wallet’s key (tampered or not ours)');
  }
  return decodeSnapshot(new Uint8Array(plain));
}

export const toBase64 = (bytes: Uint8Array): string => {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
};
export const fromBase64 = (text: string): Uint8Array => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
