/**
 * Soak (CI length): `ocbridge run` follows 2 minutes of realistic OpenCode traffic (JSON files and
 * opencode.db rows of a generated corpus, new sessions, parts first unfinished then updated in place,
 * then part rewrites; one 16 MB tool output) at 20 items/s, with concurrent API reads and a kill -9
 * halfway. It must end equal to a clean ingest, exit 0 on SIGTERM, and /api/health must have said
 * `degraded` whenever a change failed or waited over 30 s. `npm run bench:soak` runs it longer.
 */
import { rmSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { tempDir } from '../support/datadir.ts';
import { smallCorpus } from '../support/live-harness.ts';
import { runSoak } from '../support/soak.ts';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 120);
const dir = tempDir('ocb-soak-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it(`${SECONDS} s of live traffic with a kill -9 halfway end equal to a clean ingest`, async () => {
  const r = await runSoak({
    corpus: await smallCorpus(),
    dir,
    rate: 20,
    seconds: SECONDS,
    killHalfway: true,
    bigOutputs: { count: 1, bytes: 16 * 1024 * 1024 },
  });
  console.log(
    `soak: ${r.written} items in ${SECONDS} s, peak RSS ${r.peakRssMb} MB, caught up in ${r.catchUpSeconds.toFixed(1)} s, ` +
      `${r.samples.length} health samples (${r.degradedSamples} degraded), ${r.apiReads} API reads`,
  );
  expect(r.live).toEqual(r.clean);
  expect(r.notDegraded).toEqual([]);
  expect(r.apiErrors).toBe(0);
  expect(r.exitCode).toBe(0);
  expect(r.peakRssMb).toBeLessThan(1500);
}, 600_000);
