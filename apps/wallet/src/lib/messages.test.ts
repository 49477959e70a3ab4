// What a screen says for a failure follows from its code alone: the same code reads the same whatever
// its text, and the worker's own sentences reach the person unchanged.
import { ApiError } from '@lpw/api';
import { NodeError } from '@lpw/node';
import { describe, expect, it } from 'vitest';
import { WalletCommandError } from '../worker/protocol.ts';
import { inWords } from './messages.ts';

describe('inWords', () => {
  it('gives one sentence per code, whatever the error says and wherever it came from', () => {
    const words = 'You don’t have enough to pay this (including the network fee).';
    expect(inWords(new NodeError('INSUFFICIENT_BALANCE', 'outbound 10 < 20'))).toBe(words);
    expect(inWords(new WalletCommandError('INSUFFICIENT_BALANCE', 'INSUFFICIENT_BALANCE'))).toBe(words);
    expect(inWords(new WalletCommandError('INSUFFICIENT_BALANCE', 'Some other sentence.'))).toBe(words);
    expect(inWords(new WalletCommandError('RATE_LIMITED', 'RATE_LIMITED: 60 per minute'))).toBe(
      'Too many requests. Wait a minute and try again.',
    );
  });

  it('shows the worker’s own sentence for a code without words of ours', () => {
    const sentence = 'Your service provider at https://lsp.example can’t be reached (UNREACHABLE).';
    expect(inWords(new WalletCommandError('LSP_UNREACHABLE', sentence))).toBe(sentence);
    // the LSP refused for load after the client backed off: only its sentence says when to retry
    const busy = 'The LSP is busy; try again in 12 s';
    expect(inWords(new WalletCommandError('LSP_BUSY', busy))).toBe(busy);
    // an invoice for another network is not the on-chain address refusal of the same name
    expect(
      inWords(new WalletCommandError('INVOICE_WRONG_NETWORK', 'This invoice is for another network.')),
    ).toBe('This invoice is for another network.');
  });

  it('drops the code a NodeError or ApiError puts before its detail, and quotes a relay refusal', () => {
    expect(inWords(new NodeError('FEES_TOO_HIGH', 'Network fees are high right now'))).toBe(
      'Network fees are high right now',
    );
    expect(inWords(new ApiError('RELAY_REFUSED', 'a private address'))).toBe(
      'Your service provider won’t contact that site for you: a private address.',
    );
  });
});
