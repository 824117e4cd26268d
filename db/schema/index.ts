export * from "./data-load";
export * from "./departments";
export * from "./executions";
export * from "./push";
export * from "./reimbursements";
export * from "./sessions";
export * from "./users";
export * from "./worker-processes";
