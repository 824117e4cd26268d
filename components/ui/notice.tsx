import type { ReactNode } from "react";

export type NoticeTone = "info" | "success" | "error";

/**
 * A message box on a page. Success is announced politely (role status), an error at once (role alert);
 * info is page text and announces nothing. `announce={false}` for a success or error that is part of
 * what the page shows (a failed load's reason in a list) rather than the answer to what the user just did.
 */
export function Notice({
  tone,
  children,
  as: Tag = "p",
  announce = true,
}: {
  tone: NoticeTone;
  children: ReactNode;
  /** `div` when the notice holds blocks (paragraphs, lists). */
  as?: "p" | "div";
  announce?: boolean;
}) {
  const role = !announce || tone === "info" ? undefined : tone === "error" ? "alert" : "status";
  return (
    <Tag className={`alert alert-${tone}`} role={role}>
      {children}
    </Tag>
  );
}
