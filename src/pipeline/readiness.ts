/**
 * What the live bridge says about itself: its phase, when it last applied and derived changes, and a
 * data version that changes with every applied or derived batch (the API's response cache is keyed
 * by it). Fed by the `LiveBridge`'s events; `/api/health` reports it.
 */
import type { LiveBridge } from './live-bridge.ts';

export type BridgePhase = 'loading' | 'live' | 'stopping' | 'failed';

export interface BridgeStatusSnapshot {
  phase: BridgePhase;
  started_at: string;
  history_loaded_at: string | null;
  last_applied_at: string | null;
  last_derived_at: string | null;
  changes_applied: number;
}

export class BridgeStatus {
  private readonly state: BridgeStatusSnapshot = {
    phase: 'loading',
    started_at: new Date().toISOString(),
    history_loaded_at: null,
    last_applied_at: null,
    last_derived_at: null,
    changes_applied: 0,
  };
  private version = 0;

  /** Follows `bridge`: applied and derived batches bump the data version; `ready` makes it live. */
  constructor(bridge: LiveBridge) {
    bridge.on('applied', () => {
      this.version++;
      this.state.changes_applied++;
      this.state.last_applied_at = new Date().toISOString();
    });
    bridge.on('derived', () => {
      this.version++;
      this.state.last_derived_at = new Date().toISOString();
    });
    bridge.on('ready', () => {
      this.version++;
      this.state.phase = 'live';
      this.state.history_loaded_at = new Date().toISOString();
    });
  }

  get phase(): BridgePhase {
    return this.state.phase;
  }

  get ready(): boolean {
    return this.state.phase === 'live';
  }

  stopping(): void {
    this.state.phase = 'stopping';
  }

  /** The store cannot apply changes any more, or the history load failed: the process exits. */
  failed(): void {
    this.state.phase = 'failed';
  }

  snapshot(): BridgeStatusSnapshot {
    return { ...this.state };
  }

  /** While the history loads, data changes without events: a value that never repeats (no caching). */
  dataVersion(): number | string {
    return this.ready ? this.version : `loading-${performance.now()}`;
  }
}
