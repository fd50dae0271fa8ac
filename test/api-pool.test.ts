/**
 * The API's connection pool answers from the data as it is now. A prepared statement kept across
 * requests is planned with the statistics of the data it first saw: run again after the live bridge
 * committed longer strings it crashed the process (SIGSEGV), and into a table that was empty it
 * returned garbled text (@duckdb/node-api 1.5.6-r.1).
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionPool } from '../src/api/pool.ts';
import { openStore, type Store } from '../src/store/db.ts';
import { tempDir } from './support/datadir.ts';

let store: Store | undefined;
let pool: ConnectionPool | undefined;
afterEach(() => {
  pool?.close();
  store?.close();
  pool = undefined;
  store = undefined;
});

async function fresh(): Promise<{ store: Store; pool: ConnectionPool }> {
  store = await openStore(join(tempDir(), 'pool.duckdb'), { migrate: false });
  pool = new ConnectionPool(store.instance, { size: 1 });
  return { store, pool };
}

describe('API connection pool', () => {
  it('answers a repeated query after longer strings were committed', async () => {
    const { store, pool } = await fresh();
    await store.conn.run('CREATE TABLE a (id VARCHAR, n INTEGER)');
    await store.conn.run("INSERT INTO a VALUES ('ab', 1), ('cd', 2)");
    const sql = 'SELECT id, n FROM a ORDER BY id';
    expect(await pool.rows(sql)).toEqual([
      { id: 'ab', n: 1 },
      { id: 'cd', n: 2 },
    ]);
    await store.conn.run("INSERT INTO a VALUES ('a_much_longer_model_name', 3)");
    expect((await pool.rows(sql)).map((r) => r.id)).toEqual(['a_much_longer_model_name', 'ab', 'cd']);
  });

  it('answers a repeated query on a table that was empty', async () => {
    const { store, pool } = await fresh();
    await store.conn.run('CREATE TABLE h (check_id VARCHAR, status VARCHAR)');
    const sql = 'SELECT check_id, status FROM h WHERE status <> $1 ORDER BY check_id';
    expect(await pool.rows(sql, ['x'])).toEqual([]);
    await store.conn.run("INSERT INTO h VALUES ('a_check', 'pass'), ('z_check', 'fail')");
    expect(await pool.rows(sql, ['x'])).toEqual([
      { check_id: 'a_check', status: 'pass' },
      { check_id: 'z_check', status: 'fail' },
    ]);
  });
});
