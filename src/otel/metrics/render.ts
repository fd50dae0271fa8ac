/**
 * Fast text rendering of the usage families (thousands of series on a large store): the exporter's
 * serializer is too slow per line for a quick scrape, so the usage part of `/metrics` is
 * rendered here from pre-escaped label strings, in the same shape the serializer writes (dots → `_`,
 * the unit's word as a suffix (`s` → `_seconds`), counters get `_total`, histograms `_bucket{le}`/`_sum`/`_count`), and cached until the values change.
 */
export type Format = 'text' | 'openmetrics';

export interface RenderSeries {
  /** `a="x",b="y"` (escaped, sanitised names), or '' */
  labels: string;
  value: number | { counts: readonly number[]; sum: number };
}

export interface RenderFamily {
  name: string;
  description: string;
  unit: string;
  kind: 'counter' | 'histogram';
  boundaries?: readonly number[];
  series: Iterable<RenderSeries>;
}

const UNIT_WORDS: Record<string, string> = { s: 'seconds', By: 'bytes', USD: 'usd' };

export const promName = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, '_').replace(/_{2,}/g, '_');
const escapeValue = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

export function labelString(attributes: Record<string, unknown>): string {
  return Object.entries(attributes)
    .map(([k, v]) => `${promName(k)}="${escapeValue(String(v))}"`)
    .join(',');
}

const num = (v: number) => (v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v));

export function renderFamilies(families: Iterable<RenderFamily>, format: Format): string {
  let out = '';
  for (const f of families) {
    // the OTel → Prometheus rule: a unit with a Prometheus word (s → seconds) is a name suffix
    const word = UNIT_WORDS[f.unit];
    const named = promName(f.name);
    const base = word && !named.endsWith(`_${word}`) ? `${named}_${word}` : named;
    const sample = f.kind === 'counter' && !base.endsWith('_total') ? `${base}_total` : base;
    const meta = format === 'openmetrics' ? base : sample;
    const bounds = f.boundaries ?? [];
    const les = [...bounds.map((b) => `le="${b}"} `), 'le="+Inf"} '];
    const bucket = `${base}_bucket{`;
    let body = '';
    for (const s of f.series) {
      const l = s.labels;
      if (typeof s.value === 'number') {
        body += `${sample}${l ? `{${l}}` : ''} ${num(s.value)}\n`;
        continue;
      }
      const head = l ? `${bucket}${l},` : bucket;
      let cum = 0;
      const counts = s.value.counts;
      for (let i = 0; i < counts.length; i++) {
        cum += counts[i] ?? 0;
        body += `${head}${les[Math.min(i, les.length - 1)]}${cum}\n`;
      }
      const lb = l ? `{${l}}` : '';
      body += `${base}_sum${lb} ${num(s.value.sum)}\n${base}_count${lb} ${cum}\n`;
    }
    if (body === '') continue;
    out += `# HELP ${meta} ${escapeHelp(f.description)}\n`;
    if (format === 'openmetrics') {
      const unit = word ?? f.unit;
      if (/^[a-z_]+$/.test(unit) && meta.endsWith(`_${unit}`)) out += `# UNIT ${meta} ${unit}\n`;
    }
    out += `# TYPE ${meta} ${f.kind}\n${body}`;
  }
  return out;
}
