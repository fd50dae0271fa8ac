/**
 * The bin's start-up bundle (src/cli/bundle.mjs): rebuilt when any source changes, never stale,
 * the same meaning as the sources, and tsx when it cannot be built.
 */
import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundledMain, sourceKey } from '../src/cli/bundle.mjs';
import { VERSION } from '../src/version.ts';
import { cli } from './support/cli.ts';
import { tempDir } from './support/datadir.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('sourceKey', () => {
  it('changes when a file changes, is touched or is added, and only then', () => {
    const src = tempDir('ocb-key-');
    mkdirSync(join(src, 'cli'));
    writeFileSync(join(src, 'cli', 'a.ts'), 'export const a = 1;\n');
    writeFileSync(join(src, 'b.mjs'), 'export const b = 1;\n');
    const k0 = sourceKey(src);
    expect(sourceKey(src)).toBe(k0);

    writeFileSync(join(src, 'cli', 'a.ts'), 'export const a = 22;\n');
    const k1 = sourceKey(src);
    expect(k1).not.toBe(k0);

    const later = new Date(Date.now() + 5000);
    utimesSync(join(src, 'b.mjs'), later, later);
    const k2 = sourceKey(src);
    expect(k2).not.toBe(k1);

    writeFileSync(join(src, 'cli', 'c.json'), '{}');
    expect(sourceKey(src)).not.toBe(k2);
  });
});

describe('bundledMain', () => {
  it('builds once per source state, then reuses the bundle; it runs the CLI', async () => {
    const cacheDir = tempDir('ocb-bundle-');
    const first = await bundledMain({ cacheDir, env: {} });
    expect(first?.built).toBe(true);
    const second = await bundledMain({ cacheDir, env: {} });
    expect(second).toEqual({ url: first?.url, built: false });
    expect(readdirSync(cacheDir)).toEqual([sourceKey(join(ROOT, 'src'))]);

    const mod = (await import(first!.url)) as { main?: unknown };
    expect(typeof mod.main).toBe('function');
  });

  it('shares the plain-JS modules with the bin and keeps each source file’s own import.meta.url', async () => {
    const cacheDir = tempDir('ocb-bundle-');
    const b = await bundledMain({ cacheDir, env: {} });
    const dir = fileURLToPath(new URL('.', b!.url));
    const code = readdirSync(dir)
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(join(dir, f), 'utf8'))
      .join('\n');
    // list-dirs.mjs holds the prefetched listing in its module state: imported, never copied
    const listDirs = pathToFileURL(join(ROOT, 'src/ingest/list-dirs.mjs')).href;
    expect(code).toContain(JSON.stringify(listDirs));
    expect(code).not.toMatch(/function takeListing/);
    // version.ts reads ../package.json next to its own source, not next to the bundle
    expect(code).toContain(JSON.stringify(pathToFileURL(join(ROOT, 'src/version.ts')).href));
    expect(code).not.toMatch(/import\.meta\.url/);
  });

  it('is not used with OCBRIDGE_NO_BUNDLE=1, or where it cannot be built', async () => {
    expect(await bundledMain({ env: { OCBRIDGE_NO_BUNDLE: '1' } })).toBeUndefined();
    const file = join(tempDir('ocb-bundle-'), 'not-a-dir');
    writeFileSync(file, '');
    expect(await bundledMain({ cacheDir: join(file, 'cache'), env: {} })).toBeUndefined();
  });

  it('the bin answers alike through the bundle and through tsx', () => {
    const bundled = cli(['--version']);
    const tsx = cli(['--version'], { OCBRIDGE_NO_BUNDLE: '1' });
    expect(bundled.status, bundled.stderr).toBe(0);
    expect(tsx.status, tsx.stderr).toBe(0);
    expect(bundled.stdout.trim()).toBe(VERSION);
    expect(tsx.stdout.trim()).toBe(VERSION);
    expect(cli(['ingest', '--help']).stdout).toBe(
      cli(['ingest', '--help'], { OCBRIDGE_NO_BUNDLE: '1' }).stdout,
    );
  });
});
