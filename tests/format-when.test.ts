// How a point in time reads on the pages (components/ui/format.ts): relative while recent, and a time that
// has happened never reads "in a moment" when the server's clock is a little ahead of the browser's.
import { describe, expect, it } from "vitest";
import { formatWhen } from "@/components/ui/format";

const now = Date.parse("2026-11-26T12:00:00Z");
const at = (seconds: number) => new Date(now + seconds * 1000).toISOString();

describe("formatWhen", () => {
  it("reads recent times relative to now", () => {
    expect(formatWhen(at(-5), now)).toBe("just now");
    expect(formatWhen(at(-300), now)).toBe("5 minutes ago");
    expect(formatWhen(at(5), now)).toBe("in a moment");
    expect(formatWhen(at(180), now)).toBe("in 3 minutes");
    expect(formatWhen(null, now)).toBe("—");
  });

  it("reads a past event a few seconds ahead of this clock as just now", () => {
    expect(formatWhen(at(3), now, { past: true })).toBe("just now");
    expect(formatWhen(at(44), now, { past: true })).toBe("just now");
    expect(formatWhen(at(-300), now, { past: true })).toBe("5 minutes ago");
    // Far ahead is not clock skew: shown as it is.
    expect(formatWhen(at(180), now, { past: true })).toBe("in 3 minutes");
  });
});
