import type { ReactNode } from "react";

/**
 * A box that scrolls sideways when its table is wider than the screen. It takes the keyboard focus, so
 * keyboard users can scroll it too (WCAG 2.1.1), and is a named region for screen readers.
 */
export function ScrollRegion({ label, children }: { label: string; children: ReactNode }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard.
    <section className="table-scroll" tabIndex={0} aria-label={label}>
      {children}
    </section>
  );
}
