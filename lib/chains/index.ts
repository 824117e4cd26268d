import "server-only";

export { type BackgroundOptions, runInBackground, type UploadedFile } from "./background";
export { type Chain, type ChainUser, defineChain, getChain, type Step, type StepContext } from "./define";
export { ChainAbortedError, ChainInputError, ExecutionLimitError } from "./errors";
export { abortExecution, getConcurrencyUsage, listExecutions, purgeExecutions } from "./queries";
export { runChain, startChain } from "./run";
