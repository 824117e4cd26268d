/** Thrown inside a chain when it was aborted; a background execution then ends ABORTED. */
export class ChainAbortedError extends Error {
  constructor(message = "Aborted") {
    super(message);
    this.name = "ChainAbortedError";
  }
}

/** The per-session executions limit of a chain was reached: the message is safe to show the user. */
export class ExecutionLimitError extends Error {
  constructor(
    readonly chainName: string,
    readonly limit: number,
  ) {
    super(
      limit === 1
        ? `"${chainName}" is already running or queued for this session; wait for it to finish or abort it.`
        : `"${chainName}" already has ${limit} executions running or queued for this session (the limit is ${limit}); wait for one to finish or abort it.`,
    );
    this.name = "ExecutionLimitError";
  }
}

/** The input does not fit the chain's schema (or is not JSON). */
export class ChainInputError extends Error {
  constructor(
    readonly chainName: string,
    readonly issues: string[],
  ) {
    super(`Invalid input for chain "${chainName}": ${issues.join("; ")}`);
    this.name = "ChainInputError";
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
