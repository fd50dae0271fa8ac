/**
 * The same store contract against the committed real OpenCode data dir (test/fixtures/opencode-real),
 * which needs no OpenCode install. Regenerate it with `node --import tsx test/support/opencode-fixtures.ts`.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURE_DIR } from '../support/opencode-fixtures.ts';
import { readTruth, toolParts } from '../support/opencode-truth.ts';
import { defineStoreContract } from '../support/store-contract.ts';

const dataDir = join(FIXTURE_DIR, 'datadir');

describe('committed real OpenCode data dir', () => {
  it('holds the JSON tree of 1.1.65 and the DB after 1.18.33', () => {
    const t = readTruth(dataDir);
    expect(t.unreadable).toEqual([]);
    expect(t.sessions.size).toBe(5);
    expect([...t.sessions.values()].filter((s) => s.parentId).length).toBe(2);
    expect(new Set([...t.sessions.values()].map((s) => s.version))).toEqual(new Set(['1.1.65', '1.18.33']));
    for (const kind of ['sessions', 'messages', 'parts'] as const) {
      expect([...t.jsonIds[kind]].filter((id) => !t.dbIds[kind].has(id))).toEqual([]);
    }
    expect(toolParts(t).some((x) => x.status === 'error')).toBe(true);
  });

  defineStoreContract('ocbridge store matches the committed fixture', () => dataDir);
});
