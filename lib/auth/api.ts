import "server-only";
import { NextResponse } from "next/server";
import { z } from "zod";
import type { UserRole } from "@/db/schema";
import { type CurrentUser, getCurrentUser } from "./guards";
import { hasRole } from "./roles";

/** An error a route handler answers with: status, stable code, and a message safe to show. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fieldErrors?: Record<string, string[]>,
  ) {
    super(message);
  }
}

export async function requireApiUser(role: UserRole = "employee"): Promise<CurrentUser> {
  const user = await getCurrentUser();
  if (!user) throw new HttpError(401, "unauthorized", "Sign in first.");
  if (!hasRole(user.role, role)) throw new HttpError(403, "forbidden", "You are not allowed to do this.");
  return user;
}

export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new HttpError(
      400,
      "invalid_input",
      "The request is not valid.",
      z.flattenError(parsed.error).fieldErrors as Record<string, string[]>,
    );
  }
  return parsed.data;
}

/** Wraps a route handler: known errors become JSON with their status; anything else a logged 500. */
export function apiRoute<Args extends unknown[]>(handler: (...args: Args) => Promise<Response>) {
  return async (...args: Args): Promise<Response> => {
    try {
      return await handler(...args);
    } catch (error) {
      if (error instanceof HttpError) {
        return NextResponse.json(
          { ok: false, code: error.code, error: error.message, fieldErrors: error.fieldErrors },
          { status: error.status },
        );
      }
      console.error("[api] unexpected error", error);
      return NextResponse.json(
        { ok: false, code: "internal", error: "Something went wrong." },
        { status: 500 },
      );
    }
  };
}
