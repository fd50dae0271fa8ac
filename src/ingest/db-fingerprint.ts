/**
 * A fingerprint of an SQLite database's committed state, from the file system alone (no SQL, no
 * rows read): every commit changes it. In rollback-journal mode a commit rewrites pages of the
 * database file and increments the file change counter (header offset 24). In WAL mode a commit
 * appends frames to the `-wal` file (it grows) or, after a checkpoint reset the log, writes a new WAL
 * header with new salts (bytes 0-31). Size and mtime (ns) of both files, the database header and the
 * WAL header together are therefore enough to say "nothing was committed since". The reverse is not
 * true (a checkpoint changes the fingerprint without changing any row), so an unequal fingerprint
 * only means "compare the rows". The `-shm` file is left out: readers write it.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';

function head(path: string, bytes: number): string {
  let fd = -1;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n).toString('hex');
  } catch {
    return 'none';
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

function stat(path: string): string {
  try {
    const s = statSync(path, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}`;
  } catch {
    return 'none';
  }
}

/** `db:<ino>:<size>:<mtime ns>:<header 24..99>|wal:<ino>:<size>:<mtime ns>:<header>`. */
export function databaseFingerprint(path: string): string {
  // header bytes 24..99: change counter, page count, freelist, schema cookie, version-valid-for
  const dbHead = head(path, 100).slice(48);
  const wal = `${path}-wal`;
  return `db:${stat(path)}:${dbHead}|wal:${stat(wal)}:${head(wal, 32)}`;
}
