import "server-only";
import { and, asc, desc, eq, gte, ilike, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { type Database, type Executor, getDb } from "@/db/client";
import { approvalTasks, type ReimbursementStatus, reimbursements, users } from "@/db/schema";
import type { CurrentUser } from "@/lib/auth/guards";
import { hasRole } from "@/lib/auth/roles";
import { sendPushNotification } from "@/lib/push/send";
import { formatCents } from "./money";
import type { Decision, NewReimbursement } from "./schemas";

export const HISTORY_LIMIT = 500;
export const QUEUE_LIMIT = 200;
const DUE_AFTER_DAYS = 3;

/** "Claim for $59.95 from Joe's Pharmacy by BO" */
export function claimSubject(amountCents: number, receiptFrom: string, username: string): string {
  return `Claim for ${formatCents(amountCents)} from ${receiptFrom} by ${username.toUpperCase()}`;
}

export function claimPriority(amountCents: number): "LOW" | "MEDIUM" | "HIGH" {
  return amountCents >= 100_000 ? "HIGH" : amountCents >= 10_000 ? "MEDIUM" : "LOW";
}

/**
 * Submits a claim: the reimbursement, its approval task and the approvers' notifications, in one
 * transaction. The form's token makes a double tap return the first request instead of a second one.
 */
export async function submitReimbursement(
  { user, input }: { user: Pick<CurrentUser, "id" | "username">; input: NewReimbursement },
  db: Database = getDb(),
): Promise<{ id: number; created: boolean }> {
  return db.transaction(async (tx) => {
    const [inserted] = await tx
      .insert(reimbursements)
      .values({
        userId: user.id,
        amountCents: input.amount,
        receiptFrom: input.receiptFrom,
        clientToken: input.clientToken,
      })
      .onConflictDoNothing({ target: [reimbursements.userId, reimbursements.clientToken] })
      .returning({ id: reimbursements.id });
    if (!inserted) {
      const [existing] = await tx
        .select({ id: reimbursements.id })
        .from(reimbursements)
        .where(and(eq(reimbursements.userId, user.id), eq(reimbursements.clientToken, input.clientToken)));
      return { id: existing!.id, created: false };
    }
    const subject = claimSubject(input.amount, input.receiptFrom, user.username);
    const [task] = await tx
      .insert(approvalTasks)
      .values({
        reimbursementId: inserted.id,
        subject,
        priority: claimPriority(input.amount),
        dueAt: sql`now() + make_interval(days => ${DUE_AFTER_DAYS})`,
        initiatedById: user.id,
      })
      .returning({ id: approvalTasks.id });
    const approvers = await tx
      .select({ username: users.username })
      .from(users)
      .where(and(eq(users.role, "approver"), sql`${users.id} <> ${user.id}`));
    for (const approver of approvers) {
      await sendPushNotification(
        {
          userName: approver.username,
          title: "New reimbursement claim",
          body: subject,
          targetUrl: `/approvals?task=${task!.id}`,
          tag: `claim-${inserted.id}`,
          urgency: "high",
          actions: [
            {
              action: "approve",
              title: "Approve",
              navigate: "/approvals",
              post: `/api/approvals/${task!.id}/approve`,
            },
            {
              action: "reject",
              title: "Reject",
              navigate: "/approvals",
              post: `/api/approvals/${task!.id}/reject`,
            },
          ],
        },
        tx,
      );
    }
    return { id: inserted.id, created: true };
  });
}

export function listReimbursementsForUser({ userId }: { userId: number }, db: Executor = getDb()) {
  return db
    .select({
      id: reimbursements.id,
      amountCents: reimbursements.amountCents,
      status: reimbursements.status,
      receiptFrom: reimbursements.receiptFrom,
      createdAt: reimbursements.createdAt,
    })
    .from(reimbursements)
    .where(eq(reimbursements.userId, userId))
    .orderBy(desc(reimbursements.createdAt), desc(reimbursements.id))
    .limit(HISTORY_LIMIT);
}

const claimant = alias(users, "claimant");
const decider = alias(users, "decider");

/**
 * A reimbursement as its viewer may see it: the claimant, approvers and administrators. Anyone else gets
 * null, the same answer as for a missing id, so nothing leaks.
 */
export async function getReimbursementForViewer(
  { id, viewer }: { id: number; viewer: Pick<CurrentUser, "id" | "role"> },
  db: Executor = getDb(),
) {
  const [row] = await db
    .select({
      id: reimbursements.id,
      amountCents: reimbursements.amountCents,
      receiptFrom: reimbursements.receiptFrom,
      status: reimbursements.status,
      createdAt: reimbursements.createdAt,
      decidedOn: reimbursements.decidedOn,
      decidedBy: decider.username,
      claimantId: reimbursements.userId,
      claimant: claimant.username,
    })
    .from(reimbursements)
    .innerJoin(claimant, eq(claimant.id, reimbursements.userId))
    .leftJoin(decider, eq(decider.id, reimbursements.decidedById))
    .where(eq(reimbursements.id, id));
  if (!row) return null;
  if (row.claimantId !== viewer.id && !hasRole(viewer.role, "approver")) return null;
  return row;
}

export function listOpenTasks(
  { search, showExpired, newestDueFirst }: { search: string; showExpired: boolean; newestDueFirst: boolean },
  db: Executor = getDb(),
) {
  const pattern = `%${search.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
  return db
    .select({
      id: approvalTasks.id,
      subject: approvalTasks.subject,
      priority: approvalTasks.priority,
      dueAt: approvalTasks.dueAt,
      createdAt: approvalTasks.createdAt,
      reimbursementId: approvalTasks.reimbursementId,
      initiatedBy: claimant.username,
      initiatedById: claimant.id,
    })
    .from(approvalTasks)
    .innerJoin(claimant, eq(claimant.id, approvalTasks.initiatedById))
    .where(
      and(
        eq(approvalTasks.state, "ASSIGNED"),
        showExpired ? undefined : gte(approvalTasks.dueAt, sql`now()`),
        search ? ilike(approvalTasks.subject, pattern) : undefined,
      ),
    )
    .orderBy(newestDueFirst ? desc(approvalTasks.dueAt) : asc(approvalTasks.dueAt), asc(approvalTasks.id))
    .limit(QUEUE_LIMIT);
}

export type DecisionErrorCode = "not_found" | "already_decided" | "own_claim";

export class DecisionError extends Error {
  constructor(
    readonly code: DecisionErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "DecisionError";
  }
}

const outcome: Record<Decision, { status: ReimbursementStatus; word: string; title: string }> = {
  approve: { status: "APPROVED", word: "approved", title: "Reimbursement Approved" },
  reject: { status: "REJECTED", word: "rejected", title: "Reimbursement Rejected" },
};

/**
 * Decides a claim once. The task row is locked, so a second click or a second approver waits and then
 * gets "already decided" instead of a second decision; the claimant's notification is enqueued in the
 * same transaction, so it goes out exactly when the decision commits.
 */
export async function decideReimbursement(
  {
    taskId,
    decision,
    approver,
  }: { taskId: number; decision: Decision; approver: Pick<CurrentUser, "id" | "role"> },
  db: Database = getDb(),
): Promise<{ reimbursementId: number; status: ReimbursementStatus; message: string }> {
  if (!hasRole(approver.role, "approver"))
    throw new DecisionError("not_found", "This claim is not in your queue.");
  return db.transaction(async (tx) => {
    // Lock the task first; the read below is a new statement, so it sees a racing decision's result.
    await tx
      .select({ id: approvalTasks.id })
      .from(approvalTasks)
      .where(eq(approvalTasks.id, taskId))
      .for("update");
    const [task] = await tx
      .select({
        state: approvalTasks.state,
        reimbursementId: approvalTasks.reimbursementId,
        claimantId: reimbursements.userId,
        claimant: claimant.username,
        amountCents: reimbursements.amountCents,
        receiptFrom: reimbursements.receiptFrom,
        status: reimbursements.status,
        decidedBy: decider.username,
      })
      .from(approvalTasks)
      .innerJoin(reimbursements, eq(reimbursements.id, approvalTasks.reimbursementId))
      .innerJoin(claimant, eq(claimant.id, reimbursements.userId))
      .leftJoin(decider, eq(decider.id, reimbursements.decidedById))
      .where(eq(approvalTasks.id, taskId));
    if (!task) throw new DecisionError("not_found", "This claim does not exist any more.");
    if (task.state === "COMPLETED") {
      throw new DecisionError(
        "already_decided",
        `This claim was already ${task.status.toLowerCase()} by ${(task.decidedBy ?? "another approver").toUpperCase()}.`,
      );
    }
    if (task.claimantId === approver.id)
      throw new DecisionError("own_claim", "You cannot decide your own claim.");
    const { status, word, title } = outcome[decision];
    await tx
      .update(reimbursements)
      .set({ status, decidedById: approver.id, decidedOn: sql`now()` })
      .where(eq(reimbursements.id, task.reimbursementId));
    await tx.update(approvalTasks).set({ state: "COMPLETED" }).where(eq(approvalTasks.id, taskId));
    await sendPushNotification(
      {
        userName: task.claimant,
        title,
        body: `Your reimbursement of ${formatCents(task.amountCents)} from ${task.receiptFrom} was ${word}.`,
        targetUrl: `/reimbursements/${task.reimbursementId}`,
        tag: `reimbursement-${task.reimbursementId}`,
      },
      tx,
    );
    return {
      reimbursementId: task.reimbursementId,
      status,
      message: `${claimSubject(task.amountCents, task.receiptFrom, task.claimant)} was ${word}.`,
    };
  });
}
