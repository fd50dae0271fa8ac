/**
 * A collector that answers and closes before it has read the whole request, and one that answers
 * with `partialSuccess.rejectedSpans`: neither is an acknowledgement. `ocbridge export` ends with the
 * reason and a non-zero exit, no uncaught error, every exchange still pending in the ledger; a good
 * collector afterwards receives every span.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openTestStore, type SyntheticShape, spansOf, writeSynthetic } from '../otel-fixtures.ts';
import { cliAsync } from '../support/cli.ts';
import { tempDir } from '../support/datadir.ts';
import { startOtlpReceiver } from '../support/otlp-receiver.ts';
import { q, readStore } from './corpus.ts';

/** ~5,400 spans: one request of several MB, more than the sockets' buffers take unread. */
const SHAPE: SyntheticShape = { sessions: 60, exchangesPerSession: 10, stepsPerExchange: 2, toolsPerStep: 3 };

async function listen(server: Server | ReturnType<typeof createHttpServer>): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** Exports against `url` (fails), then against a good collector: every span arrives. */
async function faultThenRecovery(url: string, reason: RegExp, batchSpans: number) {
  const db = join(tempDir('ocb-hostile-'), 'store.duckdb');
  const store = await openTestStore(db);
  await writeSynthetic(store.conn, SHAPE);
  store.close();
  const args = [
    'export',
    'traces',
    '--db',
    db,
    '--protocol',
    'http/json',
    '--batch-spans',
    String(batchSpans),
  ];
  const bad = await cliAsync([...args, '--endpoint', url, '--max-retry', '1'], {}, 90_000);
  expect(bad.status, bad.stderr).toBe(1);
  expect(bad.stderr).toMatch(reason);
  expect(bad.stderr).not.toMatch(/uncaught|unhandled|WriteWrap|node:internal/i);
  await readStore(db, async (s) => {
    const [l] = await q(
      s,
      "SELECT count(*) FILTER (WHERE status <> 'pending') AS done, count(*) AS n FROM export_ledger",
    );
    expect(Number(l?.done)).toBe(0);
  });
  const rx = await startOtlpReceiver();
  try {
    const good = await cliAsync([...args, '--endpoint', rx.url], {}, 90_000);
    expect(good.status, good.stderr).toBe(0);
    expect(new Set(rx.spans.map((s) => s.spanId)).size).toBe(spansOf(SHAPE));
  } finally {
    await rx.close();
  }
}

describe('collector faults', () => {
  it('an answer before the whole request was read is a retryable failure, not a crash', async () => {
    // answers as soon as the request starts, and closes: the rest of the body meets a closed socket
    const server = createServer((sock) => {
      sock.on('error', () => {});
      sock.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}');
      setTimeout(() => sock.destroy(), 1);
    });
    try {
      await faultThenRecovery(await listen(server), /not acknowledged/, 8192);
    } finally {
      server.close();
    }
  }, 240_000);

  it('spans rejected in a partialSuccess stay pending', async () => {
    const server = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ partialSuccess: { rejectedSpans: '2', errorMessage: 'span too old' } }));
      });
    });
    try {
      await faultThenRecovery(
        await listen(server),
        /rejected 2 of \d+ spans \(partialSuccess\): span too old/,
        2048,
      );
    } finally {
      server.close();
    }
  }, 240_000);
});
