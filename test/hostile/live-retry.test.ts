/**
 * A batch that fails is retried and applied: the first three commits fail (as a batch that ran out
 * of DuckDB memory did); JSON files and SQLite rows written once, with nothing written after them,
 * must still be applied by the retries (before, a database read that was rolled back was not read
 * again until the next write to it).
 */
import { afterAll, expect, it } from 'vitest';
import { type LiveRun, liveAndClean, settled, startLive } from '../support/live-harness.ts';
import { TrafficWriter } from '../support/live-traffic.ts';

const runs: LiveRun[] = [];
afterAll(async () => {
  for (const r of runs) {
    await r.bridge.stop();
    r.store.close();
  }
});

it('a failing batch is queued again and applied by a retry, in smaller pieces, with backoff', async () => {
  let failures = 3;
  const run = await startLive({
    beforeCommit: () => {
      if (failures-- > 0) throw new Error('Out of Memory Error: could not allocate block (injected)');
    },
  });
  runs.push(run);
  const seen: number[] = [];
  run.bridge.on('error', () => seen.push(run.bridge.status.retryInMs));
  const w = new TrafficWriter(run.dir);
  const t0 = performance.now();
  for (const item of run.items) w.write(item); // all at once: one burst, then silence
  w.close();
  await settled(run.bridge);
  expect(seen).toHaveLength(3);
  // backoff: each retry waits longer than the one before (20, 40, 80 ms)
  expect(seen[1]).toBeGreaterThan(seen[0] as number);
  expect(seen[2]).toBeGreaterThan(seen[1] as number);
  expect(performance.now() - t0).toBeGreaterThan(20 + 40 + 80);
  expect(run.bridge.status).toMatchObject({ pendingChanges: 0, consecutiveFailures: 0, degraded: false });
  const { live, clean } = await liveAndClean(run);
  expect(live).toEqual(clean);
}, 120_000);
