/**
 * Every LISTEN/NOTIFY channel of the application, in one place: the worker host and the engines wake on
 * these, and a NOTIFY to a misspelt channel would wake nobody.
 */

/** NOTIFY channel that wakes the push senders (new or re-queued messages). */
export const PUSH_CHANNEL = "push_messages";

/** NOTIFY channel that wakes the execution workers (new work, freed capacity). */
export const EXECUTIONS_CHANNEL = "executions";

/**
 * NOTIFY channel of abort requests for running executions (payload: the execution id): the worker process
 * that holds the execution aborts its step's signal at once.
 */
export const EXECUTION_ABORT_CHANNEL = "execution_abort";

/** NOTIFY channel of status changes of watched executions (payload: the execution id). */
export const EXECUTION_STATUS_CHANNEL = "execution_status";
