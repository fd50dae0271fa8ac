/**
 * Every OpenTelemetry convention name the bridge emits, pinned here.
 *
 * The GenAI names live only in `@opentelemetry/semantic-conventions/incubating`, which may break in a
 * minor release; the package's own README advises copying them. test/otel-units.test.ts checks each
 * against the incubating entry of the installed package (`SEMCONV_PACKAGE_VERSION`). Nothing here
 * imports the package at run time.
 */

/** Semantic-conventions version these names were checked against (package 1.45.0, GenAI ≈ v1.41). */
export const SEMCONV_PACKAGE_VERSION = '1.45.0';

// --- GenAI: operation, provider, model ---------------------------------------------------------
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const ATTR_GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name';
export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
export const ATTR_GEN_AI_RESPONSE_FINISH_REASONS = 'gen_ai.response.finish_reasons';
export const ATTR_GEN_AI_CONVERSATION_ID = 'gen_ai.conversation.id';

// --- GenAI: usage (input includes cache read + creation; output includes reasoning) -------------
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
export const ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = 'gen_ai.usage.cache_read.input_tokens';
export const ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS = 'gen_ai.usage.cache_creation.input_tokens';
export const ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = 'gen_ai.usage.reasoning.output_tokens';

// --- GenAI: agents and tools ------------------------------------------------------------------
export const ATTR_GEN_AI_AGENT_NAME = 'gen_ai.agent.name';
export const ATTR_GEN_AI_AGENT_ID = 'gen_ai.agent.id';
export const ATTR_GEN_AI_TOOL_NAME = 'gen_ai.tool.name';
export const ATTR_GEN_AI_TOOL_CALL_ID = 'gen_ai.tool.call.id';
export const ATTR_GEN_AI_TOOL_TYPE = 'gen_ai.tool.type';

// --- GenAI: content (opt-in only) ---------------------------------------------------------------
export const ATTR_GEN_AI_INPUT_MESSAGES = 'gen_ai.input.messages';
export const ATTR_GEN_AI_OUTPUT_MESSAGES = 'gen_ai.output.messages';
export const ATTR_GEN_AI_TOOL_CALL_ARGUMENTS = 'gen_ai.tool.call.arguments';
export const ATTR_GEN_AI_TOOL_CALL_RESULT = 'gen_ai.tool.call.result';

// --- GenAI: enum values -------------------------------------------------------------------------
export const GEN_AI_OPERATION_NAME_VALUE_CHAT = 'chat';
export const GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL = 'execute_tool';
export const GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT = 'invoke_agent';

/** Well-known `gen_ai.provider.name` values (spec); anything else is passed through as OpenCode's providerID. */
export const GEN_AI_PROVIDER_NAME_VALUES = {
  anthropic: 'anthropic',
  awsBedrock: 'aws.bedrock',
  azureAiInference: 'azure.ai.inference',
  azureAiOpenai: 'azure.ai.openai',
  cohere: 'cohere',
  deepseek: 'deepseek',
  gcpGemini: 'gcp.gemini',
  gcpGenAi: 'gcp.gen_ai',
  gcpVertexAi: 'gcp.vertex_ai',
  groq: 'groq',
  ibmWatsonxAi: 'ibm.watsonx.ai',
  mistralAi: 'mistral_ai',
  openai: 'openai',
  perplexity: 'perplexity',
  xAi: 'x_ai',
} as const;

/** `gen_ai.tool.type` examples from the spec (not an enum in the npm package). */
export const GEN_AI_TOOL_TYPE_FUNCTION = 'function';
export const GEN_AI_TOOL_TYPE_EXTENSION = 'extension';

// --- General ------------------------------------------------------------------------------------
export const ATTR_ERROR_TYPE = 'error.type';
/** The spec's fallback `error.type` when nothing lower-cardinality is known. */
export const ERROR_TYPE_VALUE_OTHER = '_OTHER';

// --- Resource -----------------------------------------------------------------------------------
export const ATTR_SERVICE_NAME = 'service.name';
export const ATTR_SERVICE_VERSION = 'service.version';
export const ATTR_SERVICE_INSTANCE_ID = 'service.instance.id';
export const ATTR_HOST_NAME = 'host.name';
export const ATTR_HOST_ARCH = 'host.arch';
export const ATTR_OS_TYPE = 'os.type';
export const ATTR_USER_NAME = 'user.name';
export const ATTR_TELEMETRY_DISTRO_NAME = 'telemetry.distro.name';
export const ATTR_TELEMETRY_DISTRO_VERSION = 'telemetry.distro.version';

// --- Bridge-specific (`opencode.*`; the spec has no cost attribute) ------------------------------
export const ATTR_OPENCODE_COST_USD = 'opencode.cost_usd';
export const ATTR_OPENCODE_SESSION_ID = 'opencode.session.id';
export const ATTR_OPENCODE_PARENT_SESSION_ID = 'opencode.parent_session.id';
export const ATTR_OPENCODE_EXCHANGE_ID = 'opencode.exchange.id';
export const ATTR_OPENCODE_EXCHANGE_STATUS = 'opencode.exchange.status';
export const ATTR_OPENCODE_MESSAGE_ID = 'opencode.message.id';
export const ATTR_OPENCODE_PART_ID = 'opencode.part.id';
export const ATTR_OPENCODE_PROJECT_ID = 'opencode.project.id';
export const ATTR_OPENCODE_PROJECT_PATH = 'opencode.project.path';
export const ATTR_OPENCODE_AGENT = 'opencode.agent';
export const ATTR_OPENCODE_PROVIDER_ID = 'opencode.provider.id';
export const ATTR_OPENCODE_VERSION = 'opencode.version';
export const ATTR_OPENCODE_SPAN_KIND = 'opencode.span.kind';
export const ATTR_OPENCODE_SPAN_INCOMPLETE = 'opencode.span.incomplete';
export const ATTR_OPENCODE_TOOL_STATUS = 'opencode.tool.status';
export const ATTR_OPENCODE_ERROR_NAME = 'opencode.error.name';
export const ATTR_OPENCODE_LLM_CALL_COUNT = 'opencode.llm_call.count';
export const ATTR_OPENCODE_TOOL_CALL_COUNT = 'opencode.tool_call.count';
export const ATTR_OPENCODE_TOOL_ERROR_COUNT = 'opencode.tool_error.count';
export const ATTR_OPENCODE_SUBAGENT_COUNT = 'opencode.subagent.count';
export const ATTR_OPENCODE_SUBAGENT_COST_USD = 'opencode.subagent.cost_usd';
export const ATTR_OPENCODE_SUBAGENT_INPUT_TOKENS = 'opencode.subagent.usage.input_tokens';
export const ATTR_OPENCODE_SUBAGENT_OUTPUT_TOKENS = 'opencode.subagent.usage.output_tokens';
export const ATTR_OPENCODE_SUBAGENT_CACHE_READ_INPUT_TOKENS =
  'opencode.subagent.usage.cache_read.input_tokens';
export const ATTR_OPENCODE_SUBAGENT_CACHE_CREATION_INPUT_TOKENS =
  'opencode.subagent.usage.cache_creation.input_tokens';
export const ATTR_OPENCODE_SUBAGENT_REASONING_OUTPUT_TOKENS =
  'opencode.subagent.usage.reasoning.output_tokens';
/**
 * Totals of an exchange's own LLM calls, on its root span. Not `gen_ai.usage.*`: the chat spans of the
 * same trace carry those, and a backend summing the attribute over spans would count every token twice.
 */
export const ATTR_OPENCODE_EXCHANGE_COST_USD = 'opencode.exchange.cost_usd';
export const ATTR_OPENCODE_EXCHANGE_INPUT_TOKENS = 'opencode.exchange.usage.input_tokens';
export const ATTR_OPENCODE_EXCHANGE_OUTPUT_TOKENS = 'opencode.exchange.usage.output_tokens';
export const ATTR_OPENCODE_EXCHANGE_CACHE_READ_INPUT_TOKENS =
  'opencode.exchange.usage.cache_read.input_tokens';
export const ATTR_OPENCODE_EXCHANGE_CACHE_CREATION_INPUT_TOKENS =
  'opencode.exchange.usage.cache_creation.input_tokens';
export const ATTR_OPENCODE_EXCHANGE_REASONING_OUTPUT_TOKENS =
  'opencode.exchange.usage.reasoning.output_tokens';
export const ATTR_OPENCODE_RETRY_ATTEMPT = 'opencode.retry.attempt';
export const ATTR_OPENCODE_COMPACTION_AUTO = 'opencode.compaction.auto';
export const ATTR_OPENCODE_COMPACTION_OVERFLOW = 'opencode.compaction.overflow';
export const ATTR_OPENCODE_CONTENT_TRUNCATED = 'opencode.content.truncated';

/** Span event names (retries and compactions are events, not spans). */
export const EVENT_OPENCODE_RETRY = 'opencode.retry';
export const EVENT_OPENCODE_COMPACTION = 'opencode.compaction';

/** Instrumentation scope of every exported span. */
export const INSTRUMENTATION_SCOPE_NAME = 'opencode-otel-bridge';

// --- Metrics (docs/metrics.md is the contract; Prometheus names in comments) ---------------------
/** `gen_ai_client_token_usage` (histogram, `{token}`). */
export const METRIC_GEN_AI_CLIENT_TOKEN_USAGE = 'gen_ai.client.token.usage';
/** `gen_ai_client_operation_duration` (histogram, `s`). */
export const METRIC_GEN_AI_CLIENT_OPERATION_DURATION = 'gen_ai.client.operation.duration';
export const ATTR_GEN_AI_TOKEN_TYPE = 'gen_ai.token.type';
export const GEN_AI_TOKEN_TYPE_VALUE_INPUT = 'input';
export const GEN_AI_TOKEN_TYPE_VALUE_OUTPUT = 'output';
/** The conventions' ExplicitBucketBoundaries for `gen_ai.client.token.usage` (anchors.md §1.4). */
export const GEN_AI_TOKEN_USAGE_BUCKETS: readonly number[] = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];
/** The conventions' ExplicitBucketBoundaries for `gen_ai.client.operation.duration` (seconds). */
export const GEN_AI_OPERATION_DURATION_BUCKETS: readonly number[] = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

// Bridge metrics (`opencode.*`): the exporter turns dots into underscores and adds `_total` to counters.
export const METRIC_OPENCODE_TOKENS = 'opencode.tokens';
export const METRIC_OPENCODE_COST_USD = 'opencode.cost_usd';
export const METRIC_OPENCODE_LLM_CALLS = 'opencode.llm_calls';
export const METRIC_OPENCODE_TOOL_CALLS = 'opencode.tool_calls';
export const METRIC_OPENCODE_TOOL_DURATION = 'opencode.tool.duration_seconds';
export const METRIC_OPENCODE_ERRORS = 'opencode.errors';
export const METRIC_OPENCODE_SESSIONS = 'opencode.sessions';
export const METRIC_OPENCODE_EXCHANGES = 'opencode.exchanges';
export const METRIC_BRIDGE_ROWS_INGESTED = 'opencode.bridge.rows_ingested';
export const METRIC_BRIDGE_INGEST_ERRORS = 'opencode.bridge.ingest_errors';
export const METRIC_BRIDGE_WATCH_LAG = 'opencode.bridge.watch_lag_seconds';
export const METRIC_BRIDGE_PENDING_CHANGES = 'opencode.bridge.pending_changes';
export const METRIC_BRIDGE_OLDEST_PENDING = 'opencode.bridge.oldest_pending_change_seconds';
export const METRIC_BRIDGE_DEGRADED = 'opencode.bridge.degraded';
export const METRIC_BRIDGE_LAST_INGEST = 'opencode.bridge.last_ingest_timestamp_seconds';
export const METRIC_BRIDGE_EXPORT_BACKLOG = 'opencode.bridge.export_backlog_exchanges';
export const METRIC_BRIDGE_SPANS_EXPORTED = 'opencode.bridge.spans_exported';
export const METRIC_BRIDGE_SPANS_FAILED = 'opencode.bridge.spans_failed';
export const METRIC_BRIDGE_DB_SIZE = 'opencode.bridge.db_size_bytes';
export const METRIC_BRIDGE_HTTP_DURATION = 'opencode.bridge.http_request_duration_seconds';
export const METRIC_BRIDGE_CPU = 'opencode.bridge.process_cpu_seconds';
export const METRIC_BRIDGE_RSS = 'opencode.bridge.process_resident_memory_bytes';
export const METRIC_BRIDGE_EVENTLOOP_LAG = 'opencode.bridge.eventloop_lag_seconds';
export const METRIC_BRIDGE_BUILD_INFO = 'opencode.bridge.build_info';
export const METRIC_BRIDGE_HEALTH_STATUS = 'opencode.bridge.health_check_status';
export const METRIC_BRIDGE_HEALTH_VALUE = 'opencode.bridge.health_check_value';
