/**
 * Usage metric values after ingesting a generated corpus: exact token and cost totals by label
 * (against the generator's manifest and the store), monotonic merging, top-N bounding, and the
 * exposition formats (promtool check metrics on the 0.0.4 text).
 */
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCorpus, type Manifest } from '../src/gen/index.ts';
import { familiesOf, readUsageAggregates, type UsageAggregates } from '../src/otel/metrics/aggregates.ts';
import { BoundedLabel } from '../src/otel/metrics/bounded-label.ts';
import { wantsOpenMetrics } from '../src/otel/metrics/exposition.ts';
import { type BridgeMetrics, createMetrics } from '../src/otel/metrics/index.ts';
import { UsageProducer } from '../src/otel/metrics/usage.ts';
import { openStore, type Store } from '../src/store/db.ts';
import { tempDir } from './support/datadir.ts';
import { parseSamples } from './support/metrics.ts';
import { ingestInto, rows } from './support/store.ts';

const sum = (xs: { value: number }[]) => xs.reduce((a, b) => a + b.value, 0);

describe('usage metrics from the store', () => {
  let store: Store;
  let manifest: Manifest;
  let metrics: BridgeMetrics;
  let text: string;

  beforeAll(async () => {
    const dir = tempDir('ocb-metrics-');
    manifest = await generateCorpus({
      out: join(dir, 'corpus'),
      sessions: 12,
      seed: 'metrics',
      layout: 'mixed',
    });
    ({ store } = await ingestInto(join(dir, 'corpus')));
    metrics = createMetrics(store, { version: 'test', topN: 20 });
    await metrics.refresh();
    text = await (await metrics.handle(new Request('http://x/metrics'))).text();
  }, 120_000);
  afterAll(async () => {
    await metrics?.shutdown();
    store?.close();
  });

  it('token totals by provider/model equal the manifest, exactly', () => {
    const s = parseSamples(text).filter((x) => x.name === 'opencode_tokens_total');
    for (const [key, m] of Object.entries(manifest.byModel)) {
      const [provider, ...rest] = key.split('/');
      const model = rest.join('/');
      const of = (type: string) =>
        sum(
          s.filter(
            (x) => x.labels.provider === provider && x.labels.model === model && x.labels.type === type,
          ),
        );
      expect({ key, input: of('input'), output: of('output'), reasoning: of('reasoning') }).toEqual({
        key,
        input: m.input,
        output: m.output,
        reasoning: m.reasoning,
      });
      expect(of('cache_read')).toBe(m.cache_read);
      expect(of('cache_write')).toBe(m.cache_write);
    }
    const all = (type: string) => sum(s.filter((x) => x.labels.type === type));
    expect(all('input')).toBe(manifest.totals.tokens.input);
    expect(all('cache_read')).toBe(manifest.totals.tokens.cache_read);
  });

  it('recorded cost equals the manifest; computed cost equals the store, by label', async () => {
    const s = parseSamples(text).filter((x) => x.name === 'opencode_cost_usd_total');
    const recorded = sum(s.filter((x) => x.labels.kind === 'recorded'));
    expect(recorded).toBeCloseTo(manifest.totals.cost, 9);
    const byLabel = await rows(
      store,
      `SELECT provider_id AS provider, model_id AS model, agent, sum(computed_cost_usd)::DOUBLE AS c
       FROM daily_stats GROUP BY ALL`,
    );
    for (const r of byLabel) {
      const got = sum(
        s.filter(
          (x) =>
            x.labels.kind === 'computed' &&
            x.labels.provider === r.provider &&
            x.labels.model === r.model &&
            x.labels.agent === r.agent,
        ),
      );
      expect(got).toBeCloseTo(Number(r.c ?? 0), 9);
    }
  });

  it('counts sessions, tool calls, errors and LLM calls as the store does', async () => {
    const p = parseSamples(text);
    const sessions = p.filter((x) => x.name === 'opencode_sessions_total');
    expect(sum(sessions)).toBe(manifest.totals.sessions);
    expect(sum(sessions.filter((x) => x.labels.kind === 'subagent'))).toBe(manifest.totals.childSessions);
    const tools = p.filter((x) => x.name === 'opencode_tool_calls_total');
    const finished = (s: string) => sum(tools.filter((x) => x.labels.status === s));
    expect(finished('completed')).toBe(manifest.totals.toolCallsByStatus.completed);
    expect(finished('error')).toBe(manifest.totals.toolCallsByStatus.error);
    const [e] = await rows(store, 'SELECT count(*)::DOUBLE AS n FROM errors');
    expect(sum(p.filter((x) => x.name === 'opencode_errors_total'))).toBe(Number(e?.n));
    // every finished LLM call is in the duration histogram once
    const calls = sum(p.filter((x) => x.name === 'opencode_llm_calls_total'));
    const chat = sum(
      p.filter(
        (x) =>
          x.name === 'gen_ai_client_operation_duration_seconds_count' &&
          x.labels.gen_ai_operation_name === 'chat',
      ),
    );
    expect(chat).toBe(calls);
    // histogram buckets are cumulative and end at _count
    const inf = p.filter((x) => x.name === 'gen_ai_client_token_usage_bucket' && x.labels.le === '+Inf');
    expect(sum(inf)).toBe(sum(p.filter((x) => x.name === 'gen_ai_client_token_usage_count')));
    // token usage (conventions): input = input + cache read + cache write
    const inputSum = sum(
      p.filter((x) => x.name === 'gen_ai_client_token_usage_sum' && x.labels.gen_ai_token_type === 'input'),
    );
    const [st] = await rows(
      store,
      `SELECT sum(coalesce(input_tokens,0) + coalesce(cache_read_tokens,0) + coalesce(cache_write_tokens,0))::DOUBLE AS n
       FROM steps WHERE token_source IS NOT NULL`,
    );
    expect(inputSum).toBe(Number(st?.n));
  });

  it('a second read of an unchanged store gives the same values; labels never go backwards', async () => {
    await metrics.refresh();
    const again = await (await metrics.handle(new Request('http://x/metrics'))).text();
    const usage = (t: string) =>
      parseSamples(t)
        .filter((x) =>
          /^(opencode_(tokens|cost_usd|sessions|errors|tool_calls|llm_calls|exchanges)_total|gen_ai_)/.test(
            x.name,
          ),
        )
        .map((x) => `${x.name}${JSON.stringify(x.labels)} ${Number(x.value.toPrecision(12))}`)
        .sort();
    expect(usage(again)).toEqual(usage(text));
  });

  it('re-reading some sessions (a live refresh) gives the same totals as reading all', async () => {
    const conn = await store.instance.connect();
    try {
      const ids = (await rows(store, 'SELECT session_id FROM sessions ORDER BY session_id LIMIT 5')).map(
        (r) => String(r.session_id),
      );
      const family = await familiesOf(conn, ids);
      expect(family.length).toBeGreaterThanOrEqual(5);
      metrics.usage.update(await readUsageAggregates(conn, new Date(), 30 * 60_000, family), family);
      const again = await (await metrics.handle(new Request('http://x/metrics'))).text();
      const usage = (t: string) =>
        parseSamples(t)
          .filter((x) =>
            /^(opencode_(tokens|sessions|errors|tool_calls|llm_calls|exchanges)_total|gen_ai_)/.test(x.name),
          )
          .map((x) => `${x.name}${JSON.stringify(x.labels)} ${Number(x.value.toPrecision(12))}`)
          .sort();
      expect(usage(again)).toEqual(usage(text));
    } finally {
      conn.closeSync();
    }
  });

  it('top N bounds project and model labels (the rest is other)', async () => {
    const small = createMetrics(store, { version: 'test', topN: 2 });
    try {
      await small.refresh();
      const p = parseSamples(await (await small.handle(new Request('http://x/metrics'))).text());
      const tokens = p.filter((x) => x.name === 'opencode_tokens_total');
      const models = new Set(tokens.map((x) => x.labels.model));
      expect(models.size).toBe(3);
      expect(models.has('other')).toBe(true);
      expect(new Set(tokens.map((x) => x.labels.project)).size).toBeLessThanOrEqual(3);
      // nothing lost: the totals are the same
      expect(sum(tokens)).toBe(sum(parseSamples(text).filter((x) => x.name === 'opencode_tokens_total')));
    } finally {
      await small.shutdown();
    }
    const b = new BoundedLabel(2);
    b.admit(['a', 'b', 'c']);
    expect([b.map('a'), b.map('b'), b.map('c')]).toEqual(['a', 'b', 'other']);
  });

  it('passes promtool check metrics (0.0.4 text) and serves OpenMetrics only when asked', async () => {
    expect(text).not.toContain('# UNIT');
    execFileSync('promtool', ['check', 'metrics'], { input: text });
    const res = await metrics.handle(
      new Request('http://x/metrics', { headers: { accept: 'application/openmetrics-text;version=1.0.0' } }),
    );
    expect(res.headers.get('content-type')).toContain('application/openmetrics-text');
    const om = await res.text();
    expect(om.trimEnd().endsWith('# EOF')).toBe(true);
    expect(om).toContain('# TYPE opencode_tokens counter\n');
    expect(om).toContain('# UNIT opencode_tool_duration_seconds seconds');
    expect(om).not.toContain('{token}');
    expect(wantsOpenMetrics('text/plain;version=0.0.4')).toBe(false);
    expect(wantsOpenMetrics('application/openmetrics-text;q=0.1,text/plain;q=0.5')).toBe(false);
  });

  it('recordHealth sets the health gauges; onRequest feeds the HTTP histogram', async () => {
    metrics.recordHealth([
      { check: 'watch_lag', ok: true, value: 0.5 },
      { check: 'export', ok: false, value: null },
    ]);
    metrics.onRequest({ method: 'GET', route: '/api/health', status: 200, seconds: 0.002 });
    const p = parseSamples(await (await metrics.handle(new Request('http://x/metrics'))).text());
    const h = (name: string, check: string) =>
      p.find((x) => x.name === name && x.labels.check === check)?.value;
    expect(h('opencode_bridge_health_check_status', 'watch_lag')).toBe(1);
    expect(h('opencode_bridge_health_check_status', 'export')).toBe(0);
    expect(h('opencode_bridge_health_check_value', 'watch_lag')).toBe(0.5);
    expect(h('opencode_bridge_health_check_value', 'export')).toBeUndefined();
    expect(
      p.find(
        (x) =>
          x.name === 'opencode_bridge_http_request_duration_seconds_count' &&
          x.labels.route === '/api/health',
      )?.value,
    ).toBe(1);
  });
});

describe('usage values over time (no store)', () => {
  const agg = (input: number, model = 'm1'): UsageAggregates => ({
    usage: [
      {
        provider: 'p',
        model,
        agent: 'build',
        project: '/w',
        input,
        output: 1,
        reasoning: 0,
        cache_read: 0,
        cache_write: 0,
        recorded: 0.5,
        computed: 0.25,
      },
    ],
    steps: [],
    tools: [],
    errors: [],
    sessions: [],
    exchanges: [],
  });
  const value = (text: string, model: string) =>
    sum(
      parseSamples(text).filter(
        (x) => x.name === 'opencode_tokens_total' && x.labels.type === 'input' && x.labels.model === model,
      ),
    );

  it('never goes backwards; a series born live shows 0 until one scrape saw it', async () => {
    const u = new UsageProducer({ resource: resourceFromAttributes({}), version: 't' });
    u.update(agg(100));
    expect(value(u.render('text').toString(), 'm1')).toBe(100); // history: its value at once
    u.update(agg(90)); // the store went down (e.g. a deleted session): the counter holds
    expect(value(u.render('text').toString(), 'm1')).toBe(100);
    u.update(agg(130));
    expect(value(u.render('text').toString(), 'm1')).toBe(130);
    // a new model while live: 0 for the first scrape, then the value
    const a = agg(130);
    a.usage.push({ ...(a.usage[0] as object), model: 'm2', input: 7 } as never);
    u.update(a);
    const gen = u.generation;
    expect(value(u.render('text').toString(), 'm2')).toBe(0);
    u.release(gen);
    expect(value(u.render('text').toString(), 'm2')).toBe(7);
    // OTLP collect() agrees with the text
    const { resourceMetrics } = await u.collect();
    const tokens = resourceMetrics.scopeMetrics[0]?.metrics.find(
      (m) => m.descriptor.name === 'opencode.tokens',
    );
    const pts = (tokens?.dataPoints ?? []) as { attributes: Record<string, unknown>; value: number }[];
    expect(pts.find((p) => p.attributes.model === 'm2' && p.attributes.type === 'input')?.value).toBe(7);
  });

  it('pushes over OTLP/HTTP when an endpoint is configured', async () => {
    const bodies: string[] = [];
    const srv = createServer((req, res) => {
      let b = '';
      req.on('data', (c) => {
        b += c;
      });
      req.on('end', () => {
        if (req.url === '/v1/metrics') bodies.push(b);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as AddressInfo).port;
    const dir = tempDir('ocb-otlp-');
    const store = await openStore(join(dir, 's.duckdb'));
    const m = createMetrics(store, {
      version: 't',
      otlpEndpoint: `http://127.0.0.1:${port}/v1/metrics`,
      otlpIntervalMs: 200,
    });
    try {
      m.recordHealth([{ check: 'otlp', ok: true, value: 1 }]);
      const end = Date.now() + 10_000;
      while (!bodies.some((b) => b.includes('opencode.bridge.health_check_status')) && Date.now() < end)
        await new Promise((r) => setTimeout(r, 100));
      expect(bodies.some((b) => b.includes('opencode.bridge.health_check_status'))).toBe(true);
    } finally {
      await m.shutdown();
      store.close();
      srv.close();
    }
  }, 20_000);
});
