/**
 * A full disk (ENOSPC) named as such: Node's errors carry the code but often not the path
 * (`ENOSPC: no space left on device, write`), DuckDB's name the path but not the code
 * (`Could not write file "…wal": No space left on device`). Either way the user reads
 * `disk full (ENOSPC) writing <path>`.
 */
const NO_SPACE = /ENOSPC|No space left on device/i;

export function isDiskFull(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  return (e as NodeJS.ErrnoException).code === 'ENOSPC' || NO_SPACE.test(e.message);
}

/** `disk full (ENOSPC) writing <path>: …` for a full disk, else the error's own message. */
export function faultMessage(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  if (!isDiskFull(e)) return message;
  const path = (e as NodeJS.ErrnoException).path ?? /"([^"]+)"/.exec(message)?.[1];
  return `disk full (ENOSPC)${path ? ` writing ${path}` : ''}: free some space and run again (${message})`;
}
