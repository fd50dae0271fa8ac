/**
 * Converts a generated message to an OpenCode 2.x `session_message` row (reference §6, third-party
 * evidence only): role lives in the `type` column, parts are inlined in `content[]`, tool items use
 * `id` (the v1 callID) instead of `callID`, step-start/step-finish are folded into message tokens/cost.
 */
import type { MessageRec, Obj, PartRec, RowRec, Tokens } from './types.ts';

export interface V2Row {
  id: string;
  sessionID: string;
  type: string;
  timeCreated: number;
  timeUpdated: number;
  data: Obj;
  /** Content item types as counted in the manifest (user text / files, assistant content[], compaction). */
  items: string[];
  /** Tool statuses inside this row. */
  toolStatuses: string[];
}

const DROP_KEYS = new Set(['id', 'sessionID', 'messageID']);

function stripIds(p: PartRec): Obj {
  const o: Obj = {};
  for (const k of Object.keys(p)) if (!DROP_KEYS.has(k)) o[k] = p[k];
  return o;
}

/** Message tokens as a lossless reader must compute them: sum of step-finish parts, else the message's. */
export function messageTokens(m: MessageRec): Tokens {
  const steps = m.parts.filter((p) => p.type === 'step-finish');
  if (steps.length === 0) {
    const t = (m.info.tokens as Tokens | undefined) ?? {
      input: 0,
      output: 0,
      reasoning: 0,
      cache: { read: 0, write: 0 },
    };
    return {
      input: t.input,
      output: t.output,
      reasoning: t.reasoning,
      cache: { read: t.cache.read, write: t.cache.write },
    };
  }
  const sum: Tokens = { input: 0, output: 0, reasoning: 0, cache: { read: 0, write: 0 } };
  for (const s of steps) {
    const t = s.tokens as Tokens;
    sum.input += t.input;
    sum.output += t.output;
    sum.reasoning += t.reasoning;
    sum.cache.read += t.cache.read;
    sum.cache.write += t.cache.write;
  }
  return sum;
}

function v2Model(info: Obj): Obj {
  const m = info.model as Obj | undefined;
  const providerID = (m?.providerID ?? info.providerID) as string | undefined;
  const id = (m?.modelID ?? info.modelID) as string | undefined;
  const variant = (m?.variant ?? info.variant) as string | undefined;
  const out: Obj = { id, providerID };
  if (variant) out.variant = variant;
  return out;
}

export function toV2Row(r: RowRec): V2Row {
  if (r.kind === 'event') {
    return {
      id: r.id,
      sessionID: r.sessionID,
      type: r.v2Type,
      timeCreated: r.time,
      timeUpdated: r.time,
      data: r.data,
      items: [],
      toolStatuses: [],
    };
  }
  const info = r.info;
  const created = info.time.created;
  const updated = info.time.completed ?? created;
  const base = {
    id: info.id,
    sessionID: info.sessionID,
    type: r.v2Type,
    timeCreated: created,
    timeUpdated: updated,
  };
  const items: string[] = [];
  const toolStatuses: string[] = [];
  let data: Obj;
  if (r.v2Type === 'compaction') {
    const cp = r.parts.find((p) => p.type === 'compaction');
    data = { time: { created }, agent: info.agent, model: v2Model(info), auto: cp?.auto ?? true };
    if (cp?.overflow) data.overflow = true;
    items.push('compaction');
  } else if (r.v2Type === 'synthetic') {
    data = {
      time: { created },
      text: r.parts
        .filter((p) => p.type === 'text')
        .map((p) => String(p.text))
        .join('\n'),
    };
    items.push('text');
  } else if (info.role === 'user') {
    const texts = r.parts.filter((p) => p.type === 'text').map((p) => String(p.text));
    data = { time: { created }, agent: info.agent, model: v2Model(info), text: texts.join('\n') };
    if (texts.length > 0) items.push('text');
    const files = r.parts.filter((p) => p.type === 'file');
    if (files.length > 0) {
      data.files = files.map((p) => {
        const o = stripIds(p);
        delete o.type;
        return o;
      });
      for (const _ of files) items.push('file');
    }
  } else {
    const content: Obj[] = [];
    for (const p of r.parts) {
      if (p.type === 'step-start' || p.type === 'step-finish') continue;
      if (p.type === 'tool') {
        const st = p.state as Obj;
        content.push({ type: 'tool', id: p.callID, tool: p.tool, state: st });
        toolStatuses.push(String(st.status));
      } else {
        content.push(stripIds(p));
      }
      items.push(p.type);
    }
    const t = messageTokens(r);
    data = {
      agent: info.agent ?? info.mode,
      model: v2Model(info),
      parentID: info.parentID,
      content,
      tokens: t,
      cost: info.cost,
      time: info.time.completed === undefined ? { created } : { created, completed: info.time.completed },
    };
    if (info.summary) data.summary = true;
    if (info.finish) data.finish = info.finish;
    if (info.error) data.error = info.error;
  }
  return { ...base, data, items, toolStatuses };
}
