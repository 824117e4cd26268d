import "server-only";
import { HttpError } from "./errors";
import { requireJsonContentType } from "./origin";

/**
 * Reads a JSON request body of bounded size; another content type, malformed or oversized bodies become
 * clear 4xx errors.
 */
export async function readJsonBody(request: Request, maxBytes = 16_384): Promise<unknown> {
  requireJsonContentType(request);
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw new HttpError("too_large", `The request body is over ${maxBytes} bytes.`);
  const text = await request.text();
  if (Buffer.byteLength(text) > maxBytes) {
    throw new HttpError("too_large", `The request body is over ${maxBytes} bytes.`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError("invalid_json", "The request body must be JSON.");
  }
}
