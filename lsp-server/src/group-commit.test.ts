import { describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit.ts';

describe('GroupCommit', () => {
  it('writes what was asked in one turn in one commit, answering each in order', async () => {
    const commits: number[][] = [];
    const group = new GroupCommit(async (items: number[]) => {
      commits.push(items);
      return items.map((n) => n * 2);
    });
    expect(await Promise.all([1, 2, 3].map((n) => group.add(n)))).toEqual([2, 4, 6]);
    expect(await group.add(4)).toBe(8);
    expect(commits).toEqual([[1, 2, 3], [4]]);
  });

  it('what arrives during a slow commit goes in the next one', async () => {
    const commits: string[][] = [];
    let release!: () => void;
    const group = new GroupCommit(async (items: string[]) => {
      commits.push(items);
      if (commits.length === 1) await new Promise<void>((resolve) => (release = resolve));
      return items;
    });
    const first = group.add('a');
    await new Promise((resolve) => setImmediate(resolve));
    const later = ['b', 'c'].map((s) => group.add(s));
    release();
    expect(await Promise.all([first, ...later])).toEqual(['a', 'b', 'c']);
    expect(commits).toEqual([['a'], ['b', 'c']]);
  });

  it('a failed commit fails every write in it, and the next commit still runs', async () => {
    let fail = true;
    const group = new GroupCommit(async (items: number[]) => {
      if (fail) throw new Error('disk full');
      return items;
    });
    const outcomes = await Promise.allSettled([group.add(1), group.add(2)]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await group.add(3)).toBe(3);
  });
});
