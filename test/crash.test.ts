/**
 * kill -9 at random points of the bulk load and of live mode, restart, and compare the store with a
 * clean one-shot ingest of the same final input.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { runIngest } from '../src/pipeline/ingestor.ts';
import { openStore } from '../src/store/db.ts';
import { tempDir, V1_DDL, writeStorage } from './support/datadir.ts';
import { storeSnapshot } from './support/snapshot.ts';
import { rows } from './support/store.ts';
import { T0, writeTinySession } from './support/tiny.ts';

const BIN = fileURLToPath(new URL('../bin/ocbridge.js', import.meta.url));
const KILLS = Number(process.env.CRASH_POINTS ?? 20);

function startRun(
  dir: string,
  db: string,
): { child: ChildProcess; ready: Promise<void>; exited: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    [BIN, 'run', '--source', dir, '--db', db, '--port', '0', '--log-level', 'info'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let buf = '';
  const ready = new Promise<void>((resolve) => {
    child.stderr?.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('history loaded')) resolve();
    });
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, ready, exited };
}

describe(`crash safety (${KILLS} kill -9 points)`, () => {
  it('a restart after kill -9 at any point gives the store an uninterrupted run gives', async () => {
    const dir = tempDir('ocb-crash-');
    const db = join(dir, 'store.duckdb');
    writeTinySession(dir);
    for (let m = 0; m < 40; m++) {
      writeStorage(dir, `message/ses_a/msg_${m}.json`, {
        id: `msg_${m}`,
        sessionID: 'ses_a',
        role: 'user',
        time: { created: T0 + m },
      });
      for (let p = 0; p < 15; p++) {
        writeStorage(dir, `part/msg_${m}/prt_${m}_${p}.json`, {
          id: `prt_${m}_${p}`,
          sessionID: 'ses_a',
          messageID: `msg_${m}`,
          type: 'text',
          text: 'x'.repeat(2000 + p),
        });
      }
    }
    const sdb = new Database(join(dir, 'opencode.db'));
    sdb.pragma('journal_mode = WAL');
    sdb.exec(V1_DDL);
    const put = sdb.prepare('INSERT OR REPLACE INTO message VALUES (?, ?, ?, ?, ?)');
    for (let i = 0; i < 300; i++)
      put.run(
        `msg_db${i}`,
        'ses_db',
        T0,
        T0 + i,
        JSON.stringify({ role: 'user', agent: 'a', time: { created: T0 } }),
      );

    let version = T0 + 1000; // time_updated is OpenCode's clock: later writes have later times
    for (let k = 0; k < KILLS; k++) {
      const run = startRun(dir, db);
      // half the kills land during start-up or the bulk load, half while live changes are applied
      const live = k % 2 === 1;
      if (live) {
        await Promise.race([run.ready, run.exited]);
        for (let j = 0; j < 20; j++) {
          writeStorage(dir, `part/msg_${j}/prt_live_${k}_${j}.json`, {
            id: `prt_live_${k}_${j}`,
            sessionID: 'ses_a',
            messageID: `msg_${j}`,
            type: 'text',
            text: `live ${k}`,
          });
          put.run(
            `msg_db${j}`,
            'ses_db',
            T0,
            ++version,
            JSON.stringify({ role: 'user', agent: `k${k}`, time: { created: T0 } }),
          );
        }
      }
      await new Promise((r) => setTimeout(r, 50 + ((k * 7919) % 700)));
      run.child.kill('SIGKILL');
      await run.exited;
    }
    // a final run that is allowed to finish, then stops gracefully
    const last = startRun(dir, db);
    await last.ready;
    last.child.kill('SIGTERM');
    expect(await last.exited).toBe(0);
    sdb.close();

    const clean = await openStore(join(dir, 'clean.duckdb'));
    await runIngest(clean, { source: dir, workers: 0 });
    const want = await storeSnapshot(clean);
    clean.close();
    const afterCrashes = await openStore(db);
    const got = await storeSnapshot(afterCrashes);
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      // say which rows differ, to make a failure actionable
      await afterCrashes.conn.run(`ATTACH '${join(dir, 'clean.duckdb')}' AS clean (READ_ONLY)`);
      for (const t of Object.keys(got)) {
        const diff = await rows(
          afterCrashes,
          `SELECT 'crashed' AS side, * FROM (FROM main.${t} EXCEPT FROM clean.${t}) UNION ALL SELECT 'clean', * FROM (FROM clean.${t} EXCEPT FROM main.${t}) LIMIT 6`,
        );
        if (diff.length > 0) console.error(t, JSON.stringify(diff, null, 1).slice(0, 3000));
      }
    }
    afterCrashes.close();
    expect(got).toEqual(want);
    expect(got.parts?.n).toBe(40 * 15 + Math.ceil(KILLS / 2) * 20);
  }, 600_000);
});
