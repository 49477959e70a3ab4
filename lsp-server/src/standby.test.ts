// The standby lock on a real PostgreSQL: one holder at a time, the waiter takes over when the holder's
// session ends, and a holder whose session was cut can write no node state and broadcast nothing.
import { waitUntil } from '@lpw/devnet';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { testSchema } from '../test/stores.ts';
import { type ActiveLease, acquireActiveLease, LeaseError } from './standby.ts';
import { openStore } from './store/index.ts';
import type { LspStore } from './store/types.ts';

const pgUrl = inject('pgUrl');
const log = pino({ level: 'silent' });
const seed = new Uint8Array(32).fill(7);
const fast = { pollMs: 50, heartbeatMs: 200, lostAfterMs: 1_000, serverSilenceMs: 3_000 };

describe.skipIf(!pgUrl)('hot standby lock (PostgreSQL)', () => {
  const schema = testSchema();
  let store: LspStore;
  let admin: pg.Client;
  const held: ActiveLease[] = [];
  const acquire = async (nodeSeed = seed, signal?: AbortSignal) => {
    const lease = await acquireActiveLease(pgUrl!, {
      log,
      nodeSeed,
      schema,
      timings: fast,
      ...(signal ? { signal } : {}),
    });
    held.push(lease);
    return lease;
  };

  beforeAll(async () => {
    store = await openStore(pgUrl!, { schema });
    admin = new pg.Client({ connectionString: pgUrl! });
    await admin.connect();
  });
  afterAll(async () => {
    for (const lease of held) await lease.release();
    await admin?.end();
    await store?.close();
  });

  it('one holder at a time: the waiter takes over only when the holder releases', async () => {
    const first = await acquire();
    let second: ActiveLease | undefined;
    const waiting = acquire().then((l) => (second = l));
    await new Promise((r) => setTimeout(r, 500));
    expect(second).toBeUndefined();
    await first.release();
    await waiting;
    expect(second!.takeovers).toBe(first.takeovers + 1);
    await second!.release();
  });

  it('a holder whose session is cut stops at once: no node write, no broadcast check passes, the waiter takes over', async () => {
    const active = await acquire();
    const lost = new Promise<string>((resolve) => active.onLost(resolve));
    const nodeStore = store.nodeStore('lsp-0', active.db);
    await nodeStore.commit([{ key: 'manager', value: Uint8Array.of(1) }]);
    let next: ActiveLease | undefined;
    const waiting = acquire().then((l) => (next = l));
    // what an operator does to fence a process by hand, and what PostgreSQL does to a silent one
    await admin.query(`SELECT pg_terminate_backend(backend_pid) FROM ${schema}.active_process`);
    expect(await lost).toMatch(/lock session/);
    await expect(nodeStore.commit([{ key: 'manager', value: Uint8Array.of(2) }])).rejects.toThrow();
    await expect(active.assertHeld()).rejects.toBeInstanceOf(LeaseError);
    await waiting;
    expect((await store.nodeStore('lsp-0').load()).get('manager')).toEqual(Uint8Array.of(1));
    await next!.assertHeld();
    await next!.release();
  });

  it('a holder that cannot prove its lock in time gives up on its own', async () => {
    const active = await acquire();
    const lost = new Promise<string>((resolve) => active.onLost(resolve));
    // the heartbeat queues behind a statement longer than lostAfterMs on the lock's session
    void active.db.all('SELECT pg_sleep(2)').catch(() => {});
    expect(await lost).toMatch(/no proof of the lock/);
    await active.release();
  });

  it("the server ends a silent holder's session, which frees the lock for the waiter", async () => {
    const silent = await acquireActiveLease(pgUrl!, {
      log,
      nodeSeed: seed,
      schema,
      timings: { ...fast, heartbeatMs: 60_000, lostAfterMs: 120_000, serverSilenceMs: 500 },
    });
    held.push(silent);
    const lost = new Promise<string>((resolve) => silent.onLost(resolve));
    const next = await acquire();
    expect(await lost).toMatch(/lock session/);
    await next.release();
  });

  it('refuses a process whose seed is not the one the database holds', async () => {
    await expect(acquire(new Uint8Array(32).fill(8))).rejects.toMatchObject({ code: 'OTHER_NODE' });
  });

  it('stops waiting when asked (SIGTERM while standby)', async () => {
    const active = await acquire();
    const stop = new AbortController();
    const waiting = acquire(seed, stop.signal);
    stop.abort();
    await expect(waiting).rejects.toThrow(/stopped while standby/);
    await waitUntil('lock still held by the active one', () => active.assertHeld().then(() => true), 5_000);
    await active.release();
  });
});
