/**
 * Every JSON answer of a documented API route, checked against the response schema the app's own
 * OpenAPI document gives for that route, method and status (ajv, OpenAPI 3.0 `nullable` included).
 * A route under /api/ that the document does not describe, or a status it does not list, fails too.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { Ajv } from 'ajv';
import addFormatsImport from 'ajv-formats';

// ajv-formats is CommonJS: its default export is the function
const addFormats = addFormatsImport as unknown as (ajv: Ajv) => Ajv;

interface Doc {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>;
}

const compiled = new WeakMap<OpenAPIHono, { doc: Doc; ajv: Ajv }>();

function of(app: OpenAPIHono) {
  let c = compiled.get(app);
  if (!c) {
    const doc = app.getOpenAPIDocument({
      openapi: '3.0.3',
      info: { title: 'check', version: '1' },
    }) as unknown as Doc;
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema({ ...(withoutBareNullable(doc) as object), $id: 'openapi' });
    c = { doc, ajv };
    compiled.set(app, c);
  }
  return c;
}

/** `nullable` on a schema without `type` (zod's unknown().nullable()) allows anything: drop it for ajv. */
function withoutBareNullable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutBareNullable);
  if (v === null || typeof v !== 'object') return v;
  const o = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withoutBareNullable(x)]));
  if ('nullable' in o && !('type' in o)) delete o.nullable;
  return o;
}

const pointer = (s: string) => s.replaceAll('~', '~0').replaceAll('/', '~1');

/** Problems of one answer (empty: it matches its documented schema). */
export function openApiProblems(
  app: OpenAPIHono,
  method: string,
  url: string,
  status: number,
  body: unknown,
): string[] {
  const path = new URL(url, 'http://x').pathname;
  if (!path.startsWith('/api/')) return [];
  const { doc, ajv } = of(app);
  const template = Object.keys(doc.paths).find((t) =>
    new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path),
  );
  const m = method.toLowerCase();
  if (!template || !doc.paths[template]?.[m])
    return status === 404 ? [] : [`${method} ${path}: not in the OpenAPI document`]; // an unknown route
  const response = doc.paths[template]?.[m]?.responses[String(status)];
  if (!response?.content?.['application/json'])
    return [`${method} ${path}: status ${status} is not documented as JSON`];
  const validate = ajv.getSchema(
    `openapi#/paths/${pointer(template)}/${m}/responses/${status}/content/application~1json/schema`,
  );
  if (!validate) return [`${method} ${path}: no schema for ${status}`];
  return validate(body)
    ? []
    : (validate.errors ?? []).map((e) => `${method} ${path} ${status}: ${e.instancePath} ${e.message}`);
}
