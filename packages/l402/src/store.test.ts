import { describe, expect, it } from 'vitest';
import { MemoryUsageStore } from './store.ts';

describe('MemoryUsageStore', () => {
  it('counts uses per token id up to the maximum', () => {
    const store = new MemoryUsageStore(() => 1_000);
    expect([1, 2, 3].map(() => store.consume('a', 2, 2_000))).toEqual([true, true, false]);
    expect(store.consume('b', 1, 2_000)).toBe(true);
    expect(store.used('a')).toBe(2);
    expect(store.consume('c', 0, 2_000)).toBe(false);
  });

  it('forgets the counters of expired tokens, so memory follows the live ones', () => {
    let now = 1_000;
    const store = new MemoryUsageStore(() => now);
    for (let i = 0; i < 100; i++) store.consume(`old-${i}`, 1, 1_010);
    store.consume('live', 5, 5_000);
    expect(store.size).toBe(101);
    now = 1_100;
    store.consume('new', 1, 5_000);
    expect(store.size).toBe(2);
    expect(store.used('live')).toBe(1);
  });
});
