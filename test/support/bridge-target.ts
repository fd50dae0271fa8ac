/**
 * The scrape target of the deploy end-to-end test: the real bridge (`ocbridge run --port 0` on a
 * generated corpus). OCBRIDGE_E2E_TARGET=fixture serves test/fixtures/bridge-metrics.prom instead,
 * for working on the stack alone; the test never falls back to it.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { generateCorpus } from '../../src/gen/index.ts';
import { type MetricsTarget, startFixtureExporter } from './fixture-exporter.ts';

const REPO = join(import.meta.dirname, '..', '..');

/** The real bridge; the fixture exporter only when OCBRIDGE_E2E_TARGET=fixture asks for it. */
export function defaultTargetKind(): MetricsTarget['kind'] {
  return process.env.OCBRIDGE_E2E_TARGET === 'fixture' ? 'fixture' : 'bridge';
}

/** `ocbridge run` on a small generated corpus, listening on a free port; resolves once it listens */
export async function startRealBridge(dir: string, opts: { apiToken?: string } = {}): Promise<MetricsTarget> {
  const source = join(dir, 'opencode');
  await generateCorpus({ out: source, sessions: 12, seed: '8', layout: 'mixed' });
  const args = [
    join(REPO, 'bin', 'ocbridge.js'),
    'run',
    '--source',
    source,
    '--db',
    join(dir, 'store.duckdb'),
  ];
  args.push('--host', '127.0.0.1', '--port', '0', '--log-level', 'info');
  const child = spawn(process.execPath, args, {
    cwd: REPO,
    env: { ...process.env, OCBRIDGE_API_TOKEN: opts.apiToken ?? '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ocbridge run did not listen:\n${log}`)), 60_000);
    child.stderr?.on('data', (d: Buffer) => {
      log += d;
      for (const line of log.split('\n')) {
        try {
          const rec = JSON.parse(line) as { msg?: string; url?: string };
          if (rec.msg === 'listening' && rec.url) {
            clearTimeout(timer);
            resolve(rec.url);
          }
        } catch {
          /* partial line */
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`ocbridge run exited (${code}):\n${log}`)));
  });
  // the history load runs after the server listens; wait for it so counters hold the corpus
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`history never loaded:\n${log}`)), 60_000);
    const check = () => {
      if (log.includes('history loaded')) {
        clearTimeout(timer);
        child.stderr?.off('data', check);
        resolve();
      }
    };
    child.stderr?.on('data', check);
    check();
  });
  return {
    kind: 'bridge',
    target: url.replace(/^http:\/\//, ''),
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export async function startTarget(dir: string, kind = defaultTargetKind()): Promise<MetricsTarget> {
  return kind === 'bridge' ? startRealBridge(dir) : startFixtureExporter();
}
