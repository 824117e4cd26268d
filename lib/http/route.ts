import "server-only";
import { z } from "zod";
import { HttpError, jsonError } from "./errors";

/**
 * Every route handler in app/api is wrapped in this: an HttpError becomes its JSON answer (status from
 * HTTP_STATUS); anything else is unexpected: logged with its details, answered with a plain 500.
 */
export function apiRoute<Args extends unknown[]>(handler: (...args: Args) => Promise<Response>) {
  return async (...args: Args): Promise<Response> => {
    try {
      return await handler(...args);
    } catch (error) {
      if (error instanceof HttpError) {
        return jsonError(error.code, error.message, { fieldErrors: error.fieldErrors });
      }
      console.error("[api] unexpected error", error);
      return jsonError("internal", "Something went wrong.");
    }
  };
}

/** The parsed input, or a 400 `invalid_input` with the zod field errors. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new HttpError(
      "invalid_input",
      "The request is not valid.",
      z.flattenError(parsed.error).fieldErrors as Record<string, string[]>,
    );
  }
  return parsed.data;
}
