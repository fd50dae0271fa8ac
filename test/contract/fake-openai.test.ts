import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from '../support/fake-openai.ts';

describe('fake OpenAI-compatible server', () => {
  let fake: FakeOpenAI;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
  });
  afterAll(() => fake.close());

  const post = (body: unknown) =>
    fetch(`${fake.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('lists models', async () => {
    const res = await fetch(`${fake.baseURL}/models`);
    expect(((await res.json()) as { data: { id: string }[] }).data.map((m) => m.id)).toEqual(['fake-model']);
  });

  it('answers non-streaming with tool calls and usage', async () => {
    fake.setResponder(() => ({
      kind: 'tools',
      calls: [{ id: 'call_x', name: 'bash', arguments: { command: 'ls' } }],
      usage: { prompt_tokens: 10, completion_tokens: 2, cached_tokens: 4, reasoning_tokens: 1 },
    }));
    const body = (await (
      await post({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }] })
    ).json()) as {
      choices: {
        message: { tool_calls: { id: string; function: { name: string; arguments: string } }[] };
        finish_reason: string;
      }[];
      usage: Record<string, unknown>;
    };
    expect(body.choices[0]?.finish_reason).toBe('tool_calls');
    expect(body.choices[0]?.message.tool_calls[0]).toMatchObject({
      id: 'call_x',
      function: { name: 'bash', arguments: '{"command":"ls"}' },
    });
    expect(body.usage).toMatchObject({
      prompt_tokens: 10,
      completion_tokens: 2,
      prompt_tokens_details: { cached_tokens: 4 },
      completion_tokens_details: { reasoning_tokens: 1 },
    });
  });

  it('streams SSE text deltas, usage and [DONE]', async () => {
    fake.setResponder(() => ({
      kind: 'text',
      text: 'hello world',
      reasoning: 'think',
      usage: { prompt_tokens: 5, completion_tokens: 2 },
    }));
    const text = await (await post({ model: 'fake-model', stream: true, messages: [] })).text();
    const events = text
      .split('\n\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => l.slice(6));
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events
      .slice(0, -1)
      .map((e) => JSON.parse(e) as { choices: { delta: Record<string, string> }[]; usage?: unknown });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('hello world');
    expect(chunks.some((c) => c.choices[0]?.delta.reasoning_content === 'think')).toBe(true);
    expect(chunks.at(-1)?.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 2 });
  });

  it('returns scripted HTTP errors with headers and records requests', async () => {
    fake.setResponder(() => ({
      kind: 'error',
      status: 429,
      message: 'slow down',
      headers: { 'retry-after': '1' },
    }));
    const before = fake.requests.length;
    const res = await post({ model: 'fake-model', messages: [] });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe('slow down');
    await fake.waitForRequests(before + 1);
    expect(fake.requests.at(-1)?.status).toBe(429);
  });
});
