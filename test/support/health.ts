/** A small, healthy store for the health-check tests: one session, one exchange, a tool call, priced cost. */
import type { Store } from '../../src/store/db.ts';
import { DataDir, stepFinish, stepStart, T0, text, tool } from './analytics.ts';

/** 1000 input + 100 output tokens of claude-sonnet-4-5 at $3 / $15 per Mtok. */
export const FIXTURE_COST = 0.0045;

export async function healthyStore(): Promise<{ store: Store; dir: string }> {
  const d = new DataDir().project().session('ses_1');
  d.user('ses_1', 'msg_u1', T0);
  d.assistant(
    'ses_1',
    'msg_a1',
    'msg_u1',
    { created: T0 + 100, cost: FIXTURE_COST, tokens: { input: 1000, output: 100 } },
    [
      stepStart(),
      text(T0 + 110, T0 + 200),
      tool('read', T0 + 210, T0 + 300, { input: { filePath: '/w/proj1/a.ts' } }),
      stepFinish({ input: 1000, output: 100 }, FIXTURE_COST),
    ],
  );
  return { store: await d.ingest(), dir: d.dir };
}
