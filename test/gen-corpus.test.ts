import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCorpus, ID_RE, idEncodedMs, type Manifest, PROJECT_ID_RE } from '../src/gen/index.ts';

// biome-ignore lint/suspicious/noExplicitAny: test reads untyped JSON
type Obj = Record<string, any>;

const ALL_PART_TYPES = [
  'agent',
  'compaction',
  'file',
  'patch',
  'reasoning',
  'retry',
  'snapshot',
  'step-finish',
  'step-start',
  'subtask',
  'text',
  'tool',
];
const ALL_ERRORS = [
  'APIError',
  'ContextOverflowError',
  'MessageAbortedError',
  'MessageOutputLengthError',
  'ProviderAuthError',
  'UnknownError',
];

const root = mkdtempSync(join(tmpdir(), 'gen-corpus-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

function treeHash(dir: string, skip: (rel: string) => boolean = () => false): Map<string, string> {
  const m = new Map<string, string>();
  for (const f of walk(dir).sort()) {
    const rel = f.slice(dir.length + 1);
    if (skip(rel)) continue;
    m.set(rel, createHash('sha256').update(readFileSync(f)).digest('hex'));
  }
  return m;
}

interface Tally {
  sessions: Set<string>;
  messages: Map<string, Obj>;
  parts: Map<string, Obj>;
}

function emptyTally(): Tally {
  return { sessions: new Set(), messages: new Map(), parts: new Map() };
}

/** Reads the JSON tree like the 1.2 importer: IDs from file and directory names. */
function readJsonTree(out: string, t: Tally): void {
  const st = join(out, 'storage');
  for (const proj of readdirSync(join(st, 'session'))) {
    for (const f of readdirSync(join(st, 'session', proj))) t.sessions.add(f.replace(/\.json$/, ''));
  }
  for (const ses of readdirSync(join(st, 'message'))) {
    for (const f of readdirSync(join(st, 'message', ses))) {
      const id = f.replace(/\.json$/, '');
      if (!t.messages.has(id))
        t.messages.set(id, {
          ...JSON.parse(readFileSync(join(st, 'message', ses, f), 'utf8')),
          id,
          sessionID: ses,
        });
    }
  }
  for (const msg of readdirSync(join(st, 'part'))) {
    for (const f of readdirSync(join(st, 'part', msg))) {
      const id = f.replace(/\.json$/, '');
      if (!t.parts.has(id))
        t.parts.set(id, {
          ...JSON.parse(readFileSync(join(st, 'part', msg, f), 'utf8')),
          id,
          messageID: msg,
        });
    }
  }
}

function readV1(dbPath: string, t: Tally): void {
  const db = new Database(dbPath, { readonly: true });
  for (const r of db.prepare('SELECT id FROM session').all() as Obj[]) t.sessions.add(r.id);
  for (const r of db.prepare('SELECT id, session_id, data FROM message').all() as Obj[]) {
    const data = JSON.parse(r.data);
    expect(data.id).toBeUndefined();
    expect(data.sessionID).toBeUndefined();
    if (!t.messages.has(r.id)) t.messages.set(r.id, { ...data, id: r.id, sessionID: r.session_id });
  }
  for (const r of db.prepare('SELECT id, message_id, data FROM part').all() as Obj[]) {
    const data = JSON.parse(r.data);
    expect(data.messageID).toBeUndefined();
    if (!t.parts.has(r.id)) t.parts.set(r.id, { ...data, id: r.id, messageID: r.message_id });
  }
  db.close();
}

/** v2 rows for messages not seen in v1-style sources: returns [type, data] of those rows. */
function readV2(dbPath: string, t: Tally): Obj[] {
  const db = new Database(dbPath, { readonly: true });
  for (const r of db.prepare('SELECT id FROM session_v2').all() as Obj[]) t.sessions.add(r.id);
  const only: Obj[] = [];
  for (const r of db
    .prepare('SELECT id, session_id, type, seq, data FROM session_message ORDER BY session_id, seq')
    .all() as Obj[]) {
    if (t.messages.has(r.id)) continue;
    const data = JSON.parse(r.data);
    const row = { id: r.id, type: r.type, data };
    t.messages.set(r.id, { v2: row });
    only.push(row);
  }
  db.close();
  return only;
}

function checkTotals(m: Manifest, t: Tally, v2Only: Obj[] = []): void {
  const tt = m.totals;
  expect(t.sessions.size).toBe(tt.sessions);
  expect(t.messages.size).toBe(tt.messages);
  expect(t.parts.size).toBe(tt.parts);
  const byType: Record<string, number> = {};
  const toolStatus: Record<string, number> = {};
  const stepsByMsg = new Map<string, Obj[]>();
  for (const p of t.parts.values()) {
    byType[p.type] = (byType[p.type] ?? 0) + 1;
    if (p.type === 'tool') toolStatus[p.state.status] = (toolStatus[p.state.status] ?? 0) + 1;
    if (p.type === 'step-finish') {
      const a = stepsByMsg.get(p.messageID) ?? [];
      a.push(p);
      stepsByMsg.set(p.messageID, a);
    }
  }
  expect(byType).toEqual(tt.partsByType);
  const roles: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const tok = { input: 0, output: 0, reasoning: 0, cache_read: 0, cache_write: 0 };
  let costNano = 0;
  const add = (x: Obj) => {
    tok.input += x.input;
    tok.output += x.output;
    tok.reasoning += x.reasoning;
    tok.cache_read += x.cache.read;
    tok.cache_write += x.cache.write;
  };
  for (const msg of t.messages.values()) {
    if (msg.v2) {
      roles[msg.v2.type] = (roles[msg.v2.type] ?? 0) + 1;
      const d = msg.v2.data;
      if (msg.v2.type === 'assistant') {
        add(d.tokens);
        costNano += Math.round(d.cost * 1e9);
        if (d.error) errors[d.error.name] = (errors[d.error.name] ?? 0) + 1;
        for (const c of d.content)
          if (c.type === 'tool') toolStatus[c.state.status] = (toolStatus[c.state.status] ?? 0) + 1;
      }
      continue;
    }
    roles[msg.role] = (roles[msg.role] ?? 0) + 1;
    if (msg.role !== 'assistant') continue;
    if (msg.error) errors[msg.error.name] = (errors[msg.error.name] ?? 0) + 1;
    const steps = stepsByMsg.get(msg.id);
    if (steps) {
      for (const s of steps) {
        add(s.tokens);
        costNano += Math.round(s.cost * 1e9);
      }
      // message.cost = sum of steps; message.tokens = last step only
      expect(msg.cost).toBeCloseTo(
        steps.reduce((a, s) => a + s.cost, 0),
        12,
      );
      expect(msg.tokens.output).toBe(steps[steps.length - 1]!.tokens.output);
    } else {
      add(msg.tokens);
      costNano += Math.round(msg.cost * 1e9);
    }
  }
  expect(roles).toEqual(tt.messagesByRole);
  expect(errors).toEqual(tt.errorsByName);
  expect(toolStatus).toEqual(tt.toolCallsByStatus);
  expect(tok).toEqual(tt.tokens);
  expect(costNano).toBe(tt.costNanoUsd);
  // messages found only in the 2.x tables exactly when the manifest counts 2.x-only content
  expect(v2Only.length > 0).toBe(Object.keys(tt.v2OnlyContentByType).length > 0);
}

describe('gen-corpus json layout', () => {
  let m: Manifest;
  const out = join(root, 'json-a');
  beforeAll(async () => {
    m = await generateCorpus({ out, sessions: 40, seed: 'test', layout: 'json' });
  });

  it('is deterministic: same seed gives identical bytes', async () => {
    const out2 = join(root, 'json-b');
    const m2 = await generateCorpus({ out: out2, sessions: 40, seed: 'test', layout: 'json' });
    expect(m2).toEqual(m);
    const a = treeHash(out);
    const b = treeHash(out2);
    expect(a.size).toBeGreaterThan(1000);
    expect([...b.entries()]).toEqual([...a.entries()]);
    const out3 = join(root, 'json-c');
    const m3 = await generateCorpus({ out: out3, sessions: 8, seed: 'other', layout: 'json' });
    const m4 = await generateCorpus({ out: out3, sessions: 8, seed: 'other2', layout: 'json' });
    expect(m4.totals.messages === m3.totals.messages && m4.totals.parts === m3.totals.parts).toBe(false);
    rmSync(out2, { recursive: true, force: true });
    rmSync(out3, { recursive: true, force: true });
  });

  it('manifest counts equal what is on disk', () => {
    const t = emptyTally();
    readJsonTree(out, t);
    checkTotals(m, t);
    const files = walk(join(out, 'storage')).filter((f) => f.endsWith('.json'));
    expect(files.length).toBe(m.jsonFiles.count);
    expect(files.reduce((a, f) => a + statSync(f).size, 0)).toBe(m.jsonFiles.bytes);
    expect(readFileSync(join(out, 'storage', 'migration'), 'utf8')).toBe('2');
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))).toEqual(m);
  });

  it('has every part type, tool state and error shape', () => {
    for (const p of ALL_PART_TYPES) expect(m.totals.partsByType[p], p).toBeGreaterThan(0);
    for (const s of ['pending', 'running', 'completed', 'error'])
      expect(m.totals.toolCallsByStatus[s], s).toBeGreaterThan(0);
    for (const e of ALL_ERRORS) expect(m.totals.errorsByName[e], e).toBeGreaterThan(0);
    expect(m.totals.childSessions).toBeGreaterThan(0);
    expect(m.totals.assistantMessagesWithoutCompleted).toBeGreaterThan(0);
    expect(m.totals.assistantMessagesMultiStep).toBeGreaterThan(0);
    expect(m.totals.zeroCostAssistantMessagesWithTokens).toBeGreaterThan(0);
    expect(m.totals.compactionSummaries).toBeGreaterThan(0);
    expect(m.totals.revertedSessions).toBeGreaterThan(0);
    expect(m.totals.messagesAfterIdClockWrap).toBeGreaterThan(0);
    expect(m.totals.sessionsWithTodos).toBeGreaterThan(0);
  });

  it('IDs follow the OpenCode format (descending sessions, 48-bit clock wrap)', () => {
    const st = join(out, 'storage');
    const sessions: Obj[] = [];
    for (const proj of readdirSync(join(st, 'session'))) {
      expect(proj).toMatch(PROJECT_ID_RE);
      for (const f of readdirSync(join(st, 'session', proj))) {
        const s = JSON.parse(readFileSync(join(st, 'session', proj, f), 'utf8'));
        expect(f).toBe(`${s.id}.json`);
        expect(s.id).toMatch(ID_RE);
        expect(s.id.startsWith('ses_')).toBe(true);
        expect(idEncodedMs(s.id, true)).toBe(s.time.created % 2 ** 36);
        sessions.push(s);
      }
    }
    // Within one clock window, newer sessions sort first by ID.
    const window = sessions
      .filter((s) => s.time.created < 2 ** 36 * 26)
      .sort((a, b) => a.time.created - b.time.created);
    for (let i = 1; i < window.length; i++) {
      const [a, b] = [window[i - 1]!, window[i]!];
      if (b.time.created > a.time.created) expect(b.id < a.id).toBe(true);
    }
    let wrapped = 0;
    for (const ses of readdirSync(join(st, 'message'))) {
      for (const f of readdirSync(join(st, 'message', ses))) {
        const msg = JSON.parse(readFileSync(join(st, 'message', ses, f), 'utf8'));
        expect(msg.id).toMatch(ID_RE);
        expect(msg.id.startsWith('msg_')).toBe(true);
        expect(idEncodedMs(msg.id)).toBe(msg.time.created % 2 ** 36);
        if (msg.time.created >= 2 ** 36 * 26) wrapped++;
      }
    }
    expect(wrapped).toBe(m.totals.messagesAfterIdClockWrap);
    for (const dir of readdirSync(join(st, 'part')).slice(0, 200)) {
      expect(dir).toMatch(ID_RE);
      for (const f of readdirSync(join(st, 'part', dir))) expect(f.replace(/\.json$/, '')).toMatch(/^prt_/);
    }
  });

  it('writes 2-space pretty-printed JSON like Storage.write', () => {
    const files = walk(join(out, 'storage')).filter((f) => f.endsWith('.json'));
    for (const f of files.filter((_, i) => i % 7 === 0)) {
      const text = readFileSync(f, 'utf8');
      expect(text).toBe(JSON.stringify(JSON.parse(text), null, 2));
    }
  });

  it('links sub-agent sessions through the task tool', () => {
    const t = emptyTally();
    readJsonTree(out, t);
    const tasks = [...t.parts.values()].filter((p) => p.type === 'tool' && p.tool === 'task');
    expect(tasks.length).toBe(m.totals.childSessions);
    for (const p of tasks) {
      expect(t.sessions.has(p.state.metadata.sessionId)).toBe(true);
      expect(p.state.title).toBeTruthy();
    }
  });
});

describe('gen-corpus mixed layout', () => {
  let m: Manifest;
  const out = join(root, 'mixed-a');
  beforeAll(async () => {
    m = await generateCorpus({ out, sessions: 60, seed: 'mix', layout: 'mixed' });
  });

  it('manifest totals equal the deduplicated union of all sources', () => {
    const t = emptyTally();
    readJsonTree(out, t);
    readV1(join(out, 'opencode.db'), t);
    readV1(join(out, 'opencode-beta.db'), t);
    const v2only = readV2(join(out, 'opencode.db'), t);
    checkTotals(m, t, v2only);
    expect(m.bySource.json!.sessions).toBeGreaterThan(0);
    expect(m.bySource.v1!.sessions).toBeGreaterThan(m.bySource.json!.sessions);
    expect(m.bySource.v2!.sessions).toBeGreaterThan(0);
    expect(m.bySource['channel:v1']!.sessions).toBeGreaterThan(0);
  });

  it('has importer copies, v1→v2 copies and v2 tool items with id', () => {
    const db = new Database(join(out, 'opencode.db'), { readonly: true });
    expect((db.pragma('journal_mode', { simple: true }) as string).toLowerCase()).toBe('wal');
    const both = db
      .prepare('SELECT count(*) AS n FROM session s JOIN session_v2 v ON v.id = s.id')
      .get() as Obj;
    expect(both.n).toBeGreaterThan(0);
    const imported = db
      .prepare(
        "SELECT cost, tokens_input FROM session WHERE version LIKE '0.%' OR version LIKE '1.0.%' OR version LIKE '1.1.%'",
      )
      .all() as Obj[];
    expect(imported.length).toBe(m.bySource.json!.sessions);
    for (const r of imported) expect([r.cost, r.tokens_input]).toEqual([0, 0]);
    const row = db
      .prepare(
        'SELECT data FROM session_message WHERE type = \'assistant\' AND data LIKE \'%"type":"tool"%\' LIMIT 1',
      )
      .get() as Obj;
    const tool = JSON.parse(row.data).content.find((c: Obj) => c.type === 'tool');
    expect(tool.id).toBeTruthy();
    expect(tool.callID).toBeUndefined();
    db.close();
  });

  it('is deterministic for the databases too', async () => {
    const out2 = join(root, 'mixed-b');
    const m2 = await generateCorpus({ out: out2, sessions: 60, seed: 'mix', layout: 'mixed' });
    expect(m2).toEqual(m);
    // -wal/-shm appear only because the other tests opened the DB; the .db files themselves must match.
    const noWal = (rel: string) => rel.endsWith('-wal') || rel.endsWith('-shm');
    expect([...treeHash(out2, noWal).entries()]).toEqual([...treeHash(out, noWal).entries()]);
    rmSync(out2, { recursive: true, force: true });
  });
});

describe('gen-corpus single-generation DB layouts', () => {
  it.each(['v1', 'v2'] as const)('%s layout: manifest equals the DB', async (layout) => {
    const out = join(root, `db-${layout}`);
    const m = await generateCorpus({ out, sessions: 25, seed: 'db', layout });
    const t = emptyTally();
    if (layout === 'v1') readV1(join(out, 'opencode.db'), t);
    const v2only = layout === 'v2' ? readV2(join(out, 'opencode.db'), t) : [];
    checkTotals(m, t, v2only);
    expect(m.totals.sessions).toBe(25);
    rmSync(out, { recursive: true, force: true });
  });
});
