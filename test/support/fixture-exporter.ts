/**
 * A stand-in for the bridge's /metrics while src/otel/metrics is not there: serves
 * test/fixtures/bridge-metrics.prom (the docs/metrics.md names, in the OTel Prometheus exporter's
 * format). Counter and histogram samples are multiplied by the scrape number, so rates and quantiles
 * have data; `NOW` becomes the current unix time.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export const FIXTURE_EXPOSITION = join(import.meta.dirname, '..', 'fixtures', 'bridge-metrics.prom');

export interface MetricsTarget {
  kind: 'fixture' | 'bridge';
  /** host:port, as a Prometheus static target */
  target: string;
  /** http://host:port */
  url: string;
  stop(): Promise<void>;
}

/** the exposition at scrape `n` (1-based) */
export function renderExposition(text: string, n: number, nowSeconds: number): string {
  const types = new Map<string, string>();
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line.startsWith('#') || line.trim() === '') {
      out.push(line);
      continue;
    }
    const m = /^([a-zA-Z_:][\w:]*)(\{.*\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`fixture line not understood: ${line}`);
    const [, name, labels = '', value] = m;
    const family = name!.replace(/_(bucket|sum|count)$/, '');
    const kind = types.get(name!) ?? types.get(family);
    let v: number | string = value === 'NOW' ? nowSeconds : Number(value);
    if (kind === 'counter' || kind === 'histogram') v = Number(v) * n;
    out.push(`${name}${labels} ${v}`);
  }
  return out.join('\n');
}

export function startFixtureExporter(file = FIXTURE_EXPOSITION): Promise<MetricsTarget> {
  const text = readFileSync(file, 'utf8');
  let scrapes = 0;
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    scrapes += 1;
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(renderExposition(text, scrapes, Math.floor(Date.now() / 1000)));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        kind: 'fixture',
        target: `127.0.0.1:${port}`,
        url: `http://127.0.0.1:${port}`,
        stop: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
