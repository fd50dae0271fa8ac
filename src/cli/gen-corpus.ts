/**
 * npm run gen:corpus -- --sessions N --out DIR [--seed S] [--layout mixed|json|v1|v2]
 * Writes a deterministic synthetic OpenCode data dir and <out>/manifest.json.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateCorpus, LAYOUTS, type Layout, MANIFEST_FILE } from '../gen/index.ts';

const USAGE =
  'usage: npm run gen:corpus -- --sessions N --out DIR [--seed S] [--layout mixed|json|v1|v2] [--quiet]';

async function main(): Promise<number> {
  let values: {
    sessions?: string;
    out?: string;
    seed?: string;
    layout?: string;
    quiet?: boolean;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      options: {
        sessions: { type: 'string', short: 'n' },
        out: { type: 'string', short: 'o' },
        seed: { type: 'string', short: 's' },
        layout: { type: 'string', short: 'l', default: 'mixed' },
        quiet: { type: 'boolean', short: 'q', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const sessions = Number(values.sessions);
  if (!values.out || !Number.isInteger(sessions) || sessions < 1) {
    console.error(USAGE);
    return 2;
  }
  const layout = values.layout as Layout;
  if (!LAYOUTS.includes(layout)) {
    console.error(`unknown --layout ${values.layout}\n${USAGE}`);
    return 2;
  }
  const t0 = performance.now();
  let lastPct = -1;
  const m = await generateCorpus({
    out: values.out,
    sessions,
    seed: values.seed ?? '1',
    layout,
    onProgress: values.quiet
      ? undefined
      : (done, total) => {
          const pct = Math.floor((done / total) * 10);
          if (pct !== lastPct && process.stderr.isTTY) {
            lastPct = pct;
            process.stderr.write(`\r${done}/${total} sessions`);
          }
        },
  });
  if (!values.quiet && process.stderr.isTTY) process.stderr.write('\r');
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  const t = m.totals;
  console.log(
    `${m.layout} seed=${m.seed}: ${t.sessions} sessions (${t.childSessions} child), ${t.messages} messages, ${t.parts} parts, ` +
      `${t.toolCalls} tool calls, ${m.jsonFiles.count} JSON files (${(m.jsonFiles.bytes / 1e6).toFixed(1)} MB), ` +
      `cost $${t.cost.toFixed(2)} in ${s}s → manifest ${join(values.out, MANIFEST_FILE)}`,
  );
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err);
    process.exitCode = 1;
  },
);
