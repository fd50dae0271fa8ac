// Worker side of young-worker-probe.ts: allocates short-lived garbage, posts its young generation in MB.
import { getHeapSpaceStatistics } from 'node:v8';
import { parentPort } from 'node:worker_threads';

let keep = [];
for (let i = 0; i < 3e6; i++) {
  keep.push({ i, s: `x${i}` });
  if (keep.length > 2e5) keep = [];
}
const space = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
parentPort.postMessage(Math.round((space?.space_size ?? 0) / 1048576));
