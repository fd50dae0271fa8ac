/** `ocbridge export [traces]`: one-shot OTLP export of everything pending in the ledger. */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { exportTraces } from '../otel/export.ts';
import { PROTOCOLS } from '../otel/exporter.ts';
import { ledgerStats } from '../otel/ledger.ts';
import { tracesOffReason } from '../otel/switches.ts';
import { DUCKDB_BUDGETS } from '../resources.ts';
import { defaultDbPath, openStore } from '../store/db.ts';
import { otelSwitchesOrExit } from './otel-switches.ts';

const positive = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
};

const date = (v: string) => {
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new InvalidArgumentError('expected a date, e.g. 2026-01-31');
  return d;
};

const header = (v: string, acc: Record<string, string>) => {
  const i = v.indexOf('=');
  if (i <= 0) throw new InvalidArgumentError('expected key=value');
  return { ...acc, [v.slice(0, i).trim()]: v.slice(i + 1).trim() };
};

interface TraceFlags {
  db: string;
  otlpEndpoint?: string;
  endpoint?: string;
  protocol?: string;
  header: Record<string, string>;
  serviceName?: string;
  captureContent?: boolean;
  includeContent?: boolean;
  contentMaxChars: number;
  since?: Date;
  force?: boolean;
  idleTimeout: number;
  batchSpans: number;
  maxRetry: number;
  format: 'table' | 'json';
  verbose?: boolean;
}

export function registerExportCommand(program: Command): void {
  const exp = program.command('export').description('send the store to OpenTelemetry (OTLP/HTTP)');
  exp
    .command('traces', { isDefault: true })
    .description(
      'export every complete exchange not yet acknowledged by the collector, once, then exit ' +
        '(non-zero with the reason if the collector never acknowledged)',
    )
    .option('--db <file>', 'DuckDB store file', defaultDbPath())
    .option(
      '--otlp-endpoint <url>',
      'OTLP/HTTP base URL or traces URL (default: OTEL_EXPORTER_OTLP_*, else localhost:4318)',
    )
    // the name `run` uses; --endpoint stays as a hidden alias
    .addOption(new Option('--endpoint <url>').hideHelp())
    .addOption(
      new Option(
        '--protocol <protocol>',
        'OTLP protocol (default: OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf)',
      ).choices(PROTOCOLS),
    )
    .option('--header <key=value>', 'extra request header (repeatable)', header, {})
    .option('--service-name <name>', 'resource service.name (default: OTEL_SERVICE_NAME, else opencode)')
    .option('--capture-content', 'also export prompts, outputs, tool arguments and results (truncated)')
    .addOption(new Option('--include-content', 'alias of --capture-content').hideHelp())
    .option('--content-max-chars <n>', 'truncate each captured text to this length', positive, 4096)
    .option('--since <date>', 'only exchanges that started at or after this date', date)
    .option('--force', 're-export exchanges already exported (same trace and span IDs)')
    .option(
      '--idle-timeout <minutes>',
      'an unfinished exchange counts as complete after this idle time',
      positive,
      30,
    )
    .option('--batch-spans <n>', 'spans per OTLP request', positive, 8192)
    .option(
      '--max-retry <seconds>',
      'give up when the collector has not acknowledged for this long',
      positive,
      120,
    )
    .option('--verbose', 'log every request once the collector acknowledged it and the ledger recorded it')
    .addOption(
      new Option('-f, --format <format>', 'summary format').choices(['table', 'json']).default('table'),
    )
    .action(async (o: TraceFlags) => {
      const off = tracesOffReason(otelSwitchesOrExit());
      if (off) {
        console.error(`ocbridge export: ${off}: nothing exported`);
        return;
      }
      const store = await openStore(o.db, { threads: DUCKDB_BUDGETS.exportThreads });
      const ac = new AbortController();
      const stop = () => ac.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        const r = await exportTraces(store.conn, {
          instance: store.instance,
          endpoint: o.otlpEndpoint ?? o.endpoint,
          protocol: o.protocol,
          headers: Object.keys(o.header).length > 0 ? o.header : undefined,
          serviceName: o.serviceName,
          captureContent: o.captureContent === true || o.includeContent === true,
          contentMaxChars: o.contentMaxChars,
          since: o.since,
          force: o.force,
          idleTimeoutMs: o.idleTimeout * 60_000,
          batchSpans: o.batchSpans,
          maxRetryMs: o.maxRetry * 1000,
          signal: ac.signal,
          log: (line) => console.error(`ocbridge export: ${line}`),
          onProgress: o.verbose
            ? (p) =>
                console.error(
                  `ocbridge export: acknowledged and recorded: ${p.exportedSpans}/${p.totalSpans} spans, ${p.exportedExchanges}/${p.totalExchanges} exchanges`,
                )
            : undefined,
        });
        const ledger = await ledgerStats(store.conn);
        if (o.format === 'json') {
          process.stdout.write(`${JSON.stringify({ ...r, ledger })}\n`);
        } else {
          console.log(
            `exported ${r.exchanges} exchanges, ${r.spans} spans in ${r.seconds.toFixed(2)} s ` +
              `(${r.requests} requests, ${r.failedRequests} failed) to ${r.url} (${r.protocol}); ` +
              `backlog ${r.backlogExchanges} exchanges, ${r.backlogSpans} spans; ` +
              `ledger: ${ledger.exported} exported, ${ledger.pending} pending`,
          );
        }
        if (!r.ok) {
          console.error(`ocbridge export: not acknowledged: ${r.reason}`);
          process.exitCode = 1;
        }
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        store.close();
      }
    });
}
