import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { discoverSources } from '../src/ingest/discover.ts';
import { Ingestor } from '../src/pipeline/ingestor.ts';
import { openStore, type Store } from '../src/store/db.ts';
import { cli } from './support/cli.ts';
import { tempDir, writeStorage } from './support/datadir.ts';
import { ingestInto, rows } from './support/store.ts';
import { T0, writeTinySession } from './support/tiny.ts';

let store: Store | undefined;
afterEach(() => store?.close());

const session = (dir: string) => writeTinySession(dir, { projectId: 'proj1' });

describe('bad input never crashes the ingest and never loses the rest', () => {
  it('records one ingest_errors row per unreadable file, with a clear reason', async () => {
    const dir = tempDir();
    session(dir);
    writeStorage(dir, 'part/msg_1/prt_empty.json', '');
    writeStorage(
      dir,
      'part/msg_1/prt_trunc.json',
      '{\n  "id": "prt_trunc",\n  "type": "text",\n  "text": "half wri',
    );
    writeStorage(dir, 'part/msg_1/prt_array.json', '[1, 2]');
    writeStorage(dir, 'part/msg_1/prt_ok.json', {
      id: 'prt_ok',
      sessionID: 'ses_a',
      messageID: 'msg_1',
      type: 'text',
      text: 'fine',
    });
    ({ store } = await ingestInto(dir));
    const errs = await rows(
      store,
      "SELECT regexp_extract(source_path, '[^/]+$') AS f, reason, severity, attempts FROM ingest_errors ORDER BY f",
    );
    expect(errs.map((e) => [e.f, e.severity])).toEqual([
      ['prt_array.json', 'error'],
      ['prt_empty.json', 'error'],
      ['prt_trunc.json', 'error'],
    ]);
    expect(String(errs[1]?.reason)).toMatch(/empty file/);
    expect(String(errs[2]?.reason)).toMatch(/invalid JSON/);
    expect(await rows(store, 'SELECT part_id FROM parts')).toEqual([{ part_id: 'prt_ok' }]);
  });

  it('each problem carries its code (the metrics label), decided where it is found, not from its text', async () => {
    const dir = tempDir();
    session(dir);
    writeStorage(dir, 'part/msg_1/prt_empty.json', '');
    writeStorage(dir, 'part/msg_1/prt_trunc.json', '{"id": "prt_trunc", "type": "te');
    writeStorage(dir, 'part/msg_1/prt_array.json', '[1, 2]');
    writeStorage(dir, 'message/ses_a/msg_2.json', {
      id: 'msg_2',
      sessionID: 'ses_a',
      role: 'assistant',
      modelID: 42,
      time: { created: T0 + 1 },
    });
    store = await openStore(join(tempDir('ocb-db-'), 'store.duckdb'));
    const ingestor = new Ingestor(store, discoverSources(dir), { workers: 0 });
    await ingestor.bulk();
    await ingestor.close();
    expect(ingestor.writer.stats.problems).toEqual({ invalid_json: 2, invalid_record: 1, schema_warning: 1 });
  });

  it('keeps a record whose fields have wrong types, minus those fields, and warns', async () => {
    const dir = tempDir();
    session(dir);
    writeStorage(dir, 'message/ses_a/msg_2.json', {
      id: 'msg_2',
      sessionID: 'ses_a',
      role: 'assistant',
      parentID: 'msg_1',
      modelID: 42,
      providerID: 'openai',
      cost: 'a lot',
      tokens: { input: 'many', output: 5, reasoning: 0, cache: { read: 0, write: 0 } },
      time: { created: T0 + 1 },
    });
    ({ store } = await ingestInto(dir));
    const [m] = await rows(
      store,
      "SELECT model_id, provider_id, cost_usd, input_tokens, output_tokens, raw->>'cost' AS raw_cost FROM messages WHERE message_id = 'msg_2'",
    );
    expect(m).toEqual({
      model_id: null,
      provider_id: 'openai',
      cost_usd: null,
      input_tokens: null,
      output_tokens: 5,
      raw_cost: 'a lot',
    });
    const [e] = await rows(store, 'SELECT severity, reason FROM ingest_errors');
    expect(e?.severity).toBe('warning');
    expect(String(e?.reason)).toMatch(/modelID/);
  });

  it('keeps orphans (a part whose message is missing)', async () => {
    const dir = tempDir();
    session(dir);
    writeStorage(dir, 'part/msg_gone/prt_o.json', {
      id: 'prt_o',
      sessionID: 'ses_a',
      messageID: 'msg_gone',
      type: 'text',
      text: 'orphan',
    });
    ({ store } = await ingestInto(dir));
    expect(await rows(store, 'SELECT part_id, message_id, session_id FROM parts')).toEqual([
      { part_id: 'prt_o', message_id: 'msg_gone', session_id: 'ses_a' },
    ]);
  });

  it('reports a corrupt SQLite file and still ingests the JSON tree', async () => {
    const dir = tempDir();
    session(dir);
    writeFileSync(
      join(dir, 'opencode.db'),
      'this is not a database at all, just text that goes on for a while '.repeat(100),
    );
    ({ store } = await ingestInto(dir));
    expect(await rows(store, 'SELECT count(*) AS n FROM sessions')).toEqual([{ n: 1 }]);
    const [e] = await rows(
      store,
      "SELECT severity, reason FROM ingest_errors WHERE source_path LIKE '%opencode.db'",
    );
    expect(e?.severity).toBe('error');
    expect(String(e?.reason)).toMatch(/cannot open .*opencode\.db as SQLite/);
  });

  it('reports a database that stays locked by another writer, and still ingests the rest', async () => {
    const dir = tempDir();
    session(dir);
    const path = join(dir, 'opencode.db');
    const locker = new Database(path);
    locker.pragma('journal_mode = DELETE');
    locker.exec('CREATE TABLE session (id TEXT PRIMARY KEY)');
    locker.exec('BEGIN EXCLUSIVE');
    try {
      ({ store } = await ingestInto(dir));
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
    }
    expect(await rows(store, 'SELECT count(*) AS n FROM sessions')).toEqual([{ n: 1 }]);
    const [e] = await rows(store, "SELECT reason FROM ingest_errors WHERE source_path LIKE '%opencode.db'");
    expect(String(e?.reason)).toMatch(/locked/);
  }, 30_000);

  it('exits non-zero with advice when the source is missing or is only a corrupt database', () => {
    const dir = tempDir();
    const missing = cli(['ingest', '--source', join(dir, 'nope'), '--db', join(dir, 's.duckdb')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/no OpenCode data at .*nope.*--source/);
    const bad = join(dir, 'opencode.db');
    writeFileSync(bad, 'garbage'.repeat(1000));
    const corrupt = cli(['ingest', '--source', bad, '--db', join(dir, 's.duckdb'), '--no-progress']);
    expect(corrupt.status).toBe(1);
    expect(corrupt.stdout).toMatch(/UNREADABLE/);
  });
});
