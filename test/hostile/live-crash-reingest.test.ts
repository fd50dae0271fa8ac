/**
 * A store left by a crash in the middle of live writes ingests again: `ocbridge run` killed with
 * SIGKILL at three points while it applies sustained writes (JSON files and SQLite rows, parts
 * updated in place), then `ocbridge ingest` over the store it left must succeed (no "Duplicate key",
 * no hang) and give exactly what a clean ingest of the same files gives.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { tempDir } from '../support/datadir.ts';
import { smallCorpus } from '../support/live-harness.ts';
import { splitCorpus, TrafficWriter } from '../support/live-traffic.ts';
import { OCBRIDGE_BIN } from '../support/ocbridge-cli.ts';
import { BridgeProcess, cleanSnapshot, snapshotOf } from '../support/soak.ts';

const dir = tempDir('ocb-crashleft-');
const bridges: BridgeProcess[] = [];
afterAll(async () => {
  for (const b of bridges) await b.kill9();
  rmSync(dir, { recursive: true, force: true });
});

it('after kill -9 during live writes, ocbridge ingest over the left store equals a clean ingest', async () => {
  const items = splitCorpus(await smallCorpus(), dir, { loaded: 0.9, updateEvery: 3 });
  const db = join(dir, 'store.duckdb');
  const w = new TrafficWriter(dir);
  const third = Math.ceil(items.length / 3);
  for (let k = 0; k < 3; k++) {
    const b = new BridgeProcess(dir, db);
    bridges.push(b);
    await b.start();
    await b.ready();
    // writes go on while it applies them; killed mid-stream, 300-900 ms in
    const stop = { at: performance.now() + 300 + 300 * k };
    await w.writeAt(items.slice(k * third, (k + 1) * third), 400, () => performance.now() > stop.at);
    await b.kill9();
    for (const item of items.slice(k * third, (k + 1) * third).slice(w.written - k * third)) w.write(item);
  }
  w.close();
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [OCBRIDGE_BIN, 'ingest', '--source', dir, '--db', db],
    { timeout: 120_000 },
  );
  expect(stdout).not.toMatch(/Duplicate key/);
  expect(await snapshotOf(db)).toEqual(await cleanSnapshot(dir));
}, 300_000);
