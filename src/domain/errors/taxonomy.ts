/**
 * Error taxonomy for OpenCode message errors, failed tool parts and retry parts.
 *
 * The rules are data: an ordered list, first match wins. Every rule's `pattern` is written in the
 * regex subset shared by JavaScript and RE2 (DuckDB's `regexp_matches`): no look-around, no
 * back-references, no named groups. Matching is always case-insensitive. This is what lets
 * `errorCategorySql()` (./sql.ts) produce a DuckDB `CASE` expression that agrees with
 * `classifyError()` on every input.
 *
 * The rules do not look at `source`: OpenCode tool errors never carry an HTTP status and their
 * wording is distinct from provider errors, so one ordered list serves all three sources and the
 * SQL needs no source column.
 */

export const ERROR_CATEGORIES = [
  'rate_limit',
  'quota_exceeded',
  'overloaded',
  'server_error',
  'auth',
  'timeout',
  'network',
  'context_overflow',
  'output_length',
  'content_filter',
  'model_not_found',
  'bad_request',
  'structured_output',
  'aborted',
  'permission_denied',
  'tool_not_found',
  'file_not_found',
  'file_conflict',
  'edit_mismatch',
  'invalid_input',
  'command_failed',
  'unknown',
] as const;

export type ErrorCategory = (typeof ERROR_CATEGORIES)[number];

export type ErrorSource = 'message' | 'tool' | 'retry';

export interface ErrorInput {
  source: ErrorSource;
  /** `error.name` of a message error (`APIError`, `ContextOverflowError`, …). Tool errors have none. */
  name?: string | null;
  /** `error.data.statusCode` for `APIError`. */
  statusCode?: number | null;
  /** Message text. For `APIError`, pass `data.message` and `data.responseBody` joined (see `errorInputFromMessageError`). */
  message?: string | null;
}

/** An HTTP status, or an inclusive range of them. */
export type StatusMatch = number | readonly [number, number];

export interface ErrorRule {
  /** Stable id, handy when debugging which rule fired. */
  id: string;
  category: ErrorCategory;
  /** Matches when `name` equals one of these (case-insensitive). */
  names?: readonly string[];
  /** Matches when `statusCode` equals one of these, or falls in a range. */
  status?: readonly StatusMatch[];
  /** Case-insensitive regex over the message (JS/RE2 common subset). */
  pattern?: string;
}

/**
 * Ordered rules; the first rule whose every present condition holds decides the category.
 * Order: OpenCode's typed error names → provider wording → HTTP status → generic server wording →
 * tool wording. Provider wording comes before status because providers reuse statuses (quota on
 * 429, auth and context overflow on 400, moderation on 403).
 */
export const ERROR_RULES: readonly ErrorRule[] = [
  // 1. OpenCode's named error shapes (message-v2.ts / message-error.ts).
  { id: 'name-aborted', category: 'aborted', names: ['MessageAbortedError', 'AbortError'] },
  { id: 'name-output-length', category: 'output_length', names: ['MessageOutputLengthError'] },
  { id: 'name-structured-output', category: 'structured_output', names: ['StructuredOutputError'] },
  { id: 'name-context-overflow', category: 'context_overflow', names: ['ContextOverflowError'] },
  { id: 'name-provider-auth', category: 'auth', names: ['ProviderAuthError'] },
  {
    id: 'name-permission',
    category: 'permission_denied',
    names: ['PermissionRejectedError', 'PermissionDeniedError', 'PermissionCorrectedError'],
  },

  // 2. Provider wording (message + responseBody).
  {
    id: 'msg-quota',
    category: 'quota_exceeded',
    pattern:
      'insufficient[_ ]quota|exceeded your current quota|credit balance is too low|insufficient credits|requires more credits|can only afford|insufficient[_ ]balance|payment required|billing hard limit',
  },
  {
    id: 'msg-content-filter',
    category: 'content_filter',
    pattern:
      'content[_ ]filter|content management policy|flagged (as|for)|violating our usage polic|requires moderation|blocked due to (safety|recitation|prohibited|blocklist|spii)|prohibited_content|responsible ?ai polic',
  },
  {
    id: 'msg-context-overflow',
    category: 'context_overflow',
    pattern:
      'prompt is too long|maximum context length|context[_ ]length[_ ]exceeded|exceeds the context window|context window of this model|exceeds? (the )?context limit|input is too long|input token count.{0,40}exceeds|prompt token count.{0,40}exceeds|model_max_prompt_tokens_exceeded|too many tokens in|request_too_large|reduce the length of (the|either)',
  },
  {
    id: 'msg-output-length',
    category: 'output_length',
    pattern:
      'max_tokens or model output limit|reason: max_output_tokens|maximum output length|output limit was reached',
  },
  { id: 'msg-structured-output', category: 'structured_output', pattern: 'no object generated' },
  {
    id: 'msg-rate-limit',
    category: 'rate_limit',
    pattern:
      'rate[_ -]?limit|too many requests|resource has been exhausted|resource_exhausted|throttl|too many tokens, please wait|requests per min|tokens per min',
  },
  {
    id: 'msg-auth',
    category: 'auth',
    pattern:
      'x-api-key|api[_ -]?key|authentication_error|authentication failed|unauthori[sz]ed|invalid_grant|no auth credentials|security token|token (has )?expired|expired token|reauthenticate|permission_error|organization has been disabled',
  },
  {
    id: 'msg-model-not-found',
    category: 'model_not_found',
    pattern:
      'not_found_error|model_not_found|model not found|the model .{0,80}(does not exist|not found)|models/[a-z0-9._-]+ is not found|requested model is not supported|model identifier is invalid|no endpoints found|unknown model',
  },
  {
    id: 'msg-overloaded',
    category: 'overloaded',
    pattern: 'overloaded|over capacity|at capacity|service[_ ]?unavailable|temporarily unavailable',
  },
  {
    id: 'msg-timeout',
    category: 'timeout',
    pattern: 'timed out|timeout|etimedout|deadline (exceeded|expired)|deadline_exceeded',
  },
  {
    id: 'msg-network',
    category: 'network',
    pattern:
      'fetch failed|econnreset|econnrefused|econnaborted|enotfound|eai_again|ehostunreach|enetunreach|epipe|socket hang up|socket connection was closed|network|connection error|connection (was )?(reset|refused|closed)|unable to connect|getaddrinfo|certificate|other side closed',
  },

  // 3. HTTP status, when the wording said nothing more specific.
  { id: 'status-auth', category: 'auth', status: [401, 403] },
  { id: 'status-quota', category: 'quota_exceeded', status: [402] },
  { id: 'status-model-not-found', category: 'model_not_found', status: [404] },
  { id: 'status-timeout', category: 'timeout', status: [408, 504] },
  { id: 'status-context-overflow', category: 'context_overflow', status: [413] },
  { id: 'status-rate-limit', category: 'rate_limit', status: [429] },
  { id: 'status-overloaded', category: 'overloaded', status: [503, 529] },
  { id: 'status-server-error', category: 'server_error', status: [[500, 599]] },
  { id: 'status-bad-request', category: 'bad_request', status: [[400, 499]] },

  // 4. Generic server wording without a status (e.g. stream errors).
  {
    id: 'msg-server-error',
    category: 'server_error',
    pattern:
      'internal server error|internal error|api_error|server had an error|bad gateway|unexpected error during processing',
  },
  { id: 'msg-aborted', category: 'aborted', pattern: 'aborted|aborterror|cancell?ed' },

  // 5. OpenCode tool wording (packages/opencode/src/tool/*.ts, permission, file/time.ts).
  {
    id: 'tool-not-found',
    category: 'tool_not_found',
    pattern: 'unavailable tool|nosuchtool|no such tool|unknown tool',
  },
  {
    id: 'tool-permission',
    category: 'permission_denied',
    pattern:
      'rejected permission|prevents you from using this specific tool|permission denied|eacces|eperm|operation not permitted',
  },
  {
    id: 'tool-file-conflict',
    category: 'file_conflict',
    pattern:
      'modified since it was last read|must read (the )?file .* before (overwriting|editing|modifying)',
  },
  {
    id: 'tool-invalid-input',
    category: 'invalid_input',
    pattern:
      'called with invalid arguments|invalid input|satisfies the expected schema|invalid_type|schemaerror|zoderror|is required|must be greater than|out of range|must start with|is a directory, not a file|eisdir',
  },
  {
    id: 'tool-file-not-found',
    category: 'file_not_found',
    pattern: 'file .* not found|file not found|no such file or directory|enoent|directory .* does not exist',
  },
  {
    id: 'tool-edit-mismatch',
    category: 'edit_mismatch',
    pattern:
      'oldstring|old_string|failed to find expected lines|apply_patch verification failed|no changes to apply',
  },
  {
    id: 'tool-command-failed',
    category: 'command_failed',
    pattern: 'exited with code|exit code|exit status|command failed|command not found|non-zero',
  },
];

const compiled = new Map<string, RegExp>();

function regexFor(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    re = new RegExp(pattern, 'i');
    compiled.set(pattern, re);
  }
  return re;
}

function statusMatches(status: number, matches: readonly StatusMatch[]): boolean {
  return matches.some((m) => (typeof m === 'number' ? status === m : status >= m[0] && status <= m[1]));
}

/** True when every condition present on `rule` holds for the input. */
export function ruleMatches(rule: ErrorRule, input: ErrorInput): boolean {
  if (rule.names) {
    const name = (input.name ?? '').toLowerCase();
    if (!rule.names.some((n) => n.toLowerCase() === name)) return false;
  }
  if (rule.status) {
    const status = input.statusCode;
    if (status === undefined || status === null || !Number.isInteger(status)) return false;
    if (!statusMatches(status, rule.status)) return false;
  }
  if (rule.pattern !== undefined && !regexFor(rule.pattern).test(input.message ?? '')) return false;
  return true;
}

/** The first matching rule, or undefined (→ `unknown`). */
export function matchErrorRule(
  input: ErrorInput,
  rules: readonly ErrorRule[] = ERROR_RULES,
): ErrorRule | undefined {
  return rules.find((rule) => ruleMatches(rule, input));
}

/** Pure classifier: OpenCode error → low-cardinality category (usable as OTel `error.type`). */
export function classifyError(input: ErrorInput, rules: readonly ErrorRule[] = ERROR_RULES): ErrorCategory {
  return matchErrorRule(input, rules)?.category ?? 'unknown';
}

/** Joins message and responseBody the same way the SQL side should (`concat_ws(chr(10), …)`). */
export function joinErrorText(...parts: ReadonlyArray<string | null | undefined>): string {
  return parts.filter((p): p is string => typeof p === 'string' && p.length > 0).join('\n');
}

/** Shape of `AssistantMessage.error` (§3.5) and of a retry part's `error` (APIError). */
export interface OpenCodeMessageError {
  name?: string;
  data?: {
    message?: unknown;
    statusCode?: unknown;
    responseBody?: unknown;
    [key: string]: unknown;
  };
}

/** Builds classifier input from an `AssistantMessage.error` or a retry part's `error`. */
export function errorInputFromMessageError(
  error: OpenCodeMessageError,
  source: Exclude<ErrorSource, 'tool'> = 'message',
): ErrorInput {
  const data = error.data ?? {};
  const message = typeof data.message === 'string' ? data.message : undefined;
  const body = typeof data.responseBody === 'string' ? data.responseBody : undefined;
  const status = typeof data.statusCode === 'number' ? data.statusCode : undefined;
  return { source, name: error.name, statusCode: status, message: joinErrorText(message, body) };
}

/** Builds classifier input from a failed tool part's `state.error`. */
export function errorInputFromToolError(error: string): ErrorInput {
  return { source: 'tool', message: error };
}
