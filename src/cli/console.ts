/**
 * What `run`, `ingest` and `serve` say on a terminal: a banner with the URLs, one progress line for
 * the history load, then one line per notable event. On anything else (a pipe, a file, a log
 * collector), or with `--log-format json`, the same events stay pino's JSON lines. NO_COLOR turns
 * colours off (https://no-color.org).
 */
import { homedir } from 'node:os';
import { Writable } from 'node:stream';
import pc from 'picocolors';
import type { Progress } from '../pipeline/ingestor.ts';
import { formatDuration, formatInt } from './table.ts';

export type LogFormat = 'auto' | 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['auto', 'json', 'pretty'];

/** People read stderr: pretty when it is a terminal (auto) or when asked. */
export function isPretty(format: LogFormat = 'auto', stream: NodeJS.WriteStream = process.stderr): boolean {
  return format === 'pretty' || (format === 'auto' && stream.isTTY === true);
}

export function palette(stream: NodeJS.WriteStream = process.stderr) {
  const env = process.env;
  return pc.createColors(stream.isTTY === true && !('NO_COLOR' in env && env.NO_COLOR !== ''));
}

const CLEAR = '\r\x1b[2K';

/**
 * One status line on a terminal, redrawn in place (never more than 10 times a second); log lines
 * print above it.
 */
export class StatusLine {
  private text = '';
  private last = 0;
  private pending: NodeJS.Timeout | null = null;
  private ticker: NodeJS.Timeout | null = null;
  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {}

  get width(): number {
    return this.out.columns || 80;
  }

  set(text: string, force = false): void {
    this.text = text;
    const wait = 100 - (performance.now() - this.last);
    if (!force && wait > 0) {
      // the newest text is drawn when the wait is over, so a last update is never lost
      this.pending ??= setTimeout(() => {
        this.pending = null;
        if (this.text) this.set(this.text, true);
      }, wait).unref();
      return;
    }
    this.last = performance.now();
    const w = this.width;
    this.out.write(`${CLEAR}${text.length > w - 1 ? `${text.slice(0, w - 2)}…` : text}`);
  }

  /** Prints a line above the status line. */
  print(line: string): void {
    this.out.write(`${this.text ? CLEAR : ''}${line}\n`);
    if (this.text) this.set(this.text, true);
  }

  /** Calls `fn` every `ms` until the line is cleared (a clock for work that reports no progress). */
  every(ms: number, fn: () => void): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = setInterval(fn, ms).unref();
  }

  clear(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
    if (this.pending) clearTimeout(this.pending);
    this.pending = null;
    if (this.text) this.out.write(CLEAR);
    this.text = '';
  }
}

const PHASES: Record<string, string> = { deriving: 'deriving the analytics model' };

/**
 * The history load as one line: the phase, a bar and a remaining time estimated from the phase's own
 * rate when its size is known (JSON files); otherwise the rows read and the time elapsed. The
 * estimate is never shown for work of unknown size (the derivation), so it does not sit at "0 s left".
 */
export function loadProgress(status: StatusLine, c = palette()) {
  const t0 = performance.now();
  let phase = '';
  let phaseStart = t0;
  let latest: Progress | null = null;
  const show = (p: Progress) => {
    const now = performance.now();
    if (p.phase !== phase) {
      phase = p.phase;
      phaseStart = now;
    }
    const elapsed = formatDuration(now - t0);
    const name = PHASES[p.phase] ?? p.phase;
    if (p.total > 0) {
      const f = Math.min(1, p.done / p.total);
      const rate = p.done / Math.max(1, now - phaseStart);
      const left = p.done > 0 && f < 1 ? ` · ~${formatDuration((p.total - p.done) / rate)} left` : '';
      const text = ` ${String(Math.round(f * 100)).padStart(3)}% ${name} ${formatInt(p.done)}/${formatInt(p.total)} · ${elapsed}${left}`;
      // the bar takes what the text leaves of the line
      const width = Math.max(8, Math.min(30, status.width - 1 - 'Loading '.length - text.length - 1));
      const bar = '█'.repeat(Math.round(f * width)).padEnd(width, '░');
      status.set(`${c.cyan('Loading')} ${bar}${text}`);
    } else {
      const count = p.done > 0 ? `, ${formatInt(p.done)} rows read` : '';
      status.set(`${c.cyan('Loading history:')} ${name}${count} · ${elapsed}`);
    }
  };
  return (p: Progress) => {
    // the elapsed time keeps moving while a phase reports nothing (the derivation)
    if (latest === null) status.every(1000, () => latest && show(latest));
    latest = p;
    show(p);
  };
}

const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};
const SKIP = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'err']);

/** A pino destination that writes each record as one readable line (above the status line). */
export function prettyLogStream(status: StatusLine, c = palette()): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const text of chunk.toString('utf8').split('\n')) {
        if (!text) continue;
        let rec: Record<string, unknown>;
        try {
          rec = JSON.parse(text) as Record<string, unknown>;
        } catch {
          status.print(text);
          continue;
        }
        const level = LEVELS[Number(rec.level)] ?? 'info';
        const time = new Date(Number(rec.time) || Date.now()).toTimeString().slice(0, 8);
        const fields = Object.entries(rec)
          .filter(([k, v]) => !SKIP.has(k) && v !== undefined && v !== null)
          .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : tildify(String(v))}`)
          .join(' ');
        const err = rec.err as { message?: string } | undefined;
        const tag =
          level === 'warn'
            ? c.yellow('warn ')
            : level === 'error' || level === 'fatal'
              ? c.red(`${level} `)
              : '';
        status.print(
          `${c.dim(time)} ${tag}${String(rec.msg ?? '')}${err?.message ? `: ${err.message}` : ''}${fields ? c.dim(`  ${fields}`) : ''}`,
        );
      }
      done();
    },
  });
}

/** The banner: what runs and where to find it. */
export function banner(title: string, rows: [string, string | undefined][], c = palette()): string {
  const shown = rows.filter((r): r is [string, string] => r[1] !== undefined);
  const w = Math.max(...shown.map(([k]) => k.length));
  return [c.bold(title), ...shown.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`)].join('\n');
}

/** A path as a person writes it: the home directory as `~`. */
export function tildify(path: string, home = homedir()): string {
  return home.length > 1 && (path === home || path.startsWith(`${home}/`))
    ? `~${path.slice(home.length)}`
    : path;
}
