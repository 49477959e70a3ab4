// The worker reports every failure by the code of the part that failed: a chain check that caught a
// lying source is named as such, not mistaken for an unreachable LSP.
import { ChainError, NodeError, WalletError } from '@lpw/node';
import { describe, expect, it } from 'vitest';
import { describeError } from './errors.ts';

describe('describeError', () => {
  it("keeps the chain layer's and the on-chain wallet's codes", () => {
    expect(describeError(new ChainError('BAD_PROOF_OF_WORK', 'header 812 misses its target'))).toEqual({
      code: 'BAD_PROOF_OF_WORK',
      message: 'BAD_PROOF_OF_WORK: header 812 misses its target',
    });
    expect(
      describeError(new WalletError('INSUFFICIENT_FUNDS', 'need 5,000 sat', { neededSat: 5000n })),
    ).toEqual({
      code: 'INSUFFICIENT_FUNDS',
      message: 'INSUFFICIENT_FUNDS: need 5,000 sat',
    });
    expect(describeError(new NodeError('ROUTE_NOT_FOUND', 'no path')).code).toBe('ROUTE_NOT_FOUND');
  });

  it('calls a failure it cannot place unreachable, with its message', () => {
    expect(describeError(new TypeError('Failed to fetch'))).toEqual({
      code: 'UNREACHABLE',
      message: 'Failed to fetch',
    });
  });
});
