import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore, ROW_GROUP_SIZE, STORE_CATALOG } from '../src/store/db.ts';
import { tempDir } from './support/datadir.ts';

const rowGroups = async (s: Awaited<ReturnType<typeof openStore>>, table: string) =>
  Number(
    (
      await s.conn.runAndReadAll(`SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('${table}')`)
    ).getRows()[0]?.[0],
  );

describe('opening the store', () => {
  it('writes small row groups, on every open (the option is not kept in the file)', async () => {
    const path = join(tempDir(), 'rg.duckdb');
    const n = ROW_GROUP_SIZE * 3 + 5;
    let store = await openStore(path);
    try {
      await store.conn.run(`CREATE TABLE t AS SELECT range AS i, repeat('x', 100) AS s FROM range(${n})`);
      await store.conn.run('CHECKPOINT');
      expect(await rowGroups(store, 't')).toBe(4);
    } finally {
      store.close();
    }
    store = await openStore(path);
    try {
      await store.conn.run(`INSERT INTO t SELECT range, 'y' FROM range(${n})`);
      await store.conn.run('CHECKPOINT');
      expect(await rowGroups(store, 't')).toBeGreaterThanOrEqual(8);
    } finally {
      store.close();
    }
  });

  it('gives every connection of the instance the store as its database', async () => {
    const store = await openStore(join(tempDir(), 'c.duckdb'));
    try {
      const other = await store.instance.connect();
      try {
        const r = (
          await other.runAndReadAll('SELECT current_database(), count(*) FROM schema_migrations')
        ).getRows()[0];
        expect(r?.[0]).toBe(STORE_CATALOG);
        expect(Number(r?.[1])).toBeGreaterThan(0);
      } finally {
        other.closeSync();
      }
    } finally {
      store.close();
    }
  });

  it('opens read-only without creating or changing anything', async () => {
    const path = join(tempDir(), 'ro.duckdb');
    (await openStore(path)).close();
    const ro = await openStore(path, { readOnly: true });
    try {
      await expect(ro.conn.run('CREATE TABLE nope (i INTEGER)')).rejects.toThrow(/read-only/i);
    } finally {
      ro.close();
    }
    const missing = join(tempDir(), 'missing.duckdb');
    await expect(openStore(missing, { readOnly: true })).rejects.toThrow(
      `no store at ${missing}: create it with: ocbridge ingest --db ${missing}`,
    );
    expect(existsSync(missing)).toBe(false);
  });

  it('store.settings: overrides for a task, put back also when it fails, and a standing value set meanwhile wins', async () => {
    const store = await openStore(join(tempDir(), 'settings.duckdb'), { threads: 2 });
    const setting = async (name: string) =>
      String((await store.conn.runAndReadAll(`SELECT current_setting('${name}')`)).getRows()[0]?.[0]);
    const mib = (v: string) => Number.parseFloat(v) * (v.includes('GiB') ? 1024 : 1);
    try {
      expect(await setting('threads')).toBe('2');
      const inside = await store.settings.during({ memory_limit: '256MB', threads: 1 }, async () => ({
        mem: await setting('memory_limit'),
        threads: await setting('threads'),
      }));
      expect(inside.threads).toBe('1');
      expect(mib(inside.mem)).toBeCloseTo(244.1, 0); // 256 MB in MiB
      expect(await setting('threads')).toBe('2');
      expect(mib(await setting('memory_limit'))).toBeCloseTo(366.2, 0); // 384 MB, the store's limit
      await expect(
        store.settings.during({ threads: 1 }, async () => {
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await setting('threads')).toBe('2');

      // the race a save-and-restore had: a pass borrows 384MB, the bridge goes live (160MB) meanwhile,
      // the pass ends: the live value is in force, not the one the pass saw when it started
      await store.settings.set({ memory_limit: '256MB' });
      let release = () => {};
      const pass = store.settings.during(
        { memory_limit: '384MB' },
        () => new Promise<void>((r) => (release = r)),
      );
      await new Promise((r) => setTimeout(r, 50));
      expect(mib(await setting('memory_limit'))).toBeCloseTo(366.2, 0);
      await store.settings.set({ memory_limit: '160MB' });
      expect(mib(await setting('memory_limit'))).toBeCloseTo(366.2, 0); // the pass still runs
      release();
      await pass;
      expect(mib(await setting('memory_limit'))).toBeCloseTo(152.5, 0); // 160 MB
    } finally {
      store.close();
    }
  });
});

describe('spilling', () => {
  it('spills beside its own store (writer) or into a folder of its own (reader), never ./.tmp', async () => {
    const dir = tempDir();
    const path = join(dir, 'spill.duckdb');
    const setting = async (s: Awaited<ReturnType<typeof openStore>>) =>
      String((await s.conn.runAndReadAll("SELECT current_setting('temp_directory')")).getRows()[0]?.[0]);
    const writer = await openStore(path);
    try {
      expect(await setting(writer)).toBe(`${path}.tmp`);
    } finally {
      writer.close();
    }
    const a = await openStore(path, { readOnly: true });
    const b = await openStore(path, { readOnly: true });
    try {
      const [sa, sb] = [await setting(a), await setting(b)];
      expect(sa).not.toBe(sb);
      expect(sa).not.toContain(dir);
    } finally {
      a.close();
      b.close();
    }
  });
});
