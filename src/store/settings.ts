/**
 * The one way to change a store's DuckDB settings (`memory_limit`, `threads`: instance-wide).
 *
 * Two kinds of change: an owner sets a setting's standing value (`set`: the live bridge gives the bulk
 * load's memory back once it watches), and a task overrides it for its own duration (`during`: the
 * bulk load runs on one thread, a trace-export pass borrows a larger pool). The value in force is that
 * of the most recent override still running, else the standing one; when an override ends, the value
 * in force is computed again. So a pass that ends after the bridge went live puts the live value back,
 * not the value it saw when it started. Every `SET` goes through one queue, on a connection of its own.
 */
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

export type SettingValues = Readonly<Record<string, string | number>>;

export class StoreSettings {
  private readonly standing = new Map<string, string>();
  private readonly overrides: { id: number; values: SettingValues }[] = [];
  private nextId = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private conn: DuckDBConnection | null = null;

  /** `opened`: the values the instance was created with (the standing values until `set`). */
  constructor(
    private readonly instance: DuckDBInstance,
    opened: SettingValues,
  ) {
    for (const [k, v] of Object.entries(opened)) this.standing.set(k, String(v));
  }

  /** Sets standing values (in force now unless an override of the same setting runs). */
  set(values: SettingValues): Promise<void> {
    for (const [k, v] of Object.entries(values)) this.standing.set(k, String(v));
    return this.apply(Object.keys(values));
  }

  /** Runs `fn` with these values in force, then puts back what is in force without them. */
  async during<T>(values: SettingValues, fn: () => Promise<T>): Promise<T> {
    const id = this.nextId++;
    this.overrides.push({ id, values });
    try {
      await this.apply(Object.keys(values));
      return await fn();
    } finally {
      this.overrides.splice(
        this.overrides.findIndex((o) => o.id === id),
        1,
      );
      await this.apply(Object.keys(values));
    }
  }

  /** The value in force for `name` (as set here; undefined when nobody set it). */
  current(name: string): string | undefined {
    for (let i = this.overrides.length - 1; i >= 0; i--) {
      const v = this.overrides[i]?.values[name];
      if (v !== undefined) return String(v);
    }
    return this.standing.get(name);
  }

  /** Closes the settings connection (before the store closes the instance). */
  close(): void {
    this.conn?.closeSync();
    this.conn = null;
  }

  private apply(names: readonly string[]): Promise<void> {
    const run = this.queue.then(async () => {
      this.conn ??= await this.instance.connect();
      const conn = this.conn;
      for (const name of names) {
        // a setting nobody set here yet: its value now is the standing one
        if (!this.standing.has(name)) {
          const r = await conn.runAndReadAll(`SELECT current_setting('${name.replaceAll("'", "''")}')`);
          this.standing.set(name, String(r.getRows()[0]?.[0]));
        }
        const value = this.current(name);
        if (value !== undefined) await conn.run(`SET ${name} = '${value.replaceAll("'", "''")}'`);
      }
    });
    this.queue = run.catch(() => {});
    return run;
  }
}
