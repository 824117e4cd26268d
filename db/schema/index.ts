export * from "./departments";
export * from "./users";
export * from "./worker-processes";
export * from "./push";
