import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, resolve, sep } from 'node:path';
import { init, parse } from 'es-module-lexer';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * Imports flow one way along the data path: ingest → store → otel | api → pipeline → cli. The pure
 * domain rules (`src/domain`: pricing, error taxonomy, trace IDs, provider names) import nothing of
 * the project and every stage may use them. A module may import its own stage, an earlier one, or a
 * top-level `src/*.ts`; otel and api are peers and stay apart; the engine (`src/pipeline`: bulk load,
 * live following, derivation scheduling, trace-export loop) sits under the CLI, which only parses
 * arguments and wires. The corpus generator (`src/gen`) stands alone; only the CLI uses it. The web
 * view (`src/web`: page shells and browser assets) reads the API over HTTP only and imports no stage.
 */
const ALLOWED: Record<string, readonly string[]> = {
  domain: ['domain'],
  ingest: ['domain', 'ingest'],
  store: ['domain', 'ingest', 'store'],
  otel: ['domain', 'ingest', 'store', 'otel'],
  api: ['domain', 'ingest', 'store', 'api'],
  pipeline: ['domain', 'ingest', 'store', 'otel', 'pipeline'],
  web: ['web'],
  cli: ['domain', 'ingest', 'store', 'otel', 'api', 'pipeline', 'web', 'gen', 'cli'],
  gen: ['gen'],
};

/**
 * Packages each stage may load (`node:` built-ins everywhere). A stage that needs a new one says so
 * here; the CLI may use any runtime dependency. Every package used in src/ must be a runtime
 * dependency (not a devDependency) of package.json.
 */
const PACKAGES: Record<string, readonly string[]> = {
  '': [],
  domain: ['zod'],
  ingest: ['better-sqlite3', 'zod', 'tsx'],
  store: ['@duckdb/node-api'],
  otel: ['@duckdb/node-api', '@opentelemetry/*'],
  api: ['@duckdb/node-api', 'hono', '@hono/*', 'zod', 'pino'],
  pipeline: ['@duckdb/node-api', 'pino'],
  cli: ['*'],
  gen: ['better-sqlite3'],
  web: ['hono', '@hono/*'],
};

/**
 * Layers inside src/otel: the pinned names and the resource are shared; the export ledger is read by
 * the trace export and by the backlog metric; the trace path and the metrics stay apart.
 */
const OTEL_LAYER = (rel: string): string =>
  rel.startsWith('otel/metrics/')
    ? 'metrics'
    : ['otel/semconv.ts', 'otel/resource.ts'].includes(rel)
      ? 'names'
      : rel === 'otel/ledger.ts'
        ? 'ledger'
        : 'traces';
const OTEL_ALLOWED: Record<string, readonly string[]> = {
  names: ['names'],
  ledger: ['names', 'ledger'],
  traces: ['names', 'ledger', 'traces'],
  metrics: ['names', 'ledger', 'metrics'],
};

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** A source file: its path relative to src/ (posix) and its text. */
interface Source {
  rel: string;
  text: string;
}

/** Every specifier a module loads: static and side-effect imports, re-exports, dynamic imports, worker URLs. */
function specifiers(src: Source): string[] {
  const [imports] = parse(src.text, src.rel);
  const out: string[] = [];
  for (const i of imports) {
    if (i.d === -2) {
      // import.meta: a `new URL('…', import.meta.url)` names a file this module loads (a worker, data)
      const before = src.text.slice(Math.max(0, i.ss - 300), i.ss);
      const m = /new\s+URL\(([^()]*?),\s*$/.exec(before);
      if (m) for (const s of (m[1] ?? '').matchAll(/(['"`])([^'"`]+)\1/g)) out.push(s[2] as string);
      continue;
    }
    if (i.n !== undefined) out.push(i.n);
    else out.push(`<computed ${src.text.slice(i.ss, i.se)}>`); // a dynamic import of a computed name
  }
  return out;
}

const stageOf = (rel: string) => {
  const parts = rel.split('/');
  return parts.length > 1 ? (parts[0] as string) : ''; // '': a top-level file (no stage)
};
const packageOf = (spec: string) =>
  spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string);
/**
 * Build tools, dev dependencies: loaded only by the two files that run in a clone, never from the
 * published package, whose bin runs the bundle built at pack time (dist/; docs/architecture.md).
 */
const CLONE_ONLY: Record<string, readonly string[]> = {
  'cli/bundle.mjs': ['esbuild'],
  'ingest/json-worker-boot.mjs': ['tsx'],
};

const allows = (patterns: readonly string[], name: string) =>
  patterns.some((p) => p === '*' || p === name || (p.endsWith('/*') && name.startsWith(p.slice(0, -1))));

/** What breaks the layering, one line per offending import. */
function violations(sources: readonly Source[]): string[] {
  const out: string[] = [];
  for (const src of sources) {
    const from = stageOf(src.rel);
    const allowed = ALLOWED[from];
    if (from && !allowed) {
      out.push(`${src.rel}: unknown stage src/${from}`);
      continue;
    }
    for (const spec of specifiers(src)) {
      const bad = (why: string) => out.push(`${src.rel} imports ${spec}: ${why}`);
      if (spec.startsWith('<computed')) {
        bad('a computed specifier cannot be checked');
        continue;
      }
      if (spec.startsWith('node:')) continue;
      if (!spec.startsWith('.')) {
        const name = packageOf(spec);
        if (CLONE_ONLY[src.rel]?.includes(name) && name in pkg.devDependencies) continue;
        if (!(name in pkg.dependencies)) bad('not a runtime dependency in package.json');
        else if (!allows(PACKAGES[from] ?? [], name)) bad(`package not allowed in ${from || 'src/'}`);
        continue;
      }
      const target = posix.normalize(posix.join(posix.dirname(src.rel), spec));
      if (target.startsWith('..')) continue; // outside src/ (package.json, the bin)
      const to = stageOf(target);
      if (to && from && !allowed?.includes(to)) bad(`${from} may not import ${to}`);
      if (to && !from) bad('a top-level file imports no stage');
      if (from === 'otel' && to === 'otel') {
        const a = OTEL_LAYER(src.rel);
        const b = OTEL_LAYER(target);
        if (!OTEL_ALLOWED[a]?.includes(b)) bad(`otel ${a} may not import otel ${b}`);
      }
    }
  }
  return out;
}

function sources(dir: string): Source[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : /\.(ts|mts|mjs)$/.test(e.name)
        ? [
            {
              rel: relative(SRC, join(dir, e.name)).split(sep).join('/'),
              text: readFileSync(join(dir, e.name), 'utf8'),
            },
          ]
        : [],
  );
}

describe('module layering', () => {
  beforeAll(async () => {
    await init;
  });

  it('no stage imports a later one, a package it may not use, or another otel layer', () => {
    expect(violations(sources(SRC))).toEqual([]);
  });

  it('sees every form of import (each injected violation is found)', () => {
    const store = (text: string) => violations([{ rel: 'store/x.ts', text }]);
    // static, type-only, side-effect, re-export, dynamic, import type, worker URL
    expect(store("import { a } from '../cli/format.ts';")).toHaveLength(1);
    expect(store("import type { A } from '../cli/format.ts';")).toHaveLength(1);
    expect(store("import '../cli/format.ts';")).toHaveLength(1);
    expect(store("export * from '../cli/format.ts';")).toHaveLength(1);
    expect(store("export { a } from '../cli/format.ts';")).toHaveLength(1);
    expect(store("const m = await import('../cli/format.ts');")).toHaveLength(1);
    expect(store("type F = import('../cli/format.ts').F;")).toHaveLength(1);
    expect(store("new Worker(new URL('../cli/worker.mjs', import.meta.url));")).toHaveLength(1);
    expect(store("new Worker(new URL(x ?? '../cli/worker.mjs', import.meta.url));")).toHaveLength(1);
    expect(store('const m = await import(name);')).toHaveLength(1);
    // not imports: strings and comments
    expect(store("const s = \"import '../cli/format.ts'\"; // import '../cli/format.ts'")).toEqual([]);
    // packages: one this stage may not use, one that is no runtime dependency
    expect(store("import { Hono } from 'hono';")).toHaveLength(1);
    expect(store("import { x } from 'vitest';")).toHaveLength(1);
    expect(store("import { readFileSync } from 'node:fs';")).toEqual([]);
    // layers inside otel
    expect(
      violations([{ rel: 'otel/metrics/x.ts', text: "import { m } from '../mapping.ts';" }]),
    ).toHaveLength(1);
    expect(
      violations([{ rel: 'otel/export.ts', text: "import { m } from './metrics/usage.ts';" }]),
    ).toHaveLength(1);
    expect(violations([{ rel: 'otel/metrics/x.ts', text: "import { m } from '../semconv.ts';" }])).toEqual(
      [],
    );
    // a new folder must be given a place
    expect(violations([{ rel: 'extra/x.ts', text: '' }])).toHaveLength(1);
    // the domain imports nothing of the project
    expect(violations([{ rel: 'domain/x.ts', text: "import { q } from '../store/db.ts';" }])).toHaveLength(1);
  });
});
