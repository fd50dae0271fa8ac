/** `ocbridge backup`, `restore` and `doctor` (docs/operations.md). */

import { resolve } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { type BackupResult, backupStoreFile, restoreStore } from '../store/backup.ts';
import { defaultDbPath } from '../store/db.ts';
import { BridgeClient } from './bridge-client.ts';
import { loadConfig } from './config.ts';
import { runDoctor } from './doctor.ts';
import { formatRows } from './format.ts';

export function registerOpsCommands(program: Command): void {
  program
    .command('backup')
    .description('write a consistent copy of the store to a new DuckDB file')
    .option('--db <file>', 'DuckDB store file', defaultDbPath())
    .requiredOption('-o, --out <file>', 'the backup file (replaced if it exists)')
    .action(async (o: { db: string; out: string }) => {
      try {
        const r = await backupStoreFile(o.db, o.out);
        console.log(`backup ${r.path}: ${(r.bytes / 1e6).toFixed(1)} MB, ${r.tables} tables, ${r.ms} ms`);
      } catch (e) {
        // a running bridge holds the store: it writes the snapshot itself (one consistent commit)
        const bridge = BridgeClient.behind(e, o.db);
        if (!bridge) throw e;
        const r = await bridge.json<BackupResult>('/internal/backup', {
          method: 'POST',
          body: JSON.stringify({ out: resolve(o.out) }),
        });
        console.log(
          `backup ${r.path} (by the running bridge, pid ${bridge.state.pid}): ${(r.bytes / 1e6).toFixed(1)} MB, ${r.tables} tables, ${r.ms} ms`,
        );
      }
    });

  program
    .command('restore')
    .description('replace the store with a backup (the store must not be in use)')
    .requiredOption('--from <file>', 'a backup written by ocbridge backup')
    .option('--db <file>', 'DuckDB store file', defaultDbPath())
    .option('--force', 'replace an existing store')
    .action(async (o: { from: string; db: string; force?: boolean }) => {
      const r = await restoreStore(o.from, o.db, { force: o.force });
      console.log(
        `restored ${o.from} → ${r.path} (${(r.bytes / 1e6).toFixed(1)} MB, schema ${r.backupVersion}${r.migrated.length ? `, then migrated ${r.migrated.join(', ')}` : ''})`,
      );
    });

  program
    .command('doctor')
    .description('support check: OpenCode data, versions, permissions, inotify, port, store')
    .option(
      '-s, --source <path>',
      'OpenCode data dir, storage/ folder or opencode.db (default: the data dir)',
    )
    .option('--db <file>', 'DuckDB store file', defaultDbPath())
    .option('--host <host>', 'HTTP server address', '127.0.0.1')
    .option('--port <port>', 'HTTP server port', (v) => Number(v), 9464)
    .addOption(
      new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'),
    )
    .action(
      async (o: { source?: string; db: string; host: string; port: number; format: 'table' | 'json' }) => {
        let configFile: string | null = null;
        try {
          configFile = loadConfig().file;
        } catch (e) {
          configFile = `invalid: ${(e as Error).message}`;
        }
        const findings = await runDoctor({ ...o, configFile });
        process.stdout.write(
          o.format === 'json'
            ? `${JSON.stringify(findings, null, 2)}\n`
            : `${formatRows(findings as never, 'table')}\n`,
        );
        if (findings.some((x) => x.status === 'error')) process.exitCode = 1;
      },
    );
}
