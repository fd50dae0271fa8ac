/**
 * Captures real OpenCode artefacts for the other engineers:
 *   test/fixtures/opencode-real/datadir/      storage/ + opencode*.db (WAL checkpointed into the .db)
 *   test/fixtures/opencode-real/schema-<v>.sql  `.schema` of opencode.db after each version's turns
 *
 * `node --import tsx test/support/opencode-fixtures.ts` runs the scenario and (re)writes them.
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { REPO_ROOT } from './opencode-install.ts';
import type { OpencodeEnv } from './opencode-run.ts';
import { runUpgradeScenario, type ScenarioResult } from './opencode-scenario.ts';
import { verifyScenario } from './opencode-verify.ts';

export const FIXTURE_DIR = join(REPO_ROOT, 'test', 'fixtures', 'opencode-real');

/** The equivalent of sqlite3's `.schema` (tables, indexes, triggers, views), in a stable order. */
export function dumpSchema(dbFile: string): string {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, name",
      )
      .all() as { type: string; name: string; sql: string }[];
    return `${rows.map((r) => `${r.sql};`).join('\n')}\n`;
  } finally {
    db.close();
  }
}

export function writeSchemaSnapshot(
  version: string,
  dataDir: string,
  outDir = FIXTURE_DIR,
): string | undefined {
  const dbFile = join(dataDir, 'opencode.db');
  if (!existsSync(dbFile)) return undefined;
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `schema-${version}.sql`);
  writeFileSync(
    file,
    `-- .schema of opencode.db after running OpenCode ${version} (captured by test/support/opencode-fixtures.ts)\n${dumpSchema(dbFile)}`,
  );
  return file;
}

/**
 * Copies `storage/` and `opencode*.db*` into `<outDir>/datadir`, folds the WAL into the .db copy and
 * switches the copy to journal_mode=DELETE: a WAL-mode file makes every read-only reader create
 * -wal/-shm files next to it (noise in git). The live scenario data dir keeps the real WAL layout.
 */
export function copyDataDir(dataDir: string, outDir = FIXTURE_DIR): string {
  const dest = join(outDir, 'datadir');
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  if (existsSync(join(dataDir, 'storage')))
    cpSync(join(dataDir, 'storage'), join(dest, 'storage'), { recursive: true });
  const dbs = readdirSync(dataDir).filter((f) => /^opencode.*\.db(-wal|-shm)?$/.test(f));
  for (const f of dbs) copyFileSync(join(dataDir, f), join(dest, f));
  for (const f of dbs.filter((x) => x.endsWith('.db'))) {
    const db = new Database(join(dest, f));
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.pragma('journal_mode = DELETE');
    db.close();
  }
  return dest;
}

export async function captureFixtures(root: string, outDir = FIXTURE_DIR): Promise<ScenarioResult> {
  const res = await runUpgradeScenario({
    root,
    onLog: (l) => console.log(l),
    afterVersion: (version: string, oc: OpencodeEnv) => {
      const f = writeSchemaSnapshot(version, oc.dataDir, outDir);
      console.log(`schema after ${version}: ${f ?? '(no opencode.db yet: JSON storage only)'}`);
    },
  });
  const problems = verifyScenario(res);
  if (problems.length) throw new Error(`scenario did not do what it intended:\n${problems.join('\n')}`);
  copyDataDir(res.dataDir, outDir);
  writeFileSync(
    join(outDir, 'datadir', '.gitignore'),
    '# created by SQLite readers\n*.db-wal\n*.db-shm\n*.db-journal\n',
  );
  writeFileSync(
    join(outDir, 'scenario-log.json'),
    `${JSON.stringify(
      {
        sessions: res.sessions,
        installMs: res.installMs,
        totalMs: res.totalMs,
        turns: res.log.map(({ stderrTail: _s, ...rest }) => ({
          ...rest,
          argv: rest.argv.map((a) => a.replace(/ses_[A-Za-z0-9]+/, '<session>')),
        })),
      },
      null,
      2,
    )}\n`,
  );
  return res;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? join(REPO_ROOT, '.tmp', 'opencode-fixture-run'));
  const res = await captureFixtures(root);
  console.log(`fixtures written to ${FIXTURE_DIR} (scenario ${res.totalMs}ms)`);
}
