/** `ocbridge run`: the main job. Loads history, then follows OpenCode live until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import { Option } from 'commander';
import { pino } from 'pino';
import { createApp, startServer } from '../api/server.ts';
import { PROTOCOLS } from '../otel/exporter.ts';
import { defaultDbPath, openStore } from '../store/db.ts';
import { requireSources } from './first-run.ts';
import { sourceStates, startHealthSchedule } from './health-command.ts';
import { exportConfigured, LiveTraceExport } from './live-export.ts';
import { LiveBridge } from './live-job.ts';

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
      '--otlp-endpoint <url>',
      'export every complete exchange as a trace to this OTLP/HTTP collector (default: OTEL_EXPORTER_OTLP_*; off when unset)',
    )
    .addOption(
      new Option('--otlp-protocol <protocol>', 'OTLP protocol (default http/protobuf)').choices(PROTOCOLS),
    )
    .option('--capture-content', 'also export prompts, outputs and tool arguments in traces (truncated)')
    .option('--no-trace-export', 'do not export traces even if OTEL_EXPORTER_OTLP_* is set')
    .addOption(
      new Option('--log-level <level>', 'log level (JSON logs on stderr)')
        .choices(['debug', 'info', 'warn', 'error'])
        .default('info'),
    )
    .option(
      '--health-interval <seconds>',
      'run the health checks this often (0: never)',
      (v) => Number(v),
      300,
    )
    .action(
      async (o: {
        source?: string;
        db: string;
        host: string;
        port: number;
        apiToken?: string;
        otlpEndpoint?: string;
        otlpProtocol?: string;
        captureContent?: boolean;
        traceExport: boolean;
        logLevel: string;
        healthInterval: number;
      }) => {
        const logger = pino({ level: o.logLevel }, pino.destination(2));
        requireSources(o.source); // no OpenCode data: say so (and offer the demo) before opening anything
        const store = await openStore(o.db);
        const server = await startServer(createApp({ store, apiToken: o.apiToken }), {
          host: o.host,
          port: o.port,
        });
        logger.info({ url: server.url }, 'listening');
        const bridge = new LiveBridge(store, { source: o.source, logger });
        bridge.on('applied', (a) => logger.debug(a, 'applied changes'));
        const traces =
          o.traceExport && exportConfigured(o.otlpEndpoint)
            ? new LiveTraceExport(store, {
                endpoint: o.otlpEndpoint,
                protocol: o.otlpProtocol,
                captureContent: o.captureContent,
                logger,
              })
            : null;
        bridge.on('derived', () => traces?.trigger());
        const health =
          o.healthInterval > 0
            ? startHealthSchedule({
                store,
                intervalMs: o.healthInterval * 1000,
                logger,
                context: () => ({ watchLagMs: bridge.pendingMs, sources: sourceStates(null, o.source) }),
              })
            : null;
        bridge.once('ready', () => void health?.runNow().catch(() => {}));
        let stopping: Promise<void> | null = null;
        const stop = (signal: string) => {
          stopping ??= (async () => {
            logger.info({ signal }, 'stopping');
            // a second signal, or 5 s, ends the process whatever is left
            const force = setTimeout(() => process.exit(1), 5000);
            force.unref();
            await health?.stop();
            await bridge.stop();
            await traces?.stop();
            await server.close();
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
      },
    );
}
