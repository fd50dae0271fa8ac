/**
 * Parses JSON files in worker threads, in chunks, with a bounded number in flight (bounded memory),
 * handing back results in submission order. One pool serves a whole ingest run (starting a worker
 * costs time, less from the bin's bundle than through tsx: worker-entry.mjs).
 */
import type { Worker } from 'node:worker_threads';
import { PARSER_LIMITS, startSmallYoungWorker } from '../resources.ts';
import type { JsonFileRef } from './json-tree.ts';
import { type ChunkRequest, type ChunkResult, parseChunk } from './json-worker.ts';
import { unpackRecords } from './pack.ts';
import type { IngestProblem, IngestRecord } from './records.ts';
import { jsonWorkerUrl } from './worker-entry.mjs';

export interface ParsedChunk {
  refs: JsonFileRef[];
  records: IngestRecord[];
  /** Per file of `refs`: how many records it gave, and its problems. */
  recordCounts: number[];
  problems: IngestProblem[][];
}

/**
 * A chunk back on this thread. Each record's `sourcePath` is made the very string of its file ref: the
 * copy that came through the worker would be kept by the writer's holder of the ID, a second copy of
 * every path.
 */
function unpack(refs: JsonFileRef[], r: ChunkResult): ParsedChunk {
  const records = unpackRecords(r.packed);
  const paths = new Map(refs.map((f) => [f.path, f.path]));
  for (const rec of records) rec.sourcePath = paths.get(rec.sourcePath) ?? rec.sourcePath;
  return { refs, records, recordCounts: r.recordCounts, problems: r.problems };
}

/** Splits refs, in order, into chunks of at most `maxFiles` files and `maxBytes` bytes (one file at least). */
export function chunkRefs(
  refs: JsonFileRef[],
  maxFiles: number,
  maxBytes: number = PARSER_LIMITS.chunkBytes,
): JsonFileRef[][] {
  const chunks: JsonFileRef[][] = [];
  let cur: JsonFileRef[] = [];
  let bytes = 0;
  for (const r of refs) {
    if (cur.length > 0 && (cur.length >= maxFiles || bytes + r.size > maxBytes)) {
      chunks.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(r);
    bytes += r.size;
  }
  if (cur.length > 0) chunks.push(cur);
  return chunks;
}

export class JsonParserPool {
  private workers: Worker[] | null = null;
  private nextId = 0;

  /** `size` worker threads; 0 parses inline on the calling thread. */
  constructor(private readonly size: number) {}

  private start(): Worker[] {
    if (!this.workers) {
      this.workers = Array.from({ length: this.size }, () =>
        startSmallYoungWorker(jsonWorkerUrl(), {
          resourceLimits: {
            maxOldGenerationSizeMb: PARSER_LIMITS.oldGenerationMb,
            maxYoungGenerationSizeMb: PARSER_LIMITS.youngGenerationMb,
          },
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
  async *parse(
    refs: JsonFileRef[],
    chunkSize: number = PARSER_LIMITS.chunkFiles,
  ): AsyncGenerator<ParsedChunk> {
    const chunks = chunkRefs(refs, chunkSize);
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
