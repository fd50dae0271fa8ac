import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyConfigDefaults, ConfigError, loadConfig } from '../src/cli/config.ts';
import { runDoctor } from '../src/cli/doctor.ts';
import { startHealthSchedule } from '../src/cli/health-command.ts';
import { buildProgram, commandOf } from '../src/cli/main.ts';
import type { HealthResult } from '../src/store/health/index.ts';
import { FakeDb, tempDir, V1_DDL, V2_DDL, writeStorage } from './support/datadir.ts';
import { startFakeSlack } from './support/fake-slack-scripted.ts';
import { healthyStore } from './support/health.ts';
import { rows } from './support/store.ts';

describe('config file and environment', () => {
  it('file < environment, validated; they become the option defaults of every command', async () => {
    const cwd = tempDir('ocb-conf-');
    writeFileSync(
      join(cwd, 'ocbridge.config.json'),
      JSON.stringify({
        db: '/from/file.duckdb',
        port: 9999,
        health: { intervalSeconds: 60, unpricedModels: ['x'] },
      }),
    );
    const env = { OCBRIDGE_PORT: '7000', OCBRIDGE_SLACK_WEBHOOK: 'http://127.0.0.1:1/hook', HOME: cwd };
    const { config, file } = loadConfig(env, cwd);
    expect(file).toBe(join(cwd, 'ocbridge.config.json'));
    expect(config).toEqual({
      db: '/from/file.duckdb',
      port: 7000,
      health: { intervalSeconds: 60, unpricedModels: ['x'], slackWebhook: 'http://127.0.0.1:1/hook' },
    });
    const program = await buildProgram();
    applyConfigDefaults(program, config);
    const opt = (cmd: string, name: string) =>
      program.commands.find((c) => c.name() === cmd)?.options.find((o) => o.attributeName() === name)
        ?.defaultValue;
    expect(opt('run', 'port')).toBe(7000);
    const value = (cmd: string, name: string) =>
      program.commands.find((c) => c.name() === cmd)?.getOptionValue(name);
    expect(value('run', 'port')).toBe(7000);
    expect(value('demo', 'port')).toBe(7000);
    expect(value('health', 'slackWebhook')).toBe('http://127.0.0.1:1/hook');
    expect(value('ingest', 'db')).toBe('/from/file.duckdb');
    expect(opt('run', 'db')).toBe('/from/file.duckdb');
    expect(opt('run', 'healthInterval')).toBe(60);
    expect(opt('health', 'db')).toBe('/from/file.duckdb');
    expect(opt('health', 'slackWebhook')).toBe('http://127.0.0.1:1/hook');
  });

  it('loads only the command it runs; the help and unknown commands get every one', async () => {
    const names = async (argv: string[]) =>
      (await buildProgram(commandOf(['node', 'ocbridge', ...argv]))).commands.map((c) => c.name());
    const all = ['ingest', 'query', 'run', 'serve', 'report', 'pricing', 'migrate', 'export', 'health'];
    expect(await names([])).toEqual([...all, 'backup', 'restore', 'doctor', 'demo']);
    expect(await names(['--help'])).toEqual(await names([]));
    expect(await names(['nonsense'])).toEqual(await names([]));
    expect(await names(['ingest', '--db', 'x'])).toEqual(['ingest', 'query', 'report', 'pricing', 'migrate']);
    expect(await names(['doctor'])).toEqual([
      'ingest',
      'query',
      'report',
      'pricing',
      'migrate',
      'backup',
      'restore',
      'doctor',
    ]);
  });

  it('says what is wrong with a bad file or variable', () => {
    const cwd = tempDir('ocb-conf-');
    writeFileSync(join(cwd, 'ocbridge.config.json'), JSON.stringify({ port: 'x', nope: 1 }));
    expect(() => loadConfig({ HOME: cwd }, cwd)).toThrow(ConfigError);
    expect(() => loadConfig({ HOME: cwd }, cwd)).toThrow(/port/);
    expect(() => loadConfig({ HOME: cwd, OCBRIDGE_CONFIG: 'missing.json' }, cwd)).toThrow(/no file/);
    const ok = tempDir('ocb-conf-');
    expect(() => loadConfig({ HOME: ok, XDG_CONFIG_HOME: ok, OCBRIDGE_LOG_LEVEL: 'loud' }, ok)).toThrow(
      /logLevel/,
    );
  });
});

describe('ocbridge doctor', () => {
  it('finds the sources, OpenCode versions, inotify need, a taken port and the store state', async () => {
    const dir = tempDir('ocb-doc-');
    writeStorage(dir, 'session/p/ses_j.json', {
      id: 'ses_j',
      projectID: 'p',
      version: '1.1.65',
      time: { created: 1 },
    });
    const db = new FakeDb(join(dir, 'opencode.db'), [V1_DDL, V2_DDL]);
    db.project('p').session({ id: 'ses_v1' });
    db.close();
    const sockets = new Set<import('node:net').Socket>();
    const taken = createServer((sock) => sockets.add(sock));
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as AddressInfo).port;
    const { store } = await healthyStore();
    try {
      const f = await runDoctor({ source: dir, db: store.path, host: '127.0.0.1', port, env: {} });
      const text = f.map((x) => `${x.area}|${x.status}|${x.detail}`).join('\n');
      expect(text).toMatch(/opencode data\|ok\|/);
      expect(text).toMatch(/will read\|ok\|JSON tree .*storage \(1 project folders\)/);
      expect(text).toMatch(/opencode db\|ok\|.*opencode\.db: .*tables 2\.x \+ v1, 1 sessions/);
      expect(text).toMatch(/opencode versions\|info\|JSON tree \(sampled\): 1\.1\.65/);
      expect(text).toMatch(/opencode versions\|info\|.*opencode\.db: 1\.18\.33/);
      expect(text).toMatch(/port\|warn\|127\.0\.0\.1:\d+ is taken/);
      // the store is open in this process; doctor opens it read-only alongside
      expect(text).toMatch(/store\|(ok|info)\|/);
      if (process.platform === 'linux') expect(text).toMatch(/inotify\|ok\|ocbridge run needs ~\d+ watches/);
      const none = await runDoctor({
        source: join(dir, 'nope'),
        db: join(dir, 'new', 'x.duckdb'),
        host: '127.0.0.1',
        port: 0,
        env: {},
      });
      expect(none.find((x) => x.area === 'opencode data')).toMatchObject({ status: 'error' });
      expect(none.find((x) => x.area === 'opencode data')?.detail).toMatch(/npm run demo/);
      expect(none.find((x) => x.area === 'store')?.detail).toMatch(/does not exist yet/);
    } finally {
      store.close();
      for (const sock of sockets) sock.destroy();
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });
});

describe('scheduled health checks (ocbridge run)', () => {
  it('runs on its own connection, stores the run, hands results on, and posts to Slack when failures change', async () => {
    const { store, dir } = await healthyStore();
    const slack = await startFakeSlack();
    const got: HealthResult[][] = [];
    let lag = 0;
    const schedule = startHealthSchedule({
      store,
      intervalMs: 3_600_000,
      config: {},
      slackWebhook: slack.url,
      context: () => ({ watchLagMs: lag, sources: [{ path: dir, kind: 'root' }] }),
      onResults: (r) => got.push(r),
    });
    try {
      expect((await schedule.runNow()).status).not.toBe('fail');
      lag = 120_000;
      const bad = await schedule.runNow();
      expect(bad.results.find((r) => r.id === 'watch_lag')?.status).toBe('fail');
      await schedule.runNow(); // same failures: not posted again
      expect(got).toHaveLength(3);
      expect(slack.requests).toHaveLength(1);
      expect(slack.requests[0]?.body.text).toContain('watch_lag');
      const runs = await rows(store, 'SELECT count(DISTINCT run_id) AS n FROM health_check_history');
      expect(runs).toEqual([{ n: 3 }]);
    } finally {
      await schedule.stop();
      await slack.close();
      store.close();
    }
  });
});
