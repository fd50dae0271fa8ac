/**
 * The config file and environment variables (docs/configuration.md): they supply defaults to the
 * commander options, so the order is flag > environment > config file > built-in default.
 *
 * The file: `--config`-less on purpose: `$OCBRIDGE_CONFIG`, else `./ocbridge.config.json`, else
 * `$XDG_CONFIG_HOME/ocbridge/config.json` (`~/.config/ocbridge/config.json`).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { configFileCandidates } from './config-files.mjs';

const thresholdSchema = z.strictObject({ warn: z.number().optional(), fail: z.number().optional() });

export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  /** DuckDB store file */
  db: z.string().min(1).optional(),
  /** OpenCode data dir, storage/ folder or opencode.db */
  source: z.string().min(1).optional(),
  host: z.string().min(1).optional(),
  port: z.number().int().min(0).max(65535).optional(),
  logLevel: z.enum(['debug', 'info', 'warn', 'error']).optional(),
  /** stderr of run and serve: auto (lines for people on a terminal, else JSON), json, pretty */
  logFormat: z.enum(['auto', 'json', 'pretty']).optional(),
  apiToken: z.string().min(1).optional(),
  health: z
    .strictObject({
      /** seconds between health runs inside `ocbridge run` (0: off) */
      intervalSeconds: z.number().int().min(0).optional(),
      /** Slack incoming webhook for failing checks */
      slackWebhook: z.url().optional(),
      /** the window of the ingest_errors check (default 24) */
      ingestErrorHours: z.number().positive().optional(),
      /** models deliberately without a price: `provider/model` or `model` */
      unpricedModels: z.array(z.string()).optional(),
      thresholds: z.record(z.string(), thresholdSchema).optional(),
    })
    .optional(),
});

export type Config = z.infer<typeof configSchema>;

export interface LoadedConfig {
  config: Config;
  /** the file read, if any */
  file: string | null;
}

export class ConfigError extends Error {}

export { configFileCandidates };

/** Environment variables, as config keys (empty values are ignored). */
export const ENV_KEYS = {
  OCBRIDGE_DB: 'db',
  OCBRIDGE_SOURCE: 'source',
  OCBRIDGE_HOST: 'host',
  OCBRIDGE_PORT: 'port',
  OCBRIDGE_LOG_LEVEL: 'logLevel',
  OCBRIDGE_LOG_FORMAT: 'logFormat',
  OCBRIDGE_API_TOKEN: 'apiToken',
  OCBRIDGE_HEALTH_INTERVAL: 'health.intervalSeconds',
  OCBRIDGE_SLACK_WEBHOOK: 'health.slackWebhook',
} as const;

function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const health: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    const numeric = key === 'port' || key === 'health.intervalSeconds';
    const value = numeric ? Number(v) : v;
    if (key.startsWith('health.')) health[key.slice(7)] = value;
    else out[key] = value;
  }
  if (Object.keys(health).length) out.health = health;
  return out;
}

/** Reads the config file (if any) and the environment; the environment wins. Throws ConfigError. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): LoadedConfig {
  const file = configFileCandidates(env, cwd).find((f) => existsSync(f)) ?? null;
  if (env.OCBRIDGE_CONFIG && !file)
    throw new ConfigError(`OCBRIDGE_CONFIG: no file at ${env.OCBRIDGE_CONFIG}`);
  let fileConfig: Record<string, unknown> = {};
  if (file) {
    try {
      fileConfig = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`${file}: not valid JSON (${(e as Error).message})`);
    }
  }
  const e = fromEnv(env);
  const merged = {
    ...fileConfig,
    ...e,
    health: { ...((fileConfig.health as object) ?? {}), ...((e.health as object) ?? {}) },
  };
  if (Object.keys(merged.health).length === 0) delete (merged as Record<string, unknown>).health;
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const where = file ? `${file} (or OCBRIDGE_* variables)` : 'OCBRIDGE_* variables';
    throw new ConfigError(
      `${where}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  }
  return { config: parsed.data, file };
}

/** Option attribute name → config value, for every command that has such an option. */
function optionDefaults(c: Config): Record<string, unknown> {
  return {
    db: c.db,
    source: c.source,
    host: c.host,
    port: c.port,
    logLevel: c.logLevel,
    logFormat: c.logFormat,
    apiToken: c.apiToken,
    healthInterval: c.health?.intervalSeconds,
    slackWebhook: c.health?.slackWebhook,
  };
}

/** Makes configured values the defaults of the matching options of every (sub)command. */
export function applyConfigDefaults(program: Command, config: Config): void {
  const defaults = optionDefaults(config);
  const visit = (cmd: Command) => {
    for (const opt of cmd.options) {
      const v = defaults[opt.attributeName()];
      if (v === undefined) continue;
      opt.default(v); // what --help shows
      // commander copies defaults into the values when an option is added: set the value too
      // (source 'config': an option's own .env() variable and the flag still win)
      cmd.setOptionValueWithSource(opt.attributeName(), v, 'config');
    }
    for (const sub of cmd.commands) visit(sub);
  };
  visit(program);
}
