/**
 * No single input can stop the bridge: a part file of tens of MB and a part file nested 5,000 deep
 * are stored bounded (a warning row says what was cut), their numbers still counted, and every
 * other row is what a clean ingest of the same corpus stores.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_INPUT_BYTES, MAX_STRING_CHARS } from '../../src/ingest/bounded-json.ts';
import { tempDir } from '../support/datadir.ts';
import { type CorpusOptions, entitySnapshot, ingestCli, q, readStore, writeCorpus } from './corpus.ts';

/** Ingests the corpus clean and then with `hostile`, from the same folder (same source paths). */
async function cleanAndHostile(hostile: CorpusOptions) {
  const dir = tempDir('ocb-hostile-src-');
  const clean = ingestCli(writeCorpus(dir, { sessions: 3 }));
  expect(clean.status, clean.stderr).toBe(0);
  rmSync(join(dir, 'storage'), { recursive: true });
  const bad = ingestCli(writeCorpus(dir, { sessions: 3, ...hostile }));
  return { clean, bad };
}

const TOOL_PART = "part_id = 'prt_0t'";
const SKIP = { parts: TOOL_PART, tool_calls: TOOL_PART };

describe('bounded inputs', () => {
  it('stores a part file over the size limit truncated, with its numbers and a warning row', async () => {
    const output = `${'x'.repeat(MAX_INPUT_BYTES + 4 * 1024 * 1024)}é`;
    const { clean, bad } = await cleanAndHostile({ toolOutput: output });
    expect(bad.status, bad.stderr).toBe(0);
    expect(bad.seconds).toBeLessThan(60);
    const cleanSnap = await readStore(clean.db, (s) => entitySnapshot(s, SKIP));
    await readStore(bad.db, async (s) => {
      expect(await entitySnapshot(s, SKIP)).toEqual(cleanSnap);
      const [tc] = await q(
        s,
        "SELECT output_length, metadata::VARCHAR AS metadata, started_at, ended_at, tool_name FROM tool_calls WHERE part_id = 'prt_0t'",
      );
      expect(Number(tc?.output_length)).toBe(output.length); // the full length, not the stored one
      expect(JSON.parse(String(tc?.metadata))).toEqual({ exit: 0 });
      expect(tc?.tool_name).toBe('bash');
      const [p] = await q(
        s,
        "SELECT length(raw::VARCHAR) AS n, text_length FROM parts WHERE part_id = 'prt_0t'",
      );
      expect(Number(p?.n)).toBeLessThan(MAX_STRING_CHARS + 1000);
      const errs = await q(s, 'SELECT source_path, severity, reason FROM ingest_errors');
      expect(errs).toHaveLength(1);
      expect(String(errs[0]?.source_path)).toMatch(/prt_0t\.json$/);
      expect(errs[0]?.severity).toBe('warning');
      expect(String(errs[0]?.reason)).toMatch(/^bounded: 1 strings truncated to 65536 characters/);
    });
  }, 120_000);

  it('stores a part file nested 5,000 deep with the deep subtree cut, and a warning row', async () => {
    const deep = `${'{"d":'.repeat(5000)}"bottom"${'}'.repeat(5000)}`;
    const { clean, bad } = await cleanAndHostile({ toolExtraJson: deep });
    expect(bad.status, bad.stderr).toBe(0);
    expect(bad.seconds).toBeLessThan(60);
    const cleanSnap = await readStore(clean.db, (s) => entitySnapshot(s, SKIP));
    await readStore(bad.db, async (s) => {
      expect(await entitySnapshot(s, SKIP)).toEqual(cleanSnap);
      const [tc] = await q(
        s,
        "SELECT output_length, metadata::VARCHAR AS m FROM tool_calls WHERE part_id = 'prt_0t'",
      );
      expect(Number(tc?.output_length)).toBe(2);
      expect(String(tc?.m)).toMatch(/^\{"exit":0,"extra":\{"d":\{"d":/);
      expect(String(tc?.m)).toContain('[cut by ocbridge: nested deeper than 64 levels]');
      const errs = await q(s, 'SELECT source_path, severity, reason FROM ingest_errors');
      expect(errs).toHaveLength(1);
      expect(String(errs[0]?.source_path)).toMatch(/prt_0t\.json$/);
      expect(String(errs[0]?.reason)).toMatch(/1 subtrees nested deeper than 64 levels cut/);
    });
  }, 120_000);
});
