/**
 * GET /api/docs: a self-contained HTML page (no script, no CDN, no fetch) rendered on the server
 * from the OpenAPI document, so it also works behind a bearer token and offline.
 */
type Json = Record<string, unknown>;

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

function resolve(doc: Json, schema: unknown): Json {
  const ref = (schema as { $ref?: string } | undefined)?.$ref;
  if (!ref) return (schema ?? {}) as Json;
  const name = ref.split('/').pop() ?? '';
  return (((doc.components as Json | undefined)?.schemas as Json | undefined)?.[name] ?? {}) as Json;
}

function typeOf(doc: Json, schema: unknown): string {
  const s = resolve(doc, schema);
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (s.type === 'array') return `${typeOf(doc, s.items)}[]`;
  const t = Array.isArray(s.type) ? s.type.join(' | ') : String(s.type ?? 'object');
  return `${t}${s.format ? ` (${s.format})` : ''}${s.nullable ? ' | null' : ''}`;
}

function fields(doc: Json, schema: unknown): string {
  const s = resolve(doc, schema);
  const props = (s.properties ?? {}) as Record<string, Json>;
  const rows = Object.entries(props).map(([name, p]) => {
    const r = resolve(doc, p);
    let nested = '';
    if (r.type === 'array' && resolve(doc, r.items).properties) nested = fields(doc, r.items);
    else if (r.properties) nested = fields(doc, r);
    return `<tr><td><code>${esc(name)}</code></td><td>${esc(typeOf(doc, p))}</td><td>${esc(r.description ?? p.description ?? '')}${nested ? `<details><summary>fields</summary>${nested}</details>` : ''}</td></tr>`;
  });
  return rows.length
    ? `<table><tr><th>field</th><th>type</th><th>meaning</th></tr>${rows.join('')}</table>`
    : '';
}

export function renderDocsPage(doc: Json): string {
  const info = (doc.info ?? {}) as Json;
  const sections: string[] = [];
  const toc: string[] = [];
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Record<string, Record<string, Json>>)) {
    for (const [method, op] of Object.entries(item)) {
      const anchor = `${method}-${path}`.replace(/[^a-zA-Z0-9]+/g, '-');
      toc.push(`<li><a href="#${anchor}"><code>${esc(method.toUpperCase())} ${esc(path)}</code></a></li>`);
      const params = ((op.parameters ?? []) as Json[])
        .map(
          (p) =>
            `<tr><td><code>${esc(p.name)}</code></td><td>${esc(p.in)}${p.required ? ', required' : ''}</td><td>${esc(typeOf(doc, p.schema))}</td><td>${esc(p.description ?? '')}</td></tr>`,
        )
        .join('');
      const body = ((op.requestBody as Json | undefined)?.content as Json | undefined)?.[
        'application/json'
      ] as Json | undefined;
      const responses = Object.entries((op.responses ?? {}) as Record<string, Json>)
        .map(([code, r]) => {
          const schema = ((r.content as Json | undefined)?.['application/json'] as Json | undefined)?.schema;
          const detail = code === '200' && schema ? fields(doc, schema) : '';
          return `<li><b>${esc(code)}</b> ${esc(r.description)}${detail}</li>`;
        })
        .join('');
      sections.push(`<section id="${anchor}"><h2><span class="m">${esc(method.toUpperCase())}</span> <code>${esc(path)}</code></h2>
<p>${esc(op.summary)}</p>${op.description ? `<p>${esc(op.description)}</p>` : ''}
${params ? `<h3>Parameters</h3><table><tr><th>name</th><th>in</th><th>type</th><th>meaning</th></tr>${params}</table>` : ''}
${body ? `<h3>Body (JSON)</h3>${fields(doc, body.schema)}` : ''}
<h3>Responses</h3><ul>${responses}</ul></section>`);
    }
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(info.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}
code{font-family:ui-monospace,monospace;background:#f3f3f3;padding:0 .2em}
table{border-collapse:collapse;margin:.5rem 0;width:100%}td,th{border:1px solid #ddd;padding:.2rem .4rem;text-align:left;vertical-align:top}
section{border-top:2px solid #eee;margin-top:2rem}.m{background:#2a6;color:#fff;padding:0 .4em;border-radius:3px;font-size:.8em}
</style></head><body>
<h1>${esc(info.title)}</h1><p>${esc(info.description)}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${esc(doc.openapi)}).</p>
<ul id="toc">${toc.join('')}</ul>
${sections.join('\n')}
</body></html>`;
}
