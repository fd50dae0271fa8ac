/**
 * Answers of the read routes, kept per URL until the data changes: Grafana asks the same URLs over
 * and over (every panel, every refresh). Keyed by the data version the CLI supplies (constant for a
 * read-only `serve`, bumped by the live bridge after every commit and derivation), bounded in
 * entries and bytes (least recently used out first), and single-flight: concurrent requests for
 * one URL share one query.
 */
import { API_LIMITS } from '../resources.ts';

export interface CacheOptions {
  maxEntries?: number;
  maxBytes?: number;
}

export class ResponseCache {
  private readonly entries = new Map<string, string>();
  private readonly inflight = new Map<string, Promise<{ status: number; body: string }>>();
  private bytes = 0;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  hits = 0;
  misses = 0;

  constructor(opts: CacheOptions = {}) {
    this.maxEntries = opts.maxEntries ?? API_LIMITS.cacheEntries;
    this.maxBytes = opts.maxBytes ?? API_LIMITS.cacheBytes;
  }

  /** The cached 200 body for `key`, else runs `compute` once for all concurrent callers. */
  async get(key: string, compute: () => Promise<{ status: number; body: string }>) {
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.hits++;
      this.entries.delete(key); // re-insert: most recently used last
      this.entries.set(key, hit);
      return { status: 200, body: hit, cached: true };
    }
    const running = this.inflight.get(key);
    if (running) return { ...(await running), cached: true };
    this.misses++;
    const p = compute();
    this.inflight.set(key, p);
    try {
      const r = await p;
      if (r.status === 200) this.put(key, r.body);
      return { ...r, cached: false };
    } finally {
      this.inflight.delete(key);
    }
  }

  private put(key: string, body: string): void {
    if (body.length > this.maxBytes / 4) return;
    this.entries.set(key, body);
    this.bytes += body.length;
    for (const [k, v] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= v.length;
    }
  }

  /** Drops everything (the data version changed). */
  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  get size(): number {
    return this.entries.size;
  }
}
