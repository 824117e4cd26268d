import { z } from "zod";

// zod probes `Function("")` to decide on its JIT; in the browser the CSP (no 'unsafe-eval') refuses and
// reports it as a violation. Without the JIT nothing is probed; this module is in every bundle that
// holds a schema (data-load rules, department and reimbursement schemas).
z.config({ jitless: true });

/** True when the text holds ASCII control characters (newlines, NUL, escape…), never wanted in one-line fields. */
export function hasControlCharacters(value: string): boolean {
  for (const char of value) {
    const code = char.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/**
 * A one-line text field: control characters (NUL, newlines, tabs, escape…) are refused with a field
 * error, then the value is trimmed and normalised (`transform`, e.g. upper-casing), and the limits are
 * checked on that stored form — "ß".toUpperCase() is "SS", so checking before would let 15 letters
 * into a 14-character column.
 */
export function singleLineText({
  label,
  max,
  min = 1,
  transform = (value: string) => value,
}: {
  label: string;
  max: number;
  min?: number;
  transform?: (value: string) => string;
}) {
  return z
    .string({ message: `${label} is required.` })
    .refine((value) => !hasControlCharacters(value), {
      message: `${label} must be one line without control characters.`,
      abort: true,
    })
    .transform((value) => transform(value.trim()))
    .pipe(
      z
        .string()
        .min(min, { message: `${label} is required.` })
        .max(max, { message: `${label} must be at most ${max} characters.` }),
    );
}
