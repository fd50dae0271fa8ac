/**
 * `/api/query` results are bounded by bytes and the deadline covers serialisation: a query whose
 * rows serialise to ~100 MB of JSON (10,000 rows × 10 KB) answers 413 with a clear error quickly, not
 * a 500 after the deadline, and the process does not keep the memory; a result under the limit
 * still answers 200.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, disposeApp } from '../../src/api/server.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { tempDir } from '../support/datadir.ts';

/** 10,000 rows (the row limit) × 10 KB: ~100 MB of JSON rows, over the 64 MiB limit */
const BIG = "SELECT i, repeat('x', 10000) AS blob FROM range(10000) t(i)";
let store: Store;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  store = await openStore(join(tempDir('ocb-sqlbound-'), 'store.duckdb'));
  app = createApp({ store, enableSql: true });
});
afterAll(() => {
  disposeApp(app);
  store?.close();
});

const post = (sql: string) =>
  app.request('/api/query', {
    method: 'POST',
    body: JSON.stringify({ sql }),
    headers: { 'content-type': 'application/json' },
  });

describe('/api/query result bounded by bytes', () => {
  it('a ~100 MB result answers 413 quickly, with the limit and what to do; memory is not kept', async () => {
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sample = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const t0 = performance.now();
    const r = await post(BIG);
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(sample);
    const body = (await r.json()) as { error: string; detail: string };
    expect(r.status).toBe(413);
    expect(body.error).toBe('result too large');
    expect(body.detail).toMatch(/larger than 67108864 bytes of JSON/);
    expect(body.detail).toMatch(/add LIMIT/);
    // rows were converted only up to the limit, not all 10,000
    const converted = Number(/after (\d+) rows/.exec(body.detail)?.[1]);
    expect(converted).toBeGreaterThan(6000);
    expect(converted).toBeLessThan(6800);
    expect(seconds).toBeLessThan(5); // within the 5 s deadline (unbounded: 500 after 11 s)
    // held at most: the 64 MiB limit (as text and as row objects) plus DuckDB's chunks
    console.log(
      `413 after ${seconds.toFixed(2)} s, RSS +${((peak - rss0) / 2 ** 20).toFixed(0)} MiB at peak`,
    );
    expect(peak - rss0).toBeLessThan(600 * 2 ** 20);
    // the same query, bounded by LIMIT, answers
    const ok = await post(`${BIG} LIMIT 100`);
    expect(ok.status).toBe(200);
    const rows = ((await ok.json()) as { data: { blob: string }[] }).data;
    expect(rows).toHaveLength(100);
    expect(rows[99]?.blob).toHaveLength(10_000);
  }, 30_000);

  it('the deadline covers converting the rows: 503 on time, not an answer after it', async () => {
    const slow = createApp({ store, enableSql: true, sqlTimeoutMs: 300, sqlMaxBytes: 2 ** 30 });
    const t0 = performance.now();
    const r = await slow.request('/api/query', {
      method: 'POST',
      body: JSON.stringify({ sql: BIG }),
      headers: { 'content-type': 'application/json' },
    });
    const seconds = (performance.now() - t0) / 1000;
    disposeApp(slow);
    expect(r.status).toBe(503);
    expect(((await r.json()) as { error: string }).error).toBe('query timeout');
    expect(seconds).toBeLessThan(2);
  }, 30_000);
});
