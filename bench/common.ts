/**
 * What the whole-process benchmarks share: the generated corpora (cached under the output folder),
 * running the bin as `npx ocbridge` runs it (its shebang line's environment and Node options), and
 * timing a child process with its peak RSS.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const node = process.execPath;

/** The bin's shebang line (`#!/usr/bin/env -S NAME=VALUE … node OPTION …`): its environment and Node options. */
const SHEBANG = (readFileSync('bin/ocbridge.js', 'utf8').split('\n')[0] ?? '').split(/\s+/);
export const BIN_NODE_OPTIONS = SHEBANG.slice(SHEBANG.indexOf('node') + 1).filter(Boolean);
export const BIN_ENV = Object.fromEntries(
  SHEBANG.slice(0, SHEBANG.indexOf('node'))
    .filter((w) => /^\w+=/.test(w))
    .map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]),
);

/** Runs this benchmark again under the bin's Node options and environment, unless it already is. */
export function reexecWithBinFlags(): void {
  if (process.env.OCBRIDGE_BENCH_BIN_FLAGS === '1') return;
  const r = spawnSync(
    process.execPath,
    [...BIN_NODE_OPTIONS, ...process.execArgv, process.argv[1] as string, ...process.argv.slice(2)],
    { stdio: 'inherit', env: { ...process.env, ...BIN_ENV, OCBRIDGE_BENCH_BIN_FLAGS: '1' } },
  );
  process.exit(r.status ?? 1);
}

export function run(args: string[], env: NodeJS.ProcessEnv = {}): { out: string; wall: number } {
  const t = performance.now();
  const out = execFileSync(node, args, {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return { out, wall: (performance.now() - t) / 1000 };
}

export interface Manifest {
  totals: Record<string, unknown> & {
    sessions: number;
    messages: number;
    parts: number;
    cost: number;
    tokens: { input: number; output: number; reasoning: number; cache_read: number; cache_write: number };
  };
  jsonFiles: { count: number; bytes: number };
}

/** The corpus of this size and seed, generated once into `<root>/corpus-<layout>-<sessions>-s<seed>`. */
export function corpus(
  root: string,
  layout: 'json' | 'v1',
  sessions: number,
  seed: string,
): { dir: string; manifest: Manifest } {
  const dir = join(root, `corpus-${layout}-${sessions}-s${seed}`);
  if (!existsSync(join(dir, 'manifest.json'))) {
    rmSync(dir, { recursive: true, force: true });
    console.error(`generating ${layout} corpus (${sessions} sessions) in ${dir} …`);
    run([
      '--import',
      'tsx',
      'src/cli/gen-corpus.ts',
      '--sessions',
      String(sessions),
      '--seed',
      seed,
      '--layout',
      layout,
      '--out',
      dir,
    ]);
  }
  return { dir, manifest: JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) };
}

/** Highest VmHWM (peak resident set, kB) of a process and its descendants, as far as /proc shows them. */
function treePeakKb(pid: number, seen: Map<number, number>): void {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    seen.set(pid, Math.max(seen.get(pid) ?? 0, hwm));
    for (const t of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/))
      if (t) treePeakKb(Number(t), seen);
  } catch {
    // gone meanwhile
  }
}

export interface Timed {
  out: string;
  wall: number;
  /** Peak RSS of the largest process of the tree (MB), sampled every 20 ms. */
  peakRssMb: number;
  code: number;
}

/** Runs a command to its end: wall time, stdout and peak RSS. */
export function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn(cmd, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const seen = new Map<number, number>();
    const sample = () => child.pid !== undefined && treePeakKb(child.pid, seen);
    const timer = setInterval(sample, 20);
    sample();
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      const wall = (performance.now() - t) / 1000;
      const text = Buffer.concat(out).toString('utf8');
      if (code !== 0) {
        reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${Buffer.concat(err).toString('utf8')}`));
        return;
      }
      resolve({
        out: text,
        wall,
        peakRssMb: Math.round(Math.max(0, ...seen.values()) / 1024),
        code: code ?? 0,
      });
    });
  });
}

/** `ocbridge serve --db STORE --port 0 …` in its own process, once it says where it listens. */
export async function serveStore(
  store: string,
  args: string[] = [],
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['bin/ocbridge.js', 'serve', '--db', store, '--port', '0', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const url = await new Promise<string>((res, rej) => {
    let buf = '';
    child.stderr?.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /"url":"([^"]+)"/.exec(buf);
      if (m?.[1]) res(m[1]);
    });
    child.once('exit', (c) => rej(new Error(`ocbridge serve exited ${c}: ${buf}`)));
  });
  return { url, child };
}
