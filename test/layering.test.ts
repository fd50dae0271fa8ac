import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Imports flow one way along the data path: ingest → store → otel | api → pipeline → cli. The pure
 * domain rules (`src/domain`: pricing, error taxonomy, trace IDs, provider names) import nothing of
 * the project and every stage may use them. A module may import its own stage, an earlier one, or a
 * top-level `src/*.ts`; otel and api are peers and stay apart; the engine (`src/pipeline`: bulk load,
 * live following, derivation scheduling, trace-export loop) sits under the CLI, which only parses
 * arguments and wires. The corpus generator (`src/gen`) stands alone; only the CLI uses it.
 */
const ALLOWED: Record<string, readonly string[]> = {
  domain: ['domain'],
  ingest: ['domain', 'ingest'],
  store: ['domain', 'ingest', 'store'],
  otel: ['domain', 'ingest', 'store', 'otel'],
  api: ['domain', 'ingest', 'store', 'api'],
  pipeline: ['domain', 'ingest', 'store', 'otel', 'pipeline'],
  cli: ['domain', 'ingest', 'store', 'otel', 'api', 'pipeline', 'gen', 'cli'],
  gen: ['gen'],
};
const SRC = resolve(import.meta.dirname, '..', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.(ts|mts|mjs)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}
const stageOf = (file: string) => {
  const rel = relative(SRC, file).split(sep);
  return rel.length > 1 ? rel[0] : undefined; // a top-level file belongs to no stage
};

describe('module layering', () => {
  it('no stage imports a later one', () => {
    const violations: string[] = [];
    for (const file of sources(SRC)) {
      const from = stageOf(file);
      if (!from) continue;
      const allowed = ALLOWED[from];
      expect(allowed, `unknown stage src/${from}`).toBeDefined();
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from|import\()\s*['"](\.[^'"]+)['"]/g)) {
        const to = stageOf(resolve(dirname(file), m[1] as string));
        if (to && !allowed?.includes(to)) violations.push(`${relative(SRC, file)} imports ${m[1]}`);
      }
    }
    expect(violations).toEqual([]);
  });
});
