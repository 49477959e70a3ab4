// `pnpm --filter @lpw/wallet run build`: builds the wallet with the release key's public half built in,
// then signs the build (release.json + release.sig, lib/release.ts). The key is a 32-byte secret, hex,
// in WALLET_RELEASE_KEY_FILE (default apps/wallet/.release-key, made on first use; never committed).
// Whoever publishes the wallet keeps that file offline and backs it up: every installed wallet pins its
// public key and takes no update signed by another (docs/operating.md, "Publishing the wallet").
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  MANIFEST_FILE,
  type ReleaseManifest,
  releasePublicKey,
  SIGNATURE_FILE,
  sha256Hex,
  signManifest,
  verifyRelease,
} from '../src/lib/release.ts';

export { releasePublicKey, verifyRelease };

const WALLET_DIR = fileURLToPath(new URL('..', import.meta.url));

/** The release key's secret (hex), made and saved with owner-only access if the file does not exist. */
export function releaseKey(
  file = process.env.WALLET_RELEASE_KEY_FILE ?? join(WALLET_DIR, '.release-key'),
): string {
  if (!existsSync(file)) {
    writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    console.warn(`made a new wallet release key in ${file}: keep it to publish updates to this wallet`);
  }
  const hex = readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`${file} does not hold a 32-byte hex release key`);
  return hex;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split('\\').join('/'))
    .filter((path) => path !== MANIFEST_FILE && path !== SIGNATURE_FILE)
    .sort();
}

/** Writes release.json and release.sig for the files in `dir` as they are now. */
export function signRelease(
  dir: string,
  secretKeyHex: string,
  release: { version: string; notes: string },
): ReleaseManifest {
  const files = Object.fromEntries(
    filesUnder(dir).map((path) => [path, sha256Hex(readFileSync(join(dir, path)))]),
  );
  const manifest: ReleaseManifest = { ...release, files };
  const { bytes, signatureHex } = signManifest(manifest, secretKeyHex);
  writeFileSync(join(dir, MANIFEST_FILE), bytes);
  writeFileSync(join(dir, SIGNATURE_FILE), `${signatureHex}\n`);
  return manifest;
}

/** A version that grows with time unless WALLET_VERSION names one. */
function defaultVersion(): string {
  return new Date().toISOString().slice(0, 16).replace('T', '.').replaceAll(':', '');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const key = releaseKey();
  const version = process.env.WALLET_VERSION ?? defaultVersion();
  const notes = process.env.WALLET_RELEASE_NOTES ?? `Version ${version}.`;
  execFileSync('vite', ['build'], {
    cwd: WALLET_DIR,
    stdio: 'inherit',
    env: { ...process.env, VITE_RELEASE_PUBKEY: releasePublicKey(key), VITE_RELEASE_VERSION: version },
  });
  signRelease(join(WALLET_DIR, 'dist'), key, { version, notes });
  console.log(`signed wallet release ${version} (key ${releasePublicKey(key)})`);
}
