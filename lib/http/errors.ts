import "server-only";
import { NextResponse } from "next/server";

/**
 * The error codes route handlers answer with, and the one place that maps each to its HTTP status.
 * Handlers throw `HttpError(code, sentence)` (or turn a domain refusal into one); `apiRoute` answers
 * `{ ok: false, code, error, fieldErrors? }` with the status below.
 */
export const HTTP_STATUS = {
  invalid_input: 400,
  invalid_json: 400,
  invalid_file: 400,
  endpoint_refused: 400,
  unauthorized: 401,
  forbidden: 403,
  cross_origin: 403,
  own_claim: 403,
  not_found: 404,
  already_decided: 409,
  endpoint_taken: 409,
  busy: 409,
  too_large: 413,
  unsupported_media_type: 415,
  too_many_attempts: 429,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof HTTP_STATUS;

/** An expected refusal a route handler answers with: a stable code and a sentence safe to show. */
export class HttpError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fieldErrors?: Record<string, string[]>,
  ) {
    super(message);
    this.name = "HttpError";
  }

  get status(): number {
    return HTTP_STATUS[this.code];
  }
}

/** The JSON answer for an error code: `{ ok: false, code, error, fieldErrors? }` with the code's status. */
export function jsonError(
  code: ErrorCode,
  message: string,
  options: { fieldErrors?: Record<string, string[]>; headers?: HeadersInit } = {},
): NextResponse {
  return NextResponse.json(
    { ok: false, code, error: message, fieldErrors: options.fieldErrors },
    { status: HTTP_STATUS[code], headers: options.headers },
  );
}
