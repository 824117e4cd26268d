/** NOTIFY channel that wakes the execution workers (new work, freed capacity). */
export const EXECUTIONS_CHANNEL = "executions";

/** NOTIFY channel of status changes of watched executions (payload: the execution id). */
export const EXECUTION_STATUS_CHANNEL = "execution_status";
