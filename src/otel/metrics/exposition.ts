/**
 * `/metrics` text: the exporter's serializer (Prometheus text 0.0.4), and OpenMetrics 1.0 when the
 * scraper's Accept header asks for it. The serializer writes `# UNIT` lines with OTel units (`{token}`,
 * `s`) and `# TYPE x_total counter`: fine as comments in 0.0.4 (we drop them anyway), but OpenMetrics
 * wants counter families named without `_total`, a UNIT only when it is the name's suffix, and `# EOF`.
 */

import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

const serializer = new PrometheusSerializer('', false, undefined, true, true);

/** OTel unit → the Prometheus unit word a metric name ends with. */
const UNIT_WORDS: Record<string, string> = { s: 'seconds', By: 'bytes', USD: 'usd' };

export function wantsOpenMetrics(accept: string | null | undefined): boolean {
  if (!accept) return false;
  // honour q-values: OpenMetrics when it is offered with a weight at least that of text/plain
  let om = -1;
  let text = -1;
  for (const part of accept.split(',')) {
    const [type, ...params] = part
      .trim()
      .split(';')
      .map((x) => x.trim());
    const q = Number(params.find((p) => p.startsWith('q='))?.slice(2) ?? 1);
    if (type === 'application/openmetrics-text') om = Math.max(om, q);
    else if (type === 'text/plain' || type === '*/*') text = Math.max(text, q);
  }
  return om > 0 && om >= text;
}

/** Prometheus text format 0.0.4. */
export function toPrometheusText(rm: ResourceMetrics): string {
  const out: string[] = [];
  for (const line of serializer.serialize(rm).split('\n')) {
    if (line.startsWith('# UNIT ') || line === '# no registered metrics' || line === '') continue;
    out.push(line);
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

/** OpenMetrics 1.0 text (`eof: false` leaves out `# EOF`, to append more families). */
export function toOpenMetrics(rm: ResourceMetrics, o: { eof?: boolean } = {}): string {
  const lines = serializer.serialize(rm).split('\n');
  const types = new Map<string, string>();
  for (const l of lines) {
    const m = /^# TYPE (\S+) (\S+)$/.exec(l);
    if (m?.[1] && m[2]) types.set(m[1], m[2]);
  }
  const family = (name: string) =>
    types.get(name) === 'counter' && name.endsWith('_total') ? name.slice(0, -'_total'.length) : name;
  const out: string[] = [];
  for (const l of lines) {
    if (l === '') continue;
    const meta = /^# (HELP|TYPE|UNIT) (\S+)(?: (.*))?$/.exec(l);
    if (meta) {
      const [, what, name = '', rest = ''] = meta;
      const fam = family(name);
      if (what === 'UNIT') {
        const word = UNIT_WORDS[rest] ?? rest;
        if (/^[a-z_]+$/.test(word) && fam.endsWith(`_${word}`)) out.push(`# UNIT ${fam} ${word}`);
        continue;
      }
      out.push(`# ${what} ${fam} ${rest}`.trimEnd());
      continue;
    }
    if (l.startsWith('#')) continue;
    out.push(l);
  }
  if (o.eof !== false) out.push('# EOF');
  return out.length ? `${out.join('\n')}\n` : '';
}
