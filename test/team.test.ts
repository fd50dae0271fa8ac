/** Team scale-out: two bridges (different users and hosts) export to one OTLP receiver (docs/team.md). */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateCorpus } from '../src/gen/index.ts';
import { exportTraces } from '../src/otel/export.ts';
import type { Store } from '../src/store/db.ts';
import { tempDir } from './support/datadir.ts';
import { startOtlpReceiver } from './support/otlp-receiver.ts';
import { ingestInto, rows } from './support/store.ts';

const stores: Store[] = [];
afterAll(() => {
  for (const s of stores) s.close();
});

const MEMBERS = [
  {
    seed: 'alice',
    attrs: 'service.instance.id=bridge-alice,user.name=alice,host.name=alice-laptop,team=ai%20tools',
  },
  {
    seed: 'bob',
    attrs: 'service.instance.id=bridge-bob,user.name=bob,host.name=bob-desktop,team=ai%20tools',
  },
];

describe('team scale-out', () => {
  it('two bridges into one receiver: trace IDs never collide, resources tell the bridges apart', {
    timeout: 180_000,
  }, async () => {
    const receiver = await startOtlpReceiver();
    try {
      const exported: { instance: string; exchanges: number; spans: number; traceIds: Set<string> }[] = [];
      for (const m of MEMBERS) {
        const dir = join(tempDir(`ocb-team-${m.seed}-`), 'opencode');
        await generateCorpus({ out: dir, sessions: 3, seed: m.seed, layout: 'json' });
        const { store } = await ingestInto(dir);
        stores.push(store);
        const r = await exportTraces(store.conn, {
          endpoint: receiver.url,
          protocol: 'http/protobuf',
          idleTimeoutMs: 0,
          env: { OTEL_RESOURCE_ATTRIBUTES: m.attrs },
        });
        expect(r.ok, r.reason).toBe(true);
        expect(r.exchanges).toBeGreaterThan(0);
        const ids = await rows(
          store,
          "SELECT DISTINCT trace_id FROM export_ledger WHERE status = 'exported'",
        );
        exported.push({
          instance: `bridge-${m.seed}`,
          exchanges: r.exchanges,
          spans: r.spans,
          traceIds: new Set(ids.map((x) => String(x.trace_id))),
        });
      }
      const [a, b] = exported as [(typeof exported)[0], (typeof exported)[0]];
      // different data never shares a trace ID
      expect([...a.traceIds].filter((t) => b.traceIds.has(t))).toEqual([]);
      const stats = receiver.stats();
      expect(stats.duplicateSpans).toBe(0);
      expect(stats.spans).toBe(a.spans + b.spans);

      // every trace comes from exactly one bridge, and its resource says which (user, host, instance)
      const byTrace = new Map<string, Set<string>>();
      for (const s of receiver.spans) {
        const inst = String(s.resource['service.instance.id']);
        byTrace.set(s.traceId, (byTrace.get(s.traceId) ?? new Set()).add(inst));
      }
      expect([...byTrace.values()].every((set) => set.size === 1)).toBe(true);
      for (const e of exported) {
        const mine = receiver.spans.filter((s) => s.resource['service.instance.id'] === e.instance);
        expect(mine.length).toBe(e.spans);
        expect(new Set(mine.map((s) => s.traceId))).toEqual(e.traceIds);
        const who = e.instance.replace('bridge-', '');
        expect(new Set(mine.map((s) => s.resource['user.name']))).toEqual(new Set([who]));
        expect(new Set(mine.map((s) => String(s.resource['host.name']).split('-')[0]))).toEqual(
          new Set([who]),
        );
        expect(new Set(mine.map((s) => s.resource.team))).toEqual(new Set(['ai tools']));
        expect(new Set(mine.map((s) => s.resource['service.name']))).toEqual(new Set(['opencode']));
      }
    } finally {
      await receiver.close();
    }
  });
});
