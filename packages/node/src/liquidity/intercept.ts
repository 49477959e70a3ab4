// JIT channels, the LSP's side: HTLCs sent to an intercept SCID stop here as `htlc-intercepted`
// events until the LSP forwards them over the channel it opened (minus its fee) or fails them.
import * as ldk from 'lightningdevkit';
import { NodeError } from '../errors.ts';
import { expectOk, fromHex } from '../ldk/values.ts';
import { assertBigint, nodeIdBytes } from '../payment/route.ts';

export class HtlcIntercept {
  constructor(
    private readonly channelManager: ldk.ChannelManager,
    /** Forwards run after the node's forward delay (the pump). */
    private readonly scheduleForwards: () => void,
  ) {}

  newScid(): bigint {
    return this.channelManager.get_intercept_scid();
  }

  forward(interceptId: string, channelId: string, peerId: string, amountMsat: bigint): void {
    assertBigint(amountMsat, 'amountMsat', 1n);
    expectOk(
      this.channelManager.forward_intercepted_htlc(
        interceptIdBytes(interceptId),
        ldk.ChannelId.constructor_new(fromHex(channelId, 'channelId')),
        nodeIdBytes(peerId),
        amountMsat,
      ),
      'HTLC_NOT_FOUND',
      'forward_intercepted_htlc',
    );
    this.scheduleForwards();
  }

  fail(interceptId: string): void {
    expectOk(
      this.channelManager.fail_intercepted_htlc(interceptIdBytes(interceptId)),
      'HTLC_NOT_FOUND',
      'fail_intercepted_htlc',
    );
    this.scheduleForwards();
  }
}

function interceptIdBytes(interceptId: string): Uint8Array {
  const intercept = fromHex(interceptId, 'interceptId');
  if (intercept.length !== 32) throw new NodeError('INVALID_INPUT', '"interceptId" expected 32 bytes');
  return intercept;
}
