/**
 * Static knowledge the generator draws from: the timeline of OpenCode releases and storage
 * generations, the model catalogue with hard-coded per-1M-token prices, agents and tools.
 */

export type Generation = 'json' | 'v1' | 'v2';

const D = (iso: string): number => Date.parse(iso);

/** Timeline anchors. Root sessions are spread over these with a piecewise-linear map of a uniform u. */
export const TIMELINE = {
  start: D('2025-10-27T00:00:00Z'),
  /** First run of 1.2.0: the one-time JSON→SQLite import happens here. */
  sqliteImport: D('2026-02-16T08:41:17.000Z'),
  /** The user installs OpenCode 2.x (v2 tables appear). */
  v2Upgrade: D('2026-08-20T07:12:00.000Z'),
  end: D('2026-09-12T00:00:00Z'),
  /** 2026-05-10: session.cost / tokens_* columns appear (earlier v1 rows keep 0). */
  sessionUsageColumns: D('2026-05-10T00:00:00Z'),
} as const;

/** Fraction of root sessions per era in the mixed layout. */
export const ERA_SHARE = { json: 0.4, v1: 0.45, v2: 0.15 } as const;

export function timeForU(u: number): number {
  const { start, sqliteImport, v2Upgrade, end } = TIMELINE;
  const jsonEnd = sqliteImport - 6 * 3600_000;
  if (u < ERA_SHARE.json) return start + (u / ERA_SHARE.json) * (jsonEnd - start);
  const u2 = u - ERA_SHARE.json;
  if (u2 < ERA_SHARE.v1)
    return sqliteImport + 3600_000 + (u2 / ERA_SHARE.v1) * (v2Upgrade - sqliteImport - 2 * 3600_000);
  const u3 = (u2 - ERA_SHARE.v1) / ERA_SHARE.v2;
  return v2Upgrade + 3600_000 + u3 * (end - v2Upgrade - 86_400_000);
}

export function generationForTime(t: number): Generation {
  if (t < TIMELINE.sqliteImport) return 'json';
  if (t < TIMELINE.v2Upgrade) return 'v1';
  return 'v2';
}

/** OpenCode releases as [first day in use, version]. */
const RELEASES: readonly (readonly [number, string])[] = [
  [D('2025-10-27'), '0.15.18'],
  [D('2025-10-30'), '0.15.31'],
  [D('2025-11-03'), '1.0.7'],
  [D('2025-11-12'), '1.0.55'],
  [D('2025-11-24'), '1.0.100'],
  [D('2025-12-04'), '1.0.134'],
  [D('2025-12-12'), '1.1.3'],
  [D('2025-12-28'), '1.1.21'],
  [D('2026-01-14'), '1.1.40'],
  [D('2026-01-30'), '1.1.58'],
  [D('2026-02-08'), '1.1.65'],
  [D('2026-02-16'), '1.2.0'],
  [D('2026-02-25'), '1.2.9'],
  [D('2026-03-10'), '1.4.2'],
  [D('2026-03-28'), '1.7.5'],
  [D('2026-04-15'), '1.10.3'],
  [D('2026-05-02'), '1.13.1'],
  [D('2026-05-28'), '1.15.12'],
  [D('2026-06-20'), '1.16.8'],
  [D('2026-07-10'), '1.17.4'],
  [D('2026-07-28'), '1.18.3'],
  [D('2026-08-12'), '1.18.31'],
  [D('2026-08-20'), '2.0.3'],
  [D('2026-08-28'), '2.0.7'],
  [D('2026-09-05'), '2.0.10'],
  [D('2026-09-09'), '2.0.14'],
];

export function generationOfVersion(v: string): Generation {
  const [maj, min] = v.split('.').map(Number) as [number, number];
  if (maj >= 2) return 'v2';
  if (maj === 1 && min >= 2) return 'v1';
  return 'json';
}

/** The version in use at time t, forced into generation `gen` (nearest release of that generation). */
export function versionFor(t: number, gen: Generation): string {
  let best = RELEASES[0]![1];
  for (const [from, v] of RELEASES) if (from <= t) best = v;
  if (generationOfVersion(best) === gen) return best;
  const ofGen = RELEASES.filter(([, v]) => generationOfVersion(v) === gen);
  const first = ofGen[0]!;
  const last = ofGen[ofGen.length - 1]!;
  return t < first[0] ? first[1] : last[1];
}

/** Feature levels derived from a version string. */
export interface Features {
  /** 0.x: no `agent` on messages, no user model. */
  agentField: boolean;
  /** ≥1.1: slug, tokens.total, permission, compaction.auto, variant top-level. */
  v11: boolean;
  /** ≥1.2: SQLite era shapes (variant inside model, compaction overflow, task metadata.parentSessionId). */
  v12: boolean;
  /** ≥2.0 */
  v2: boolean;
  /** ≤1.0.x: an assistant message may hold several steps (older loop). */
  multiStep: boolean;
}

export function featuresOf(version: string): Features {
  const [maj, min] = version.split('.').map(Number) as [number, number];
  const v = maj * 1000 + min;
  return {
    agentField: v >= 1000,
    v11: v >= 1001,
    v12: v >= 1002,
    v2: v >= 2000,
    multiStep: v < 1001,
  };
}

// ---------------------------------------------------------------------------------------------
// Models and prices
// ---------------------------------------------------------------------------------------------

/**
 * Prices in USD per 1M tokens, as models.dev lists them (the same rows the vendored pricing snapshot,
 * src/domain/pricing/snapshot.json, cites): the recorded cost of generated data agrees with the cost
 * the bridge computes, so the demo passes its own health checks (test/demo-health.test.ts).
 */
export interface Price {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

export type CacheStyle = 'anthropic' | 'openai' | 'google' | 'none';

export interface ModelDef {
  providerID: string;
  modelID: string;
  price: Price;
  /** Subscription / free: OpenCode records cost 0 although tokens are non-zero. */
  free: boolean;
  cache: CacheStyle;
  /** Provider reports reasoning tokens (OpenAI/Google do, Anthropic does not). */
  reportsReasoning: boolean;
  /** Emits reasoning parts. */
  reasoningParts: boolean;
  availableFrom: number;
  availableUntil: number;
  weight: number;
}

const P = (input: number, output: number, cacheRead: number, cacheWrite: number): Price => ({
  input,
  output,
  cacheRead,
  cacheWrite,
});
const ALWAYS = D('2025-01-01');
const NEVER = D('2030-01-01');

export const MODELS: readonly ModelDef[] = [
  m(
    'anthropic',
    'claude-sonnet-4-5',
    P(3, 15, 0.3, 3.75),
    false,
    'anthropic',
    false,
    true,
    ALWAYS,
    NEVER,
    30,
  ),
  m(
    'anthropic',
    'claude-opus-4-1',
    P(15, 75, 1.5, 18.75),
    false,
    'anthropic',
    false,
    true,
    ALWAYS,
    D('2026-01-20'),
    6,
  ),
  m(
    'anthropic',
    'claude-opus-4-5',
    P(5, 25, 0.5, 6.25),
    false,
    'anthropic',
    false,
    true,
    D('2025-11-25'),
    NEVER,
    9,
  ),
  m(
    'anthropic',
    'claude-haiku-4-5',
    P(1, 5, 0.1, 1.25),
    false,
    'anthropic',
    false,
    false,
    D('2025-10-16'),
    NEVER,
    5,
  ),
  m('openai', 'gpt-5', P(1.25, 10, 0.125, 0), false, 'openai', true, true, ALWAYS, NEVER, 9),
  m('openai', 'gpt-5-mini', P(0.25, 2, 0.025, 0), false, 'openai', true, true, ALWAYS, NEVER, 4),
  m('openai', 'gpt-5-codex', P(1.25, 10, 0.125, 0), false, 'openai', true, true, ALWAYS, NEVER, 6),
  m('openai', 'gpt-5.1-codex', P(1.25, 10, 0.125, 0), false, 'openai', true, true, D('2025-11-14'), NEVER, 5),
  m('google', 'gemini-2.5-pro', P(1.25, 10, 0.125, 0), false, 'google', true, true, ALWAYS, NEVER, 5),
  m('google', 'gemini-2.5-flash', P(0.3, 2.5, 0.03, 0), false, 'google', true, false, ALWAYS, NEVER, 2),
  m(
    'google',
    'gemini-3-pro-preview',
    P(2, 12, 0.2, 0),
    false,
    'google',
    true,
    true,
    D('2025-11-19'),
    NEVER,
    3,
  ),
  m('openrouter', 'moonshotai/kimi-k2', P(0.57, 2.3, 0, 0), false, 'openai', false, false, ALWAYS, NEVER, 2),
  m('openrouter', 'z-ai/glm-4.6', P(0.5, 2, 0.1, 0), false, 'openai', true, true, ALWAYS, NEVER, 2),
  m('github-copilot', 'claude-sonnet-4.5', P(0, 0, 0, 0), true, 'anthropic', false, true, ALWAYS, NEVER, 5),
  m('github-copilot', 'gpt-5-mini', P(0, 0, 0, 0), true, 'openai', true, true, ALWAYS, NEVER, 3),
  m('github-copilot', 'gpt-4.1', P(0, 0, 0, 0), true, 'openai', false, false, ALWAYS, NEVER, 1),
  m('opencode', 'grok-code', P(0, 0, 0, 0), true, 'openai', true, true, ALWAYS, D('2026-03-01'), 4),
  m('opencode', 'big-pickle', P(0, 0, 0, 0), true, 'openai', true, true, D('2025-11-01'), NEVER, 3),
  m('opencode', 'claude-sonnet-4-5', P(3, 15, 0.3, 3.75), false, 'anthropic', false, true, ALWAYS, NEVER, 3),
  m('opencode', 'gpt-5-codex', P(1.07, 8.5, 0.107, 0), false, 'openai', true, true, ALWAYS, NEVER, 1),
];

function m(
  providerID: string,
  modelID: string,
  price: Price,
  free: boolean,
  cache: CacheStyle,
  reportsReasoning: boolean,
  reasoningParts: boolean,
  availableFrom: number,
  availableUntil: number,
  weight: number,
): ModelDef {
  return {
    providerID,
    modelID,
    price,
    free,
    cache,
    reportsReasoning,
    reasoningParts,
    availableFrom,
    availableUntil,
    weight,
  };
}

export function modelKey(def: { providerID: string; modelID: string }): string {
  return `${def.providerID}/${def.modelID}`;
}

export interface TokenCounts {
  input: number;
  output: number;
  reasoning: number;
  cache: { read: number; write: number };
}

/** Price as integer milli-USD per 1M tokens (exact for every price in the table). */
const milli = (x: number): number => Math.round(x * 1000);

/**
 * OpenCode's formula (Session.getUsage): (input·in + output·out + cache.read·cr + cache.write·cw + reasoning·out) / 1e6.
 * Computed exactly in integers (nano-USD) and divided once, so the double equals Decimal.js(...).toNumber().
 */
export function costNanoUsd(price: Price, t: TokenCounts): number {
  return (
    t.input * milli(price.input) +
    t.output * milli(price.output) +
    t.cache.read * milli(price.cacheRead) +
    t.cache.write * milli(price.cacheWrite) +
    t.reasoning * milli(price.output)
  );
}

export function costUsd(price: Price, t: TokenCounts): number {
  return costNanoUsd(price, t) / 1e9;
}

export const ZERO_PRICE: Price = P(0, 0, 0, 0);

// ---------------------------------------------------------------------------------------------
// Agents and tools
// ---------------------------------------------------------------------------------------------

export const PRIMARY_AGENTS: readonly (readonly [string, number])[] = [
  ['build', 78],
  ['plan', 16],
  ['docs-writer', 3],
  ['reviewer', 3],
];

export const SUBAGENTS: readonly (readonly [string, number])[] = [
  ['general', 60],
  ['explore', 40],
];

export const TOOL_WEIGHTS: readonly (readonly [string, number])[] = [
  ['read', 40],
  ['bash', 20],
  ['edit', 14],
  ['grep', 9],
  ['glob', 5],
  ['write', 4],
  ['list', 3],
  ['todowrite', 4],
  ['webfetch', 2],
  ['context7_get-library-docs', 1],
];
