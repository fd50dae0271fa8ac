/** First run: with no OpenCode data, say so before anything is opened, and offer the demo. */
import { discoverSources, SourceNotFoundError, type Sources } from '../ingest/discover.ts';

export const DEMO_HINT = 'To see ocbridge work on a generated, realistic corpus instead: npm run demo';

/** Finds the sources `run` will read; throws SourceNotFoundError (with the demo hint) when there are none. */
export function requireSources(source?: string): Sources {
  try {
    return discoverSources(source);
  } catch (e) {
    if (e instanceof SourceNotFoundError) throw new SourceNotFoundError(`${e.message}\n${DEMO_HINT}`);
    throw e;
  }
}
