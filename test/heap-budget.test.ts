import { describe, expect, it } from 'vitest';
import { HeapBudget } from '../src/ingest/heap-budget.ts';

const MB = 1048576;

describe('HeapBudget', () => {
  it('collects only when the heap grew by more than the budget since the last collection', () => {
    let used = 100 * MB;
    const calls: number[] = [];
    const gc = () => {
      calls.push(used);
      used = 120 * MB; // what survives
    };
    const b = new HeapBudget(64, gc, () => used);
    used = 160 * MB;
    expect(b.check()).toBe(false); // +60 MB over the start: within the budget
    used = 170 * MB;
    expect(b.check()).toBe(true);
    expect(calls).toEqual([170 * MB]);
    used = 180 * MB; // +60 over what survived (120)
    expect(b.check()).toBe(false);
    used = 185 * MB;
    expect(b.check()).toBe(true);
    expect(calls).toHaveLength(2);
  });

  it('collect() collects at once and resets the base', () => {
    let used = 500 * MB;
    let n = 0;
    const b = new HeapBudget(
      64,
      () => {
        n++;
        used = 10 * MB;
      },
      () => used,
    );
    b.collect();
    expect(n).toBe(1);
    used = 70 * MB;
    expect(b.check()).toBe(false);
  });

  it('does nothing without an exposed gc (Node without --expose-gc)', () => {
    const b = new HeapBudget(1, undefined, () => 10 ** 12);
    expect(b.check()).toBe(false);
    expect(() => b.collect()).not.toThrow();
  });

  it('the bin exposes gc: node runs it with --expose-gc', async () => {
    const { readFileSync } = await import('node:fs');
    const line = readFileSync(new URL('../bin/ocbridge.js', import.meta.url), 'utf8').split('\n')[0];
    expect(line).toMatch(/\bnode\b.*--expose-gc/);
  });
});
