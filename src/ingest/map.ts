/**
 * The one mapping from OpenCode objects to typed records, shared by every source.
 * Callers pass the IDs they trust (from file names or table columns, as OpenCode's own importer does);
 * the IDs are re-attached to the raw JSON so `raw` is always the complete OpenCode object.
 */
import { fullLength } from './bounded-json.ts';
import type {
  MessageRecord,
  Origin,
  PartRecord,
  ProjectRecord,
  SessionDiffRecord,
  SessionRecord,
  TodoRecord,
  ToolCallRecord,
} from './records.ts';
import {
  type AnyPart,
  lenientParse,
  MessageSchema,
  ProjectSchema,
  partSchemaFor,
  SessionDiffSchema,
  SessionSchema,
  TodoListSchema,
  type Tokens,
  type ToolState,
} from './schema.ts';

export interface Mapped<T> {
  record: T | null;
  /** Type problems found by the schema (the record is still produced, minus the bad fields). */
  issues: string[];
}

const n = <T>(v: T | undefined): T | null => (v === undefined ? null : v);
const finite = (v: number | undefined): number | null =>
  typeof v === 'number' && Number.isFinite(v) ? v : null;

/** Keep the object's own ID fields consistent with the trusted IDs, and serialise it once. */
function rawWith(obj: Record<string, unknown>, ids: Record<string, string>): string {
  let same = true;
  for (const k in ids) if (obj[k] !== ids[k]) same = false;
  return JSON.stringify(same ? obj : { ...ids, ...obj, ...ids });
}

export function mapProject(obj: unknown, projectId: string, origin: Origin): Mapped<ProjectRecord> {
  const p = lenientParse(ProjectSchema, obj);
  if (!p) return { record: null, issues: ['not a JSON object'] };
  const v = p.value;
  return {
    issues: p.issues,
    record: {
      kind: 'project',
      ...origin,
      projectId,
      worktree: n(v.worktree),
      vcs: n(v.vcs),
      name: n(v.name),
      createdAt: finite(v.time?.created),
      updatedAt: finite(v.time?.updated),
      initializedAt: finite(v.time?.initialized),
      raw: rawWith(obj as Record<string, unknown>, { id: projectId }),
    },
  };
}

export function mapSession(obj: unknown, sessionId: string, origin: Origin): Mapped<SessionRecord> {
  const p = lenientParse(SessionSchema, obj);
  if (!p) return { record: null, issues: ['not a JSON object'] };
  const v = p.value;
  return {
    issues: p.issues,
    record: {
      kind: 'session',
      ...origin,
      sessionId,
      projectId: n(v.projectID),
      parentSessionId: n(v.parentID),
      title: n(v.title),
      slug: n(v.slug),
      directory: n(v.directory),
      version: n(v.version),
      agent: n(v.agent),
      shareUrl: n(v.share?.url),
      summaryAdditions: finite(v.summary?.additions),
      summaryDeletions: finite(v.summary?.deletions),
      summaryFiles: finite(v.summary?.files),
      revertMessageId: n(v.revert?.messageID),
      createdAt: finite(v.time?.created),
      updatedAt: finite(v.time?.updated),
      compactingAt: finite(v.time?.compacting),
      archivedAt: finite(v.time?.archived),
      raw: rawWith(obj as Record<string, unknown>, { id: sessionId }),
    },
  };
}

export function mapMessage(
  obj: unknown,
  ids: { messageId: string; sessionId: string },
  origin: Origin,
  roleHint?: string,
): Mapped<MessageRecord> {
  const p = lenientParse(MessageSchema, obj);
  if (!p) return { record: null, issues: ['not a JSON object'] };
  const v = p.value;
  const role = v.role ?? roleHint ?? 'unknown';
  const t: Tokens | undefined = v.tokens;
  const err = v.error;
  return {
    issues: p.issues,
    record: {
      kind: 'message',
      ...origin,
      messageId: ids.messageId,
      sessionId: ids.sessionId,
      role,
      parentMessageId: n(v.parentID),
      agent: n(v.agent ?? v.mode),
      mode: n(v.mode),
      providerId: n(v.providerID ?? v.model?.providerID),
      modelId: n(v.modelID ?? v.model?.modelID),
      createdAt: finite(v.time?.created),
      completedAt: finite(v.time?.completed),
      finish: n(v.finish),
      isSummary: typeof v.summary === 'boolean' ? v.summary : null,
      costUsd: finite(v.cost),
      inputTokens: finite(t?.input),
      outputTokens: finite(t?.output),
      reasoningTokens: finite(t?.reasoning),
      cacheReadTokens: finite(t?.cache?.read),
      cacheWriteTokens: finite(t?.cache?.write),
      totalTokens: finite(t?.total),
      errorName: n(err?.name),
      errorData: err?.data === undefined ? null : JSON.stringify(err.data),
      errorMessage: n(err?.data?.message),
      rootPath: n(v.path?.root),
      cwd: n(v.path?.cwd),
      raw: rawWith(obj as Record<string, unknown>, { id: ids.messageId, sessionID: ids.sessionId }),
    },
  };
}

function toolCall(
  part: AnyPart & { state?: ToolState; callID?: string; tool?: string },
  base: {
    partId: string;
    messageId: string;
    sessionId: string;
  },
): ToolCallRecord {
  const s = part.state;
  const meta = s?.metadata;
  const child = meta && typeof meta.sessionId === 'string' ? meta.sessionId : null;
  return {
    ...base,
    callId: n(part.callID),
    toolName: n(part.tool),
    status: n(s?.status),
    title: n(s?.title),
    startedAt: finite(s?.time?.start),
    endedAt: finite(s?.time?.end),
    compactedAt: finite(s?.time?.compacted),
    errorMessage: n(s?.error),
    childSessionId: child,
    input: s?.input === undefined ? null : JSON.stringify(s.input),
    outputLength: typeof s?.output === 'string' ? fullLength(s.output) : null,
    metadata: meta === undefined ? null : JSON.stringify(meta),
  };
}

export function mapPart(
  obj: unknown,
  ids: { partId: string; messageId: string; sessionId: string | null },
  origin: Origin,
): Mapped<PartRecord> {
  const type = obj && typeof obj === 'object' ? (obj as { type?: unknown }).type : undefined;
  const p = lenientParse(partSchemaFor(type), obj);
  if (!p) return { record: null, issues: ['not a JSON object'] };
  const v = p.value as AnyPart & Record<string, unknown>;
  const sessionId = ids.sessionId ?? (typeof v.sessionID === 'string' ? v.sessionID : '');
  const base = { partId: ids.partId, messageId: ids.messageId, sessionId };
  const time = v.time as { start?: number; end?: number; created?: number } | undefined;
  const state = v.type === 'tool' ? (v as { state?: ToolState }).state : undefined;
  const step =
    v.type === 'step-finish' ? (v as { tokens?: Tokens; cost?: number; reason?: string }) : undefined;
  const text = typeof v.text === 'string' ? v.text : undefined;
  return {
    issues: p.issues,
    record: {
      kind: 'part',
      ...origin,
      ...base,
      partType: typeof v.type === 'string' ? v.type : 'unknown',
      timeStart: finite(state?.time?.start ?? time?.start ?? time?.created),
      timeEnd: finite(state?.time?.end ?? time?.end),
      textLength: text === undefined ? null : fullLength(text),
      stepReason: n(step?.reason),
      stepCost: finite(step?.cost),
      stepInputTokens: finite(step?.tokens?.input),
      stepOutputTokens: finite(step?.tokens?.output),
      stepReasoningTokens: finite(step?.tokens?.reasoning),
      stepCacheReadTokens: finite(step?.tokens?.cache?.read),
      stepCacheWriteTokens: finite(step?.tokens?.cache?.write),
      snapshot: typeof v.snapshot === 'string' ? v.snapshot : typeof v.hash === 'string' ? v.hash : null,
      tool: v.type === 'tool' ? toolCall(v, base) : null,
      raw: rawWith(obj as Record<string, unknown>, {
        id: ids.partId,
        sessionID: sessionId,
        messageID: ids.messageId,
      }),
    },
  };
}

export function mapTodos(obj: unknown, sessionId: string, origin: Origin): Mapped<TodoRecord[]> {
  if (!Array.isArray(obj)) return { record: null, issues: ['todo file is not a JSON array'] };
  const p = lenientParse(TodoListSchema, obj);
  const list = p?.value ?? [];
  return {
    issues: p?.issues ?? [],
    record: list.map((t, position) => ({
      kind: 'todo' as const,
      ...origin,
      sessionId,
      position,
      todoId: n(t?.id),
      content: n(t?.content),
      status: n(t?.status),
      priority: n(t?.priority),
      raw: JSON.stringify(obj[position]),
    })),
  };
}

export function mapSessionDiff(obj: unknown, sessionId: string, origin: Origin): Mapped<SessionDiffRecord> {
  if (!Array.isArray(obj)) return { record: null, issues: ['session_diff file is not a JSON array'] };
  const p = lenientParse(SessionDiffSchema, obj);
  const list = p?.value ?? [];
  let additions = 0;
  let deletions = 0;
  for (const d of list) {
    additions += finite(d?.additions) ?? 0;
    deletions += finite(d?.deletions) ?? 0;
  }
  return {
    issues: p?.issues ?? [],
    record: {
      kind: 'session_diff',
      ...origin,
      sessionId,
      files: list.length,
      additions,
      deletions,
      raw: JSON.stringify(obj),
    },
  };
}
