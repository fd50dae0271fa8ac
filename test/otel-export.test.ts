/**
 * Exactly once: the collector failing then recovering, the collector down for good (non-zero exit
 * with the reason), and kill -9 in the middle of an export followed by a restart — span IDs counted
 * at the receiver, in JSON and protobuf.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { exportTraces } from '../src/otel/export.ts';
import { openStore } from '../src/store/db.ts';
import { openTestStore, type SyntheticShape, spansOf, writeSynthetic } from './otel-fixtures.ts';
import { cli, cliAsync } from './support/cli.ts';
import { tempDir } from './support/datadir.ts';
import { startOtlpReceiver } from './support/otlp-receiver.ts';
import { rows } from './support/store.ts';

const BIN = fileURLToPath(new URL('../bin/ocbridge.js', import.meta.url));
const SHAPE: SyntheticShape = { sessions: 6, exchangesPerSession: 5, stepsPerExchange: 2, toolsPerStep: 3 };
const TOTAL = spansOf(SHAPE); // 6 × 5 × 9 = 270

/** The CLI in a child process, asynchronously (the receiver lives in this process's event loop). */
async function freePort(): Promise<number> {
  const rx = await startOtlpReceiver();
  const port = Number(new URL(rx.url).port);
  await rx.close();
  return port;
}

async function syntheticDb(): Promise<string> {
  const path = join(tempDir('ocb-otel-x-'), 'store.duckdb');
  const store = await openTestStore(path);
  await writeSynthetic(store.conn, SHAPE);
  store.close();
  return path;
}

for (const protocol of ['http/json', 'http/protobuf'] as const) {
  describe(`exactly once (${protocol})`, () => {
    it('the collector answers 503 for a while, then recovers: every span arrives once', async () => {
      const store = await openTestStore();
      const rx = await startOtlpReceiver();
      try {
        await writeSynthetic(store.conn, SHAPE);
        rx.failNext(3, 503);
        const r = await exportTraces(store.conn, {
          endpoint: rx.url,
          protocol,
          batchSpans: 50,
          initialBackoffMs: 50,
        });
        expect(r.ok).toBe(true);
        const s = rx.stats();
        expect(s.refused).toBe(3);
        expect(s.spans).toBe(TOTAL);
        expect(s.uniqueSpans).toBe(TOTAL);
        expect(s.duplicateSpans).toBe(0);
        const [l] = await rows(
          store,
          "SELECT count(*) FILTER (WHERE status = 'exported') AS n FROM export_ledger",
        );
        expect(l?.n).toBe(SHAPE.sessions * SHAPE.exchangesPerSession);
      } finally {
        await rx.close();
        store.close();
      }
    });

    it('the collector is down, then comes up: the backlog waits in the ledger, nothing lost or doubled', async () => {
      const store = await openTestStore();
      const port = await freePort();
      const logs: string[] = [];
      try {
        await writeSynthetic(store.conn, SHAPE);
        const run = exportTraces(store.conn, {
          endpoint: `http://127.0.0.1:${port}`,
          protocol,
          batchSpans: 50,
          initialBackoffMs: 100,
          maxBackoffMs: 400,
          timeoutMillis: 1000,
          log: (l) => logs.push(l),
        });
        await new Promise((r) => setTimeout(r, 3000));
        const rx = await startOtlpReceiver({ port });
        const r = await run;
        await rx.close();
        expect(r.ok).toBe(true);
        expect(r.failedRequests).toBeGreaterThan(0);
        expect(logs.some((l) => /backlog \d+ spans kept in the ledger/.test(l))).toBe(true);
        const s = rx.stats();
        expect(s.uniqueSpans).toBe(TOTAL);
        expect(s.duplicateSpans).toBe(0);
      } finally {
        store.close();
      }
    });

    it('kill -9 during an export, then a restart: nothing lost, nothing sent twice', async () => {
      const db = await syntheticDb();
      const rx = await startOtlpReceiver();
      let child: ChildProcess | undefined;
      const killedAt = 4;
      // the 4th request reaches the receiver and is never answered; the exporter is killed once it has
      // recorded the acknowledgements of the first three in the ledger (its --verbose lines say so).
      // An acknowledgement received but not yet recorded is the one window where a span is sent
      // twice (docs/otel.md); the kill happens outside it, the way a crash at any other moment would.
      let recorded = 0;
      let onRecorded: (() => void) | undefined;
      const threeRecorded = new Promise<void>((r) => {
        onRecorded = r;
      });
      let killed: Promise<unknown> | undefined;
      rx.onRequest = async (n) => {
        if (n < killedAt || !child) return;
        const c = child;
        killed ??= threeRecorded.then(() => {
          c.kill('SIGKILL');
          return new Promise((r) => c.once('exit', r));
        });
        await killed;
      };
      try {
        child = spawn(process.execPath, [
          BIN,
          'export',
          'traces',
          '--db',
          db,
          '--endpoint',
          rx.url,
          '--protocol',
          protocol,
          '--batch-spans',
          '30',
          '--verbose',
        ]);
        child.stderr?.setEncoding('utf8').on('data', (d: string) => {
          recorded += d.split('acknowledged and recorded').length - 1;
          if (recorded >= killedAt - 1) onRecorded?.();
        });
        const code = await new Promise<number | null>((r) => child?.once('exit', (c) => r(c)));
        expect(code).toBeNull(); // killed
        const before = rx.stats();
        expect(before.acknowledged).toBe(killedAt - 1);
        expect(before.uniqueSpans).toBeGreaterThan(0);
        expect(before.uniqueSpans).toBeLessThan(TOTAL);
        rx.onRequest = undefined;
        const again = await cliAsync([
          'export',
          '--db',
          db,
          '--endpoint',
          rx.url,
          '--protocol',
          protocol,
          '--format',
          'json',
        ]);
        expect(again.status, again.stderr).toBe(0);
        expect(again.stderr).toMatch(/sent before without an acknowledgement/);
        const s = rx.stats();
        expect(s.uniqueSpans).toBe(TOTAL);
        expect(s.spans).toBe(TOTAL);
        expect(s.duplicateSpans).toBe(0);
        const store = await openStore(db);
        try {
          const [l] = await rows(
            store,
            "SELECT count(*) FILTER (WHERE status = 'exported') AS exported, count(*) FILTER (WHERE status <> 'exported') AS other, max(attempts) AS max_attempts FROM export_ledger",
          );
          expect(l).toEqual({
            exported: SHAPE.sessions * SHAPE.exchangesPerSession,
            other: 0,
            max_attempts: 2,
          });
        } finally {
          store.close();
        }
      } finally {
        child?.kill('SIGKILL');
        await rx.close();
      }
    });
  });
}

describe('collector never acknowledges', () => {
  it('exits non-zero with the reason, keeps everything pending in the ledger', async () => {
    const db = await syntheticDb();
    const port = await freePort();
    const r = cli([
      'export',
      'traces',
      '--db',
      db,
      '--endpoint',
      `http://127.0.0.1:${port}`,
      '--max-retry',
      '1',
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/not acknowledged: the collector did not acknowledge for \d+ s/);
    expect(r.stdout).toMatch(/exported 0 exchanges, 0 spans/);
    const store = await openStore(db);
    try {
      const [l] = await rows(
        store,
        "SELECT count(*) FILTER (WHERE status = 'exported') AS exported, count(*) FILTER (WHERE status = 'pending') > 0 AS has_pending, bool_and(last_error IS NOT NULL OR status <> 'pending') AS errors_kept FROM export_ledger",
      );
      expect(l).toEqual({ exported: 0, has_pending: true, errors_kept: true });
    } finally {
      store.close();
    }
  });

  it('a 400 is permanent: stops at once with the reason', async () => {
    const store = await openTestStore();
    const rx = await startOtlpReceiver();
    try {
      await writeSynthetic(store.conn, SHAPE);
      rx.failNext(1000, 400);
      const r = await exportTraces(store.conn, {
        endpoint: rx.url,
        protocol: 'http/json',
        maxRetryMs: 60_000,
      });
      expect(r.ok).toBe(false);
      expect(r.reason).toMatch(/rejected/);
      expect(r.seconds).toBeLessThan(10);
    } finally {
      await rx.close();
      store.close();
    }
  });
});
