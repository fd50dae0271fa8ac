export function configFileCandidates(env?: NodeJS.ProcessEnv, cwd?: string): string[];
