/** A tiny builder of OpenCode JSON-tree data dirs for the analytics rule tests. */
import type { Store } from '../../src/store/db.ts';
import { tempDir, writeStorage } from './datadir.ts';
import { ingestInto, rows } from './store.ts';

export const T0 = 1_767_312_000_000;

export interface Tok {
  input?: number;
  output?: number;
  reasoning?: number;
  read?: number;
  write?: number;
}

export function tokens(t: Tok = {}) {
  return {
    input: t.input ?? 0,
    output: t.output ?? 0,
    reasoning: t.reasoning ?? 0,
    cache: { read: t.read ?? 0, write: t.write ?? 0 },
  };
}

export interface AssistantOpts {
  created: number;
  completed?: number | null;
  provider?: string;
  model?: string;
  agent?: string;
  tokens?: Tok;
  cost?: number;
  error?: Record<string, unknown>;
  summary?: boolean;
  finish?: string;
}

export class DataDir {
  readonly dir = tempDir('ocb-an-');
  private partSeq = 0;

  project(id = 'proj1', worktree = '/w/proj1'): this {
    writeStorage(this.dir, `project/${id}.json`, {
      id,
      worktree,
      vcs: 'git',
      time: { created: T0, updated: T0 },
    });
    return this;
  }

  session(
    id: string,
    o: { parent?: string; revert?: string; created?: number; project?: string } = {},
  ): this {
    writeStorage(this.dir, `session/${o.project ?? 'proj1'}/${id}.json`, {
      id,
      projectID: o.project ?? 'proj1',
      directory: '/w/proj1',
      title: `title ${id}`,
      version: '1.1.65',
      ...(o.parent ? { parentID: o.parent } : {}),
      ...(o.revert ? { revert: { messageID: o.revert } } : {}),
      time: { created: o.created ?? T0, updated: o.created ?? T0 },
    });
    return this;
  }

  user(
    session: string,
    id: string,
    created: number,
    parts: Record<string, unknown>[] = [{ type: 'text', text: 'hi' }],
  ): this {
    writeStorage(this.dir, `message/${session}/${id}.json`, {
      id,
      sessionID: session,
      role: 'user',
      time: { created },
      agent: 'build',
      model: { providerID: 'anthropic', modelID: 'claude-sonnet-4-5' },
    });
    for (const p of parts) this.part(session, id, p);
    return this;
  }

  assistant(
    session: string,
    id: string,
    parent: string | null,
    o: AssistantOpts,
    parts: Record<string, unknown>[] = [],
  ): this {
    const completed = o.completed === undefined ? o.created + 1000 : o.completed;
    writeStorage(this.dir, `message/${session}/${id}.json`, {
      id,
      sessionID: session,
      role: 'assistant',
      ...(parent ? { parentID: parent } : {}),
      time: completed === null ? { created: o.created } : { created: o.created, completed },
      providerID: o.provider ?? 'anthropic',
      modelID: o.model ?? 'claude-sonnet-4-5',
      mode: o.agent ?? 'build',
      agent: o.agent ?? 'build',
      path: { cwd: '/w/proj1', root: '/w/proj1' },
      cost: o.cost ?? 0,
      tokens: tokens(o.tokens),
      ...(o.error ? { error: o.error } : {}),
      ...(o.summary ? { summary: true } : {}),
      ...(o.finish ? { finish: o.finish } : {}),
    });
    for (const p of parts) this.part(session, id, p);
    return this;
  }

  /** Parts get ascending IDs in call order (OpenCode's part order within a message). */
  part(session: string, message: string, data: Record<string, unknown>, id?: string): string {
    const pid = id ?? `prt_${String(++this.partSeq).padStart(6, '0')}`;
    writeStorage(this.dir, `part/${message}/${pid}.json`, {
      id: pid,
      sessionID: session,
      messageID: message,
      ...data,
    });
    return pid;
  }

  async ingest(): Promise<Store> {
    return (await ingestInto(this.dir, undefined)).store;
  }
}

export const stepStart = (snapshot = 'snap0') => ({ type: 'step-start', snapshot });
export const stepFinish = (t: Tok, cost = 0, reason = 'stop', snapshot = 'snap1') => ({
  type: 'step-finish',
  reason,
  snapshot,
  cost,
  tokens: tokens(t),
});
export const text = (start: number, end: number, s = 'text') => ({
  type: 'text',
  text: s,
  time: { start, end },
});
export const tool = (
  name: string,
  start: number,
  end: number | null,
  extra: Record<string, unknown> = {},
) => ({
  type: 'tool',
  callID: `call_${name}_${start}`,
  tool: name,
  state:
    end === null
      ? { status: 'running', input: extra.input ?? {}, time: { start } }
      : {
          status: extra.error ? 'error' : 'completed',
          input: extra.input ?? {},
          output: 'ok',
          title: name,
          metadata: extra.metadata ?? {},
          ...(extra.error ? { error: extra.error } : {}),
          time: { start, end },
        },
});

/**
 * A parent session whose `task` call started a sub-agent session (`ses_p` → `ses_c`), each with one
 * exchange: the nesting fixture shared by the analytics rules and the API routes.
 */
export function withSubagent(d: DataDir): DataDir {
  d.session('ses_p').session('ses_c', { parent: 'ses_p', created: T0 + 1100 });
  d.user('ses_p', 'msg_pu', T0);
  d.assistant(
    'ses_p',
    'msg_pa',
    'msg_pu',
    { created: T0 + 100, completed: T0 + 9000, tokens: { input: 10 }, cost: 1 },
    [
      stepStart(),
      tool('task', T0 + 1000, T0 + 8000, {
        input: { subagent_type: 'general', description: 'd' },
        metadata: { sessionId: 'ses_c' },
      }),
      stepFinish({ input: 10 }, 1),
    ],
  );
  d.user('ses_c', 'msg_cu', T0 + 1200);
  d.assistant(
    'ses_c',
    'msg_ca',
    'msg_cu',
    { created: T0 + 1300, completed: T0 + 7000, agent: 'general', tokens: { input: 5 }, cost: 0.5 },
    [stepStart(), tool('bash', T0 + 2000, T0 + 3000), stepFinish({ input: 5 }, 0.5)],
  );
  return d;
}

export { rows };
