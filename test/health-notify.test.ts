import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { notifySlack, postToSlack } from '../src/cli/notify-slack.ts';
import { openStore } from '../src/store/db.ts';
import type { HealthResult } from '../src/store/health/index.ts';
import { type FakeSlack, startFakeSlack } from './support/fake-slack-scripted.ts';
import { healthyStore } from './support/health.ts';

const BIN = fileURLToPath(new URL('../bin/ocbridge.js', import.meta.url));

/** The CLI, asynchronously (the fake Slack answers from this process). */
function ocbridge(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const failing: HealthResult = {
  id: 'exchange_coverage',
  status: 'fail',
  value: 3,
  unit: 'messages',
  direction: 'max',
  threshold: { fail: 0 },
  explanation: '3 user messages have no exchange',
  ms: 1,
};
const passing: HealthResult = {
  ...failing,
  id: 'token_coverage',
  status: 'pass',
  value: 1,
  explanation: 'ok',
};

let slack: FakeSlack | undefined;
afterEach(async () => {
  await slack?.close();
  slack = undefined;
});

describe('Slack notification', () => {
  it('retries 5xx and 429 (honouring Retry-After) with a bounded number of attempts', async () => {
    slack = await startFakeSlack([500, { status: 429, retryAfter: 0 }]);
    const r = await notifySlack([failing, passing], { webhook: slack.url, backoffMs: 1 });
    expect(r).toMatchObject({ ok: true, attempts: 3, status: 200 });
    expect(slack.requests).toHaveLength(3);
    const body = slack.requests[2]?.body;
    expect(slack.requests[2]?.contentType).toBe('application/json');
    expect(body?.text).toContain('exchange_coverage');
    expect(body?.text).not.toContain('token_coverage');
  });

  it('gives up after the last attempt, and does not retry a 4xx', async () => {
    slack = await startFakeSlack([503, 503, 503, 503]);
    const r = await postToSlack({ text: 'x' }, { webhook: slack.url, attempts: 3, backoffMs: 1 });
    expect(r).toMatchObject({ ok: false, attempts: 3, status: 503 });
    expect(slack.requests).toHaveLength(3);
    await slack.close();
    slack = await startFakeSlack([404]);
    const r2 = await postToSlack({ text: 'x' }, { webhook: slack.url, attempts: 3, backoffMs: 1 });
    expect(r2).toMatchObject({ ok: false, attempts: 1, status: 404 });
  });

  it('retries when nothing listens, and sends nothing when no check fails', async () => {
    slack = await startFakeSlack();
    const url = slack.url;
    await slack.close();
    const r = await postToSlack({ text: 'x' }, { webhook: url, attempts: 2, backoffMs: 1 });
    expect(r.ok).toBe(false);
    expect(r.attempts).toBe(2);
    slack = await startFakeSlack();
    expect(await notifySlack([passing], { webhook: slack.url })).toBeNull();
    expect(slack.requests).toHaveLength(0);
  });

  it('ocbridge health --notify slack posts the failing checks end to end (loopback)', async () => {
    const { store, dir } = await healthyStore();
    await store.conn.run('UPDATE tool_calls SET execution_time_ms = NULL');
    const db = store.path;
    store.close();
    slack = await startFakeSlack([502]); // first answer fails: the CLI retries
    const r = await ocbridge([
      'health',
      '--db',
      db,
      '--source',
      dir,
      '--notify',
      'slack',
      '--slack-webhook',
      slack.url,
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain('failing checks posted to Slack');
    expect(slack.requests).toHaveLength(2);
    expect(slack.requests[1]?.path).toBe('/services/T000/B000/XXXX');
    const text = slack.requests[1]?.body.text ?? '';
    expect(text).toMatch(/ocbridge health: 1 check failing/);
    expect(text).toContain('tool_execution_time');
    expect(slack.requests[1]?.body.blocks).toHaveLength(2);

    // healthy again: nothing is posted, exit 0
    const w = await openStore(db);
    await w.conn.run("UPDATE tool_calls SET execution_time_ms = 90 WHERE status IN ('completed', 'error')");
    w.close();
    const ok = await ocbridge([
      'health',
      '--db',
      db,
      '--source',
      dir,
      '--notify',
      'slack',
      '--slack-webhook',
      slack.url,
    ]);
    expect(ok.code, ok.stdout).toBe(0);
    expect(slack.requests).toHaveLength(2);
  });
});
