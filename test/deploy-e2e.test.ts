/**
 * End to end, on loopback with real binaries: Prometheus (deploy/prometheus rules, `for: 0s`) scrapes the
 * bridge's metrics (the real bridge, or the fixture exporter until src/otel/metrics exists: see
 * test/support/bridge-target.ts), Alertmanager (deploy/alertmanager routes) delivers to a fake Slack.
 * Every PromQL expression of every dashboard panel must return data; the bridge going away must reach
 * Slack as a firing OpencodeBridgeDown.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startTarget } from './support/bridge-target.ts';
import {
  allPanels,
  type DashboardJson,
  infinityUrl,
  loadDashboards,
  panelQueries,
  substitutePromql,
} from './support/dashboards.ts';
import { type FakeSlack, startFakeSlack } from './support/fake-slack.ts';
import type { MetricsTarget } from './support/fixture-exporter.ts';
import {
  instantQuery,
  type Proc,
  startAlertmanager,
  startPrometheus,
  waitForData,
} from './support/prom-stack.ts';

const RULES_FILE = join(import.meta.dirname, '..', 'deploy', 'prometheus', 'rules', 'opencode-alerts.yml');

let dir: string;
let target: MetricsTarget;
let slack: FakeSlack;
let am: Proc;
let prom: Proc;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ocbridge-deploy-e2e-'));
  [target, slack] = await Promise.all([startTarget(join(dir, 'bridge')), startFakeSlack()]);
  // API traffic before the first scrapes, so the API latency panels have a rate to show
  if (target.kind === 'bridge')
    for (const path of ['/api/sessions', '/api/usage?group_by=day', '/api/tools', '/api/nope'])
      await fetch(`${target.url}${path}`).then((r) => r.arrayBuffer());
  am = await startAlertmanager({ dir, slackUrl: slack.url });
  prom = await startPrometheus({
    dir,
    bridgeTarget: target.target,
    alertmanager: am.url.replace('http://', ''),
  });
  // rates need two scrapes of the target inside their window
  await waitForData(prom.url, 'rate(opencode_tokens_total[1m])', 20_000);
});

afterAll(async () => {
  await Promise.allSettled([prom?.stop(), am?.stop(), target?.stop(), slack?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('deploy stack end to end', () => {
  it('scrapes the target', async () => {
    const r = await instantQuery(prom.url, 'up{job="opencode-bridge"}');
    expect(r.data?.result.map((s) => s.value[1])).toEqual(['1']);
    // the real bridge identifies itself by build info; the fixture by target_info
    const info = await instantQuery(
      prom.url,
      target.kind === 'bridge' ? 'opencode_bridge_build_info' : 'target_info',
    );
    expect(info.data?.result.length).toBeGreaterThan(0);
  });

  it('serves an exposition that promtool check metrics accepts', async () => {
    const text = await (await fetch(`${target.url}/metrics`)).text();
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(lint.status, lint.stdout + lint.stderr).toBe(0);
  });

  it('every PromQL expression of every dashboard panel returns data', async () => {
    const queries = panelQueries().filter((q) => q.datasource.type === 'prometheus');
    expect(queries.length).toBeGreaterThan(40);
    const failures: string[] = [];
    for (const q of queries) {
      const expr = substitutePromql(String(q.target.expr));
      const r = await instantQuery(prom.url, expr);
      if (r.status !== 'success') failures.push(`${q.file} #${q.panel.id} ${q.refId}: ${r.error} — ${expr}`);
      else if ((r.data?.result.length ?? 0) === 0)
        failures.push(`${q.file} #${q.panel.id} "${q.panel.title}" ${q.refId}: no data — ${expr}`);
    }
    expect(failures).toEqual([]);
  });

  it('every template variable query returns values', async () => {
    for (const label of ['project', 'model', 'agent', 'provider']) {
      const r = await fetch(`${prom.url}/api/v1/label/${label}/values?match[]=opencode_tokens_total`);
      const body = (await r.json()) as { data: string[] };
      expect(body.data.length, label).toBeGreaterThan(0);
    }
  });

  it('every alert expression evaluates', async () => {
    const doc = parse(readFileSync(RULES_FILE, 'utf8')) as {
      groups: { rules: { alert: string; expr: string }[] }[];
    };
    for (const r of doc.groups.flatMap((g) => g.rules)) {
      const res = await instantQuery(prom.url, r.expr);
      expect(res.status, `${r.alert}: ${res.error}`).toBe('success');
    }
  });

  // the real bridge's API (skipped only when OCBRIDGE_E2E_TARGET=fixture asks for the fixture target)
  it('every Infinity panel URL returns rows from the bridge API', async (ctx) => {
    if (target.kind !== 'bridge') return ctx.skip('the fixture target has no API');
    const now = Date.now();
    const queries = panelQueries().filter((q) => q.datasource.type === 'yesoreyeram-infinity-datasource');
    expect(queries.length).toBeGreaterThan(5);
    for (const q of queries) {
      const url = infinityUrl(q.target, target.url, now - 365 * 86_400_000, now);
      const r = await fetch(url);
      expect(r.status, url).toBe(200);
      const body = (await r.json()) as { data: Record<string, unknown>[] };
      expect(body.data.length, url).toBeGreaterThan(0);
      for (const c of q.target.columns as { selector: string }[])
        expect(body.data[0], `${url} ${c.selector}`).toHaveProperty(c.selector);
    }
  });

  // the home dashboard on a fresh bridge with a history and no live activity: every panel has a number
  it('home dashboard: every panel returns a non-zero value (history, nothing live)', async (ctx) => {
    if (target.kind !== 'bridge') return ctx.skip('the fixture target has no API');
    const home = loadDashboards()['usage-and-cost.json'] as DashboardJson & { time?: { from: string } };
    const span = /^now-(\d+)([dhwy])$/.exec(home.time?.from ?? '');
    const unit = { h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000, y: 365 * 86_400_000 };
    const rangeMs = Number(span?.[1]) * unit[(span?.[2] ?? 'd') as keyof typeof unit];
    expect(rangeMs, `home time range ${home.time?.from}`).toBeGreaterThan(0);
    const now = Date.now();
    const failures: string[] = [];
    let panels = 0;
    for (const panel of allPanels(home)) {
      if (panel.type === 'row') continue;
      panels += 1;
      const values: number[] = [];
      for (const t of panel.targets ?? []) {
        const ds = t.datasource ?? panel.datasource ?? {};
        if (ds.type === 'prometheus') {
          const r = await instantQuery(prom.url, substitutePromql(String(t.expr)));
          for (const s of r.data?.result ?? []) values.push(Number(s.value[1]));
        } else {
          const url = infinityUrl(t, target.url, now - rangeMs, now);
          const body = (await (await fetch(url)).json()) as { data: Record<string, unknown>[] };
          const cols = (t.columns as { selector: string; type: string }[]).filter((c) => c.type === 'number');
          for (const row of body.data ?? [])
            if (cols.length === 0) values.push(1);
            else for (const c of cols) values.push(Number(row[c.selector] ?? 0));
        }
      }
      if (!values.some((v) => Number.isFinite(v) && v > 0))
        failures.push(`#${panel.id} "${panel.title}": ${JSON.stringify(values.slice(0, 5))}`);
    }
    expect(panels).toBeGreaterThan(15);
    expect(failures).toEqual([]);
  });

  // last: stops the target
  it('a bridge that goes away reaches Slack as a firing OpencodeBridgeDown', async () => {
    await target.stop();
    const msg = await slack.waitFor(
      (m) => m.body.attachments?.some((a) => a.title?.includes('OpencodeBridgeDown')) ?? false,
      30_000,
    );
    const a = msg.body.attachments![0]!;
    expect(msg.url).toBe('/services/T000/B000/XXXX');
    expect(a.title).toBe('[FIRING:1] OpencodeBridgeDown');
    expect(a.text).toContain(`*critical* Bridge ${target.target} is down`);
    expect(a.text).toContain(`Prometheus cannot scrape ${target.target} (job opencode-bridge).`);
    expect(a.text).toContain('Runbook: docs/runbooks.md#bridge-down');
    expect(a.color).toBe('danger');
  });
});
