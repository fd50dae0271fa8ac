/**
 * Typed records produced by every source (JSON tree, v1 tables, v2 tables) in one shape,
 * so the store has a single writer. Times are epoch milliseconds; the store turns them into TIMESTAMPs.
 */

/** Which storage generation a record came from; higher rank wins when the same ID is in several. */
export type SourceKind = 'v2' | 'v1' | 'json';
export const SOURCE_RANK: Record<SourceKind, number> = { v2: 3, v1: 2, json: 1 };

export interface Origin {
  source: SourceKind;
  /** File the record came from (JSON file, or the .db file for SQLite rows). */
  sourcePath: string;
}

export interface ProjectRecord extends Origin {
  kind: 'project';
  projectId: string;
  worktree: string | null;
  vcs: string | null;
  name: string | null;
  createdAt: number | null;
  updatedAt: number | null;
  initializedAt: number | null;
  raw: string;
}

export interface SessionRecord extends Origin {
  kind: 'session';
  sessionId: string;
  projectId: string | null;
  parentSessionId: string | null;
  title: string | null;
  slug: string | null;
  directory: string | null;
  version: string | null;
  agent: string | null;
  shareUrl: string | null;
  summaryAdditions: number | null;
  summaryDeletions: number | null;
  summaryFiles: number | null;
  revertMessageId: string | null;
  createdAt: number | null;
  updatedAt: number | null;
  compactingAt: number | null;
  archivedAt: number | null;
  raw: string;
}

export interface MessageRecord extends Origin {
  kind: 'message';
  messageId: string;
  sessionId: string;
  role: string;
  parentMessageId: string | null;
  agent: string | null;
  mode: string | null;
  providerId: string | null;
  modelId: string | null;
  createdAt: number | null;
  completedAt: number | null;
  finish: string | null;
  isSummary: boolean | null;
  costUsd: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  reasoningTokens: number | null;
  cacheReadTokens: number | null;
  cacheWriteTokens: number | null;
  totalTokens: number | null;
  errorName: string | null;
  errorData: string | null;
  errorMessage: string | null;
  rootPath: string | null;
  cwd: string | null;
  raw: string;
}

export interface PartRecord extends Origin {
  kind: 'part';
  partId: string;
  messageId: string;
  sessionId: string;
  partType: string;
  timeStart: number | null;
  timeEnd: number | null;
  textLength: number | null;
  stepReason: string | null;
  stepCost: number | null;
  stepInputTokens: number | null;
  stepOutputTokens: number | null;
  stepReasoningTokens: number | null;
  stepCacheReadTokens: number | null;
  stepCacheWriteTokens: number | null;
  snapshot: string | null;
  /** Set for `tool` parts. */
  tool: ToolCallRecord | null;
  raw: string;
}

export interface ToolCallRecord {
  partId: string;
  messageId: string;
  sessionId: string;
  callId: string | null;
  toolName: string | null;
  status: string | null;
  title: string | null;
  startedAt: number | null;
  endedAt: number | null;
  compactedAt: number | null;
  errorMessage: string | null;
  childSessionId: string | null;
  input: string | null;
  outputLength: number | null;
  metadata: string | null;
}

export interface TodoRecord extends Origin {
  kind: 'todo';
  sessionId: string;
  position: number;
  todoId: string | null;
  content: string | null;
  status: string | null;
  priority: string | null;
  raw: string;
}

export interface SessionDiffRecord extends Origin {
  kind: 'session_diff';
  sessionId: string;
  files: number;
  additions: number;
  deletions: number;
  raw: string;
}

export type IngestRecord =
  | ProjectRecord
  | SessionRecord
  | MessageRecord
  | PartRecord
  | TodoRecord
  | SessionDiffRecord;

/** A problem with one input (file or row). Schema issues are warnings: the record is still stored. */
/**
 * What kind of problem an ingest problem is: a small fixed set, for metrics labels and counts (the
 * full text is `reason`, stored in `ingest_errors`).
 */
export const INGEST_PROBLEM_CODES = [
  'schema_warning',
  'bounded_input',
  'invalid_json',
  'invalid_record',
  'unreadable_file',
  'unreadable_source',
] as const;
export type IngestProblemCode = (typeof INGEST_PROBLEM_CODES)[number];

export interface IngestProblem {
  sourcePath: string;
  code: IngestProblemCode;
  reason: string;
  /** `error`: nothing could be stored from this input; `warning`: stored, but some fields were bad. */
  severity: 'error' | 'warning';
}
