// A passkey as the vault's lock: WebAuthn's PRF extension turns a passkey and the vault's salt into 32
// secret bytes that only the authenticator can produce, after it has verified the person. WebAuthn runs
// on the page (workers have no navigator.credentials); only the PRF output goes to the worker.
import { base64 } from '@scure/base';
import { VaultError } from './vault.ts';

interface PrfResults {
  prf?: { enabled?: boolean; results?: { first?: BufferSource } };
}

/** True where this browser says its passkeys can give PRF output (Chromium 133+ answers the question). */
export async function passkeysAvailable(): Promise<boolean> {
  const pkc = globalThis.PublicKeyCredential as
    | (typeof PublicKeyCredential & { getClientCapabilities?: () => Promise<Record<string, boolean>> })
    | undefined;
  if (!pkc?.getClientCapabilities) return false;
  const capabilities = await pkc.getClientCapabilities().catch(() => ({}) as Record<string, boolean>);
  return capabilities['extension:prf'] === true;
}

function failed(error: unknown): VaultError {
  const why = error instanceof Error ? error.message : String(error);
  return new VaultError('PASSKEY_FAILED', `The passkey did not answer: ${why}`);
}

function prfOutputOf(credential: Credential | null): Uint8Array {
  const results = (credential as PublicKeyCredential | null)?.getClientExtensionResults() as
    | PrfResults
    | undefined;
  const first = results?.prf?.results?.first;
  if (!first) throw new VaultError('PASSKEY_UNSUPPORTED', 'This passkey cannot derive keys (no PRF support)');
  return new Uint8Array(first instanceof ArrayBuffer ? first : first.buffer.slice(0));
}

/** Asks the passkey for its PRF output over `salt`. */
export async function passkeyOutput(credentialId: string, salt: Uint8Array): Promise<Uint8Array> {
  let credential: Credential | null;
  try {
    credential = await navigator.credentials.get({
      publicKey: {
        challenge: crypto.getRandomValues(new Uint8Array(32)),
        allowCredentials: [{ type: 'public-key', id: base64.decode(credentialId) as BufferSource }],
        userVerification: 'required',
        extensions: {
          prf: { eval: { first: salt as BufferSource } },
        } as AuthenticationExtensionsClientInputs,
      },
    });
  } catch (error) {
    throw failed(error);
  }
  return prfOutputOf(credential);
}

/** Creates a passkey for this wallet and takes its PRF output over `salt` (a second prompt if needed). */
export async function createPasskey(
  salt: Uint8Array,
): Promise<{ credentialId: string; prfOutput: Uint8Array }> {
  let credential: Credential | null;
  try {
    credential = await navigator.credentials.create({
      publicKey: {
        rp: { name: 'Lightning wallet' },
        // a random handle: the passkey names no person, and one device may hold several wallets
        user: {
          id: crypto.getRandomValues(new Uint8Array(16)),
          name: 'wallet',
          displayName: 'Lightning wallet',
        },
        challenge: crypto.getRandomValues(new Uint8Array(32)),
        pubKeyCredParams: [
          { type: 'public-key', alg: -7 },
          { type: 'public-key', alg: -257 },
        ],
        authenticatorSelection: { userVerification: 'required', residentKey: 'preferred' },
        extensions: {
          prf: { eval: { first: salt as BufferSource } },
        } as AuthenticationExtensionsClientInputs,
      },
    });
  } catch (error) {
    throw failed(error);
  }
  if (!credential) throw failed('no passkey was made');
  const credentialId = base64.encode(new Uint8Array((credential as PublicKeyCredential).rawId));
  const results = (credential as PublicKeyCredential).getClientExtensionResults() as PrfResults;
  if (results.prf?.results?.first) return { credentialId, prfOutput: prfOutputOf(credential) };
  if (results.prf?.enabled === false)
    throw new VaultError('PASSKEY_UNSUPPORTED', 'This passkey cannot derive keys (no PRF support)');
  // some authenticators give PRF output only on use, not at creation
  return { credentialId, prfOutput: await passkeyOutput(credentialId, salt) };
}
