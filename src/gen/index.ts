/**
 * generateCorpus: writes a deterministic, realistic OpenCode data dir (JSON tree, v1 and/or v2 SQLite
 * tables, channel DB) and returns the manifest of what a lossless ingester must find.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TIMELINE } from './catalog.ts';
import { ContentPools } from './content.ts';
import { IdFactory } from './ids.ts';
import { type Layout, type Manifest, ManifestBuilder } from './manifest.ts';
import { type GenContext, Quota, SessionBuilder } from './model.ts';
import { planCorpus } from './plan.ts';
import { Rng } from './random.ts';
import type { SessionRec } from './types.ts';
import { JsonSink } from './write-json.ts';
import { SqliteSink } from './write-sqlite.ts';

export { costUsd, MODELS, modelKey } from './catalog.ts';
export { ID_CLOCK_WRAPS_MS, ID_RE, idEncodedMs, idEncodedValue, PROJECT_ID_RE } from './ids.ts';
export type { Layout, Manifest } from './manifest.ts';

export const LAYOUTS: readonly Layout[] = ['mixed', 'json', 'v1', 'v2'];
export const DB_FILE = 'opencode.db';
export const CHANNEL_DB_FILE = 'opencode-beta.db';
export const MANIFEST_FILE = 'manifest.json';

export interface CorpusOptions {
  out: string;
  sessions: number;
  seed?: string | number;
  layout?: Layout;
  /** Delete `out` first if it exists (default true; refuses a non-empty dir that has no manifest.json). */
  clean?: boolean;
  onProgress?: (done: number, total: number) => void;
}

function flatten(s: SessionRec, out: SessionRec[] = []): SessionRec[] {
  out.push(s);
  for (const c of s.children) flatten(c, out);
  return out;
}

export async function generateCorpus(opts: CorpusOptions): Promise<Manifest> {
  const layout = opts.layout ?? 'mixed';
  if (!LAYOUTS.includes(layout)) throw new Error(`unknown layout ${layout}`);
  if (!Number.isInteger(opts.sessions) || opts.sessions < 1)
    throw new Error('sessions must be a positive integer');
  const seed = String(opts.seed ?? 1);
  const out = resolve(opts.out);
  if (existsSync(out) && (opts.clean ?? true)) {
    const entries = readdirSync(out);
    if (entries.length > 0 && !entries.includes(MANIFEST_FILE)) {
      throw new Error(`refusing to clean ${out}: not empty and has no ${MANIFEST_FILE}`);
    }
    rmSync(out, { recursive: true, force: true });
  }
  mkdirSync(out, { recursive: true });

  const rng = new Rng(`opencode-corpus:${seed}`);
  const ctx: GenContext = {
    ids: new IdFactory(rng.fork('ids')),
    pools: new ContentPools(rng.fork('pools')),
    quota: new Quota(),
  };
  const { projects, roots } = planCorpus(rng.fork('plan'), opts.sessions, layout);

  const json = new JsonSink(out);
  const useJson = layout === 'json' || layout === 'mixed';
  const db = layout === 'json' ? null : new SqliteSink(join(out, DB_FILE), layout !== 'v1');
  const channel = layout === 'mixed' ? new SqliteSink(join(out, CHANNEL_DB_FILE), false) : null;
  const mf = new ManifestBuilder();

  if (useJson) {
    json.writeMigrationMarker();
    for (const p of projects) {
      json.writeProject(p);
      mf.project('json', p.id);
    }
  }
  if (db) {
    db.transaction(() => {
      for (const p of projects) {
        db.insertProject(p);
        mf.project(layout === 'v2' ? 'v2' : 'v1', p.id);
      }
      if (layout === 'mixed') db.markDataMigration('json-import', TIMELINE.sqliteImport);
    });
  }

  let done = 0;
  for (const r of roots) {
    const rec = new SessionBuilder(
      ctx,
      {
        start: r.start,
        project: r.project,
        version: r.version,
        generation: r.generation,
        children: r.children,
        ...(r.continueInV2At !== undefined ? { continueInV2At: r.continueInV2At } : {}),
        crashLast: r.crashLast,
        v2Events: r.v2Events,
      },
      rng.fork(`session:${r.index}`),
    ).build();
    const family = flatten(rec);
    if (r.route.json) for (const s of family) mf.v1Style('json', s, json.writeSession(s));
    if (db && r.route.v1) {
      const importer = r.route.v1 === 'importer';
      db.transaction(() => {
        for (const s of family) mf.v1Style('v1', s, db.insertV1Session(s, importer));
      });
    }
    if (db && r.route.v2) {
      db.transaction(() => {
        for (const s of family) mf.v2('v2', s, db.insertV2Session(s));
      });
    }
    if (channel && r.route.channel) {
      const importer = r.route.channel === 'importer';
      channel.transaction(() => {
        if (!channel.hasProject(r.project.id)) {
          channel.insertProject(r.project);
          mf.project('channel:v1', r.project.id);
        }
        for (const s of family) mf.v1Style('channel:v1', s, channel.insertV1Session(s, importer));
      });
    }
    for (const s of family) {
      if (s.diffs) {
        json.writeSessionDiff(s.info.id, s.diffs);
        mf.sessionDiff();
      }
    }
    done += family.length;
    opts.onProgress?.(done, opts.sessions);
  }

  db?.close();
  channel?.close();
  await json.close();

  const manifest = mf.build(
    {
      seed,
      layout,
      sessionsRequested: opts.sessions,
      files: {
        storage: json.stats.files > 0 ? 'storage' : null,
        db: db ? DB_FILE : null,
        channelDbs: channel ? [CHANNEL_DB_FILE] : [],
        sessionDiffOnlyJson: !useJson,
      },
    },
    { count: json.stats.files, bytes: json.stats.bytes, byDir: json.stats.byDir },
  );
  writeFileSync(join(out, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
