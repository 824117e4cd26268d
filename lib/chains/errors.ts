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

/**
 * A chain serialized with `whenRunning: "error"` already has an execution waiting or running in the same
 * scope (session, chain or key): the message names who runs it and is safe to show the user.
 */
export class ChainBusyError extends Error {
  constructor(
    readonly chainName: string,
    /** The execution that holds the scope. */
    readonly executionId: number,
    /** Who started it ("system" for schedules). */
    readonly username: string,
    readonly status: "ENQUEUED" | "SCHEDULED" | "EXECUTING",
    readonly title: string,
  ) {
    super(
      `"${title}" is already ${status === "EXECUTING" ? "running" : "queued"} (execution ${executionId}, started by ${username}); wait for it to finish.`,
    );
    this.name = "ChainBusyError";
  }
}

/** An execution awaited with ctx.runChild ended FAILED or ABORTED: the awaiting step throws this. */
export class ChildExecutionError extends Error {
  constructor(
    readonly executionId: number,
    readonly chainName: string,
    readonly status: "FAILED" | "ABORTED",
    readonly childError: string | null,
  ) {
    super(
      status === "ABORTED"
        ? `Child execution ${executionId} (${chainName}) was aborted`
        : `Child execution ${executionId} (${chainName}) failed: ${childError ?? "unknown error"}`,
    );
    this.name = "ChildExecutionError";
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

export { errorMessage } from "@/lib/error-message";
