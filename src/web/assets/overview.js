// `/`: the overview of a range, from /api/summary, /api/usage, /api/sessions, /api/tools,
// /api/errors, /api/projects and /api/health/checks; polled while the page is visible.
import { costChart, tokenChart } from './charts.js';
import { api, fail, h, ms, num, pct, short, table, tokensOf, usd, when } from './common.js';

const RANGES = [
  ['today', 'Today', 1],
  ['7d', '7 d', 7],
  ['30d', '30 d', 30],
  ['all', 'All', 0],
];
const POLL_MS = 10_000;
const DAY_MS = 86_400_000;

/** The range in the address bar: ?range=today|7d|30d|all (default all) or ?from=YYYY-MM-DD&to=YYYY-MM-DD (days, UTC, inclusive). */
function rangeOf(search) {
  const q = new URLSearchParams(search);
  if (q.get('from') || q.get('to')) {
    const to = q.get('to')
      ? new Date(Date.parse(q.get('to')) + DAY_MS).toISOString().slice(0, 10)
      : undefined;
    return {
      key: 'custom',
      from: q.get('from') || undefined,
      to,
      fromDay: q.get('from') ?? '',
      toDay: q.get('to') ?? '',
    };
  }
  const key = RANGES.some(([k]) => k === q.get('range')) ? q.get('range') : 'all';
  const days = RANGES.find(([k]) => k === key)[2];
  if (!days) return { key };
  const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  return { key, from: new Date(today - (days - 1) * DAY_MS).toISOString().slice(0, 10) };
}

async function load(r) {
  const range = { from: r.from, to: r.to };
  const [summary, days, models, agents, projects, projectNames, top, tools, errors, checks] =
    await Promise.all([
      api('/api/summary', range),
      api('/api/usage', { ...range, group_by: 'day' }),
      api('/api/usage', { ...range, group_by: 'model' }),
      api('/api/usage', { ...range, group_by: 'agent' }),
      api('/api/usage', { ...range, group_by: 'project' }),
      api('/api/projects', range),
      api('/api/sessions', { ...range, sort: 'cost_usd', limit: 10 }),
      api('/api/tools', range),
      api('/api/errors', range),
      api('/api/health/checks'),
    ]);
  return {
    summary: summary.data[0],
    days: days.data,
    models: models.data,
    agents: agents.data,
    projects: projects.data,
    projectNames: new Map(projectNames.data.map((p) => [p.project_id, p.project])),
    top: top.data,
    tools: tools.data,
    errors: errors.data,
    checks: checks.data,
  };
}

function tile(id, label, value, raw, sub) {
  return h(
    'div',
    { class: 'tile', 'data-testid': id, 'data-value': raw },
    h('div', { class: 'label' }, label),
    h('div', { class: 'value' }, value),
    sub ? h('div', { class: 'sub' }, sub) : null,
  );
}

function tiles(s) {
  const tokens = tokensOf(s);
  return h(
    'section',
    { class: 'tiles', 'aria-label': 'totals' },
    tile('cost', 'Cost (recorded)', usd(s.cost_usd), s.cost_usd, 'as OpenCode recorded it'),
    tile(
      'computed-cost',
      'Cost (computed)',
      usd(s.computed_cost_usd),
      s.computed_cost_usd ?? '',
      'from the price list',
    ),
    tile(
      'tokens',
      'Tokens',
      num(tokens),
      tokens,
      `in ${short(s.input_tokens)} · out ${short(s.output_tokens)} · cache read ${short(s.cache_read_tokens)} · cache write ${short(s.cache_write_tokens)}`,
    ),
    tile('sessions', 'Sessions', num(s.sessions), s.sessions, `${num(s.root_sessions)} top-level`),
    tile('exchanges', 'Exchanges', num(s.exchanges), s.exchanges, `${num(s.llm_messages)} LLM messages`),
    tile(
      'tool-calls',
      'Tool calls',
      num(s.tool_calls),
      s.tool_calls,
      `${num(s.tool_errors)} failed (${pct(s.tool_calls ? s.tool_errors / s.tool_calls : 0)})`,
    ),
    tile('errors', 'Errors', num(s.errors), s.errors, 'messages, tools, retries'),
  );
}

function health(checks) {
  const worst =
    checks.length === 0
      ? 'none'
      : checks.some((c) => c.status === 'fail')
        ? 'fail'
        : checks.some((c) => c.status === 'warn')
          ? 'warn'
          : 'pass';
  const bad = checks.filter((c) => c.status !== 'pass');
  return h(
    'section',
    { class: 'card', 'data-testid': 'health' },
    h(
      'h2',
      {},
      'Health ',
      h(
        'span',
        { class: `verdict ${worst}`, 'data-testid': 'verdict' },
        worst === 'none' ? 'not checked yet' : worst,
      ),
    ),
    checks.length === 0
      ? h(
          'p',
          { class: 'muted' },
          'No health run stored yet: `ocbridge run` checks on a schedule, `ocbridge health` on demand.',
        )
      : bad.length === 0
        ? h('p', { class: 'muted' }, `All ${checks.length} checks pass (${when(checks[0].checked_at)}).`)
        : table(
            [
              { label: 'check', get: (c) => c.check_id },
              { label: 'status', get: (c) => h('span', { class: `verdict ${c.status}` }, c.status) },
              {
                label: 'value',
                num: true,
                get: (c) => (c.value === null ? '—' : String(Math.round(c.value * 1000) / 1000)),
              },
              { label: 'explanation', wrap: true, get: (c) => c.explanation },
            ],
            bad,
          ),
  );
}

const usageCols = (label, name) => [
  { label, get: name },
  { label: 'cost', num: true, get: (r) => usd(r.cost_usd) },
  { label: 'computed', num: true, get: (r) => usd(r.computed_cost_usd) },
  { label: 'input', num: true, get: (r) => short(r.input_tokens), title: (r) => num(r.input_tokens) },
  { label: 'output', num: true, get: (r) => short(r.output_tokens), title: (r) => num(r.output_tokens) },
  {
    label: 'cache read',
    num: true,
    get: (r) => short(r.cache_read_tokens),
    title: (r) => num(r.cache_read_tokens),
  },
  {
    label: 'cache write',
    num: true,
    get: (r) => short(r.cache_write_tokens),
    title: (r) => num(r.cache_write_tokens),
  },
  { label: 'LLM msgs', num: true, get: (r) => num(r.llm_messages) },
];

function errorCategories(rows) {
  const by = new Map();
  for (const r of rows) {
    const c = by.get(r.category) ?? {
      category: r.category,
      count: 0,
      sources: new Set(),
      last_seen: null,
      example: null,
    };
    c.count += r.count;
    c.sources.add(r.source);
    if (!c.last_seen || r.last_seen > c.last_seen) [c.last_seen, c.example] = [r.last_seen, r.example];
    by.set(r.category, c);
  }
  return [...by.values()].sort((a, b) => b.count - a.count);
}

function card(title, body, attrs = {}) {
  return h('section', { class: 'card', ...attrs }, h('h2', {}, title), body);
}

function render(main, d, r) {
  const charts = [
    h('div', { class: 'chart', id: 'cost-chart' }),
    h('div', { class: 'chart', id: 'token-chart' }),
  ];
  const days = d.days;
  main.replaceChildren(
    controls(r),
    tiles(d.summary),
    h(
      'div',
      { class: 'grid' },
      card(
        'Cost per day (USD, UTC days)',
        days.length ? charts[0] : h('p', { class: 'muted' }, 'No LLM messages in this range.'),
      ),
      card('Tokens per day, by type', days.length ? charts[1] : h('p', { class: 'muted' }, '—')),
    ),
    h(
      'div',
      { class: 'grid' },
      health(d.checks),
      card(
        'Top sessions by cost',
        table(
          [
            {
              label: 'session',
              wrap: true,
              get: (s) =>
                h('a', { href: `/sessions/${encodeURIComponent(s.session_id)}` }, s.title || s.session_id),
            },
            { label: 'cost', num: true, get: (s) => usd(s.cost_usd) },
            { label: 'computed', num: true, get: (s) => usd(s.computed_cost_usd) },
            { label: 'tokens', num: true, get: (s) => short(tokensOf(s)) },
            { label: 'started', get: (s) => when(s.started_at) },
          ],
          d.top,
        ),
        { 'data-testid': 'top-sessions' },
      ),
    ),
    h(
      'div',
      { class: 'grid' },
      card(
        'By model',
        table(
          usageCols('model', (x) => x.bucket),
          d.models,
        ),
        { 'data-testid': 'by-model' },
      ),
      card(
        'By project',
        table(
          usageCols('project', (x) => d.projectNames.get(x.bucket) ?? x.bucket),
          d.projects,
        ),
        { 'data-testid': 'by-project' },
      ),
      card(
        'By agent',
        table(
          usageCols('agent', (x) => x.bucket),
          d.agents,
        ),
        { 'data-testid': 'by-agent' },
      ),
      card(
        'Tool calls',
        table(
          [
            { label: 'tool', get: (t) => t.tool },
            { label: 'calls', num: true, get: (t) => num(t.calls) },
            { label: 'errors', num: true, get: (t) => num(t.errors) },
            { label: 'error rate', num: true, get: (t) => pct(t.error_rate) },
            { label: 'p50', num: true, get: (t) => ms(t.p50_ms) },
            { label: 'p95', num: true, get: (t) => ms(t.p95_ms) },
          ],
          d.tools,
        ),
        { 'data-testid': 'tools' },
      ),
      card(
        'Error categories',
        table(
          [
            { label: 'category', get: (e) => e.category },
            { label: 'count', num: true, get: (e) => num(e.count) },
            { label: 'sources', get: (e) => [...e.sources].join(', ') },
            { label: 'last seen', get: (e) => when(e.last_seen) },
            { label: 'latest example', wrap: true, get: (e) => (e.example ?? '').slice(0, 160) },
          ],
          errorCategories(d.errors),
          'No errors in this range.',
        ),
        { 'data-testid': 'errors' },
      ),
    ),
  );
  if (days.length) {
    costChart(charts[0], days);
    tokenChart(charts[1], days);
  }
}

function controls(r) {
  const go = (params) => {
    history.pushState(null, '', `/?${new URLSearchParams(params)}`);
    refresh(true);
  };
  const from = h('input', { type: 'date', 'aria-label': 'from (UTC day)', value: r.fromDay ?? '' });
  const to = h('input', { type: 'date', 'aria-label': 'to (UTC day, inclusive)', value: r.toDay ?? '' });
  return h(
    'div',
    { class: 'bar-row range', role: 'group', 'aria-label': 'range' },
    RANGES.map(([k, label]) =>
      h(
        'button',
        { type: 'button', 'aria-pressed': String(r.key === k), onclick: () => go({ range: k }) },
        label,
      ),
    ),
    h(
      'span',
      { class: 'custom' },
      from,
      '–',
      to,
      h(
        'button',
        {
          type: 'button',
          'aria-pressed': String(r.key === 'custom'),
          onclick: () => from.value && go({ from: from.value, ...(to.value ? { to: to.value } : {}) }),
        },
        'Custom',
      ),
    ),
    h('span', { class: 'status muted', id: 'status' }, status),
  );
}

let status = '';
let lastKey = '';
let inflight = false;
async function refresh(force = false) {
  if (inflight) return;
  inflight = true;
  const main = document.getElementById('main');
  const r = rangeOf(location.search);
  try {
    const d = await load(r);
    performance.mark('ocb:data');
    const key = JSON.stringify([r, d]);
    status = `live · updated ${new Date().toLocaleTimeString()}`;
    if (force || key !== lastKey) render(main, d, r);
    else document.getElementById('status').textContent = status;
    lastKey = key;
    performance.mark('ocb:ready');
    document.body.dataset.ready = 'true';
  } catch (e) {
    if (!lastKey) fail(main, e);
    else document.getElementById('status').textContent = `update failed: ${e.message}`;
  } finally {
    inflight = false;
  }
}

window.addEventListener('popstate', () => refresh(true));
setInterval(() => document.visibilityState === 'visible' && refresh(), POLL_MS);
refresh(true);
