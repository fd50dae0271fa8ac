export { errorCategorySql, sqlString } from './sql.ts';
export {
  classifyError,
  ERROR_CATEGORIES,
  ERROR_RULES,
  type ErrorCategory,
  type ErrorInput,
  type ErrorRule,
  type ErrorSource,
  errorInputFromMessageError,
  errorInputFromToolError,
  joinErrorText,
  matchErrorRule,
  type OpenCodeMessageError,
  ruleMatches,
  type StatusMatch,
} from './taxonomy.ts';
