import "server-only";
import { and, eq, sql } from "drizzle-orm";
import { EXECUTIONS_CHANNEL } from "@/db/channels";
import { type Executor, getDb, notify, queryRows } from "@/db/client";
import { executionSettings } from "@/db/schema";
import { getEnv } from "@/lib/env";
import { getChain, labelOf, registeredChainNames } from "./define";
import { defaultPerUserLimit } from "./sql/claim-executions";

/** The most an administrator may set any limit to (0 holds everything in its scope). */
export const MAX_LIMIT_SETTING = 10_000;

/** One limit as the admin page shows it: the runtime setting (null: none) and the default it overrides. */
export interface LimitSetting {
  value: number | null;
  /** In effect when value is null (the env value or the chain's own setting; null: unlimited). */
  fallback: number | null;
}

export interface ExecutionLimits {
  app: LimitSetting;
  perUser: LimitSetting;
  /** Every chain registered in this process, with its label and its runtime maxConcurrent. */
  chains: (LimitSetting & { chainName: string; label: string })[];
}

/** The runtime limits (execution_settings) with the defaults they override. */
export async function getExecutionLimits(db: Executor = getDb()): Promise<ExecutionLimits> {
  const rows = await db.select().from(executionSettings);
  const find = (scope: "app" | "user" | "chain", chainName = "") =>
    rows.find((row) => row.scope === scope && row.chainName === chainName)?.maxConcurrent ?? null;
  const env = getEnv();
  const app = find("app");
  const names = new Set([
    ...registeredChainNames(),
    ...rows.filter((row) => row.scope === "chain").map((row) => row.chainName),
  ]);
  return {
    app: { value: app, fallback: env.BACKGROUND_MAX_CONCURRENT },
    perUser: {
      value: find("user"),
      fallback: env.BACKGROUND_MAX_PER_USER ?? defaultPerUserLimit(app ?? env.BACKGROUND_MAX_CONCURRENT),
    },
    chains: [...names]
      .map((chainName) => {
        const chain = getChain(chainName);
        const label = chain ? labelOf(chain) : chainName;
        return { chainName, label, value: find("chain", chainName), fallback: chain?.maxConcurrent ?? null };
      })
      .sort((a, b) => a.chainName.localeCompare(b.chainName)),
  };
}

export interface LimitChanges {
  /** null: back to the default. */
  app?: number | null;
  perUser?: number | null;
  chains?: Record<string, number | null>;
}

function checked(value: number | null | undefined, what: string): number | null | undefined {
  if (value === null || value === undefined) return value;
  if (!Number.isInteger(value) || value < 0 || value > MAX_LIMIT_SETTING) {
    throw new RangeError(`${what} must be a whole number from 0 to ${MAX_LIMIT_SETTING}`);
  }
  return value;
}

/**
 * Stores runtime limits (0 holds everything in that scope; null removes the setting, so the default
 * applies) and wakes every worker process: their next claim reads them, within the poll interval at most.
 * Running executions go on; the limits decide what starts.
 */
export async function setExecutionLimits(
  changes: LimitChanges,
  { by }: { by: string },
  db: Executor = getDb(),
): Promise<void> {
  const entries: { scope: "app" | "user" | "chain"; chainName: string; value: number | null }[] = [];
  const app = checked(changes.app, "The application-wide limit");
  if (app !== undefined) entries.push({ scope: "app", chainName: "", value: app });
  const perUser = checked(changes.perUser, "The per-user limit");
  if (perUser !== undefined) entries.push({ scope: "user", chainName: "", value: perUser });
  for (const [chainName, value] of Object.entries(changes.chains ?? {})) {
    const limit = checked(value, `The limit of ${chainName}`);
    if (limit !== undefined) entries.push({ scope: "chain", chainName, value: limit });
  }
  const apply = async (tx: Executor) => {
    for (const entry of entries) {
      if (entry.value === null) {
        await tx
          .delete(executionSettings)
          .where(
            and(eq(executionSettings.scope, entry.scope), eq(executionSettings.chainName, entry.chainName)),
          );
      } else {
        await tx
          .insert(executionSettings)
          .values({
            scope: entry.scope,
            chainName: entry.chainName,
            maxConcurrent: entry.value,
            updatedBy: by,
          })
          .onConflictDoUpdate({
            target: [executionSettings.scope, executionSettings.chainName],
            set: { maxConcurrent: entry.value, updatedBy: by, updatedAt: sql`clock_timestamp()` },
          });
      }
    }
    await notify(tx, EXECUTIONS_CHANNEL);
  };
  await db.transaction(apply);
}

/** The application-wide limit in effect now (the runtime setting, else BACKGROUND_MAX_CONCURRENT). */
export async function effectiveAppLimit(db: Executor = getDb()): Promise<number> {
  const [row] = await queryRows<{ value: number | null }>(
    db,
    sql`select max_concurrent as value from execution_settings where scope = 'app' and chain_name = ''`,
  );
  return row?.value ?? getEnv().BACKGROUND_MAX_CONCURRENT;
}
