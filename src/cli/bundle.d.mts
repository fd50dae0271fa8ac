export function sourceKey(srcDir?: string): string;
export function bundledMain(o?: {
  root?: string;
  cacheDir?: string;
  env?: NodeJS.ProcessEnv;
}): Promise<{ url: string; built: boolean } | undefined>;
export function buildDist(root?: string): Promise<string>;
