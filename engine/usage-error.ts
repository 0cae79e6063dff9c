/**
 * Bad input from a user (a flag, an env variable, a case id). The CLI prints the message as one line
 * and exits 2; `field` names the offending flag or variable.
 */
export class UsageError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'UsageError';
  }
}

/** Runs `action` and returns the UsageError it throws (test helper; fails when it throws nothing). */
export function catchUsageError(action: () => unknown): UsageError {
  try {
    action();
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error('expected a UsageError, nothing was thrown');
}
