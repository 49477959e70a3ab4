import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { FairQueue } from './fair-queue.ts';

/**
 * A queue that always takes turns (FAIR_LAG_MS=0), its clock held still (turns take no time: one
 * starts a turn), and what it did, in order. Requests are done once started, unless `running` keeps
 * them: then their `done` is there by label.
 */
function queue(o: { perAddress?: number; max?: number; running?: boolean } = {}) {
  const clock = { ms: 0 };
  const q = new FairQueue({
    lagMs: 0,
    perAddress: o.perAddress ?? 8,
    max: o.max ?? 100,
    clock: () => clock.ms,
    turnClock: () => clock.ms,
  });
  const log: string[] = [];
  const done = new Map<string, () => void>();
  const enter = (address: string, label: string, calls = 1, open = 1, onAdmit?: () => void) =>
    q.enter(
      address,
      calls,
      {
        admit: (finished) => {
          log.push(label);
          if (o.running) done.set(label, finished);
          else finished();
          onAdmit?.();
        },
        evict: () => log.push(`evicted ${label}`),
      },
      open,
    );
  return { q, clock, log, enter, done };
}

/** Lets `n` event-loop turns pass (one request starts per turn). */
async function turns(n: number) {
  for (let i = 0; i < n; i++) await nextTurn();
}

describe('FairQueue', () => {
  it('starts one request a turn, the lightest address first: a flood waits behind itself', async () => {
    const { log, enter } = queue();
    for (let i = 0; i < 5; i++) enter('flood', `flood ${i}`);
    await turns(2);
    expect(log).toEqual(['flood 0', 'flood 1']);
    // an occasional wallet arrives behind three waiting flood requests and starts next
    enter('wallet', 'wallet');
    await turns(1);
    expect(log.at(-1)).toBe('wallet');
    await turns(5);
    expect(log).toEqual(['flood 0', 'flood 1', 'wallet', 'flood 2', 'flood 3', 'flood 4']);
  });

  it('equally light addresses take turns; a batch weighs its calls', async () => {
    const { log, enter } = queue();
    enter('a', 'a1');
    enter('a', 'a2');
    enter('b', 'b1');
    enter('b', 'b2');
    enter('c', 'c1', 10); // ten calls in one request
    await turns(6);
    expect(log).toEqual(['a1', 'b1', 'a2', 'b2', 'c1']);
  });

  it('recent use fades: an address that stopped is light again', async () => {
    const { q, clock, log, enter } = queue();
    for (let i = 0; i < 20; i++) enter('was-busy', `old ${i}`);
    await turns(21);
    clock.ms += 24_000; // twelve half-lives: 20 calls are now under one
    enter('steady', 's1');
    enter('steady', 's2');
    enter('was-busy', 'back');
    await turns(4);
    // 20 calls two minutes ago weigh almost nothing: 'back' comes before the steady address's second
    // (it would wait for both with its 20 calls still counted)
    expect(log.slice(20)).toEqual(['s1', 'back', 's2']);
    expect(q.held()).toBe(0);
  });

  it('a flood starting weighs within seconds: a wallet goes ahead of its request that came 300 ms earlier', async () => {
    const { clock, log, enter } = queue();
    enter('wallet', 'w0', 3);
    await turns(1);
    for (let i = 0; i < 30; i++) {
      enter('flood', `f${i}`); // 10 a second for 3 s
      await turns(1);
      clock.ms += 100;
    }
    // the loop is held 300 ms between the flood's request and the wallet's
    enter('flood', 'early');
    clock.ms += 300;
    enter('wallet', 'w1');
    await turns(2);
    // the flood's ~19 calls of use put it 950 ms late, the wallet's ~1 call 100 ms (with a 10 s
    // half-life and 10 ms a call: 280 ms and 334 ms, and the flood's went first)
    expect(log.slice(-2)).toEqual(['w1', 'early']);
  });

  it('an address with three requests open at once is heavy from its first: a new flood waits behind a wallet', async () => {
    const { clock, log, enter } = queue();
    enter('wallet', 'w0', 3); // info, challenge, login a moment ago
    await turns(1);
    // a flood's first second: three calls of use, like the wallet's, but all open together
    enter('flood', 'f1', 1, 1);
    enter('flood', 'f2', 1, 2);
    enter('flood', 'f3', 1, 3);
    clock.ms += 300;
    enter('wallet', 'w1', 1, 1); // its route query, 300 ms after the flood's
    await turns(4);
    // by use alone f3 (150 ms of use) comes before w1 (due 300 + 200 ms); open, it waits 10 s more
    expect(log.slice(1)).toEqual(['f1', 'f2', 'w1', 'f3']);
  });

  it('past 8 calls of use an address waits behind every light one, for at most 10 s more', async () => {
    const { clock, log, enter } = queue();
    enter('flood', 'f1', 20); // due 1 s late by its use alone, 11 s as heavy
    clock.ms += 2_000;
    enter('wallet', 'w1', 3); // arrives 2 s later, due 150 ms after
    await turns(2);
    expect(log).toEqual(['w1', 'f1']);

    enter('flood', 'f2');
    clock.ms += 11_100; // f2 has waited its use out
    enter('wallet', 'w2');
    await turns(2);
    expect(log.slice(2)).toEqual(['f2', 'w2']);
  });

  it('bounds what waits: per address, and in all, where the last in line gives way', async () => {
    const { q, log, enter } = queue({ perAddress: 2, max: 3 });
    enter('flood', 'f1');
    enter('flood', 'f2');
    expect(q.check('flood', 1, 1)).toBe('address-full');
    expect(q.check('other', 1, 1)).toBe('ok');
    enter('other', 'o1');
    expect(q.held()).toBe(3);
    // full: a newcomer lighter than the flood takes the flood's newest place
    expect(q.check('wallet', 1, 1)).toBe('ok');
    enter('wallet', 'w1');
    expect(log).toEqual(['evicted f2']);
    expect(q.held()).toBe(3);
    // now a newcomer would come last (or tie with the last): refused, the line kept
    expect(q.check('flood', 1, 1)).toBe('full');
    expect(q.check('other', 1, 1)).toBe('full');
    expect(q.check('new', 1, 1)).toBe('full');
    await turns(4);
    expect(log).toEqual(['evicted f2', 'f1', 'o1', 'w1']);
  });

  it('requests already past due start in one turn, in order; the rest one a turn', async () => {
    const { clock, log, enter } = queue();
    enter('a', 'a1'); // due at 50 ms
    enter('b', 'b1'); // 50 ms
    enter('a', 'a2'); // 100 ms
    enter('flood', 'f1', 10); // 500 ms
    clock.ms += 125; // a1, b1 and a2 waited past their due; nobody arriving now can rank before them
    await turns(1);
    expect(log).toEqual(['a1', 'b1', 'a2']);
    await turns(1);
    expect(log).toEqual(['a1', 'b1', 'a2', 'f1']);
  });

  it('a request that goes away while waiting leaves the line', async () => {
    const { q, log, enter } = queue();
    enter('a', 'a1');
    const cancel = enter('a', 'a2');
    enter('b', 'b1');
    cancel?.();
    expect(q.held('a')).toBe(1);
    await turns(3);
    expect(log).toEqual(['a1', 'b1']);
  });

  it('admits at once while the loop keeps up', () => {
    const q = new FairQueue({ lagMs: 1_000, perAddress: 1, max: 1, clock: () => 0 });
    const log: string[] = [];
    for (let i = 0; i < 3; i++) {
      expect(q.check('a', 1, 1)).toBe('ok');
      const cancel = q.enter('a', 1, { admit: () => log.push(`a${i}`), evict: () => log.push('evicted') }, 1);
      expect(cancel).toBeUndefined();
    }
    expect(log).toEqual(['a0', 'a1', 'a2']);
    expect(q.held()).toBe(0);
  });

  it('while the loop keeps up a heavy address still waits for a turn, and a wallet then goes first', async () => {
    const q = new FairQueue({ lagMs: 1_000, perAddress: 4, max: 100, clock: () => 0 });
    const log: string[] = [];
    const held = (label: string) => ({
      admit: (done: () => void) => {
        log.push(label);
        done();
      },
      evict: () => log.push(`evicted ${label}`),
    });
    // a flood's burst: its third request open at once is heavy (a burst of them all admitted at
    // once, each a routes.find, held the loop ~60 ms for the wallets that came next)
    for (let i = 1; i <= 4; i++) q.enter('flood', 1, held(`f${i}`), i);
    q.enter('wallet', 1, held('w1'), 1);
    expect(log).toEqual(['f1', 'f2']);
    await turns(3);
    expect(log).toEqual(['f1', 'f2', 'w1', 'f3', 'f4']);
  });

  it('heavy requests run one at a time; light ones pass meanwhile', async () => {
    const { log, enter, done } = queue({ running: true });
    enter('flood', 'f1', 20); // heavy by its use
    enter('flood', 'f2');
    await turns(3);
    expect(log).toEqual(['f1']); // f2 waits while f1 runs
    enter('wallet', 'w1');
    enter('wallet', 'w2');
    await turns(3);
    expect(log).toEqual(['f1', 'w1', 'w2']);
    done.get('f1')!();
    await turns(2);
    expect(log).toEqual(['f1', 'w1', 'w2', 'f2']);
  });

  it('a heavy request that does not say it is done stops counting as running after its lease', async () => {
    const { log, enter } = queue({ running: true });
    enter('flood', 'f1', 20);
    enter('flood', 'f2');
    await turns(3);
    expect(log).toEqual(['f1']);
    // the lease is 100 ms of the process's own timers: f2 starts after it, without f1's done
    await vi.waitFor(() => expect(log).toEqual(['f1', 'f2']), { timeout: 5_000, interval: 20 });
  });

  it('after a long turn, the next starts a light request per slice of it, in order', async () => {
    const { clock, log, enter } = queue();
    // w0's turn takes 12 ms (2 ms a light request's slice), w6's 40 ms
    enter('w0', 'w0', 1, 1, () => {
      clock.ms += 12;
    });
    // five calls each: due 250 ms on, so none is past due in these turns (those would all start)
    for (let i = 1; i <= 20; i++) {
      enter(`w${i}`, `w${i}`, 5, 1, () => {
        if (i === 6) clock.ms += 40;
      });
    }
    await turns(1);
    expect(log).toEqual(['w0']);
    await turns(1);
    expect(log).toEqual(['w0', 'w1', 'w2', 'w3', 'w4', 'w5', 'w6']); // 12 ms: six
    await turns(1);
    expect(log.slice(7)).toEqual(['w7', 'w8', 'w9', 'w10', 'w11', 'w12', 'w13', 'w14']); // at most eight
  });
});
