/**
 * Garbage collection on a budget, for the bulk load's two threads.
 *
 * An ingest moves all parsed records through the main thread (and builds them on the parser thread),
 * but keeps little of them live. V8 sizes the heap for throughput, not RSS: left alone, the heap fills
 * with garbage between full collections and keeps it through the derivation. So after each written
 * chunk a full collection runs when the heap grew by more than a budget (src/resources.ts) since the
 * last one, and once before the derivation.
 *
 * `gc` exists when Node runs with `--expose-gc` (the bin's shebang line); without it (tests, tsx) this
 * does nothing. Measurements: docs/perf-log.md.
 */
export class HeapBudget {
  private base: number;

  constructor(
    private readonly budgetMb: number,
    private readonly gc: (() => void) | undefined = (globalThis as { gc?: () => void }).gc,
    private readonly heapUsed: () => number = () => process.memoryUsage().heapUsed,
  ) {
    this.base = this.heapUsed();
  }

  /** Collects when the heap grew by more than the budget since the last collection. */
  check(): boolean {
    if (!this.gc || this.heapUsed() <= this.base + this.budgetMb * 1048576) return false;
    this.collect();
    return true;
  }

  /** Collects now (before a phase that keeps little of what came before). */
  collect(): void {
    if (!this.gc) return;
    this.gc();
    this.base = this.heapUsed();
  }
}
