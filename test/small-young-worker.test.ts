import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { semiSpaceFlagMb } from '../src/resources.ts';

const probe = (mode = '') =>
  JSON.parse(
    execFileSync(
      process.execPath,
      ['--max-semi-space-size=64', '--import', 'tsx', 'test/support/young-worker-probe.ts', mode].filter(
        Boolean,
      ),
      { encoding: 'utf8' },
    ),
  ) as { workerMb: number; mainMb: number };

describe('startSmallYoungWorker', () => {
  it('reads --max-semi-space-size from the Node options, then NODE_OPTIONS', () => {
    expect(semiSpaceFlagMb([], '')).toBe(0);
    expect(semiSpaceFlagMb(['--expose-gc', '--max-semi-space-size=64'], '')).toBe(64);
    expect(semiSpaceFlagMb(['--max_semi_space_size', '32'], '')).toBe(32);
    expect(semiSpaceFlagMb([], '--max-semi-space-size=16 --expose-gc')).toBe(16);
    expect(semiSpaceFlagMb(['--max-semi-space-size=64'], '--max-semi-space-size=16')).toBe(64);
  });

  it("gives the worker the young generation of its resourceLimits, the main thread keeps the flag's", () => {
    const plain = probe('plain');
    expect(plain.workerMb).toBe(128); // the process flag overrides resourceLimits: what this module is for
    const small = probe();
    expect(small.workerMb).toBeLessThanOrEqual(24);
    expect(small.mainMb).toBe(128); // 2 × 64 MB semi-spaces
  });
});
