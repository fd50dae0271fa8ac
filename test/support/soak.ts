/**
 * A soak run of `ocbridge run` (the real CLI, a child process): a data dir starts with the oldest part
 * of a generated corpus, the rest arrives at a fixed rate (JSON files and SQLite rows, parts updated
 * in place, then rewrites of parts once the corpus is used up), with concurrent API reads, and
 * optionally a kill -9 halfway and a restart. At the end the store is compared with a clean ingest of
 * the same data dir. Used by test/hostile/soak.test.ts (short) and bench/soak.ts (long).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openStore } from '../../src/store/db.ts';
import { splitCorpus, type TrafficItem, TrafficWriter } from './live-traffic.ts';
import { OCBRIDGE_BIN } from './ocbridge-cli.ts';
import { REPO_ROOT } from './opencode-install.ts';
import { storeSnapshot } from './snapshot.ts';

export interface SoakOptions {
  corpus: string;
  dir: string;
  /** items written per second */
  rate: number;
  seconds: number;
  killHalfway?: boolean;
  bigOutputs?: { count: number; bytes: number };
  log?: (line: string) => void;
}

export interface HealthSample {
  t: number;
  status: string;
  pending: number;
  oldestS: number;
  failing: boolean;
}

export interface SoakResult {
  written: number;
  peakRssMb: number;
  samples: HealthSample[];
  /** samples where changes failed or waited over 30 s but the status was not `degraded` */
  notDegraded: HealthSample[];
  degradedSamples: number;
  apiReads: number;
  apiErrors: number;
  /** `status path` of each 5xx answer */
  apiErrorDetail: string[];
  exitCode: number | null;
  live: Record<string, { n: number; h: string }>;
  clean: Record<string, { n: number; h: string }>;
  catchUpSeconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A rewrite of a part item (a new revision of its text or tool output), as OpenCode updates parts. */
function revision(item: TrafficItem, rev: number): TrafficItem | null {
  const edit = (p: Record<string, unknown>) => {
    const state = p.state as Record<string, unknown> | undefined;
    if (state && typeof state.output === 'string') state.output = `${state.output.slice(0, 4000)} rev ${rev}`;
    else if (typeof p.text === 'string') p.text = `${p.text.slice(0, 4000)} rev ${rev}`;
    else return null;
    return p;
  };
  if (item.kind === 'file' && item.rel.startsWith('part/')) {
    const p = edit(JSON.parse(item.text));
    return p ? { ...item, text: JSON.stringify(p, null, 2) } : null;
  }
  if (item.kind === 'row' && item.table === 'part') {
    const p = edit(JSON.parse(String(item.row.data)));
    return p ? { ...item, row: { ...item.row, data: JSON.stringify(p) } } : null;
  }
  return null;
}

/** `ocbridge run` as a child process (port 0; the URL is read from its log). */
export class BridgeProcess {
  proc: ChildProcess | null = null;
  url = '';
  peakKb = 0;
  private stderrTail = '';

  constructor(
    private readonly dir: string,
    private readonly db: string,
    private readonly log: (l: string) => void = () => {},
    private readonly env: Record<string, string> = {},
    private readonly args: string[] = [],
  ) {}

  /** The exit code once the process ended (waits at most `ms`; undefined: still running). */
  exited(ms: number): Promise<number | null | undefined> {
    const p = this.proc;
    if (!p) return Promise.resolve(undefined);
    if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve(p.exitCode);
    return new Promise((r) => {
      const t = setTimeout(() => r(undefined), ms);
      p.once('exit', (code) => {
        clearTimeout(t);
        r(code);
      });
    });
  }

  async health(): Promise<{ status: string; ready: boolean; ingest?: Record<string, unknown> }> {
    return (await (await fetch(`${this.url}/api/health`)).json()) as {
      status: string;
      ready: boolean;
      ingest?: Record<string, unknown>;
    };
  }

  /** Waits until the history is loaded (`ready`). */
  async ready(timeoutMs = 120_000): Promise<void> {
    const t0 = performance.now();
    while (!(await this.health()).ready) {
      if (performance.now() - t0 > timeoutMs) throw new Error('the bridge did not become ready');
      await sleep(100);
    }
  }

  /** Waits until /api/health is ok with nothing pending and nothing left to derive. */
  async caughtUp(timeoutMs = 120_000): Promise<void> {
    const t0 = performance.now();
    for (;;) {
      let j: Awaited<ReturnType<BridgeProcess['health']>>;
      try {
        j = await this.health();
      } catch (e) {
        // a reused keep-alive connection the server just closed fails once: only a dead process counts
        const p = this.proc;
        const how = p?.exitCode ?? p?.signalCode;
        if (how !== null && how !== undefined)
          throw new Error(`ocbridge run is gone (${how}): ${this.stderrTail.slice(-1500)}`);
        if (performance.now() - t0 > timeoutMs) throw e;
        await sleep(250);
        continue;
      }
      if (
        j.status === 'ok' &&
        Number(j.ingest?.pending_changes ?? 0) === 0 &&
        j.ingest?.derive_pending === false
      )
        return;
      if (performance.now() - t0 > timeoutMs)
        throw new Error(`the bridge did not catch up: ${JSON.stringify(j)}`);
      await sleep(250);
    }
  }

  async start(): Promise<void> {
    const proc = spawn(
      process.execPath,
      [
        '--max-semi-space-size=64',
        '--expose-gc',
        OCBRIDGE_BIN,
        'run',
        '--source',
        this.dir,
        '--db',
        this.db,
        '--port',
        '0',
        '--health-interval',
        '0',
        '--no-trace-export',
        '--log-level',
        'info',
        ...this.args,
      ],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, MALLOC_ARENA_MAX: '2', ...this.env },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    this.proc = proc;
    this.url = '';
    let buf = '';
    proc.stderr?.on('data', (d: Buffer) => {
      buf += d.toString();
      this.stderrTail = (this.stderrTail + d.toString()).slice(-4000);
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          const j = JSON.parse(line) as { msg?: string; url?: string; level?: number };
          if (j.msg === 'listening' && j.url) this.url = j.url;
          if ((j.level ?? 0) >= 40) this.log(`bridge: ${line.slice(0, 300)}`);
        } catch {
          this.log(`bridge: ${line.slice(0, 300)}`);
        }
      }
    });
    const t0 = performance.now();
    while (!this.url) {
      if (proc.exitCode !== null) throw new Error(`ocbridge run exited ${proc.exitCode}: ${this.stderrTail}`);
      if (performance.now() - t0 > 120_000)
        throw new Error(`ocbridge run did not listen: ${this.stderrTail}`);
      await sleep(50);
    }
  }

  sampleRss(): void {
    const pid = this.proc?.pid;
    if (!pid || this.proc?.exitCode !== null) return;
    try {
      const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) this.peakKb = Math.max(this.peakKb, Number(m[1]));
    } catch {
      // exited meanwhile
    }
  }

  kill9(): Promise<void> {
    this.sampleRss();
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
    return new Promise((r) => {
      p.once('exit', () => r());
      p.kill('SIGKILL');
    });
  }

  stop(): Promise<number | null> {
    this.sampleRss();
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve(p?.exitCode ?? null);
    return new Promise((r) => {
      p.once('exit', (code) => r(code));
      p.kill('SIGTERM');
    });
  }
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const log = o.log ?? (() => {});
  const db = join(o.dir, 'store.duckdb');
  const items = splitCorpus(o.corpus, o.dir, { loaded: 0.9, updateEvery: 5, bigOutputs: o.bigOutputs });
  const bridge = new BridgeProcess(o.dir, db, log);
  try {
    return await soakWith(bridge, o, items, db, log);
  } finally {
    await bridge.kill9(); // never outlives the run (no-op after its SIGTERM exit)
  }
}

async function soakWith(
  bridge: BridgeProcess,
  o: SoakOptions,
  items: TrafficItem[],
  db: string,
  log: (l: string) => void,
): Promise<SoakResult> {
  const parts = items.filter((i) => (i.kind === 'file' ? i.rel.startsWith('part/') : i.table === 'part'));
  const writer = new TrafficWriter(o.dir);
  await bridge.start();
  log(`bridge listening at ${bridge.url}; ${items.length} items held back`);

  const result = { samples: [] as HealthSample[], apiReads: 0, apiErrors: 0, apiErrorDetail: [] as string[] };
  let done = false;
  const readers = [
    (async () => {
      while (!done) {
        try {
          const r = await fetch(`${bridge.url}/api/health`);
          const j = (await r.json()) as { status: string; ingest?: Record<string, unknown> };
          const pending = Number(j.ingest?.pending_changes ?? 0);
          const failing = Boolean(j.ingest?.failing_since || j.ingest?.derive_failing_since);
          const oldestS = Number(j.ingest?.oldest_pending_s ?? 0);
          result.samples.push({ t: Date.now(), status: j.status, pending, oldestS, failing });
        } catch {
          // restarting
        }
        await sleep(200);
      }
    })(),
    ...['/api/sessions?limit=20', '/api/usage', '/metrics'].map((path) =>
      (async () => {
        while (!done) {
          try {
            const r = await fetch(`${bridge.url}${path}`);
            await r.arrayBuffer();
            result.apiReads++;
            if (r.status >= 500) {
              result.apiErrors++;
              result.apiErrorDetail.push(`${r.status} ${path}`);
            }
          } catch {
            // restarting
          }
          await sleep(300);
        }
      })(),
    ),
  ];
  const rss = setInterval(() => bridge.sampleRss(), 500);

  // the traffic: held-back items first, then revisions of parts
  const total = Math.round(o.rate * o.seconds);
  let k = 0;
  const t0 = performance.now();
  let killed = !o.killHalfway;
  while (k < total) {
    const elapsed = (performance.now() - t0) / 1000;
    const due = Math.min(total, Math.floor(elapsed * o.rate) + 1);
    while (k < due) {
      const item =
        k < items.length ? items[k] : revision(parts[k % Math.max(1, parts.length)] as TrafficItem, k);
      if (item) writer.write(item);
      k++;
    }
    if (!killed && elapsed >= o.seconds / 2) {
      killed = true;
      log(`kill -9 at ${elapsed.toFixed(1)} s (${k} items written)`);
      await bridge.kill9();
      await bridge.start();
      log(`restarted at ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    await sleep(10);
  }
  writer.close();
  log(`${k} items written in ${((performance.now() - t0) / 1000).toFixed(1)} s; waiting for the bridge`);

  // caught up: health ok with nothing pending, and the derivation queue empty
  const tw = performance.now();
  await bridge.caughtUp(300_000);
  const catchUpSeconds = (performance.now() - tw) / 1000;
  done = true;
  await Promise.all(readers);
  clearInterval(rss);
  const exitCode = await bridge.stop();

  const live = await snapshotOf(db);
  const clean = await cleanSnapshot(o.dir);
  // pending after a failure, or for longer than the degraded threshold (30 s): must say degraded
  const notDegraded = result.samples.filter((s) => (s.failing || s.oldestS > 30) && s.status !== 'degraded');
  return {
    written: k,
    peakRssMb: Math.round(bridge.peakKb / 1024),
    samples: result.samples,
    notDegraded,
    degradedSamples: result.samples.filter((s) => s.status === 'degraded').length,
    apiReads: result.apiReads,
    apiErrors: result.apiErrors,
    apiErrorDetail: result.apiErrorDetail,
    exitCode,
    live,
    clean,
    catchUpSeconds,
  };
}

/** Entity tables and the main derived tables (counts and content hashes). */
export const SOAK_TABLES = [
  'projects',
  'sessions',
  'messages',
  'parts',
  'tool_calls',
  'todos',
  'session_diffs',
  'exchanges',
];

/** A clean `ocbridge ingest` of the data dir into a new store, and its snapshot. */
export async function cleanSnapshot(dir: string): Promise<Record<string, { n: number; h: string }>> {
  const cleanDb = join(dir, `clean-${process.pid}-${Date.now()}.duckdb`);
  await promisify(execFile)(process.execPath, [OCBRIDGE_BIN, 'ingest', '--source', dir, '--db', cleanDb], {
    cwd: REPO_ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  return snapshotOf(cleanDb);
}

export async function snapshotOf(db: string): Promise<Record<string, { n: number; h: string }>> {
  const store = await openStore(db, { readOnly: true });
  try {
    return await storeSnapshot(store, SOAK_TABLES);
  } finally {
    store.close();
  }
}
