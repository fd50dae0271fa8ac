/**
 * Starts a worker thread whose young generation follows its `resourceLimits`, not the process's
 * `--max-semi-space-size` (the bin sets 64 MB for the main thread, heap-budget.ts).
 *
 * V8 flags are per process and `--max-semi-space-size` overrides a worker's
 * `maxYoungGenerationSizeMb`: every parser thread committed 2 × 64 MB of young generation while
 * using ~20 MB of it (measured at full scale). V8 reads the flag when the worker's isolate is created,
 * on the worker's own thread, so the flag is cleared before the worker starts and put back when it is
 * online. The main thread's heap was configured at start-up and keeps its semi-spaces.
 */
import { setFlagsFromString } from 'node:v8';
import { Worker, type WorkerOptions } from 'node:worker_threads';

const FLAG = /^--max[-_]semi[-_]space[-_]size(?:=(\d+))?$/;

/** The process's `--max-semi-space-size` in MB (Node options, then NODE_OPTIONS), 0 when unset. */
export function semiSpaceFlagMb(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS ?? '',
): number {
  let mb = 0;
  const args = [...nodeOptions.split(/\s+/), ...execArgv]; // command-line options win over NODE_OPTIONS
  for (let i = 0; i < args.length; i++) {
    const m = FLAG.exec(args[i] ?? '');
    if (!m) continue;
    const v = m[1] ?? args[i + 1];
    if (v !== undefined && /^\d+$/.test(v)) mb = Number(v);
  }
  return mb;
}

let starting = 0;

export function startSmallYoungWorker(url: URL, opts: WorkerOptions): Worker {
  const flagMb = semiSpaceFlagMb();
  if (flagMb === 0) return new Worker(url, opts);
  if (starting++ === 0) setFlagsFromString('--max-semi-space-size=0');
  const w = new Worker(url, opts);
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    if (--starting === 0) setFlagsFromString(`--max-semi-space-size=${flagMb}`);
  };
  w.once('online', restore);
  w.once('error', restore);
  w.once('exit', restore);
  return w;
}
