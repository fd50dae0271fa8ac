/**
 * Contract test against the REAL OpenCode CLI (installed from npm into .tmp/opencode, offline LLM):
 * runs 1.1.65 → 1.2.1 → 1.18.33 on one data dir, then ingests it with `ocbridge ingest` and compares
 * our DuckDB store with what OpenCode wrote. Set KEEP_OPENCODE_SCENARIO=1 to keep the data dir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runUpgradeScenario, type ScenarioResult } from '../support/opencode-scenario.ts';
import { readTruth } from '../support/opencode-truth.ts';
import { verifyScenario } from '../support/opencode-verify.ts';
import { defineStoreContract } from '../support/store-contract.ts';

describe('real OpenCode upgrade path 1.1.65 → 1.2.1 → 1.18.33', () => {
  let root: string;
  let res: ScenarioResult | undefined;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'opencode-upgrade-'));
    res = await runUpgradeScenario({ root });
  }, 240_000);

  afterAll(() => {
    if (root && !process.env.KEEP_OPENCODE_SCENARIO) rmSync(root, { recursive: true, force: true });
    else if (root) console.log(`kept scenario dir ${root}`);
  });

  it('OpenCode wrote what the scenario intended', () => {
    expect(res).toBeDefined();
    expect(verifyScenario(res!)).toEqual([]);
    const truth = readTruth(res!.dataDir);
    expect(truth.dbFiles.map((f) => f.split('/').pop())).toEqual(['opencode.db']);
    // JSON tree frozen at the 1.2 import, DB has everything after it.
    expect(truth.jsonIds.sessions.size).toBeGreaterThan(0);
    expect(truth.dbIds.messages.size).toBeGreaterThan(truth.jsonIds.messages.size);
  });

  defineStoreContract('ocbridge store matches the live data dir', () => {
    if (!res) throw new Error('scenario did not run');
    return res.dataDir;
  });
});
