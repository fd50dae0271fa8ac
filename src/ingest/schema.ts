/**
 * Zod schemas for every OpenCode storage object (reference: opencode-storage.md §3).
 * Lenient by design: every field is optional and objects are loose, so unknown fields survive
 * (the raw JSON is stored as well). `lenientParse` reports type errors but never rejects a record
 * for a bad field; the bad field is dropped from the typed view and the issue is reported.
 */
import { z } from 'zod';

const str = z.string().optional();
const num = z.number().optional();
const bool = z.boolean().optional();
const anyRecord = z.record(z.string(), z.unknown()).optional();

export const TokensSchema = z.looseObject({
  total: num,
  input: num,
  output: num,
  reasoning: num,
  cache: z.looseObject({ read: num, write: num }).optional(),
});

export const FileDiffSchema = z.looseObject({
  file: str,
  before: str,
  after: str,
  additions: num,
  deletions: num,
  status: str,
});

export const ProjectSchema = z.looseObject({
  id: str,
  worktree: str,
  vcs: str,
  name: str,
  icon: z.looseObject({ url: str, override: str, color: str }).optional(),
  commands: z.looseObject({ start: str }).optional(),
  time: z.looseObject({ created: num, updated: num, initialized: num }).optional(),
  sandboxes: z.array(z.string()).optional(),
});

export const SessionSchema = z.looseObject({
  id: str,
  slug: str,
  projectID: str,
  workspaceID: str,
  directory: str,
  path: str,
  parentID: str,
  summary: z
    .looseObject({ additions: num, deletions: num, files: num, diffs: z.array(FileDiffSchema).optional() })
    .optional(),
  cost: num,
  tokens: TokensSchema.optional(),
  share: z.looseObject({ url: str }).optional(),
  title: str,
  agent: str,
  model: z.looseObject({ id: str, providerID: str, variant: str }).optional(),
  version: str,
  time: z.looseObject({ created: num, updated: num, compacting: num, archived: num }).optional(),
  permission: z.array(z.looseObject({ permission: str, pattern: str, action: str })).optional(),
  revert: z.looseObject({ messageID: str, partID: str, snapshot: str, diff: str }).optional(),
});

export const MessageErrorSchema = z.looseObject({
  name: str,
  data: z
    .looseObject({
      message: str,
      providerID: str,
      statusCode: num,
      isRetryable: bool,
      responseHeaders: anyRecord,
      responseBody: str,
      metadata: anyRecord,
      ref: str,
      retries: num,
    })
    .optional(),
});

export const MessageSchema = z.looseObject({
  id: str,
  sessionID: str,
  role: str,
  time: z.looseObject({ created: num, completed: num }).optional(),
  // user
  format: anyRecord,
  summary: z
    .union([z.boolean(), z.looseObject({ title: str, body: str, diffs: z.array(FileDiffSchema).optional() })])
    .optional(),
  agent: str,
  model: z.looseObject({ providerID: str, modelID: str, variant: str }).optional(),
  system: z.union([z.string(), z.array(z.string())]).optional(),
  tools: z.record(z.string(), z.boolean()).optional(),
  variant: str,
  // assistant
  error: MessageErrorSchema.optional(),
  parentID: str,
  modelID: str,
  providerID: str,
  mode: str,
  path: z.looseObject({ cwd: str, root: str }).optional(),
  cost: num,
  tokens: TokensSchema.optional(),
  structured: z.unknown().optional(),
  finish: str,
});

const PartTime = z.looseObject({ start: num, end: num, compacted: num, created: num }).optional();

export const ToolStateSchema = z.looseObject({
  status: str,
  input: anyRecord,
  raw: str,
  output: str,
  title: str,
  error: str,
  metadata: anyRecord,
  time: PartTime,
  attachments: z.array(z.unknown()).optional(),
});

const PartBase = { id: str, sessionID: str, messageID: str, type: str };

/** One schema per known part type; unknown types use `UnknownPartSchema` and are kept raw. */
export const PartSchemas = {
  text: z.looseObject({
    ...PartBase,
    text: str,
    synthetic: bool,
    ignored: bool,
    time: PartTime,
    metadata: anyRecord,
  }),
  reasoning: z.looseObject({ ...PartBase, text: str, metadata: anyRecord, time: PartTime }),
  file: z.looseObject({ ...PartBase, mime: str, filename: str, url: str, source: anyRecord }),
  tool: z.looseObject({
    ...PartBase,
    callID: str,
    tool: str,
    state: ToolStateSchema.optional(),
    metadata: anyRecord,
  }),
  'step-start': z.looseObject({ ...PartBase, snapshot: str }),
  'step-finish': z.looseObject({
    ...PartBase,
    reason: str,
    snapshot: str,
    cost: num,
    tokens: TokensSchema.optional(),
  }),
  snapshot: z.looseObject({ ...PartBase, snapshot: str }),
  patch: z.looseObject({ ...PartBase, hash: str, files: z.array(z.string()).optional() }),
  agent: z.looseObject({ ...PartBase, name: str, source: anyRecord }),
  subtask: z.looseObject({
    ...PartBase,
    prompt: str,
    description: str,
    agent: str,
    model: z.looseObject({ providerID: str, modelID: str }).optional(),
    command: str,
  }),
  retry: z.looseObject({ ...PartBase, attempt: num, error: MessageErrorSchema.optional(), time: PartTime }),
  compaction: z.looseObject({ ...PartBase, auto: bool, overflow: bool, tail_start_id: str }),
} as const;

export const KNOWN_PART_TYPES = Object.keys(PartSchemas) as (keyof typeof PartSchemas)[];
export const UnknownPartSchema = z.looseObject({ ...PartBase });

export const TodoSchema = z.looseObject({ id: str, content: str, status: str, priority: str });
export const TodoListSchema = z.array(TodoSchema);
export const SessionDiffSchema = z.array(FileDiffSchema);

export type ProjectInfo = z.infer<typeof ProjectSchema>;
export type SessionInfo = z.infer<typeof SessionSchema>;
export type MessageInfo = z.infer<typeof MessageSchema>;
export type Tokens = z.infer<typeof TokensSchema>;
export type ToolState = z.infer<typeof ToolStateSchema>;
export type Todo = z.infer<typeof TodoSchema>;
export type FileDiff = z.infer<typeof FileDiffSchema>;
type KnownPart = { [K in keyof typeof PartSchemas]: z.infer<(typeof PartSchemas)[K]> };
export type AnyPart = KnownPart[keyof KnownPart];

export function partSchemaFor(type: unknown): z.ZodType<AnyPart> {
  const s = typeof type === 'string' ? (PartSchemas as Record<string, z.ZodType<AnyPart>>)[type] : undefined;
  return s ?? (UnknownPartSchema as z.ZodType<AnyPart>);
}

export interface LenientResult<T> {
  value: T;
  /** `path: message` for each field that had the wrong type and was left out of the typed view. */
  issues: string[];
}

/**
 * Parse leniently: a field of the wrong type is reported and removed from the typed value,
 * the rest is kept. Returns null only when the value is not an object at all.
 */
export function lenientParse<T>(schema: z.ZodType<T>, input: unknown): LenientResult<T> | null {
  if (input === null || typeof input !== 'object') return null;
  let candidate: unknown = input;
  const issues: string[] = [];
  for (let round = 0; round < 8; round++) {
    const r = schema.safeParse(candidate);
    if (r.success) return { value: r.data, issues };
    if (candidate === input) candidate = structuredClone(input);
    for (const issue of [...r.error.issues].reverse()) {
      if (issue.path.length === 0) return null;
      issues.push(`${issue.path.join('.')}: ${issue.message}`);
      deletePath(candidate, issue.path);
    }
  }
  return null;
}

function deletePath(obj: unknown, path: readonly PropertyKey[]): void {
  let cur: unknown = obj;
  for (let i = 0; i < path.length - 1; i++) {
    if (cur === null || typeof cur !== 'object') return;
    cur = (cur as Record<PropertyKey, unknown>)[path[i] as PropertyKey];
  }
  if (cur !== null && typeof cur === 'object') {
    const key = path[path.length - 1] as PropertyKey;
    if (Array.isArray(cur) && typeof key === 'number') cur.splice(key, 1);
    else delete (cur as Record<PropertyKey, unknown>)[key];
  }
}
