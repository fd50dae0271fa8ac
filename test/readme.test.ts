/**
 * Follows the README literally on a clean clone: the Quick start's two commands (`npm ci` is replaced
 * by a symlink to the installed node_modules), first run without OpenCode data, the demo, its API and
 * /metrics, then a command of the tour.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from './support/datadir.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));

/** The commands of the fenced block under a README heading. */
function block(readme: string, heading: string): string[] {
  const at = readme.indexOf(heading);
  expect(at, `README has "${heading}"`).toBeGreaterThanOrEqual(0);
  const body = readme.slice(at).split('```bash\n')[1]?.split('```')[0] ?? '';
  return body
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

describe('README on a clean clone', () => {
  it('npm ci, first run without data, npm run demo, API and /metrics, the tour', {
    timeout: 240_000,
  }, async () => {
    const clone = join(tempDir('ocb-clone-'), 'opencode-otel-bridge');
    execFileSync('git', ['clone', '--quiet', REPO, clone]);
    const readme = readFileSync(join(clone, 'README.md'), 'utf8');
    expect(block(readme, '## Quick start')).toEqual(['npm ci', 'npm run demo']);
    // `npm ci`: the installed tree, shared (tests never install)
    symlinkSync(realpathSync(join(REPO, 'node_modules')), join(clone, 'node_modules'));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NO_COLOR: '1',
      OCBRIDGE_PORT: '0',
      XDG_DATA_HOME: tempDir('ocb-xdg-'),
      XDG_CONFIG_HOME: tempDir('ocb-xdg-config-'),
    };
    delete env.OCBRIDGE_CONFIG;

    // first run with no OpenCode data: says so, offers the demo, exits
    const start = spawnSync('npm', ['start'], { cwd: clone, env, encoding: 'utf8', timeout: 60_000 });
    expect(start.status).not.toBe(0);
    expect(start.stderr).toMatch(/no OpenCode data at/);
    expect(start.stderr).toMatch(/npm run demo/);

    // the demo: small corpus, any free port
    const demo = spawn('npm', ['run', 'demo'], {
      cwd: clone,
      env: { ...env, OCBRIDGE_DEMO_SESSIONS: '3' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stderr = '';
    demo.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((r) => demo.on('exit', (code) => r(code)));
    // ocbridge run shares the demo's stdout: the pipe closes when the last of them has exited
    const closed = new Promise<void>((r) => demo.stdout.on('close', () => r()));
    try {
      const urls = await new Promise<{ api: string; metrics: string }>((resolve, reject) => {
        let api = '';
        createInterface({ input: demo.stdout }).on('line', (line) => {
          const m = /^\s+(API|metrics)\s+(http:\/\/\S+)/.exec(line);
          if (m?.[1] === 'API') api = m[2] as string;
          if (m?.[1] === 'metrics') resolve({ api, metrics: m[2] as string });
        });
        void exited.then((code) => reject(new Error(`demo exited (${code}) before it was ready: ${stderr}`)));
      });
      expect(urls.api).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/health$/);
      const health = await fetch(urls.api);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok' });
      const metrics = await fetch(urls.metrics);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(/^opencode_bridge_build_info\{/m);
    } finally {
      if (demo.pid) process.kill(-demo.pid, 'SIGINT');
    }
    // npm ends by the signal it got (null), or 0; the bridge behind it stopped cleanly (store released)
    expect([0, null]).toContain(await exited);
    await closed;
    expect(existsSync(join(clone, '.tmp', 'demo', 'ocbridge.duckdb'))).toBe(true);

    // the tour, after Ctrl-C: a report and the health checks on the demo store
    const tour = block(readme, '## A tour');
    const report = tour.find((c) => c.startsWith('npx ocbridge report sessions'));
    const healthCmd = tour.find((c) => c.startsWith('npx ocbridge health'));
    expect(report && healthCmd).toBeTruthy();
    const r = spawnSync('sh', ['-c', report as string], {
      cwd: clone,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Total\s/m);
    const h = spawnSync('sh', ['-c', healthCmd as string], {
      cwd: clone,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    // the demo's own data passes every check (its models are priced as the bridge prices them)
    expect(h.status, h.stdout).toBe(0);
    expect(h.stdout).toMatch(/\d+ pass, 0 warn, 0 fail/);
  });
});
