export interface DirListing {
  names: string[];
  /** per file: the index in `dirs` of its directory */
  dirIndex: number[];
  sizes: number[];
  mtimesUs: number[];
}
export function listDirs(root: string, dirs: readonly string[]): DirListing;
