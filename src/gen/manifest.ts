/**
 * The manifest: what a correct, lossless ingester must find, computed from what the sinks wrote.
 * Dedup is by ID across all sources (JSON tree, opencode.db v1 tables, v2 tables, channel DBs).
 */
import { costUsd, MODELS, modelKey, type Price } from './catalog.ts';
import type { MessageRec, PartRec, RowRec, SessionRec } from './types.ts';
import { messageTokens, type V2Row } from './v2.ts';

export type Layout = 'mixed' | 'json' | 'v1' | 'v2';
export type SourceName = 'json' | 'v1' | 'v2' | 'channel:v1';

export interface SourceCounts {
  projects: number;
  sessions: number;
  messages: number;
  parts: number;
  todos: number;
}

export interface TokenSums {
  input: number;
  output: number;
  reasoning: number;
  cache_read: number;
  cache_write: number;
}

export interface ModelTotals extends TokenSums {
  assistantMessages: number;
  cost: number;
  /** Cost at list price (what a repricing engine gets; differs from `cost` for free/subscription use). */
  listPriceCost: number;
}

export interface Manifest {
  generator: string;
  formatVersion: 1;
  seed: string;
  layout: Layout;
  sessionsRequested: number;
  files: { storage: string | null; db: string | null; channelDbs: string[]; sessionDiffOnlyJson: boolean };
  timeRange: { firstSessionCreated: string; lastSessionCreated: string; idClockWrap: string };
  totals: {
    projects: number;
    sessions: number;
    rootSessions: number;
    childSessions: number;
    messages: number;
    messagesByRole: Record<string, number>;
    parts: number;
    partsByType: Record<string, number>;
    v2OnlyContentByType: Record<string, number>;
    toolCalls: number;
    toolCallsByStatus: Record<string, number>;
    toolCallsByTool: Record<string, number>;
    tokens: TokenSums;
    cost: number;
    costNanoUsd: number;
    errorsByName: Record<string, number>;
    assistantMessagesWithoutCompleted: number;
    assistantMessagesMultiStep: number;
    zeroCostAssistantMessagesWithTokens: number;
    compactionSummaries: number;
    revertedSessions: number;
    sessionsWithTodos: number;
    todoItems: number;
    sessionDiffFiles: number;
    messagesAfterIdClockWrap: number;
  };
  bySource: Record<string, SourceCounts & { v2Rows?: number }>;
  byModel: Record<string, ModelTotals>;
  pricing: Record<string, Price & { free: boolean }>;
  jsonFiles: { count: number; bytes: number; byDir: Record<string, { files: number; bytes: number }> };
  notes: string[];
}

const inc = (o: Record<string, number>, k: string, n = 1): void => {
  o[k] = (o[k] ?? 0) + n;
};

const WRAP = 2 ** 36 * 26;

export class ManifestBuilder {
  private readonly sessions = new Set<string>();
  private readonly messages = new Set<string>();
  private readonly parts = new Set<string>();
  private readonly todoSessions = new Set<string>();
  private readonly projects = new Set<string>();
  readonly bySource: Record<string, SourceCounts & { v2Rows?: number }> = {};
  private firstCreated = Number.POSITIVE_INFINITY;
  private lastCreated = 0;
  readonly t: Manifest['totals'] = {
    projects: 0,
    sessions: 0,
    rootSessions: 0,
    childSessions: 0,
    messages: 0,
    messagesByRole: {},
    parts: 0,
    partsByType: {},
    v2OnlyContentByType: {},
    toolCalls: 0,
    toolCallsByStatus: {},
    toolCallsByTool: {},
    tokens: { input: 0, output: 0, reasoning: 0, cache_read: 0, cache_write: 0 },
    cost: 0,
    costNanoUsd: 0,
    errorsByName: {},
    assistantMessagesWithoutCompleted: 0,
    assistantMessagesMultiStep: 0,
    zeroCostAssistantMessagesWithTokens: 0,
    compactionSummaries: 0,
    revertedSessions: 0,
    sessionsWithTodos: 0,
    todoItems: 0,
    sessionDiffFiles: 0,
    messagesAfterIdClockWrap: 0,
  };
  readonly byModel: Record<string, ModelTotals> = {};

  private src(name: string): SourceCounts & { v2Rows?: number } {
    this.bySource[name] ??= { projects: 0, sessions: 0, messages: 0, parts: 0, todos: 0 };
    return this.bySource[name];
  }

  project(source: string, id: string): void {
    this.src(source).projects++;
    if (!this.projects.has(id)) {
      this.projects.add(id);
      this.t.projects++;
    }
  }

  sessionDiff(): void {
    this.t.sessionDiffFiles++;
  }

  private noteSession(s: SessionRec): boolean {
    const id = s.info.id;
    if (this.sessions.has(id)) return false;
    this.sessions.add(id);
    this.t.sessions++;
    if (s.info.parentID) this.t.childSessions++;
    else this.t.rootSessions++;
    if (s.info.revert) this.t.revertedSessions++;
    this.firstCreated = Math.min(this.firstCreated, s.info.time.created);
    this.lastCreated = Math.max(this.lastCreated, s.info.time.created);
    return true;
  }

  private noteTodos(s: SessionRec, n: number): void {
    if (n > 0 && !this.todoSessions.has(s.info.id)) {
      this.todoSessions.add(s.info.id);
      this.t.sessionsWithTodos++;
      this.t.todoItems += n;
    }
  }

  private noteMessage(m: MessageRec, role: string): void {
    this.t.messages++;
    inc(this.t.messagesByRole, role);
    if (m.info.time.created >= WRAP) this.t.messagesAfterIdClockWrap++;
    if (m.info.role !== 'assistant') return;
    const info = m.info;
    const tok = messageTokens(m);
    const tt = this.t.tokens;
    tt.input += tok.input;
    tt.output += tok.output;
    tt.reasoning += tok.reasoning;
    tt.cache_read += tok.cache.read;
    tt.cache_write += tok.cache.write;
    const cost = info.cost as number;
    this.t.cost += cost;
    const steps = m.parts.filter((p) => p.type === 'step-finish');
    for (const s of steps) this.t.costNanoUsd += Math.round((s.cost as number) * 1e9);
    if (steps.length > 1) this.t.assistantMessagesMultiStep++;
    if (info.time.completed === undefined) this.t.assistantMessagesWithoutCompleted++;
    if (info.summary === true) this.t.compactionSummaries++;
    const err = info.error as { name: string; data?: { statusCode?: number } } | undefined;
    if (err) inc(this.t.errorsByName, err.name);
    const anyTokens = tok.input + tok.output + tok.reasoning + tok.cache.read + tok.cache.write > 0;
    if (cost === 0 && anyTokens) this.t.zeroCostAssistantMessagesWithTokens++;
    const key = `${info.providerID}/${info.modelID}`;
    this.byModel[key] ??= {
      assistantMessages: 0,
      input: 0,
      output: 0,
      reasoning: 0,
      cache_read: 0,
      cache_write: 0,
      cost: 0,
      listPriceCost: 0,
    };
    const bm = this.byModel[key];
    bm.assistantMessages++;
    bm.input += tok.input;
    bm.output += tok.output;
    bm.reasoning += tok.reasoning;
    bm.cache_read += tok.cache.read;
    bm.cache_write += tok.cache.write;
    bm.cost += cost;
    const def = MODELS.find((d) => d.providerID === info.providerID && d.modelID === info.modelID);
    if (def) {
      const list = def.price;
      if (steps.length > 0) for (const s of steps) bm.listPriceCost += costUsd(list, s.tokens as never);
      else bm.listPriceCost += costUsd(list, tok);
    }
  }

  private noteParts(parts: readonly PartRec[]): void {
    for (const p of parts) {
      if (this.parts.has(p.id)) continue;
      this.parts.add(p.id);
      this.t.parts++;
      inc(this.t.partsByType, p.type);
      if (p.type === 'tool') {
        this.t.toolCalls++;
        inc(this.t.toolCallsByStatus, String((p.state as { status: string }).status));
        inc(this.t.toolCallsByTool, String(p.tool));
      }
    }
  }

  /** A session written to a v1-style source (JSON tree or v1 tables). */
  v1Style(source: string, s: SessionRec, written: { messages: number; parts: number; todos: number }): void {
    const c = this.src(source);
    c.sessions++;
    c.messages += written.messages;
    c.parts += written.parts;
    c.todos += written.todos;
    this.noteSession(s);
    this.noteTodos(s, written.todos);
    for (const r of s.rows) {
      if (r.kind !== 'message' || r.v2Only) continue;
      if (!this.messages.has(r.info.id)) {
        this.messages.add(r.info.id);
        this.noteMessage(r, r.info.role);
      }
      this.noteParts(r.parts);
    }
  }

  /** A session written to the 2.x tables; rows already seen in a v1-style source only count per source. */
  v2(source: string, s: SessionRec, rows: readonly V2Row[]): void {
    const c = this.src(source);
    c.sessions++;
    c.messages += rows.length;
    c.v2Rows = (c.v2Rows ?? 0) + rows.length;
    this.noteSession(s);
    const byId = new Map<string, RowRec>();
    for (const r of s.rows) byId.set(r.kind === 'event' ? r.id : r.info.id, r);
    for (const row of rows) {
      if (this.messages.has(row.id)) continue;
      this.messages.add(row.id);
      const r = byId.get(row.id);
      if (!r) throw new Error(`v2 row ${row.id} not in model`);
      if (r.kind === 'event') {
        this.t.messages++;
        inc(this.t.messagesByRole, row.type);
        if (r.time >= WRAP) this.t.messagesAfterIdClockWrap++;
        continue;
      }
      this.noteMessage(r, row.type);
      for (const it of row.items) inc(this.t.v2OnlyContentByType, it);
      for (const p of r.parts) {
        if (p.type !== 'tool') continue;
        this.t.toolCalls++;
        inc(this.t.toolCallsByStatus, String((p.state as { status: string }).status));
        inc(this.t.toolCallsByTool, String(p.tool));
      }
    }
  }

  build(
    base: Pick<Manifest, 'seed' | 'layout' | 'sessionsRequested' | 'files'>,
    json: Manifest['jsonFiles'],
  ): Manifest {
    const pricing: Manifest['pricing'] = {};
    for (const m of MODELS) pricing[modelKey(m)] = { ...m.price, free: m.free };
    const t = this.t;
    t.cost = round12(t.cost);
    for (const v of Object.values(this.byModel)) {
      v.cost = round12(v.cost);
      v.listPriceCost = round12(v.listPriceCost);
    }
    return {
      generator: 'opencode-otel-bridge src/gen',
      formatVersion: 1,
      ...base,
      timeRange: {
        firstSessionCreated: new Date(this.firstCreated).toISOString(),
        lastSessionCreated: new Date(this.lastCreated).toISOString(),
        idClockWrap: new Date(WRAP).toISOString(),
      },
      totals: { ...t, messagesByRole: sortKeys(t.messagesByRole), partsByType: sortKeys(t.partsByType) },
      bySource: this.bySource,
      byModel: sortKeys(this.byModel),
      pricing,
      jsonFiles: json,
      notes: NOTES,
    };
  }
}

function round12(x: number): number {
  return Math.round(x * 1e12) / 1e12;
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k] as T;
  return out;
}

const NOTES = [
  'totals.* are after dedup by ID across every source (storage/ JSON, opencode.db v1 tables, v2 tables, opencode-*.db).',
  'sessions/messages: unique IDs. messagesByRole uses the v1/JSON role when a v1-style copy exists, else the 2.x session_message.type (user, assistant, compaction, synthetic, model-switched, agent-switched, idle).',
  'parts/partsByType: unique part IDs in v1-style sources only. Messages that exist only in 2.x tables have no part IDs; their content items are counted in v2OnlyContentByType (user text = 1 text item, each user file = 1 file item, a compaction row = 1 compaction item, assistant content[] items by type; step-start/step-finish do not exist in 2.x).',
  'toolCalls: v1-style tool parts plus tool items of 2.x-only messages.',
  'tokens: per unique assistant message, the SUM of its step-finish parts if it has any, else the message tokens (message.tokens holds the LAST step only). cost: sum of message.cost (= sum of step costs); costNanoUsd is the exact integer sum of step costs.',
  'cost formula per step: (input*in + output*out + cache.read*cacheRead + cache.write*cacheWrite + reasoning*out)/1e6 with pricing[provider/model]; 0 for free/subscription models (pricing.free) and for Anthropic OAuth (Claude Pro/Max) sessions, which use the anthropic/* keys with recorded cost 0. Contexts stay under 200K, so no tier pricing applies.',
  'errorsByName: assistant message `error.name` only (retry parts carry APIError too but are not counted there).',
  'Importer copies (JSON→v1): same IDs and data minus id/sessionID/messageID; session cost/tokens 0; parts without time.created get time_created = the import time.',
  'bySource counts rows/files as written, before dedup. session_diff JSON files are written for every session with diffs in every layout (OpenCode ≥1.2 still writes them as JSON).',
];
