import { CronExpressionParser } from "cron-parser";
import type { Chain } from "./define";
import { snapshotInput } from "./snapshot";

/** A cron schedule declared in code: an execution of `chain` with `input` at every slot. */
export interface ScheduleOptions<S extends object> {
  /** Stable name (one row in execution_schedules, and part of each slot's key). */
  name: string;
  /** Five fields (minute hour day month weekday) or six with seconds first, as cron-parser reads them. */
  cron: string;
  chain: Chain<S>;
  input: S;
  /** IANA time zone the cron fields are read in (default UTC). */
  timezone?: string;
}

export interface Schedule<S extends object = object> extends Readonly<ScheduleOptions<S>> {
  readonly timezone: string;
}

// biome-ignore lint/suspicious/noExplicitAny: the registry holds schedules of every input type.
export type AnySchedule = Schedule<any>;

const globalForSchedules = globalThis as unknown as { __executionSchedules?: Map<string, AnySchedule> };
globalForSchedules.__executionSchedules ??= new Map();
const registry = globalForSchedules.__executionSchedules;

const NAME = /^[A-Za-z0-9][\w.:-]{0,99}$/;

/** The latest slot at or before `now` (null when the expression has none), in the schedule's time zone. */
export function latestSlot(cron: string, timezone: string, now: Date): Date | null {
  const expression = CronExpressionParser.parse(cron, {
    currentDate: new Date(now.getTime() + 1),
    tz: timezone,
  });
  return expression.hasPrev() ? expression.prev().toDate() : null;
}

/** The first slot after `now`. */
export function nextSlot(cron: string, timezone: string, now: Date): Date | null {
  const expression = CronExpressionParser.parse(cron, { currentDate: now, tz: timezone });
  return expression.hasNext() ? expression.next().toDate() : null;
}

/**
 * Declares a schedule. Workers that loaded the module fire it: exactly once per slot across all processes
 * (the schedule's row is locked while a slot is taken, and each execution carries the key
 * `schedule:<name>:<slot>`), and after downtime at most the one latest missed slot. The executions are
 * system executions (no user).
 */
export function defineSchedule<S extends object>(options: ScheduleOptions<S>): Schedule<S> {
  if (!NAME.test(options.name)) throw new Error(`Invalid schedule name "${options.name}"`);
  const timezone = options.timezone ?? "UTC";
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
  } catch {
    throw new Error(`Schedule "${options.name}": unknown time zone "${timezone}"`);
  }
  try {
    CronExpressionParser.parse(options.cron, { tz: timezone });
  } catch (error) {
    throw new Error(
      `Schedule "${options.name}": invalid cron "${options.cron}" (${(error as Error).message})`,
    );
  }
  snapshotInput(options.chain, options.input); // a bad input fails here, not at the first slot
  const schedule: Schedule<S> = Object.freeze({ ...options, timezone });
  registry.set(schedule.name, schedule);
  return schedule;
}

export function registeredSchedules(): AnySchedule[] {
  return [...registry.values()];
}
