/**
 * Checks that OpenCode wrote what each scenario turn intended (independently of our ingester).
 * Returns a list of problems; empty means the scenario did what it says.
 */
import type { ScenarioResult, Turn } from './opencode-scenario.ts';
import { tag } from './opencode-script.ts';
import {
  errorNames,
  partsByMessage,
  readTruth,
  type Truth,
  type TruthMessage,
  toolParts,
} from './opencode-truth.ts';

const created = (m: TruthMessage): number => {
  const time = m.data.time as { created?: unknown } | undefined;
  return typeof time?.created === 'number' ? time.created : 0;
};

function sessionMessages(t: Truth, sessionId: string): TruthMessage[] {
  return [...t.messages.values()]
    .filter((m) => m.sessionId === sessionId)
    .sort((a, b) => created(a) - created(b) || (a.id < b.id ? -1 : 1));
}

/** The messages of one turn: from its (first) tagged user message up to the next turn's user message. */
export function turnMessages(t: Truth, res: ScenarioResult, turn: Turn): TruthMessage[] {
  const sid = res.sessions[turn.sessionKey];
  if (!sid) return [];
  const byMsg = partsByMessage(t);
  const msgs = sessionMessages(t, sid);
  const textOf = (m: TruthMessage) =>
    (byMsg.get(m.id) ?? []).map((p) => (typeof p.data.text === 'string' ? p.data.text : '')).join('\n');
  const start = msgs.findIndex((m) => m.data.role === 'user' && textOf(m).includes(tag(turn.id)));
  if (start < 0) return [];
  const otherTurn = /\[oc:T\d+\]/;
  let end = msgs.length;
  for (let i = start + 1; i < msgs.length; i++) {
    const m = msgs[i]!;
    const txt = textOf(m);
    if (m.data.role === 'user' && otherTurn.test(txt) && !txt.includes(tag(turn.id))) {
      end = i;
      break;
    }
  }
  return msgs.slice(start, end);
}

export function verifyScenario(res: ScenarioResult, t: Truth = readTruth(res.dataDir)): string[] {
  const problems: string[] = [];
  const byMsg = partsByMessage(t);
  const tools = toolParts(t);
  const errors = errorNames(t);

  for (const entry of res.log) {
    if (entry.timedOut) problems.push(`${entry.turn}: timed out`);
  }
  if (t.unreadable.length) problems.push(`unreadable JSON files: ${t.unreadable.join(', ')}`);

  for (const turn of res.turns) {
    const msgs = turnMessages(t, res, turn);
    if (msgs.length === 0) {
      problems.push(`${turn.id}: no messages found in session ${res.sessions[turn.sessionKey]}`);
      continue;
    }
    const ids = new Set(msgs.map((m) => m.id));
    const parts = msgs.flatMap((m) => byMsg.get(m.id) ?? []);
    const assistants = msgs.filter((m) => m.data.role === 'assistant');
    if (assistants.length === 0) problems.push(`${turn.id}: no assistant message`);
    for (const a of assistants) {
      if (a.data.providerID !== 'fake' || a.data.modelID !== 'fake-model') {
        problems.push(
          `${turn.id}: assistant ${a.id} has provider/model ${String(a.data.providerID)}/${String(a.data.modelID)}`,
        );
      }
    }

    const turnTools = tools.filter((x) => ids.has(x.messageId));
    for (const want of turn.intent.tools ?? []) {
      const i = turnTools.findIndex((x) => x.tool === want.tool && x.status === want.status);
      if (i < 0)
        problems.push(
          `${turn.id}: expected tool ${want.tool}/${want.status}; got ${JSON.stringify(turnTools.map((x) => `${x.tool}/${x.status}`))}`,
        );
      else turnTools.splice(i, 1);
    }
    if (turn.intent.tools && turnTools.length) {
      problems.push(
        `${turn.id}: unexpected tool parts ${JSON.stringify(turnTools.map((x) => `${x.tool}/${x.status}`))}`,
      );
    }

    if (turn.intent.subagent) {
      const task = tools.find((x) => ids.has(x.messageId) && x.tool === 'task');
      const child = task?.childSessionId ? t.sessions.get(task.childSessionId) : undefined;
      if (!child)
        problems.push(
          `${turn.id}: task tool has no child session (metadata.sessionId=${task?.childSessionId})`,
        );
      else {
        if (child.parentId !== res.sessions[turn.sessionKey]) {
          problems.push(
            `${turn.id}: child ${child.id} parent is ${child.parentId}, expected ${res.sessions[turn.sessionKey]}`,
          );
        }
        const childMsgs = sessionMessages(t, child.id);
        if (!childMsgs.some((m) => m.data.role === 'assistant' && m.data.finish === 'stop')) {
          problems.push(`${turn.id}: child session ${child.id} has no finished assistant message`);
        }
        const childTools = tools.filter((x) => x.sessionId === child.id);
        if (!childTools.some((x) => x.tool === 'bash' && x.status === 'completed')) {
          problems.push(`${turn.id}: child session has no completed bash call`);
        }
      }
    }

    const errs = assistants.map((a) => errors.get(a.id)).filter((x): x is string => !!x);
    if (turn.intent.error) {
      if (!errs.includes(turn.intent.error))
        problems.push(`${turn.id}: expected error ${turn.intent.error}, got ${JSON.stringify(errs)}`);
    } else if (errs.length) {
      problems.push(`${turn.id}: unexpected errors ${JSON.stringify(errs)}`);
    }

    if (turn.intent.compaction) {
      const hasCompactionPart = parts.some((p) => p.data.type === 'compaction');
      const summary = assistants.find((a) => a.data.summary === true || a.data.agent === 'compaction');
      if (!hasCompactionPart) problems.push(`${turn.id}: no compaction part`);
      if (!summary) problems.push(`${turn.id}: no compaction summary assistant message`);
    }
    if (turn.intent.reasoning && !parts.some((p) => p.data.type === 'reasoning')) {
      problems.push(`${turn.id}: no reasoning part`);
    }
    if (turn.intent.retry) {
      const log = res.log.find((l) => l.turn === turn.id);
      const failed =
        log?.requests.filter((r) => r.label?.startsWith(`${turn.id}#`) && r.status !== 200).length ?? 0;
      if (failed === 0) problems.push(`${turn.id}: no failed attempt was served`);
      if (!assistants.some((a) => a.data.finish === 'stop' && !a.data.error)) {
        problems.push(`${turn.id}: no successful answer after the retry`);
      }
    }
    // Every finished assistant step records tokens: message tokens must equal its step-finish parts.
    for (const a of assistants) {
      const steps = (byMsg.get(a.id) ?? []).filter((p) => p.data.type === 'step-finish');
      if (steps.length === 0) continue;
      const stepCost = steps.reduce((s, p) => s + (typeof p.data.cost === 'number' ? p.data.cost : 0), 0);
      const cost = typeof a.data.cost === 'number' ? a.data.cost : 0;
      if (Math.abs(stepCost - cost) > 1e-12)
        problems.push(`${turn.id}: ${a.id} cost ${cost} != sum of steps ${stepCost}`);
      if (cost <= 0) problems.push(`${turn.id}: ${a.id} has no cost`);
    }
    // The session was written by the version that ran the turn (for new sessions).
    if (turn.session === 'new') {
      const s = t.sessions.get(res.sessions[turn.sessionKey] ?? '');
      if (s?.version !== turn.version)
        problems.push(`${turn.id}: session version ${s?.version}, expected ${turn.version}`);
    }
  }

  // Upgrade path: JSON tree only holds pre-1.2 data, and the 1.2 import copied all of it into the DB.
  const versionsRun = new Set(res.turns.map((x) => x.version));
  if (versionsRun.has('1.2.1')) {
    for (const kind of ['sessions', 'messages', 'parts'] as const) {
      const missing = [...t.jsonIds[kind]].filter((id) => !t.dbIds[kind].has(id));
      if (missing.length)
        problems.push(`JSON ${kind} not imported into the DB: ${missing.slice(0, 5).join(', ')}`);
    }
  }
  return problems;
}
