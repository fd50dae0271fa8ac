/**
 * The standard OpenTelemetry switches (docs/otel.md "Switches"), one test each: OTEL_SDK_DISABLED,
 * OTEL_TRACES_EXPORTER, OTEL_METRICS_EXPORTER, OTEL_METRIC_EXPORT_INTERVAL, OTEL_EXPORTER_OTLP_*_TIMEOUT,
 * and the two default service names (the bridge's own metrics vs OpenCode's activity).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOtlpExporter, send } from '../src/otel/exporter.ts';
import { createMetrics } from '../src/otel/metrics/index.ts';
import { metricExporters, OtelSwitchError, readOtelSwitches, tracesOn } from '../src/otel/switches.ts';
import { openStore, type Store } from '../src/store/db.ts';
import { buildGoldenFixture, openTestStore } from './otel-fixtures.ts';
import { cliAsync } from './support/cli.ts';
import { tempDir } from './support/datadir.ts';
import { startOtlpReceiver } from './support/otlp-receiver.ts';

/** A collector for /v1/metrics (JSON bodies) that can also hang every request unanswered. */
async function metricsCollector(hang = false): Promise<{ url: string; bodies: unknown[]; close(): void }> {
  const bodies: unknown[] = [];
  const srv: Server = createServer((req, res) => {
    let b = '';
    req.on('data', (c) => {
      b += c;
    });
    req.on('end', () => {
      if (hang) return;
      if (req.url === '/v1/metrics') bodies.push(JSON.parse(b));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    bodies,
    close: () => {
      srv.closeAllConnections();
      srv.close();
    },
  };
}

interface PushedResource {
  service: string;
  metrics: string[];
}
function pushed(bodies: unknown[]): PushedResource[] {
  type Body = {
    resourceMetrics: {
      resource: { attributes: { key: string; value: { stringValue?: string } }[] };
      scopeMetrics: { metrics: { name: string }[] }[];
    }[];
  };
  return (bodies as Body[]).flatMap((b) =>
    b.resourceMetrics.map((rm) => ({
      service: rm.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '',
      metrics: rm.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.name)),
    })),
  );
}

const waitFor = async (cond: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
};

describe('reading the switches', () => {
  it.each([
    [{}, { sdkDisabled: false, traces: undefined, metrics: undefined, metricIntervalMs: 60_000 }],
    [
      { OTEL_SDK_DISABLED: 'TRUE' },
      { sdkDisabled: true, traces: 'none', metrics: { prometheus: false, otlp: false } },
    ],
    [
      { OTEL_SDK_DISABLED: 'false', OTEL_TRACES_EXPORTER: 'otlp' },
      { sdkDisabled: false, traces: 'otlp' },
    ],
    [{ OTEL_TRACES_EXPORTER: 'none' }, { traces: 'none' }],
    [{ OTEL_METRICS_EXPORTER: 'otlp' }, { metrics: { prometheus: false, otlp: true } }],
    [{ OTEL_METRICS_EXPORTER: 'prometheus, otlp' }, { metrics: { prometheus: true, otlp: true } }],
    [{ OTEL_METRICS_EXPORTER: 'none' }, { metrics: { prometheus: false, otlp: false } }],
    [{ OTEL_METRIC_EXPORT_INTERVAL: '5000' }, { metricIntervalMs: 5000, metricTimeoutMs: 5000 }],
  ] as const)('%o', (env, expected) => {
    expect(readOtelSwitches(env)).toMatchObject(expected);
  });
  it.each([
    { OTEL_TRACES_EXPORTER: 'zipkin' },
    { OTEL_METRICS_EXPORTER: 'console' },
    { OTEL_METRICS_EXPORTER: 'otlp,none' },
    { OTEL_METRIC_EXPORT_INTERVAL: '10s' },
  ])('a value the bridge cannot honour is an error that names it: %o', (env) => {
    expect(() => readOtelSwitches(env)).toThrow(OtelSwitchError);
    expect(() => readOtelSwitches(env)).toThrow(Object.keys(env)[0]);
  });
  it('ocbridge run: traces when an endpoint is set or OTEL_TRACES_EXPORTER=otlp, never when switched off', () => {
    const on = (env: Record<string, string>, endpoint: boolean, flag = true) =>
      tracesOn(readOtelSwitches(env), flag, endpoint);
    expect([on({}, false), on({}, true), on({ OTEL_TRACES_EXPORTER: 'otlp' }, false)]).toEqual([
      false,
      true,
      true,
    ]);
    expect([on({ OTEL_TRACES_EXPORTER: 'none' }, true), on({ OTEL_SDK_DISABLED: 'true' }, true)]).toEqual([
      false,
      false,
    ]);
    expect(on({}, true, false)).toBe(false); // --no-trace-export
    expect(metricExporters(readOtelSwitches({}), true)).toEqual({ prometheus: true, otlp: true });
  });
});

describe('ocbridge export honours the trace switches', () => {
  let db: string;
  beforeAll(async () => {
    db = `${tempDir('ocb-switch-')}/store.duckdb`;
    const store = await openTestStore(db);
    await buildGoldenFixture(store);
    store.close();
  });

  for (const env of [{ OTEL_SDK_DISABLED: 'true' }, { OTEL_TRACES_EXPORTER: 'none' }] as Record<
    string,
    string
  >[]) {
    it(`${Object.entries(env)[0]!.join('=')}: nothing sent, exit 0, says why`, async () => {
      const rx = await startOtlpReceiver();
      try {
        const r = await cliAsync(['export', '--db', db, '--endpoint', rx.url], env);
        expect(r.status).toBe(0);
        expect(r.stderr).toContain(`${Object.entries(env)[0]!.join('=')}: nothing exported`);
        expect(rx.stats().requests).toBe(0);
      } finally {
        await rx.close();
      }
    }, 60_000);
  }

  it('the control: without the switches the same command sends the spans', async () => {
    const rx = await startOtlpReceiver();
    try {
      const r = await cliAsync(['export', '--db', db, '--endpoint', rx.url, '--force'], {});
      expect(r.status).toBe(0);
      expect(rx.stats().spans).toBeGreaterThan(0);
    } finally {
      await rx.close();
    }
  }, 60_000);
});

describe('metrics switches', () => {
  let store: Store;
  const saved = { ...process.env };
  beforeAll(async () => {
    store = await openStore(`${tempDir('ocb-switch-m-')}/s.duckdb`);
  });
  afterAll(() => store.close());
  afterEach(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  });

  it('OTEL_METRICS_EXPORTER=otlp pushes to OTEL_EXPORTER_OTLP_ENDPOINT and turns /metrics off', async () => {
    const col = await metricsCollector();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = col.url; // the SDK's exporter reads it: …/v1/metrics
    const s = readOtelSwitches({ OTEL_METRICS_EXPORTER: 'otlp', OTEL_METRIC_EXPORT_INTERVAL: '200' });
    const m = createMetrics(store, {
      version: 't',
      ...metricExporters(s, false),
      otlpIntervalMs: s.metricIntervalMs,
    });
    try {
      await waitFor(() => col.bodies.length > 0, 5000);
      expect(pushed(col.bodies).some((r) => r.metrics.includes('opencode.bridge.process_cpu_seconds'))).toBe(
        true,
      );
      expect((await m.handle(new Request('http://x/metrics'))).status).toBe(404);
    } finally {
      await m.shutdown();
      col.close();
    }
  }, 20_000);

  it('OTEL_METRIC_EXPORT_INTERVAL: pushes at that interval (200 ms: several within 1.5 s, not one per 60 s)', async () => {
    const col = await metricsCollector();
    const s = readOtelSwitches({ OTEL_METRIC_EXPORT_INTERVAL: '200' });
    const m = createMetrics(store, {
      version: 't',
      otlpEndpoint: `${col.url}/v1/metrics`,
      otlpIntervalMs: s.metricIntervalMs,
    });
    try {
      await new Promise((r) => setTimeout(r, 1500));
      // two resources per push (bridge, activity): at least 3 pushes of each
      expect(pushed(col.bodies).filter((r) => r.service === 'ocbridge').length).toBeGreaterThanOrEqual(3);
    } finally {
      await m.shutdown();
      col.close();
    }
  }, 20_000);

  it("service.name: the bridge's own metrics are `ocbridge`, OpenCode's usage metrics the traces' (`opencode`, or OTEL_SERVICE_NAME)", async () => {
    for (const [env, activity] of [
      [{}, 'opencode'],
      [{ OTEL_SERVICE_NAME: 'team-a' }, 'team-a'],
    ] as const) {
      Object.assign(process.env, env);
      const col = await metricsCollector();
      const m = createMetrics(store, {
        version: 't',
        otlpEndpoint: `${col.url}/v1/metrics`,
        otlpIntervalMs: 100,
      });
      try {
        await m.refresh();
        await waitFor(() => new Set(pushed(col.bodies).map((r) => r.service)).size >= 2, 5000);
        const res = pushed(col.bodies);
        const self = res.filter((r) => r.service === 'ocbridge');
        expect(self.length).toBeGreaterThan(0);
        expect(self.every((r) => r.metrics.every((n) => n.startsWith('opencode.bridge.')))).toBe(true);
        const usage = res.filter((r) => r.service === activity);
        expect(usage.length).toBeGreaterThan(0);
        expect(usage.every((r) => r.metrics.every((n) => !n.startsWith('opencode.bridge.')))).toBe(true);
      } finally {
        await m.shutdown();
        col.close();
      }
    }
  }, 30_000);

  it('OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: a push to a collector that never answers gives up after it', async () => {
    const col = await metricsCollector(true);
    process.env.OTEL_EXPORTER_OTLP_METRICS_TIMEOUT = '300';
    const m = createMetrics(store, {
      version: 't',
      otlpEndpoint: `${col.url}/v1/metrics`,
      otlpIntervalMs: 60_000,
    });
    const t0 = Date.now();
    try {
      await m.shutdown(); // flushes one push
      expect(Date.now() - t0).toBeLessThan(2500); // the SDK's default is 10 s
    } finally {
      col.close();
    }
  }, 20_000);
});

describe('trace request timeout', () => {
  it('OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: a request to a collector that never answers fails after it', async () => {
    const col = await metricsCollector(true);
    const saved = process.env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT;
    process.env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT = '300';
    try {
      const exporter = createOtlpExporter(
        { endpoint: col.url },
        { resourceAttributes: {}, scope: { name: 't' } },
      );
      const t0 = Date.now();
      const r = await send(exporter, []);
      expect(r.ok).toBe(false);
      expect(Date.now() - t0).toBeLessThan(2500); // the SDK's default is 10 s
      await exporter.shutdown();
    } finally {
      if (saved === undefined) delete process.env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT;
      else process.env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT = saved;
      col.close();
    }
  }, 20_000);
});
