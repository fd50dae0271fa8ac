/**
 * A failure the user fixes by changing the command line or their setup: `main` prints its message as
 * one line (`ocbridge: …`, what went wrong and how to fix it) and exits with its code (2: fix the
 * command line; 1: anything else), never a stack trace.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}
