/** Worker thread: reads and maps JSON files so the main thread only writes (uses the second core). */
import { parentPort } from 'node:worker_threads';
import { type JsonFileRef, type ParsedFile, parseJsonFile } from './json-tree.ts';

export interface ChunkRequest {
  id: number;
  refs: JsonFileRef[];
}
export interface ChunkResult {
  id: number;
  results: ParsedFile[];
}

parentPort?.on('message', (req: ChunkRequest) => {
  const results = req.refs.map(parseJsonFile);
  parentPort?.postMessage({ id: req.id, results } satisfies ChunkResult);
});
