import { NodeError } from '@lpw/node';
import { describe, expect, it } from 'vitest';
import { toCliError } from './errors.ts';

describe('a node refusal as the CLI prints it (`error CODE: message`)', () => {
  it('names its code once when the CLI uses the same one', () => {
    const e = toCliError(
      new NodeError('INVALID_INVOICE', 'The invoice contains "b", which bech32 does not use'),
    );
    expect(e.code).toBe('INVALID_INVOICE');
    expect(e.message).toBe('The invoice contains "b", which bech32 does not use');
  });

  it("keeps the node's own code when the CLI reports another", () => {
    const e = toCliError(new NodeError('INVALID_OFFER', 'not an offer'));
    expect(e.code).toBe('INVALID_INVOICE');
    expect(e.message).toBe('INVALID_OFFER: not an offer');
  });
});
