/** Column specs for appending typed records, in table column order (checked against the table on open). */
import type {
  MessageRecord,
  PartRecord,
  ProjectRecord,
  SessionDiffRecord,
  SessionRecord,
  TodoRecord,
  ToolCallRecord,
} from '../ingest/records.ts';

export type ColType = 'varchar' | 'bigint' | 'integer' | 'double' | 'timestamp' | 'boolean' | 'json';
export type Col<R> = readonly [name: string, type: ColType, get: (r: R) => unknown];

export const projectCols: readonly Col<ProjectRecord>[] = [
  ['project_id', 'varchar', (r) => r.projectId],
  ['worktree', 'varchar', (r) => r.worktree],
  ['vcs', 'varchar', (r) => r.vcs],
  ['name', 'varchar', (r) => r.name],
  ['created_at', 'timestamp', (r) => r.createdAt],
  ['updated_at', 'timestamp', (r) => r.updatedAt],
  ['initialized_at', 'timestamp', (r) => r.initializedAt],
  ['source', 'varchar', (r) => r.source],
  ['source_path', 'varchar', (r) => r.sourcePath],
  ['raw', 'json', (r) => r.raw],
];

export const sessionCols: readonly Col<SessionRecord>[] = [
  ['session_id', 'varchar', (r) => r.sessionId],
  ['project_id', 'varchar', (r) => r.projectId],
  ['parent_session_id', 'varchar', (r) => r.parentSessionId],
  ['title', 'varchar', (r) => r.title],
  ['slug', 'varchar', (r) => r.slug],
  ['directory', 'varchar', (r) => r.directory],
  ['version', 'varchar', (r) => r.version],
  ['agent', 'varchar', (r) => r.agent],
  ['share_url', 'varchar', (r) => r.shareUrl],
  ['summary_additions', 'bigint', (r) => r.summaryAdditions],
  ['summary_deletions', 'bigint', (r) => r.summaryDeletions],
  ['summary_files', 'bigint', (r) => r.summaryFiles],
  ['revert_message_id', 'varchar', (r) => r.revertMessageId],
  ['created_at', 'timestamp', (r) => r.createdAt],
  ['updated_at', 'timestamp', (r) => r.updatedAt],
  ['compacting_at', 'timestamp', (r) => r.compactingAt],
  ['archived_at', 'timestamp', (r) => r.archivedAt],
  ['source', 'varchar', (r) => r.source],
  ['source_path', 'varchar', (r) => r.sourcePath],
  ['raw', 'json', (r) => r.raw],
];

export const messageCols: readonly Col<MessageRecord>[] = [
  ['message_id', 'varchar', (r) => r.messageId],
  ['session_id', 'varchar', (r) => r.sessionId],
  ['role', 'varchar', (r) => r.role],
  ['parent_message_id', 'varchar', (r) => r.parentMessageId],
  ['agent', 'varchar', (r) => r.agent],
  ['mode', 'varchar', (r) => r.mode],
  ['provider_id', 'varchar', (r) => r.providerId],
  ['model_id', 'varchar', (r) => r.modelId],
  ['created_at', 'timestamp', (r) => r.createdAt],
  ['completed_at', 'timestamp', (r) => r.completedAt],
  ['finish', 'varchar', (r) => r.finish],
  ['is_summary', 'boolean', (r) => r.isSummary],
  ['cost_usd', 'double', (r) => r.costUsd],
  // input_tokens … cache_write_tokens start as the message's own numbers; finalize() replaces them
  // with the sum of the message's step-finish parts where it has any (OpenCode overwrites message tokens per step).
  ['input_tokens', 'bigint', (r) => r.inputTokens],
  ['output_tokens', 'bigint', (r) => r.outputTokens],
  ['reasoning_tokens', 'bigint', (r) => r.reasoningTokens],
  ['cache_read_tokens', 'bigint', (r) => r.cacheReadTokens],
  ['cache_write_tokens', 'bigint', (r) => r.cacheWriteTokens],
  ['recorded_input_tokens', 'bigint', (r) => r.inputTokens],
  ['recorded_output_tokens', 'bigint', (r) => r.outputTokens],
  ['recorded_reasoning_tokens', 'bigint', (r) => r.reasoningTokens],
  ['recorded_cache_read_tokens', 'bigint', (r) => r.cacheReadTokens],
  ['recorded_cache_write_tokens', 'bigint', (r) => r.cacheWriteTokens],
  ['recorded_total_tokens', 'bigint', (r) => r.totalTokens],
  ['token_source', 'varchar', () => null],
  ['step_count', 'integer', () => null],
  ['error_name', 'varchar', (r) => r.errorName],
  ['error_data', 'json', (r) => r.errorData],
  ['error_message', 'varchar', (r) => r.errorMessage],
  ['root_path', 'varchar', (r) => r.rootPath],
  ['cwd', 'varchar', (r) => r.cwd],
  ['source', 'varchar', (r) => r.source],
  ['source_path', 'varchar', (r) => r.sourcePath],
  ['raw', 'json', (r) => r.raw],
];

export const partCols: readonly Col<PartRecord>[] = [
  ['part_id', 'varchar', (r) => r.partId],
  ['message_id', 'varchar', (r) => r.messageId],
  ['session_id', 'varchar', (r) => (r.sessionId === '' ? null : r.sessionId)],
  ['part_type', 'varchar', (r) => r.partType],
  ['time_start', 'timestamp', (r) => r.timeStart],
  ['time_end', 'timestamp', (r) => r.timeEnd],
  ['text_length', 'bigint', (r) => r.textLength],
  ['step_reason', 'varchar', (r) => r.stepReason],
  ['step_cost', 'double', (r) => r.stepCost],
  ['step_input_tokens', 'bigint', (r) => r.stepInputTokens],
  ['step_output_tokens', 'bigint', (r) => r.stepOutputTokens],
  ['step_reasoning_tokens', 'bigint', (r) => r.stepReasoningTokens],
  ['step_cache_read_tokens', 'bigint', (r) => r.stepCacheReadTokens],
  ['step_cache_write_tokens', 'bigint', (r) => r.stepCacheWriteTokens],
  ['snapshot', 'varchar', (r) => r.snapshot],
  ['source', 'varchar', (r) => r.source],
  ['source_path', 'varchar', (r) => r.sourcePath],
  ['raw', 'json', (r) => r.raw],
];

export const toolCallCols: readonly Col<ToolCallRecord>[] = [
  ['part_id', 'varchar', (r) => r.partId],
  ['message_id', 'varchar', (r) => r.messageId],
  ['session_id', 'varchar', (r) => (r.sessionId === '' ? null : r.sessionId)],
  ['call_id', 'varchar', (r) => r.callId],
  ['tool_name', 'varchar', (r) => r.toolName],
  ['status', 'varchar', (r) => r.status],
  ['title', 'varchar', (r) => r.title],
  ['started_at', 'timestamp', (r) => r.startedAt],
  ['ended_at', 'timestamp', (r) => r.endedAt],
  [
    'execution_time_ms',
    'bigint',
    (r) =>
      r.startedAt !== null && r.endedAt !== null && r.endedAt >= r.startedAt ? r.endedAt - r.startedAt : null,
  ],
  ['compacted_at', 'timestamp', (r) => r.compactedAt],
  ['error_message', 'varchar', (r) => r.errorMessage],
  ['child_session_id', 'varchar', (r) => r.childSessionId],
  ['input', 'json', (r) => r.input],
  ['output_length', 'bigint', (r) => r.outputLength],
  ['metadata', 'json', (r) => r.metadata],
];

export const todoCols: readonly Col<TodoRecord>[] = [
  ['session_id', 'varchar', (r) => r.sessionId],
  ['position', 'integer', (r) => r.position],
  ['todo_id', 'varchar', (r) => r.todoId],
  ['content', 'varchar', (r) => r.content],
  ['status', 'varchar', (r) => r.status],
  ['priority', 'varchar', (r) => r.priority],
  ['source', 'varchar', (r) => r.source],
  ['source_path', 'varchar', (r) => r.sourcePath],
  ['raw', 'json', (r) => r.raw],
];

export const sessionDiffCols: readonly Col<SessionDiffRecord>[] = [
  ['session_id', 'varchar', (r) => r.sessionId],
  ['files', 'integer', (r) => r.files],
  ['additions', 'bigint', (r) => r.additions],
  ['deletions', 'bigint', (r) => r.deletions],
  ['source', 'varchar', (r) => r.source],
  ['source_path', 'varchar', (r) => r.sourcePath],
  ['raw', 'json', (r) => r.raw],
];
