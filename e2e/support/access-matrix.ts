// THE authorisation matrix (SPEC A3): every page, route handler and server action of app/, with who may
// use it. e2e/access-matrix.spec.ts checks every line against the running app for every persona, and
// tests/access-matrix.test.ts fails when a page, route or action exists without a line here.
// Adding one: one line, keyed exactly as that test's message prints it.

export const personas = ["signedOut", "otherEmployee", "approver", "admin", "employee"] as const;
export type Persona = (typeof personas)[number];

/** Who signs in as each persona; `employee` owns the claim and the device made for the checks. */
export const personaUsers: Record<Persona, string | null> = {
  signedOut: null,
  employee: "bo",
  otherEmployee: "steve",
  approver: "pat",
  admin: "admin",
};

type Access = "allow" | "deny";
const rule = (allowed: Persona[]): Record<Persona, Access> =>
  Object.fromEntries(personas.map((p) => [p, allowed.includes(p) ? "allow" : "deny"])) as Record<
    Persona,
    Access
  >;

export const rules = {
  anyone: rule(["signedOut", "employee", "otherEmployee", "approver", "admin"]),
  signedIn: rule(["employee", "otherEmployee", "approver", "admin"]),
  approver: rule(["approver", "admin"]),
  admin: rule(["admin"]),
  /** The claimant, approvers and admins (SPEC P10). */
  claimViewers: rule(["employee", "approver", "admin"]),
  /** Only the user the row belongs to. */
  owner: rule(["employee"]),
  /** The user the row belongs to, and admins. */
  ownerOrAdmin: rule(["employee", "admin"]),
};
export type Rule = keyof typeof rules;

/** Rows the spec creates first, all belonging to `employee`. */
export interface MatrixData {
  claimId: number;
  taskId: number;
  deviceId: number;
  /** A (finished) background execution of `employee`. */
  executionId: number;
}

export type MatrixEntry =
  | { page: string; rule: Rule; url?: (data: MatrixData) => string }
  | {
      route: string;
      rule: Rule;
      url?: (data: MatrixData) => string;
      body?: unknown;
      /** Several checks of one handler (e.g. a query parameter with its own rule). */
      variant?: string;
      /** Refuses others with the answer a missing id gets (404), so that ids cannot be probed. */
      hidesAsMissing?: true;
    }
  | {
      action: string;
      rule: Rule;
      args: (data: MatrixData) => unknown[];
      /** Errors that mean "refused" besides the session/role ones (ownership checks). */
      refusedWith?: RegExp;
      /** The call ends the session it is made with: it runs on a sign-in of its own. */
      endsSession?: true;
    };

const F = (fields: Record<string, string>) => ({ form: fields });
export type FormFields = ReturnType<typeof F>;

export const accessMatrix: MatrixEntry[] = [
  // Pages
  { page: "/signin", rule: "anyone" },
  { page: "/", rule: "signedIn" },
  { page: "/reimbursements", rule: "signedIn" },
  { page: "/reimbursements/[id]", rule: "claimViewers", url: (d) => `/reimbursements/${d.claimId}` },
  { page: "/approvals", rule: "approver" },
  { page: "/settings", rule: "signedIn" },
  { page: "/settings/push", rule: "signedIn" },
  { page: "/departments", rule: "signedIn" },
  { page: "/processing/status", rule: "signedIn" },
  { page: "/processing/history", rule: "signedIn" },
  { page: "/data-load", rule: "signedIn" },
  { page: "/executions", rule: "signedIn" },
  { page: "/executions/[id]", rule: "ownerOrAdmin", url: (d) => `/executions/${d.executionId}` },
  { page: "/admin/push-queue", rule: "admin" },
  { page: "/admin/subscriptions", rule: "admin" },
  { page: "/admin/executions", rule: "admin" },
  { page: "/admin/users", rule: "admin" },

  // Route handlers
  { route: "GET /api/health", rule: "anyone" },
  { route: "GET /api/metrics", rule: "admin" },
  { route: "GET /manifest.webmanifest", rule: "anyone" },
  { route: "GET /api/auth/[...nextauth]", rule: "anyone", url: () => "/api/auth/session" },
  { route: "POST /api/auth/[...nextauth]", rule: "anyone", url: () => "/api/auth/signout" },
  { route: "GET /api/push/public-key", rule: "signedIn" },
  { route: "POST /api/push/subscriptions", rule: "signedIn", body: { endpoint: "x" } },
  { route: "DELETE /api/push/subscriptions", rule: "signedIn", body: { endpoint: "https://nowhere/x" } },
  { route: "GET /api/executions", rule: "signedIn" },
  { route: "GET /api/executions", variant: "all", rule: "admin", url: () => "/api/executions?scope=all" },
  {
    route: "GET /api/executions/[id]",
    rule: "ownerOrAdmin",
    url: (d) => `/api/executions/${d.executionId}`,
    hidesAsMissing: true,
  },
  {
    route: "GET /api/executions/[id]/events",
    rule: "ownerOrAdmin",
    url: (d) => `/api/executions/${d.executionId}/events`,
    hidesAsMissing: true,
  },
  { route: "GET /api/processing/status", rule: "signedIn" },
  { route: "GET /api/data-load", rule: "signedIn" },
  // Not a multipart upload: allowed callers get 400, the others 401.
  { route: "POST /api/data-load", rule: "signedIn", body: { file: "x" } },
  {
    route: "POST /api/approvals/[taskId]/[decision]",
    rule: "approver",
    url: (d) => `/api/approvals/${d.taskId}/approve`,
  },

  // Server actions (file#export)
  { action: "app/signin/actions.ts#signInAction", rule: "anyone", args: () => [{}, F({})] },
  // Only callable from the app's pages, which need a session (proxy.ts).
  { action: "app/signin/actions.ts#signOutAction", rule: "signedIn", args: () => [], endsSession: true },
  {
    action: "app/(app)/reimbursements/actions.ts#submitReimbursementAction",
    rule: "signedIn",
    args: () => [{}, F({ amount: "", receiptFrom: "", clientToken: "" })],
  },
  {
    action: "app/(app)/approvals/actions.ts#decideAction",
    rule: "approver",
    args: () => [{ taskId: 2_000_000_000, decision: "approve" }],
  },
  {
    action: "app/(app)/executions/actions.ts#abortExecutionAction",
    rule: "ownerOrAdmin",
    args: (d) => [{ id: d.executionId }],
    refusedWith: /was not found/,
  },
  {
    action: "app/(app)/settings/push/actions.ts#removeDeviceAction",
    rule: "owner",
    args: (d) => [{ id: d.deviceId }],
    refusedWith: /not in your list/,
  },
  {
    action: "app/(app)/settings/push/actions.ts#sendTestNotificationAction",
    rule: "signedIn",
    args: () => [{}],
  },
  // Without the confirmation / with a wrong password shape: nobody's sessions end during the run.
  { action: "app/(app)/settings/actions.ts#signOutEverywhereAction", rule: "signedIn", args: () => [{}] },
  { action: "app/(app)/settings/actions.ts#changePasswordAction", rule: "signedIn", args: () => [{}] },
  {
    action: "app/(app)/admin/users/actions.ts#endUserSessionsAction",
    rule: "admin",
    args: () => [{ userId: 0 }],
  },
  // Departments demo: a department that does not exist, so nothing changes for the parallel tests.
  {
    action: "app/(app)/departments/actions.ts#saveAndProcessAction",
    rule: "signedIn",
    args: () => [{ deptno: 9999, dname: "NOWHERE", loc: "NOWHERE" }],
  },
  {
    action: "app/(app)/departments/actions.ts#applyDepartmentChangesAction",
    rule: "signedIn",
    args: () => [{ deptno: 9999, dname: "NOWHERE", loc: "NOWHERE" }],
  },
  {
    action: "app/(app)/departments/actions.ts#deleteDepartmentAction",
    rule: "signedIn",
    args: () => [{ deptno: 9999 }],
  },
  {
    action: "app/(app)/preferences-actions.ts#setHideProcessButtonAction",
    rule: "signedIn",
    args: () => [{ hideProcessButton: "maybe" }],
  },
  // Without the confirmation: the sales table stays as the data-load tests left it.
  {
    action: "app/(app)/data-load/actions.ts#clearSalesDataAction",
    rule: "signedIn",
    args: () => [{ confirm: "no" }],
  },
  {
    action: "app/(app)/admin/push-queue/actions.ts#removePushMessageAction",
    rule: "admin",
    args: () => [{ id: 2_000_000_000 }],
  },
  {
    action: "app/(app)/admin/push-queue/actions.ts#pushQueueAction",
    rule: "admin",
    args: () => [{ force: false }],
  },
  {
    action: "app/(app)/admin/push-queue/actions.ts#regenerateCredentialsAction",
    rule: "admin",
    // Never the real confirmation: parallel tests rely on the current keys.
    args: () => [{ confirm: "no" }],
  },
  // Never a valid change: parallel tests rely on the default limits and on their running executions.
  {
    action: "app/(app)/admin/executions/actions.ts#saveExecutionLimitsAction",
    rule: "admin",
    args: () => [{ app: "lots", perUser: "" }],
  },
  {
    action: "app/(app)/admin/executions/actions.ts#abortAllExecutionsAction",
    rule: "admin",
    args: () => [{ confirm: "no" }],
  },
  {
    action: "app/(app)/admin/executions/actions.ts#retryExecutionAction",
    rule: "admin",
    args: () => [{ id: 2_000_000_000 }],
  },
];

/** The key of an entry as tests/access-matrix.test.ts prints missing ones. */
export function entryKey(entry: MatrixEntry): string {
  if ("page" in entry) return `page ${entry.page}`;
  if ("route" in entry) return `route ${entry.route}`;
  return `action ${entry.action}`;
}
