export * from "./departments";
export * from "./push";
export * from "./users";
export * from "./worker-processes";
