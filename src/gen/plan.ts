/**
 * Corpus plan: projects, root sessions (with their number of sub-agent children), start times over
 * ~10 months, and which storage generation(s) each session family is written to.
 */
import { type Generation, generationForTime, TIMELINE, timeForU, versionFor } from './catalog.ts';
import type { Layout } from './manifest.ts';
import type { Rng } from './random.ts';
import type { ProjectRec } from './types.ts';

export interface Route {
  /** JSON tree (≤1.1.65). */
  json: boolean;
  /** opencode.db v1 tables: 'native' (1.2–1.18 write) or 'importer' (copy of the JSON session). */
  v1: 'native' | 'importer' | null;
  /** opencode.db v2 tables (native 2.x, or V1→V2 copy). */
  v2: boolean;
  /** opencode-beta.db v1 tables. */
  channel: 'native' | 'importer' | null;
}

export interface RootPlan {
  index: number;
  start: number;
  project: ProjectRec;
  children: number;
  generation: Generation;
  version: string;
  route: Route;
  continueInV2At?: number;
  crashLast: boolean;
  v2Events: boolean;
}

const PROJECT_NAMES = [
  'api-gateway',
  'web-dashboard',
  'billing-service',
  'mobile-app',
  'infra',
  'docs-site',
  'cli-tool',
  'data-pipeline',
  'auth-service',
  'design-system',
  'ml-experiments',
  'blog',
  'monorepo',
  'game-engine',
  'chat-bot',
  'scraper',
  'terraform-modules',
  'browser-extension',
  'rust-parser',
  'go-proxy',
  'notebook-utils',
  'homelab',
  'dotfiles',
  'search-index',
  'payments-sdk',
  'analytics',
  'wasm-demo',
  'compiler',
  'kv-store',
  'shop-frontend',
];
const ICON_COLORS = ['pink', 'mint', 'orange', 'purple', 'cyan', 'lime'];

export function planCorpus(
  rng: Rng,
  sessions: number,
  layout: Layout,
): { projects: ProjectRec[]; roots: RootPlan[] } {
  // 1. Families: roots with their child counts, exactly `sessions` sessions in total.
  const families: number[] = [];
  let total = 0;
  while (total < sessions) {
    const left = sessions - total - 1;
    let c = rng.chance(0.8)
      ? 0
      : rng.weighted([
          [1, 55],
          [2, 25],
          [3, 12],
          [4, 8],
        ] as const);
    c = Math.min(c, left);
    families.push(c);
    total += 1 + c;
  }
  const R = families.length;

  // 2. Projects (git SHAs + global), Zipf-weighted.
  const P = Math.max(2, Math.round(sessions / 38));
  const projects: ProjectRec[] = [];
  for (let i = 0; i < P; i++) {
    const name =
      PROJECT_NAMES[i % PROJECT_NAMES.length] +
      (i >= PROJECT_NAMES.length ? `-${Math.floor(i / PROJECT_NAMES.length)}` : '');
    const p: ProjectRec = {
      id: rng.hex(40),
      worktree: `/home/dev/src/${name}`,
      vcs: 'git',
      time: { created: 0, updated: 0 },
      sandboxes: [],
    };
    if (rng.chance(0.4)) p.name = name;
    if (rng.chance(0.2)) p.icon = { color: rng.pick(ICON_COLORS) };
    projects.push(p);
  }
  const global: ProjectRec = { id: 'global', worktree: '/', time: { created: 0, updated: 0 }, sandboxes: [] };
  projects.push(global);
  const weights = projects.map((p, i) => [p, p === global ? 0.09 * P : 1 / (i + 1) ** 0.9] as const);

  // 3. Start times: stratified over the timeline, at plausible hours of the day.
  const roots: RootPlan[] = [];
  for (let i = 0; i < R; i++) {
    const u = (i + rng.next()) / R;
    const t0 = Math.round(timeForU(u));
    const day = Math.floor(t0 / 86_400_000) * 86_400_000;
    const hour = rng.weighted([
      [7, 2],
      [8, 4],
      [9, 8],
      [10, 9],
      [11, 9],
      [13, 8],
      [14, 9],
      [15, 9],
      [16, 8],
      [17, 6],
      [19, 3],
      [21, 3],
      [23, 1],
    ] as const);
    let t = day + hour * 3_600_000 + rng.int(0, 3_599_999);
    if (generationForTime(t) !== generationForTime(t0)) t = t0;
    t = Math.min(Math.max(t, TIMELINE.start), TIMELINE.end);
    const project = rng.weighted(weights);
    roots.push({
      index: i,
      start: t,
      project,
      children: families[i] as number,
      generation: 'json',
      version: '',
      route: { json: false, v1: null, v2: false, channel: null },
      crashLast: false,
      v2Events: false,
    });
  }
  roots.sort((a, b) => a.start - b.start || a.index - b.index);

  // 4. Routing.
  const v1Roots = roots.filter((r) => generationForTime(r.start) === 'v1');
  const channelEvery = Math.max(2, Math.round(v1Roots.length / Math.max(2, Math.round(R * 0.012))));
  let v1i = 0;
  let jsonSeen = 0;
  for (const r of roots) {
    const era = generationForTime(r.start);
    if (layout === 'mixed') {
      r.generation = era;
      r.version = versionFor(r.start, era);
      if (era === 'json') {
        r.route = { json: true, v1: 'importer', v2: false, channel: jsonSeen < 3 ? 'importer' : null };
        jsonSeen++;
      } else if (era === 'v1') {
        const channelOnly = v1i % channelEvery === Math.floor(channelEvery / 2);
        v1i++;
        if (channelOnly) r.route = { json: false, v1: null, v2: false, channel: 'native' };
        else {
          const copy = r.start >= TIMELINE.v2Upgrade - 25 * 86_400_000;
          r.route = { json: false, v1: 'native', v2: copy, channel: null };
          if (copy && rng.chance(0.5)) r.continueInV2At = TIMELINE.v2Upgrade;
        }
      } else {
        r.route = { json: false, v1: null, v2: true, channel: null };
        r.v2Events = true;
      }
    } else {
      r.generation = layout;
      r.version = versionFor(r.start, layout);
      r.route = {
        json: layout === 'json',
        v1: layout === 'v1' ? 'native' : null,
        v2: layout === 'v2',
        channel: null,
      };
      r.v2Events = layout === 'v2';
    }
    r.crashLast = rng.chance(0.003);
  }
  const lastRoot = roots[roots.length - 1];
  if (lastRoot) lastRoot.crashLast = true;

  // 5. Project times from the sessions that use them.
  for (const p of projects) {
    const used = roots.filter((r) => r.project === p);
    const first = used.length > 0 ? used[0]!.start : TIMELINE.start;
    const last = used.length > 0 ? used[used.length - 1]!.start : TIMELINE.start;
    p.time.created = first - rng.int(60_000, 3 * 86_400_000);
    p.time.updated = last;
    if (p.vcs) p.time.initialized = p.time.created + rng.int(5_000, 600_000);
  }
  return { projects, roots };
}
