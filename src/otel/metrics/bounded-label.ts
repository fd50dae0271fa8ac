/** Bounded label values for the usage metrics: series stay few whatever the store holds. */

export const OTHER = 'other';

/** A label whose values are bounded: the top N (chosen once, then sticky) keep their name, the rest are `other`. */
export class BoundedLabel {
  private readonly admitted = new Set<string>();
  constructor(readonly limit: number) {}
  /** Admits values by rank (best first) while there is room; admitted values stay for the process' life. */
  admit(ranked: Iterable<string>): void {
    for (const v of ranked) {
      if (this.admitted.size >= this.limit) return;
      this.admitted.add(v);
    }
  }
  map(v: string): string {
    if (this.admitted.has(v)) return v;
    if (this.admitted.size < this.limit) {
      this.admitted.add(v);
      return v;
    }
    return OTHER;
  }
}
