/** What run, ingest and serve print for people, and when they print JSON instead. */
import { describe, expect, it } from 'vitest';
import { isPretty, loadProgress, palette, prettyLogStream, StatusLine, tildify } from '../src/cli/console.ts';

/** A fake terminal: collects what is written, with a width. */
function term(columns = 80, isTTY = true) {
  const out: string[] = [];
  const stream = { isTTY, columns, write: (s: string) => out.push(s) } as unknown as NodeJS.WriteStream;
  return { stream, out, text: () => out.join('') };
}

describe('console', () => {
  it('pretty on a terminal or when asked; JSON otherwise or with --log-format json', () => {
    expect(isPretty('auto', term(80, true).stream)).toBe(true);
    expect(isPretty('auto', term(80, false).stream)).toBe(false);
    expect(isPretty('json', term(80, true).stream)).toBe(false);
    expect(isPretty('pretty', term(80, false).stream)).toBe(true);
  });

  it('NO_COLOR turns colours off', () => {
    const t = term();
    const before = process.env.NO_COLOR;
    try {
      delete process.env.NO_COLOR;
      expect(palette(t.stream).red('x')).not.toBe('x');
      process.env.NO_COLOR = '1';
      expect(palette(t.stream).red('x')).toBe('x');
      expect(palette(term(80, false).stream).red('x')).toBe('x'); // not a terminal: no colours either
    } finally {
      if (before === undefined) delete process.env.NO_COLOR;
      else process.env.NO_COLOR = before;
    }
  });

  it('the history load: a bar with an estimate for known work, none for work of unknown size', async () => {
    const t = term(80);
    const line = new StatusLine(t.stream);
    const c = palette(term(80, false).stream);
    const update = loadProgress(line, c);
    update({ phase: 'json part', done: 0, total: 1000 });
    await new Promise((r) => setTimeout(r, 120));
    update({ phase: 'json part', done: 500, total: 1000 });
    await new Promise((r) => setTimeout(r, 120));
    const mid = t.text().split('\r\x1b[2K').at(-1) ?? '';
    expect(mid).toMatch(/^Loading █+░+ +50% json part 500\/1,000 · \d+s · ~\d+s left$/);
    expect(mid.length).toBeLessThanOrEqual(79);
    update({ phase: 'deriving', done: 0, total: 0 });
    await new Promise((r) => setTimeout(r, 120));
    const deriving = t.text().split('\r\x1b[2K').at(-1) ?? '';
    expect(deriving).toMatch(/^Loading history: deriving the analytics model · \d+s$/);
    expect(deriving).not.toMatch(/left/);
    line.clear();
  });

  it('log records become one readable line each, printed above the status line', async () => {
    const t = term(80);
    const line = new StatusLine(t.stream);
    const c = palette(term(80, false).stream);
    line.set('Loading …', true);
    const s = prettyLogStream(line, c);
    await new Promise<void>((r) =>
      s.write(
        `${JSON.stringify({ level: 40, time: 0, pid: 1, msg: 'watch problem', message: 'gone', root: tildify('/x', '/x') })}\n`,
        () => r(),
      ),
    );
    const printed = t.text().split('\r\x1b[2K');
    expect(printed.some((p) => /^\d\d:\d\d:\d\d warn watch problem {2}message=gone root=~\n$/.test(p))).toBe(
      true,
    );
    expect(printed.at(-1)).toBe('Loading …'); // the status line is drawn again below it
  });
});
