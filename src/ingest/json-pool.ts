/**
 * Parses JSON files in worker threads, in chunks, with a bounded number in flight (bounded memory),
 * handing back results in submission order. One pool serves a whole ingest run (starting a worker
 * that loads TypeScript costs ~0.5 s).
 */
import { Worker } from 'node:worker_threads';
import type { JsonFileRef } from './json-tree.ts';
import { type ChunkRequest, type ChunkResult, parseChunk } from './json-worker.ts';
import { unpackRecords } from './pack.ts';
import type { IngestProblem, IngestRecord } from './records.ts';

export interface ParsedChunk {
  refs: JsonFileRef[];
  records: IngestRecord[];
  /** Per file of `refs`: how many records it gave, and its problems. */
  recordCounts: number[];
  problems: IngestProblem[][];
}

const unpack = (refs: JsonFileRef[], r: ChunkResult): ParsedChunk => ({
  refs,
  records: unpackRecords(r.packed),
  recordCounts: r.recordCounts,
  problems: r.problems,
});

export class JsonParserPool {
  private workers: Worker[] | null = null;
  private nextId = 0;

  /** `size` worker threads; 0 parses inline on the calling thread. */
  constructor(private readonly size: number) {}

  private start(): Worker[] {
    if (!this.workers) {
      this.workers = Array.from(
        { length: this.size },
        () =>
          new Worker(new URL('./json-worker-boot.mjs', import.meta.url), {
            // a parser holds two chunks at most; a small heap makes V8 collect early and keeps RSS down
            // (young generation: 24 MB, not the main thread's 3 × 64 MB semi-spaces; heap-budget.ts)
            resourceLimits: { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 24 },
          }),
      );
    }
    return this.workers;
  }

  private run(w: Worker, refs: JsonFileRef[]): Promise<ChunkResult> {
    const id = this.nextId++;
    return new Promise<ChunkResult>((resolve, reject) => {
      const onMsg = (m: ChunkResult) => {
        if (m.id !== id) return;
        w.off('message', onMsg);
        w.off('error', onErr);
        resolve(m);
      };
      const onErr = (e: Error) => {
        w.off('message', onMsg);
        reject(e);
      };
      w.on('message', onMsg);
      w.once('error', onErr);
      w.postMessage({ id, refs } satisfies ChunkRequest);
    });
  }

  /** Yields the parsed chunks of `refs` in order. Small inputs are parsed inline. */
  async *parse(refs: JsonFileRef[], chunkSize = 1000): AsyncGenerator<ParsedChunk> {
    const chunks: JsonFileRef[][] = [];
    for (let i = 0; i < refs.length; i += chunkSize) chunks.push(refs.slice(i, i + chunkSize));
    if (this.size <= 0 || chunks.length <= 1) {
      for (const c of chunks) yield unpack(c, parseChunk(0, c));
      return;
    }
    const workers = this.start();
    const inflight: Promise<ChunkResult>[] = [];
    const maxInflight = workers.length * 2;
    let next = 0;
    const submit = () => {
      inflight.push(this.run(workers[next % workers.length] as Worker, chunks[next] as JsonFileRef[]));
      next++;
    };
    while (next < chunks.length && inflight.length < maxInflight) submit();
    for (let i = 0; i < chunks.length; i++) {
      const r = await (inflight.shift() as Promise<ChunkResult>);
      if (next < chunks.length) submit();
      yield unpack(chunks[i] as JsonFileRef[], r);
    }
  }

  async close(): Promise<void> {
    if (this.workers) await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers = null;
  }
}
