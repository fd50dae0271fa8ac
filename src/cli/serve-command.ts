/** `ocbridge serve`: the HTTP API over a database alone (opened read-only; no ingest, no export). */

import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Command } from 'commander';
import { Option } from 'commander';
import { pino } from 'pino';
import { createApp, disposeApp, startServer } from '../api/server.ts';
import { lockDownInstance } from '../api/sql-guard.ts';
import { DUCKDB_BUDGETS } from '../resources.ts';
import { defaultDbPath, openStore, type Store, StoreLockedError } from '../store/db.ts';
import { VERSION } from '../version.ts';
import { registerWeb } from '../web/index.ts';
import { BridgeClient } from './bridge-client.ts';
import { banner, isPretty, LOG_FORMATS, type LogFormat, tildify } from './console.ts';
import { requirePortFree } from './preflight.ts';

export interface HttpOptions {
  host: string;
  port: number;
  apiToken?: string;
  allowedHost?: string[];
  enableSql?: boolean;
  corsOrigin?: string;
  logFormat?: LogFormat;
  traceUrl?: string[];
}

/** The HTTP flags shared by `run` and `serve`. */
export function addHttpOptions(cmd: Command): Command {
  return cmd
    .option('--host <host>', 'HTTP server address (API, /metrics)', '127.0.0.1')
    .option('--port <port>', 'HTTP server port (0: any free port)', (v) => Number(v), 9464)
    .addOption(
      new Option('--api-token <token>', 'bearer token required by every route but /api/health').env(
        'OCBRIDGE_API_TOKEN',
      ),
    )
    .option(
      '--allowed-host <names...>',
      'without --api-token, Host names accepted besides localhost and IP addresses (DNS rebinding guard; e.g. a container service name)',
    )
    .option('--enable-sql', 'allow POST /api/query (read-only SQL)', false)
    .option('--cors-origin <origin>', 'allow this browser origin (CORS is off by default)')
    .addOption(
      new Option(
        '--trace-url <template...>',
        'the web view links each trace here; {trace_id} is replaced (e.g. http://localhost:16686/trace/{trace_id})',
      ).env('OCBRIDGE_TRACE_URL'),
    )
    .addOption(
      new Option(
        '--log-format <format>',
        'stderr: lines for people (auto: on a terminal) or JSON (otherwise)',
      )
        .choices(LOG_FORMATS)
        .default('auto'),
    );
}

/** The web view on the API's server (`/`, `/sessions/:id`), with the trace links of `--trace-url`. */
export function addWebView(app: OpenAPIHono, o: HttpOptions): void {
  const links = (o.traceUrl ?? []).flatMap((t) => String(t).split(/\s+/)).filter(Boolean);
  registerWeb(app, { traceLinks: links });
}

export function registerServeCommand(program: Command): void {
  const cmd = program
    .command('serve')
    .description('serve the HTTP API over a store, read-only (no ingest)')
    .option('--db <file>', 'DuckDB store file', defaultDbPath())
    .option('--no-cache', 'answer every request from DuckDB (no response cache)')
    .option(
      '--threads <n>',
      'DuckDB threads (default 1: API queries are small, one thread each serves concurrent requests best; raise it for heavy SQL)',
      (v) => Number(v),
      DUCKDB_BUDGETS.serveThreads,
    );
  addHttpOptions(cmd).action(async (o: HttpOptions & { db: string; cache: boolean; threads: number }) => {
    let store: Store;
    try {
      await requirePortFree(o.host, o.port);
      store = await openStore(o.db, { readOnly: true, threads: o.threads });
    } catch (e) {
      const running = BridgeClient.behind(e, o.db);
      if (running)
        throw new StoreLockedError(
          o.db,
          `ocbridge run (pid ${running.state.pid}) serves it at ${running.state.url}`,
        );
      throw e;
    }
    // nobody else configures this instance: no files, network or extensions, and no SET
    await lockDownInstance(store.conn, true);
    const logger = pino(pino.destination(2));
    const app = createApp({
      store,
      logger,
      mode: 'serve',
      apiToken: o.apiToken,
      allowedHosts: o.allowedHost,
      enableSql: o.enableSql,
      corsOrigin: o.corsOrigin,
      dataVersion: o.cache ? () => 0 : undefined, // a read-only store does not change
    });
    addWebView(app, o);
    const server = await startServer(app, { host: o.host, port: o.port });
    if (isPretty(o.logFormat))
      console.error(
        banner(`ocbridge ${VERSION} · serving a store read-only (Ctrl-C stops)`, [
          ['API', `${server.url}/api/health`],
          ['web', `${server.url}/`],
          ['SQL', o.enableSql ? `POST ${server.url}/api/query` : undefined],
          ['store', tildify(o.db)],
        ]),
      );
    else logger.info({ url: server.url, db: o.db, sql: o.enableSql === true }, 'listening');
    const stop = async () => {
      await server.close();
      disposeApp(app);
      store.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop());
    process.once('SIGTERM', () => void stop());
    await new Promise<void>(() => {});
  });
}
