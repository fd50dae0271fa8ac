export function defaultOpenCodeDataDir(env?: NodeJS.ProcessEnv): string;
