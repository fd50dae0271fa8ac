export function ingestStorageDir(
  argv: readonly string[],
  env?: NodeJS.ProcessEnv,
  cwd?: string,
): string | null;
export function prefetchForArgv(argv: readonly string[]): void;
