import { renameSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ingestStorageDir } from '../src/cli/prefetch.mjs';
import { JSON_KINDS, listJsonTree, listJsonTreeLazy } from '../src/ingest/json-tree.ts';
import { CLAIM_BLOCK, prefetchListing, takeListing } from '../src/ingest/list-dirs.mjs';
import type { Store } from '../src/store/db.ts';
import { tempDir, writeStorage } from './support/datadir.ts';
import { ingestInto, rows } from './support/store.ts';

const T0 = 1_767_312_000_000;
let store: Store | undefined;
afterEach(() => store?.close());

/** One of every part type, as OpenCode 1.1.x writes them. */
function everyPartType(dir: string) {
  const base = { sessionID: 'ses_a', messageID: 'msg_a1' };
  const parts: Record<string, unknown>[] = [
    { type: 'text', text: 'hello', time: { start: T0, end: T0 + 5 } },
    {
      type: 'reasoning',
      text: 'thinking',
      time: { start: T0, end: T0 + 3 },
      metadata: { anthropic: { signature: 'x' } },
    },
    { type: 'file', mime: 'image/png', filename: 'a.png', url: 'data:image/png;base64,AAAA' },
    { type: 'tool', callID: 'c1', tool: 'read', state: { status: 'pending', input: {}, raw: '' } },
    {
      type: 'tool',
      callID: 'c2',
      tool: 'bash',
      state: { status: 'running', input: { command: 'ls' }, time: { start: T0 } },
    },
    {
      type: 'tool',
      callID: 'c3',
      tool: 'edit',
      state: {
        status: 'completed',
        input: { filePath: '/a' },
        output: 'done',
        title: 'a',
        metadata: {},
        time: { start: T0, end: T0 + 250 },
      },
    },
    {
      type: 'tool',
      callID: 'c4',
      tool: 'read',
      state: { status: 'error', input: {}, error: 'File /x not found', time: { start: T0, end: T0 + 10 } },
    },
    {
      type: 'tool',
      callID: 'c5',
      tool: 'task',
      state: {
        status: 'completed',
        input: {},
        output: 'ok',
        title: 'sub',
        metadata: { sessionId: 'ses_child' },
        time: { start: T0, end: T0 + 9 },
      },
    },
    { type: 'step-start', snapshot: 'abc123' },
    {
      type: 'step-finish',
      reason: 'stop',
      cost: 0.01,
      tokens: { input: 1, output: 2, reasoning: 3, cache: { read: 4, write: 5 } },
    },
    { type: 'snapshot', snapshot: 'def456' },
    { type: 'patch', hash: 'h1', files: ['/w/a.ts'] },
    { type: 'agent', name: 'plan', source: { value: '@plan', start: 0, end: 5 } },
    { type: 'subtask', prompt: 'p', description: 'd', agent: 'general' },
    {
      type: 'retry',
      attempt: 1,
      error: { name: 'APIError', data: { message: 'Overloaded', statusCode: 529, isRetryable: true } },
      time: { created: T0 },
    },
    { type: 'compaction', auto: true, overflow: false },
    { type: 'brand-new-type', payload: { x: 1 } },
  ];
  parts.forEach((p, i) => {
    writeStorage(dir, `part/msg_a1/prt_${String(i).padStart(2, '0')}.json`, {
      id: `prt_${i}`,
      ...base,
      ...p,
    });
  });
}

function baseTree(dir: string) {
  writeStorage(dir, 'project/proj1.json', {
    id: 'proj1',
    worktree: '/w',
    vcs: 'git',
    time: { created: T0, updated: T0 },
  });
  writeStorage(dir, 'session/proj1/ses_a.json', {
    id: 'ses_a',
    projectID: 'proj1',
    directory: '/w',
    title: 'A',
    version: '1.1.65',
    time: { created: T0, updated: T0 },
  });
  writeStorage(dir, 'message/ses_a/msg_u1.json', {
    id: 'msg_u1',
    sessionID: 'ses_a',
    role: 'user',
    time: { created: T0 },
    agent: 'build',
    model: { providerID: 'anthropic', modelID: 'claude-sonnet-4-5' },
  });
  writeStorage(dir, 'message/ses_a/msg_a1.json', {
    id: 'msg_a1',
    sessionID: 'ses_a',
    role: 'assistant',
    parentID: 'msg_u1',
    modelID: 'claude-sonnet-4-5',
    providerID: 'anthropic',
    mode: 'build',
    agent: 'build',
    path: { cwd: '/w/sub', root: '/w' },
    cost: 0.05,
    finish: 'stop',
    tokens: { input: 100, output: 50, reasoning: 0, cache: { read: 10, write: 0 } },
    time: { created: T0 + 1, completed: T0 + 900 },
    futureField: { kept: true },
  });
}

describe('JSON tree (OpenCode ≤ 1.1.65)', () => {
  it('stores every part type, keeps unknown types and fields, and builds tool calls', async () => {
    const dir = tempDir();
    baseTree(dir);
    everyPartType(dir);
    ({ store } = await ingestInto(dir));
    const types = await rows(store, 'SELECT part_type, count(*) AS n FROM parts GROUP BY 1 ORDER BY 1');
    expect(Object.fromEntries(types.map((r) => [r.part_type, r.n]))).toEqual({
      agent: 1,
      'brand-new-type': 1,
      compaction: 1,
      file: 1,
      patch: 1,
      reasoning: 1,
      retry: 1,
      snapshot: 1,
      'step-finish': 1,
      'step-start': 1,
      subtask: 1,
      text: 1,
      tool: 5,
    });
    const unknown = await rows(
      store,
      "SELECT raw->'payload'->>'x' AS x FROM parts WHERE part_type = 'brand-new-type'",
    );
    expect(unknown[0]?.x).toBe('1');
    const kept = await rows(
      store,
      "SELECT raw->'futureField'->>'kept' AS k FROM messages WHERE message_id = 'msg_a1'",
    );
    expect(kept[0]?.k).toBe('true');
    const tools = await rows(
      store,
      'SELECT call_id, status, execution_time_ms, error_message, child_session_id FROM tool_calls ORDER BY call_id',
    );
    expect(tools).toEqual([
      {
        call_id: 'c1',
        status: 'pending',
        execution_time_ms: null,
        error_message: null,
        child_session_id: null,
      },
      {
        call_id: 'c2',
        status: 'running',
        execution_time_ms: null,
        error_message: null,
        child_session_id: null,
      },
      {
        call_id: 'c3',
        status: 'completed',
        execution_time_ms: 250,
        error_message: null,
        child_session_id: null,
      },
      {
        call_id: 'c4',
        status: 'error',
        execution_time_ms: 10,
        error_message: 'File /x not found',
        child_session_id: null,
      },
      {
        call_id: 'c5',
        status: 'completed',
        execution_time_ms: 9,
        error_message: null,
        child_session_id: 'ses_child',
      },
    ]);
  });

  it('takes message tokens from the sum of step-finish parts, else from the message', async () => {
    const dir = tempDir();
    baseTree(dir);
    const step = (i: number, tokens: object, cost: number) =>
      writeStorage(dir, `part/msg_a1/prt_s${i}.json`, {
        id: `prt_s${i}`,
        sessionID: 'ses_a',
        messageID: 'msg_a1',
        type: 'step-finish',
        reason: 'stop',
        cost,
        tokens,
      });
    // OpenCode overwrites message.tokens with the last step: the message file shows step 2 only
    step(1, { input: 200, output: 30, reasoning: 5, cache: { read: 1000, write: 40 } }, 0.02);
    step(2, { input: 100, output: 50, reasoning: 0, cache: { read: 10, write: 0 } }, 0.03);
    ({ store } = await ingestInto(dir));
    const [m] = await rows(
      store,
      "SELECT input_tokens, output_tokens, reasoning_tokens, cache_read_tokens, cache_write_tokens, cost_usd, token_source, step_count, recorded_input_tokens FROM messages WHERE message_id = 'msg_a1'",
    );
    expect(m).toEqual({
      input_tokens: 300,
      output_tokens: 80,
      reasoning_tokens: 5,
      cache_read_tokens: 1010,
      cache_write_tokens: 40,
      cost_usd: 0.05,
      token_source: 'steps',
      step_count: 2,
      recorded_input_tokens: 100,
    });
  });

  it('uses IDs from file and folder names, and records timestamps as UTC TIMESTAMPs', async () => {
    const dir = tempDir();
    baseTree(dir);
    // the JSON says another session and ID: the path wins, as in OpenCode's importer
    writeStorage(dir, 'message/ses_a/msg_x.json', {
      id: 'msg_other',
      sessionID: 'ses_zzz',
      role: 'user',
      time: { created: T0 + 5 },
    });
    ({ store } = await ingestInto(dir));
    const [m] = await rows(
      store,
      "SELECT message_id, session_id, created_at, raw->>'id' AS raw_id FROM messages WHERE message_id = 'msg_x'",
    );
    expect(m).toEqual({
      message_id: 'msg_x',
      session_id: 'ses_a',
      created_at: '2026-01-02T00:00:00.005Z',
      raw_id: 'msg_x',
    });
    const [s] = await rows(store, 'SELECT project_id, source, created_at FROM sessions');
    expect(s).toEqual({ project_id: 'proj1', source: 'json', created_at: '2026-01-02T00:00:00.000Z' });
    const [a] = await rows(
      store,
      "SELECT root_path, cwd, error_name FROM messages WHERE message_id = 'msg_a1'",
    );
    expect(a).toEqual({ root_path: '/w', cwd: '/w/sub', error_name: null });
  });

  it('stores todos and session diffs', async () => {
    const dir = tempDir();
    baseTree(dir);
    writeStorage(dir, 'todo/ses_a.json', [
      { id: '1', content: 'write tests', status: 'completed', priority: 'high' },
      { id: '2', content: 'ship', status: 'pending', priority: 'low' },
    ]);
    writeStorage(dir, 'session_diff/ses_a.json', [
      { file: 'a.ts', before: '', after: 'x', additions: 3, deletions: 1 },
      { file: 'b.ts', before: 'y', after: '', additions: 0, deletions: 7, status: 'deleted' },
    ]);
    ({ store } = await ingestInto(dir));
    expect(await rows(store, 'SELECT position, content, status FROM todos ORDER BY position')).toEqual([
      { position: 0, content: 'write tests', status: 'completed' },
      { position: 1, content: 'ship', status: 'pending' },
    ]);
    expect(await rows(store, 'SELECT files, additions, deletions FROM session_diffs')).toEqual([
      { files: 2, additions: 3, deletions: 8 },
    ]);
  });
});

describe('listing the JSON tree', () => {
  it('lists the same files with fingerprints whether a worker thread lists half of the folders or not', async () => {
    const dir = tempDir();
    writeStorage(dir, 'project/prj_a.json', { id: 'prj_a', worktree: '/w' });
    writeStorage(dir, 'session/prj_a/ses_a.json', { id: 'ses_a', projectID: 'prj_a', time: { created: T0 } });
    for (const m of ['msg_1', 'msg_2', 'msg_3']) {
      writeStorage(dir, `message/ses_a/${m}.json`, { id: m, sessionID: 'ses_a', role: 'user' });
      writeStorage(dir, `part/${m}/prt_${m}_x.json`, { id: `prt_${m}_x`, messageID: m, type: 'text' });
    }
    writeStorage(dir, 'part/msg_1/notes.txt', 'not json');
    const storage = join(dir, 'storage');
    const inline = await listJsonTree(storage, { minDirsForWorker: Number.POSITIVE_INFINITY });
    const split = await listJsonTree(storage, { minDirsForWorker: 0 });
    expect(inline.get('part')).toHaveLength(3);
    expect(inline.get('message')).toHaveLength(3);
    expect(inline.get('project')?.[0]).toMatchObject({ id: 'prj_a', parentId: null });
    expect(inline.get('part')?.[0]).toMatchObject({ kind: 'part', parentId: 'msg_1', id: 'prt_msg_1_x' });
    expect(inline.get('part')?.[0]?.mtimeUs).toBeGreaterThan(0);
    expect([...split.entries()]).toEqual([...inline.entries()]);
  });

  // more folders than one block, so blocks straddle kinds and the two threads interleave
  const bigTree = () => {
    const dir = tempDir();
    writeStorage(dir, 'project/prj_a.json', { id: 'prj_a', worktree: '/w' });
    writeStorage(dir, 'session/prj_a/ses_a.json', { id: 'ses_a', projectID: 'prj_a', time: { created: T0 } });
    for (let i = 0; i < CLAIM_BLOCK * 3 + 5; i++) {
      const m = `msg_${String(i).padStart(4, '0')}`;
      writeStorage(dir, `message/ses_a/${m}.json`, { id: m, sessionID: 'ses_a', role: 'user' });
      for (const p of ['a', 'b'].slice(0, 1 + (i % 2)))
        writeStorage(dir, `part/${m}/prt_${m}_${p}.json`, {
          id: `prt_${m}_${p}`,
          messageID: m,
          type: 'text',
        });
    }
    writeStorage(dir, 'todo/ses_a.json', []);
    return join(dir, 'storage');
  };
  const digests = async (storage: string, o: { minDirsForWorker?: number } = {}) => {
    const l = await listJsonTreeLazy(storage, o);
    return Object.fromEntries(JSON_KINDS.map((k) => [k, [l.files(k), l.digest(k)]]));
  };

  it('gives the same digests and files listed on one thread, on two, or prefetched', async () => {
    const storage = bigTree();
    const inline = await digests(storage, { minDirsForWorker: Number.POSITIVE_INFINITY });
    expect(inline.part?.[0]).toBe(CLAIM_BLOCK * 3 + 5 + Math.floor((CLAIM_BLOCK * 3 + 5) / 2));
    expect(await digests(storage, { minDirsForWorker: 0 })).toEqual(inline);
    prefetchListing(storage);
    expect(await digests(storage)).toEqual(inline);
    // taken once
    expect(takeListing(storage)).toBeUndefined();
    prefetchListing(storage);
    const prefetched = await listJsonTree(storage);
    expect([...prefetched.entries()]).toEqual([
      ...(await listJsonTree(storage, { minDirsForWorker: Number.POSITIVE_INFINITY })).entries(),
    ]);
  });

  it("changes a kind's digest when a file of it changes, is added or renamed, and no other kind's", async () => {
    const storage = bigTree();
    const before = await digests(storage, { minDirsForWorker: 0 });
    const changed = (after: typeof before, from = before) =>
      JSON_KINDS.filter((k) => after[k]?.[1] !== from[k]?.[1]);
    const part = join(storage, 'part', 'msg_0100', 'prt_msg_0100_a.json');
    utimesSync(part, new Date(T0), new Date(T0 + 1000));
    expect(changed(await digests(storage, { minDirsForWorker: 0 }))).toEqual(['part']);
    renameSync(part, join(storage, 'part', 'msg_0100', 'prt_msg_0100_z.json'));
    const renamed = await digests(storage, { minDirsForWorker: 0 });
    expect(changed(renamed)).toEqual(['part']);
    expect(renamed.part?.[0]).toBe(before.part?.[0]);
    writeStorage(join(storage, '..'), 'message/ses_a/msg_9999.json', {
      id: 'msg_9999',
      sessionID: 'ses_a',
      role: 'user',
    });
    const added = await digests(storage, { minDirsForWorker: 0 });
    expect(added.message?.[0]).toBe((before.message?.[0] as number) + 1);
    expect(changed(added, renamed)).toEqual(['message']);
  });
});

describe('the listing prefetch (bin/ocbridge.js)', () => {
  const env = { XDG_DATA_HOME: '/data', XDG_CONFIG_HOME: '/nonexistent-config' } as NodeJS.ProcessEnv;
  it('guesses the storage/ folder of `ocbridge ingest` from the command line only', () => {
    const dir = tempDir();
    writeStorage(dir, 'project/prj_a.json', { id: 'prj_a' });
    const argv = (...a: string[]) => ['node', 'ocbridge', ...a];
    expect(ingestStorageDir(argv('ingest', '--source', dir), env, '/')).toBe(join(dir, 'storage'));
    expect(ingestStorageDir(argv('ingest', `--source=${join(dir, 'storage')}`), env, '/')).toBe(
      join(dir, 'storage'),
    );
    expect(ingestStorageDir(argv('ingest', '-s', dir, '--db', 'x.duckdb'), env, '/')).toBe(
      join(dir, 'storage'),
    );
    // the default data dir, which has no storage/ here
    expect(ingestStorageDir(argv('ingest'), env, '/')).toBeNull();
    expect(ingestStorageDir(argv('ingest', '--help', '--source', dir), env, '/')).toBeNull();
    expect(ingestStorageDir(argv('run', '--source', dir), env, '/')).toBeNull();
    expect(ingestStorageDir(argv('query', 'SELECT 1'), env, '/')).toBeNull();
    // a source named by configuration is not guessed
    expect(ingestStorageDir(argv('ingest'), { ...env, OCBRIDGE_SOURCE: dir }, '/')).toBeNull();
  });
});
