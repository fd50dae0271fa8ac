/**
 * `ocbridge health`: runs the data health checks (src/store/health/) over the store, stores the
 * results, prints them, optionally posts failing ones to Slack; exits 1 when a check fails.
 * `startHealthSchedule` runs the same checks inside `ocbridge run`.
 */
import { hostname } from 'node:os';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { Logger } from 'pino';
import { discoverSources, type Sources } from '../ingest/discover.ts';
import { computePending } from '../otel/ledger.ts';
import { defaultDbPath, type Store } from '../store/db.ts';
import {
  type HealthContext,
  type HealthResult,
  runHealthChecks,
  type SourceState,
  saveHealthResults,
  worstStatus,
} from '../store/health/index.ts';
import { openOrBridge } from './bridge-client.ts';
import { type Config, loadConfig } from './config.ts';
import { formatRows } from './format.ts';
import { notifySlack, type SlackResult } from './notify-slack.ts';

export function sourceStates(sources: Sources | null, source?: string): SourceState[] {
  if (!sources) {
    try {
      sources = discoverSources(source);
    } catch {
      // nothing there: the root itself is reported unreadable
      return [{ path: source ?? discoverRootGuess(), kind: 'root' }];
    }
  }
  const out: SourceState[] = [{ path: sources.root, kind: sources.root.endsWith('.db') ? 'db' : 'root' }];
  if (sources.storageDir && sources.storageDir !== sources.root)
    out.push({ path: sources.storageDir, kind: 'storage' });
  for (const f of sources.dbFiles) if (f !== sources.root) out.push({ path: f, kind: 'db' });
  return out;
}

function discoverRootGuess(): string {
  const base = process.env.XDG_DATA_HOME || `${process.env.HOME ?? ''}/.local/share`;
  return `${base}/opencode`;
}

/** Exchanges waiting for trace export, when the export ledger is in use (else null). */
export async function exportBacklog(conn: DuckDBConnection): Promise<number | null> {
  const used = Number((await conn.runAndReadAll('SELECT count(*) FROM export_ledger')).getRows()[0]?.[0]);
  if (!used) return null;
  return (await computePending(conn, { idleTimeoutMs: 30 * 60_000, batchSpans: 8192 })).exchanges;
}

export function healthSettings(
  config: Config,
): Pick<HealthContext, 'thresholds' | 'unpricedModels' | 'ingestErrorHours'> {
  const thresholds: HealthContext['thresholds'] = {};
  for (const [id, t] of Object.entries(config.health?.thresholds ?? {})) thresholds[id] = t;
  return {
    thresholds,
    unpricedModels: config.health?.unpricedModels ?? [],
    ingestErrorHours: config.health?.ingestErrorHours,
  };
}

export interface HealthRun {
  runId: string;
  status: 'pass' | 'warn' | 'fail';
  results: HealthResult[];
}

/** One health run over a connection: measure, store, return. The connection must not be mid-transaction. */
export async function healthRun(conn: DuckDBConnection, ctx: HealthContext, save = true): Promise<HealthRun> {
  const results = await runHealthChecks(conn, ctx);
  const runId = save ? await saveHealthResults(conn, results, { now: ctx.now }) : '';
  return { runId, status: worstStatus(results), results };
}

const fmtValue = (r: HealthResult) =>
  r.value === null ? '' : Number.isInteger(r.value) ? String(r.value) : r.value.toPrecision(3);
const fmtThreshold = (r: HealthResult) =>
  `${r.direction === 'max' ? '≤' : '≥'} ${r.threshold.warn !== undefined ? `${r.threshold.warn} (warn) / ` : ''}${r.threshold.fail}`;

export function registerHealthCommand(program: Command): void {
  program
    .command('health')
    .description('data health checks over the store; exits 1 when a check fails (docs/operations.md)')
    .option('--db <file>', 'DuckDB store file', defaultDbPath())
    .option('-s, --source <path>', 'the OpenCode source to check for readability (default: the data dir)')
    .addOption(
      new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'),
    )
    .option('--only <ids...>', 'only these checks')
    .option('--no-save', 'do not store the results in health_check_history')
    .addOption(new Option('--notify <channel>', 'post failing checks').choices(['slack']))
    .option(
      '--slack-webhook <url>',
      'Slack incoming webhook (or OCBRIDGE_SLACK_WEBHOOK, health.slackWebhook)',
    )
    .action(
      async (o: {
        db: string;
        source?: string;
        format: 'table' | 'json';
        only?: string[];
        save: boolean;
        notify?: 'slack';
        slackWebhook?: string;
      }) => {
        if (o.notify === 'slack' && !o.slackWebhook)
          throw new Error('--notify slack needs --slack-webhook URL (or OCBRIDGE_SLACK_WEBHOOK)');
        const { config } = loadConfig();
        // A running bridge holds the store: ask it over loopback (it runs the same checks on its own
        // connection, with its live state: watch lag, sources)
        const opened = await openOrBridge(o.db);
        let run: HealthRun | undefined;
        if (opened.bridge) {
          run = await opened.bridge.json<HealthRun>('/internal/health', { method: 'POST' });
          if (o.only) run = { ...run, results: run.results.filter((r) => o.only?.includes(r.id)) };
          run.status = worstStatus(run.results);
        }
        const store = opened.store;
        if (store) {
          try {
            run = await healthRun(
              store.conn,
              {
                ...healthSettings(config),
                sources: sourceStates(null, o.source),
                exportBacklog: await exportBacklog(store.conn),
                only: o.only,
              },
              o.save,
            );
          } finally {
            store.close();
          }
        }
        if (!run) throw new Error('no health results');
        let notified: SlackResult | null = null;
        if (o.notify === 'slack' && o.slackWebhook) {
          notified = await notifySlack(run.results, {
            webhook: o.slackWebhook,
            origin: `${hostname()}:${o.db}`,
          });
          if (notified && !notified.ok)
            console.error(
              `ocbridge: Slack notification failed after ${notified.attempts} attempts: ${notified.error}`,
            );
        }
        if (o.format === 'json') {
          process.stdout.write(`${JSON.stringify({ ...run, notified }, null, 2)}\n`);
        } else {
          const rows = run.results.map((r) => ({
            check: r.id,
            result: r.status.toUpperCase(),
            value: fmtValue(r),
            threshold: fmtThreshold(r),
            explanation: r.explanation,
          }));
          process.stdout.write(`${formatRows(rows, 'table')}\n`);
          const n = (s: string) => run.results.filter((r) => r.status === s).length;
          process.stdout.write(`${n('pass')} pass, ${n('warn')} warn, ${n('fail')} fail\n`);
          if (notified?.ok) process.stdout.write('failing checks posted to Slack\n');
        }
        if (run.status === 'fail' || (notified && !notified.ok)) process.exitCode = 1;
      },
    );
}

export interface HealthScheduleOptions {
  store: Store;
  intervalMs: number;
  logger?: Logger;
  /** live state at the time of each run */
  context: () => Partial<HealthContext>;
  config?: Config;
  /** each run's results (the /metrics side: recordHealth(toMetricResults(results))) */
  onResults?: (results: HealthResult[]) => void;
  slackWebhook?: string;
}

/**
 * Runs the checks every `intervalMs` on a connection of its own (never the writer's), stores and
 * logs them; posts to Slack when the set of failing checks changes to a non-empty one.
 */
export function startHealthSchedule(o: HealthScheduleOptions): {
  stop(): Promise<void>;
  runNow(): Promise<HealthRun>;
} {
  let conn: DuckDBConnection | null = null;
  let running: Promise<HealthRun> | null = null;
  let lastFailing = '';
  let stopped = false;
  const config = o.config ?? loadConfig().config;
  const slackWebhook = o.slackWebhook ?? config.health?.slackWebhook;
  const once = async (): Promise<HealthRun> => {
    conn ??= await o.store.instance.connect();
    const run = await healthRun(conn, {
      ...healthSettings(config),
      exportBacklog: await exportBacklog(conn),
      ...o.context(),
    });
    const failing = run.results.filter((r) => r.status === 'fail');
    o.logger?.[run.status === 'fail' ? 'warn' : 'info'](
      { status: run.status, failing: failing.map((r) => `${r.id}: ${r.explanation}`) },
      'health checks',
    );
    o.onResults?.(run.results);
    const key = failing.map((r) => r.id).join(',');
    if (slackWebhook && key !== '' && key !== lastFailing) {
      const sent = await notifySlack(run.results, { webhook: slackWebhook, origin: hostname() });
      if (sent && !sent.ok) o.logger?.warn({ error: sent.error }, 'Slack notification failed');
    }
    lastFailing = key;
    return run;
  };
  const runNow = () => {
    running ??= once().finally(() => {
      running = null;
    });
    return running;
  };
  const timer = setInterval(() => {
    if (!stopped) runNow().catch((e: Error) => o.logger?.error({ err: e }, 'health checks failed to run'));
  }, o.intervalMs);
  timer.unref();
  return {
    runNow,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => {});
      conn?.closeSync();
      conn = null;
    },
  };
}
