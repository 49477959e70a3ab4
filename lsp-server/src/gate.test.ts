import { ApiError } from '@lpw/api';
import { describe, expect, it } from 'vitest';
import { Gate } from './gate.ts';

describe('Gate', () => {
  it('runs at most `concurrency` jobs, queues `queue` more and refuses the rest with a retry time', async () => {
    const gate = new Gate(2, 3);
    let running = 0;
    let peak = 0;
    let finished = 0;
    const releases: (() => void)[] = [];
    const job = () =>
      gate.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running--;
        finished++;
        return 'done';
      });
    const outcomes = Array.from({ length: 8 }, () => job().catch((e: unknown) => e));
    const settled = await Promise.all(outcomes.slice(5)); // the three beyond 2 + 3 fail at once
    for (const e of settled) {
      expect(e).toBeInstanceOf(ApiError);
      expect(e).toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterSec: 1 } });
    }
    expect(gate.load).toEqual({ running: 2, waiting: 3 });
    while (finished < 5) {
      releases.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await Promise.all(outcomes.slice(0, 5))).toEqual(Array(5).fill('done'));
    expect(peak).toBe(2);
    expect(gate.load).toEqual({ running: 0, waiting: 0 });
  });

  it('starts a job that finds a slot free at once, in the turn it came in', async () => {
    const gate = new Gate(1, 100);
    const order: string[] = [];
    setImmediate(() => order.push('next turn'));
    await gate.run(async () => void order.push('job'));
    expect(order).toEqual(['job']);
  });

  it('starts each job that waited on a fresh event-loop turn, so work already waiting runs between jobs', async () => {
    const gate = new Gate(1, 100);
    const order: string[] = [];
    const busy = (name: string) =>
      gate.run(async () => {
        order.push(name);
        const until = performance.now() + 5; // a synchronous stretch, like pathfinding
        while (performance.now() < until) {}
      });
    const jobs = [busy('a'), busy('b'), busy('c')];
    setImmediate(() => order.push('other request'));
    await Promise.all(jobs);
    expect(order.indexOf('other request')).toBeLessThan(order.indexOf('c'));
  });

  it('serves a client with nothing running or waiting first, and one client holds at most its share of the queue', async () => {
    const gate = new Gate(1, 100, 3);
    const order: string[] = [];
    let first!: Promise<void>;
    const started = new Promise<() => void>((running) => {
      first = gate.run(() => new Promise<void>((resolve) => running(resolve)), 'flood');
    });
    const job = (client: string) => gate.run(async () => void order.push(client), client);
    const flood = Array.from({ length: 5 }, () => job('flood').catch((e: unknown) => e));
    const honest = [job('alice'), job('bob')];
    // the flood's 4th and 5th waiters are refused at once: 3 places per client
    for (const e of await Promise.all(flood.slice(3))) expect(e).toMatchObject({ code: 'RATE_LIMITED' });
    (await started)();
    await Promise.all([first, ...flood.slice(0, 3), ...honest]);
    // alice and bob came after three of the flood's requests, which had one running: they go first
    expect(order).toEqual(['alice', 'bob', 'flood', 'flood', 'flood']);
  });

  it('serves clients already in line in turn, each going to the back once its turn came', async () => {
    const gate = new Gate(1, 100);
    const order: string[] = [];
    let first!: Promise<void>;
    const started = new Promise<() => void>((running) => {
      first = gate.run(() => new Promise<void>((resolve) => running(resolve)), 'a');
    });
    const job = (client: string) => gate.run(async () => void order.push(client), client);
    // a is running: its waiters are in line already; b comes with nothing running, then sends more
    const jobs = [job('a'), job('a'), job('b'), job('b'), job('b')];
    (await started)();
    await Promise.all([first, ...jobs]);
    // b's first went ahead (it had nothing running); then a and b take turns
    expect(order).toEqual(['b', 'a', 'b', 'a', 'b']);
  });

  it('a full queue refuses the newest waiter of the client holding the most places, not a newcomer', async () => {
    const gate = new Gate(1, 4, 3);
    const order: string[] = [];
    let first!: Promise<void>;
    const started = new Promise<() => void>((running) => {
      first = gate.run(() => new Promise<void>((resolve) => running(resolve)), 'flood');
    });
    const job = (client: string) => gate.run(async () => void order.push(client), client);
    const flood = Array.from({ length: 3 }, () => job('flood').catch((e: unknown) => e));
    const other = job('other');
    // the queue (4) is full: alice takes the flood's newest place, which is refused with a retry time
    const alice = job('alice');
    expect(await flood[2]).toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterSec: 1 } });
    // the flood still holds two places more than bob: bob takes its next newest
    const bob = job('bob');
    expect(await flood[1]).toMatchObject({ code: 'RATE_LIMITED' });
    // one place each now: carol is refused, as nobody holds two more than she would
    await expect(job('carol')).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    (await started)();
    await Promise.all([first, flood[0], other, alice, bob]);
    // the flood had a job running, so its one remaining place comes after the newcomers
    expect(order).toEqual(['other', 'alice', 'bob', 'flood']);
    expect(gate.load).toEqual({ running: 0, waiting: 0 });
  });

  it('a failing job frees its slot', async () => {
    const gate = new Gate(1, 0);
    await expect(gate.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await gate.run(async () => 7)).toBe(7);
  });
});
