/**
 * Real Prometheus and Alertmanager (Debian binaries) on loopback for tests, configured from the
 * committed deploy/ files: same rules and routes, with test targets, 1 s intervals, `for: 0s`, and
 * the Slack webhook URL file pointing at a fake Slack.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

export const REPO = join(import.meta.dirname, '..', '..');
export const DEPLOY = join(REPO, 'deploy');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface Proc {
  url: string;
  child: ChildProcess;
  log: () => string;
  stop(): Promise<void>;
}

function run(cmd: string, args: string[], url: string): Proc {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (d) => {
    log += d;
  });
  child.stderr?.on('data', (d) => {
    log += d;
  });
  return {
    url,
    child,
    log: () => log,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** resolves when GET url answers 200 (polls: the process gives no other readiness signal) */
export async function waitReady(p: Proc, path = '/-/ready', timeoutMs = 15_000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (p.child.exitCode !== null) throw new Error(`process exited early:\n${p.log()}`);
    try {
      const r = await fetch(p.url + path);
      if (r.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${p.url}${path} not ready after ${timeoutMs} ms:\n${p.log()}`);
}

/** deploy/prometheus/rules/*.yml with every `for` set to 0s (alerts fire on the first evaluation) */
export function writeTestRules(dir: string): string[] {
  const src = join(DEPLOY, 'prometheus', 'rules');
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const f of readdirSync(src).filter((f) => f.endsWith('.yml'))) {
    const doc = parse(readFileSync(join(src, f), 'utf8')) as { groups: { rules: { for?: string }[] }[] };
    for (const g of doc.groups) for (const r of g.rules) if (r.for) r.for = '0s';
    writeFileSync(join(dir, f), stringify(doc));
    files.push(join(dir, f));
  }
  return files;
}

export async function startPrometheus(opts: {
  dir: string;
  bridgeTarget: string;
  alertmanager: string;
}): Promise<Proc> {
  const cfg = parse(readFileSync(join(DEPLOY, 'prometheus', 'prometheus.yml'), 'utf8')) as {
    global: Record<string, string>;
    alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
    scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
  };
  cfg.global.scrape_interval = '1s';
  cfg.global.evaluation_interval = '1s';
  cfg.alerting.alertmanagers = [{ static_configs: [{ targets: [opts.alertmanager] }] }];
  cfg.scrape_configs = cfg.scrape_configs
    .filter((s) => s.job_name === 'opencode-bridge')
    .map((s) => ({ ...s, static_configs: [{ targets: [opts.bridgeTarget] }] }));
  writeTestRules(join(opts.dir, 'rules'));
  writeFileSync(join(opts.dir, 'prometheus.yml'), stringify(cfg));
  const port = await freePort();
  const p = run(
    'prometheus',
    [
      `--config.file=${join(opts.dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(opts.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    `http://127.0.0.1:${port}`,
  );
  await waitReady(p);
  return p;
}

export async function startAlertmanager(opts: { dir: string; slackUrl: string }): Promise<Proc> {
  const cfg = parse(readFileSync(join(DEPLOY, 'alertmanager', 'alertmanager.yml'), 'utf8')) as {
    route: Record<string, unknown> & { routes?: Record<string, unknown>[] };
    receivers: { slack_configs?: { api_url_file?: string }[] }[];
  };
  const urlFile = join(opts.dir, 'slack_webhook_url');
  writeFileSync(urlFile, opts.slackUrl);
  Object.assign(cfg.route, { group_wait: '1s', group_interval: '1s' });
  for (const r of cfg.receivers) for (const s of r.slack_configs ?? []) s.api_url_file = urlFile;
  writeFileSync(join(opts.dir, 'alertmanager.yml'), stringify(cfg));
  const port = await freePort();
  const p = run(
    'prometheus-alertmanager',
    [
      `--config.file=${join(opts.dir, 'alertmanager.yml')}`,
      `--storage.path=${join(opts.dir, 'am-data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    `http://127.0.0.1:${port}`,
  );
  await waitReady(p);
  return p;
}

export interface PromResult {
  status: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

export async function instantQuery(prom: string, expr: string): Promise<PromResult> {
  const r = await fetch(`${prom}/api/v1/query`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: expr }),
  });
  return (await r.json()) as PromResult;
}

/** polls an instant query until it returns at least one sample */
export async function waitForData(prom: string, expr: string, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  let last: PromResult | undefined;
  while (Date.now() - t0 < timeoutMs) {
    last = await instantQuery(prom, expr);
    if (last.status === 'success' && (last.data?.result.length ?? 0) > 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no data for ${expr} after ${timeoutMs} ms: ${JSON.stringify(last)}`);
}
