/**
 * A scripted, OpenAI-compatible chat-completions server for driving the real OpenCode CLI offline.
 *
 * Endpoints: POST /v1/chat/completions (SSE streaming and plain JSON), GET /v1/models.
 * Every request is recorded; the answer comes from a `Responder` (a function of the request),
 * so interleaved auxiliary calls (title generation, compaction) can be told apart from agent steps.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens?: number;
  reasoning_tokens?: number;
}

export interface ToolCallSpec {
  id?: string;
  name: string;
  arguments: Record<string, unknown> | string;
}

export type ScriptedResponse =
  | { kind: 'text'; text: string; reasoning?: string; usage?: Usage; finishReason?: string }
  | { kind: 'tools'; calls: ToolCallSpec[]; text?: string; usage?: Usage }
  | {
      kind: 'error';
      status: number;
      message?: string;
      type?: string;
      code?: string;
      headers?: Record<string, string>;
    };

export interface ChatMessage {
  role: string;
  content?: unknown;
  tool_calls?: { id: string; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
  [key: string]: unknown;
}

export interface ChatRequestBody {
  model?: string;
  stream?: boolean;
  messages?: ChatMessage[];
  tools?: { type: string; function: { name: string } }[];
  [key: string]: unknown;
}

export interface RecordedRequest {
  seq: number;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: ChatRequestBody | undefined;
  /** What we answered: a short label (set by the responder via `label`) and the HTTP status. */
  label?: string;
  status?: number;
  at: number;
}

export type Responder = (req: RecordedRequest) => ScriptedResponse & { label?: string };

export interface FakeOpenAI {
  /** Base URL including `/v1`, for `options.baseURL`. */
  readonly baseURL: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  setResponder(responder: Responder): void;
  /** Resolves once at least `n` chat-completion requests were answered. */
  waitForRequests(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Concatenates the text of a message's `content` (string or array of content parts). */
export function messageText(msg: ChatMessage | undefined): string {
  if (!msg) return '';
  const c = msg.content;
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) {
    return c
      .map((p) => (p && typeof p === 'object' && 'text' in p && typeof p.text === 'string' ? p.text : ''))
      .join('\n');
  }
  return '';
}

let callCounter = 0;

function sseChunk(res: ServerResponse, data: unknown): void {
  res.write(`data: ${JSON.stringify(data)}\n\n`);
}

function usageJson(u: Usage | undefined): Record<string, unknown> | undefined {
  if (!u) return undefined;
  return {
    prompt_tokens: u.prompt_tokens,
    completion_tokens: u.completion_tokens,
    total_tokens: u.prompt_tokens + u.completion_tokens,
    prompt_tokens_details: { cached_tokens: u.cached_tokens ?? 0 },
    completion_tokens_details: { reasoning_tokens: u.reasoning_tokens ?? 0 },
  };
}

function toolCallsJson(
  calls: ToolCallSpec[],
): { id: string; type: 'function'; function: { name: string; arguments: string } }[] {
  return calls.map((c) => ({
    id: c.id ?? `call_${++callCounter}`,
    type: 'function',
    function: {
      name: c.name,
      arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments),
    },
  }));
}

function writeStream(
  res: ServerResponse,
  r: Exclude<ScriptedResponse, { kind: 'error' }>,
  model: string,
): void {
  const id = `chatcmpl-${++callCounter}`;
  const created = Math.floor(Date.now() / 1000);
  const base = { id, object: 'chat.completion.chunk', created, model };
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  sseChunk(res, {
    ...base,
    choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
  });
  let finish: string;
  if (r.kind === 'text') {
    if (r.reasoning) {
      sseChunk(res, {
        ...base,
        choices: [{ index: 0, delta: { reasoning_content: r.reasoning }, finish_reason: null }],
      });
    }
    // Split the text in two deltas so OpenCode sees a real stream.
    const half = Math.ceil(r.text.length / 2);
    for (const piece of [r.text.slice(0, half), r.text.slice(half)]) {
      if (piece)
        sseChunk(res, { ...base, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] });
    }
    finish = r.finishReason ?? 'stop';
  } else {
    if (r.text) {
      sseChunk(res, { ...base, choices: [{ index: 0, delta: { content: r.text }, finish_reason: null }] });
    }
    toolCallsJson(r.calls).forEach((tc, index) => {
      // OpenAI delta format: first chunk carries id/name, following chunks append arguments.
      sseChunk(res, {
        ...base,
        choices: [
          {
            index: 0,
            delta: {
              tool_calls: [
                { index, id: tc.id, type: 'function', function: { name: tc.function.name, arguments: '' } },
              ],
            },
            finish_reason: null,
          },
        ],
      });
      sseChunk(res, {
        ...base,
        choices: [
          {
            index: 0,
            delta: { tool_calls: [{ index, function: { arguments: tc.function.arguments } }] },
            finish_reason: null,
          },
        ],
      });
    });
    finish = 'tool_calls';
  }
  sseChunk(res, { ...base, choices: [{ index: 0, delta: {}, finish_reason: finish }] });
  const usage = usageJson(r.usage);
  if (usage) sseChunk(res, { ...base, choices: [], usage });
  res.write('data: [DONE]\n\n');
  res.end();
}

function writeJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

function writeCompletion(
  res: ServerResponse,
  r: Exclude<ScriptedResponse, { kind: 'error' }>,
  model: string,
): void {
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: r.kind === 'text' ? r.text : (r.text ?? null),
  };
  if (r.kind === 'text' && r.reasoning) message.reasoning_content = r.reasoning;
  if (r.kind === 'tools') message.tool_calls = toolCallsJson(r.calls);
  writeJson(res, 200, {
    id: `chatcmpl-${++callCounter}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message,
        finish_reason: r.kind === 'tools' ? 'tool_calls' : (r.finishReason ?? 'stop'),
      },
    ],
    usage: usageJson(r.usage),
  });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeOpenAI(
  responder: Responder = () => ({ kind: 'text', text: 'ok' }),
  models: string[] = ['fake-model'],
): Promise<FakeOpenAI> {
  let current = responder;
  const requests: RecordedRequest[] = [];
  let answered = 0;
  const waiters: { n: number; resolve: () => void }[] = [];

  const notify = (): void => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!;
      if (answered >= w.n) {
        waiters.splice(i, 1);
        w.resolve();
      }
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '');
    if (req.method === 'GET' && path.endsWith('/models')) {
      writeJson(res, 200, {
        object: 'list',
        data: models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'fake' })),
      });
      return;
    }
    if (req.method !== 'POST' || !path.endsWith('/chat/completions')) {
      writeJson(res, 404, { error: { message: `no route ${req.method} ${path}`, type: 'not_found' } });
      return;
    }
    const raw = await readBody(req);
    let body: ChatRequestBody | undefined;
    try {
      body = JSON.parse(raw) as ChatRequestBody;
    } catch {
      body = undefined;
    }
    const rec: RecordedRequest = {
      seq: requests.length,
      method: req.method,
      path,
      headers: req.headers,
      body,
      at: Date.now(),
    };
    requests.push(rec);
    let r: ScriptedResponse & { label?: string };
    try {
      r = current(rec);
    } catch (err) {
      r = {
        kind: 'error',
        status: 500,
        message: `responder threw: ${String(err)}`,
        label: 'responder-threw',
      };
    }
    rec.label = r.label;
    const model = body?.model ?? models[0] ?? 'fake-model';
    if (r.kind === 'error') {
      rec.status = r.status;
      writeJson(
        res,
        r.status,
        {
          error: {
            message: r.message ?? `HTTP ${r.status}`,
            type: r.type ?? 'api_error',
            code: r.code ?? null,
          },
        },
        r.headers,
      );
    } else {
      rec.status = 200;
      if (body?.stream) writeStream(res, r, model);
      else writeCompletion(res, r, model);
    }
    answered++;
    notify();
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) writeJson(res, 500, { error: { message: String(err) } });
      else res.end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    setResponder(r) {
      current = r;
    },
    waitForRequests(n, timeoutMs = 30_000) {
      if (answered >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${n} requests (got ${answered})`)),
          timeoutMs,
        );
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
