/** NOTIFY channel that wakes the execution workers (new work, freed capacity). */
export const EXECUTIONS_CHANNEL = "executions";
