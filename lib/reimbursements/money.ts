/** The largest single claim accepted: $100,000.00. */
export const MAX_AMOUNT_CENTS = 10_000_000;

const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });

/** "$59.95" */
export function formatCents(cents: number): string {
  return usd.format(cents / 100);
}

/**
 * Parses what a person types as an amount: digits with at most two decimals, optional "$" and thousands
 * separators. No exponents, signs or other tricks; the result is integer cents.
 */
export function parseAmount(input: string): { ok: true; cents: number } | { ok: false; error: string } {
  const text = input
    .trim()
    .replace(/^\$/, "")
    .replace(/,(?=\d{3}(\D|$))/g, "");
  if (text === "") return { ok: false, error: "Enter the amount." };
  if (!/^\d{1,9}(\.\d{1,2})?$/.test(text)) {
    return { ok: false, error: "Enter the amount as a number with at most two decimals, such as 59.95." };
  }
  const [whole = "0", fraction = ""] = text.split(".");
  const cents = Number(whole) * 100 + Number(fraction.padEnd(2, "0"));
  if (cents <= 0) return { ok: false, error: "The amount must be more than zero." };
  if (cents > MAX_AMOUNT_CENTS)
    return { ok: false, error: `The amount can be at most ${formatCents(MAX_AMOUNT_CENTS)}.` };
  return { ok: true, cents };
}
