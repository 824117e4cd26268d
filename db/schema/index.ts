export * from "./departments";
export * from "./executions";
export * from "./users";
export * from "./worker-processes";
