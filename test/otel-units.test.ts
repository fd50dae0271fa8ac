/** Small rules of the trace export: pinned convention names, ID formulas, token arithmetic, config. */
import * as incubating from '@opentelemetry/semantic-conventions/incubating';
import { describe, expect, it } from 'vitest';
import { PROVIDER_NAMES, providerName } from '../src/domain/providers.ts';
import { spanIdFor, spanIdSql, spanKey, traceIdFor, traceIdSql } from '../src/domain/trace-ids.ts';
import { resolveProtocol, tracesUrl } from '../src/otel/exporter.ts';
import { outputIncludesReasoning, usageFromRecorded } from '../src/otel/mapping.ts';
import { resourceAttributes } from '../src/otel/resource.ts';
import * as semconv from '../src/otel/semconv.ts';
import { PACKED_KEYS, type TraceRow, unpackRows } from '../src/otel/source.ts';
import { openTestStore } from './otel-fixtures.ts';

describe('semconv.ts', () => {
  it('every pinned ATTR_/value constant equals the 1.45.0 incubating export of the same name', () => {
    const inc = incubating as unknown as Record<string, unknown>;
    const checked: string[] = [];
    for (const [name, value] of Object.entries(semconv)) {
      if (name.startsWith('ATTR_OPENCODE') || name.startsWith('EVENT_') || typeof value !== 'string')
        continue;
      if (!(name in inc)) continue;
      expect(value, name).toBe(inc[name]);
      checked.push(name);
    }
    expect(checked.length).toBeGreaterThanOrEqual(30);
    for (const v of Object.values(semconv.GEN_AI_PROVIDER_NAME_VALUES))
      expect(Object.values(inc)).toContain(v);
  });
});

describe('deterministic IDs', () => {
  it('SQL and TypeScript give the same IDs; formats are valid OTel IDs', async () => {
    const store = await openTestStore();
    try {
      const r = await store.conn.runAndReadAll(
        `SELECT ${traceIdSql("'msg_abc'")} AS t, ${spanIdSql("'msg_abc'", "'tool/prt_1'")} AS s`,
      );
      const [row] = r.getRowObjectsJS();
      expect(row).toEqual({ t: traceIdFor('msg_abc'), s: spanIdFor('msg_abc', 'tool/prt_1') });
      expect(traceIdFor('msg_abc')).toMatch(/^[0-9a-f]{32}$/);
      expect(spanIdFor('msg_abc', 'x')).toMatch(/^[0-9a-f]{16}$/);
      expect(traceIdFor('msg_abc')).not.toBe(traceIdFor('msg_abd'));
      expect(spanKey({ kind: 'llm_call', messageId: 'msg_1' })).toBe('llm_call/msg_1');
      expect(spanKey({ kind: 'exchange', messageId: 'msg_1' })).toBe('exchange');
    } finally {
      store.close();
    }
  });
});

describe('packed rows', () => {
  const pack = (r: Partial<TraceRow>) => JSON.stringify(PACKED_KEYS.map((k) => r[k] ?? null));
  it('each exchange comes out in span order: by start (none first), then span ID', () => {
    const rows = unpackRows([
      [
        pack({ exchangeId: 'e1', spanId: 'c', startUs: 20 }),
        pack({ exchangeId: 'e1', spanId: 'b', startUs: 10 }),
        pack({ exchangeId: 'e1', spanId: 'a', startUs: 20 }),
        pack({ exchangeId: 'e1', spanId: 'z', startUs: null }),
      ].join('\n'),
      [
        pack({ exchangeId: 'e0', spanId: 'y', startUs: 5, kind: 'tool', toolName: 'read' }),
        pack({ exchangeId: 'e0', spanId: 'x', startUs: 1 }),
      ].join('\n'),
    ]);
    expect(rows.map((r) => `${r.exchangeId}/${r.spanId}`)).toEqual([
      'e1/z',
      'e1/b',
      'e1/a',
      'e1/c',
      'e0/x',
      'e0/y',
    ]);
    expect(rows[5]).toMatchObject({ kind: 'tool', toolName: 'read', startUs: 5, partId: null });
  });
});

describe('token arithmetic', () => {
  it('input includes cache read and write; output includes reasoning (OpenCode ≥ 1.2)', () => {
    // Langfuse's reading of the spec (anchors.md §0.3): 2 uncached + 47105 read + 1076 creation = 48183
    expect(
      usageFromRecorded({ input: 2, output: 10, reasoning: 4, cacheRead: 47105, cacheWrite: 1076 }),
    ).toEqual({
      inputTokens: 48183,
      outputTokens: 14,
      cacheReadTokens: 47105,
      cacheCreationTokens: 1076,
      reasoningTokens: 4,
    });
    expect(
      usageFromRecorded({ input: null, output: null, reasoning: null, cacheRead: null, cacheWrite: null }),
    ).toBeNull();
  });
  it('before 1.2 the recorded output may already include reasoning: not added again', () => {
    expect(outputIncludesReasoning('1.1.65')).toBe(true);
    expect(outputIncludesReasoning('0.15.31')).toBe(true);
    expect(outputIncludesReasoning('1.2.0')).toBe(false);
    expect(outputIncludesReasoning(null)).toBe(false);
    expect(
      usageFromRecorded({ input: 1, output: 10, reasoning: 4, cacheRead: 0, cacheWrite: 0 }, true)
        ?.outputTokens,
    ).toBe(10);
  });
  it('provider names follow the spec where it has one', () => {
    expect(providerName('amazon-bedrock')).toBe('aws.bedrock');
    expect(providerName('google-vertex')).toBe('gcp.vertex_ai');
    expect(providerName('github-copilot')).toBe('github_copilot');
    expect(providerName('some-proxy')).toBe('some-proxy');
    expect(providerName('OpenAI')).toBe('openai');
    expect(providerName(null)).toBe(semconv.ERROR_TYPE_VALUE_OTHER);
    const spec = new Set<string>(Object.values(semconv.GEN_AI_PROVIDER_NAME_VALUES));
    const own = Object.entries(PROVIDER_NAMES).filter(([, v]) => !spec.has(v));
    // only providers the spec does not name keep a value of their own
    expect(own).toEqual([
      ['github-copilot', 'github_copilot'],
      ['openrouter', 'openrouter'],
    ]);
  });
});

describe('configuration', () => {
  it('protocol: flag, then OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, then OTEL_EXPORTER_OTLP_PROTOCOL, then protobuf', () => {
    expect(resolveProtocol(undefined, {})).toBe('http/protobuf');
    expect(resolveProtocol(undefined, { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toBe('http/json');
    expect(
      resolveProtocol(undefined, {
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
      }),
    ).toBe('http/protobuf');
    expect(resolveProtocol('http/json', { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' })).toBe('http/json');
    expect(() => resolveProtocol('grpc', {})).toThrow(/not supported/);
  });
  it('endpoint: a base URL gets /v1/traces', () => {
    expect(tracesUrl('http://c:4318')).toBe('http://c:4318/v1/traces');
    expect(tracesUrl('http://c:4318/v1/traces/')).toBe('http://c:4318/v1/traces');
  });
  it('resource: service.name from flag, else OTEL_SERVICE_NAME, else opencode; bridge version', () => {
    expect(resourceAttributes({ env: {} })['service.name']).toBe('opencode');
    expect(resourceAttributes({ env: { OTEL_SERVICE_NAME: 'x' } })['service.name']).toBe('x');
    expect(resourceAttributes({ env: { OTEL_SERVICE_NAME: 'x' }, serviceName: 'y' })['service.name']).toBe(
      'y',
    );
    expect(resourceAttributes({ env: { OTEL_RESOURCE_ATTRIBUTES: 'team=ai%20tools' } }).team).toBe(
      'ai tools',
    );
    expect(resourceAttributes({ env: {} })['telemetry.distro.version']).toMatch(/^\d+\.\d+\.\d+/);
  });
});
