/** Reads the OTEL_* switches for a command; a value the bridge cannot honour ends it with exit code 2. */
import { OtelSwitchError, type OtelSwitches, readOtelSwitches } from '../otel/switches.ts';

export function otelSwitchesOrExit(env: NodeJS.ProcessEnv = process.env): OtelSwitches {
  try {
    return readOtelSwitches(env);
  } catch (e) {
    if (!(e instanceof OtelSwitchError)) throw e;
    console.error(`ocbridge: ${e.message}`);
    process.exit(2);
  }
}
