"use client";

import { useEffect, useState } from "react";
import { formatDateTime, formatWhen } from "./format";

/**
 * A point in time, relative while recent ("5 minutes ago"), with the full date as its title. Server and
 * browser may differ in clock and time zone: the browser's rendering wins without a hydration error.
 * `past`: the time of something that happened, never shown as "in a moment" for a clock a little behind.
 */
export function When({ value, past = false }: { value: string | null | undefined; past?: boolean }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(timer);
  }, []);
  // A live row's time changes after the page loaded: "now" is read again with it, or a change made a
  // second ago would read "in a moment" (later than the "now" of the last tick) until the next tick.
  const [shown, setShown] = useState(value);
  if (value !== shown) {
    setShown(value);
    setNow(Date.now());
  }
  if (!value) return <>—</>;
  return (
    <time dateTime={value} title={formatDateTime(value)} className="nowrap" suppressHydrationWarning>
      {formatWhen(value, now, { past })}
    </time>
  );
}
