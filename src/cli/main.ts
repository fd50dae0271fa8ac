/** `ocbridge`: the command line. Wires sources, store and outputs; holds no logic of its own. */
import { Command, CommanderError, Option } from 'commander';
import { discoverSources, SourceNotFoundError } from '../ingest/discover.ts';
import { runIngest } from '../pipeline/ingestor.ts';
import { defaultDbPath, openStore, StoreFileError, StoreLockedError } from '../store/db.ts';
import { deriveAll, updatePricingFromFiles } from '../store/derive/index.ts';
import { migrateDown, migrateUp, migrationStatus } from '../store/migrate.ts';
import { queryRows } from '../store/query.ts';
import { VERSION } from '../version.ts';
import { positiveInt } from './args.ts';
import { applyConfigDefaults, ConfigError, loadConfig } from './config.ts';
import { type Format, formatRows } from './format.ts';
import { addExamples } from './help-examples.ts';
import { printSummary, progressReporter } from './ingest-output.ts';
import { requireOpenCodeDatabases } from './preflight.ts';
import { registerReportCommand } from './report-command.ts';
import { usageError } from './usage.ts';
import { UserError } from './user-error.ts';

const formatOption = () =>
  new Option('-f, --format <format>', 'output format').choices(['table', 'json', 'csv']).default('table');

/**
 * Commands whose modules load the OpenTelemetry SDK, the HTTP API and the like: imported only when
 * the command line names one of them (or asks for the full help), so `ingest` and `query` start
 * without them.
 */
const LAZY_COMMANDS: Record<string, readonly string[]> = {
  run: ['run'],
  serve: ['serve'],
  export: ['export'],
  health: ['health'],
  ops: ['backup', 'restore', 'doctor'],
  demo: ['demo'],
};
const BUILT_IN = ['ingest', 'query', 'report', 'pricing', 'migrate'];

/** The command the arguments name, if it is a known one (else every command is registered). */
export function commandOf(argv: readonly string[]): string | undefined {
  const first = argv.slice(2).find((a) => !a.startsWith('-'));
  const known = [...BUILT_IN, ...Object.values(LAZY_COMMANDS).flat()];
  return first !== undefined && known.includes(first) ? first : undefined;
}

/** The program with every command, or (`command` given) the built-in ones and that one. */
export async function buildProgram(command?: string): Promise<Command> {
  const wants = (module: string) => command === undefined || (LAZY_COMMANDS[module] ?? []).includes(command);
  const program = new Command('ocbridge')
    .description('OpenCode → DuckDB → OpenTelemetry bridge')
    .version(VERSION)
    // usage errors: one line and the command's usage, exit 2 (main); not commander's exit 1 and full help
    .exitOverride()
    .configureOutput({ outputError: () => {} });

  program
    .command('ingest')
    .description('load all OpenCode history into the store (one-shot; unchanged input is skipped)')
    .option(
      '-s, --source <path>',
      'OpenCode data dir, a storage/ folder or an opencode.db file (default: $XDG_DATA_HOME/opencode)',
    )
    .option('--db <file>', 'DuckDB store file', defaultDbPath())
    .option('--workers <n>', 'JSON parser threads (default: cores - 1)', positiveInt)
    .option('--no-progress', 'no progress bar')
    .addOption(formatOption().default('table').choices(['table', 'json']))
    .action(
      async (o: { source?: string; db: string; workers?: number; progress: boolean; format: Format }) => {
        // what can fail is checked before the store file is created
        requireOpenCodeDatabases(discoverSources(o.source));
        const store = await openStore(o.db);
        try {
          const bar = o.progress && process.stderr.isTTY ? progressReporter() : undefined;
          const summary = await runIngest(store, {
            source: o.source,
            workers: o.workers,
            onProgress: bar?.update,
          });
          bar?.stop();
          await printSummary(store, summary, o.format, o.db);
          if (
            summary.unreadableSources.length > 0 &&
            summary.unreadableSources.length === summary.sources.dbFiles.length &&
            !summary.sources.storageDir
          ) {
            process.exitCode = 1;
          }
        } finally {
          store.close();
        }
      },
    );

  program
    .command('query')
    .description('run read-only SQL against the store')
    .argument('<sql>', 'the SQL')
    .option('--db <file>', 'DuckDB store file', defaultDbPath())
    .addOption(formatOption())
    .action(async (sql: string, o: { db: string; format: Format }) => {
      const { openOrBridge } = await import('./bridge-client.ts');
      const opened = await openOrBridge(o.db, { readOnly: true });
      if (opened.bridge) {
        // the running bridge holds the store: ask it (one read-only SELECT, through its SQL guard)
        const r = await opened.bridge.query(sql);
        if (r.truncated) console.error('ocbridge: result truncated by the running bridge');
        process.stdout.write(`${formatRows(r.rows, o.format)}\n`);
        return;
      }
      const { store } = opened;
      try {
        await store.conn.run('SET enable_external_access = false');
        const rows = await queryRows(store.conn, sql);
        process.stdout.write(`${formatRows(rows, o.format)}\n`);
      } finally {
        store.close();
      }
    });

  if (wants('run')) (await import('./run-command.ts')).registerRunCommand(program);
  if (wants('serve')) (await import('./serve-command.ts')).registerServeCommand(program);

  registerReportCommand(program);

  const pricing = program.command('pricing').description('model prices used for computed_cost_usd');
  pricing
    .command('update')
    .description('replace the price list (default: the vendored snapshot) and recompute costs')
    .option('--file <file>', 'a pricing snapshot JSON (docs/pricing.md), instead of the vendored one')
    .option('--overrides <files...>', 'user override files (same schema), later ones win per model')
    .option('--db <file>', 'DuckDB store file', defaultDbPath())
    .action(async (o: { file?: string; overrides?: string[]; db: string }) => {
      const store = await openStore(o.db);
      try {
        const r = await updatePricingFromFiles(store.conn, o.file, o.overrides ?? []);
        const d = await deriveAll(store.conn);
        console.log(`${r.rows} price rows, ${r.keys} models priced; re-derived in ${d.ms} ms`);
      } finally {
        store.close();
      }
    });
  pricing
    .command('show')
    .description('the stored price list')
    .option('--db <file>', 'DuckDB store file', defaultDbPath())
    .addOption(formatOption())
    .action(async (o: { db: string; format: Format }) => {
      const store = await openStore(o.db, { readOnly: true });
      try {
        const rows = await queryRows(
          store.conn,
          `SELECT provider_id, model_id, tier_min_context_tokens AS tier, input_per_mtok AS input,
                  output_per_mtok AS output, cache_read_per_mtok AS cache_read, cache_write_per_mtok AS cache_write,
                  CAST(as_of AS VARCHAR) AS as_of, source
           FROM model_pricing ORDER BY 1, 2, 3`,
        );
        process.stdout.write(`${formatRows(rows, o.format)}\n`);
      } finally {
        store.close();
      }
    });

  const migrate = program.command('migrate').description('schema migrations of the store');
  migrate
    .command('up')
    .description('apply pending migrations')
    .option('--db <file>', 'DuckDB store file', defaultDbPath())
    .option('--to <version>', 'stop at this version', positiveInt)
    .action(async (o: { db: string; to?: number }) => {
      const store = await openStore(o.db, { migrate: false });
      try {
        const done = await migrateUp(store.conn, o.to);
        console.log(done.length ? `applied ${done.join(', ')}` : 'already up to date');
      } finally {
        store.close();
      }
    });
  migrate
    .command('down')
    .description('revert the newest applied migration(s)')
    .option('--db <file>', 'DuckDB store file', defaultDbPath())
    .option('--steps <n>', 'how many to revert', positiveInt, 1)
    .action(async (o: { db: string; steps: number }) => {
      const store = await openStore(o.db, { migrate: false });
      try {
        const done = await migrateDown(store.conn, o.steps);
        console.log(done.length ? `reverted ${done.join(', ')}` : 'nothing to revert');
      } finally {
        store.close();
      }
    });
  migrate
    .command('status')
    .description('list migrations and whether each is applied')
    .option('--db <file>', 'DuckDB store file', defaultDbPath())
    .addOption(formatOption())
    .action(async (o: { db: string; format: Format }) => {
      const store = await openStore(o.db, { migrate: false });
      try {
        const rows = (await migrationStatus(store.conn)).map((m) => ({
          ...m,
          applied: m.appliedAt !== null,
        }));
        console.log(formatRows(rows, o.format));
      } finally {
        store.close();
      }
    });
  if (wants('export')) (await import('./export-command.ts')).registerExportCommand(program);
  if (wants('health')) (await import('./health-command.ts')).registerHealthCommand(program);
  if (wants('ops')) (await import('./ops-commands.ts')).registerOpsCommands(program);
  if (wants('demo')) (await import('./demo.ts')).registerDemoCommand(program);
  // ocbridge.config.json and OCBRIDGE_* variables supply the option defaults (docs/configuration.md)
  applyConfigDefaults(program, loadConfig().config);
  addExamples(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  // every file the bridge writes (store, WAL, backups, state) is its user's only: 0600, folders 0700
  process.umask(0o077);
  let program: Command | undefined;
  try {
    program = await buildProgram(commandOf(argv));
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end this way too (exit code 0); a command with no subcommand prints its help
      const helped = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(e.code);
      if (!helped && program) console.error(usageError(program, argv, e.message));
      process.exitCode = e.exitCode === 0 ? 0 : 2;
      return;
    }
    if (
      e instanceof UserError ||
      e instanceof SourceNotFoundError ||
      e instanceof StoreLockedError ||
      e instanceof StoreFileError ||
      e instanceof ConfigError
    ) {
      console.error(`ocbridge: ${e.message}`);
      process.exitCode = e instanceof UserError ? e.exitCode : 2;
      return;
    }
    console.error(`ocbridge: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}
