// biome-ignore-all lint/suspicious/noExplicitAny: browser-side callbacks and API bodies (the project has no DOM types)
/**
 * The web view (src/web) in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core;
 * CI installs it): `/` and `/sessions/:id` on a generated corpus and on data written by real OpenCode.
 * The shown totals equal the API's (cost to the cent, tokens, sessions, tool calls), the waterfall
 * has one bar per span with its parent's nesting, no request leaves the bridge, and the page works
 * behind a token (login form → cookie). One browser for the file.
 * `OCBRIDGE_SCREENS=1` also writes docs/screens/*.png (desktop 1400 px and mobile 390 px).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, disposeApp, type RunningServer, startServer } from '../src/api/server.ts';
import { healthRun } from '../src/cli/health-command.ts';
import { generateCorpus } from '../src/gen/index.ts';
import type { Store } from '../src/store/db.ts';
import { registerWeb } from '../src/web/index.ts';
import { tempDir } from './support/datadir.ts';
import { FIXTURE_DIR } from './support/opencode-fixtures.ts';
import { ingestInto } from './support/store.ts';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENS = process.env.OCBRIDGE_SCREENS === '1';
const TOKEN = 'web-view-s3cret';

interface Bridge {
  store: Store;
  app: OpenAPIHono;
  server: RunningServer;
  token?: string;
}

async function bridge(store: Store, token?: string): Promise<Bridge> {
  const app = createApp({ store, mode: 'serve', apiToken: token, dataVersion: () => 0 });
  registerWeb(app, { traceLinks: ['http://jaeger.invalid:16686/trace/{trace_id}'] });
  const server = await startServer(app, { host: '127.0.0.1', port: 0 });
  return { store, app, server, token };
}

async function apiGet(b: Bridge, path: string): Promise<any> {
  const r = await fetch(`${b.server.url}${path}`, {
    headers: b.token ? { authorization: `Bearer ${b.token}` } : {},
  });
  expect(r.status, path).toBe(200);
  return ((await r.json()) as { data: unknown }).data;
}

const cents = (text: string) => Math.round(Number(text.replace(/[$,]/g, '')) * 100);
const int = (text: string) => Number(text.replace(/,/g, ''));
const tokensOf = (r: any): number =>
  r.input_tokens + r.output_tokens + r.reasoning_tokens + r.cache_read_tokens + r.cache_write_tokens;

/** A page that records every request it makes. */
async function open(ctx: BrowserContext, url: string): Promise<{ page: Page; requests: string[] }> {
  const page = await ctx.newPage();
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 }).catch((e) => {
    throw new Error(`${url} did not get ready: ${errors.join('; ')} ${e}`);
  });
  expect(errors).toEqual([]);
  return { page, requests };
}

const local = (b: Bridge, requests: string[]) =>
  expect(requests.filter((u) => !u.startsWith(`${b.server.url}/`) && !u.startsWith('data:'))).toEqual([]);

let browser: Browser;
const bridges: Bridge[] = [];
let generated: Bridge;
let real: Bridge;

describe.skipIf(!existsSync(CHROMIUM))('web view in headless Chromium', () => {
  beforeAll(async () => {
    const out = join(tempDir('ocb-web-'), 'corpus');
    await generateCorpus({ out, sessions: 24, seed: '7', layout: 'json' });
    const [gen, fix, b] = await Promise.all([
      ingestInto(out),
      ingestInto(join(FIXTURE_DIR, 'datadir')),
      chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS }),
    ]);
    browser = b;
    await healthRun(gen.store.conn, {});
    generated = await bridge(gen.store);
    real = await bridge(fix.store);
    bridges.push(generated, real);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    for (const b of bridges) {
      await b.server.close();
      disposeApp(b.app);
    }
    for (const s of new Set(bridges.map((b) => b.store))) s.close();
  });

  async function checkOverview(b: Bridge, ctx: BrowserContext) {
    const { page, requests } = await open(ctx, `${b.server.url}/`);
    const [s] = await apiGet(b, '/api/summary');
    const tile = async (id: string) =>
      (await page.locator(`[data-testid="${id}"] .value`).textContent()) ?? '';
    expect(cents(await tile('cost'))).toBe(Math.round(s.cost_usd * 100));
    if (s.computed_cost_usd !== null)
      expect(cents(await tile('computed-cost'))).toBe(Math.round(s.computed_cost_usd * 100));
    expect(int(await tile('tokens'))).toBe(tokensOf(s));
    expect(int(await tile('sessions'))).toBe(s.sessions);
    expect(int(await tile('tool-calls'))).toBe(s.tool_calls);
    expect(int(await tile('exchanges'))).toBe(s.exchanges);
    expect(int(await tile('errors'))).toBe(s.errors);
    // the same totals from the list routes the tables show
    const usage = await apiGet(b, '/api/usage?group_by=model');
    const sum = (k: string) => usage.reduce((a: number, r: Record<string, number>) => a + (r[k] ?? 0), 0);
    expect(Math.round(sum('cost_usd') * 100)).toBe(Math.round(s.cost_usd * 100));
    expect(await page.locator('[data-testid="by-model"] tbody tr').count()).toBe(usage.length);
    const tools = await apiGet(b, '/api/tools');
    expect(await page.locator('[data-testid="tools"] tbody tr').count()).toBe(tools.length);
    const days = await apiGet(b, '/api/usage?group_by=day');
    if (days.length > 0) expect(await page.locator('#cost-chart canvas').count()).toBe(1);
    local(b, requests);
    return page;
  }

  async function checkSession(b: Bridge, ctx: BrowserContext, id: string) {
    const { page, requests } = await open(ctx, `${b.server.url}/sessions/${encodeURIComponent(id)}`);
    const session = await apiGet(b, `/api/sessions/${encodeURIComponent(id)}`);
    const spans: { span_id: string; parent_span_id: string | null }[] = await apiGet(
      b,
      `/api/sessions/${encodeURIComponent(id)}/trace`,
    );
    expect(cents((await page.getByTestId('session-cost').textContent()) ?? '')).toBe(
      Math.round(session.cost_usd * 100),
    );
    expect(int((await page.getByTestId('session-tokens').textContent()) ?? '')).toBe(tokensOf(session));
    expect(int((await page.getByTestId('session-tool-calls').textContent()) ?? '')).toBe(
      session.tool_call_count,
    );
    // lay out every exchange (the page lets the browser skip those off screen) so bars can be measured
    await page.addStyleTag({ content: '.exchange { content-visibility: visible !important; }' });
    const bars = await page.locator('.wf .row').evaluateAll((rows) =>
      rows.map((r) => {
        const el = r as any;
        const bar = el.querySelector('.span')?.getBoundingClientRect();
        const track = el.querySelector('.track')?.getBoundingClientRect();
        return {
          id: el.dataset.spanId ?? '',
          parent: el.dataset.parentSpanId ?? '',
          level: Number(el.dataset.level),
          section: el.closest('section')?.dataset.exchangeId ?? 'session',
          x0: (bar?.left ?? 0) - (track?.left ?? 0),
          x1: (bar?.right ?? 0) - (track?.left ?? 0),
          track: track?.width ?? 0,
        };
      }),
    );
    // one bar per span of the trace, each once
    expect(bars.map((r) => r.id).sort()).toEqual(spans.map((s) => s.span_id).sort());
    const byId = new Map(bars.map((r) => [r.id, r]));
    const parentOf = new Map(spans.map((s) => [s.span_id, s.parent_span_id ?? '']));
    for (const r of bars) {
      expect(r.track, `${r.id} is laid out`).toBeGreaterThan(50);
      expect(r.parent, r.id).toBe(parentOf.get(r.id));
      if (!r.parent) continue;
      const p = byId.get(r.parent);
      expect(p, `parent of ${r.id}`).toBeDefined();
      expect(r.level, r.id).toBe((p?.level ?? 0) + 1);
      // within the parent's extent (same time axis inside one exchange's waterfall)
      if (p && p.section === r.section) {
        expect(r.x0, r.id).toBeGreaterThanOrEqual(p.x0 - 1);
        expect(r.x1, r.id).toBeLessThanOrEqual(p.x1 + 2.5);
      }
    }
    expect(await page.locator('section[data-exchange-id]').count()).toBe(session.exchanges.length);
    local(b, requests);
    return { page, spans: spans.length };
  }

  /** The session with the most spans among the top sessions by tool calls (nested sub-agents when any). */
  async function busiest(b: Bridge): Promise<string> {
    const rows = await apiGet(b, '/api/sessions?root_only=true&sort=exchange_count&limit=5');
    const withSub = rows.find((r: { subagent_session_count: number }) => r.subagent_session_count > 0);
    return (withSub ?? rows[0]).session_id;
  }

  it('generated corpus: / shows the API totals; /sessions/:id one bar per span, nested; nothing from outside', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await checkOverview(generated, ctx);
    const checks = await apiGet(generated, '/api/health/checks');
    const worst = checks.some((c: { status: string }) => c.status === 'fail')
      ? 'fail'
      : checks.some((c: { status: string }) => c.status === 'warn')
        ? 'warn'
        : 'pass';
    expect(await page.getByTestId('verdict').textContent()).toBe(worst);
    const id = await busiest(generated);
    const s = await checkSession(generated, ctx, id);
    expect(s.spans).toBeGreaterThan(10);
    expect(await s.page.getByTestId('trace-link').first().getAttribute('href')).toMatch(
      /^http:\/\/jaeger\.invalid:16686\/trace\/[0-9a-f]{32}$/,
    );
    if (SCREENS) {
      mkdirSync('docs/screens', { recursive: true });
      await page.screenshot({ path: 'docs/screens/overview-desktop.png', fullPage: true });
      await s.page.screenshot({ path: 'docs/screens/session-desktop.png' });
    }
    // a range: the tiles follow the API for the same range
    const days = await apiGet(generated, '/api/usage?group_by=day');
    const day = String(days[Math.floor(days.length / 2)].bucket).slice(0, 10);
    const { page: ranged } = await open(ctx, `${generated.server.url}/?from=${day}&to=${day}`);
    const next = new Date(Date.parse(day) + 86_400_000).toISOString().slice(0, 10);
    const [r] = await apiGet(generated, `/api/summary?from=${day}&to=${next}`);
    expect(cents((await ranged.locator('[data-testid="cost"] .value').textContent()) ?? '')).toBe(
      Math.round(r.cost_usd * 100),
    );
    expect(int((await ranged.locator('[data-testid="sessions"] .value').textContent()) ?? '')).toBe(
      r.sessions,
    );
    await ctx.close();
  }, 120_000);

  it('live: the overview polls the API and shows a change without a reload', async () => {
    const ctx = await browser.newContext();
    let bump = 0;
    // the store does not change under `serve`: the answer of /api/summary does, after the first load
    await ctx.route('**/api/summary*', async (route) => {
      const r = await route.fetch();
      const body = (await r.json()) as { data: { sessions: number }[] };
      if (body.data[0]) body.data[0].sessions += bump;
      await route.fulfill({ response: r, json: body });
    });
    const { page } = await open(ctx, `${generated.server.url}/`);
    const [s] = await apiGet(generated, '/api/summary');
    const shown = () => page.locator('[data-testid="sessions"] .value').textContent();
    expect(int((await shown()) ?? '')).toBe(s.sessions);
    bump = 1000;
    await page.waitForFunction(
      (want) =>
        (globalThis as any).document.querySelector('[data-testid="sessions"] .value')?.textContent === want,
      (s.sessions + 1000).toLocaleString('en-US'),
      { timeout: 25_000 },
    );
    await ctx.close();
  }, 60_000);

  it('390 px mobile: both pages fit the width', async () => {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    const { page } = await open(ctx, `${generated.server.url}/`);
    const width = () => page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth);
    expect(await width()).toBeLessThanOrEqual(390);
    const { page: sp } = await open(ctx, `${generated.server.url}/sessions/${await busiest(generated)}`);
    expect(
      await sp.evaluate(() => (globalThis as any).document.documentElement.scrollWidth),
    ).toBeLessThanOrEqual(390);
    if (SCREENS) {
      await page.screenshot({ path: 'docs/screens/overview-mobile.png' });
      await sp.screenshot({ path: 'docs/screens/session-mobile.png' });
    }
    await ctx.close();
  }, 60_000);

  it('data written by real OpenCode: the same checks', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    await checkOverview(real, ctx);
    const sessions = await apiGet(real, '/api/sessions?limit=100');
    expect(sessions.length).toBeGreaterThan(0);
    for (const s of sessions.slice(0, 3)) await checkSession(real, ctx, s.session_id);
    await ctx.close();
  }, 60_000);

  it('behind a token: the page sends the browser to the login form, then works with the cookie', async () => {
    const locked = await bridge(generated.store, TOKEN);
    bridges.push(locked);
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`${locked.server.url}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.fill('#token', 'wrong');
    await page.click('button[type=submit]');
    await expect(page.locator('[role=alert]').textContent()).resolves.toContain('Wrong token');
    await page.fill('#token', TOKEN);
    await page.click('button[type=submit]');
    await page.waitForSelector('body[data-ready="true"]');
    const [s] = await apiGet(locked, '/api/summary');
    expect(int((await page.locator('[data-testid="sessions"] .value').textContent()) ?? '')).toBe(s.sessions);
    local(locked, requests);
    // without the cookie the API stays closed
    expect((await fetch(`${locked.server.url}/api/summary`)).status).toBe(401);
    await ctx.close();
  }, 60_000);
});
