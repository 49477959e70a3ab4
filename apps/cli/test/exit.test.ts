// Leaving the LSP with `lpw-wallet` on the devnet, as child processes: a cooperative close; then the
// LSP goes away for good and the wallet still starts, force-closes, counts down the CSV delay,
// sweeps, and sends everything to an outside address, which the chain's UTXO set then holds less
// the fee printed first. Bad sends (wrong network, too much, a malformed URI, no --yes) spend nothing.
import { join } from 'node:path';
import { scriptAddress } from '@lpw/devnet';
import { sha256 } from '@noble/hashes/sha2.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliDone, type Stack, startStack } from './stack.ts';

const big = (v: unknown) => BigInt(v as string);
// a P2WPKH output of nobody in this test: where the coins leave to
const outsideScript = Uint8Array.from([
  0x00,
  0x14,
  ...sha256(new TextEncoder().encode('outside')).slice(0, 20),
]);
const outside = { script: outsideScript, address: scriptAddress(outsideScript) };

describe('lpw-wallet: leaving without the LSP', () => {
  let s: Stack;
  let dir: string;
  beforeAll(async () => {
    s = await startStack('lpw-cli-exit');
    dir = join(s.tmp, 'wallet');
    expect((await cliDone(s, dir, ['init'])).code).toBe(0);
  }, 180_000); // a stack and a wallet process: slow on a loaded machine
  afterAll(() => s?.stop());

  const run = async (args: string[], code = 0) => {
    const r = await cliDone(s, dir, args);
    expect(r.code, r.stderr).toBe(code);
    return r;
  };
  const receive = async (sats: number) => {
    const r = cli(s, dir, ['receive', String(sats), '--max-fee-sats', '10000']);
    const invoice = await r.next('invoice');
    await s.net.router.node.payInvoice(invoice.bolt11 as string, { timeoutMs: 60_000 });
    await r.next('received');
    expect(await r.exit).toBe(0);
  };
  const onchainBalance = async () => (await run(['onchain', 'balance'])).lines[0]!;
  const mine = (n: number) => s.devnet.mine(n);

  it('closes cooperatively: the balance lands in the on-chain wallet', async () => {
    await receive(200_000);
    const [channel] = (await run(['channels'])).lines.filter((l) => l.event === 'channel');
    const ours = big(channel!.outboundMsat);
    // the fee first (none: the LSP opened the channel); without a terminal and --yes nothing closes
    const mempool = s.devnet.chain.mempool.ordered().length;
    const unasked = await run(['close'], 5);
    expect(unasked.lines[0]).toMatchObject({ event: 'close-fee', force: false, feeMsat: '0' });
    expect(unasked.stderr).toMatch(/DECLINED.*--yes/);
    expect(s.devnet.chain.mempool.ordered()).toHaveLength(mempool);
    const asked = await run(['close', '--yes']);
    const closed = asked.lines.find((l) => l.event === 'closed')!;
    expect(closed).toMatchObject({ channelId: channel!.channelId, force: false });
    mine(6);
    const balance = await onchainBalance();
    // the LSP opened (and pays the fee of) the channel: ours, rounded down to the sat, plus the reserve
    expect(big(balance.confirmedMsat)).toBeGreaterThanOrEqual((ours / 1000n) * 1000n);
    const coins = s.devnet.chain.unspentFor(
      s.devnet.chain
        .getTransaction(closed.closingTxid as string)!
        .tx.outputs.find((o) => big(balance.confirmedMsat) === o.value * 1000n)!.script,
      false,
    );
    expect(coins).toHaveLength(1);
  }, 240_000); // each command starts a wallet: tens of seconds on a loaded machine

  it('with the LSP gone: force close, CSV countdown, sweep, everything sent out', async () => {
    await receive(300_000);
    const [channel] = (await run(['channels'])).lines.filter((l) => l.event === 'channel');
    const toSelfDelay = channel!.toSelfDelay as number;
    expect(toSelfDelay).toBeGreaterThan(6);
    await s.stopLsp();

    // the wallet still starts (network and chain source as last seen); a cooperative close needs the LSP
    const coop = await run(['close', '--yes'], 6);
    expect(coop.stderr).toMatch(/LSP_UNREACHABLE.*--force/);
    const forcing = await run(['close', channel!.channelId as string, '--force', '--yes']);
    // the fee printed before closing: the sweep of the wallet's output at today's rate
    const closeFee = forcing.lines.find((l) => l.event === 'close-fee')!;
    const forced = forcing.lines.find((l) => l.event === 'closed')!;
    expect(forced).toMatchObject({ force: true, toSelfDelay });
    mine(1);
    const closing = (await run(['sweeps'])).lines.find((l) => l.event === 'closing')!;
    expect(closing.channelId).toBe(channel!.channelId);
    expect(closing.blocksLeft).toBe(toSelfDelay - 1);
    expect(closing.hoursLeft).toBe(Math.round(((toSelfDelay - 1) * 10) / 6) / 10);
    const claimableMsat = big(closing.claimableMsat);
    expect(claimableMsat).toBeGreaterThan(200_000_000n);

    const before = big((await onchainBalance()).confirmedMsat);
    mine(toSelfDelay - 1);
    // each start syncs: LDK hands the matured output to the sweeper, which broadcasts its spend
    let swept = false;
    for (let i = 0; i < 8 && !swept; i++) {
      await run(['sweeps']);
      mine(1);
      swept = big((await onchainBalance()).confirmedMsat) > before;
    }
    expect(swept).toBe(true);
    const confirmedMsat = big((await onchainBalance()).confirmedMsat);
    // the sweep's fee is all that the wallet lost of the claimable amount
    expect(confirmedMsat - before).toBeGreaterThan(claimableMsat - 2_000_000n);
    // and it is the fee printed before the close
    const commitment = s.devnet.chain.getTransaction(forced.closingTxid as string)!;
    const sweepFees = commitment.tx.outputs
      .map((_, vout) => s.devnet.chain.outspend(forced.closingTxid as string, vout))
      .filter((spend) => spend !== undefined)
      .map((spend) => s.devnet.chain.getTransaction(spend.txid)!.fee * 1000n);
    expect(sweepFees).toEqual([big(closeFee.feeMsat)]);

    // bad sends: typed errors, exit codes, nothing spent
    const mempool = s.devnet.chain.mempool.ordered().length;
    const wrongNetwork = await run(
      ['onchain', 'send', 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', '--amount-sats', '1000', '--yes'],
      3,
    );
    expect(wrongNetwork.stderr).toMatch(/INVALID_INPUT.*WRONG_NETWORK/);
    const tooMuch = await run(
      ['onchain', 'send', outside.address!, '--amount-sats', String(confirmedMsat / 1000n), '--yes'],
      5,
    );
    expect(tooMuch.stderr).toMatch(/INSUFFICIENT_BALANCE/);
    const malformed = await run(['onchain', 'send', `bitcoin:${outside.address}?amount=1.2.3`, '--yes'], 3);
    expect(malformed.stderr).toMatch(/INVALID_INPUT/);
    const unasked = await run(['onchain', 'send', outside.address!, '--all'], 5);
    expect(unasked.lines[0]).toMatchObject({ event: 'onchain-fee', sendsAll: true });
    expect(unasked.stderr).toMatch(/DECLINED.*--yes/);
    expect(s.devnet.chain.mempool.ordered()).toHaveLength(mempool);
    expect(big((await onchainBalance()).confirmedMsat)).toBe(confirmedMsat);

    const sent = await run(['onchain', 'send', `bitcoin:${outside.address}?label=savings`, '--all', '--yes']);
    const fee = sent.lines.find((l) => l.event === 'onchain-fee')!;
    const done = sent.lines.find((l) => l.event === 'onchain-sent')!;
    expect(big(fee.amountMsat) + big(fee.feeMsat)).toBe(confirmedMsat);
    mine(1);
    const coins = s.devnet.chain.unspentFor(outside.script, false);
    expect(coins.map((c) => [c.txid, c.value])).toEqual([[done.txid, big(fee.amountMsat) / 1000n]]);
    expect(s.devnet.chain.getTransaction(done.txid as string)!.fee).toBe(big(fee.feeMsat) / 1000n);
    expect(await onchainBalance()).toMatchObject({ confirmedMsat: '0', unconfirmedMsat: '0' });
  }, 900_000); // ~15 wallet processes: minutes on a loaded machine
});
