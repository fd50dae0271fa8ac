/**
 * `npm run bench:soak [-- --seconds 600 --rates 10,100,500 --sessions 40]`: `ocbridge run` under
 * sustained realistic OpenCode traffic (JSON files and SQLite rows of a generated corpus, parts
 * updated in place, tool outputs of tens of MB), with concurrent API reads and a kill -9 halfway.
 * Each run must end equal to a clean ingest of the same data dir; prints the bridge's peak RSS, how
 * long it took to catch up, and whether /api/health said `degraded` whenever changes were pending.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateCorpus } from '../src/gen/index.ts';
import { runSoak } from '../test/support/soak.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '600' },
    rates: { type: 'string', default: '10,100,500' },
    sessions: { type: 'string', default: '40' },
    'big-mb': { type: 'string', default: '20' },
    out: { type: 'string', default: '.tmp/soak' },
    quiet: { type: 'boolean', default: false },
  },
});
const root = join(process.cwd(), values.out ?? '.tmp/soak');
const corpus = join(root, `corpus-${values.sessions}`);
if (!existsSync(join(corpus, 'manifest.json')))
  await generateCorpus({ out: corpus, sessions: Number(values.sessions), seed: 'soak' });
const seconds = Number(values.seconds);
const bigBytes = Number(values['big-mb']) * 1024 * 1024;
let failed = 0;
for (const rate of (values.rates ?? '').split(',').map(Number)) {
  const dir = join(root, `run-${rate}`);
  rmSync(dir, { recursive: true, force: true });
  const t0 = performance.now();
  const r = await runSoak({
    corpus,
    dir,
    rate,
    seconds,
    killHalfway: true,
    bigOutputs: { count: 2, bytes: bigBytes },
    log: values.quiet ? undefined : (l) => console.error(`  [${rate}/s] ${l}`),
  });
  const diffs = Object.keys(r.clean).filter((t) => JSON.stringify(r.live[t]) !== JSON.stringify(r.clean[t]));
  const ok = diffs.length === 0 && r.notDegraded.length === 0 && r.exitCode === 0;
  if (!ok) failed++;
  console.log(
    `${rate} items/s for ${seconds} s: ${r.written} items, kill -9 halfway; ` +
      `${diffs.length === 0 ? 'store equal to a clean ingest' : `DIFFERS in ${diffs.join(', ')}`}; ` +
      `peak RSS ${r.peakRssMb} MB; caught up ${r.catchUpSeconds.toFixed(1)} s after the last write; ` +
      `health samples ${r.samples.length} (degraded ${r.degradedSamples}, pending-but-not-degraded ${r.notDegraded.length}); ` +
      `API reads ${r.apiReads} (5xx ${r.apiErrors}${r.apiErrors ? `: ${[...new Set(r.apiErrorDetail)].join(', ')}` : ''}); exit ${r.exitCode}; ${((performance.now() - t0) / 1000).toFixed(0)} s in all`,
  );
  for (const t of diffs)
    console.log(`  ${t}: live ${JSON.stringify(r.live[t])} clean ${JSON.stringify(r.clean[t])}`);
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed > 0 ? 1 : 0);
