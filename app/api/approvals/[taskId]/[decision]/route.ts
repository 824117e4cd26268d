import { NextResponse } from "next/server";
import { apiRoute, HttpError, parseOrThrow, requireApiUser } from "@/lib/auth/api";
import { requireSameOrigin } from "@/lib/auth/origin";
import { DecisionError, decideReimbursement } from "@/lib/reimbursements/queries";
import { decisionSchema } from "@/lib/reimbursements/schemas";

export const dynamic = "force-dynamic";

const statusFor = { not_found: 404, already_decided: 409, own_claim: 403 } as const;

/**
 * Approve / Reject from a notification's action buttons (the service worker posts here with the user's
 * session), authorised exactly like the buttons of the approval queue.
 */
export const POST = apiRoute(
  async (request: Request, { params }: { params: Promise<{ taskId: string; decision: string }> }) => {
    requireSameOrigin(request);
    const user = await requireApiUser("approver");
    const { taskId, decision } = parseOrThrow(decisionSchema, await params);
    try {
      const result = await decideReimbursement({ taskId, decision, approver: user });
      return NextResponse.json({
        ok: true,
        title: decision === "approve" ? "Claim approved" : "Claim rejected",
        message: result.message,
      });
    } catch (error) {
      if (error instanceof DecisionError)
        throw new HttpError(statusFor[error.code], error.code, error.message);
      throw error;
    }
  },
);
