/** In-memory shapes of one generated session (written to sinks, then dropped). */
import type { Generation } from './catalog.ts';

export type Obj = Record<string, unknown>;

export interface Tokens {
  total?: number;
  input: number;
  output: number;
  reasoning: number;
  cache: { read: number; write: number };
}

export interface PartRec extends Obj {
  id: string;
  sessionID: string;
  messageID: string;
  type: string;
}

export interface MessageInfo extends Obj {
  id: string;
  sessionID: string;
  role: 'user' | 'assistant';
  time: { created: number; completed?: number };
}

export interface MessageRec {
  kind: 'message';
  info: MessageInfo;
  parts: PartRec[];
  /** Value of the 2.x `session_message.type` column. */
  v2Type: string;
  /** Written after the 2.x upgrade: exists only in the v2 tables. */
  v2Only: boolean;
}

/** A 2.x-only `session_message` row that is not a message (model-switched, agent-switched, idle). */
export interface EventRec {
  kind: 'event';
  id: string;
  sessionID: string;
  v2Type: string;
  time: number;
  data: Obj;
  v2Only: true;
}

export type RowRec = MessageRec | EventRec;

export interface TodoRec {
  content: string;
  status: 'pending' | 'in_progress' | 'completed' | 'cancelled';
  priority: 'high' | 'medium' | 'low';
  id: string;
}

export interface FileDiff {
  file: string;
  before: string;
  after: string;
  additions: number;
  deletions: number;
  status?: 'added' | 'deleted' | 'modified';
}

export interface SessionInfo extends Obj {
  id: string;
  projectID: string;
  directory: string;
  parentID?: string;
  title: string;
  version: string;
  time: { created: number; updated: number; compacting?: number; archived?: number };
}

export interface SessionRec {
  info: SessionInfo;
  rows: RowRec[];
  todos: TodoRec[] | null;
  diffs: FileDiff[] | null;
  children: SessionRec[];
  /** Generation of the OpenCode that created it. */
  generation: Generation;
  /** Aggregates (sum over steps) for the session cost/tokens columns. */
  usage: { cost: number; tokens: Tokens };
}

export interface ProjectRec {
  id: string;
  worktree: string;
  vcs?: 'git';
  name?: string;
  icon?: { color?: string };
  time: { created: number; updated: number; initialized?: number };
  sandboxes: string[];
}
