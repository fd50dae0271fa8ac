/**
 * `ocbridge demo` (= npm run demo) [--sessions N --dir DIR --port P --host H --fresh]
 * Generates a realistic OpenCode data dir (src/gen; kept and reused in DIR, default .tmp/demo) and runs
 * `ocbridge run` against it, printing where the API and /metrics are. Ctrl-C stops both.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type Command, Option } from 'commander';
import { generateCorpus, MANIFEST_FILE } from '../gen/index.ts';
import { requirePortFree } from './preflight.ts';

const BIN = fileURLToPath(new URL('../../bin/ocbridge.js', import.meta.url));
export interface DemoOptions {
  sessions: number;
  dir: string;
  host: string;
  port: number;
  fresh: boolean;
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('generate a realistic OpenCode history and run the bridge on it (npm run demo)')
    .addOption(
      new Option('--sessions <n>', 'sessions to generate')
        .argParser((v) => Number(v))
        .default(24)
        .env('OCBRIDGE_DEMO_SESSIONS'),
    )
    .option('--dir <dir>', 'where the corpus and the store go', join('.tmp', 'demo'))
    .option('--host <host>', 'HTTP server address', '127.0.0.1')
    .option('--port <port>', 'HTTP server port (0: any free port)', (v) => Number(v), 9464)
    .option('--fresh', 'generate the corpus again', false)
    .action(async (o: DemoOptions) => {
      if (!Number.isInteger(o.sessions) || o.sessions < 1)
        throw new Error('--sessions: expected a positive integer');
      process.exitCode = await runDemo(o);
    });
}

export async function runDemo(values: DemoOptions): Promise<number> {
  const sessions = values.sessions;
  const dir = resolve(values.dir);
  const data = join(dir, 'opencode');
  const db = join(dir, 'ocbridge.duckdb');
  const manifestPath = join(data, MANIFEST_FILE);
  await requirePortFree(values.host, values.port); // before a corpus is generated for nothing
  let reuse = false;
  if (!values.fresh && existsSync(manifestPath)) {
    const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as { totals?: { sessions?: number } };
    reuse = m.totals?.sessions !== undefined && m.totals.sessions >= sessions;
  }
  if (!reuse) {
    rmSync(dir, { recursive: true, force: true });
    console.log(
      `demo: generating ${sessions} OpenCode sessions (JSON tree, opencode.db v1 and 2.x tables) in ${data} …`,
    );
    const m = await generateCorpus({ out: data, sessions, seed: 'demo', layout: 'mixed' });
    const t = m.totals;
    console.log(
      `demo: ${t.sessions} sessions (${t.childSessions} sub-agent), ${t.messages} messages, ${t.toolCalls} tool calls, recorded cost $${t.cost.toFixed(2)}`,
    );
  } else console.log(`demo: reusing the corpus in ${data} (--fresh to regenerate)`);

  const args = [
    'run',
    '--source',
    data,
    '--db',
    db,
    '--host',
    values.host,
    '--port',
    String(values.port),
    '--log-format',
    'json',
  ];
  console.log(`demo: ocbridge ${args.join(' ')}`);
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'inherit', 'pipe'] });
  let url = '';
  const lines = createInterface({ input: child.stderr });
  lines.on('line', (line) => {
    type LogLine = { msg?: string; url?: string; seconds?: number; level?: number };
    let rec: LogLine;
    try {
      rec = JSON.parse(line) as LogLine;
    } catch {
      process.stderr.write(`${line}\n`);
      return;
    }
    if (rec.msg === 'listening' && rec.url) url = rec.url;
    else if (rec.msg === 'history loaded; watching for changes') {
      console.log(
        [
          '',
          `ocbridge is running (history loaded in ${rec.seconds ?? '?'} s):`,
          `  web view   ${url}/   (overview; a session's traces at ${url}/sessions/<id>)`,
          `  API        ${url}/api/health   (the HTTP API lives under ${url}/api/)`,
          `  metrics    ${url}/metrics`,
          `  store      ${db}`,
          `             npx ocbridge report sessions --db ${db}`,
          `             npx ocbridge health --db ${db} --source ${data}`,
          `  data       ${data}  (edit or add files: they are picked up live)`,
          'Ctrl-C stops it.',
          '',
        ].join('\n'),
      );
    } else if ((rec.level ?? 0) >= 40) process.stderr.write(`${line}\n`);
  });
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((done) => child.on('exit', (code) => done(code ?? 1)));
}
