import type { Chain } from "./define";
import { ChainInputError } from "./errors";

/** Parses the input against the chain's schema and returns a deep, JSON-only snapshot of it. */
export function snapshotInput<S extends object>(chain: Chain<S>, input: unknown): S {
  let json: unknown;
  try {
    json = JSON.parse(JSON.stringify(input));
  } catch (error) {
    throw new ChainInputError(chain.name, [`not JSON-serialisable (${(error as Error).message})`]);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new ChainInputError(chain.name, ["must be an object"]);
  }
  if (!chain.schema) return json as S;
  const parsed = chain.schema.safeParse(json);
  if (!parsed.success) {
    throw new ChainInputError(
      chain.name,
      parsed.error.issues.map((issue) => `${issue.path.join(".") || "input"}: ${issue.message}`),
    );
  }
  return parsed.data;
}
