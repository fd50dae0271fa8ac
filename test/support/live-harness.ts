/** In-process live mode for the hostile tests: a corpus split into a loaded part and later traffic. */
import { join } from 'node:path';
import { generateCorpus } from '../../src/gen/index.ts';
import { runIngest } from '../../src/pipeline/ingestor.ts';
import { LiveBridge, type LiveOptions } from '../../src/pipeline/live-bridge.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { tempDir } from './datadir.ts';
import { type SplitOptions, splitCorpus, type TrafficItem } from './live-traffic.ts';
import { storeSnapshot } from './snapshot.ts';
import { SOAK_TABLES } from './soak.ts';

let corpus: Promise<string> | null = null;

/** A small generated corpus (8 sessions, mixed layout: JSON tree and SQLite), made once per file. */
export function smallCorpus(): Promise<string> {
  corpus ??= (async () => {
    const out = join(tempDir('ocb-corpus-'), 'c');
    await generateCorpus({ out, sessions: 8, seed: 'hostile' });
    return out;
  })();
  return corpus;
}

export interface LiveRun {
  dir: string;
  items: TrafficItem[];
  store: Store;
  bridge: LiveBridge;
}

/** A data dir with the oldest 95% of the corpus, and a live bridge on a store file, started. */
export async function startLive(opts: LiveOptions = {}, split: Partial<SplitOptions> = {}): Promise<LiveRun> {
  const dir = tempDir('ocb-live-');
  const items = splitCorpus(await smallCorpus(), dir, { loaded: 0.95, updateEvery: 5, ...split });
  const store = await openStore(join(dir, 'store.duckdb'));
  const bridge = new LiveBridge(store, { source: dir, workers: 0, debounceMs: 5, retryBaseMs: 20, ...opts });
  await bridge.start();
  return { dir, items, store, bridge };
}

/** Resolves once nothing is pending: every change applied and derived (or applying became fatal). */
export async function settled(bridge: LiveBridge, timeoutMs = 60_000): Promise<void> {
  const t0 = performance.now();
  for (;;) {
    const s = bridge.status;
    if (s.fatal || (s.pendingChanges === 0 && !s.derivePending)) return;
    if (performance.now() - t0 > timeoutMs) throw new Error(`not settled: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The store's entity and exchange tables, and a clean ingest's of the same data dir. */
export async function liveAndClean(
  run: LiveRun,
): Promise<{ live: Record<string, unknown>; clean: Record<string, unknown> }> {
  const live = await storeSnapshot(run.store, SOAK_TABLES);
  const clean = await openStore(':memory:');
  try {
    await runIngest(clean, { source: run.dir, workers: 0 });
    return { live, clean: await storeSnapshot(clean, SOAK_TABLES) };
  } finally {
    clean.close();
  }
}
