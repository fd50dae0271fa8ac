/**
 * The smallest OpenCode data and the store harness the ingest tests share: one session `ses_a` in
 * project `p` with one user message `msg_1` (JSON tree), and the stores and live bridge a test opened,
 * closed after it.
 */
import { afterEach } from 'vitest';
import type { LiveBridge } from '../../src/pipeline/live-bridge.ts';
import type { Store } from '../../src/store/db.ts';
import { writeStorage } from './datadir.ts';

/** 2026-01-02: the time every tiny record is created at (offsets from it order later records). */
export const T0 = 1_767_312_000_000;

/** Writes session `ses_a` (project `p`, or `projectId`) and its user message `msg_1` under `dir`. */
export function writeTinySession(dir: string, o: { projectId?: string; version?: string } = {}): void {
  const projectId = o.projectId ?? 'p';
  writeStorage(dir, `session/${projectId}/ses_a.json`, {
    id: 'ses_a',
    projectID: projectId,
    title: 'A',
    directory: '/w',
    version: o.version ?? '1',
    time: { created: T0, updated: T0 },
  });
  writeStorage(dir, 'message/ses_a/msg_1.json', {
    id: 'msg_1',
    sessionID: 'ses_a',
    role: 'user',
    time: { created: T0 },
  });
}

/** What a test opened; registered stores and the bridge are closed after each test of the file. */
export interface Opened {
  stores: Store[];
  bridge?: LiveBridge;
}

export function closeAfterEach(): Opened {
  const open: Opened = { stores: [] };
  afterEach(async () => {
    await open.bridge?.stop();
    open.bridge = undefined;
    for (const s of open.stores.splice(0)) s.close();
  });
  return open;
}
