/** Worker thread: reads and maps JSON files so the main thread only writes (uses the second core). */
import { parentPort } from 'node:worker_threads';
import { HEAP_BUDGETS } from '../resources.ts';
import { HeapBudget } from './heap-budget.ts';
import { type JsonFileRef, parseJsonFile } from './json-tree.ts';
import { type PackedRecords, packRecords } from './pack.ts';
import type { IngestProblem, IngestRecord } from './records.ts';

export interface ChunkRequest {
  id: number;
  refs: JsonFileRef[];
}

export interface ChunkResult {
  id: number;
  /** Every record of the chunk, packed (see pack.ts). */
  packed: PackedRecords;
  /** Per file: how many records it gave, and its problems. */
  recordCounts: number[];
  problems: IngestProblem[][];
}

export function parseChunk(id: number, refs: JsonFileRef[]): ChunkResult {
  const records: IngestRecord[] = [];
  const recordCounts: number[] = [];
  const problems: IngestProblem[][] = [];
  for (const ref of refs) {
    const r = parseJsonFile(ref);
    for (const rec of r.records) records.push(rec);
    recordCounts.push(r.records.length);
    problems.push(r.problems);
  }
  return { id, packed: packRecords(records), recordCounts, problems };
}

const heap = new HeapBudget(HEAP_BUDGETS.parserMb);
parentPort?.on('message', (req: ChunkRequest) => {
  parentPort?.postMessage(parseChunk(req.id, req.refs));
  heap.check(); // the chunk was copied to the main thread
});
