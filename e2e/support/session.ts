import { type APIRequestContext, expect, request as playwrightRequest } from "@playwright/test";
import { DEMO_PASSWORD } from "./fixtures";

/** Signs a request context in through next-auth's credentials endpoint (what the sign-in form ends in). */
export async function signInRequest(request: APIRequestContext, username: string, headers = {}) {
  const csrf = await request.get("/api/auth/csrf", { headers });
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const response = await request.post("/api/auth/callback/credentials", {
    form: { csrfToken, username, password: DEMO_PASSWORD, callbackUrl: "/" },
    headers,
    maxRedirects: 0,
  });
  expect(response.status(), `sign-in of ${username}`).toBe(302);
  expect(response.headers().location ?? "").not.toContain("error");
  return response;
}

/** A fresh API context for `username` (null: signed out), with the base URL of the run. */
export async function requestAs(baseURL: string, username: string | null): Promise<APIRequestContext> {
  const context = await playwrightRequest.newContext({ baseURL });
  if (username) await signInRequest(context, username);
  return context;
}
