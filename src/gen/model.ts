/**
 * Builds one session (with its sub-agent children) in memory, following OpenCode's agent loop:
 * user message → N assistant messages (one per LLM call, parentID = the user message), each with
 * step-start … step-finish; tokens/cost per step; compaction, revert, errors, retries, sub-agents.
 */
import {
  costUsd,
  type Features,
  featuresOf,
  type Generation,
  MODELS,
  type ModelDef,
  modelKey,
  PRIMARY_AGENTS,
  SUBAGENTS,
  TIMELINE,
  TOOL_WEIGHTS,
  ZERO_PRICE,
} from './catalog.ts';
import type { ContentPools } from './content.ts';
import type { IdFactory } from './ids.ts';
import type { Rng } from './random.ts';
import type {
  EventRec,
  FileDiff,
  MessageInfo,
  MessageRec,
  Obj,
  PartRec,
  ProjectRec,
  RowRec,
  SessionInfo,
  SessionRec,
  TodoRec,
  Tokens,
} from './types.ts';

/** Features that must appear at least once in every corpus, handed out to the first session that can. */
export class Quota {
  private readonly wanted = new Set<string>([
    'file',
    'agent',
    'subtask',
    'retry',
    'snapshot',
    'compaction',
    'revert',
    'tool-error',
    'err:APIError429',
    'err:APIError500',
    'err:APIError529',
    'err:ProviderAuthError',
    'err:MessageAbortedError',
    'err:MessageOutputLengthError',
    'err:ContextOverflowError',
    'err:UnknownError',
    'free-model',
    'oauth',
    'multistep',
    'crash',
  ]);
  take(name: string): boolean {
    return this.wanted.delete(name);
  }
  has(name: string): boolean {
    return this.wanted.has(name);
  }
  nextError(): string | undefined {
    for (const w of this.wanted) if (w.startsWith('err:')) return w.slice(4);
    return undefined;
  }
}

export interface GenContext {
  ids: IdFactory;
  pools: ContentPools;
  quota: Quota;
}

export interface SessionPlan {
  start: number;
  project: ProjectRec;
  version: string;
  generation: Generation;
  children: number;
  /** Last turn(s) happen after this time, in 2.x only (session copied V1→V2, then continued). */
  continueInV2At?: number;
  /** The last assistant message never completed (crash / still streaming). */
  crashLast: boolean;
  /** Emit 2.x-only rows (model-switched, agent-switched, idle). */
  v2Events: boolean;
  /** Scale factor for the size of the conversation. */
  depth?: number;
}

const SYSTEM_TOKENS = 12_500;
const COMPACT_AT = 160_000;
const CLEARED = '[Old tool result content cleared]';

type StepKind = 'tool' | 'final';

interface ToolResult {
  name: string;
  input: Obj;
  output: string;
  title: string;
  metadata: Obj;
  durationMs: number;
}

export class SessionBuilder {
  private clock: number;
  private readonly f: Features;
  private readonly model: ModelDef;
  private readonly oauth: boolean;
  private readonly agent: string;
  private readonly sessionID: string;
  private readonly rows: RowRec[] = [];
  private readonly children: SessionRec[] = [];
  private ctxTokens = SYSTEM_TOKENS;
  private pendingTokens = 0;
  private todos: TodoRec[] | null = null;
  private readonly diffs = new Map<string, FileDiff>();
  private readonly cwd: string;
  private usage = { cost: 0, tokens: zeroTokens() };
  private lastUserID = '';
  private inV2Only = false;
  private childrenLeft: number;
  private readonly variant: string | undefined;
  private readonly toolMessages: MessageRec[] = [];

  constructor(
    private readonly ctx: GenContext,
    private readonly plan: SessionPlan,
    private readonly rng: Rng,
    private readonly parent?: {
      id: string;
      model: ModelDef;
      oauth: boolean;
      description: string;
      agent: string;
    },
  ) {
    this.clock = plan.start;
    this.f = featuresOf(plan.version);
    this.childrenLeft = plan.children;
    if (parent) {
      this.oauth = parent.oauth;
      this.model =
        rng.chance(0.25) && parent.model.providerID === 'anthropic' && !parent.oauth
          ? pickModel(rng, plan.start, 'anthropic', 'claude-haiku-4-5')
          : parent.model;
      this.agent = parent.agent;
    } else {
      const forceFree = ctx.quota.has('free-model') && rng.chance(0.5);
      this.model = forceFree ? pickModel(rng, plan.start, 'opencode') : pickModel(rng, plan.start);
      if (this.model.free) ctx.quota.take('free-model');
      const canOauth = this.model.providerID === 'anthropic';
      this.oauth = canOauth && (rng.chance(0.3) || ctx.quota.take('oauth'));
      this.agent = rng.weighted(PRIMARY_AGENTS);
    }
    this.variant =
      this.model.reasoningParts && this.f.v11 && rng.chance(0.3)
        ? rng.pick(['high', 'max', 'low'])
        : undefined;
    this.sessionID = ctx.ids.descending('ses', plan.start);
    this.cwd = this.pickDirectory();
  }

  private pickDirectory(): string {
    const wt = this.plan.project.worktree;
    if (this.plan.project.id === 'global')
      return this.rng.pick(['/home/dev', '/home/dev/scratch', '/tmp/play']);
    return this.rng.chance(0.85)
      ? wt
      : `${wt}/${this.rng.pick(['packages/core', 'packages/web', 'src', 'docs'])}`;
  }

  private tick(min: number, max: number): number {
    this.clock += this.rng.int(min, max);
    return this.clock;
  }

  build(): SessionRec {
    const rng = this.rng;
    const depth = this.plan.depth ?? 1;
    const isChild = !!this.parent;
    const turns = isChild ? 1 : rng.logNormalInt(3.75 * depth, 0.9, 1, 60);
    const perTurn: number[] = [];
    for (let t = 0; t < turns; t++) {
      perTurn.push(isChild ? rng.logNormalInt(9, 0.6, 2, 50) : rng.logNormalInt(6.4 * depth, 0.85, 1, 70));
    }
    if (this.plan.continueInV2At !== undefined && perTurn.length < 2)
      perTurn.push(rng.logNormalInt(5, 0.6, 1, 20));
    // Make sure there are enough tool-calling messages to host the task calls of the children.
    let slots = perTurn.reduce((a, n) => a + n - 1, 0);
    while (slots < this.childrenLeft) {
      const i = rng.int(0, perTurn.length - 1);
      perTurn[i] = (perTurn[i] as number) + 1;
      slots++;
    }
    const taskAt = new Set<number>();
    {
      const all: number[] = [];
      for (let i = 0; i < slots; i++) all.push(i);
      rng.shuffle(all);
      for (let i = 0; i < this.childrenLeft; i++) taskAt.add(all[i] as number);
    }

    let slot = 0;
    for (let t = 0; t < perTurn.length; t++) {
      const last = t === perTurn.length - 1;
      if (this.plan.continueInV2At !== undefined && last) {
        this.clock = Math.max(this.clock, this.plan.continueInV2At) + rng.int(600_000, 3 * 86_400_000);
        this.inV2Only = true;
        this.modelSwitch();
      } else if (t > 0) {
        this.tick(15_000, rng.chance(0.1) ? 2 * 86_400_000 : 1_200_000);
        if (this.plan.v2Events && rng.chance(0.06)) this.modelSwitch();
      }
      const n = perTurn[t] as number;
      const spawnHere = [...Array(n - 1).keys()].some((j) => taskAt.has(slot + j));
      this.userMessage(
        isChild ? this.parent!.description : undefined,
        spawnHere && (rng.chance(0.3) || this.ctx.quota.has('subtask')),
      );
      // Manual /compact, to guarantee a compaction in small corpora.
      for (let j = 0; j < n; j++) {
        if (this.ctxTokens + this.pendingTokens > COMPACT_AT) this.compaction(true);
        const kind: StepKind = j === n - 1 ? 'final' : 'tool';
        const task = kind === 'tool' && taskAt.has(slot + j);
        this.assistantMessage(kind, task);
      }
      slot += n - 1;
      if (!isChild && t === 0 && this.ctx.quota.has('compaction') && this.f.agentField && n > 1) {
        this.ctx.quota.take('compaction');
        this.compaction(false);
      }
    }
    if (this.plan.v2Events && rng.chance(0.4)) this.event('idle', { outcome: 'completed' });
    if (this.plan.crashLast) this.crashLastMessage();
    return this.finish();
  }

  // ---------------------------------------------------------------------------------------------

  private part(msg: MessageRec, type: string, fields: Obj, at: number): PartRec {
    const p: PartRec = {
      id: this.ctx.ids.ascending('prt', at),
      sessionID: this.sessionID,
      messageID: msg.info.id,
      type,
      ...fields,
    };
    msg.parts.push(p);
    return p;
  }

  private push(info: MessageInfo, v2Type: string): MessageRec {
    const rec: MessageRec = { kind: 'message', info, parts: [], v2Type, v2Only: this.inV2Only };
    this.rows.push(rec);
    return rec;
  }

  private event(type: string, data: Obj): void {
    const at = this.tick(50, 2000);
    const ev: EventRec = {
      kind: 'event',
      id: this.ctx.ids.ascending('msg', at),
      sessionID: this.sessionID,
      v2Type: type,
      time: at,
      data: { ...data, time: { created: at } },
      v2Only: true,
    };
    this.rows.push(ev);
  }

  private modelSwitch(): void {
    if (!this.plan.v2Events && !this.inV2Only) return;
    const m = { id: this.model.modelID, providerID: this.model.providerID };
    if (this.rng.chance(0.5)) this.event('model-switched', { from: m, to: m });
    else this.event('agent-switched', { from: this.agent, to: this.agent });
  }

  private userModel(): Obj {
    const m: Obj = { providerID: this.model.providerID, modelID: this.model.modelID };
    if (this.f.v12 && this.variant) m.variant = this.variant;
    return m;
  }

  private userMessage(text: string | undefined, subtask: boolean): MessageRec {
    const rng = this.rng;
    const at = this.tick(1, 40);
    const info: MessageInfo = {
      id: this.ctx.ids.ascending('msg', at),
      sessionID: this.sessionID,
      role: 'user',
      time: { created: at },
    };
    if (this.f.v11 && rng.chance(0.25)) info.summary = { title: this.ctx.pools.topic(rng), diffs: [] };
    if (this.f.agentField) {
      info.agent = this.parent ? this.agent : this.agent;
      info.model = this.userModel();
    }
    if (this.f.v11 && !this.f.v12 && this.variant) info.variant = this.variant;
    const msg = this.push(info, 'user');
    this.lastUserID = info.id;
    const prompt = text ?? this.ctx.pools.prompt(rng);
    const agentMention =
      !this.parent && this.f.agentField && (rng.chance(0.02) || this.ctx.quota.take('agent'));
    const body = agentMention ? `@explore ${prompt}` : prompt;
    this.part(msg, 'text', { text: body }, at);
    if (agentMention)
      this.part(msg, 'agent', { name: 'explore', source: { value: '@explore', start: 0, end: 8 } }, at);
    if (!this.parent && (rng.chance(0.05) || this.ctx.quota.take('file'))) {
      const img = rng.chance(0.5);
      const bytes = img ? rng.logNormalInt(9000, 0.8, 300, 60_000) : rng.logNormalInt(2500, 0.8, 100, 30_000);
      const filename = img ? `screenshot-${rng.int(1, 99)}.png` : this.ctx.pools.file(rng);
      const payload = img
        ? base64Noise(rng, bytes)
        : Buffer.from(this.ctx.pools.code(rng, bytes)).toString('base64');
      const fields: Obj = {
        mime: img ? 'image/png' : 'text/plain',
        filename,
        url: `data:${img ? 'image/png' : 'text/plain'};base64,${payload}`,
      };
      if (!img)
        fields.source = {
          text: { value: `@${filename}`, start: 0, end: filename.length + 1 },
          type: 'file',
          path: filename,
        };
      this.part(msg, 'file', fields, at);
    }
    if (subtask && this.f.agentField && (this.f.v11 || this.ctx.quota.has('subtask'))) {
      this.ctx.quota.take('subtask');
      this.part(
        msg,
        'subtask',
        {
          prompt: this.ctx.pools.prose(rng, rng.int(100, 600)),
          description: this.ctx.pools.topic(rng),
          agent: rng.weighted(SUBAGENTS),
          command: rng.pick(['review', 'explain', 'test']),
        },
        at,
      );
    }
    this.pendingTokens += Math.round(body.length / 3.8) + 20;
    return msg;
  }

  private assistantInfo(at: number, parentID: string, mode = this.agent): MessageInfo {
    const info: MessageInfo = {
      id: this.ctx.ids.ascending('msg', at),
      sessionID: this.sessionID,
      role: 'assistant',
      time: { created: at },
    };
    info.parentID = parentID;
    info.modelID = this.model.modelID;
    info.providerID = this.model.providerID;
    info.mode = mode;
    if (this.f.agentField) info.agent = mode;
    info.path = {
      cwd: this.cwd,
      root: this.plan.project.id === 'global' ? this.cwd : this.plan.project.worktree,
    };
    info.cost = 0;
    info.tokens = zeroTokens(this.f.v11);
    if (this.variant && this.f.v11) info.variant = this.variant;
    return info;
  }

  /** Computes one step's tokens + cost and appends the step-finish part. */
  private stepFinish(
    msg: MessageRec,
    reason: string,
    outChars: number,
    reasoningChars: number,
    snapshot: string,
  ): Tokens {
    const rng = this.rng;
    const m = this.model;
    const prompt = this.ctxTokens + this.pendingTokens;
    let input = prompt;
    let read = 0;
    let write = 0;
    const first = this.ctxTokens <= SYSTEM_TOKENS && this.rows.length <= 2;
    switch (m.cache) {
      case 'anthropic': {
        read = first ? 0 : this.ctxTokens;
        const fresh = prompt - read;
        input = Math.min(fresh, rng.int(1, 12));
        write = fresh - input;
        break;
      }
      case 'openai':
        read = this.ctxTokens > 1024 ? Math.floor((this.ctxTokens * 0.97) / 128) * 128 : 0;
        input = prompt - read;
        break;
      case 'google':
        read = rng.chance(0.6) ? Math.floor(this.ctxTokens * 0.9) : 0;
        input = prompt - read;
        break;
      default:
        break;
    }
    const output = Math.max(1, Math.round(outChars / 3.7) + rng.int(2, 40));
    let reasoning = 0;
    if (m.reportsReasoning && m.reasoningParts)
      reasoning = Math.round(reasoningChars / 3.5) + rng.int(0, 900);
    const tokens: Tokens = { input: Math.max(0, input), output, reasoning, cache: { read, write } };
    const price = m.free || this.oauth ? ZERO_PRICE : m.price;
    const cost = costUsd(price, tokens);
    const recorded: Tokens = this.f.v11
      ? { total: tokens.input + tokens.output + tokens.reasoning + read + write, ...tokens }
      : tokens;
    this.part(msg, 'step-finish', { reason, snapshot, cost, tokens: recorded }, this.tick(1, 30));
    msg.info.cost = (msg.info.cost as number) + cost;
    msg.info.tokens = recorded;
    this.ctxTokens = prompt + output;
    this.pendingTokens = 0;
    addTokens(this.usage.tokens, tokens);
    this.usage.cost += cost;
    return tokens;
  }

  private assistantMessage(kind: StepKind, task: boolean): MessageRec {
    const rng = this.rng;
    const q = this.ctx.quota;
    const at = this.tick(300, 2500);
    const msg = this.push(this.assistantInfo(at, this.lastUserID), 'assistant');

    // Turn-ending errors.
    if (kind === 'final' && !this.parent) {
      const forced = q.nextError();
      if ((forced && rng.chance(0.5)) || rng.chance(0.03)) {
        const name = forced ?? rng.weighted(ERROR_MIX);
        q.take(`err:${name}`);
        this.errorMessage(msg, name);
        return msg;
      }
    }

    if (this.f.agentField && (rng.chance(0.012) || q.take('retry'))) {
      const attempts = rng.int(1, 3);
      for (let a = 1; a <= attempts; a++) {
        const t = this.tick(1000, 8000 * a);
        this.part(
          msg,
          'retry',
          { attempt: a, error: apiError(rng, rng.pick([429, 529, 500])), time: { created: t } },
          t,
        );
      }
    }

    const steps = this.f.multiStep && (rng.chance(0.35) || q.take('multistep')) ? rng.int(2, 4) : 1;
    let edited: string[] = [];
    for (let s = 0; s < steps; s++) {
      const lastStep = s === steps - 1;
      const snap = rng.hex(40);
      this.part(msg, 'step-start', { snapshot: snap }, this.tick(1, 20));
      let outChars = 0;
      let reasoningChars = 0;
      if (this.model.reasoningParts && rng.chance(this.variant ? 0.85 : 0.55)) {
        const start = this.tick(5, 200);
        const text = this.ctx.pools.prose(rng, rng.logNormalInt(1400, 0.9, 40, 16_000));
        const end = this.tick(200, 6000);
        const fields: Obj = { text, time: { start, end } };
        if (this.model.cache === 'anthropic')
          fields.metadata = { anthropic: { signature: base64Noise(rng, 240) } };
        else if (this.model.providerID === 'openai')
          fields.metadata = { openai: { itemId: `rs_${rng.hex(48)}` } };
        this.part(msg, 'reasoning', fields, start);
        reasoningChars += text.length;
      }
      const isFinalText = kind === 'final' && lastStep;
      if (isFinalText || rng.chance(0.3)) {
        const start = this.tick(5, 300);
        const text = isFinalText
          ? this.ctx.pools.answer(rng, rng.logNormalInt(1300, 0.9, 40, 20_000))
          : this.ctx.pools.prose(rng, rng.logNormalInt(120, 0.6, 20, 800));
        const end = this.tick(100, 8000);
        this.part(msg, 'text', { text, time: { start, end } }, start);
        outChars += text.length;
      }
      if (kind === 'tool' || !lastStep) {
        const n = rng.chance(0.22) ? rng.int(2, 4) : 1;
        for (let i = 0; i < n; i++) {
          const wantTask = task && lastStep && i === 0;
          const r = this.toolPart(msg, wantTask);
          outChars += r.inputChars;
          if (r.edited) edited.push(r.edited);
        }
      }
      const reason = isFinalText ? 'stop' : 'tool-calls';
      this.stepFinish(msg, reason, outChars, reasoningChars, rng.hex(40));
      if (edited.length > 0) {
        this.part(
          msg,
          'patch',
          { hash: rng.hex(40), files: edited.map((f) => `${this.plan.project.worktree}/${f}`) },
          this.tick(1, 10),
        );
        edited = [];
      }
      if (rng.chance(0.01) || q.take('snapshot'))
        this.part(msg, 'snapshot', { snapshot: rng.hex(40) }, this.tick(1, 10));
    }
    msg.info.time.completed = this.tick(5, 200);
    msg.info.finish = kind === 'final' ? 'stop' : 'tool-calls';
    if (kind === 'tool') this.toolMessages.push(msg);
    return msg;
  }

  private errorMessage(msg: MessageRec, name: string): void {
    const rng = this.rng;
    const info = msg.info;
    switch (name) {
      case 'APIError429':
      case 'APIError500':
      case 'APIError529': {
        const code = Number(name.slice(8));
        this.part(msg, 'step-start', { snapshot: rng.hex(40) }, this.tick(1, 20));
        info.error = apiError(rng, code);
        break;
      }
      case 'ProviderAuthError':
        info.error = {
          name: 'ProviderAuthError',
          data: {
            providerID: this.model.providerID,
            message: 'Invalid API key or token expired. Run `opencode auth login`.',
          },
        };
        break;
      case 'MessageAbortedError': {
        this.part(msg, 'step-start', { snapshot: rng.hex(40) }, this.tick(1, 20));
        const start = this.tick(5, 300);
        const text = this.ctx.pools.prose(rng, rng.int(40, 400));
        this.part(msg, 'text', { text, time: { start, end: this.tick(100, 3000) } }, start);
        if (rng.chance(0.5)) this.toolPart(msg, false, 'aborted');
        info.error = { name: 'MessageAbortedError', data: { message: 'The operation was aborted.' } };
        break;
      }
      case 'MessageOutputLengthError': {
        this.part(msg, 'step-start', { snapshot: rng.hex(40) }, this.tick(1, 20));
        const start = this.tick(5, 300);
        const text = this.ctx.pools.answer(rng, rng.int(8000, 20000));
        this.part(msg, 'text', { text, time: { start, end: this.tick(20_000, 90_000) } }, start);
        this.stepFinish(msg, 'length', text.length, 0, rng.hex(40));
        info.error = { name: 'MessageOutputLengthError', data: {} };
        info.finish = 'length';
        break;
      }
      case 'ContextOverflowError':
        info.error = {
          name: 'ContextOverflowError',
          data: {
            message: `prompt is too long: ${this.ctxTokens + 201_000} tokens > 200000 maximum`,
            responseBody: JSON.stringify({
              type: 'error',
              error: { type: 'invalid_request_error', message: 'prompt is too long' },
            }),
          },
        };
        break;
      default:
        info.error = {
          name: 'UnknownError',
          data: this.f.v12
            ? { message: 'Unexpected server error. Check server logs for details.', ref: `err_${rng.hex(8)}` }
            : { message: 'fetch failed' },
        };
        break;
    }
    info.time.completed = this.tick(100, 3000);
  }

  private callID(): string {
    return this.model.cache === 'anthropic'
      ? `toolu_01${this.rng.base62(22)}`
      : `call_${this.rng.base62(24)}`;
  }

  private toolPart(
    msg: MessageRec,
    task: boolean,
    forceState?: 'aborted',
  ): { inputChars: number; edited?: string } {
    const rng = this.rng;
    const start = this.tick(20, 600);
    const name = task ? 'task' : rng.weighted(TOOL_WEIGHTS);
    const res = task ? this.taskTool(start) : this.toolResult(name);
    const callID = this.callID();
    const p = this.part(msg, 'tool', { callID, tool: res.name, state: {} }, start);
    const inputChars = JSON.stringify(res.input).length;
    if (forceState === 'aborted') {
      p.state = {
        status: 'error',
        input: res.input,
        error: 'Tool execution aborted',
        time: { start, end: this.tick(10, 500) },
      };
      return { inputChars };
    }
    if (!task && (rng.chance(0.03) || this.ctx.quota.take('tool-error'))) {
      p.state = {
        status: 'error',
        input: res.input,
        error: toolError(rng, res.name, res.input),
        time: { start, end: this.tick(5, 400) },
      };
      this.pendingTokens += 60;
      return { inputChars };
    }
    const end = task
      ? this.clock + rng.int(50, 400)
      : this.tick(Math.round(res.durationMs * 0.8), Math.round(res.durationMs * 1.2) + 5);
    this.clock = Math.max(this.clock, end);
    p.state = {
      status: 'completed',
      input: res.input,
      output: res.output,
      title: res.title,
      metadata: res.metadata,
      time: { start, end },
    };
    this.pendingTokens += Math.min(25_000, Math.round(res.output.length / 4)) + 30;
    const edited =
      res.name === 'edit' || res.name === 'write'
        ? (res.metadata.filediff as { file: string } | undefined)?.file
        : undefined;
    return edited ? { inputChars, edited } : { inputChars };
  }

  private toolResult(name: string): ToolResult {
    const rng = this.rng;
    const pools = this.ctx.pools;
    const root = this.plan.project.worktree;
    switch (name) {
      case 'read': {
        const file = pools.file(rng);
        const bytes = rng.logNormalInt(19_000, 1.0, 150, 300_000);
        const offset = rng.chance(0.15) ? rng.int(1, 40) * 50 : 0;
        const output = pools.readOutput(rng, bytes, offset);
        const input: Obj = { filePath: `${root}/${file}` };
        if (offset) Object.assign(input, { offset, limit: 2000 });
        return {
          name,
          input,
          output,
          title: file,
          metadata: {
            preview: output.slice(7, 7 + Math.min(1500, output.length)),
            truncated: bytes > 50_000,
          },
          durationMs: rng.int(3, 60),
        };
      }
      case 'bash': {
        const [command, description] = pools.command(rng);
        const bytes = rng.logNormalInt(4_000, 2.0, 0, 400_000);
        const output = bytes < 8 ? '' : pools.log(rng, bytes);
        const exit = rng.chance(0.18) ? 1 : 0;
        return {
          name,
          input: { command, description },
          output,
          title: description,
          metadata: {
            output: output.length > 30_000 ? `${output.slice(0, 30_000)}\n\n...` : output,
            exit,
            description,
          },
          durationMs: rng.logNormalInt(2500, 1.6, 40, 600_000),
        };
      }
      case 'edit':
      case 'write': {
        const file = pools.file(rng);
        const isWrite = name === 'write';
        const additions = rng.int(1, isWrite ? 200 : 40);
        const deletions = isWrite ? 0 : rng.int(0, 30);
        this.noteDiff(file, additions, deletions, isWrite);
        const diff = pools.unifiedDiff(rng, file, Math.min(60, additions + deletions + 4));
        const input: Obj = isWrite
          ? { filePath: `${root}/${file}`, content: pools.code(rng, rng.logNormalInt(3500, 0.9, 80, 80_000)) }
          : {
              filePath: `${root}/${file}`,
              oldString: pools.code(rng, rng.logNormalInt(300, 0.8, 10, 6000)),
              newString: pools.code(rng, rng.logNormalInt(420, 0.8, 10, 8000)),
            };
        const diag = rng.chance(0.1)
          ? `\n\nThis file has errors, please fix\n<file_diagnostics>\nERROR [${rng.int(1, 300)}:${rng.int(1, 60)}] Cannot find name '${pools.ident(rng)}'.\n</file_diagnostics>`
          : '';
        return {
          name,
          input,
          output: isWrite ? `Wrote file successfully.${diag}` : `Edit applied successfully.${diag}`,
          title: file,
          metadata: {
            diagnostics: {},
            diff,
            filediff: {
              file,
              before: isWrite ? '' : pools.code(rng, rng.logNormalInt(5000, 0.8, 100, 40_000)),
              after: pools.code(rng, rng.logNormalInt(5300, 0.8, 100, 40_000)),
              additions,
              deletions,
            },
          },
          durationMs: rng.int(10, 900),
        };
      }
      case 'grep': {
        const pattern = pools.ident(rng);
        const bytes = rng.logNormalInt(3500, 1.1, 30, 120_000);
        const output = `Found ${Math.max(1, Math.round(bytes / 70))} matches\n${pools.code(rng, bytes)}`;
        return {
          name,
          input: { pattern, path: root, include: '*.ts' },
          output,
          title: pattern,
          metadata: { matches: Math.round(bytes / 70), truncated: false },
          durationMs: rng.int(10, 900),
        };
      }
      case 'glob': {
        const n = rng.logNormalInt(12, 1.0, 0, 400);
        const files: string[] = [];
        for (let i = 0; i < n; i++) files.push(`${root}/${pools.file(rng)}`);
        return {
          name,
          input: { pattern: '**/*.ts', path: root },
          output: n === 0 ? 'No files found' : files.join('\n'),
          title: '**/*.ts',
          metadata: { count: n, truncated: false },
          durationMs: rng.int(5, 300),
        };
      }
      case 'list': {
        const bytes = rng.logNormalInt(1500, 0.7, 60, 20_000);
        const output = `${root}/\n${pools.log(rng, bytes)}`;
        return {
          name,
          input: { path: root },
          output,
          title: root.split('/').pop() ?? root,
          metadata: { count: Math.round(bytes / 30), truncated: false },
          durationMs: rng.int(5, 200),
        };
      }
      case 'todowrite': {
        const n = rng.int(2, 9);
        const todos: TodoRec[] = [];
        for (let i = 0; i < n; i++) {
          todos.push({
            content: this.ctx.pools.prose(rng, rng.int(20, 90)),
            status: rng.weighted([
              ['pending', 4],
              ['in_progress', 2],
              ['completed', 5],
              ['cancelled', 1],
            ] as const),
            priority: rng.weighted([
              ['high', 3],
              ['medium', 5],
              ['low', 2],
            ] as const),
            id: String(i + 1),
          });
        }
        this.todos = todos;
        return {
          name,
          input: { todos },
          output: JSON.stringify(todos, null, 2),
          title: `${todos.filter((t) => t.status !== 'completed').length} todos`,
          metadata: { todos },
          durationMs: rng.int(1, 20),
        };
      }
      case 'webfetch': {
        const bytes = rng.logNormalInt(30_000, 1.1, 300, 400_000);
        const url = `https://${rng.pick(['docs.example.dev', 'developer.mozilla.org', 'nodejs.org', 'github.com'])}/${pools.ident(rng)}`;
        return {
          name,
          input: { url, format: 'markdown' },
          output: pools.markdownDoc(rng, bytes),
          title: `${url} (text/html)`,
          metadata: {},
          durationMs: rng.int(300, 6000),
        };
      }
      default: {
        const bytes = rng.logNormalInt(7000, 0.7, 500, 60_000);
        return {
          name,
          input: { context7CompatibleLibraryID: '/vercel/next.js', topic: pools.ident(rng), tokens: 5000 },
          output: pools.markdownDoc(rng, bytes),
          title: '',
          metadata: {},
          durationMs: rng.int(300, 3000),
        };
      }
    }
  }

  private noteDiff(file: string, additions: number, deletions: number, created: boolean): void {
    const prev = this.diffs.get(file);
    if (prev) {
      prev.additions += additions;
      prev.deletions += deletions;
      prev.after = this.ctx.pools.code(this.rng, Math.min(6_000, prev.after.length + additions * 40));
      return;
    }
    const before = created ? '' : this.ctx.pools.code(this.rng, this.rng.logNormalInt(1500, 0.8, 100, 6_000));
    const after = this.ctx.pools.code(this.rng, Math.max(50, before.length + (additions - deletions) * 40));
    this.diffs.set(file, {
      file,
      before,
      after,
      additions,
      deletions,
      status: created ? 'added' : 'modified',
    });
  }

  /** The task tool: spawns a child session (parentID = this session) and waits for it. */
  private taskTool(start: number): ToolResult {
    const rng = this.rng;
    const description = this.ctx.pools.topic(rng);
    const agent = this.f.v11 ? rng.weighted(SUBAGENTS) : 'general';
    const prompt = `${description}. ${this.ctx.pools.prose(rng, rng.int(200, 1200))}`;
    const childPlan: SessionPlan = {
      start: start + rng.int(20, 200),
      project: this.plan.project,
      version: this.plan.version,
      generation: this.plan.generation,
      children: 0,
      crashLast: false,
      v2Events: false,
    };
    const child = new SessionBuilder(this.ctx, childPlan, rng.fork(`child:${this.children.length}`), {
      id: this.sessionID,
      model: this.model,
      oauth: this.oauth,
      description: prompt,
      agent,
    });
    child.inV2Only = this.inV2Only;
    const rec = child.build();
    rec.info.title = `${description} (@${agent} subagent)`;
    this.children.push(rec);
    this.clock = Math.max(this.clock, rec.info.time.updated);
    const lastText = lastAssistantText(rec);
    const childID = rec.info.id;
    const metadata: Obj = this.f.v12
      ? {
          parentSessionId: this.sessionID,
          sessionId: childID,
          model: { modelID: child.model.modelID, providerID: child.model.providerID },
        }
      : {
          summary: rec.rows
            .filter((r): r is MessageRec => r.kind === 'message')
            .flatMap((m) => m.parts.filter((p) => p.type === 'tool'))
            .slice(0, 20)
            .map((p) => ({
              id: p.id,
              tool: p.tool,
              state: { status: (p.state as Obj).status, title: (p.state as Obj).title },
            })),
          sessionId: childID,
        };
    return {
      name: 'task',
      input: { description, prompt, subagent_type: agent },
      output: `${lastText}\n\n<task_metadata>\nsession_id: ${childID}\n</task_metadata>`,
      title: description,
      metadata,
      durationMs: 0,
    };
  }

  /** Compaction: user message with a compaction part, summary assistant, synthetic "continue". */
  private compaction(auto: boolean): void {
    const rng = this.rng;
    const at = this.tick(100, 2000);
    const uinfo: MessageInfo = {
      id: this.ctx.ids.ascending('msg', at),
      sessionID: this.sessionID,
      role: 'user',
      time: { created: at },
    };
    if (this.f.agentField) {
      uinfo.agent = this.agent;
      uinfo.model = this.userModel();
    }
    const umsg = this.push(uinfo, 'compaction');
    const fields: Obj = {};
    if (this.f.v11) fields.auto = auto;
    if (this.f.v12 && auto && rng.chance(0.3)) fields.overflow = true;
    this.part(umsg, 'compaction', fields, at);

    const sat = this.tick(200, 1500);
    const smsg = this.push(this.assistantInfo(sat, uinfo.id, 'compaction'), 'assistant');
    smsg.info.summary = true;
    this.part(smsg, 'step-start', { snapshot: rng.hex(40) }, this.tick(1, 20));
    const start = this.tick(100, 1000);
    const text = `## Summary\n\n${this.ctx.pools.answer(rng, rng.int(2500, 9000))}`;
    this.part(smsg, 'text', { text, time: { start, end: this.tick(5000, 40_000) } }, start);
    this.stepFinish(smsg, 'stop', text.length, 0, rng.hex(40));
    smsg.info.time.completed = this.tick(5, 200);
    smsg.info.finish = 'stop';

    // Prune old tool outputs (state.time.compacted), keeping the most recent ones.
    const now = this.clock;
    const keep = 6;
    for (const tm of this.toolMessages.slice(0, Math.max(0, this.toolMessages.length - keep))) {
      for (const p of tm.parts) {
        const st = p.state as Obj | undefined;
        if (p.type !== 'tool' || !st || st.status !== 'completed' || p.tool === 'task') continue;
        if (rng.chance(0.1)) {
          st.output = CLEARED;
          (st.time as Obj).compacted = now;
        }
      }
    }
    this.toolMessages.length = 0;
    this.ctxTokens = SYSTEM_TOKENS + Math.round(text.length / 3.7);
    this.pendingTokens = 0;

    if (auto) {
      const cat = this.tick(5, 100);
      const cinfo: MessageInfo = {
        id: this.ctx.ids.ascending('msg', cat),
        sessionID: this.sessionID,
        role: 'user',
        time: { created: cat },
      };
      if (this.f.agentField) {
        cinfo.agent = this.agent;
        cinfo.model = this.userModel();
      }
      const cmsg = this.push(cinfo, 'synthetic');
      this.part(
        cmsg,
        'text',
        {
          text: 'Continue if you have next steps, or stop and ask for clarification if you are unsure how to proceed.',
          synthetic: true,
        },
        cat,
      );
      this.lastUserID = cinfo.id;
    }
  }

  /** The last assistant message never completed: no time.completed, no step-finish, tools pending/running. */
  private crashLastMessage(): void {
    const at = this.tick(300, 2000);
    const msg = this.push(this.assistantInfo(at, this.lastUserID), 'assistant');
    this.part(msg, 'step-start', { snapshot: this.rng.hex(40) }, this.tick(1, 20));
    const start = this.tick(5, 300);
    this.part(
      msg,
      'text',
      { text: this.ctx.pools.prose(this.rng, this.rng.int(30, 300)), time: { start } },
      start,
    );
    const t1 = this.tick(20, 300);
    const file = this.ctx.pools.file(this.rng);
    this.part(
      msg,
      'tool',
      {
        callID: this.callID(),
        tool: 'bash',
        state: {
          status: 'running',
          input: { command: 'npm test', description: 'Run the test suite' },
          title: 'Run the test suite',
          metadata: {},
          time: { start: t1 },
        },
      },
      t1,
    );
    const t2 = this.tick(1, 30);
    this.part(
      msg,
      'tool',
      {
        callID: this.callID(),
        tool: 'read',
        state: { status: 'pending', input: {}, raw: `{"filePath":"${this.plan.project.worktree}/${file}` },
      },
      t2,
    );
    this.ctx.quota.take('crash');
  }

  private finish(): SessionRec {
    const rng = this.rng;
    const p = this.plan;
    const lastTime = this.rows.reduce(
      (a, r) => Math.max(a, r.kind === 'event' ? r.time : (r.info.time.completed ?? r.info.time.created)),
      p.start,
    );
    // Key order as OpenCode writes it.
    const ordered: Obj = { id: this.sessionID };
    if (this.f.v11) ordered.slug = this.ctx.pools.slug(rng);
    ordered.version = p.version;
    ordered.projectID = p.project.id;
    ordered.directory = this.cwd;
    if (this.parent) ordered.parentID = this.parent.id;
    const diffs = [...this.diffs.values()];
    if (diffs.length > 0) {
      ordered.summary = {
        additions: diffs.reduce((a, d) => a + d.additions, 0),
        deletions: diffs.reduce((a, d) => a + d.deletions, 0),
        files: diffs.length,
      };
    }
    if (!this.parent && rng.chance(0.04)) ordered.share = { url: `https://opncd.ai/s/${rng.base62(8)}` };
    ordered.title = this.parent
      ? ''
      : rng.chance(0.05)
        ? `New session - ${new Date(p.start).toISOString()}`
        : this.ctx.pools.title(rng);
    ordered.time = { created: p.start, updated: lastTime } as SessionInfo['time'];
    if (this.f.v11 && !this.parent && rng.chance(0.05))
      (ordered.time as SessionInfo['time']).archived = lastTime + rng.int(3_600_000, 20 * 86_400_000);
    if (this.f.v11 && rng.chance(0.08))
      ordered.permission = [{ permission: 'edit', pattern: '*', action: 'ask' }];
    // Revert: hide the last turn(s) (messages stay on disk).
    const users = this.rows.filter(
      (r): r is MessageRec => r.kind === 'message' && r.info.role === 'user' && !r.v2Only,
    );
    if (!this.parent && users.length >= 2 && (rng.chance(0.04) || this.ctx.quota.take('revert'))) {
      const target = users[users.length - 1] as MessageRec;
      const rev: Obj = { messageID: target.info.id };
      if (rng.chance(0.3)) rev.partID = target.parts[0]?.id;
      rev.snapshot = rng.hex(40);
      rev.diff = this.ctx.pools.unifiedDiff(rng, this.ctx.pools.file(rng), rng.int(4, 30));
      ordered.revert = rev;
    }
    if (p.generation !== 'json' && p.start >= Date.parse('2026-05-01')) {
      ordered.agent = this.agent;
      ordered.model = {
        id: this.model.modelID,
        providerID: this.model.providerID,
        ...(this.variant ? { variant: this.variant } : {}),
      };
    }
    return {
      info: ordered as SessionInfo,
      rows: this.rows,
      todos: this.todos,
      diffs: diffs.length > 0 ? diffs : null,
      children: this.children,
      generation: p.generation,
      usage: this.usage,
    };
  }
}

// -----------------------------------------------------------------------------------------------

const ERROR_MIX: readonly (readonly [string, number])[] = [
  ['MessageAbortedError', 40],
  ['APIError429', 12],
  ['APIError529', 10],
  ['APIError500', 6],
  ['ProviderAuthError', 5],
  ['MessageOutputLengthError', 6],
  ['ContextOverflowError', 6],
  ['UnknownError', 8],
];

function apiError(rng: Rng, statusCode: number): Obj {
  const body =
    statusCode === 429
      ? {
          type: 'error',
          error: {
            type: 'rate_limit_error',
            message: 'Number of request tokens has exceeded your per-minute rate limit',
          },
        }
      : statusCode === 529
        ? { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }
        : { type: 'error', error: { type: 'api_error', message: 'Internal server error' } };
  const data: Obj = {
    message: body.error.message,
    statusCode,
    isRetryable: statusCode !== 500 || rng.chance(0.5),
    responseHeaders: { 'content-type': 'application/json', 'request-id': `req_${rng.base62(24)}` },
    responseBody: JSON.stringify(body),
  };
  if (statusCode === 429) (data.responseHeaders as Obj)['retry-after'] = String(rng.int(1, 60));
  return { name: 'APIError', data };
}

function toolError(rng: Rng, tool: string, input: Obj): string {
  switch (tool) {
    case 'read':
      return `Error: File not found: ${String(input.filePath)}`;
    case 'edit':
      return 'Error: oldString not found in content';
    case 'bash':
      return `Error: Command timed out after ${rng.int(1, 10) * 60000} ms`;
    case 'webfetch':
      return `Error: Request failed with status code ${rng.pick([403, 404, 500])}`;
    default:
      return `Error: ${tool} failed: EACCES: permission denied`;
  }
}

function base64Noise(rng: Rng, bytes: number): string {
  const buf = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i += 4) {
    const v = rng.u32();
    buf[i] = v & 255;
    if (i + 1 < bytes) buf[i + 1] = (v >>> 8) & 255;
    if (i + 2 < bytes) buf[i + 2] = (v >>> 16) & 255;
    if (i + 3 < bytes) buf[i + 3] = (v >>> 24) & 255;
  }
  return buf.toString('base64');
}

function zeroTokens(withTotal = false): Tokens {
  return withTotal
    ? { total: 0, input: 0, output: 0, reasoning: 0, cache: { read: 0, write: 0 } }
    : { input: 0, output: 0, reasoning: 0, cache: { read: 0, write: 0 } };
}

function addTokens(into: Tokens, t: Tokens): void {
  into.input += t.input;
  into.output += t.output;
  into.reasoning += t.reasoning;
  into.cache.read += t.cache.read;
  into.cache.write += t.cache.write;
}

function lastAssistantText(rec: SessionRec): string {
  for (let i = rec.rows.length - 1; i >= 0; i--) {
    const r = rec.rows[i] as RowRec;
    if (r.kind !== 'message' || r.info.role !== 'assistant') continue;
    for (let j = r.parts.length - 1; j >= 0; j--) {
      const p = r.parts[j] as PartRec;
      if (p.type === 'text') return String(p.text);
    }
  }
  return 'Done.';
}

export function pickModel(rng: Rng, t: number, provider?: string, modelID?: string): ModelDef {
  const avail = MODELS.filter(
    (m) =>
      m.availableFrom <= t &&
      t < m.availableUntil &&
      (!provider || m.providerID === provider) &&
      (!modelID || m.modelID === modelID),
  );
  const pool = avail.length > 0 ? avail : MODELS;
  return rng.weighted(pool.map((m) => [m, m.weight] as const));
}

export { modelKey, TIMELINE };
