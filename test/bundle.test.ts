/**
 * The bin's start-up bundle (src/cli/bundle.mjs): rebuilt when any source changes, never stale,
 * the same meaning as the sources, and tsx when it cannot be built.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { bundledMain, sourceKey } from '../src/cli/bundle.mjs';
import { generateCorpus } from '../src/gen/index.ts';
import type { JsonFileRef } from '../src/ingest/json-tree.ts';
import { type ChunkResult, parseChunk } from '../src/ingest/json-worker.ts';
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

  it('bundles the JSON parser thread too: it parses a chunk as the sources do', async () => {
    const b = await bundledMain({ env: {} }); // in node_modules/.cache, where its packages resolve
    const dir = tempDir('ocb-worker-');
    const path = join(dir, 'ses_1.json');
    writeFileSync(
      path,
      JSON.stringify({
        id: 'ses_1',
        projectID: 'prj_1',
        title: 't',
        version: '1.1.65',
        time: { created: 1, updated: 2 },
      }),
    );
    const ref: JsonFileRef = {
      kind: 'session',
      path,
      id: 'ses_1',
      parentId: 'prj_1',
      size: statSync(path).size,
      mtimeUs: 0,
    };
    const w = new Worker(new URL('json-worker.js', b!.url));
    try {
      const got = await new Promise<ChunkResult>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
        w.postMessage({ id: 7, refs: [ref] });
      });
      expect(got).toEqual(parseChunk(7, [ref]));
      expect(got.recordCounts).toEqual([1]);
    } finally {
      await w.terminate();
    }
  });

  it('the bin ingests a tree of several chunks through the bundled parser thread', async () => {
    const dir = tempDir('ocb-corpus-');
    const m = await generateCorpus({ out: dir, sessions: 14, seed: 7, layout: 'json' });
    const r = cli([
      'ingest',
      '--source',
      dir,
      '--db',
      join(dir, 's.duckdb'),
      '--format',
      'json',
      '--workers',
      '1',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { files: { parsed: number }; tables: Record<string, number> };
    expect(s.files.parsed).toBeGreaterThan(1000); // more than one chunk: parsed on the worker thread
    expect(s.tables).toMatchObject({
      sessions: m.totals.sessions,
      messages: m.totals.messages,
      parts: m.totals.parts,
    });
  });
});
