import { ERROR_RULES, type ErrorRule, type StatusMatch } from './taxonomy.ts';

/** SQL string literal with single quotes doubled (DuckDB does not treat backslash as an escape). */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function statusCondition(statusSql: string, matches: readonly StatusMatch[]): string {
  const parts = matches.map((m) =>
    typeof m === 'number' ? `${statusSql} = ${m}` : `${statusSql} BETWEEN ${m[0]} AND ${m[1]}`,
  );
  return parts.length === 1 ? parts[0]! : `(${parts.join(' OR ')})`;
}

function ruleCondition(rule: ErrorRule, nameSql: string, statusSql: string, messageSql: string): string {
  const conditions: string[] = [];
  if (rule.names) {
    conditions.push(`lower(${nameSql}) IN (${rule.names.map((n) => sqlString(n.toLowerCase())).join(', ')})`);
  }
  if (rule.status) conditions.push(statusCondition(statusSql, rule.status));
  if (rule.pattern !== undefined) {
    conditions.push(`regexp_matches(${messageSql}, ${sqlString(rule.pattern)}, 'i')`);
  }
  // A rule without conditions matches everything, as in ruleMatches().
  return conditions.length === 0 ? 'TRUE' : conditions.join(' AND ');
}

/**
 * A DuckDB `CASE` expression equivalent to `classifyError()`.
 *
 * Arguments are SQL expressions (column references or anything else), e.g.
 * `errorCategorySql("error->>'name'", "error->'data'->>'statusCode'",
 *   "concat_ws(chr(10), error->'data'->>'message', error->'data'->>'responseBody')")`.
 * The status expression may be numeric or text; it is `TRY_CAST` to INTEGER. NULLs are treated as
 * missing values, the same as `undefined` on the TypeScript side.
 */
export function errorCategorySql(
  nameExpr: string,
  statusExpr: string,
  messageExpr: string,
  rules: readonly ErrorRule[] = ERROR_RULES,
): string {
  const nameSql = `coalesce(CAST((${nameExpr}) AS VARCHAR), '')`;
  const statusSql = `TRY_CAST((${statusExpr}) AS INTEGER)`;
  const messageSql = `coalesce(CAST((${messageExpr}) AS VARCHAR), '')`;
  const whens = rules.map(
    (rule) =>
      `  WHEN ${ruleCondition(rule, nameSql, statusSql, messageSql)} THEN ${sqlString(rule.category)}`,
  );
  return `(CASE\n${whens.join('\n')}\n  ELSE 'unknown'\nEND)`;
}
