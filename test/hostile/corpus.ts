/**
 * The small corpus of the hostile-input tests: one session with a user and an assistant message, a
 * text, a tool and a step-finish part (tokens, cost, tool metadata), written as OpenCode writes the
 * JSON tree. A test writes the same corpus twice, once with its hostile input and once clean, and
 * compares the two stores.
 */
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore, type Store } from '../../src/store/db.ts';
import { queryRows } from '../../src/store/query.ts';
import { type CliResult, cli } from '../support/cli.ts';
import { tempDir, writeStorage } from '../support/datadir.ts';
import { ENTITY_TABLES, storeSnapshot } from '../support/snapshot.ts';

const T0 = 1_767_312_000_000;
const EXTRA = '<extra>';
const BIN = fileURLToPath(new URL('../../bin/ocbridge.js', import.meta.url));

export interface CorpusOptions {
  /** The tool part's output (the large input of the size test). */
  toolOutput?: string;
  /** JSON text put under the tool part's metadata as `extra` (the deep input of the nesting test). */
  toolExtraJson?: string;
  /** More sessions, each with the same messages and parts (so the corpus has several folders). */
  sessions?: number;
}

/** Writes the corpus under `dir/storage`; returns `dir`. */
export function writeCorpus(dir: string, o: CorpusOptions = {}): string {
  for (let s = 0; s < (o.sessions ?? 1); s++) {
    const ses = `ses_${s}`;
    const [u, a] = [`msg_${s}u`, `msg_${s}a`];
    writeStorage(dir, `project/proj1.json`, {
      id: 'proj1',
      worktree: '/w',
      vcs: 'git',
      time: { created: T0 },
    });
    writeStorage(dir, `session/proj1/${ses}.json`, {
      id: ses,
      projectID: 'proj1',
      title: `session ${s}`,
      directory: '/w',
      version: '1.1.60',
      time: { created: T0, updated: T0 + 9000 },
    });
    writeStorage(dir, `message/${ses}/${u}.json`, {
      id: u,
      sessionID: ses,
      role: 'user',
      time: { created: T0 },
    });
    writeStorage(dir, `message/${ses}/${a}.json`, {
      id: a,
      sessionID: ses,
      role: 'assistant',
      parentID: u,
      modelID: 'gpt-4.1',
      providerID: 'openai',
      mode: 'build',
      cost: 0.0125,
      tokens: { input: 1200, output: 340, reasoning: 0, cache: { read: 800, write: 0 } },
      time: { created: T0 + 1000, completed: T0 + 8000 },
    });
    writeStorage(dir, `part/${u}/prt_${s}u.json`, {
      id: `prt_${s}u`,
      sessionID: ses,
      messageID: u,
      type: 'text',
      text: 'run the tests',
    });
    const tool = {
      id: `prt_${s}t`,
      sessionID: ses,
      messageID: a,
      type: 'tool',
      callID: `call_${s}`,
      tool: 'bash',
      state: {
        status: 'completed',
        input: { command: 'npm test' },
        output: s === 0 ? (o.toolOutput ?? 'ok') : 'ok',
        title: 'npm test',
        metadata: { exit: 0, ...(s === 0 && o.toolExtraJson !== undefined ? { extra: EXTRA } : {}) },
        time: { start: T0 + 2000, end: T0 + 7000 },
      },
    };
    const text = JSON.stringify(tool, null, 2);
    writeStorage(
      dir,
      `part/${a}/prt_${s}t.json`,
      o.toolExtraJson ? text.replace(`"${EXTRA}"`, o.toolExtraJson) : text,
    );
    writeStorage(dir, `part/${a}/prt_${s}f.json`, {
      id: `prt_${s}f`,
      sessionID: ses,
      messageID: a,
      type: 'step-finish',
      reason: 'stop',
      cost: 0.0125,
      tokens: { input: 1200, output: 340, reasoning: 0, cache: { read: 800, write: 0 } },
    });
  }
  return dir;
}

/** The user the tests run a child as when root must not be root (root reads mode 000 folders). */
export const NOBODY = { uid: 65534, gid: 65534 };

/**
 * Runs `ocbridge` as another user (`spawnSync` with `uid`/`gid`: the child drops root's privileges
 * before it starts). The caller makes the paths the child needs accessible to that user.
 */
export function cliAs(user: { uid: number; gid: number }, args: string[]): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, HOME: tmpdir() },
    timeout: 120_000,
    ...user,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `ocbridge ingest` of a source into a new store (as `user` if given); its result and how long it took. */
export function ingestCli(
  source: string,
  db = join(tempDir('ocb-hostile-'), 'store.duckdb'),
  user?: { uid: number; gid: number },
) {
  const t0 = performance.now();
  const args = ['ingest', '--source', source, '--db', db, '--no-progress', '--format', 'json'];
  const r = user ? cliAs(user, args) : cli(args);
  return { ...r, db, seconds: (performance.now() - t0) / 1000 };
}

/** Reads a store with a query (opened and closed around it). */
export async function readStore<T>(db: string, f: (s: Store) => Promise<T>): Promise<T> {
  const store = await openStore(db);
  try {
    return await f(store);
  } finally {
    store.close();
  }
}

export const q = (s: Store, sql: string) => queryRows(s.conn, sql);

/**
 * A fingerprint of every entity table, leaving out the rows `skip` names (`table → SQL condition`):
 * the hostile item's own rows, compared separately.
 */
export function entitySnapshot(s: Store, skip: Record<string, string> = {}) {
  const tables = ENTITY_TABLES.map((t) => (skip[t] ? `(SELECT * FROM ${t} WHERE NOT (${skip[t]}))` : t));
  return storeSnapshot(s, tables).then((snap) =>
    Object.fromEntries(Object.entries(snap).map(([k, v], i) => [ENTITY_TABLES[i] ?? k, v])),
  );
}
