/**
 * Live mode under sustained writes: a store 95% loaded, the rest of a generated corpus (JSON files and
 * SQLite rows, new sessions, parts first unfinished and then updated in place, a large tool output)
 * written over ~6 s while the bridge follows, and every fourth batch failing before its commit (as
 * batches did when DuckDB hit its live memory limit). Nothing may be lost: the store must equal a
 * clean ingest of the same files.
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

it('sustained writes with failing batches lose nothing: the store equals a clean ingest', async () => {
  let commits = 0;
  const run = await startLive(
    {
      beforeCommit: () => {
        if (++commits % 4 === 0) throw new Error('Out of Memory Error: failed to allocate (injected)');
      },
    },
    { bigOutputs: { count: 1, bytes: 4 * 1024 * 1024 } },
  );
  runs.push(run);
  let errors = 0;
  run.bridge.on('error', () => errors++);
  const w = new TrafficWriter(run.dir);
  await w.writeAt(run.items, run.items.length / 6);
  w.close();
  await settled(run.bridge);
  expect(run.bridge.status.fatal).toBeNull();
  expect(errors).toBeGreaterThan(0); // the failures happened, and were retried
  expect(run.bridge.status).toMatchObject({ pendingChanges: 0, failingSince: null, degraded: false });
  const { live, clean } = await liveAndClean(run);
  expect(live).toEqual(clean);
}, 180_000);
