/**
 * The demo's generated data passes its own health checks: every model the generator uses is priced in
 * the vendored snapshot, at the price the generator records its cost with (models.dev's), so
 * `model_priced` and `cost_agreement` pass. (`npm run demo` → `ocbridge health`: test/readme.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { loadPricingSnapshot } from '../src/domain/pricing/index.ts';
import { MODELS } from '../src/gen/catalog.ts';

describe('the generated corpus is priced like the bridge prices it', () => {
  it('each model has a snapshot row with the generator’s prices (subscriptions: the upstream model)', () => {
    const snap = loadPricingSnapshot();
    const wrong: string[] = [];
    for (const m of MODELS) {
      const provider = snap.providers[m.providerID];
      if (provider?.billing === 'subscription') continue; // priced as the upstream model
      const row = provider?.models[m.modelID];
      const want = {
        input: m.price.input,
        output: m.price.output,
        cache_read: m.price.cacheRead,
        cache_write: m.price.cacheWrite,
      };
      const got = row && {
        input: row.input,
        output: row.output,
        cache_read: row.cache_read,
        cache_write: row.cache_write,
      };
      if (JSON.stringify(got) !== JSON.stringify(want))
        wrong.push(
          `${m.providerID}/${m.modelID}: generator ${JSON.stringify(want)}, snapshot ${JSON.stringify(got)}`,
        );
    }
    expect(wrong).toEqual([]);
  });
});
