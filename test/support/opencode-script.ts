/**
 * Turns a scenario script into a `Responder` for the fake OpenAI server.
 *
 * Every scripted prompt carries a tag like `[oc:T3]` (sub-agent prompts carry their own tag). For an
 * agent request we find the last user message with a tag and count the assistant messages after it:
 * that is the step index inside the turn. So the answer does not depend on request order, and
 * auxiliary calls that OpenCode makes in parallel (title generation, summaries, compaction) are
 * recognised by their prompts and answered separately.
 */
import {
  type ChatMessage,
  messageText,
  type RecordedRequest,
  type Responder,
  type ScriptedResponse,
} from './fake-openai.ts';

/** One LLM step. An array means successive attempts of the same step (e.g. a 429, then success). */
export type StepScript = ScriptedResponse | ScriptedResponse[];

export const TAG_RE = /\[oc:([A-Za-z0-9_-]+)\]/g;

export function tag(id: string): string {
  return `[oc:${id}]`;
}

export type RequestKind = 'title' | 'compaction' | 'agent' | 'untagged';

export interface Classified {
  kind: RequestKind;
  tag?: string;
  step?: number;
}

function systemText(msgs: ChatMessage[]): string {
  return msgs
    .filter((m) => m.role === 'system')
    .map(messageText)
    .join('\n');
}

export function classify(req: RecordedRequest): Classified {
  const msgs = req.body?.messages ?? [];
  const sys = systemText(msgs);
  if (/title generator/i.test(sys)) return { kind: 'title' };
  const lastUser = [...msgs].reverse().find((m) => m.role === 'user');
  const lastUserText = messageText(lastUser);
  // 1.1.x: compaction agent prompt + "Provide a detailed prompt for continuing our conversation above";
  // 1.18.x: "You are a context summarization agent" + "Create a new anchored summary ...".
  if (
    /context summarization agent|tasked with summarizing|summarize conversations/i.test(sys) ||
    /detailed prompt for continuing our conversation|anchored summary/i.test(lastUserText)
  ) {
    return { kind: 'compaction' };
  }
  for (let i = msgs.length - 1; i >= 0; i--) {
    const m = msgs[i]!;
    if (m.role !== 'user') continue;
    const tags = [...messageText(m).matchAll(TAG_RE)];
    const last = tags.at(-1);
    if (!last) continue;
    const step = msgs.slice(i + 1).filter((x) => x.role === 'assistant').length;
    return { kind: 'agent', tag: last[1], step };
  }
  return { kind: 'untagged' };
}

export interface ScriptHandlers {
  /** Scripted steps per tag (turn tags and sub-agent tags). */
  steps: Map<string, StepScript[]>;
}

const DEFAULT_USAGE = { prompt_tokens: 120, completion_tokens: 12 };

export function scriptResponder(handlers: ScriptHandlers, log: (line: string) => void = () => {}): Responder {
  const attempts = new Map<string, number>();
  return (req) => {
    const c = classify(req);
    if (c.kind === 'title') {
      return {
        kind: 'text',
        text: 'Scripted session title',
        usage: { prompt_tokens: 50, completion_tokens: 4 },
        label: 'title',
      };
    }
    if (c.kind === 'compaction') {
      return {
        kind: 'text',
        text: 'Summary: the user asked for scripted work; files were read, written and edited.',
        usage: { prompt_tokens: 900, completion_tokens: 40 },
        label: 'compaction',
      };
    }
    if (c.kind === 'untagged') {
      return { kind: 'text', text: 'Done.', usage: DEFAULT_USAGE, label: 'untagged' };
    }
    const steps = handlers.steps.get(c.tag!);
    const key = `${c.tag}#${c.step}`;
    const n = attempts.get(key) ?? 0;
    attempts.set(key, n + 1);
    const step = steps?.[c.step!];
    if (!step) {
      log(`unscripted request ${key} (attempt ${n})`);
      return {
        kind: 'text',
        text: `No script for ${key}.`,
        usage: DEFAULT_USAGE,
        label: `${key}:unscripted`,
      };
    }
    const list = Array.isArray(step) ? step : [step];
    const r = list[Math.min(n, list.length - 1)]!;
    return { ...r, label: `${key}.${n}` };
  };
}
