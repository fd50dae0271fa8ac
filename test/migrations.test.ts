import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/store/db.ts';
import { MIGRATIONS, migrateDown, migrateUp, migrationStatus } from '../src/store/migrate.ts';
import { tempDir } from './support/datadir.ts';
import { rows } from './support/store.ts';

const userTables = async (s: Awaited<ReturnType<typeof openStore>>) =>
  (
    await rows(
      s,
      "SELECT table_name FROM duckdb_tables() WHERE NOT temporary AND table_name <> 'schema_migrations' ORDER BY 1",
    )
  ).map((r) => r.table_name);

describe('migrations', () => {
  it('apply in order, and every down step reverts its up step exactly', async () => {
    const store = await openStore(join(tempDir(), 'm.duckdb'), { migrate: false });
    try {
      const snapshots: unknown[][] = [await userTables(store)];
      for (const m of MIGRATIONS) {
        expect(await migrateUp(store.conn, m.version)).toEqual([m.version]);
        snapshots.push(await userTables(store));
      }
      expect((await migrationStatus(store.conn)).every((m) => m.appliedAt !== null)).toBe(true);
      for (let i = MIGRATIONS.length - 1; i >= 0; i--) {
        expect(await migrateDown(store.conn)).toEqual([MIGRATIONS[i]?.version]);
        expect(await userTables(store)).toEqual(snapshots[i]);
      }
      expect(await migrateUp(store.conn)).toEqual(MIGRATIONS.map((m) => m.version));
    } finally {
      store.close();
    }
  });
});
