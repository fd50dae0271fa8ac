import { describe, expect, it } from 'vitest';
import { chunkRefs } from '../src/ingest/json-pool.ts';
import type { JsonFileRef } from '../src/ingest/json-tree.ts';

const ref = (id: string, size: number): JsonFileRef => ({
  kind: 'session_diff',
  path: `/s/${id}.json`,
  id,
  parentId: null,
  size,
  mtimeUs: 0,
});
const ids = (chunks: JsonFileRef[][]) => chunks.map((c) => c.map((r) => r.id).join(''));

describe('chunkRefs', () => {
  it('bounds a chunk by files and by bytes, keeps the order, and never splits below one file', () => {
    const refs = [ref('a', 10), ref('b', 10), ref('c', 10), ref('d', 10), ref('e', 10)];
    expect(ids(chunkRefs(refs, 2, 1000))).toEqual(['ab', 'cd', 'e']);
    expect(ids(chunkRefs(refs, 100, 25))).toEqual(['ab', 'cd', 'e']);
    expect(ids(chunkRefs([ref('a', 5), ref('b', 100), ref('c', 5)], 100, 25))).toEqual(['a', 'b', 'c']);
    expect(chunkRefs([], 10)).toEqual([]);
  });
});
