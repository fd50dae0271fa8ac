/**
 * A real Prometheus (Debian binary, loopback, own config and data dir, scrape_interval 1s) scrapes a
 * real `ocbridge run` that loaded a generated corpus: the totals are right, loading history is no
 * spike in increase(), a restart does not double count, and new live data is all increase() sees.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCorpus, type Manifest } from '../src/gen/index.ts';
import { tempDir, writeStorage } from './support/datadir.ts';

const BIN = fileURLToPath(new URL('../bin/ocbridge.js', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

interface Bridge {
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<number | null>;
  log: () => string;
}

function startBridge(dir: string, db: string, port: number): Bridge {
  const child = spawn(
    process.execPath,
    [BIN, 'run', '--source', dir, '--db', db, '--port', String(port), '--metrics-refresh', '200'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let buf = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr?.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('history loaded')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`ocbridge run exited (${code}): ${buf}`)));
  });
  ready.catch(() => {});
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, ready, exited, log: () => buf };
}

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} ${last ? String(last) : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('Prometheus scrapes ocbridge run', () => {
  let dir: string;
  let manifest: Manifest;
  let prom: ChildProcess | null = null;
  let promUrl = '';
  let bridge: Bridge | null = null;
  let port = 0;

  const query = async (q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> => {
    const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await r.json()) as { status: string; data: { result: never[] }; error?: string };
    if (body.status !== 'success') throw new Error(`${q}: ${body.error}`);
    return body.data.result;
  };
  const scalar = async (q: string): Promise<number | undefined> => {
    const r = await query(q);
    return r[0] ? Number(r[0].value[1]) : undefined;
  };
  /** waits until Prometheus has a sample of `q` scraped after `t` (unix s) */
  const scrapedAfter = (t: number) =>
    until('a scrape of the new process', async () => {
      const v = await scalar('max(timestamp(opencode_tokens_total))');
      return v !== undefined && v > t + 0.5 ? v : undefined;
    });

  beforeAll(async () => {
    dir = tempDir('ocb-prom-');
    manifest = await generateCorpus({ out: join(dir, 'data'), sessions: 6, seed: 'prom', layout: 'json' });
    port = await freePort();
    const promPort = await freePort();
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: ocbridge\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\n`,
    );
    execFileSync('promtool', ['check', 'config', join(dir, 'prometheus.yml')]);
    bridge = startBridge(join(dir, 'data'), join(dir, 'store.duckdb'), port);
    prom = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'prom')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: 'ignore' },
    );
    promUrl = `http://127.0.0.1:${promPort}`;
    await bridge.ready;
  }, 60_000);

  afterAll(async () => {
    bridge?.child.kill('SIGKILL');
    prom?.kill('SIGTERM');
  });

  it('has the corpus totals; loading history is no spike in increase()', async () => {
    const input = await until('token totals in Prometheus', async () => {
      const v = await scalar('sum(opencode_tokens_total{type="input"})');
      return v === manifest.totals.tokens.input ? v : undefined;
    });
    expect(input).toBe(manifest.totals.tokens.input);
    expect(await scalar('sum(opencode_tokens_total{type="cache_read"})')).toBe(
      manifest.totals.tokens.cache_read,
    );
    expect(await scalar('sum(opencode_sessions_total)')).toBe(manifest.totals.sessions);
    expect(await scalar('sum(opencode_cost_usd_total{kind="recorded"})')).toBeCloseTo(
      manifest.totals.cost,
      6,
    );
    // a few more scrapes: the history is there, but increase() sees nothing
    await until('three scrapes', async () => {
      const n = await scalar('count_over_time(sum(opencode_tokens_total)[1m:1s])');
      return n !== undefined && n >= 3 ? n : undefined;
    });
    expect(await scalar('sum(increase(opencode_tokens_total[1m]))')).toBe(0);
    expect(await scalar('sum(increase(gen_ai_client_token_usage_count[1m]))')).toBe(0);
    // the scrape used OpenMetrics (Prometheus asks for it) and worked: the bridge's own series are there
    expect(await scalar('up{job="ocbridge"}')).toBe(1);
    expect(await scalar('opencode_bridge_build_info')).toBe(1);
  }, 40_000);

  it('a restart continues every series: no double count, no reset', async () => {
    const before = await scalar('sum(opencode_tokens_total)');
    bridge?.child.kill('SIGTERM');
    expect(await bridge?.exited).toBe(0);
    const t = Date.now() / 1000;
    bridge = startBridge(join(dir, 'data'), join(dir, 'store.duckdb'), port);
    await bridge.ready;
    await scrapedAfter(t);
    expect(await scalar('sum(opencode_tokens_total)')).toBe(before);
    expect(await scalar('sum(resets(opencode_tokens_total[2m]))')).toBe(0);
    expect(await scalar('sum(increase(opencode_tokens_total[2m]))')).toBe(0);
    expect(await scalar('sum(increase(opencode_sessions_total[2m]))')).toBe(0);
    expect(await scalar('sum(resets(gen_ai_client_operation_duration_seconds_count[2m]))')).toBe(0);
  }, 40_000);

  it('live data is what increase() sees', async () => {
    const before = (await scalar('sum(opencode_tokens_total{type="input"})')) as number;
    const project = 'live-project';
    const now = Date.now();
    const data = join(dir, 'data');
    writeStorage(data, `session/${project}/ses_live1.json`, {
      id: 'ses_live1',
      projectID: project,
      title: 'live',
      directory: '/w/live',
      version: '1.1.40',
      time: { created: now, updated: now },
    });
    writeStorage(data, 'message/ses_live1/msg_live_u.json', {
      id: 'msg_live_u',
      sessionID: 'ses_live1',
      role: 'user',
      time: { created: now },
    });
    writeStorage(data, 'message/ses_live1/msg_live_a.json', {
      id: 'msg_live_a',
      sessionID: 'ses_live1',
      role: 'assistant',
      parentID: 'msg_live_u',
      providerID: 'anthropic',
      modelID: 'claude-live-test',
      agent: 'build',
      mode: 'build',
      cost: 0.5,
      time: { created: now + 10, completed: now + 2000 },
      tokens: { input: 1234, output: 100, reasoning: 0, cache: { read: 0, write: 0 } },
      finish: 'stop',
    });
    const after = await until('the live tokens in Prometheus', async () => {
      const v = await scalar('sum(opencode_tokens_total{type="input"})');
      return v !== undefined && v > before ? v : undefined;
    });
    expect(after - before).toBe(1234);
    expect(await scalar('sum(opencode_tokens_total{type="input",model="claude-live-test"})')).toBe(1234);
    // increase() over the window sees the live tokens (with Prometheus' extrapolation), not the history
    const inc = (await scalar('sum(increase(opencode_tokens_total{type="input"}[1m]))')) as number;
    expect(inc).toBeGreaterThanOrEqual(1234);
    expect(inc).toBeLessThan(1234 * 1.5);
    expect(await scalar('sum(increase(opencode_sessions_total[1m]))')).toBeGreaterThanOrEqual(1);
    expect(await scalar('sum(increase(opencode_sessions_total[1m]))')).toBeLessThan(1.5);
    // the alert rules' "changes seen but not ingested": caught up, so not positive
    const behind = await scalar(
      'time() - opencode_bridge_watch_lag_seconds - opencode_bridge_last_ingest_timestamp_seconds',
    );
    expect(behind).toBeDefined();
    expect(behind as number).toBeLessThan(3);
    expect(
      await scalar('sum(opencode_bridge_rows_ingested_total{table="messages",source="json"})'),
    ).toBeGreaterThanOrEqual(2);
  }, 40_000);
});
