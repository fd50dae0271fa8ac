// Shared by the web view's pages: DOM building, API calls (same origin only), number formats.

/** An element: h('td', { class: 'num', title: 'x' }, 'text', child, …); null/false children are skipped. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style') el.style.cssText = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Number.POSITIVE_INFINITY))
    if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** GET a documented API route; 401 → the login form (the token cookie is missing or stale). */
export async function api(path, params = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
  const r = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
  if (r.status === 401) {
    location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    throw new Error('unauthorized');
  }
  const body = await r.json();
  if (!r.ok) throw new Error(`${path}: ${r.status} ${body.detail ?? body.error ?? ''}`);
  return body;
}

const usd2 = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});
const usd4 = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 4,
  maximumFractionDigits: 4,
});
const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

/** USD to the cent ('—' when unknown). */
export const usd = (v) => (v === null || v === undefined ? '—' : usd2.format(v));
/** USD with 4 decimals below a dollar (per span / per exchange amounts). */
export const usdFine = (v) =>
  v === null || v === undefined ? '—' : Math.abs(v) < 1 ? usd4.format(v) : usd2.format(v);
export const num = (v) => (v === null || v === undefined ? '—' : int.format(v));
export const short = (v) => (v === null || v === undefined ? '—' : compact.format(v));
export const pct = (v) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)}%`);
export function ms(v) {
  if (v === null || v === undefined) return '—';
  if (v < 1000) return `${Math.round(v)} ms`;
  if (v < 60_000) return `${(v / 1000).toFixed(1)} s`;
  if (v < 3_600_000) return `${Math.floor(v / 60_000)} min ${Math.round((v % 60_000) / 1000)} s`;
  return `${(v / 3_600_000).toFixed(1)} h`;
}
export const when = (iso) =>
  iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '—';
export const tokensOf = (r) =>
  (r.input_tokens ?? 0) +
  (r.output_tokens ?? 0) +
  (r.reasoning_tokens ?? 0) +
  (r.cache_read_tokens ?? 0) +
  (r.cache_write_tokens ?? 0);

/** A table: cols = [{ label, num?, get(row) → text | Node, title?(row) }]. */
export function table(cols, rows, empty = 'Nothing in this range.') {
  if (rows.length === 0) return h('p', { class: 'muted' }, empty);
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          cols.map((c) => h('th', { class: c.num ? 'num' : c.wrap ? 'wrap' : null }, c.label)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((r) =>
          h(
            'tr',
            {},
            cols.map((c) =>
              h('td', { class: c.num ? 'num' : c.wrap ? 'wrap' : null, title: c.title?.(r) }, c.get(r)),
            ),
          ),
        ),
      ),
    ),
  );
}

/** The trace-link templates the server was started with (`--trace-url`), as [label, url] for one trace. */
export function traceLinks(traceId) {
  if (!traceId) return [];
  const meta = document.querySelector('meta[name="ocbridge-trace-links"]');
  const templates = JSON.parse(meta?.getAttribute('content') || '[]');
  return templates.map((t) => {
    const label = /jaeger|16686/i.test(t) ? 'Jaeger' : /tempo|explore/i.test(t) ? 'Tempo' : 'trace';
    return [label, t.replaceAll('{trace_id}', encodeURIComponent(traceId))];
  });
}

export function fail(main, e) {
  main.replaceChildren(h('p', { class: 'err', role: 'alert' }, `Could not load: ${e.message}`));
}
