// A release of the wallet: `release.json` names every file of the build with its SHA-256, and
// `release.sig` is a BIP 340 signature over the SHA-256 of release.json's bytes by the publisher's
// release key. The wallet pins that key at install (it is built into the code) and takes new code only
// when the signature and every file check out. Used by the service worker (src/sw.ts), by the page
// (lib/updates.ts) and by the release script (scripts/release.ts), so all three read one format.
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToHex, hexToBytes } from '@noble/curves/utils.js';
import { sha256 } from '@noble/hashes/sha2.js';

export const MANIFEST_FILE = 'release.json';
export const SIGNATURE_FILE = 'release.sig';

export interface ReleaseManifest {
  /** What Settings shows, and what the person is asked to update to. */
  version: string;
  /** "What changed", shown before the person agrees to update. */
  notes: string;
  /** Path within the build (no leading slash) → SHA-256, hex. */
  files: Record<string, string>;
}

/** What the service worker tells the page: why it refused a release (its failed install says no more). */
export type FromServiceWorker = { type: 'update-refused'; reason: string };

export type ReleaseErrorCode =
  | 'RELEASE_MALFORMED'
  | 'RELEASE_BAD_SIGNATURE'
  | 'RELEASE_FILE_MISMATCH'
  /** Code the person never agreed to has taken over: nothing secret is handed to it. */
  | 'RELEASE_UNTRUSTED';

export class ReleaseError extends Error {
  override readonly name = 'ReleaseError';
  constructor(
    readonly code: ReleaseErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const sha256Hex = (bytes: Uint8Array): string => bytesToHex(sha256(bytes));

function parseManifest(bytes: Uint8Array): ReleaseManifest {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new ReleaseError('RELEASE_MALFORMED', 'release.json is not JSON');
  }
  const m = value as Partial<ReleaseManifest> | null;
  const filesOk =
    typeof m?.files === 'object' &&
    m.files !== null &&
    Object.values(m.files).every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h));
  if (typeof m?.version !== 'string' || typeof m.notes !== 'string' || !filesOk)
    throw new ReleaseError('RELEASE_MALFORMED', 'release.json lacks a version, notes or file hashes');
  return m as ReleaseManifest;
}

/** The manifest, if `signatureHex` is the pinned key's signature over exactly these bytes. */
export function verifyRelease(
  manifestBytes: Uint8Array,
  signatureHex: string,
  publicKeyHex: string,
): ReleaseManifest {
  let valid = false;
  try {
    valid = schnorr.verify(hexToBytes(signatureHex.trim()), sha256(manifestBytes), hexToBytes(publicKeyHex));
  } catch {
    valid = false;
  }
  if (!valid)
    throw new ReleaseError('RELEASE_BAD_SIGNATURE', 'The release is not signed by the wallet’s publisher');
  return parseManifest(manifestBytes);
}

/** Throws RELEASE_FILE_MISMATCH unless `bytes` are what the manifest says `path` holds. */
export function checkReleaseFile(manifest: ReleaseManifest, path: string, bytes: Uint8Array): void {
  const expected = manifest.files[path];
  if (expected === undefined || sha256Hex(bytes) !== expected)
    throw new ReleaseError('RELEASE_FILE_MISMATCH', `${path} is not the file the release was signed with`);
}

/** A file of the release as the host serves it now: from the network, never a cache. */
export async function fetchReleaseFile(path: string): Promise<{ bytes: Uint8Array; headers: Headers }> {
  const response = await fetch(`/${path}`, { cache: 'no-store' });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return { bytes: new Uint8Array(await response.arrayBuffer()), headers: response.headers };
}

/**
 * Checks the host's sw.js and every module it imports, transitively, against the manifest (the page's
 * check of a waiting service worker): the service worker is an ES module, so its code is sw.js and the
 * shared chunks it names, each fetched by the browser itself, past any cache of ours.
 */
export async function checkServiceWorkerFiles(manifest: ReleaseManifest): Promise<void> {
  const pending = ['sw.js'];
  const checked = new Set<string>();
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    if (checked.has(path)) continue;
    const { bytes } = await fetchReleaseFile(path);
    checkReleaseFile(manifest, path, bytes);
    checked.add(path);
    for (const [, specifier] of new TextDecoder().decode(bytes).matchAll(STATIC_IMPORT))
      pending.push(new URL(specifier!, `https://release.invalid/${path}`).pathname.slice(1));
  }
}

/** A static import or re-export of a relative module, as the bundler writes it (`from"./shared-x.js"`). */
const STATIC_IMPORT = /(?:\bfrom|\bimport)\s*["'](\.{1,2}\/[^"']+)["']/g;

/** The release the host serves now, if `publicKeyHex` signed it (the service worker's and the page's check). */
export async function fetchSignedRelease(
  publicKeyHex: string,
): Promise<{ manifest: ReleaseManifest; manifestBytes: Uint8Array }> {
  const manifestBytes = (await fetchReleaseFile(MANIFEST_FILE)).bytes;
  const signature = new TextDecoder().decode((await fetchReleaseFile(SIGNATURE_FILE)).bytes);
  return { manifest: verifyRelease(manifestBytes, signature, publicKeyHex), manifestBytes };
}

/** Signs a manifest (the release script; never in the wallet). Returns release.json's bytes and the signature. */
export function signManifest(
  manifest: ReleaseManifest,
  secretKeyHex: string,
): { bytes: Uint8Array; signatureHex: string } {
  const bytes = new TextEncoder().encode(`${JSON.stringify(manifest, null, 1)}\n`);
  return { bytes, signatureHex: bytesToHex(schnorr.sign(sha256(bytes), hexToBytes(secretKeyHex))) };
}

export const releasePublicKey = (secretKeyHex: string): string =>
  bytesToHex(schnorr.getPublicKey(hexToBytes(secretKeyHex)));
