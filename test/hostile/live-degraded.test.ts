/**
 * Pending changes show: `ocbridge run` whose every live batch fails (OCBRIDGE_TEST_FAIL_COMMITS, the
 * run command's fault seam) must say so in /api/health (`degraded`, the count, the oldest age, the
 * error), in /metrics and in `ocbridge health`; never `ok`. A restart without the fault applies it all.
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

const dir = tempDir('ocb-degraded-');
const bridges: BridgeProcess[] = [];
afterAll(async () => {
  for (const b of bridges) await b.kill9();
  rmSync(dir, { recursive: true, force: true });
});

it('every batch failing: /api/health, /metrics and ocbridge health say degraded; a restart applies it all', async () => {
  const items = splitCorpus(await smallCorpus(), dir, { loaded: 0.97 });
  const db = join(dir, 'store.duckdb');
  const failing = new BridgeProcess(
    dir,
    db,
    undefined,
    { OCBRIDGE_TEST_FAIL_COMMITS: '1000000:Out of Memory Error: could not allocate block (injected)' },
    ['--health-interval', '3600'],
  );
  bridges.push(failing);
  await failing.start();
  await failing.ready();
  const w = new TrafficWriter(dir);
  for (const item of items.slice(0, 20)) w.write(item);

  let h = await failing.health();
  for (let i = 0; i < 300 && (h.status !== 'degraded' || !h.ingest?.failing_since); i++) {
    await new Promise((r) => setTimeout(r, 100));
    h = await failing.health();
  }
  expect(h.status).toBe('degraded');
  expect(Number(h.ingest?.pending_changes)).toBeGreaterThan(0);
  expect(Number(h.ingest?.consecutive_failures)).toBeGreaterThan(0);
  expect(String(h.ingest?.last_error)).toContain('Out of Memory');
  await new Promise((r) => setTimeout(r, 1100));
  h = await failing.health();
  expect(h.status).toBe('degraded'); // never ok while changes fail
  expect(Number(h.ingest?.oldest_pending_s)).toBeGreaterThanOrEqual(1);

  const metrics = await (await fetch(`${failing.url}/metrics`)).text();
  const value = (name: string) =>
    Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(metrics)?.[1]);
  expect(value('opencode_bridge_pending_changes')).toBeGreaterThan(0);
  expect(value('opencode_bridge_oldest_pending_change_seconds')).toBeGreaterThanOrEqual(1);
  expect(value('opencode_bridge_degraded')).toBe(1);

  const { stdout } = await promisify(execFile)(
    process.execPath,
    [OCBRIDGE_BIN, 'health', '--db', db, '--format', 'json', '--only', 'watch_lag'],
    { timeout: 60_000 },
  ).catch((e: { stdout: string }) => e); // exit 1 once the lag passes the fail threshold
  const lag = (JSON.parse(stdout) as { results: { id: string; explanation: string }[] }).results[0];
  expect(lag?.explanation).toMatch(/\d+ changes pending; .* applying them fails: Out of Memory/);

  // the rest arrives while it is down; a restart without the fault applies everything
  for (const item of items.slice(20)) w.write(item);
  w.close();
  expect(await failing.stop()).toBe(0);
  const healthy = new BridgeProcess(dir, db);
  bridges.push(healthy);
  await healthy.start();
  await healthy.caughtUp();
  expect(await healthy.stop()).toBe(0);
  expect(await snapshotOf(db)).toEqual(await cleanSnapshot(dir));
}, 300_000);
