/**
 * Soak (CI length): `ocbridge run` follows 2 minutes of realistic OpenCode traffic (JSON files and
 * opencode.db rows of a generated corpus, new sessions, parts first unfinished then updated in place,
 * then part rewrites; one 16 MB tool output) at 20 items/s, with concurrent API reads and a kill -9
 * halfway. Its raw rows must end equal to a clean ingest's (and as many exchanges), exit 0 on
 * SIGTERM, and /api/health must have said
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

it(`${SECONDS} s of live traffic with a kill -9 halfway: raw rows equal to a clean ingest`, async () => {
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
  const { exchanges: liveExchanges, ...liveRaw } = r.live;
  const { exchanges: cleanExchanges, ...cleanRaw } = r.clean;
  expect(liveRaw).toEqual(cleanRaw);
  expect(liveExchanges?.n).toBe(cleanExchanges?.n);
  // Open: after a kill -9 the derived exchanges can differ in content from a clean ingest's (same
  // count, raw rows equal; docs/perf-log.md, issue 25). Reported here until it is fixed.
  if (liveExchanges?.h !== cleanExchanges?.h)
    console.warn('soak: derived exchanges differ in content from a clean ingest (raw rows equal)');
  expect(r.notDegraded).toEqual([]);
  expect(r.apiErrors).toBe(0);
  expect(r.exitCode).toBe(0);
  expect(r.peakRssMb).toBeLessThan(1500);
}, 600_000);
