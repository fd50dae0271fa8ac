/**
 * Run by test/small-young-worker.test.ts as `node --max-semi-space-size=64 --import tsx <this> [plain]`:
 * starts a worker (young-worker-child.mjs, through startSmallYoungWorker, or `new Worker` with "plain"), lets it
 * and this thread allocate short-lived garbage, and prints both young generations' sizes in MB as JSON.
 */
import { getHeapSpaceStatistics } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { startSmallYoungWorker } from '../../src/resources.ts';

const newSpaceMb = () =>
  Math.round((getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0) / 1048576);

function churn(): void {
  let keep: object[] = [];
  for (let i = 0; i < 3e6; i++) {
    keep.push({ i, s: `x${i}` });
    if (keep.length > 2e5) keep = [];
  }
}

const url = new URL('./young-worker-child.mjs', import.meta.url);
const opts = { resourceLimits: { maxYoungGenerationSizeMb: 24 } };
const w = process.argv[2] === 'plain' ? new Worker(url, opts) : startSmallYoungWorker(url, opts);
w.once('message', (workerMb: number) => {
  churn();
  console.log(JSON.stringify({ workerMb, mainMb: newSpaceMb() }));
  void w.terminate();
});
