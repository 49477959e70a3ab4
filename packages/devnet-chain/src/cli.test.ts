// The CLI's `mine` and `fund` drive a running devnet over JSON-RPC, as a developer would.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Devnet, startDevnet } from './index.ts';
import { testKey } from './testkit.ts';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('./bin.ts', import.meta.url));
const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));

let devnet: Devnet;
beforeAll(async () => {
  devnet = await startDevnet();
});
afterAll(() => devnet.stop());

const devnetCli = (...args: string[]) =>
  run(tsx, [cli, ...args], { env: { ...process.env, DEVNET_RPC_URL: devnet.rpcUrl } });

describe('devnet CLI', () => {
  it('mine N mines N blocks on the running devnet and prints their hashes', async () => {
    const { stdout } = await devnetCli('mine', '2');
    expect(stdout.trim().split('\n')).toEqual([
      devnet.chain.getBlock(102)!.hash,
      devnet.chain.getBlock(103)!.hash,
    ]);
    expect(devnet.chain.tipHeight).toBe(103);
  });

  it('fund ADDRESS SATS sends a real transaction and prints its txid', async () => {
    const carol = testKey('carol');
    const { stdout } = await devnetCli('fund', carol.address, '25000');
    const txid = stdout.trim();
    expect(devnet.chain.mempool.get(txid)?.tx.outputs.some((o) => o.value === 25_000n)).toBe(true);
    await expect(devnetCli('fund', 'bcrt1qnotanaddress', '1')).rejects.toMatchObject({
      stderr: expect.stringContaining('Invalid address'),
    });
  });
});
