export interface DirListing {
  names: string[];
  /** per file: the index in `dirs` of its directory (ascending) */
  dirIndex: number[];
  sizes: number[];
  mtimesUs: number[];
  /** per block of folders and kind: a digest of its files (names, sizes, mtimes), by first folder */
  segments: { start: number; kind: string; digest: string }[];
  /** folders that exist but could not be listed (index in `dirs`, error code) */
  unreadable: { dir: number; code: string }[];
}
export interface StartedListing {
  /** the storage/ folder, resolved */
  root: string;
  /** its folders, relative to `root`, in listing order */
  dirs: Promise<string[]>;
  startedAt: number;
  /** the cursor shared with the worker (absent: no worker, list every folder on this thread) */
  cursor?: Int32Array;
  /** what the worker listed */
  worker?: Promise<DirListing>;
  stop?: () => void;
  keepAlive?: (keepAlive: boolean) => void;
}
export const KINDS: readonly string[];
export const NESTED_KINDS: ReadonlySet<string>;
export const CLAIM_BLOCK: number;
export function subdirs(dir: string): string[];
export function subdirsOrNull(dir: string): string[] | null;
export function kindOf(rel: string): string;
export function listFolders(root: string): string[];
export function listDirs(root: string, dirs: readonly string[], next?: Int32Array): DirListing;
export function startListing(
  storageDir: string,
  minDirsForWorker?: number,
  o?: { foldersInWorker?: boolean },
): StartedListing;
export function prefetchListing(storageDir: string): void;
export function takeListing(root: string): StartedListing | undefined;
