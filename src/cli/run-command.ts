/** `ocbridge run`: the main job. Loads history, then follows OpenCode live until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { pino } from 'pino';
import { createApp, disposeApp, type Readiness, startServer } from '../api/server.ts';
import { configuredUrl, PROTOCOLS } from '../otel/exporter.ts';
import { createMetrics } from '../otel/metrics/index.ts';
import { metricExporters, tracesOffReason, tracesOn } from '../otel/switches.ts';
import type { Progress } from '../pipeline/ingestor.ts';
import { LiveBridge } from '../pipeline/live-bridge.ts';
import { LiveTraceExport } from '../pipeline/live-export.ts';
import { failCommitsFromEnv, type LiveStatus } from '../pipeline/live-status.ts';
import { BridgeStatus } from '../pipeline/readiness.ts';
import { backupStore } from '../store/backup.ts';
import { defaultDbPath, openStore } from '../store/db.ts';
import { toMetricResults } from '../store/health/index.ts';
import { VERSION } from '../version.ts';
import { localUrl, newCredential, writeBridgeState } from './bridge-client.ts';
import { banner, isPretty, loadProgress, prettyLogStream, StatusLine, tildify } from './console.ts';
import { requireSources } from './first-run.ts';
import { sourceStates, startHealthSchedule } from './health-command.ts';
import { dbArg } from './ingest-output.ts';
import { sessionEvents } from './live-events.ts';
import { otelSwitchesOrExit } from './otel-switches.ts';
import { requireOpenCodeDatabases, requirePortFree } from './preflight.ts';
import { addHttpOptions, addWebView, type HttpOptions } from './serve-command.ts';

const metricsInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

/** Exit code of `run` when the store cannot apply changes any more (EX_TEMPFAIL: restart me). */
export const EXIT_RESTART = 75;

/** The live status as /api/health shows it (snake_case, seconds, ISO times). */
export function liveStatusJson(s: LiveStatus): Record<string, unknown> {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    pending_changes: s.pendingChanges,
    oldest_pending_s: Math.round(s.oldestPendingMs / 100) / 10,
    failing_since: iso(s.failingSince),
    consecutive_failures: s.consecutiveFailures,
    last_error: s.lastError,
    retry_in_s: Math.round(s.retryInMs / 100) / 10,
    derive_pending: s.derivePending,
    derive_failing_since: iso(s.deriveFailingSince),
    derive_last_error: s.deriveLastError,
    fatal: s.fatal,
  };
}

interface RunOptions extends HttpOptions {
  source?: string;
  db: string;
  otlpEndpoint?: string;
  otlpProtocol?: string;
  captureContent?: boolean;
  traceExport: boolean;
  logLevel: string;
  healthInterval: number;
  metricsTopN: number;
  metricsOtlpEndpoint?: string;
  metricsRefresh: number;
}

export function registerRunCommand(program: Command): void {
  const cmd = program
    .command('run')
    .description('load all OpenCode history, then follow OpenCode live (the main job)')
    .option(
      '-s, --source <path>',
      'OpenCode data dir, a storage/ folder or an opencode.db file (default: $XDG_DATA_HOME/opencode)',
    )
    .option('--db <file>', 'DuckDB store file', defaultDbPath());
  addHttpOptions(cmd)
    .option(
      '--otlp-endpoint <url>',
      'export every complete exchange as a trace to this OTLP/HTTP collector (default: OTEL_EXPORTER_OTLP_*; off when unset)',
    )
    .addOption(
      new Option('--otlp-protocol <protocol>', 'OTLP protocol (default http/protobuf)').choices(PROTOCOLS),
    )
    .option('--capture-content', 'also export prompts, outputs and tool arguments in traces (truncated)')
    .option('--no-trace-export', 'do not export traces even if OTEL_EXPORTER_OTLP_* is set')
    .option(
      '--health-interval <seconds>',
      'run the health checks this often (0: never)',
      (v) => Number(v),
      300,
    )
    .option(
      '--metrics-top-n <n>',
      'distinct project, model and agent label values on /metrics (rest: other)',
      metricsInt,
      20,
    )
    .addOption(
      new Option(
        '--metrics-otlp-endpoint <url>',
        'also push metrics over OTLP/HTTP to this URL (…/v1/metrics)',
      ).env('OCBRIDGE_METRICS_OTLP_ENDPOINT'),
    )
    .option(
      '--metrics-refresh <ms>',
      'recompute usage metrics from the store at most this often',
      metricsInt,
      15_000,
    )
    .addOption(
      new Option('--log-level <level>', 'log level')
        .choices(['debug', 'info', 'warn', 'error'])
        .default('info'),
    )
    .action(async (o: RunOptions) => {
      const pretty = isPretty(o.logFormat);
      const line = new StatusLine();
      const logger = pino({ level: o.logLevel }, pretty ? prettyLogStream(line) : pino.destination(2));
      // what can fail is checked before the store file is created
      requireOpenCodeDatabases(requireSources(o.source)); // no OpenCode data: say so (and offer the demo)
      const otel = otelSwitchesOrExit();
      await requirePortFree(o.host, o.port);
      const store = await openStore(o.db);
      const exporters = metricExporters(otel, o.metricsOtlpEndpoint !== undefined);
      const metrics = createMetrics(store, {
        version: VERSION,
        topN: o.metricsTopN,
        ...exporters,
        otlpEndpoint: o.metricsOtlpEndpoint,
        otlpIntervalMs: otel.metricIntervalMs,
        otlpTimeoutMs: otel.metricTimeoutMs,
        refreshIntervalMs: o.metricsRefresh,
        onError: (err) => logger.warn({ err }, 'metrics'),
      });
      // the events read through a connection of their own: the bridge's is busy with its own transactions
      const events = sessionEvents(await store.instance.connect(), (text) => line.print(text));
      // live changes report progress too: only the history load is shown as progress
      const whileLoading =
        (f: (p: Progress) => void) =>
        (p: Progress): void => {
          if (status.phase === 'loading') f(p);
        };
      const bridge = new LiveBridge(store, {
        source: o.source,
        logger,
        beforeCommit: failCommitsFromEnv(),
        onProgress: pretty ? whileLoading(loadProgress(line)) : undefined,
      });
      metrics.attach(bridge);
      const off = tracesOffReason(otel);
      if (off) logger.info(`${off}: no traces exported`);
      const traces =
        off === undefined &&
        tracesOn(otel, o.traceExport, configuredUrl({ endpoint: o.otlpEndpoint }) !== undefined)
          ? new LiveTraceExport(store, {
              endpoint: o.otlpEndpoint,
              protocol: o.otlpProtocol,
              captureContent: o.captureContent,
              logger,
            })
          : null;
      // what /api/health reports, and the version the API's response cache is keyed by
      const status = new BridgeStatus(bridge);
      bridge.on('applied', (a) => logger.debug(a, 'applied changes'));
      bridge.on('derived', (_n: number, sessions: ReadonlySet<string>) => {
        traces?.trigger();
        if (pretty && status.phase === 'live') void events.changed(sessions).catch(() => {});
      });
      const health =
        o.healthInterval > 0
          ? startHealthSchedule({
              store,
              intervalMs: o.healthInterval * 1000,
              logger,
              context: () => {
                const live = bridge.status;
                return {
                  watchLagMs: live.oldestPendingMs,
                  pendingChanges: live.pendingChanges,
                  applyError: live.lastError ?? live.deriveLastError,
                  sources: sourceStates(null, o.source),
                };
              },
              onResults: (r) => metrics.recordHealth(toMetricResults(r)),
            })
          : null;
      bridge.once('ready', () => void health?.runNow().catch(() => {}));
      const credential = newCredential();
      const app = createApp({
        store,
        logger,
        mode: 'run',
        metrics,
        onRequest: metrics.onRequest,
        apiToken: o.apiToken,
        allowedHosts: o.allowedHost,
        enableSql: o.enableSql,
        corsOrigin: o.corsOrigin,
        localCredential: credential,
        internalBackup: (out) => backupStore(store, out),
        internalHealth: async () => {
          if (!health) throw new Error('health checks are off (--health-interval 0)');
          return health.runNow();
        },
        readiness: (): Readiness => {
          const live = bridge.status;
          return {
            ready: status.ready,
            degraded: live.degraded,
            ingest: { ...status.snapshot(), ...liveStatusJson(live) },
            ...(status.ready ? {} : { detail: `bridge is ${status.phase}` }),
          };
        },
        dataVersion: () => status.dataVersion(),
      });
      addWebView(app, o);
      const server = await startServer(app, { host: o.host, port: o.port });
      const removeState = writeBridgeState(o.db, { url: localUrl(o.host, server.port), credential });
      if (pretty)
        line.print(
          `${banner(`ocbridge ${VERSION} · following OpenCode (Ctrl-C stops)`, [
            ['API', `${localUrl(o.host, server.port)}/api/health`],
            ['metrics', `${localUrl(o.host, server.port)}/metrics`],
            [
              'traces',
              traces ? `→ ${configuredUrl({ endpoint: o.otlpEndpoint })}` : 'off (--otlp-endpoint URL)',
            ],
            ['store', tildify(o.db)],
            ['report', `ocbridge report${dbArg(o.db)}   (while this runs, it asks this process)`],
          ])}\n`,
        );
      else logger.info({ url: server.url }, 'listening');
      let stopping: Promise<void> | null = null;
      const stop = (signal: string) => {
        stopping ??= (async () => {
          logger.info({ signal }, 'stopping');
          // a second signal, or 5 s, ends the process whatever is left
          const force = setTimeout(() => process.exit(1), 5000);
          force.unref();
          status.stopping();
          await health?.stop();
          await bridge.stop();
          await traces?.stop();
          await server.close();
          await metrics.shutdown();
          removeState();
          disposeApp(app);
          store.close();
          logger.info('stopped');
          logger.flush();
          process.exit(0);
        })();
        return stopping;
      };
      // DuckDB is unusable (invalidated) or applying failed for too long: exit for the supervisor to
      // restart; the restart catches up from the store's checkpoints (nothing applied is lost)
      bridge.once('fatal', (err) => {
        status.failed();
        logger.fatal({ err, exitCode: EXIT_RESTART }, 'exiting: restart me to catch up');
        removeState();
        logger.flush();
        setTimeout(() => process.exit(EXIT_RESTART), 200).unref();
      });
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
      const t0 = performance.now();
      let summary: Awaited<ReturnType<LiveBridge['start']>>;
      try {
        summary = await bridge.start();
      } catch (err) {
        // the API keeps the process alive: without this it would stay "starting" for ever
        line.clear();
        status.failed();
        logger.fatal({ err }, 'loading the history failed');
        removeState();
        logger.flush();
        process.exit(1);
      }
      line.clear();
      const loaded = {
        seconds: Number(((performance.now() - t0) / 1000).toFixed(2)),
        filesParsed: summary.filesParsed,
        dbRowsRead: summary.dbRowsRead,
        unchanged: summary.filesSkippedUnchanged,
      };
      if (pretty)
        line.print(
          `${new Date().toTimeString().slice(0, 8)} history loaded in ${loaded.seconds} s; watching for changes\n` +
            `         (${loaded.filesParsed} files parsed, ${loaded.unchanged} unchanged, ${loaded.dbRowsRead} database rows)`,
        );
      else logger.info(loaded, 'history loaded; watching for changes');
      traces?.start(); // backfills the history once (the ledger remembers), then follows
      await new Promise<void>(() => {}); // runs until a signal
    });
}
