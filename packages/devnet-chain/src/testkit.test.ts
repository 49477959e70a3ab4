// waitUntil is what every package's tests wait with: it must return as soon as the condition holds
// (sync or async) and fail naming what it waited for and how long.
import { describe, expect, it } from 'vitest';
import { waitUntil } from './testkit.ts';

describe('waitUntil', () => {
  it('returns once an async condition holds, polling meanwhile', async () => {
    let checks = 0;
    await waitUntil('the third check', async () => ++checks === 3, 1_000, 1);
    expect(checks).toBe(3);
  });

  it('throws "timeout waiting for <what>" with the elapsed time once the time is up', async () => {
    const start = Date.now();
    const error = await waitUntil('never', () => false, 50).catch((e: Error) => e);
    expect(Date.now() - start).toBeGreaterThanOrEqual(50);
    expect((error as Error).message).toMatch(/^timeout waiting for never \((5\d|[6-9]\d|\d{3,}) ms\)$/);
  });

  it('names what is still missing when `what` is a function, read at the timeout', async () => {
    let missing = 'a';
    setTimeout(() => {
      missing = 'b';
    }, 5);
    await expect(
      waitUntil(
        () => `channel ${missing}`,
        () => false,
        30,
      ),
    ).rejects.toThrow(/^timeout waiting for channel b \(\d+ ms\)$/);
  });
});
