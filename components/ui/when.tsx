"use client";

import { useEffect, useState } from "react";
import { formatDateTime, formatWhen } from "./format";

/**
 * A point in time, relative while recent ("5 minutes ago"), with the full date as its title. Server and
 * browser may differ in clock and time zone: the browser's rendering wins without a hydration error.
 */
export function When({ value }: { value: string | null | undefined }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(timer);
  }, []);
  if (!value) return <>—</>;
  return (
    <time dateTime={value} title={formatDateTime(value)} className="nowrap" suppressHydrationWarning>
      {formatWhen(value, now)}
    </time>
  );
}
