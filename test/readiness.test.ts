import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { LiveBridge } from '../src/pipeline/live-bridge.ts';
import { BridgeStatus } from '../src/pipeline/readiness.ts';

describe('BridgeStatus (what /api/health says about the live bridge)', () => {
  it('loading until ready, a data version that moves with every applied or derived batch, then stopping', () => {
    const bridge = new EventEmitter();
    const status = new BridgeStatus(bridge as unknown as LiveBridge);
    expect(status.ready).toBe(false);
    expect(status.phase).toBe('loading');
    // while loading, no version repeats (nothing may be cached)
    expect(status.dataVersion()).not.toBe(status.dataVersion());
    bridge.emit('ready', {});
    expect(status.ready).toBe(true);
    const v0 = status.dataVersion();
    expect(status.dataVersion()).toBe(v0);
    bridge.emit('applied', { files: 1, rows: 2, latencyMs: 3 });
    const v1 = status.dataVersion();
    expect(v1).not.toBe(v0);
    bridge.emit('derived', 1, new Set(['s']));
    expect(status.dataVersion()).not.toBe(v1);
    const s = status.snapshot();
    expect(s.changes_applied).toBe(1);
    expect(s.history_loaded_at).not.toBeNull();
    expect(s.last_applied_at).not.toBeNull();
    expect(s.last_derived_at).not.toBeNull();
    status.stopping();
    expect(status.ready).toBe(false);
    expect(status.snapshot().phase).toBe('stopping');
  });
});
