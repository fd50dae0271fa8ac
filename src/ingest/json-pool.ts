/**
 * Parses JSON files in worker threads, in chunks, with a bounded number in flight (bounded memory),
 * handing back results in submission order.
 */
import { Worker } from 'node:worker_threads';
import { type JsonFileRef, type ParsedFile, parseJsonFile } from './json-tree.ts';
import type { ChunkRequest, ChunkResult } from './json-worker.ts';

export interface PoolOptions {
  workers: number;
  chunkSize?: number;
}

/** Yields one array of results per chunk of `refs`, in order. With 0 workers, parses inline. */
export async function* parseFiles(
  refs: JsonFileRef[],
  opts: PoolOptions,
): AsyncGenerator<{ refs: JsonFileRef[]; results: ParsedFile[] }> {
  const chunkSize = opts.chunkSize ?? 1000;
  const chunks: JsonFileRef[][] = [];
  for (let i = 0; i < refs.length; i += chunkSize) chunks.push(refs.slice(i, i + chunkSize));
  if (opts.workers <= 0 || chunks.length <= 1) {
    for (const c of chunks) yield { refs: c, results: c.map(parseJsonFile) };
    return;
  }
  const workers = Array.from({ length: opts.workers }, () => new Worker(new URL('./json-worker-boot.mjs', import.meta.url)));
  const inflight = new Map<number, Promise<ChunkResult>>();
  const maxInflight = opts.workers * 2;
  let next = 0;
  const submit = (i: number) => {
    const w = workers[i % workers.length] as Worker;
    inflight.set(
      i,
      new Promise<ChunkResult>((resolve, reject) => {
        const onMsg = (m: ChunkResult) => {
          if (m.id !== i) return;
          w.off('message', onMsg);
          w.off('error', reject);
          resolve(m);
        };
        w.on('message', onMsg);
        w.once('error', reject);
        w.postMessage({ id: i, refs: chunks[i] as JsonFileRef[] } satisfies ChunkRequest);
      }),
    );
  };
  try {
    while (next < chunks.length && next < maxInflight) submit(next++);
    for (let i = 0; i < chunks.length; i++) {
      const r = await (inflight.get(i) as Promise<ChunkResult>);
      inflight.delete(i);
      if (next < chunks.length) submit(next++);
      yield { refs: chunks[i] as JsonFileRef[], results: r.results };
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
