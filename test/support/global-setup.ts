/**
 * Vitest global setup: every test process (and every process a test starts) makes its temporary
 * files under one folder of this run (TMPDIR), removed when the run ends. Tests create stores,
 * corpora and OpenCode data dirs with mkdtemp and do not all remove them; ~100 MB per run was left
 * in /tmp before. OCBRIDGE_KEEP_TEST_TMP=1 keeps the folder (its path is printed) for a post-mortem.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'ocbridge-tests-'));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    if (process.env.OCBRIDGE_KEEP_TEST_TMP === '1') console.error(`test files kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  };
}
