// `lpw-wallet` backups end to end on the devnet, as child processes: restore from the LSP's latest
// backup and from the words alone, each ending with the channel balance in the on-chain wallet (and
// in the devnet's UTXO set); a restore while the LSP serves an older backup than the file copy; a
// second directory refused while the first runs (LEASE_HELD); a wallet taken over by another device
// stops (LEASE_FENCED) and never takes the lease back; an LSP copy that cannot be restored is never
// replaced by an empty state; bad backup files are typed errors that change nothing.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backupKeysFrom, DEFAULT_BACKUP_KEY, encodeBackup, readBackupHeader } from '@lpw/backup';
import { waitUntil } from '@lpw/devnet';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliDone, type Stack, startStack } from './stack.ts';

const big = (v: unknown) => BigInt(v as string);

describe('lpw-wallet backups on the devnet', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack('lpw-cli-backup-tests');
  });
  afterAll(() => s?.stop());

  const words = (dir: string) => readFileSync(join(dir, 'seed.txt'), 'utf8').trim();
  const balance = async (dir: string) => {
    const r = await cliDone(s, dir, ['balance']);
    expect(r.code, r.stderr).toBe(0);
    return r.lines[0]!;
  };
  const lspCopy = async (nodeId: string) => (await s.store.getBackup(nodeId, DEFAULT_BACKUP_KEY))!;

  /** A wallet with a JIT channel (confirmed) and a payment out of it, so its balance has msat in it. */
  async function fundedWallet(name: string) {
    const dir = join(s.tmp, name);
    expect((await cliDone(s, dir, ['init'])).code).toBe(0);
    const run = cli(s, dir, ['receive', '200000', '--max-fee-sats', '5000']);
    const invoice = await run.next('invoice');
    await s.net.router.node.payInvoice(invoice.bolt11 as string, { timeoutMs: 60_000 });
    await run.next('received');
    expect(await run.exit, run.stderr()).toBe(0);
    s.devnet.mine(1); // the funding transaction confirms
    const merchant = s.net.merchant.node.createInvoice({
      amountMsat: 1_234_567n,
      description: name,
      expirySecs: 600,
    });
    const paid = await cliDone(s, dir, ['pay', merchant.bolt11]);
    expect(paid.code, paid.stderr).toBe(0);
    const b = await balance(dir);
    return { dir, words: words(dir), nodeId: b.nodeId as string };
  }

  /** Everything the wallet holds in its one channel: spendable balance and the reserve. */
  const channelBalanceMsat = (b: Record<string, unknown>) => big(b.lightningMsat) + big(b.reserveMsat);

  /**
   * After a restore: the LSP's closing transaction paid our balance to our on-chain wallet. It
   * confirms; the wallet and the devnet's UTXO set agree on the amount to the msat: the channel
   * balance less its sub-satoshi part (an output holds whole satoshis; the LSP opened the channel,
   * so the commitment's fee is its own).
   */
  async function expectMoneyOnChain(dir: string, recovery: Record<string, unknown>, balanceMsat: bigint) {
    const [channel] = recovery.channels as Array<Record<string, unknown>>;
    expect(channel).toBeDefined();
    expect(channel!.stage).toMatch(/^close-/);
    const expectedMsat = balanceMsat - (balanceMsat % 1000n);
    expect(big(channel!.recoveredMsat)).toBe(expectedMsat);
    s.devnet.mine(1);
    const txid = channel!.closingTxid as string;
    const closing = s.devnet.chain.getTransaction(txid)!;
    const ours = closing.tx.outputs
      .map((o, vout) => ({ vout, value: o.value, coin: s.devnet.chain.utxo({ txid, vout }, false) }))
      .filter((o) => o.coin !== undefined && o.value * 1000n === expectedMsat);
    expect(ours).toHaveLength(1); // confirmed, unspent: in the UTXO set
    const after = await balance(dir);
    expect(big(after.onchainMsat)).toBe(expectedMsat);
    expect(big(after.lightningMsat)).toBe(0n);
    expect(after.recovery).toMatchObject([{ stage: 'close-confirmed', closingTxid: txid }]);
  }

  let a: { dir: string; words: string; nodeId: string };

  it('backup status and export: the LSP’s latest version, nothing behind; an export is that blob', async () => {
    a = await fundedWallet('a');
    const copy = await lspCopy(a.nodeId);
    expect(readBackupHeader(copy.blob).channels).toBe(1);
    const status = await cliDone(s, a.dir, ['backup', 'status']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.lines[0]).toMatchObject({
      event: 'backup-status',
      version: copy.version,
      channels: 1,
      behindBy: 0,
      fenced: false,
      problem: null,
      warnings: [],
    });
    expect(Date.now() - Date.parse(status.lines[0]!.lastGoodAt as string)).toBeLessThan(120_000);
    const file = join(s.tmp, 'a-export.lpwb');
    const exported = await cliDone(s, a.dir, ['backup', 'export', file]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.lines[0]).toMatchObject({ event: 'backup-exported', version: copy.version, channels: 1 });
    expect(Buffer.from(readFileSync(file)).equals(Buffer.from(copy.blob))).toBe(true);
    const again = await cliDone(s, a.dir, ['backup', 'export', file]);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/exists/);
  });

  it('a second directory with the same words is refused while the first runs (LEASE_HELD), and nothing changes', async () => {
    const running = cli(s, a.dir, ['receive', '5000', '--timeout', '120']);
    const invoice = await running.next('invoice');
    const lease = await s.store.getLease(a.nodeId);
    const second = join(s.tmp, 'a-second');
    const refused = await cliDone(s, second, ['init', '--words', a.words]);
    expect(refused.code).toBe(4);
    const deviceId = readFileSync(join(a.dir, 'device-id'), 'utf8');
    expect(refused.stderr).toMatch(/LEASE_HELD/);
    expect(refused.stderr).toContain(`this wallet runs on ${deviceId}`);
    expect(refused.stderr).toMatch(/until \d{4}-\d\d-\d\dT/);
    expect(existsSync(second)).toBe(false);
    // the lease never moved (the second directory could not write), the backup is still a's
    expect(await s.store.getLease(a.nodeId)).toEqual(lease);
    expect(readBackupHeader((await lspCopy(a.nodeId)).blob).channels).toBe(1);
    // the first one is unaffected: it receives, then exits and gives the lease back
    await s.net.router.node.payInvoice(invoice.bolt11 as string, { timeoutMs: 60_000 });
    await running.next('received');
    expect(await running.exit, running.stderr()).toBe(0);
  });

  it('a wallet another device takes over stops at once (LEASE_FENCED) and never takes the lease back', async () => {
    const run = cli(s, a.dir, [
      'stream',
      '--to',
      s.net.merchant.nodeId,
      '--sats-per-minute',
      '300',
      '--period-ms',
      '200',
      '--budget-sats',
      '1000',
      '--minutes',
      '2',
    ]);
    await run.next('started');
    let received = 0;
    const off = s.net.merchant.node.on('payment-received', () => received++);
    await waitUntil('3 payments at the merchant', () => received >= 3, 300_000, 50);
    off();
    const phone = await s.store.acquireLease(a.nodeId, 'phone-took-over', Date.now() + 600_000);
    const fencedAt = Date.now();
    expect(await run.exit).toBe(4);
    expect(Date.now() - fencedAt).toBeLessThan(30_000);
    expect(run.stderr()).toMatch(/LEASE_FENCED/);
    expect(run.stderr()).toMatch(/phone-took-over took this wallet over/);
    expect(await s.store.getLease(a.nodeId)).toMatchObject({
      deviceId: 'phone-took-over',
      fencingToken: phone.fencingToken,
    });
    // the phone gives the wallet back; this directory runs again
    await s.store.releaseLease(a.nodeId, phone.fencingToken, Date.now());
    expect((await cliDone(s, a.dir, ['balance'])).code).toBe(0);
  }, 300_000);

  it('restore from the latest backup: the channel closes, every msat of its balance is back on chain', async () => {
    const r = await fundedWallet('r');
    const balanceMsat = channelBalanceMsat(await balance(r.dir));
    const copy = await lspCopy(r.nodeId);
    const restored = join(s.tmp, 'r-restored');
    const run = await cliDone(s, restored, ['init', '--words', r.words]);
    expect(run.code, run.stderr).toBe(0);
    const events = run.lines.map((l) => l.event);
    expect(events).not.toContain('rollback');
    expect(run.lines.find((l) => l.event === 'restore')).toMatchObject({
      source: 'lsp',
      version: readBackupHeader(copy.blob).version,
      channels: 1,
    });
    expect(run.lines.find((l) => l.event === 'recovering')).toMatchObject({ channels: 1 });
    // the restored copy never went down: same channel (closed), a higher version
    const after = await lspCopy(r.nodeId);
    expect(after.version).toBeGreaterThan(copy.version);
    expect(readBackupHeader(after.blob).channels).toBe(1);
    await expectMoneyOnChain(restored, run.lines.find((l) => l.event === 'recovery')!, balanceMsat);
  }, 300_000);

  it('restore while the LSP serves an older backup than the file copy: said in words, the newest used', async () => {
    const o = await fundedWallet('o');
    const old = await lspCopy(o.nodeId);
    const oldVersion = readBackupHeader(old.blob).version;
    for (const amountMsat of [2_000_500n, 3_000_250n]) {
      const invoice = s.net.merchant.node.createInvoice({
        amountMsat,
        description: 'later',
        expirySecs: 600,
      });
      expect((await cliDone(s, o.dir, ['pay', invoice.bolt11])).code).toBe(0);
    }
    const balanceMsat = channelBalanceMsat(await balance(o.dir));
    const file = join(s.tmp, 'o-export.lpwb');
    expect((await cliDone(s, o.dir, ['backup', 'export', file])).code).toBe(0);
    const newest = readBackupHeader(readFileSync(file)).version;
    expect(newest).toBeGreaterThan(oldVersion);
    // the LSP serves the old blob again, labelled as a newer version
    const current = await lspCopy(o.nodeId);
    const lease = await s.store.acquireLease(o.nodeId, 'lsp-rollback', Date.now() + 60_000);
    const put = await s.store.putBackup({
      nodeId: o.nodeId,
      key: DEFAULT_BACKUP_KEY,
      expectedVersion: current.version,
      version: current.version + 1,
      blob: old.blob,
      fencingToken: lease.fencingToken,
      nowMs: Date.now(),
      maxKeys: 64,
    });
    expect(put.ok).toBe(true);
    await s.store.releaseLease(o.nodeId, lease.fencingToken, Date.now());

    const restored = join(s.tmp, 'o-restored');
    const run = await cliDone(s, restored, ['init', '--words', o.words, '--backup-file', file]);
    expect(run.code, run.stderr).toBe(0);
    const rollback = run.lines.find((l) => l.event === 'rollback');
    expect(rollback?.report).toBe(
      `Your LSP served backup version ${oldVersion}, but the backup file holds version ${newest}. An LSP that serves an old backup may be trying to make your wallet use an old channel state; the wallet used the newest copy.`,
    );
    expect(run.lines.find((l) => l.event === 'restore')).toMatchObject({ source: 'file', version: newest });
    // uploads continue above every version seen, the LSP's label included
    expect((await lspCopy(o.nodeId)).version).toBeGreaterThan(current.version + 1);
    await expectMoneyOnChain(restored, run.lines.find((l) => l.event === 'recovery')!, balanceMsat);
  }, 300_000);

  it('restore from the words alone (the LSP lost the backup): the LSP closes, the balance is back on chain', async () => {
    const w = await fundedWallet('w');
    const balanceMsat = channelBalanceMsat(await balance(w.dir));
    const db = new Database(join(s.tmp, 'lsp.sqlite'));
    db.prepare('DELETE FROM backups WHERE node_id = ?').run(w.nodeId);
    db.close();
    const restored = join(s.tmp, 'w-restored');
    const run = await cliDone(s, restored, ['init', '--words', w.words]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.lines.find((l) => l.event === 'restore')).toMatchObject({ source: null });
    await expectMoneyOnChain(restored, run.lines.find((l) => l.event === 'recovery')!, balanceMsat);
  }, 300_000);

  it('init --words never uploads an empty state over an LSP copy it cannot restore; bad files change nothing', async () => {
    // the LSP's copy of wallet a, its body damaged: the header (1 channel) still reads
    const current = await lspCopy(a.nodeId);
    const damaged = Uint8Array.from(current.blob);
    damaged[damaged.length - 20]! ^= 0x40;
    const lease = await s.store.acquireLease(a.nodeId, 'lsp-damage', Date.now() + 60_000);
    expect(
      (
        await s.store.putBackup({
          nodeId: a.nodeId,
          key: DEFAULT_BACKUP_KEY,
          expectedVersion: current.version,
          version: current.version + 1,
          blob: damaged,
          fencingToken: lease.fencingToken,
          nowMs: Date.now(),
          maxKeys: 64,
        })
      ).ok,
    ).toBe(true);
    await s.store.releaseLease(a.nodeId, lease.fencingToken, Date.now());
    const before = await lspCopy(a.nodeId);

    const target = join(s.tmp, 'a-empty');
    const refused = await cliDone(s, target, ['init', '--words', a.words]);
    expect(refused.code).toBe(4);
    expect(refused.lines.find((l) => l.event === 'rollback')?.report).toMatch(
      /failed its check \(BACKUP_CORRUPT\).*No other valid copy/,
    );
    expect(refused.stderr).toMatch(/BACKUP_FEWER_CHANNELS.*1 channel\(s\).*this directory's state has 0/);
    expect(existsSync(target)).toBe(false);
    const after = await lspCopy(a.nodeId);
    expect(after.version).toBe(before.version);
    expect(Buffer.from(after.blob).equals(Buffer.from(before.blob))).toBe(true);

    // bad backup files: refused before anything else, nothing created, the LSP's copy untouched
    const good = readFileSync(join(a.dir, 'backup.lpwb'));
    const corrupt = Uint8Array.from(good);
    corrupt[corrupt.length - 1]! ^= 1;
    // another wallet's backup (its own node id and keys)
    const foreign = await encodeBackup(
      { nodeId: s.lspNode.nodeId, version: 3, createdAtMs: Date.now(), entries: new Map() },
      backupKeysFrom(new Uint8Array(32).fill(5), new Uint8Array(32).fill(6)),
    );
    const files: Array<[string, Uint8Array, RegExp, number]> = [
      ['corrupt.lpwb', corrupt, /BACKUP_CORRUPT/, 3],
      ['truncated.lpwb', good.subarray(0, good.length - 100), /BACKUP_TRUNCATED/, 3],
      ['foreign.lpwb', foreign, /BACKUP_WRONG_WALLET/, 3],
      ['not-a-backup.lpwb', new TextEncoder().encode('hello'), /BACKUP_CORRUPT/, 3],
    ];
    for (const [name, bytes, code, exit] of files) {
      const path = join(s.tmp, name);
      writeFileSync(path, bytes);
      const r = await cliDone(s, target, ['init', '--words', a.words, '--backup-file', path]);
      expect(r.code, `${name}: ${r.stderr}`).toBe(exit);
      expect(r.stderr).toMatch(code);
      expect(existsSync(target)).toBe(false);
    }
    const missing = await cliDone(s, target, [
      'init',
      '--words',
      a.words,
      '--backup-file',
      join(s.tmp, 'nope'),
    ]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/INVALID_INPUT.*cannot read the backup file/);
    expect(existsSync(target)).toBe(false);
    expect((await lspCopy(a.nodeId)).version).toBe(before.version);
    // the directory that runs the wallet still does: its state descends from that copy's version
    expect((await cliDone(s, a.dir, ['balance'])).code).toBe(0);
  }, 300_000);
});
