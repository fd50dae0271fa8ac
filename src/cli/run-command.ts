/** `ocbridge run`: the main job. Loads history, then follows OpenCode live until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { pino } from 'pino';
import { createApp, disposeApp, type Readiness, startServer } from '../api/server.ts';
import { configuredUrl, PROTOCOLS } from '../otel/exporter.ts';
import { createMetrics } from '../otel/metrics/index.ts';
import { metricExporters, tracesOffReason, tracesOn } from '../otel/switches.ts';
import { LiveBridge } from '../pipeline/live-bridge.ts';
import { LiveTraceExport } from '../pipeline/live-export.ts';
import { BridgeStatus } from '../pipeline/readiness.ts';
import { backupStore } from '../store/backup.ts';
import { defaultDbPath, openStore } from '../store/db.ts';
import { toMetricResults } from '../store/health/index.ts';
import { VERSION } from '../version.ts';
import { localUrl, newCredential, writeBridgeState } from './bridge-client.ts';
import { requireSources } from './first-run.ts';
import { sourceStates, startHealthSchedule } from './health-command.ts';
import { otelSwitchesOrExit } from './otel-switches.ts';
import { addHttpOptions, addWebView, type HttpOptions } from './serve-command.ts';

const metricsInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

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
      new Option('--log-level <level>', 'log level (JSON logs on stderr)')
        .choices(['debug', 'info', 'warn', 'error'])
        .default('info'),
    )
    .action(async (o: RunOptions) => {
      const logger = pino({ level: o.logLevel }, pino.destination(2));
      requireSources(o.source); // no OpenCode data: say so (and offer the demo) before opening anything
      const otel = otelSwitchesOrExit();
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
      const bridge = new LiveBridge(store, { source: o.source, logger });
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
      bridge.on('derived', () => traces?.trigger());
      const health =
        o.healthInterval > 0
          ? startHealthSchedule({
              store,
              intervalMs: o.healthInterval * 1000,
              logger,
              context: () => ({ watchLagMs: bridge.pendingMs, sources: sourceStates(null, o.source) }),
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
        readiness: (): Readiness => ({
          ready: status.ready,
          ingest: { ...status.snapshot() },
          ...(status.ready ? {} : { detail: `bridge is ${status.phase}` }),
        }),
        dataVersion: () => status.dataVersion(),
      });
      addWebView(app, o);
      const server = await startServer(app, { host: o.host, port: o.port });
      const removeState = writeBridgeState(o.db, { url: localUrl(o.host, server.port), credential });
      logger.info({ url: server.url }, 'listening');
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
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
      const t0 = performance.now();
      const summary = await bridge.start();
      logger.info(
        {
          seconds: Number(((performance.now() - t0) / 1000).toFixed(2)),
          filesParsed: summary.filesParsed,
          dbRowsRead: summary.dbRowsRead,
          unchanged: summary.filesSkippedUnchanged,
        },
        'history loaded; watching for changes',
      );
      traces?.start(); // backfills the history once (the ledger remembers), then follows
      await new Promise<void>(() => {}); // runs until a signal
    });
}
