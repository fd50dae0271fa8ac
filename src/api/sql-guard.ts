/**
 * Read-only SQL for power users (POST /api/query, and `ocbridge query` through a running bridge).
 * DuckDB itself decides what a statement is, in this order, before anything runs:
 * 1. `extractStatements`: exactly one statement;
 * 2. `json_serialize_sql` (DuckDB's own parser, nothing is bound or read): it must be a SELECT, and
 *    every table function it names must be on a short list of harmless ones (no read_csv, read_text,
 *    query(), …), no sequence functions, no paths or other catalogs as table names;
 * 3. `prepare`: the bound statement's type must be SELECT (so no INSERT/COPY/ATTACH/INSTALL/LOAD/SET/
 *    PRAGMA/CALL/CHECKPOINT …);
 * then it runs with a row limit (streamed, stops at the limit), a byte limit on the serialised rows
 * (413) and a deadline covering the query and the serialisation (interrupt → 503).
 * Underneath, the database itself refuses: `ocbridge serve` opens the file READ_ONLY with
 * enable_external_access=false and lock_configuration=true; inside `ocbridge run` (one writer
 * instance, whose connections cannot be read-only) external access is switched off for the
 * instance before the first query (`lockDownInstance`).
 */
import { type DuckDBConnection, JSDuckDBValueConverter, StatementType } from '@duckdb/node-api';
import { plainRow } from '../store/query.ts';
import { QueryTimeoutError } from './pool.ts';

export class SqlRefusedError extends Error {}

const TABLE_FUNCTIONS = new Set([
  'range',
  'generate_series',
  'unnest',
  'json_each',
  'json_tree',
  'duckdb_tables',
  'duckdb_views',
  'duckdb_columns',
  'duckdb_schemas',
  'duckdb_types',
  'duckdb_functions',
  'duckdb_constraints',
  'duckdb_indexes',
  'duckdb_keywords',
  'pragma_table_info',
  'pragma_show',
  'summary',
  'test_all_types',
]);
const DENIED_FUNCTIONS = new Set(['nextval', 'setval', 'currval', 'read_text', 'read_blob', 'getenv']);
const CATALOGS = new Set(['', 'system', 'temp', 'memory']);

function walk(node: unknown, visit: (o: Record<string, unknown>) => void): void {
  if (Array.isArray(node)) for (const x of node) walk(x, visit);
  else if (node !== null && typeof node === 'object') {
    visit(node as Record<string, unknown>);
    for (const v of Object.values(node)) walk(v, visit);
  }
}

/** Refuses (SqlRefusedError) anything but one read-only SELECT; returns nothing on success. */
export async function checkReadOnlySql(conn: DuckDBConnection, sql: string, dbName: string): Promise<void> {
  if (sql.trim() === '') throw new SqlRefusedError('empty SQL');
  let count: number;
  try {
    count = (await conn.extractStatements(sql)).count;
  } catch (e) {
    throw new SqlRefusedError((e as Error).message.split('\n')[0] ?? 'cannot parse the SQL');
  }
  if (count !== 1) throw new SqlRefusedError(`exactly one statement allowed (got ${count})`);
  const r = await conn.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR)', [sql]);
  const ast = JSON.parse(String(r.getRows()[0]?.[0])) as {
    error: boolean;
    error_message?: string;
    statements?: unknown[];
  };
  if (ast.error || !ast.statements || ast.statements.length !== 1)
    throw new SqlRefusedError(`only SELECT statements are allowed (${ast.error_message ?? 'not a SELECT'})`);
  const problems: string[] = [];
  walk(ast.statements, (o) => {
    if (o.type === 'TABLE_FUNCTION') {
      const fn = (o.function as { function_name?: string } | undefined)?.function_name ?? '?';
      if (!TABLE_FUNCTIONS.has(fn.toLowerCase())) problems.push(`table function ${fn}()`);
    } else if (o.class === 'FUNCTION' && typeof o.function_name === 'string') {
      if (DENIED_FUNCTIONS.has(o.function_name.toLowerCase())) problems.push(`function ${o.function_name}()`);
    } else if (o.type === 'BASE_TABLE') {
      const name = String(o.table_name ?? '');
      const catalog = String(o.catalog_name ?? '');
      if (/[/\\:.]/.test(name)) problems.push(`file or URL ${JSON.stringify(name)}`);
      if (!CATALOGS.has(catalog.toLowerCase()) && catalog !== dbName) problems.push(`catalog ${catalog}`);
    }
  });
  if (problems.length > 0) throw new SqlRefusedError(`not allowed: ${[...new Set(problems)].join(', ')}`);
  const prepared = await conn.prepare(sql).catch((e: Error) => {
    throw new SqlRefusedError(e.message.split('\n')[0] ?? 'cannot prepare the SQL');
  });
  try {
    if (prepared.statementType !== StatementType.SELECT)
      throw new SqlRefusedError(
        `only SELECT statements are allowed (statement type ${prepared.statementType})`,
      );
  } finally {
    prepared.destroySync();
  }
}

export interface SqlResult {
  columns: { name: string; type: string }[];
  /** each row already serialised as JSON (what is counted against the byte limit is what is sent) */
  rowsJson: string[];
  truncated: boolean;
}

export interface SqlLimits {
  /** at most this many rows; more are never computed (`truncated`) */
  rows: number;
  /** at most this many bytes of serialised JSON rows, else `ResultTooLargeError` */
  bytes: number;
  /** deadline in ms from the start, covering the query and the conversion of its rows */
  timeoutMs: number;
}

/** A result whose rows serialise to more than the byte limit (the API answers 413). */
export class ResultTooLargeError extends Error {
  constructor(
    readonly maxBytes: number,
    readonly rowsBefore: number,
  ) {
    super(
      `the result is larger than ${maxBytes} bytes of JSON (the limit was passed after ${rowsBefore} rows); ` +
        'add LIMIT, or select fewer or narrower columns, or narrow the query',
    );
  }
}

/**
 * Checks, then runs `sql`, converting and serialising its rows one at a time as DuckDB streams
 * them: stops at the row limit (the rest is never computed), throws `ResultTooLargeError` as soon
 * as the serialised rows pass the byte limit (so at most the limit plus one DuckDB chunk of 2,048
 * rows is ever held), and `QueryTimeoutError` once the deadline passes during the conversion (the
 * pool's interrupt covers the time inside DuckDB).
 */
export async function runReadOnlySql(
  conn: DuckDBConnection,
  sql: string,
  limits: SqlLimits,
  dbName: string,
): Promise<SqlResult> {
  const deadline = performance.now() + limits.timeoutMs;
  await checkReadOnlySql(conn, sql, dbName);
  const prepared = await conn.prepare(sql);
  try {
    const result = await prepared.stream();
    const names = result.columnNames();
    const isJson = names.map((_, i) => result.columnLogicalType(i).alias === 'JSON');
    const columns = names.map((name, i) => ({ name, type: result.columnType(i).toString() }));
    const rowsJson: string[] = [];
    let bytes = 0;
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) return { columns, rowsJson, truncated: false };
      for (let r = 0; r < chunk.rowCount; r++) {
        if (rowsJson.length >= limits.rows) return { columns, rowsJson, truncated: true };
        if (performance.now() > deadline) throw new QueryTimeoutError(limits.timeoutMs);
        const text = JSON.stringify(
          plainRow(chunk.convertRowValues(r, JSDuckDBValueConverter), names, isJson),
        );
        bytes += Buffer.byteLength(text) + 1;
        if (bytes > limits.bytes) throw new ResultTooLargeError(limits.bytes, rowsJson.length);
        rowsJson.push(text);
      }
    }
  } finally {
    prepared.destroySync();
  }
}

/** The JSON body of a query answer, built from rows serialised once. */
export function sqlResultBody(r: SqlResult): string {
  return `{"data":[${r.rowsJson.join(',')}],"next_cursor":null,"columns":${JSON.stringify(r.columns)},"truncated":${r.truncated}}`;
}

/**
 * Turns off file, network and extension access for the whole DuckDB instance (one-way; the store's
 * own files and temp spill are unaffected). Called by the API before the first user SQL runs.
 */
export async function lockDownInstance(conn: DuckDBConnection, lockConfiguration = false): Promise<void> {
  const [external, locked] = (
    await conn.runAndReadAll(
      "SELECT current_setting('enable_external_access')::BOOLEAN, current_setting('lock_configuration')::BOOLEAN",
    )
  ).getRows()[0] as [boolean, boolean];
  if (locked) return; // whoever locked it decided (ocbridge serve locks after switching access off)
  if (external) await conn.run('SET enable_external_access = false');
  if (lockConfiguration) await conn.run('SET lock_configuration = true');
}
