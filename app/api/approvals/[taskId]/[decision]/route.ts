import { NextResponse } from "next/server";
import { requireApiUser } from "@/lib/auth/api";
import { HttpError } from "@/lib/http/errors";
import { requireSameOrigin } from "@/lib/http/origin";
import { apiRoute, parseOrThrow } from "@/lib/http/route";
import { DecisionError, decideReimbursement } from "@/lib/reimbursements/queries";
import { decisionSchema } from "@/lib/reimbursements/schemas";

export const dynamic = "force-dynamic";

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
      if (error instanceof DecisionError) throw new HttpError(error.code, error.message);
      throw error;
    }
  },
);
