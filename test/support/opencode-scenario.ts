/**
 * Drives the real OpenCode CLI through its storage upgrade path on ONE data dir:
 *   1.1.65 (JSON tree) → 1.2.1 (one-time JSON→SQLite import) → 1.18.33 (current SQLite schema).
 * Each turn is a separate `opencode run` against the scripted fake OpenAI server.
 *
 * `node --import tsx test/support/opencode-scenario.ts [workdir]` runs it and prints the log.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type FakeOpenAI,
  messageText,
  type RecordedRequest,
  type ScriptedResponse,
  startFakeOpenAI,
} from './fake-openai.ts';
import { installOpencode } from './opencode-install.ts';
import {
  createOpencodeEnv,
  type OpencodeEnv,
  type RunResult,
  runOpencode,
  writeOpencodeConfig,
} from './opencode-run.ts';
import { type StepScript, scriptResponder, tag } from './opencode-script.ts';

export const UPGRADE_VERSIONS = ['1.1.65', '1.2.1', '1.18.33'] as const;

export interface Turn {
  /** Tag used in the prompt; also the key of the scripted steps. */
  id: string;
  version: string;
  /** 'new' starts a new session; otherwise the key of an earlier turn's session to continue. */
  session: 'new' | string;
  /** Name under which this turn's session id is remembered (for later turns). */
  sessionKey: string;
  prompt: string;
  steps: StepScript[];
  /** Sub-agent scripts by tag (the prompt the parent passes to `task` must contain that tag). */
  subagents?: Record<string, StepScript[]>;
  /** What the turn is meant to produce (checked by the smoke test). */
  intent: TurnIntent;
  /** Model context limit for this run (small ⇒ overflow compaction). */
  contextLimit?: number;
  timeoutMs?: number;
}

export interface TurnIntent {
  tools?: { tool: string; status: 'completed' | 'error' }[];
  subagent?: boolean;
  error?: string;
  retry?: boolean;
  compaction?: boolean;
  reasoning?: boolean;
}

export interface TurnLog {
  turn: string;
  version: string;
  argv: string[];
  sessionId: string | undefined;
  code: number | null;
  timedOut: boolean;
  durationMs: number;
  requests: { label: string | undefined; status: number | undefined }[];
  stderrTail: string;
}

export interface ScenarioResult {
  root: string;
  /** `$XDG_DATA_HOME/opencode` – pass this to `ocbridge ingest --source`. */
  dataDir: string;
  projectDir: string;
  sessions: Record<string, string>;
  turns: Turn[];
  log: TurnLog[];
  installMs: Record<string, number>;
  totalMs: number;
}

const u = (prompt: number, completion: number, cached = 0, reasoning = 0) => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  cached_tokens: cached,
  reasoning_tokens: reasoning,
});

const CONTEXT_LENGTH_400: ScriptedResponse = {
  kind: 'error',
  status: 400,
  message:
    "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens. Please reduce the length of the messages.",
  type: 'invalid_request_error',
  code: 'context_length_exceeded',
};

/** The scripted conversation. Paths are absolute because OpenCode's file tools want them. */
export function buildTurns(oc: OpencodeEnv): Turn[] {
  const p = (f: string) => join(oc.projectDir, f);
  return [
    {
      id: 'T1',
      version: '1.1.65',
      session: 'new',
      sessionKey: 'A',
      prompt: `${tag('T1')} Say hello and explain what this project is.`,
      steps: [
        {
          kind: 'text',
          reasoning: 'The user wants a greeting.',
          text: 'Hello! This is a demo project.',
          usage: u(1500, 60, 1000, 20),
        },
      ],
      intent: { reasoning: true },
    },
    {
      id: 'T2',
      version: '1.1.65',
      session: 'A',
      sessionKey: 'A',
      prompt: `${tag('T2')} Inspect the repo, create hello.txt and fix notes.txt.`,
      steps: [
        {
          kind: 'tools',
          text: 'Let me look around.',
          calls: [
            {
              name: 'bash',
              arguments: { command: 'ls -1 && echo scripted-bash-ok', description: 'List files' },
            },
            { name: 'read', arguments: { filePath: p('notes.txt') } },
            { name: 'read', arguments: { filePath: p('does-not-exist.txt') } },
          ],
          usage: u(2100, 80, 1500, 0),
        },
        {
          kind: 'tools',
          calls: [
            {
              name: 'write',
              arguments: { filePath: p('hello.txt'), content: 'hello from the scripted model\n' },
            },
            { name: 'edit', arguments: { filePath: p('notes.txt'), oldString: 'beta', newString: 'BETA' } },
          ],
          usage: u(2600, 120, 2000, 30),
        },
        {
          kind: 'text',
          text: 'Created hello.txt and uppercased beta in notes.txt.',
          usage: u(2900, 40, 2500, 0),
        },
      ],
      intent: {
        tools: [
          { tool: 'bash', status: 'completed' },
          { tool: 'read', status: 'completed' },
          { tool: 'read', status: 'error' },
          { tool: 'write', status: 'completed' },
          { tool: 'edit', status: 'completed' },
        ],
      },
    },
    {
      id: 'T3',
      version: '1.1.65',
      session: 'A',
      sessionKey: 'A',
      prompt: `${tag('T3')} Use a sub-agent to count the files.`,
      steps: [
        {
          kind: 'tools',
          calls: [
            {
              name: 'task',
              arguments: {
                description: 'Count files',
                prompt: `${tag('S1')} Count the files in the project and report the number.`,
                subagent_type: 'general',
              },
            },
          ],
          usage: u(3100, 70, 2800, 0),
        },
        { kind: 'text', text: 'The sub-agent counted the files.', usage: u(3300, 30, 3000, 0) },
      ],
      subagents: {
        S1: [
          {
            kind: 'tools',
            calls: [{ name: 'bash', arguments: { command: 'ls -1 | wc -l', description: 'Count files' } }],
            usage: u(800, 25, 0, 0),
          },
          { kind: 'text', text: 'There are 3 files.', usage: u(900, 10, 600, 0) },
        ],
      },
      intent: { subagent: true, tools: [{ tool: 'task', status: 'completed' }] },
    },
    {
      id: 'T4',
      version: '1.1.65',
      session: 'new',
      sessionKey: 'B',
      prompt: `${tag('T4')} Answer after a rate limit and a server error.`,
      steps: [
        [
          {
            kind: 'error',
            status: 429,
            message: 'Rate limit reached for requests',
            type: 'rate_limit_error',
            headers: { 'retry-after-ms': '100', 'retry-after': '1' },
          },
          {
            kind: 'error',
            status: 500,
            message: 'Internal server error',
            type: 'server_error',
            headers: { 'retry-after-ms': '100' },
          },
          { kind: 'text', text: 'Answered after two retries.', usage: u(700, 20, 0, 0) },
        ],
      ],
      intent: { retry: true },
    },
    {
      id: 'T5',
      version: '1.1.65',
      session: 'B',
      sessionKey: 'B',
      prompt: `${tag('T5')} This request overflows the provider's context window.`,
      steps: [CONTEXT_LENGTH_400],
      intent: { error: 'ContextOverflowError' },
    },
    {
      id: 'T6',
      version: '1.1.65',
      session: 'A',
      sessionKey: 'A',
      prompt: `${tag('T6')} Read the README (the context is nearly full now).`,
      contextLimit: 20_000,
      steps: [
        {
          kind: 'tools',
          calls: [{ name: 'read', arguments: { filePath: p('README.md') } }],
          usage: u(19_000, 30, 15_000, 0),
        },
        { kind: 'text', text: 'The README describes a demo project.', usage: u(1200, 20, 0, 0) },
      ],
      intent: { compaction: true, tools: [{ tool: 'read', status: 'completed' }] },
    },
    {
      id: 'T7',
      version: '1.2.1',
      session: 'A',
      sessionKey: 'A',
      prompt: `${tag('T7')} After the upgrade: show git status.`,
      steps: [
        {
          kind: 'tools',
          calls: [{ name: 'bash', arguments: { command: 'git status --short', description: 'Git status' } }],
          usage: u(4000, 35, 3500, 0),
        },
        { kind: 'text', text: 'Two files changed.', usage: u(4200, 15, 3900, 0) },
      ],
      intent: { tools: [{ tool: 'bash', status: 'completed' }] },
    },
    {
      id: 'T8',
      version: '1.18.33',
      session: 'A',
      sessionKey: 'A',
      prompt: `${tag('T8')} On the current version: append a line to hello.txt.`,
      steps: [
        {
          kind: 'tools',
          calls: [
            {
              name: 'bash',
              arguments: { command: 'echo again >> hello.txt && cat hello.txt', description: 'Append' },
            },
          ],
          usage: u(5000, 45, 4000, 12),
        },
        {
          kind: 'text',
          reasoning: 'Appended; report back.',
          text: 'Appended a line.',
          usage: u(5200, 25, 4800, 8),
        },
      ],
      intent: { tools: [{ tool: 'bash', status: 'completed' }], reasoning: true },
    },
    {
      id: 'T9',
      version: '1.18.33',
      session: 'new',
      sessionKey: 'C',
      prompt: `${tag('T9')} Delegate a file search to a sub-agent.`,
      steps: [
        {
          kind: 'tools',
          calls: [
            {
              name: 'task',
              arguments: {
                description: 'Find text files',
                prompt: `${tag('S2')} List the .txt files in the project.`,
                subagent_type: 'general',
              },
            },
          ],
          usage: u(1800, 50, 0, 0),
        },
        { kind: 'text', text: 'The sub-agent found the text files.', usage: u(2000, 20, 1700, 0) },
      ],
      subagents: {
        S2: [
          // Not glob/grep: from 1.2 they download ripgrep from GitHub when `rg` is not on PATH (fails offline).
          {
            kind: 'tools',
            calls: [{ name: 'bash', arguments: { command: 'ls *.txt', description: 'List txt files' } }],
            usage: u(600, 20, 0, 0),
          },
          { kind: 'text', text: 'hello.txt and notes.txt.', usage: u(700, 10, 500, 0) },
        ],
      },
      intent: { subagent: true, tools: [{ tool: 'task', status: 'completed' }] },
    },
    {
      id: 'T10',
      version: '1.18.33',
      session: 'C',
      sessionKey: 'C',
      prompt: `${tag('T10')} Overflow on the current version (it compacts and replays this prompt).`,
      steps: [
        [CONTEXT_LENGTH_400, { kind: 'text', text: 'Answered after compaction.', usage: u(900, 15, 0, 0) }],
      ],
      intent: { compaction: true },
    },
    {
      id: 'T11',
      version: '1.18.33',
      session: 'C',
      sessionKey: 'C',
      prompt: `${tag('T11')} This one is rejected by the provider.`,
      steps: [
        {
          kind: 'error',
          status: 400,
          message: 'Bad request: tool schema rejected',
          type: 'invalid_request_error',
        },
      ],
      intent: { error: 'APIError' },
    },
  ];
}

function sessionIdFromJsonEvents(stdout: string): string | undefined {
  for (const line of stdout.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    try {
      const ev = JSON.parse(t) as { sessionID?: unknown };
      if (typeof ev.sessionID === 'string') return ev.sessionID;
    } catch {
      // not an event line
    }
  }
  return undefined;
}

/** A compact view of a recorded request for debugging (`<root>/fake-requests.json`). */
function summarizeRequest(r: RecordedRequest): unknown {
  return {
    seq: r.seq,
    label: r.label,
    status: r.status,
    stream: r.body?.stream,
    tools: (r.body?.tools ?? []).map((t) => t.function.name),
    messages: (r.body?.messages ?? []).map((m) => ({
      role: m.role,
      text: messageText(m).slice(0, 300),
      tool_calls: m.tool_calls?.map((c) => c.function.name),
      tool_call_id: m.tool_call_id,
    })),
  };
}

export interface ScenarioOptions {
  /** Root directory for HOME/XDG dirs and the project; wiped first. */
  root: string;
  versions?: readonly string[];
  /** Replaces the default script (for experiments). */
  turns?: (oc: OpencodeEnv) => Turn[];
  /** Called after the last turn of each version. */
  afterVersion?: (version: string, oc: OpencodeEnv) => void | Promise<void>;
  onLog?: (line: string) => void;
}

export async function runUpgradeScenario(opts: ScenarioOptions): Promise<ScenarioResult> {
  const t0 = Date.now();
  const say = opts.onLog ?? (() => {});
  const versions = opts.versions ?? UPGRADE_VERSIONS;
  rmSync(opts.root, { recursive: true, force: true });
  mkdirSync(opts.root, { recursive: true });

  const installMs: Record<string, number> = {};
  const bins = new Map<string, string>();
  // Install all versions in parallel (cached after the first time).
  await Promise.all(
    versions.map(async (v) => {
      const t = Date.now();
      bins.set(v, await installOpencode(v));
      installMs[v] = Date.now() - t;
    }),
  );

  const oc = createOpencodeEnv(opts.root);
  const turns = (opts.turns ?? buildTurns)(oc).filter((t) => versions.includes(t.version));
  const steps = new Map<string, StepScript[]>();
  for (const t of turns) {
    steps.set(t.id, t.steps);
    for (const [k, v] of Object.entries(t.subagents ?? {})) steps.set(k, v);
  }
  const fake: FakeOpenAI = await startFakeOpenAI(scriptResponder({ steps }, say));
  const sessions: Record<string, string> = {};
  const log: TurnLog[] = [];
  try {
    for (const [i, turn] of turns.entries()) {
      writeOpencodeConfig(oc, fake.baseURL, { contextLimit: turn.contextLimit });
      const args = ['--format', 'json'];
      if (turn.session !== 'new') {
        const sid = sessions[turn.session];
        if (!sid) throw new Error(`turn ${turn.id}: no session '${turn.session}' yet`);
        args.push('--session', sid);
      }
      const before = fake.requests.length;
      const res: RunResult = await runOpencode(bins.get(turn.version)!, oc, turn.prompt, {
        args,
        timeoutMs: turn.timeoutMs ?? 90_000,
      });
      const sessionId =
        sessionIdFromJsonEvents(res.stdout) ?? (turn.session !== 'new' ? sessions[turn.session] : undefined);
      if (sessionId) sessions[turn.sessionKey] = sessionId;
      const reqs: RecordedRequest[] = fake.requests.slice(before);
      const entry: TurnLog = {
        turn: turn.id,
        version: turn.version,
        argv: res.argv,
        sessionId,
        code: res.code,
        timedOut: res.timedOut,
        durationMs: res.durationMs,
        requests: reqs.map((r) => ({ label: r.label, status: r.status })),
        stderrTail: res.stderr.slice(-4000),
      };
      log.push(entry);
      writeFileSync(join(opts.root, `turn-${turn.id}.stderr.log`), res.stderr);
      writeFileSync(join(opts.root, `turn-${turn.id}.stdout.log`), res.stdout);
      say(
        `${turn.id} v${turn.version} session=${sessionId} code=${res.code}${res.timedOut ? ' TIMEOUT' : ''} ${res.durationMs}ms requests=[${entry.requests
          .map((r) => `${r.label}:${r.status}`)
          .join(', ')}]`,
      );
      if (res.timedOut)
        throw new Error(`turn ${turn.id} (opencode ${turn.version}) timed out; see ${opts.root}`);
      if (!sessionId) throw new Error(`turn ${turn.id}: could not determine the session id`);
      const next = turns[i + 1];
      if (!next || next.version !== turn.version) await opts.afterVersion?.(turn.version, oc);
    }
  } finally {
    await fake.close();
    writeFileSync(
      join(opts.root, 'fake-requests.json'),
      JSON.stringify(fake.requests.map(summarizeRequest), null, 1),
    );
  }
  return {
    root: opts.root,
    dataDir: oc.dataDir,
    projectDir: oc.projectDir,
    sessions,
    turns,
    log,
    installMs,
    totalMs: Date.now() - t0,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? '.tmp/opencode-scenario');
  const res = await runUpgradeScenario({ root, onLog: (l) => console.log(l) });
  writeFileSync(join(root, 'scenario-log.json'), JSON.stringify({ ...res, turns: undefined }, null, 2));
  console.log(`data dir: ${res.dataDir}\ninstall: ${JSON.stringify(res.installMs)}\ntotal: ${res.totalMs}ms`);
}
