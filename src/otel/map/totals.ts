/**
 * The totals of one exchange, accumulated while its spans are mapped: the root's own-session counts
 * (`opencode.exchange.*`, `opencode.*.count`, the first own error) and each sub-agent session's usage
 * (`opencode.subagent.*`). Never `gen_ai.usage.*`: those stay on the chat spans (docs/otel.md "Sum these spans").
 */
import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_OPENCODE_EXCHANGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_OPENCODE_EXCHANGE_CACHE_READ_INPUT_TOKENS,
  ATTR_OPENCODE_EXCHANGE_COST_USD,
  ATTR_OPENCODE_EXCHANGE_INPUT_TOKENS,
  ATTR_OPENCODE_EXCHANGE_OUTPUT_TOKENS,
  ATTR_OPENCODE_EXCHANGE_REASONING_OUTPUT_TOKENS,
  ATTR_OPENCODE_LLM_CALL_COUNT,
  ATTR_OPENCODE_SUBAGENT_CACHE_CREATION_INPUT_TOKENS,
  ATTR_OPENCODE_SUBAGENT_CACHE_READ_INPUT_TOKENS,
  ATTR_OPENCODE_SUBAGENT_COST_USD,
  ATTR_OPENCODE_SUBAGENT_COUNT,
  ATTR_OPENCODE_SUBAGENT_INPUT_TOKENS,
  ATTR_OPENCODE_SUBAGENT_OUTPUT_TOKENS,
  ATTR_OPENCODE_SUBAGENT_REASONING_OUTPUT_TOKENS,
  ATTR_OPENCODE_TOOL_CALL_COUNT,
  ATTR_OPENCODE_TOOL_ERROR_COUNT,
} from '../semconv.ts';
import { addUsage, setUsage, type Usage, type UsageNames, zeroUsage } from './rules.ts';

const EXCHANGE_USAGE: UsageNames = [
  ATTR_OPENCODE_EXCHANGE_INPUT_TOKENS,
  ATTR_OPENCODE_EXCHANGE_OUTPUT_TOKENS,
  ATTR_OPENCODE_EXCHANGE_CACHE_READ_INPUT_TOKENS,
  ATTR_OPENCODE_EXCHANGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_OPENCODE_EXCHANGE_REASONING_OUTPUT_TOKENS,
];
const SUBAGENT_USAGE: UsageNames = [
  ATTR_OPENCODE_SUBAGENT_INPUT_TOKENS,
  ATTR_OPENCODE_SUBAGENT_OUTPUT_TOKENS,
  ATTR_OPENCODE_SUBAGENT_CACHE_READ_INPUT_TOKENS,
  ATTR_OPENCODE_SUBAGENT_CACHE_CREATION_INPUT_TOKENS,
  ATTR_OPENCODE_SUBAGENT_REASONING_OUTPUT_TOKENS,
];

interface SessionTotal {
  usage: Usage;
  cost: number;
}

export class ExchangeTotals {
  private readonly own: SessionTotal = { usage: zeroUsage(), cost: 0 };
  private readonly all: SessionTotal = { usage: zeroUsage(), cost: 0 }; // every sub-agent session
  private readonly bySession = new Map<string, SessionTotal>();
  private llmCalls = 0;
  private toolCalls = 0;
  private toolErrors = 0;
  private subagents = 0;
  /** The error category of the exchange's first failed own LLM call. */
  firstOwnError: string | undefined;

  constructor(private readonly rootSession: string | null) {}

  llmCall(sessionId: string | null, usage: Usage | null, cost: number | null, errorType?: string): void {
    if (sessionId === this.rootSession) {
      this.llmCalls++;
      add(this.own, usage, cost);
      if (errorType && !this.firstOwnError) this.firstOwnError = errorType;
    } else if (sessionId) {
      let s = this.bySession.get(sessionId);
      if (!s) {
        s = { usage: zeroUsage(), cost: 0 };
        this.bySession.set(sessionId, s);
      }
      add(s, usage, cost);
      add(this.all, usage, cost);
    }
  }

  tool(sessionId: string | null, failed: boolean): void {
    if (sessionId !== this.rootSession) return;
    this.toolCalls++;
    if (failed) this.toolErrors++;
  }

  subagent(): void {
    this.subagents++;
  }

  /** A sub-agent span's totals: its child session's LLM calls (nothing when it made none). */
  setSubagentAttributes(sessionId: string, attrs: Attributes): void {
    const s = this.bySession.get(sessionId);
    if (!s) return;
    setUsage(attrs, s.usage, SUBAGENT_USAGE);
    attrs[ATTR_OPENCODE_SUBAGENT_COST_USD] = s.cost;
  }

  /** The root's totals: own LLM calls, tool calls and errors; sub-agent totals when there are sub-agents. */
  setRootAttributes(attrs: Attributes): void {
    setUsage(attrs, this.own.usage, EXCHANGE_USAGE);
    attrs[ATTR_OPENCODE_EXCHANGE_COST_USD] = this.own.cost;
    attrs[ATTR_OPENCODE_LLM_CALL_COUNT] = this.llmCalls;
    attrs[ATTR_OPENCODE_TOOL_CALL_COUNT] = this.toolCalls;
    attrs[ATTR_OPENCODE_TOOL_ERROR_COUNT] = this.toolErrors;
    if (this.subagents > 0) {
      attrs[ATTR_OPENCODE_SUBAGENT_COUNT] = this.subagents;
      attrs[ATTR_OPENCODE_SUBAGENT_COST_USD] = this.all.cost;
      attrs[ATTR_OPENCODE_SUBAGENT_INPUT_TOKENS] = this.all.usage.inputTokens;
      attrs[ATTR_OPENCODE_SUBAGENT_OUTPUT_TOKENS] = this.all.usage.outputTokens;
    }
  }
}

function add(t: SessionTotal, usage: Usage | null, cost: number | null): void {
  if (usage) addUsage(t.usage, usage);
  t.cost += cost ?? 0;
}
