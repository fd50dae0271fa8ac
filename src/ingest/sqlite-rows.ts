/**
 * Rows of opencode.db turned back into the objects OpenCode keeps in JSON (sessions, projects, 2.x
 * messages with their inlined parts), their JSON columns parsed within the bounds of bounded-json.ts.
 */
import {
  type BoundedJson,
  boundJson,
  boundReason,
  isStackOverflow,
  MAX_INPUT_BYTES,
  MAX_STRING_CHARS,
} from './bounded-json.ts';
import { mapMessage, mapPart } from './map.ts';
import type { IngestProblem, IngestProblemCode, IngestRecord, Origin } from './records.ts';

export type Row = Record<string, unknown>;

/** Where mapped rows go: a batch's records and problems. */
export interface RowsOut {
  records: IngestRecord[];
  problems: IngestProblem[];
}

/** What a mapping gave: its record(s), or null, and the schema's complaints. */
export type MappedRow = { record: IngestRecord | IngestRecord[] | null; issues: string[] };
export type Push = (out: RowsOut, origin: Origin, table: string, id: unknown, m: MappedRow) => void;

export const num = (v: unknown): number | undefined =>
  typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * The JSON columns of the row being mapped are parsed with the bounds of bounded-json.ts when the
 * column is over the size limit, or when the row is mapped again after overflowing the stack (`deep`);
 * what was cut is collected for the row's warning. Mapping is synchronous, so one row at a time.
 */
const rowBounds: { deep: boolean; cut: { size: number; r: BoundedJson }[] } = { deep: false, cut: [] };

export function json(v: unknown): unknown {
  if (typeof v !== 'string') return undefined;
  try {
    if (v.length <= MAX_INPUT_BYTES && !rowBounds.deep) return JSON.parse(v);
    const bytes = Buffer.from(v, 'utf8');
    const r = boundJson(bytes, bytes.length > MAX_INPUT_BYTES ? MAX_STRING_CHARS : Number.POSITIVE_INFINITY);
    if (r.truncatedStrings + r.cutSubtrees > 0) rowBounds.cut.push({ size: bytes.length, r });
    return JSON.parse(new TextDecoder().decode(r.bytes));
  } catch {
    return undefined;
  }
}

/** Drops undefined values so the rebuilt object looks like the JSON OpenCode would have written. */
export function clean<T extends Row>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

const SESSION_KNOWN = new Set([
  'id',
  'project_id',
  'workspace_id',
  'parent_id',
  'slug',
  'directory',
  'path',
  'title',
  'version',
  'share_url',
  'summary_additions',
  'summary_deletions',
  'summary_files',
  'summary_diffs',
  'cost',
  'tokens_input',
  'tokens_output',
  'tokens_reasoning',
  'tokens_cache_read',
  'tokens_cache_write',
  'revert',
  'permission',
  'agent',
  'model',
  'time_created',
  'time_updated',
  'time_compacting',
  'time_archived',
]);

/** Rebuilds Session.Info from the session columns; columns we don't know are kept under their own names. */
export function sessionFromRow(r: Row): Row {
  const extra: Row = {};
  for (const [k, v] of Object.entries(r)) if (!SESSION_KNOWN.has(k)) extra[k] = v;
  const hasSummary = r.summary_additions != null || r.summary_deletions != null || r.summary_files != null;
  return clean({
    id: str(r.id),
    slug: str(r.slug),
    projectID: str(r.project_id),
    workspaceID: str(r.workspace_id) ?? undefined,
    directory: str(r.directory),
    path: str(r.path) ?? undefined,
    parentID: str(r.parent_id) ?? undefined,
    summary: hasSummary
      ? clean({
          additions: num(r.summary_additions),
          deletions: num(r.summary_deletions),
          files: num(r.summary_files),
          diffs: json(r.summary_diffs),
        })
      : undefined,
    cost: num(r.cost),
    tokens:
      r.tokens_input !== undefined
        ? {
            input: num(r.tokens_input),
            output: num(r.tokens_output),
            reasoning: num(r.tokens_reasoning),
            cache: { read: num(r.tokens_cache_read), write: num(r.tokens_cache_write) },
          }
        : undefined,
    share: str(r.share_url) ? { url: str(r.share_url) } : undefined,
    title: str(r.title),
    agent: str(r.agent),
    model: json(r.model),
    version: str(r.version),
    time: clean({
      created: num(r.time_created),
      updated: num(r.time_updated),
      compacting: num(r.time_compacting) ?? undefined,
      archived: num(r.time_archived) ?? undefined,
    }),
    permission: json(r.permission),
    revert: json(r.revert),
    ...extra,
  });
}

export function projectFromRow(r: Row): Row {
  return clean({
    id: str(r.id),
    worktree: str(r.worktree),
    vcs: str(r.vcs) ?? undefined,
    name: str(r.name) ?? undefined,
    icon:
      r.icon_url != null || r.icon_color != null || r.icon_url_override != null
        ? clean({ url: str(r.icon_url), override: str(r.icon_url_override), color: str(r.icon_color) })
        : undefined,
    commands: json(r.commands),
    time: clean({
      created: num(r.time_created),
      updated: num(r.time_updated),
      initialized: num(r.time_initialized) ?? undefined,
    }),
    sandboxes: json(r.sandboxes),
  });
}

export function problem(
  origin: Origin,
  table: string,
  id: unknown,
  code: IngestProblemCode,
  reason: string,
): IngestProblem {
  const severity = code === 'schema_warning' || code === 'bounded_input' ? 'warning' : 'error';
  return { sourcePath: `${origin.sourcePath}#${table}/${String(id)}`, code, reason, severity };
}

/**
 * Maps one row; a row too deep to map in full is mapped again with its JSON columns bounded. A row
 * stored bounded gets a warning saying what was cut.
 */
export function mapBounded<O extends RowsOut>(
  r: Row,
  out: O,
  map: (r: Row, out: O) => void,
  where: string,
): void {
  const n = out.records.length;
  const p = out.problems.length;
  rowBounds.cut = [];
  try {
    map(r, out);
  } catch (e) {
    if (!isStackOverflow(e)) throw e;
    out.records.length = n;
    out.problems.length = p;
    rowBounds.cut = [];
    rowBounds.deep = true;
    try {
      map(r, out);
    } finally {
      rowBounds.deep = false;
    }
  }
  if (out.records.length > n)
    for (const { size, r: cut } of rowBounds.cut)
      out.problems.push({
        sourcePath: where,
        code: 'bounded_input',
        reason: boundReason(size, cut),
        severity: 'warning',
      });
  rowBounds.cut = [];
}

/**
 * 2.x rows without `content[]` still carry what v1 kept as parts: a user's or synthetic message's
 * `text` and `files`, and a compaction request. They become the same part types as in v1.
 */
function inlineItems(type: string, d: Row): Row[] {
  const items: Row[] = [];
  if (type === 'compaction') items.push({ type: 'compaction', auto: d.auto, overflow: d.overflow });
  if (typeof d.text === 'string')
    items.push({ type: 'text', text: d.text, synthetic: type === 'synthetic' ? true : undefined });
  if (Array.isArray(d.files))
    for (const f of d.files) if (f && typeof f === 'object') items.push({ type: 'file', ...(f as Row) });
  return items;
}

/**
 * A 2.x `session_message` row: role in `type`, parts inlined in `data.content[]`.
 * Inlined parts get the ID `<message id>/<index>`; an item's own `id` (the call ID for tool items)
 * is kept as `contentID` (and as `callID` for tools).
 */
export function mapV2Message(r: Row, origin: Origin, out: RowsOut, push: Push): void {
  const id = String(r.id);
  const sessionId = String(r.session_id);
  const data = json(r.data);
  if (!data || typeof data !== 'object') {
    out.problems.push(problem(origin, 'session_message', id, 'invalid_record', 'data is not a JSON object'));
    return;
  }
  const d = data as Row;
  const model = d.model as Row | undefined;
  const { content, ...rest } = d;
  const obj: Row = {
    id,
    sessionID: sessionId,
    role: str(r.type),
    seq: num(r.seq),
    ...rest,
    modelID: str(d.modelID) ?? str(model?.id) ?? str(model?.modelID),
    providerID: str(d.providerID) ?? str(model?.providerID),
  };
  if (obj.time === undefined) obj.time = { created: num(r.time_created) };
  push(
    out,
    origin,
    'session_message',
    id,
    mapMessage(clean(obj), { messageId: id, sessionId }, origin, str(r.type)),
  );
  const items = Array.isArray(content) ? content : inlineItems(String(r.type), d);
  if (items.length > 0) {
    items.forEach((item, i) => {
      if (!item || typeof item !== 'object') return;
      const it = item as Row;
      const partId = `${id}/${i}`;
      const part: Row = { ...it, id: partId, sessionID: sessionId, messageID: id };
      if (typeof it.id === 'string') part.contentID = it.id;
      if (it.type === 'tool' && it.callID === undefined && typeof it.id === 'string') part.callID = it.id;
      push(
        out,
        origin,
        'session_message.content',
        partId,
        mapPart(part, { partId, messageId: id, sessionId }, origin),
      );
    });
  }
}
