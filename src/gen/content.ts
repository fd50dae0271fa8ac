/**
 * Text content: prompts, answers, code, tool outputs. Large outputs are cut from pools that are
 * built once per corpus from the seed, so generating ~1.5 GB stays fast.
 */
import type { Rng } from './random.ts';

const IDENTS = [
  'user',
  'session',
  'config',
  'handler',
  'request',
  'response',
  'cache',
  'store',
  'event',
  'token',
  'parser',
  'router',
  'client',
  'server',
  'queue',
  'worker',
  'schema',
  'result',
  'payload',
  'options',
  'context',
  'logger',
  'metrics',
  'span',
  'buffer',
  'stream',
  'record',
  'entry',
  'index',
  'manifest',
  'project',
  'message',
  'part',
  'cursor',
  'batch',
  'retry',
  'limit',
  'timeout',
  'state',
  'snapshot',
  'diff',
  'patch',
  'file',
  'path',
];
const VERBS = [
  'get',
  'set',
  'load',
  'parse',
  'build',
  'create',
  'update',
  'delete',
  'resolve',
  'format',
  'flush',
  'read',
  'write',
  'emit',
  'handle',
  'validate',
  'normalize',
  'merge',
  'apply',
  'compute',
  'fetch',
  'sync',
];
const TYPES = [
  'string',
  'number',
  'boolean',
  'Record<string, unknown>',
  'Promise<void>',
  'Buffer',
  'Date',
  'unknown[]',
  'Map<string, number>',
  'Set<string>',
];
const WORDS = [
  'the',
  'function',
  'returns',
  'when',
  'cache',
  'is',
  'empty',
  'we',
  'should',
  'handle',
  'error',
  'case',
  'properly',
  'this',
  'test',
  'fails',
  'because',
  'value',
  'undefined',
  'after',
  'refactor',
  'module',
  'export',
  'import',
  'type',
  'check',
  'passes',
  'now',
  'build',
  'configuration',
  'migration',
  'database',
  'query',
  'index',
  'performance',
  'regression',
  'endpoint',
  'response',
  'latency',
  'timeout',
  'retry',
  'logic',
  'component',
  'render',
  'state',
  'update',
  'file',
  'directory',
  'path',
  'schema',
  'field',
  'optional',
  'required',
  'default',
  'server',
  'client',
  'request',
  'header',
  'token',
  'session',
  'user',
  'permission',
  'output',
  'input',
  'stream',
  'buffer',
  'memory',
  'leak',
  'fix',
  'add',
  'remove',
  'rename',
  'update',
  'also',
  'then',
  'and',
  'or',
  'but',
  'so',
  'it',
  'a',
  'an',
  'of',
  'to',
  'in',
  'for',
  'with',
  'on',
  'from',
  'by',
  'all',
  'each',
  'new',
  'old',
];
const DIRS = [
  'src',
  'src/lib',
  'src/server',
  'src/components',
  'src/utils',
  'src/db',
  'test',
  'packages/core/src',
  'packages/web/src',
  'scripts',
  'internal/api',
  'app',
  'lib',
  'src/routes',
  'src/hooks',
];
const EXTS = ['ts', 'ts', 'ts', 'tsx', 'js', 'py', 'go', 'rs', 'json', 'md', 'sql', 'yaml'];
const TOPICS = [
  'Fix flaky session cache test',
  'Add retry logic to webhook client',
  'Refactor config loader',
  'Migrate auth to JWT',
  'Investigate memory leak in worker',
  'Add pagination to /api/items',
  'Upgrade to React 19',
  'Speed up CI pipeline',
  'Implement dark mode toggle',
  'Write migration for orders table',
  'Debug failing e2e tests',
  'Add OpenAPI docs',
  'Port script from Python to TypeScript',
  'Set up Docker compose for dev',
  'Optimize slow SQL query',
  'Add rate limiting middleware',
  'Fix TypeScript strict errors',
  'Implement CSV export',
  'Clean up dead code',
  'Add unit tests for parser',
  'Explain the event bus',
  'Review PR feedback',
  'Fix Windows path handling',
  'Add structured logging',
  'Implement file watcher',
  'Fix race condition in queue',
  'Update dependencies',
];
const ADJ = [
  'brave',
  'calm',
  'eager',
  'gentle',
  'happy',
  'jolly',
  'kind',
  'lucky',
  'mighty',
  'nimble',
  'proud',
  'quick',
  'silent',
  'swift',
  'tidy',
  'witty',
  'bold',
  'clever',
  'fuzzy',
  'shiny',
];
const NOUN = [
  'badger',
  'comet',
  'falcon',
  'garden',
  'harbor',
  'island',
  'lagoon',
  'meadow',
  'nebula',
  'otter',
  'panda',
  'river',
  'saturn',
  'tiger',
  'voyager',
  'willow',
  'wizard',
  'canyon',
  'engine',
  'rocket',
];
const CMDS = [
  ['npm test', 'Run the test suite'],
  ['npm run build', 'Build the project'],
  ['npx tsc --noEmit', 'Type-check the project'],
  ['git status', 'Show working tree status'],
  ['git diff --stat', 'Show changed files'],
  ['git log --oneline -20', 'Show recent commits'],
  ['ls -la', 'List files'],
  ['npm install', 'Install dependencies'],
  ['pytest -x -q', 'Run Python tests'],
  ['go test ./...', 'Run Go tests'],
  ['cargo build', 'Build the crate'],
  ['docker compose up -d', 'Start services'],
  ['npx vitest run', 'Run vitest'],
  ['rg -n "TODO" src', 'Find TODOs'],
] as const;

/** A big pre-joined string with line-start offsets: slices of it are zero-copy in V8. */
class TextPool {
  readonly text: string;
  private readonly starts: Int32Array;
  /** Number of line starts from which a slice of `maxSlice` characters never runs off the end. */
  private readonly usable: number;

  constructor(
    rng: Rng,
    lines: readonly string[],
    sep: string,
    minChars: number,
    maxSlice: number,
    numbered = false,
  ) {
    const out: string[] = [];
    const starts: number[] = [];
    let n = 0;
    let k = 0;
    const order = lines.map((_, i) => i);
    while (n < minChars + maxSlice) {
      rng.shuffle(order);
      for (const i of order) {
        const l = numbered ? `${String(k + 1).padStart(5, '0')}| ${lines[i]}` : (lines[i] as string);
        starts.push(n);
        out.push(l);
        n += l.length + sep.length;
        k++;
      }
    }
    this.text = out.join(sep);
    this.starts = Int32Array.from(starts);
    let u = starts.length;
    while (u > 1 && (starts[u - 1] as number) + maxSlice > n) u--;
    this.usable = u;
  }

  /** Slice of about `chars` characters starting at line `line` (or a random line), ending at a line end. */
  slice(rng: Rng, chars: number, line?: number): string {
    const i = line ?? rng.int(0, this.usable - 1);
    const a = this.starts[Math.min(i, this.usable - 1)] as number;
    // first line start >= a + chars
    let lo = i;
    let hi = this.starts.length;
    const target = a + Math.max(1, chars);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.starts[mid] as number) < target) lo = mid + 1;
      else hi = mid;
    }
    const b = lo < this.starts.length ? (this.starts[lo] as number) - 1 : this.text.length;
    return this.text.slice(a, Math.max(a, b));
  }
}

const MAX_SLICE = 420_000;

export class ContentPools {
  readonly codeLines: string[] = [];
  readonly files: string[] = [];
  private readonly codePool: TextPool;
  private readonly logPool: TextPool;
  private readonly prosePool: TextPool;
  private readonly numbered: TextPool[] = [];

  constructor(rng: Rng) {
    const logLines: string[] = [];
    const sentences: string[] = [];
    for (let i = 0; i < 6000; i++) this.codeLines.push(codeLine(rng));
    for (let i = 0; i < 3000; i++) logLines.push(logLine(rng));
    for (let i = 0; i < 2500; i++) sentences.push(sentence(rng, 6, 22));
    for (let i = 0; i < 400; i++) {
      this.files.push(`${rng.pick(DIRS)}/${rng.pick(VERBS)}${cap(rng.pick(IDENTS))}.${rng.pick(EXTS)}`);
    }
    this.codePool = new TextPool(rng, this.codeLines, '\n', 1_000_000, MAX_SLICE);
    this.logPool = new TextPool(rng, logLines, '\n', 1_000_000, MAX_SLICE);
    this.prosePool = new TextPool(rng, sentences, ' ', 600_000, 40_000);
    for (let v = 0; v < 24; v++)
      this.numbered.push(new TextPool(rng, this.codeLines, '\n', 150_000, MAX_SLICE, true));
  }

  code(rng: Rng, bytes: number): string {
    return this.codePool.slice(rng, bytes);
  }

  /** `read` tool output: OpenCode numbers lines as 00001| ... inside <file> tags. */
  readOutput(rng: Rng, bytes: number, offset: number): string {
    const body = rng.pick(this.numbered).slice(rng, bytes, offset);
    return `<file>\n${body}\n\n(End of file - total ${Math.round(bytes / 52) + offset} lines)\n</file>`;
  }

  log(rng: Rng, bytes: number): string {
    return this.logPool.slice(rng, bytes);
  }

  prose(rng: Rng, bytes: number): string {
    return this.prosePool.slice(rng, bytes);
  }

  markdownDoc(rng: Rng, bytes: number): string {
    const parts: string[] = [`# ${rng.pick(TOPICS)}`, ''];
    let n = 0;
    while (n < bytes) {
      const para = this.prose(rng, rng.int(300, 1400));
      const block = rng.chance(0.25)
        ? `## ${cap(rng.pick(IDENTS))} ${rng.pick(IDENTS)}\n\n${para}\n\n\`\`\`ts\n${this.code(rng, rng.int(200, 900))}\n\`\`\``
        : para;
      parts.push(block, '');
      n += block.length + 2;
    }
    return parts.join('\n');
  }

  file(rng: Rng): string {
    return rng.pick(this.files);
  }

  answer(rng: Rng, bytes: number): string {
    const lines: string[] = [];
    lines.push(this.prose(rng, Math.min(bytes, rng.int(80, 400))));
    let n = lines[0]!.length;
    while (n < bytes) {
      const r = rng.next();
      let block: string;
      if (r < 0.35)
        block = `\n- ${this.prose(rng, rng.int(40, 160))}\n- ${this.prose(rng, rng.int(40, 160))}`;
      else if (r < 0.55) block = `\n\`\`\`ts\n${this.code(rng, rng.int(120, 900))}\n\`\`\``;
      else if (r < 0.65) block = `\n**${cap(rng.pick(IDENTS))}**: \`${this.file(rng)}\``;
      else block = `\n${this.prose(rng, rng.int(100, 500))}`;
      lines.push(block);
      n += block.length;
    }
    return lines.join('\n');
  }

  prompt(rng: Rng): string {
    const f = this.file(rng);
    const t = rng.pick(TOPICS);
    const forms = [
      `${t}. The relevant code is in ${f}.`,
      `Can you look at ${f}? ${this.prose(rng, rng.int(40, 300))}`,
      `${t} — ${this.prose(rng, rng.int(60, 400))}`,
      `the tests in ${f} fail with:\n\n\`\`\`\n${this.log(rng, rng.int(150, 1500))}\n\`\`\`\n\nplease fix`,
      `continue`,
      `looks good, now ${rng.pick(VERBS)} the ${rng.pick(IDENTS)} ${rng.pick(IDENTS)} too`,
      `${this.prose(rng, rng.int(100, 900))}`,
    ];
    return rng.weighted(forms.map((s, i) => [s, [18, 14, 18, 8, 6, 12, 24][i] as number] as const));
  }

  title(rng: Rng): string {
    return rng.pick(TOPICS);
  }

  slug(rng: Rng): string {
    return `${rng.pick(ADJ)}-${rng.pick(NOUN)}`;
  }

  command(rng: Rng): readonly [string, string] {
    return rng.pick(CMDS);
  }

  ident(rng: Rng): string {
    return `${rng.pick(VERBS)}${cap(rng.pick(IDENTS))}`;
  }

  topic(rng: Rng): string {
    return rng.pick(TOPICS);
  }

  unifiedDiff(rng: Rng, file: string, lines: number): string {
    const out = [
      `Index: ${file}`,
      '===================================================================',
      `--- ${file}`,
      `+++ ${file}`,
    ];
    const start = rng.int(1, 400);
    out.push(`@@ -${start},${lines} +${start},${lines + 1} @@`);
    for (let i = 0; i < lines; i++) {
      const l = rng.pick(this.codeLines);
      out.push(rng.chance(0.3) ? `-${l}` : rng.chance(0.3) ? `+${l}` : ` ${l}`);
    }
    return out.join('\n');
  }
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function sentence(rng: Rng, min: number, max: number): string {
  const n = rng.int(min, max);
  const w: string[] = [];
  for (let i = 0; i < n; i++) w.push(rng.pick(WORDS));
  if (rng.chance(0.3))
    w.splice(rng.int(1, w.length - 1), 0, `\`${rng.pick(VERBS)}${cap(rng.pick(IDENTS))}()\``);
  return `${cap(w.join(' '))}.`;
}

function codeLine(rng: Rng): string {
  const ind = '  '.repeat(rng.int(0, 3));
  const a = rng.pick(IDENTS);
  const b = rng.pick(IDENTS);
  const v = rng.pick(VERBS);
  switch (rng.int(0, 11)) {
    case 0:
      return `${ind}const ${a}${cap(b)} = await ${v}${cap(a)}(${b}, { timeout: ${rng.int(1, 60) * 100} });`;
    case 1:
      return `${ind}if (!${a}.${b}) throw new Error(\`missing ${b} for \${${a}.id}\`);`;
    case 2:
      return `${ind}export function ${v}${cap(a)}(${b}: ${rng.pick(TYPES)}): ${rng.pick(TYPES)} {`;
    case 3:
      return `${ind}}`;
    case 4:
      return `${ind}// ${sentence(rng, 4, 12)}`;
    case 5:
      return `${ind}return ${a}.${v}(${b}).filter((x) => x.${rng.pick(IDENTS)} !== undefined);`;
    case 6:
      return `${ind}import { ${v}${cap(a)} } from "./${b}";`;
    case 7:
      return '';
    case 8:
      return `${ind}${a}.${b} = ${rng.int(0, 9999)};`;
    case 9:
      return `${ind}for (const ${a} of ${b}s) {`;
    case 10:
      return `${ind}log.info("${v} ${a}", { ${b}: ${a}.${b}, ms: Date.now() - start });`;
    default:
      return `${ind}interface ${cap(a)}${cap(b)} { ${b}: ${rng.pick(TYPES)}; ${a}?: ${rng.pick(TYPES)} }`;
  }
}

function logLine(rng: Rng): string {
  const a = rng.pick(IDENTS);
  switch (rng.int(0, 8)) {
    case 0:
      return ` ✓ test/${a}.test.ts (${rng.int(1, 40)} tests) ${rng.int(3, 900)}ms`;
    case 1:
      return ` × ${a} > should ${rng.pick(VERBS)} ${rng.pick(IDENTS)} ${rng.int(1, 90)}ms`;
    case 2:
      return `src/${a}.ts(${rng.int(1, 400)},${rng.int(1, 80)}): error TS2345: Argument of type '${rng.pick(TYPES)}' is not assignable to parameter of type '${rng.pick(TYPES)}'.`;
    case 3:
      return `npm WARN deprecated ${a}@${rng.int(0, 9)}.${rng.int(0, 20)}.${rng.int(0, 9)}: this package is no longer supported`;
    case 4:
      return `${rng.hex(7)} ${sentence(rng, 3, 9)}`;
    case 5:
      return `-rw-r--r--  1 dev  staff  ${rng.int(100, 99999)} Jan ${rng.int(1, 28)} 12:${rng.int(10, 59)} ${a}.ts`;
    case 6:
      return `    at ${rng.pick(VERBS)}${cap(a)} (/home/dev/src/app/src/${a}.ts:${rng.int(1, 300)}:${rng.int(1, 60)})`;
    case 7:
      return `[${rng.int(10, 23)}:${rng.int(10, 59)}:${rng.int(10, 59)}] INFO ${a}: ${sentence(rng, 3, 10)}`;
    default:
      return `  ${a}/${rng.pick(IDENTS)}.go:${rng.int(1, 500)}: ${sentence(rng, 3, 8)}`;
  }
}
