/** `ocbridge run`: the main job. Loads history, then follows OpenCode live until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { pino } from 'pino';
import { createApp, startServer } from '../api/server.ts';
import { createMetrics } from '../otel/metrics/index.ts';
import { defaultDbPath, openStore } from '../store/db.ts';
import { LiveBridge } from './live-job.ts';
import { VERSION } from './version.ts';

const metricsInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('load all OpenCode history, then follow OpenCode live (the main job)')
    .option(
      '-s, --source <path>',
      'OpenCode data dir, a storage/ folder or an opencode.db file (default: $XDG_DATA_HOME/opencode)',
    )
    .option('--db <file>', 'DuckDB store file', defaultDbPath())
    .option('--host <host>', 'HTTP server address (API, /metrics)', '127.0.0.1')
    .option('--port <port>', 'HTTP server port (0: any free port)', (v) => Number(v), 9464)
    .addOption(
      new Option('--api-token <token>', 'bearer token required by the API').env('OCBRIDGE_API_TOKEN'),
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
    .action(
      async (o: {
        source?: string;
        db: string;
        host: string;
        port: number;
        apiToken?: string;
        logLevel: string;
        metricsTopN: number;
        metricsOtlpEndpoint?: string;
        metricsRefresh: number;
      }) => {
        const logger = pino({ level: o.logLevel }, pino.destination(2));
        const store = await openStore(o.db);
        const metrics = createMetrics(store, {
          version: VERSION,
          topN: o.metricsTopN,
          otlpEndpoint: o.metricsOtlpEndpoint,
          refreshIntervalMs: o.metricsRefresh,
          onError: (err) => logger.warn({ err }, 'metrics'),
        });
        const app = createApp({ store, apiToken: o.apiToken, metrics, onRequest: metrics.onRequest });
        const server = await startServer(app, {
          host: o.host,
          port: o.port,
        });
        logger.info({ url: server.url }, 'listening');
        const bridge = new LiveBridge(store, { source: o.source, logger });
        metrics.attach(bridge);
        bridge.on('applied', (a) => logger.debug(a, 'applied changes'));
        let stopping: Promise<void> | null = null;
        const stop = (signal: string) => {
          stopping ??= (async () => {
            logger.info({ signal }, 'stopping');
            // a second signal, or 5 s, ends the process whatever is left
            const force = setTimeout(() => process.exit(1), 5000);
            force.unref();
            await bridge.stop();
            await server.close();
            await metrics.shutdown();
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
        await new Promise<void>(() => {}); // runs until a signal
      },
    );
}
