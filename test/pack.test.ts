/**
 * Installs like any CLI tool: `npm pack` builds the bundle (prepack), the tarball installs into an
 * empty prefix, and `ocbridge` runs from there, away from the clone: --version, ingest, report.
 *
 * Dependencies come from the npm cache that `npm ci` filled (--prefer-offline). Install scripts are
 * skipped and better-sqlite3's native addon, which `npm ci` already compiled or downloaded for this
 * machine, is copied in: building it again from source takes ~9 minutes on 2 cores, and it is the
 * same binary. Everything else the installed CLI loads comes from the tarball and the prefix.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../src/version.ts';
import { tempDir } from './support/datadir.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURE = join(ROOT, 'test', 'fixtures', 'opencode-real', 'datadir');
const NATIVE = join('better-sqlite3', 'build', 'Release', 'better_sqlite3.node');

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 240_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

describe('the packed tarball', () => {
  it('installs into an empty prefix and runs --version, ingest and report from there', () => {
    const out = tempDir('ocb-pack-');
    const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', out], ROOT)) as {
      filename: string;
      files: { path: string }[];
    }[];
    const files = packed[0]?.files.map((f) => f.path) ?? [];
    expect(files).toContain('dist/main.js');
    expect(files).toContain('bin/ocbridge.js');
    expect(files.filter((f) => f.endsWith('.ts'))).toEqual([]); // the sources ship as the bundle
    expect(existsSync(join(ROOT, 'dist'))).toBe(false); // postpack: no bundle left in the clone

    const prefix = tempDir('ocb-prefix-');
    run(
      'npm',
      [
        'install',
        '--prefix',
        prefix,
        '--prefer-offline',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        join(out, packed[0]?.filename ?? ''),
      ],
      prefix,
    );
    const native = join(prefix, 'node_modules', NATIVE);
    mkdirSync(join(native, '..'), { recursive: true });
    copyFileSync(join(ROOT, 'node_modules', NATIVE), native);
    expect(existsSync(join(prefix, 'node_modules', 'tsx'))).toBe(false); // build-only packages stay out
    expect(existsSync(join(prefix, 'node_modules', 'esbuild'))).toBe(false);

    // a working dir with no access to the clone: its own copy of the data, its own store
    const work = tempDir('ocb-user-');
    cpSync(FIXTURE, join(work, 'data'), { recursive: true });
    const bin = join(prefix, 'node_modules', '.bin', 'ocbridge');
    const env = { PATH: process.env.PATH, HOME: work, XDG_DATA_HOME: join(work, 'share') };
    expect(run(bin, ['--version'], work, env).trim()).toBe(VERSION);
    const ingest = run(bin, ['ingest', '--source', join(work, 'data')], work, env);
    expect(ingest).toMatch(/loaded +5 sessions .*\n +usage +64,082 tokens, \$0\.08/);
    expect(existsSync(join(work, 'share', 'ocbridge', 'ocbridge.duckdb'))).toBe(true);
    const report = run(bin, ['report', 'daily'], work, env);
    expect(report).toMatch(/Total\s+5\s.*64,082\s+\$0\.08/);
  }, 400_000);
});
