import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { executionFiles, executions, users } from "@/db/schema";
import { abortExecution, defineChain, runChain } from "@/lib/chains";
import { chainsHarness } from "./support/chains-harness";
import { waitFor } from "./support/fresh-database";

// Application limit 1 and one per user: a parent that held its slot while waiting would deadlock.
const h = chainsHarness("an_chains_children", {
  leaseMs: 5_000,
  pollMs: 100,
  progressMs: 30,
  maxConcurrent: 1,
  maxPerUser: 1,
});

type Numbers = { n: number; fail?: boolean; wait?: boolean; doubled?: number };
const doubler = defineChain<Numbers>({
  name: "test.child.double",
  serialize: "chain",
  steps: [
    {
      name: "Double",
      run: async (ctx) => {
        if (ctx.state.wait) {
          await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve()));
          ctx.throwIfAborted();
        }
        if (ctx.state.fail) throw new Error("cannot double");
        ctx.state.doubled = ctx.state.n * 2;
      },
    },
  ],
});
const parent = defineChain<Numbers & { result?: number; error?: string }>({
  name: "test.child.parent",
  steps: [
    {
      name: "Run the child and wait",
      run: async (ctx) => {
        const child = await ctx.runChild(doubler, {
          n: ctx.state.n,
          fail: ctx.state.fail,
          wait: ctx.state.wait,
        });
        ctx.state.result = child.doubled;
      },
    },
  ],
});

const seenFiles: string[] = [];
const backgroundPart = defineChain<{ label: string }>({
  name: "test.child.background-part",
  background: true,
  serialize: "chain",
  fileHandling: "copy",
  steps: [
    {
      name: "Read the parent's file",
      run: async (ctx) => {
        for (const file of await ctx.files())
          seenFiles.push(`${ctx.state.label}:${file.content.toString("utf8")}`);
      },
    },
  ],
});
const inlineRuns: string[] = [];
const withBackgroundPart = defineChain<{ label: string }>({
  name: "test.child.with-background-part",
  fileHandling: "copy",
  steps: [
    { name: "Before", run: () => void inlineRuns.push("before") },
    backgroundPart,
    { name: "After", run: () => void inlineRuns.push("after") },
  ],
});

describe("nested chains and child executions (E6)", () => {
  it("ctx.runChild waits for the child's final state; with a limit of 1 the waiting parent gives its slot to the child", async () => {
    await h.startHost({ concurrency: 4 });
    const id = await h.enqueue(parent, { n: 21 });
    const [ended] = await waitFor(
      () => h.rows([id]),
      ([r]) => r?.status === "SUCCESS" || r?.status === "FAILED",
      15_000,
    );
    expect(ended).toMatchObject({ status: "SUCCESS", state: { n: 21, result: 42 }, awaitingChild: false });
    const children = await h.db.select().from(executions).where(eq(executions.parentId, id));
    expect(children).toHaveLength(1);
    // The child's own settings apply: serialized per chain.
    expect(children[0]).toMatchObject({ status: "SUCCESS", serializeKey: "chain", userId: h.bo.id });
  });

  it("a child that FAILED makes the awaiting step throw ChildExecutionError: the parent ends FAILED", async () => {
    await h.startHost({ concurrency: 4 });
    const id = await h.enqueue(parent, { n: 1, fail: true });
    const [ended] = await waitFor(
      () => h.rows([id]),
      ([r]) => r?.status === "SUCCESS" || r?.status === "FAILED",
      15_000,
    );
    expect(ended?.status).toBe("FAILED");
    expect(ended?.error).toMatch(/^Child execution \d+ \(test\.child\.double\) failed: cannot double$/);
  });

  it("a child aborted on its own fails the awaiting parent; aborting the parent aborts the child", async () => {
    await h.startHost({ concurrency: 4 });
    const admin = { userId: 0, mayAbortAny: true };
    const first = await h.enqueue(parent, { n: 1, wait: true });
    const [child] = await waitFor(
      () => h.db.select().from(executions).where(eq(executions.parentId, first)),
      (rows) => rows[0]?.status === "EXECUTING",
    );
    await abortExecution({ id: child!.id, by: admin }, h.db);
    const [failed] = await waitFor(
      () => h.rows([first]),
      ([r]) => r?.status === "FAILED",
    );
    expect(failed?.error).toBe(`Child execution ${child!.id} (test.child.double) was aborted`);

    const second = await h.enqueue(parent, { n: 2, wait: true });
    const [child2] = await waitFor(
      () => h.db.select().from(executions).where(eq(executions.parentId, second)),
      (rows) => rows[0]?.status === "EXECUTING",
    );
    await abortExecution({ id: second, by: admin }, h.db);
    const ended = await waitFor(
      () => h.rows([second, child2!.id]),
      (rows) => rows.every((r) => r.status === "ABORTED"),
    );
    expect(ended.map((r) => r.status)).toEqual(["ABORTED", "ABORTED"]);
  });

  it("a nested chain with background: true becomes a child execution with its own settings and the parent's files", async () => {
    const id = await h.enqueue(withBackgroundPart, { label: "p" });
    await h.db.insert(executionFiles).values({
      executionId: id,
      name: "a.txt",
      contentType: "text/plain",
      size: 5,
      content: Buffer.from("hello"),
    });
    await h.startHost({ concurrency: 4 });
    const [child] = await waitFor(
      () => h.db.select().from(executions).where(eq(executions.parentId, id)),
      (rows) => rows[0]?.status === "SUCCESS",
    );
    expect(child).toMatchObject({
      chainName: "test.child.background-part",
      serializeKey: "chain",
      input: { label: "p" },
    });
    expect((await h.rows([id]))[0]?.status).toBe("SUCCESS");
    // Not run inline: the parent ran its own steps only.
    expect(inlineRuns).toEqual(["before", "after"]);
    expect(seenFiles).toEqual(["p:hello"]);
  });

  it("conditions may be async and read the database", async () => {
    const chain = defineChain<{ ran?: string[] }>({
      name: "test.child.async-when",
      steps: [
        {
          name: "Only with users",
          when: async (_state, ctx) => (await ctx.db.$count(users)) > 0,
          run: ({ state }) => ({ ran: [...(state.ran ?? []), "users"] }),
        },
        {
          name: "Only with a user named nobody",
          when: async (_state, ctx) => (await ctx.db.$count(users, eq(users.username, "nobody"))) > 0,
          run: ({ state }) => ({ ran: [...(state.ran ?? []), "nobody"] }),
        },
      ],
    });
    expect(await runChain(chain, {}, { user: h.bo, db: h.db })).toEqual({ ran: ["users"] });
  });
});
