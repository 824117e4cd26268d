import { z } from "zod";

const MAX_ID = 2_147_483_647;

/**
 * A row id from a form, a URL segment or a JSON body: a positive integer or its decimal digits. Nothing
 * else is coerced (z.coerce would turn `true` into 1 and "" into 0), and ids beyond PostgreSQL's integer
 * range are refused here instead of failing in the query.
 */
export function idSchema(message = "Choose a valid id.") {
  return z
    .union(
      [
        z.number(),
        z
          .string()
          .trim()
          .regex(/^\d{1,10}$/),
      ],
      { message },
    )
    .transform(Number)
    .pipe(z.number({ message }).int({ message }).positive({ message }).max(MAX_ID, { message }));
}
