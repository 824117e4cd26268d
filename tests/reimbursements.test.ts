import { randomUUID } from "node:crypto";
import { eq, getTableColumns, inArray, sql } from "drizzle-orm";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getDb } from "@/db/client";
import {
  approvalTasks,
  pushMessages,
  pushPayloads,
  pushSubscriptions,
  reimbursements,
  type User,
  users,
} from "@/db/schema";
import { formatCents, parseAmount } from "@/lib/reimbursements/money";
import {
  claimSubject,
  DecisionError,
  decideReimbursement,
  getReimbursementForViewer,
  listOpenTasks,
  listReimbursementsForUser,
  submitReimbursement,
} from "@/lib/reimbursements/queries";
import { newReimbursementSchema } from "@/lib/reimbursements/schemas";

const people: Record<string, User> = {};
const db = () => getDb();

/** Each person gets one device row so that notifications are enqueued (nothing sends them here). */
async function giveDevice(user: User) {
  await db()
    .insert(pushSubscriptions)
    .values({
      userId: user.id,
      endpoint: `https://fcm.googleapis.com/fcm/send/${user.username}-${randomUUID()}`,
      p256dh: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString("base64url"),
      auth: Buffer.alloc(16, 2).toString("base64url"),
    });
}

async function submit(
  username: string,
  amount = "59.95",
  receiptFrom = "Joe's Pharmacy",
  clientToken = randomUUID(),
) {
  const input = newReimbursementSchema.parse({ amount, receiptFrom, clientToken });
  return submitReimbursement({ user: people[username]!, input });
}

async function taskFor(reimbursementId: number) {
  const [task] = await db()
    .select()
    .from(approvalTasks)
    .where(eq(approvalTasks.reimbursementId, reimbursementId));
  return task!;
}

async function messagesTo(username: string) {
  return db()
    .select({ ...getTableColumns(pushMessages), ...getTableColumns(pushPayloads), id: pushMessages.id })
    .from(pushMessages)
    .innerJoin(pushPayloads, eq(pushPayloads.id, pushMessages.payloadId))
    .where(eq(pushMessages.userId, people[username]!.id))
    .orderBy(pushMessages.id);
}

beforeAll(async () => {
  for (const user of await db().select().from(users)) people[user.username] = user;
});

beforeEach(async () => {
  await db().delete(pushMessages);
  await db().delete(pushSubscriptions);
  for (const user of Object.values(people)) await giveDevice(user);
});

describe("amounts", () => {
  it.each([
    ["59.95", 5995],
    ["$1,234.50", 123450],
    ["7", 700],
    [" 0.01 ", 1],
  ])("reads %s as %i cents", (text, cents) => {
    expect(parseAmount(text)).toEqual({ ok: true, cents });
  });

  it.each([
    "",
    "-1",
    "abc",
    "1e9",
    "0",
    "0.00",
    "1.234",
    "NaN",
    "Infinity",
    "100000.01",
    "<script>",
    "1;drop table",
  ])("refuses %j with a message", (text) => {
    const parsed = parseAmount(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.length).toBeGreaterThan(5);
  });

  it("formats cents as dollars", () => {
    expect(formatCents(5995)).toBe("$59.95");
    expect(claimSubject(5995, "Joe's Pharmacy", "bo")).toBe("Claim for $59.95 from Joe's Pharmacy by BO");
  });
});

describe("submitting a claim", () => {
  it("creates the request, its approval task, and notifies the approvers with Approve / Reject", async () => {
    const { id, created } = await submit("bo");
    expect(created).toBe(true);
    const [row] = await db().select().from(reimbursements).where(eq(reimbursements.id, id));
    expect(row).toMatchObject({ amountCents: 5995, receiptFrom: "Joe's Pharmacy", status: "REVIEWING" });
    const task = await taskFor(id);
    expect(task).toMatchObject({
      subject: "Claim for $59.95 from Joe's Pharmacy by BO",
      state: "ASSIGNED",
      priority: "LOW",
    });
    expect(task.dueAt.getTime()).toBeGreaterThan(Date.now() + 2 * 86_400_000);
    const [toPat] = await messagesTo("pat");
    expect(toPat).toMatchObject({
      title: "New reimbursement claim",
      body: "Claim for $59.95 from Joe's Pharmacy by BO",
    });
    expect(toPat?.targetUrl).toContain(`/approvals?task=${task.id}`);
    const actions = (toPat!.payload as { notification: { actions: { action: string; post: string }[] } })
      .notification.actions;
    expect(actions.map((a) => [a.action, a.post])).toEqual([
      ["approve", `/api/approvals/${task.id}/approve`],
      ["reject", `/api/approvals/${task.id}/reject`],
    ]);
    expect(await messagesTo("bo")).toHaveLength(0);
    expect(await messagesTo("steve")).toHaveLength(0);
  });

  it("turns a double tap into one request", async () => {
    const token = randomUUID();
    const [first, second] = await Promise.all([
      submit("bo", "12.00", "Double Tap Cafe", token),
      submit("bo", "12.00", "Double Tap Cafe", token),
    ]);
    expect(first.id).toBe(second.id);
    expect([first.created, second.created].sort()).toEqual([false, true]);
    expect(await db().$count(reimbursements, eq(reimbursements.receiptFrom, "Double Tap Cafe"))).toBe(1);
    expect((await messagesTo("pat")).filter((m) => m.body.includes("Double Tap Cafe"))).toHaveLength(1);
  });

  it("refuses bad input through the shared schema", () => {
    const token = randomUUID();
    for (const amount of ["", "-1", "abc", "1e9"]) {
      const parsed = newReimbursementSchema.safeParse({ amount, receiptFrom: "Shop", clientToken: token });
      expect(parsed.success).toBe(false);
    }
    expect(
      newReimbursementSchema.safeParse({ amount: "5", receiptFrom: "   ", clientToken: token }).success,
    ).toBe(false);
    expect(
      newReimbursementSchema.safeParse({ amount: "5", receiptFrom: "x".repeat(101), clientToken: token })
        .success,
    ).toBe(false);
    expect(
      newReimbursementSchema.safeParse({ amount: "5", receiptFrom: "Shop\\nX", clientToken: "nope" }).success,
    ).toBe(false);
    expect(
      newReimbursementSchema.safeParse({ amount: 5, receiptFrom: "Shop", clientToken: token }).success,
    ).toBe(false);
  });

  it("lists only the user's own requests", async () => {
    const { id } = await submit("steve", "5.00", "Steve's Shop");
    expect((await listReimbursementsForUser({ userId: people.bo!.id })).map((r) => r.id)).not.toContain(id);
    expect((await listReimbursementsForUser({ userId: people.steve!.id })).map((r) => r.id)).toContain(id);
  });
});

describe("deciding a claim", () => {
  it("approves, records who and when, and notifies the claimant in the same transaction", async () => {
    const { id } = await submit("bo");
    const task = await taskFor(id);
    const result = await decideReimbursement({ taskId: task.id, decision: "approve", approver: people.pat! });
    expect(result).toMatchObject({ reimbursementId: id, status: "APPROVED" });
    const claim = await getReimbursementForViewer({ id, viewer: people.bo! });
    expect(claim).toMatchObject({ status: "APPROVED", decidedBy: "pat" });
    expect(claim?.decidedOn).toBeInstanceOf(Date);
    const [message] = await messagesTo("bo");
    expect(message).toMatchObject({
      title: "Reimbursement Approved",
      body: "Your reimbursement of $59.95 from Joe's Pharmacy was approved.",
      targetUrl: `http://localhost:3000/reimbursements/${id}`,
    });
  });

  it("rejects with the rejected wording", async () => {
    const { id } = await submit("steve", "20.00", "Taxi");
    await decideReimbursement({ taskId: (await taskFor(id)).id, decision: "reject", approver: people.pat! });
    const [message] = await messagesTo("steve");
    expect(message).toMatchObject({
      title: "Reimbursement Rejected",
      body: "Your reimbursement of $20.00 from Taxi was rejected.",
    });
  });

  it("decides once: a second click or a racing approver gets a clear message and no second notification", async () => {
    const { id } = await submit("bo", "33.00", "Race Diner");
    const task = await taskFor(id);
    const outcomes = await Promise.allSettled([
      decideReimbursement({ taskId: task.id, decision: "approve", approver: people.pat! }),
      decideReimbursement({ taskId: task.id, decision: "reject", approver: people.admin! }),
    ]);
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    const refused = outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(DecisionError);
    expect((refused.reason as DecisionError).code).toBe("already_decided");
    expect((refused.reason as DecisionError).message).toMatch(
      /^This claim was already (approved|rejected) by (PAT|ADMIN)\.$/,
    );
    const again = await decideReimbursement({
      taskId: task.id,
      decision: "approve",
      approver: people.pat!,
    }).catch((e) => e);
    expect(again).toBeInstanceOf(DecisionError);
    expect(await messagesTo("bo")).toHaveLength(1);
  });

  it("does not let an approver decide their own claim, nor an employee decide at all", async () => {
    const { id } = await submit("pat", "15.00", "Pat's Own");
    const task = await taskFor(id);
    const own = await decideReimbursement({
      taskId: task.id,
      decision: "approve",
      approver: people.pat!,
    }).catch((e) => e);
    expect(own).toMatchObject({ code: "own_claim", message: "You cannot decide your own claim." });
    const employee = await decideReimbursement({
      taskId: task.id,
      decision: "approve",
      approver: people.bo!,
    }).catch((e) => e);
    expect(employee).toMatchObject({ code: "not_found" });
    const [row] = await db().select().from(reimbursements).where(eq(reimbursements.id, id));
    expect(row?.status).toBe("REVIEWING");
    // The approver's own claim notified nobody else but never the approver themself.
    expect((await messagesTo("pat")).filter((m) => m.body.includes("Pat's Own"))).toHaveLength(0);
  });

  it("answers not found for a task that does not exist", async () => {
    await expect(
      decideReimbursement({ taskId: 999_999, decision: "approve", approver: people.pat! }),
    ).rejects.toMatchObject({
      code: "not_found",
    });
  });
});

describe("who sees what", () => {
  it("shows a claim to its creator, approvers and admins only", async () => {
    const { id } = await submit("steve", "9.99", "Private Shop");
    expect(await getReimbursementForViewer({ id, viewer: people.steve! })).not.toBeNull();
    expect(await getReimbursementForViewer({ id, viewer: people.pat! })).not.toBeNull();
    expect(await getReimbursementForViewer({ id, viewer: people.admin! })).not.toBeNull();
    expect(await getReimbursementForViewer({ id, viewer: people.bo! })).toBeNull();
    expect(await getReimbursementForViewer({ id: 987_654, viewer: people.admin! })).toBeNull();
  });

  it("searches the queue, hides expired tasks unless asked, and sorts by due date", async () => {
    const soon = await submit("bo", "1.00", "Zebra Search Store");
    const later = await submit("bo", "2.00", "Zebra Search Store");
    const expired = await submit("bo", "3.00", "Zebra Search Store");
    await db()
      .update(approvalTasks)
      .set({ dueAt: sql`now() + interval '1 day'` })
      .where(eq(approvalTasks.reimbursementId, soon.id));
    await db()
      .update(approvalTasks)
      .set({ dueAt: sql`now() - interval '1 day'` })
      .where(eq(approvalTasks.reimbursementId, expired.id));
    const ids = async (options: { showExpired: boolean; newestDueFirst: boolean }) =>
      (await listOpenTasks({ search: "zebra search", ...options })).map((task) => task.reimbursementId);
    expect(await ids({ showExpired: false, newestDueFirst: false })).toEqual([soon.id, later.id]);
    expect(await ids({ showExpired: true, newestDueFirst: false })).toEqual([expired.id, soon.id, later.id]);
    expect(await ids({ showExpired: true, newestDueFirst: true })).toEqual([later.id, soon.id, expired.id]);
    expect(await listOpenTasks({ search: "%", showExpired: true, newestDueFirst: false })).toEqual([]);
    await db()
      .delete(reimbursements)
      .where(inArray(reimbursements.id, [soon.id, later.id, expired.id]));
  });
});
