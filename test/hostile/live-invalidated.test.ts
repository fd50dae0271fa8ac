/**
 * An invalidated DuckDB instance is detected: when a live batch fails with DuckDB's fatal "database
 * has been invalidated" (injected through OCBRIDGE_TEST_FAIL_COMMITS, the run command's fault seam),
 * `ocbridge run` exits 75 for its supervisor instead of staying up with every later change failing;
 * the store it leaves opens again, and a restart catches up to a clean ingest of the same files.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { tempDir } from '../support/datadir.ts';
import { smallCorpus } from '../support/live-harness.ts';
import { splitCorpus, TrafficWriter } from '../support/live-traffic.ts';
import { BridgeProcess, cleanSnapshot, snapshotOf } from '../support/soak.ts';

const dir = tempDir('ocb-invalidated-');
const bridges: BridgeProcess[] = [];
afterAll(async () => {
  for (const b of bridges) await b.kill9();
  rmSync(dir, { recursive: true, force: true });
});

it('exits 75 on an invalidated database; the restart catches up to a clean ingest', async () => {
  const items = splitCorpus(await smallCorpus(), dir, { loaded: 0.97 });
  const db = join(dir, 'store.duckdb');
  const fatal = new BridgeProcess(dir, db, undefined, {
    OCBRIDGE_TEST_FAIL_COMMITS:
      '1:FATAL Error: Failed: database has been invalidated because of a previous fatal error (injected)',
  });
  bridges.push(fatal);
  await fatal.start(); // its first live batch (changes seen during the load, or these) fails fatally
  const w = new TrafficWriter(dir);
  for (const item of items) w.write(item);
  w.close();
  expect(await fatal.exited(120_000)).toBe(75);

  const restarted = new BridgeProcess(dir, db);
  bridges.push(restarted);
  await restarted.start();
  await restarted.caughtUp();
  expect((await restarted.health()).status).toBe('ok');
  expect(await restarted.stop()).toBe(0);
  expect(await snapshotOf(db)).toEqual(await cleanSnapshot(dir));
}, 300_000);
