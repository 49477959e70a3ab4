// Failures in words a person understands, chosen by the failure's code (the worker's, NodeError's,
// ApiError's, or the screens' own), never by its text.
import type { WorkerErrorCode } from '../worker/protocol.ts';
import type { PaidUrlErrorCode } from './paid-url.ts';
import type { ReleaseErrorCode } from './release.ts';
import type { SendInputErrorCode } from './send-input.ts';
import type { VaultErrorCode } from './vault.ts';

/** Every code a failure shown on a screen can carry. */
export type UiErrorCode =
  | WorkerErrorCode
  | VaultErrorCode
  | SendInputErrorCode
  | PaidUrlErrorCode
  | ReleaseErrorCode;

/** Our words for a code; a code without them shows its own message (the worker's are sentences). */
const WORDS: Partial<Record<UiErrorCode, string>> = {
  ROUTE_NOT_FOUND: 'No route to the recipient was found. They may be offline, or the amount too large.',
  PAYMENT_FAILED: 'The payment did not go through. No money left your wallet.',
  INSUFFICIENT_BALANCE: 'You don’t have enough to pay this (including the network fee).',
  INVOICE_EXPIRED: 'This invoice has expired. Ask the recipient for a new one.',
  INVALID_INVOICE: 'This invoice is not valid.',
  DUPLICATE_PAYMENT: 'You already paid this invoice.',
  PEER_NOT_CONNECTED: 'Not connected to your service provider right now. Try again in a moment.',
  UNREACHABLE: 'Your service provider can’t be reached right now.',
  TIMEOUT: 'The payment is taking too long. It may still complete; check your history.',
  RATE_LIMITED: 'Too many requests. Wait a minute and try again.',
  WRONG_PIN: 'Wrong PIN.',
  WRONG_PASSPHRASE: 'Wrong passphrase.',
  WRONG_PASSKEY: 'That passkey does not open this wallet.',
  PASSKEY_FAILED:
    'The passkey did not open the wallet: it was cancelled, or it is not on this device. Try again; your recovery words restore the wallet if the passkey is lost.',
  RELEASE_UNTRUSTED:
    'A version of this wallet you never agreed to has taken over this page, so it stays locked. Don’t enter your PIN here: your recovery words restore the wallet elsewhere.',
  PASSKEY_UNSUPPORTED: 'This passkey cannot lock a wallet. Choose a PIN or a passphrase instead.',
  // on-chain sends and closes
  INSUFFICIENT_FUNDS: 'Your on-chain balance is not enough for this amount plus the network fee.',
  INVALID_ADDRESS: 'This is not a valid bitcoin address. Check it for a mistyped or missing character.',
  INVALID_URI: 'This bitcoin: link is broken (its amount or another part is not valid).',
  AMOUNT_BELOW_DUST: 'This amount is too small to send on chain; the network would not relay it.',
  SEND_OUTDATED: 'Your coins changed since the fee was shown. Review the send again.',
  BROADCAST_REJECTED: 'The network refused this transaction. Nothing was sent.',
  CHANNEL_NOT_FOUND: 'This channel is already closed.',
  CHANNEL_CLOSING_FAILED: 'The channel could not be closed now. Try again, or force close it.',
  // Lightning Addresses
  NAME_TAKEN: 'That name is taken. Choose another.',
  ADDRESSES_OFF: 'Your service provider offers no Lightning Addresses.',
  // the LSP's relay, for requests to other sites
  RELAY_TIMEOUT: 'The site took too long to answer. Nothing was paid.',
  RELAY_UNREACHABLE: 'The site can’t be reached right now. Nothing was paid.',
  RELAY_TOO_LARGE: 'The site’s answer is larger than this wallet opens (1 MB).',
};

export function inWords(error: unknown): string {
  const code = (error as { code?: UiErrorCode })?.code;
  // NodeError and ApiError messages start with their code; the person needs only what follows
  const detail = (error instanceof Error ? error.message : String(error)).replace(/^[A-Z_]+: /, '');
  if (code === 'RELAY_REFUSED') return `Your service provider won’t contact that site for you: ${detail}.`;
  return (code === undefined ? undefined : WORDS[code]) ?? detail;
}
