/** At least one example under every command's --help (`ocbridge <command> --help`). */
import type { Command } from 'commander';

const EXAMPLES: Record<string, readonly string[]> = {
  ocbridge: [
    'ocbridge ingest                      load OpenCode history from its default data dir',
    'ocbridge report                      what it cost: today, 7 and 30 days',
    'ocbridge run                         load, then follow OpenCode live (API, /metrics, traces)',
  ],
  ingest: [
    'ocbridge ingest',
    'ocbridge ingest --source ~/.local/share/opencode/opencode.db --db ./store.duckdb',
  ],
  query: ['ocbridge query "SELECT model_id, sum(cost_usd) FROM messages GROUP BY 1" --format csv'],
  report: [
    'ocbridge report                           today, 7 and 30 days, top models, tools and errors',
    'ocbridge report daily --since 7d          one row per UTC day, with a totals row',
    'ocbridge report sessions --project myapp  sessions by cost, sub-agents under their parent',
    'ocbridge report monthly --format csv      for a spreadsheet',
  ],
  run: [
    'ocbridge run',
    'ocbridge run --port 9500 --otlp-endpoint http://127.0.0.1:4318   also send traces to a collector',
  ],
  serve: ['ocbridge serve --db ./store.duckdb --port 9500   the API over a store, read-only'],
  export: ['ocbridge export traces --otlp-endpoint http://127.0.0.1:4318'],
  'export traces': [
    'ocbridge export traces --otlp-endpoint http://127.0.0.1:4318',
    'ocbridge export traces --since 2026-11-01 --force   send those again (same trace IDs)',
  ],
  health: ['ocbridge health', 'ocbridge health --only unpriced_models --format json'],
  backup: ['ocbridge backup --out ./backup.duckdb   a consistent copy, also while `run` holds the store'],
  restore: ['ocbridge restore --from ./backup.duckdb --db ./store.duckdb'],
  doctor: ['ocbridge doctor   what would be read, from where, and how'],
  demo: ['ocbridge demo', 'ocbridge demo --sessions 100 --port 9500 --fresh'],
  pricing: ['ocbridge pricing show', 'ocbridge pricing update --overrides ./my-prices.json'],
  'pricing update': ['ocbridge pricing update', 'ocbridge pricing update --overrides ./my-prices.json'],
  'pricing show': ['ocbridge pricing show --format csv'],
  migrate: ['ocbridge migrate status'],
  'migrate up': ['ocbridge migrate up'],
  'migrate down': ['ocbridge migrate down --steps 1'],
  'migrate status': ['ocbridge migrate status --format json'],
};

const pathOf = (cmd: Command): string =>
  cmd.parent ? [pathOf(cmd.parent), cmd.name()].filter((s) => s !== 'ocbridge').join(' ') : cmd.name();

/** Adds the examples above to each command that has none of its own; returns the commands without any. */
export function addExamples(cmd: Command): string[] {
  const missing: string[] = [];
  const lines = EXAMPLES[pathOf(cmd)];
  if (lines) cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}`);
  else missing.push(pathOf(cmd));
  for (const sub of cmd.commands) missing.push(...addExamples(sub));
  return missing;
}
