/**
 * Static checks of everything deploy/ and grafana/ ship: generated dashboards (up to date, valid against
 * a schema generated from @grafana/schema, stable ids), provisioning (project schemas), compose files
 * (compose-spec schema from dclint, plus cross-file facts), Prometheus rules (promtool check/test) and
 * Alertmanager (amtool), runbook anchors, metric names against docs/metrics.md.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Ajv, type ValidateFunction } from 'ajv';
import formatsModule from 'ajv-formats';
import { createGenerator } from 'ts-json-schema-generator';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderDashboards, renderImportable } from '../grafana/src/index.ts';
import { allPanels, DASHBOARD_DIR, loadDashboards, panelQueries } from './support/dashboards.ts';

const exec = promisify(execFile);
const REPO = join(import.meta.dirname, '..');
const DEPLOY = join(REPO, 'deploy');
const PROVISIONING = join(REPO, 'grafana', 'provisioning');
const SCHEMAS = join(REPO, 'grafana', 'schema');
const COMPOSE_FILES = ['docker-compose.yml', 'docker-compose.team.yml'];
/** Grafana's data-link variable */
const VALUE_RAW = ['$', '{__value.raw}'].join('');

const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8'));
const readYaml = (p: string) => parse(readFileSync(p, 'utf8'), { merge: true });

function ajv(): Ajv {
  const a = new Ajv({ allErrors: true, strict: false });
  // ajv-formats is CommonJS: under NodeNext its default import is the module object
  const mod = formatsModule as unknown as { default?: (a: Ajv) => Ajv };
  const addFormats = mod.default ?? (formatsModule as unknown as (a: Ajv) => Ajv);
  addFormats(a);
  return a;
}

const errorsOf = (v: ValidateFunction) => (v.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);

// ───────────────────────────── dashboards ─────────────────────────────
describe('dashboards', () => {
  const dashboards = loadDashboards();
  const validate = ajv().compile(readJson(join(SCHEMAS, 'dashboard.schema.json')));

  it('the committed JSON is what grafana/src generates (npm run dashboards:build)', () => {
    const generated = renderDashboards();
    expect(readdirSync(DASHBOARD_DIR).sort()).toEqual(Object.keys(generated).sort());
    for (const [file, json] of Object.entries(generated)) {
      expect(readFileSync(join(DASHBOARD_DIR, file), 'utf8'), file).toBe(json);
    }
  });

  it('the committed schema is the one generated from @grafana/schema (npm run dashboards:schema)', () => {
    const fresh = createGenerator({
      path: join(REPO, 'node_modules/@grafana/schema/dist/types/raw/dashboard/x/types.gen.d.ts'),
      type: 'Dashboard',
      skipTypeCheck: true,
    }).createSchema('Dashboard');
    expect(readJson(join(SCHEMAS, 'dashboard.schema.json'))).toEqual(JSON.parse(JSON.stringify(fresh)));
  }, 30_000);

  it("grafana/import/*.json: the same dashboards for Grafana's import flow, datasources as __inputs", () => {
    const dir = join(REPO, 'grafana', 'import');
    const generated = renderImportable();
    expect(readdirSync(dir).sort()).toEqual(Object.keys(generated).sort());
    for (const [file, json] of Object.entries(generated)) {
      expect(readFileSync(join(dir, file), 'utf8'), file).toBe(json);
      const { __inputs, __requires, ...d } = JSON.parse(json) as Record<string, unknown> & {
        __inputs: { name: string; type: string }[];
      };
      expect(__requires, file).toBeDefined();
      expect(validate(d), `${file}: ${errorsOf(validate).join('; ')}`).toBe(true);
      // no provisioned UID is left, every ${DS_…} is declared, and otherwise it is the provisioned one
      expect(json, file).not.toMatch(/ocbridge-(prometheus|api|tempo|jaeger)\b/);
      const used = new Set([...json.matchAll(/\$\{(DS_\w+)\}/g)].map((m) => m[1]));
      expect([...used].sort(), file).toEqual(__inputs.map((i) => i.name).sort());
      expect(__inputs.every((i) => i.type === 'datasource')).toBe(true);
      let back = JSON.stringify(d);
      for (const [name, uid] of [
        ['DS_PROMETHEUS', 'ocbridge-prometheus'],
        ['DS_OCBRIDGE_API', 'ocbridge-api'],
        ['DS_TEMPO', 'ocbridge-tempo'],
        ['DS_JAEGER', 'ocbridge-jaeger'],
      ] as const)
        back = back.replaceAll(`\${${name}}`, uid);
      expect(JSON.parse(back), file).toEqual(dashboards[file]);
    }
  });

  it('are valid against the (strict) dashboard schema', () => {
    expect(Object.keys(dashboards).length).toBeGreaterThanOrEqual(4);
    for (const [file, d] of Object.entries(dashboards)) {
      expect(validate(d), `${file}: ${errorsOf(validate).join('; ')}`).toBe(true);
    }
  });

  it('the schema rejects a broken dashboard', () => {
    const first = Object.values(dashboards)[0] as unknown as Record<string, unknown>;
    const noVersion = structuredClone(first);
    delete noVersion.schemaVersion;
    expect(validate(noVersion)).toBe(false);
    expect(errorsOf(validate).join('\n')).toMatch(/schemaVersion/);
    const badGrid = structuredClone(first) as { panels: { gridPos: { w: unknown } }[] };
    badGrid.panels[1]!.gridPos.w = '12';
    expect(validate(badGrid)).toBe(false);
    expect(errorsOf(validate).join('\n')).toMatch(/\/panels\/1/);
  });

  it('have stable uids, explicit unique panel ids and refIds', () => {
    const uids = new Set<string>();
    for (const [file, d] of Object.entries(dashboards)) {
      expect(d.uid, file).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
      expect(uids.has(d.uid), file).toBe(false);
      uids.add(d.uid);
      const ids = allPanels(d).map((p) => p.id);
      expect(
        ids.every((id) => typeof id === 'number' && id > 0),
        `${file}: ${ids}`,
      ).toBe(true);
      expect(new Set(ids).size, file).toBe(ids.length);
      for (const p of allPanels(d)) {
        const refs = (p.targets ?? []).map((t) => t.refId);
        expect(
          refs.every((r) => typeof r === 'string' && r.length > 0),
          `${file} #${p.id}`,
        ).toBe(true);
        expect(new Set(refs).size, `${file} #${p.id}`).toBe(refs.length);
      }
    }
  });

  it('cover usage and cost, tools, errors and bridge health, with Prometheus and Infinity panels', () => {
    const titles = Object.values(dashboards).map((d) => d.title);
    for (const t of ['Usage and cost', 'Tools and performance', 'Errors', 'Bridge health'])
      expect(
        titles.some((x) => x.includes(t)),
        t,
      ).toBe(true);
    const types = new Set(panelQueries().map((q) => q.datasource.type));
    expect([...types].sort()).toEqual(['prometheus', 'tempo', 'yesoreyeram-infinity-datasource']);
  });

  it('have the project, model, agent and provider variables (the health dashboard needs none), and bridge_url where a trace table links to the bridge', () => {
    for (const [file, d] of Object.entries(dashboards)) {
      if (file === 'bridge-health.json') continue;
      const names = d.templating?.list?.map((v) => v.name) ?? [];
      expect(names.slice(0, 4), file).toEqual(['project', 'model', 'agent', 'provider']);
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax
      const linksBridge = JSON.stringify(d).includes('${bridge_url}/sessions/');
      expect(names.slice(4), file).toEqual(linksBridge ? ['bridge_url'] : []);
    }
  });

  it('link every trace_id column to Tempo, Jaeger and the session on the bridge', () => {
    let tables = 0;
    for (const d of Object.values(dashboards)) {
      for (const p of allPanels(d) as (ReturnType<typeof allPanels>[number] & {
        fieldConfig?: {
          overrides?: {
            matcher: { options: string };
            properties: { id: string; value: { url: string }[] }[];
          }[];
        };
      })[]) {
        const cols = (p.targets ?? []).flatMap(
          (t) => (t.columns as { selector: string }[] | undefined) ?? [],
        );
        if (!cols.some((c) => c.selector === 'trace_id')) continue;
        tables += 1;
        const o = p.fieldConfig?.overrides?.find((x) => x.matcher.options === 'trace_id');
        const urls =
          o?.properties.find((x) => x.id === 'links')?.value.map((l) => decodeURIComponent(l.url)) ?? [];
        expect(
          urls.some((u) => u.includes('"ocbridge-tempo"') && u.includes(VALUE_RAW)),
          p.title,
        ).toBe(true);
        expect(
          urls.some((u) => u.includes('"ocbridge-jaeger"') && u.includes(VALUE_RAW)),
          p.title,
        ).toBe(true);
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax
        expect(urls, p.title).toContain('${bridge_url}/sessions/${__data.fields.session_id}');
        expect(
          cols.map((c) => c.selector),
          p.title,
        ).toContain('session_id');
      }
    }
    expect(tables).toBeGreaterThanOrEqual(2);
  });

  it('use only datasource UIDs that provisioning defines', () => {
    const provisioned = new Set(
      (readYaml(join(PROVISIONING, 'datasources', 'datasources.yml')).datasources as { uid: string }[]).map(
        (d) => d.uid,
      ),
    );
    const used = new Set<string>();
    for (const d of Object.values(dashboards)) {
      for (const v of d.templating?.list ?? []) if (v.datasource?.uid) used.add(v.datasource.uid);
      for (const p of allPanels(d)) if (p.datasource?.uid) used.add(p.datasource.uid);
    }
    for (const q of panelQueries()) if (q.datasource.uid) used.add(q.datasource.uid);
    expect(used.size).toBeGreaterThanOrEqual(3);
    for (const uid of used) expect(provisioned.has(uid), uid).toBe(true);
  });

  it('use only metric names from docs/metrics.md (plus up and target_info)', () => {
    const doc = readFileSync(join(REPO, 'docs', 'metrics.md'), 'utf8');
    const known = new Set([...doc.matchAll(/`((?:opencode|gen_ai)_[a-z_]+)`/g)].map((m) => m[1]));
    const exprs = panelQueries()
      .map((q) => q.target.expr)
      .filter((e): e is string => typeof e === 'string');
    const rules = readYaml(join(DEPLOY, 'prometheus', 'rules', 'opencode-alerts.yml')).groups.flatMap(
      (g: { rules: { expr: string }[] }) => g.rules.map((r) => r.expr),
    );
    for (const e of [...exprs, ...rules]) {
      for (const [name] of e.matchAll(/\b(?:opencode|gen_ai)_[a-z_]+\b/g)) {
        const base = name.replace(/_(bucket|sum|count)$/, '');
        expect(known.has(base) || known.has(name), `${name} in ${e}`).toBe(true);
      }
    }
  });
});

// ───────────────────────────── provisioning ─────────────────────────────
describe('grafana provisioning', () => {
  const schemaFor = (kind: string) =>
    ajv().compile(readJson(join(SCHEMAS, `provisioning-${kind}.schema.json`)));

  for (const kind of ['datasources', 'dashboards', 'alerting']) {
    it(`${kind}/*.yml match the project schema`, () => {
      const v = schemaFor(kind);
      const files = readdirSync(join(PROVISIONING, kind)).filter((f) => f.endsWith('.yml'));
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) {
        const doc = readYaml(join(PROVISIONING, kind, f));
        expect(v(doc), `${kind}/${f}: ${errorsOf(v).join('; ')}`).toBe(true);
      }
    });
  }

  it('the schemas reject bad files', () => {
    const ds = schemaFor('datasources');
    expect(
      ds({
        apiVersion: 1,
        datasources: [
          { name: 'x', type: 'prometheus', uid: 'x', access: 'server', url: 'http://x', isDefault: 'yes' },
        ],
      }),
    ).toBe(false);
    expect(errorsOf(ds).join('\n')).toMatch(/access/);
    const alerting = schemaFor('alerting');
    const literal = {
      apiVersion: 1,
      contactPoints: [
        {
          orgId: 1,
          name: 's',
          receivers: [
            { uid: 's', type: 'slack', settings: { url: 'https://hooks.slack.com/services/T/B/X' } },
          ],
        },
      ],
    };
    expect(alerting(literal), 'a literal webhook URL must be refused').toBe(false);
  });

  it('provisions Prometheus, Tempo, Jaeger and the Infinity API datasource with fixed UIDs', () => {
    const ds = readYaml(join(PROVISIONING, 'datasources', 'datasources.yml')).datasources as {
      uid: string;
      type: string;
      url: string;
    }[];
    const byType = Object.fromEntries(ds.map((d) => [d.type, d]));
    expect(byType.prometheus?.uid).toBe('ocbridge-prometheus');
    expect(byType.tempo?.uid).toBe('ocbridge-tempo');
    expect(byType.jaeger?.uid).toBe('ocbridge-jaeger');
    expect(byType['yesoreyeram-infinity-datasource']).toMatchObject({
      uid: 'ocbridge-api',
      url: 'http://bridge:9464',
    });
  });
});

// ───────────────────────────── compose ─────────────────────────────
type Service = {
  image?: string;
  build?: unknown;
  command?: string[];
  ports?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  secrets?: string[];
};
type Compose = {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { file: string }>;
};

/** `${VAR:-default}` → default (recursively), `${VAR}` → undefined */
function envDefault(s: string): string | undefined {
  const m = /^\$\{\w+:-(.*)\}(.*)$/.exec(s);
  if (m) {
    const inner = envDefault(m[1]!);
    return inner === undefined ? undefined : inner + m[2];
  }
  return s.includes('${') ? undefined : s;
}

describe.each(COMPOSE_FILES)('deploy/%s', (file) => {
  const path = join(DEPLOY, file);
  const compose = readYaml(path) as Compose;
  const schema = readJson(join(REPO, 'node_modules', 'dclint', 'schemas', 'compose.schema.json'));
  delete schema.$schema;
  const validate = ajv().compile(schema);

  it('is valid against the compose-spec schema', () => {
    expect(validate(compose), errorsOf(validate).join('; ')).toBe(true);
    const broken = structuredClone(compose) as unknown as {
      services: Record<string, Record<string, unknown>>;
    };
    broken.services.grafana!.portz = ['3000:3000'];
    expect(validate(broken)).toBe(false);
  });

  it('pins every image tag', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      expect(s.image, name).toMatch(/^[\w./-]+:[\w.-]+$/);
      expect(s.image, name).not.toMatch(/:latest$/);
    }
  });

  it('binds every port to 127.0.0.1', () => {
    for (const [name, s] of Object.entries(compose.services))
      for (const p of s.ports ?? []) expect(p, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
  });

  it('mounts only paths that exist in the repo, and only declared named volumes', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const v of s.volumes ?? []) {
        const [src] = v.split(/:(?=\/)/);
        const host = envDefault(src!);
        if (src!.startsWith('${') && (host === undefined || !host.startsWith('.'))) continue; // the user's OpenCode dir
        if (host!.startsWith('.') || host!.startsWith('/')) {
          expect(existsSync(resolve(dirname(path), host!)), `${name}: ${v}`).toBe(true);
        } else {
          expect(compose.volumes ?? {}, `${name}: ${v}`).toHaveProperty(host!);
        }
      }
    }
  });

  it('mounts the OpenCode data dir read-only and runs `ocbridge run --host 0.0.0.0`', () => {
    const bridges = Object.entries(compose.services).filter(([, s]) => s.build);
    expect(bridges.length).toBeGreaterThanOrEqual(file.includes('team') ? 2 : 1);
    for (const [name, s] of bridges) {
      expect(
        s.volumes?.some((v) => v.endsWith(':/opencode:ro')),
        name,
      ).toBe(true);
      expect(s.command?.slice(0, 3), name).toEqual(['run', '--host', '0.0.0.0']);
      expect(s.environment?.OTEL_EXPORTER_OTLP_ENDPOINT, name).toBe('http://otel-collector:4318');
    }
    expect(existsSync(join(REPO, 'Dockerfile'))).toBe(true);
  });

  it('gives Grafana the Infinity plugin, the provisioning and the dashboards at the provider path', () => {
    const g = compose.services.grafana!;
    expect(g.environment?.GF_INSTALL_PLUGINS).toMatch(/^yesoreyeram-infinity-datasource \d+\.\d+\.\d+$/);
    expect(g.volumes).toContain('../grafana/provisioning:/etc/grafana/provisioning:ro');
    const providers = readYaml(join(PROVISIONING, 'dashboards', 'dashboards.yml')).providers as {
      options: { path: string };
    }[];
    const mount = g.volumes?.find((v) => v.startsWith('../grafana/dashboards:'));
    expect(mount?.split(':')[1]).toBe(providers[0]!.options.path);
    const home = g.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH ?? '';
    expect(existsSync(join(DASHBOARD_DIR, home.replace(`${providers[0]!.options.path}/`, '')))).toBe(true);
  });

  it('has the collector, Tempo, Jaeger, Prometheus and Alertmanager, configs mounted from deploy/', () => {
    for (const s of ['otel-collector', 'tempo', 'jaeger', 'prometheus', 'alertmanager', 'grafana'])
      expect(compose.services, s).toHaveProperty(s);
    expect(compose.services.prometheus!.volumes).toContain('./prometheus/rules:/etc/prometheus/rules:ro');
  });

  it('reads the Slack webhook from a git-ignored secret file, never from the repo', async () => {
    expect(compose.secrets?.slack_webhook_url?.file).toBe('./secrets/slack_webhook_url');
    expect(compose.services.alertmanager!.secrets).toContain('slack_webhook_url');
    const { stdout } = await exec('git', ['check-ignore', 'deploy/secrets/slack_webhook_url'], { cwd: REPO });
    expect(stdout.trim()).toBe('deploy/secrets/slack_webhook_url');
  });
});

it('the team Prometheus scrapes every bridge of the team compose file', () => {
  const compose = readYaml(join(DEPLOY, 'docker-compose.team.yml')) as Compose;
  const bridges = Object.entries(compose.services)
    .filter(([, s]) => s.build)
    .map(([name]) => `${name}:9464`);
  const targets = (
    readYaml(join(DEPLOY, 'prometheus', 'team-targets.yml')) as { targets: string[] }[]
  ).flatMap((t) => t.targets);
  expect(targets.sort()).toEqual(bridges.sort());
});

it('no Slack webhook URL is committed anywhere in deploy/ or grafana/', async () => {
  const { stdout } = await exec('git', ['ls-files', 'deploy', 'grafana', 'Dockerfile'], { cwd: REPO });
  for (const f of stdout.trim().split('\n')) {
    if (!existsSync(join(REPO, f))) continue;
    expect(readFileSync(join(REPO, f), 'utf8'), f).not.toMatch(/hooks\.slack\.com\/services\/T[A-Z0-9]+\/B/);
  }
});

// ───────────────────────────── Prometheus / Alertmanager ─────────────────────────────
describe('prometheus and alertmanager config', () => {
  const promDir = join(DEPLOY, 'prometheus');

  it.each(['prometheus.yml', 'prometheus.team.yml'])('promtool check config %s', async (f) => {
    const { stdout } = await exec('promtool', ['check', 'config', join(promDir, f)]);
    expect(stdout).toContain('SUCCESS');
  });

  it('promtool check rules', async () => {
    const files = readdirSync(join(promDir, 'rules')).map((f) => join(promDir, 'rules', f));
    const { stdout } = await exec('promtool', ['check', 'rules', ...files]);
    expect(stdout).toMatch(/SUCCESS: 14 rules found/);
  });

  it('promtool test rules: every alert fires and stays quiet at the right values', async () => {
    const { stdout } = await exec('promtool', [
      'test',
      'rules',
      join(promDir, 'tests', 'opencode-alerts.test.yml'),
    ]);
    expect(stdout).toContain('SUCCESS');
  });

  it('the unit tests fail when a threshold changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ocbridge-rules-'));
    try {
      cpSync(promDir, dir, { recursive: true });
      const f = join(dir, 'rules', 'opencode-alerts.yml');
      writeFileSync(f, readFileSync(f, 'utf8').replace('> 120', '> 1200'));
      const err = await exec('promtool', [
        'test',
        'rules',
        join(dir, 'tests', 'opencode-alerts.test.yml'),
      ]).catch((e: { stdout: string; stderr: string; code: number }) => e);
      expect('code' in err && err.code).toBe(1);
      const e = err as { stdout: string; stderr: string };
      expect(e.stdout + e.stderr).toMatch(/FAILED[\s\S]*OpencodeToolLatencyHigh/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every alert has a firing and a quiet unit test, and a runbook anchor in docs/runbooks.md', () => {
    const rules = readYaml(join(promDir, 'rules', 'opencode-alerts.yml')).groups.flatMap(
      (g: { rules: { alert: string; annotations: Record<string, string> }[] }) => g.rules,
    ) as { alert: string; annotations: Record<string, string> }[];
    const tests = readYaml(join(promDir, 'tests', 'opencode-alerts.test.yml')).tests.flatMap(
      (t: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }) => t.alert_rule_test,
    ) as { alertname: string; exp_alerts: unknown[] }[];
    const runbooks = readFileSync(join(REPO, 'docs', 'runbooks.md'), 'utf8');
    const anchors = new Set(
      [...runbooks.matchAll(/^#+ (.+)$/gm)].map((m) =>
        m[1]!
          .trim()
          .toLowerCase()
          .replace(/[^\w\- ]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    for (const r of rules) {
      const mine = tests.filter((t) => t.alertname === r.alert);
      expect(
        mine.some((t) => t.exp_alerts.length > 0),
        `${r.alert} fires`,
      ).toBe(true);
      expect(
        mine.some((t) => t.exp_alerts.length === 0),
        `${r.alert} stays quiet`,
      ).toBe(true);
      const url = r.annotations.runbook_url ?? '';
      expect(url, r.alert).toMatch(/^docs\/runbooks\.md#/);
      expect(anchors.has(url.split('#')[1]!), `${r.alert}: ${url}`).toBe(true);
    }
  });

  it('amtool check-config alertmanager.yml (Slack via api_url_file)', async () => {
    const f = join(DEPLOY, 'alertmanager', 'alertmanager.yml');
    const { stdout } = await exec('amtool', ['check-config', f]);
    expect(stdout).toContain('SUCCESS');
    const cfg = readYaml(f) as { receivers: { slack_configs?: Record<string, string>[] }[] };
    const slack = cfg.receivers.flatMap((r) => r.slack_configs ?? []);
    expect(slack.length).toBeGreaterThan(0);
    for (const s of slack) {
      expect(s.api_url_file).toBe('/run/secrets/slack_webhook_url');
      expect(s).not.toHaveProperty('api_url');
    }
  });
});
