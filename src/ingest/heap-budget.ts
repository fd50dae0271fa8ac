/**
 * Garbage collection on a budget, for the bulk load's two threads.
 *
 * An ingest moves ~1.4 GB of parsed records through the main thread (and builds them on the parser
 * thread), but keeps little: a heap snapshot in the middle of a full-scale load holds ~170 MB live on
 * the main thread, ~12 MB during the derivation. V8 sizes the heap for throughput, not RSS: left
 * alone, the main heap grew to 550+ MB of garbage between full collections, and kept it through the
 * derivation. So after each written chunk, a full collection runs when the heap grew by more than a
 * budget since the last one, and once before the derivation.
 *
 * `gc` exists when Node runs with `--expose-gc` (the bin's shebang line, `npm start`, the Dockerfile);
 * without it (tests, tsx) this does nothing. Measured at full scale, back to back (docs/architecture.md):
 * peak RSS 1,421–1,534 MB without, 1,180 MB with a 64 MB budget (+6–13 % time), 1,288 MB with 128 MB.
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
