/**
 * Posts failing health checks to a Slack incoming webhook (for cron users without Prometheus).
 * Bounded retry: network errors, 429 (honouring Retry-After, capped) and 5xx are retried with
 * exponential backoff; other 4xx (bad webhook URL, revoked token) fail at once.
 */
import type { HealthResult } from '../store/health/index.ts';

export interface SlackOptions {
  webhook: string;
  /** attempts in all (default 4) */
  attempts?: number;
  /** first backoff (default 500 ms), doubled each retry */
  backoffMs?: number;
  /** longest wait between attempts, also the cap on Retry-After (default 10 s) */
  maxBackoffMs?: number;
  /** per request (default 10 s) */
  timeoutMs?: number;
  /** where the check ran (host name, store path) */
  origin?: string;
}

export interface SlackResult {
  ok: boolean;
  attempts: number;
  status?: number;
  error?: string;
}

export function slackMessage(failing: readonly HealthResult[], origin?: string) {
  const header = `:rotating_light: ocbridge health: ${failing.length} check${failing.length === 1 ? '' : 's'} failing${origin ? ` on ${origin}` : ''}`;
  const lines = failing.map(
    (r) =>
      `• *${r.id}* = ${r.value === null ? 'n/a' : +r.value.toFixed(4)} (${r.direction === 'max' ? 'max' : 'min'} ${r.threshold.fail}): ${r.explanation}`,
  );
  return {
    text: `${header}\n${lines.join('\n')}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: header } },
      { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n').slice(0, 2900) } },
    ],
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function postToSlack(body: unknown, o: SlackOptions): Promise<SlackResult> {
  const attempts = Math.max(1, o.attempts ?? 4);
  const maxBackoff = o.maxBackoffMs ?? 10_000;
  let wait = o.backoffMs ?? 500;
  let last: SlackResult = { ok: false, attempts: 0 };
  for (let i = 1; i <= attempts; i++) {
    let retryAfterMs: number | null = null;
    try {
      const res = await fetch(o.webhook, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
      });
      const text = await res.text();
      if (res.ok) return { ok: true, attempts: i, status: res.status };
      last = { ok: false, attempts: i, status: res.status, error: `${res.status} ${text.slice(0, 200)}` };
      if (res.status !== 429 && res.status < 500) return last;
      const ra = Number(res.headers.get('retry-after'));
      if (res.status === 429 && Number.isFinite(ra) && ra >= 0) retryAfterMs = ra * 1000;
    } catch (e) {
      last = { ok: false, attempts: i, error: (e as Error).message };
    }
    if (i < attempts) {
      await sleep(Math.min(retryAfterMs ?? wait, maxBackoff));
      wait *= 2;
    }
  }
  return last;
}

/** Posts the failing checks of one run; nothing is sent when none fail. */
export async function notifySlack(
  results: readonly HealthResult[],
  o: SlackOptions,
): Promise<SlackResult | null> {
  const failing = results.filter((r) => r.status === 'fail');
  if (failing.length === 0) return null;
  return postToSlack(slackMessage(failing, o.origin), o);
}
