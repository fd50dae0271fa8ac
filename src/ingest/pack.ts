/**
 * Compact transfer of records between threads. Structured clone of many small objects is slow
 * (each key is cloned per object); arrays of values under one shared key list clone faster.
 * Records of one kind are built by one object literal in map.ts, so they share their key order.
 */
import type { IngestRecord } from './records.ts';

type Row = unknown[];
export interface PackedRecords {
  /** kind → keys (first record's own keys; a nested object is packed the same way under `nested`). */
  groups: { keys: string[]; nested: Record<string, string[]>; rows: Row[] }[];
}

function packObject(o: Record<string, unknown>, keys: string[], nested: Record<string, string[]>): Row {
  const row: Row = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    const v = o[k];
    const nk = nested[k];
    row[i] = nk && v !== null && typeof v === 'object' ? nk.map((x) => (v as Record<string, unknown>)[x]) : v;
  }
  return row;
}

export function packRecords(records: readonly IngestRecord[]): PackedRecords {
  const byShape = new Map<string, { keys: string[]; nested: Record<string, string[]>; rows: Row[] }>();
  for (const r of records) {
    const o = r as unknown as Record<string, unknown>;
    const keys = Object.keys(o);
    const shape = keys.join(',');
    let g = byShape.get(shape);
    if (!g) {
      const nested: Record<string, string[]> = {};
      g = { keys, nested, rows: [] };
      byShape.set(shape, g);
    }
    // nested objects (a part's tool call) get their key list from the first one seen
    for (const k of keys) {
      const v = o[k];
      if (v !== null && typeof v === 'object' && !g.nested[k]) g.nested[k] = Object.keys(v);
    }
    g.rows.push(packObject(o, g.keys, g.nested));
  }
  return { groups: [...byShape.values()] };
}

export function unpackRecords(p: PackedRecords): IngestRecord[] {
  const out: IngestRecord[] = [];
  for (const g of p.groups) {
    for (const row of g.rows) {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < g.keys.length; i++) {
        const k = g.keys[i] as string;
        const v = row[i];
        const nk = g.nested[k];
        if (nk && Array.isArray(v)) {
          const n: Record<string, unknown> = {};
          for (let j = 0; j < nk.length; j++) n[nk[j] as string] = v[j];
          o[k] = n;
        } else o[k] = v;
      }
      out.push(o as unknown as IngestRecord);
    }
  }
  return out;
}
