import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../src/store/db.ts';
import { FakeDb, tempDir, V1_DDL, V2_DDL, writeStorage } from './support/datadir.ts';
import { ingestInto, rows } from './support/store.ts';

const T0 = 1_767_312_000_000;
let store: Store | undefined;
afterEach(() => store?.close());

const assistant = (over: Record<string, unknown> = {}) => ({
  role: 'assistant',
  parentID: 'msg_u1',
  modelID: 'gpt-5',
  providerID: 'openai',
  mode: 'build',
  agent: 'build',
  path: { cwd: '/w', root: '/w' },
  cost: 0.5,
  tokens: { input: 10, output: 20, reasoning: 1, cache: { read: 2, write: 3 } },
  time: { created: T0 + 1, completed: T0 + 2 },
  finish: 'stop',
  ...over,
});

describe('opencode.db v1 tables (1.2 … 1.18)', () => {
  it('re-attaches the IDs the importer strips from data, rebuilds sessions from columns, ignores unrelated tables', async () => {
    const dir = tempDir();
    const db = new FakeDb(join(dir, 'opencode.db'));
    db.project('proj1')
      .session({ id: 'ses_p' })
      .session({ id: 'ses_c', parent_id: 'ses_p', title: 'x (@general subagent)' });
    db.message('msg_u1', 'ses_p', {
      role: 'user',
      time: { created: T0 },
      agent: 'build',
      model: { providerID: 'openai', modelID: 'gpt-5' },
    });
    db.message(
      'msg_a1',
      'ses_p',
      assistant({
        error: { name: 'APIError', data: { message: 'rate limited', statusCode: 429, isRetryable: true } },
      }),
    );
    db.part('prt_1', 'msg_a1', 'ses_p', {
      type: 'tool',
      callID: 'c1',
      tool: 'task',
      state: {
        status: 'completed',
        input: {},
        output: '',
        title: 't',
        metadata: { sessionId: 'ses_c' },
        time: { start: T0, end: T0 + 5 },
      },
    });
    db.db.prepare('INSERT INTO session_input VALUES (?, ?)').run('x', '{}');
    db.db
      .prepare('INSERT INTO todo VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run('ses_p', 'do it', 'pending', 'high', 0, T0, T0);
    db.close();
    ({ store } = await ingestInto(dir));
    expect(
      await rows(
        store,
        'SELECT session_id, parent_session_id, source, version FROM sessions ORDER BY session_id',
      ),
    ).toEqual([
      { session_id: 'ses_c', parent_session_id: 'ses_p', source: 'v1', version: '1.18.33' },
      { session_id: 'ses_p', parent_session_id: null, source: 'v1', version: '1.18.33' },
    ]);
    const [m] = await rows(
      store,
      "SELECT session_id, role, error_name, error_data->>'statusCode' AS status, raw->>'id' AS raw_id, raw->>'sessionID' AS raw_sid FROM messages WHERE message_id = 'msg_a1'",
    );
    expect(m).toEqual({
      session_id: 'ses_p',
      role: 'assistant',
      error_name: 'APIError',
      status: '429',
      raw_id: 'msg_a1',
      raw_sid: 'ses_p',
    });
    const [p] = await rows(
      store,
      "SELECT part_id, message_id, session_id, raw->>'messageID' AS raw_mid FROM parts",
    );
    expect(p).toEqual({ part_id: 'prt_1', message_id: 'msg_a1', session_id: 'ses_p', raw_mid: 'msg_a1' });
    expect(await rows(store, 'SELECT child_session_id FROM tool_calls')).toEqual([
      { child_session_id: 'ses_c' },
    ]);
    expect(await rows(store, 'SELECT content, priority FROM todos')).toEqual([
      { content: 'do it', priority: 'high' },
    ]);
  });

  it('reads opencode-<channel>.db too', async () => {
    const dir = tempDir();
    new FakeDb(join(dir, 'opencode.db')).project('p').session({ id: 'ses_1', project_id: 'p' }).close();
    new FakeDb(join(dir, 'opencode-beta.db')).project('p').session({ id: 'ses_2', project_id: 'p' }).close();
    ({ store } = await ingestInto(dir));
    expect(await rows(store, 'SELECT session_id FROM sessions ORDER BY 1')).toEqual([
      { session_id: 'ses_1' },
      { session_id: 'ses_2' },
    ]);
  });
});

describe('2.x tables (session_v2, session_message)', () => {
  it('takes the role from type and explodes content[] into parts', async () => {
    const dir = tempDir();
    const db = new FakeDb(join(dir, 'opencode.db'), [V1_DDL, V2_DDL]);
    db.session({ id: 'ses_v2' }, 'session_v2');
    db.v2Message('msg_u', 'ses_v2', 'user', 1, {
      content: [{ type: 'text', text: 'hi' }],
      time: { created: T0 },
    });
    db.v2Message(
      'msg_a',
      'ses_v2',
      'assistant',
      2,
      {
        agent: 'build',
        model: { id: 'claude-opus-4-1', providerID: 'anthropic' },
        cost: 0.2,
        tokens: { input: 7, output: 8, reasoning: 0, cache: { read: 9, write: 1 } },
        time: { created: T0 + 1, completed: T0 + 5 },
        content: [
          { type: 'reasoning', text: 'hmm' },
          {
            type: 'tool',
            id: 'call_9',
            tool: 'bash',
            state: {
              status: 'completed',
              input: { command: 'ls' },
              output: 'x',
              time: { start: T0 + 2, end: T0 + 3 },
            },
          },
          { type: 'text', text: 'done' },
        ],
      },
      T0 + 1,
    );
    db.close();
    ({ store } = await ingestInto(dir));
    expect(
      await rows(
        store,
        'SELECT message_id, role, model_id, provider_id, input_tokens, source FROM messages ORDER BY created_at',
      ),
    ).toEqual([
      {
        message_id: 'msg_u',
        role: 'user',
        model_id: null,
        provider_id: null,
        input_tokens: null,
        source: 'v2',
      },
      {
        message_id: 'msg_a',
        role: 'assistant',
        model_id: 'claude-opus-4-1',
        provider_id: 'anthropic',
        input_tokens: 7,
        source: 'v2',
      },
    ]);
    expect(
      await rows(store, "SELECT part_id, part_type FROM parts WHERE message_id = 'msg_a' ORDER BY part_id"),
    ).toEqual([
      { part_id: 'msg_a/0', part_type: 'reasoning' },
      { part_id: 'msg_a/1', part_type: 'tool' },
      { part_id: 'msg_a/2', part_type: 'text' },
    ]);
    expect(await rows(store, 'SELECT call_id, tool_name, execution_time_ms FROM tool_calls')).toEqual([
      { call_id: 'call_9', tool_name: 'bash', execution_time_ms: 1 },
    ]);
  });
});

describe('deduplication across sources', () => {
  it('keeps one copy per ID with priority v2 > v1 > JSON and records which source won', async () => {
    const dir = tempDir();
    writeStorage(dir, 'project/proj1.json', {
      id: 'proj1',
      worktree: '/w',
      time: { created: T0, updated: T0 },
    });
    writeStorage(dir, 'session/proj1/ses_all.json', {
      id: 'ses_all',
      projectID: 'proj1',
      title: 'from json',
      directory: '/w',
      version: '1.1.65',
      time: { created: T0, updated: T0 },
    });
    writeStorage(dir, 'session/proj1/ses_json.json', {
      id: 'ses_json',
      projectID: 'proj1',
      title: 'json only',
      directory: '/w',
      version: '1.1.65',
      time: { created: T0, updated: T0 },
    });
    writeStorage(dir, 'message/ses_all/msg_1.json', {
      id: 'msg_1',
      sessionID: 'ses_all',
      role: 'user',
      time: { created: T0 },
    });
    const db = new FakeDb(join(dir, 'opencode.db'), [V1_DDL, V2_DDL]);
    db.project('proj1')
      .session({ id: 'ses_all', title: 'from v1' })
      .session({ id: 'ses_v1', title: 'v1 only' });
    db.message('msg_1', 'ses_all', { role: 'user', time: { created: T0 }, agent: 'from-v1' });
    db.session({ id: 'ses_all', title: 'from v2' }, 'session_v2');
    db.close();
    ({ store } = await ingestInto(dir));
    expect(await rows(store, 'SELECT session_id, title, source FROM sessions ORDER BY 1')).toEqual([
      { session_id: 'ses_all', title: 'from v2', source: 'v2' },
      { session_id: 'ses_json', title: 'json only', source: 'json' },
      { session_id: 'ses_v1', title: 'v1 only', source: 'v1' },
    ]);
    expect(await rows(store, 'SELECT agent, source FROM messages')).toEqual([
      { agent: 'from-v1', source: 'v1' },
    ]);
    const shadows = await rows(
      store,
      'SELECT entity, entity_id, source, winner_source FROM source_shadows ORDER BY entity, source',
    );
    expect(shadows).toEqual([
      { entity: 'message', entity_id: 'msg_1', source: 'json', winner_source: 'v1' },
      { entity: 'project', entity_id: 'proj1', source: 'json', winner_source: 'v1' },
      { entity: 'session', entity_id: 'ses_all', source: 'json', winner_source: 'v2' },
      { entity: 'session', entity_id: 'ses_all', source: 'v1', winner_source: 'v2' },
    ]);
  });
});
