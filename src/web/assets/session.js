// `/sessions/:id`: a session (GET /api/sessions/{id}) and each exchange's trace as a waterfall
// (GET /api/sessions/{id}/trace?attributes=true): one bar per span, nested by parent_span_id.
import { api, fail, h, ms, num, short, tokensOf, traceLinks, usd, usdFine, when } from './common.js';

const id = decodeURIComponent(location.pathname.split('/')[2] ?? '');

/** Spans as a tree: children by parent, each list in time order (as the API sorts them). */
function tree(spans) {
  const kids = new Map();
  for (const s of spans) {
    const k = s.parent_span_id ?? '';
    if (!kids.has(k)) kids.set(k, []);
    kids.get(k).push(s);
  }
  return kids;
}

/** A failed span: an error status, or (below the exchange) an error category. */
const failed = (s) => {
  const a = s.attributes ?? {};
  return a.status === 'error' || (s.kind !== 'exchange' && Boolean(a.error_category));
};

function spanMeta(s) {
  const a = s.attributes ?? {};
  const parts = [ms(s.duration_ms)];
  const tokens = tokensOf(a);
  if (tokens > 0) parts.push(`${short(tokens)} tok`);
  if (a.cost_usd || a.computed_cost_usd) parts.push(usdFine(a.cost_usd || a.computed_cost_usd));
  if (a.error_category) parts.push(a.error_category);
  return parts.join(' · ');
}

function spanTitle(s) {
  const a = s.attributes ?? {};
  const lines = [`${s.kind}: ${s.name}`, `${s.started_at} → ${s.ended_at} (${ms(s.duration_ms)})`];
  for (const k of [
    'input_tokens',
    'output_tokens',
    'reasoning_tokens',
    'cache_read_tokens',
    'cache_write_tokens',
  ])
    if (a[k]) lines.push(`${k}: ${num(a[k])}`);
  if (a.cost_usd !== undefined && a.cost_usd !== null) lines.push(`cost: ${usdFine(a.cost_usd)}`);
  if (a.computed_cost_usd !== undefined && a.computed_cost_usd !== null)
    lines.push(`computed cost: ${usdFine(a.computed_cost_usd)}`);
  if (a.error_category)
    lines.push(
      `error: ${a.error_category}${a.error_message ? ` — ${String(a.error_message).slice(0, 200)}` : ''}`,
    );
  if (s.clamped) lines.push('times clamped into the parent span');
  return lines.join('\n');
}

/** The rows of one waterfall: `root` and its descendants, depth-first; bar positions relative to `root`. */
function waterfall(root, kids, level0 = 0) {
  const t0 = Date.parse(root.started_at);
  const span = Math.max(1, Date.parse(root.ended_at) - t0);
  const rows = [];
  const walk = (s, level) => {
    const a = s.attributes ?? {};
    const left = ((Date.parse(s.started_at) - t0) / span) * 100;
    const width = Math.max(0, ((Date.parse(s.ended_at) - Date.parse(s.started_at)) / span) * 100);
    const bad = failed(s);
    const child =
      a.child_session_id && s.kind === 'subagent'
        ? h(
            'a',
            {
              href: `/sessions/${encodeURIComponent(a.child_session_id)}`,
              title: 'open the sub-agent session',
            },
            ' ↗',
          )
        : null;
    rows.push(
      h(
        'div',
        {
          class: `row${bad ? ' failed' : ''}`,
          'data-span-id': s.span_id,
          'data-parent-span-id': s.parent_span_id ?? '',
          'data-level': level,
          'data-kind': s.kind,
          title: spanTitle(s),
        },
        h(
          'div',
          { class: 'name', style: `padding-left:${0.3 + Math.max(0, level - 1) * 0.8}rem` },
          s.name,
          child,
        ),
        h(
          'div',
          { class: 'track' },
          h('div', {
            class: `span k-${s.kind}${bad ? ' failed' : ''}`,
            style: `left:${left.toFixed(3)}%;width:${width.toFixed(3)}%`,
          }),
        ),
        h('div', { class: 'meta' }, spanMeta(s)),
      ),
    );
    for (const c of kids.get(s.span_id) ?? []) walk(c, level + 1);
  };
  walk(root, level0);
  return h('div', { class: 'wf', role: 'table', 'aria-label': `trace of ${root.name}` }, rows);
}

function fact(label, value) {
  return h('div', {}, h('span', {}, label), value);
}

function render(main, s, spans) {
  const kids = tree(spans);
  const root = (kids.get('') ?? [])[0];
  const byExchange = new Map(s.exchanges.map((e) => [e.exchange_id, e]));
  const exchangeSpans = root ? (kids.get(root.span_id) ?? []) : [];
  main.replaceChildren(
    h(
      'div',
      {},
      h('h1', {}, s.title || s.session_id),
      h(
        'div',
        { class: 'muted' },
        s.session_id,
        s.parent_session_id
          ? [
              ' · sub-agent of ',
              h('a', { href: `/sessions/${encodeURIComponent(s.parent_session_id)}` }, s.parent_session_id),
            ]
          : null,
      ),
      h(
        'div',
        { class: 'facts', 'data-testid': 'session-facts' },
        fact('project', s.project ?? '—'),
        fact('agent', s.agent ?? '—'),
        fact('model', s.model_id ? `${s.provider_id ?? ''}/${s.model_id}` : '—'),
        fact('started', when(s.started_at)),
        fact('duration', ms(s.duration_ms)),
        fact('exchanges', h('b', { 'data-testid': 'exchange-count' }, num(s.exchange_count))),
        fact('tokens', h('b', { 'data-testid': 'session-tokens' }, num(tokensOf(s)))),
        fact('cost', h('b', { 'data-testid': 'session-cost' }, usd(s.cost_usd))),
        fact('computed', h('b', { 'data-testid': 'session-computed-cost' }, usd(s.computed_cost_usd))),
        fact('with sub-agents', usd(s.total_cost_usd)),
        fact('tool calls', h('b', { 'data-testid': 'session-tool-calls' }, num(s.tool_call_count))),
        fact('errors', num(s.error_count)),
      ),
      s.children.length
        ? h(
            'p',
            {},
            'Sub-agent sessions: ',
            s.children.map((c, i) => [
              i ? ', ' : '',
              h('a', { href: `/sessions/${encodeURIComponent(c.session_id)}` }, c.title || c.session_id),
            ]),
          )
        : null,
      root
        ? h('section', { class: 'card exchange', 'data-testid': 'session-span' }, waterfall(root, new Map()))
        : h('p', { class: 'muted' }, 'No spans: this session has no exchanges.'),
      exchangeSpans.map((x) => {
        const e = byExchange.get(x.exchange_id) ?? {};
        return h(
          'section',
          { class: 'card exchange', 'data-exchange-id': x.exchange_id },
          h(
            'header',
            {},
            h('b', {}, `#${e.exchange_index ?? '?'} ${e.kind ?? x.name}`),
            h('span', { class: e.status === 'error' ? 'err' : 'muted' }, e.status ?? ''),
            h('span', {}, when(e.started_at)),
            h('span', {}, ms(e.duration_ms)),
            h('span', {}, e.model_id ?? ''),
            h('span', {}, `${num(tokensOf(e))} tokens`),
            h('span', {}, `${usdFine(e.cost_usd)} (computed ${usdFine(e.computed_cost_usd)})`),
            e.error_category ? h('span', { class: 'err' }, e.error_category) : null,
            traceLinks(e.trace_id).map(([label, href]) =>
              h(
                'a',
                { href, target: '_blank', rel: 'noopener noreferrer', 'data-testid': 'trace-link' },
                `open in ${label}`,
              ),
            ),
          ),
          waterfall(x, kids, 1),
        );
      }),
    ),
  );
}

async function main() {
  const main = document.getElementById('main');
  try {
    const [session, trace] = await Promise.all([
      api(`/api/sessions/${encodeURIComponent(id)}`),
      api(`/api/sessions/${encodeURIComponent(id)}/trace`, { attributes: 'true' }),
    ]);
    document.title = `OpenCode · ${session.data.title || id}`;
    performance.mark('ocb:data');
    render(main, session.data, trace.data);
    performance.mark('ocb:ready');
    document.body.dataset.ready = 'true';
  } catch (e) {
    fail(main, e);
  }
}
main();
