/**
 * Bounds on one JSON input (a file of the tree, a `data` column of opencode.db), so that no input can
 * stop the bridge. Two limits, applied by one pass over the bytes before `JSON.parse`:
 * - size: an input over `MAX_INPUT_BYTES` keeps its structure and every number (tokens, cost, tool
 *   metadata), but each string longer than `MAX_STRING_CHARS` is cut there and ends with a marker
 *   giving its full length (`fullLength` reads it back, so tool output and text lengths stay true);
 * - nesting: a subtree deeper than `MAX_DEPTH` levels becomes one marker string. Every input gets this
 *   bound when it cannot be mapped in full (the recursive `JSON.stringify` or schema walk overflows the
 *   stack, ~5,000 levels); inputs that map are stored as they are.
 * Scanning bytes (not a decoded string) keeps a 200 MB file off the V8 heap: only the bounded copy is
 * decoded and parsed.
 */

/** Inputs above this size are stored with long strings truncated (the parser threads have 256 MB heaps). */
export const MAX_INPUT_BYTES = 8 * 1024 * 1024;
/** A string of an oversize input keeps this many characters. */
export const MAX_STRING_CHARS = 64 * 1024;
/** Levels kept when an input is too deep to map in full. */
export const MAX_DEPTH = 64;

const MARK_PREFIX = '…[truncated by ocbridge: ';
const MARK_SUFFIX = ' characters in all]';
const MARK_RE = /…\[truncated by ocbridge: (\d+) characters in all\]$/;
const DEEP_MARK = `"[cut by ocbridge: nested deeper than ${MAX_DEPTH} levels]"`;

export interface BoundedJson {
  /** The input with the bounds applied (the input itself when nothing was cut). */
  bytes: Uint8Array;
  truncatedStrings: number;
  cutSubtrees: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJ = 0x7b;
const OPEN_ARR = 0x5b;
const CLOSE_OBJ = 0x7d;
const CLOSE_ARR = 0x5d;
const enc = new TextEncoder();

/** The end of the string starting at `i` (its opening quote): index after its closing quote. */
function skipString(b: Uint8Array, i: number): number {
  let j = i + 1;
  while (j < b.length) {
    const c = b[j] as number;
    if (c === QUOTE) return j + 1;
    j += c === BACKSLASH ? 2 : 1;
  }
  return j;
}

/** The end of the object or array starting at `i` (index after its matching bracket). */
function skipValue(b: Uint8Array, i: number): number {
  let depth = 0;
  let j = i;
  while (j < b.length) {
    const c = b[j] as number;
    if (c === QUOTE) {
      j = skipString(b, j);
      continue;
    }
    if (c === OPEN_OBJ || c === OPEN_ARR) depth++;
    else if ((c === CLOSE_OBJ || c === CLOSE_ARR) && --depth === 0) return j + 1;
    j++;
  }
  return j;
}

/**
 * Applies the bounds to JSON bytes: strings cut after `maxChars` UTF-16 characters (never inside a
 * character or an escape), subtrees below `maxDepth` levels replaced. Invalid JSON stays invalid.
 */
export function boundJson(b: Uint8Array, maxChars: number, maxDepth = MAX_DEPTH): BoundedJson {
  const pieces: Uint8Array[] = [];
  let from = 0;
  let depth = 0;
  let truncatedStrings = 0;
  let cutSubtrees = 0;
  let i = 0;
  while (i < b.length) {
    const c = b[i] as number;
    if (c === QUOTE) {
      let j = i + 1;
      let chars = 0;
      let cutAt = -1;
      while (j < b.length) {
        const d = b[j] as number;
        if (d === QUOTE) break;
        if (d >= 0x80 && d < 0xc0) {
          j++; // a UTF-8 continuation byte: counted with its lead byte
          continue;
        }
        if (chars >= maxChars && cutAt < 0) cutAt = j;
        if (d === BACKSLASH) {
          j += b[j + 1] === 0x75 ? 6 : 2; // \uXXXX or a one-letter escape
          chars++;
        } else {
          chars += d >= 0xf0 ? 2 : 1; // four-byte UTF-8: a surrogate pair
          j++;
        }
      }
      if (cutAt >= 0 && j < b.length) {
        pieces.push(b.subarray(from, cutAt), enc.encode(`${MARK_PREFIX}${chars}${MARK_SUFFIX}`));
        from = j; // the closing quote is kept
        truncatedStrings++;
      }
      i = j + 1;
      continue;
    }
    if (c === OPEN_OBJ || c === OPEN_ARR) {
      if (depth === maxDepth) {
        const end = skipValue(b, i);
        pieces.push(b.subarray(from, i), enc.encode(DEEP_MARK));
        from = end;
        i = end;
        cutSubtrees++;
        continue;
      }
      depth++;
    } else if (c === CLOSE_OBJ || c === CLOSE_ARR) depth--;
    i++;
  }
  if (pieces.length === 0) return { bytes: b, truncatedStrings, cutSubtrees };
  pieces.push(b.subarray(from));
  return { bytes: Buffer.concat(pieces), truncatedStrings, cutSubtrees };
}

/** A string's length before `boundJson` truncated it (its own length when it was not). */
export function fullLength(s: string): number {
  if (s.length <= MAX_STRING_CHARS) return s.length;
  const m = MARK_RE.exec(s);
  return m ? Number(m[1]) : s.length;
}

/** The `ingest_errors` reason for an input stored bounded. */
export function boundReason(size: number, r: BoundedJson): string {
  const what: string[] = [];
  if (r.truncatedStrings > 0)
    what.push(
      `${r.truncatedStrings} strings truncated to ${MAX_STRING_CHARS} characters (input of ${size} bytes is over the ${MAX_INPUT_BYTES}-byte limit)`,
    );
  if (r.cutSubtrees > 0) what.push(`${r.cutSubtrees} subtrees nested deeper than ${MAX_DEPTH} levels cut`);
  return `bounded: ${what.join('; ')}; numbers counted, raw stored bounded`;
}

/** True for the error of a recursion that ran out of stack (a too-deep input). */
export const isStackOverflow = (e: unknown): boolean =>
  e instanceof RangeError && /call stack/i.test(e.message);
