/**
 * `ocbridge run --otlp-endpoint`: history is backfilled as traces once, a restart sends nothing again,
 * and an exchange that completes while the bridge runs arrives as a new trace (IDs counted at a real
 * OTLP/HTTP receiver).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { generateCorpus } from '../src/gen/index.ts';
import { exportTraces } from '../src/otel/export.ts';
import { openStore } from '../src/store/db.ts';
import { tempDir, writeStorage } from './support/datadir.ts';
import { type OtlpReceiver, startOtlpReceiver } from './support/otlp-receiver.ts';

const BIN = fileURLToPath(new URL('../bin/ocbridge.js', import.meta.url));

interface Running {
  child: ChildProcess;
  /** resolves when a log line matches */
  waitFor(
    pred: (rec: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

function startRun(source: string, db: string, endpoint: string): Running {
  const child = spawn(
    process.execPath,
    [
      BIN,
      'run',
      '--source',
      source,
      '--db',
      db,
      '--port',
      '0',
      '--otlp-endpoint',
      endpoint,
      '--log-level',
      'debug',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const seen: Record<string, unknown>[] = [];
  const waiters: {
    pred: (r: Record<string, unknown>) => boolean;
    resolve: (r: Record<string, unknown>) => void;
  }[] = [];
  let buf = '';
  child.stderr?.on('data', (d: Buffer) => {
    buf += d;
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const line of lines) {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line);
      } catch {
        continue;
      }
      seen.push(rec);
      for (const w of [...waiters])
        if (w.pred(rec)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(rec);
        }
    }
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    waitFor(pred, timeoutMs = 60_000) {
      const hit = seen.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`no matching log line; last: ${JSON.stringify(seen.slice(-5))}`)),
          timeoutMs,
        );
        waiters.push({
          pred,
          resolve: (r) => {
            clearTimeout(t);
            resolve(r);
          },
        });
      });
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const passWith = (n: (x: number) => boolean) => (r: Record<string, unknown>) =>
  typeof r.msg === 'string' && r.msg.startsWith('backlog: ') && n(Number(r.msg.split(' ')[1]));

describe('trace export while running', () => {
  let rx: OtlpReceiver;
  afterAll(async () => rx?.close());

  it('backfills history once, sends nothing again after a restart, and exports a new exchange', async () => {
    rx = await startOtlpReceiver();
    const dir = tempDir('ocb-live-export-');
    const source = join(dir, 'opencode');
    await generateCorpus({ out: source, sessions: 4, seed: '5', layout: 'json' });
    const db = join(dir, 'store.duckdb');

    // 1. first start: the whole history goes out once
    let run = startRun(source, db, rx.url);
    await run.waitFor((r) => r.msg === 'exported traces');
    await run.waitFor(passWith((n) => n === 0)); // a later pass finds nothing pending
    await run.stop();
    const first = rx.stats();
    expect(first.uniqueSpans).toBeGreaterThan(0);
    expect(first.duplicateSpans).toBe(0);
    // what a one-shot export of the same store builds (retries and compactions are events, not spans)
    const store = await openStore(db);
    const dry = await exportTraces(store.conn, { dryRun: true, force: true });
    store.close();
    expect(dry.spans).toBeGreaterThan(0);
    expect(first.uniqueSpans).toBe(dry.spans);

    // 2. restart: the ledger says everything was sent
    run = startRun(source, db, rx.url);
    await run.waitFor((r) => r.msg === 'history loaded; watching for changes');
    await run.waitFor(passWith((n) => n === 0));
    expect(rx.stats().spans).toBe(first.spans);

    // 3. a new exchange completes while the bridge runs: its trace arrives, nothing else is resent
    const T = Date.now();
    writeStorage(source, 'session/global/ses_zz_live.json', {
      id: 'ses_zz_live',
      projectID: 'global',
      directory: '/w',
      title: 'live',
      version: '1.1.65',
      time: { created: T, updated: T + 2000 },
    });
    writeStorage(source, 'message/ses_zz_live/msg_zz_u.json', {
      id: 'msg_zz_u',
      sessionID: 'ses_zz_live',
      role: 'user',
      time: { created: T },
      agent: 'build',
      model: { providerID: 'openai', modelID: 'gpt-4o' },
    });
    writeStorage(source, 'message/ses_zz_live/msg_zz_a.json', {
      id: 'msg_zz_a',
      sessionID: 'ses_zz_live',
      role: 'assistant',
      parentID: 'msg_zz_u',
      providerID: 'openai',
      modelID: 'gpt-4o',
      mode: 'build',
      cost: 0.01,
      tokens: { input: 10, output: 5, reasoning: 0, cache: { read: 0, write: 0 } },
      finish: 'stop',
      time: { created: T + 100, completed: T + 2000 },
    });
    await run.waitFor((r) => r.msg === 'exported traces' && Number(r.exchanges) >= 1);
    await run.stop();
    const after = rx.stats();
    expect(after.uniqueSpans).toBeGreaterThan(first.uniqueSpans);
    expect(after.duplicateSpans).toBe(0);
    const live = rx.spans.filter((s) => s.attributes['gen_ai.conversation.id'] === 'ses_zz_live');
    expect(live.length).toBeGreaterThan(0);
  }, 180_000);
});
