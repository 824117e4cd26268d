import { z } from "zod";
import { pushPriorities } from "@/db/schema/push";
import { userRoles } from "@/db/schema/users";

/**
 * aes128gcm adds 86 header bytes (65-byte key id), a 1-byte delimiter and a 16-byte tag to the plaintext,
 * and push services accept at most 4,096 bytes: this is the most plaintext that fits.
 */
export const MAX_PAYLOAD_BYTES = 4096 - 86 - 1 - 16;

export const urgencies = ["very-low", "low", "normal", "high"] as const;

/** An absolute http(s) URL, or a path resolved against the app's public origin. */
export function resolveAppUrl(value: string, appUrl: string): string | null {
  try {
    const url = value.startsWith("/") && !value.startsWith("//") ? new URL(value, appUrl) : new URL(value);
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    if (url.username || url.password) return null;
    return url.toString();
  } catch {
    return null;
  }
}

const urlField = (label: string) =>
  z
    .string({ message: `${label} is required.` })
    .trim()
    .min(1, { message: `${label} is required.` })
    .max(2048, { message: `${label} is at most 2,048 characters.` });

const userNameSchema = z
  .string({ message: "A user name is required." })
  .trim()
  .min(1, { message: "A user name is required." })
  .max(64, { message: "User names are at most 64 characters." });

export const MAX_BROADCAST_USERS = 100_000;

/** Who receives a notification: one user by name, users by id, or a segment (a role, or everyone). */
const recipientsSchema = z.object({
  userName: userNameSchema.optional(),
  userIds: z
    .array(z.number().int().positive(), { message: "userIds must be a list of user ids." })
    .min(1, { message: "userIds must name at least one user." })
    .max(MAX_BROADCAST_USERS, { message: `At most ${MAX_BROADCAST_USERS} users per call.` })
    .optional(),
  segment: z
    .union([z.literal("all"), z.object({ role: z.enum(userRoles) })], {
      message: 'The segment is "all" or { role: "employee" | "approver" | "admin" }.',
    })
    .optional(),
});

const contentSchema = z.object({
  title: z
    .string({ message: "A title is required." })
    .trim()
    .min(1, { message: "A title is required." })
    .max(120, { message: "The title is at most 120 characters." }),
  body: z.string().trim().max(1000, { message: "The body is at most 1,000 characters." }).default(""),
  targetUrl: urlField("The target URL"),
  iconUrl: urlField("The icon URL").optional(),
  tag: z
    .string()
    .regex(/^[\w.:-]{1,64}$/, { message: "The tag is 1–64 letters, digits, '.', ':', '_' or '-'." })
    .optional(),
  urgency: z.enum(urgencies).default("normal"),
  ttlSeconds: z
    .number()
    .int()
    .min(0)
    .max(28 * 86_400)
    .default(86_400),
  actions: z
    .array(
      z.object({
        action: z
          .string()
          .regex(/^[a-z][a-z0-9_-]{0,31}$/, { message: "Action names are short identifiers." }),
        title: z.string().trim().min(1).max(40),
        navigate: urlField("The action URL"),
        /** Same-site API path the service worker POSTs to instead of opening a page (signed-in user). */
        post: z
          .string()
          .regex(/^\/api\/[\w/.-]{1,200}$/, { message: "An action's post target is an /api/ path." })
          .optional(),
      }),
    )
    .max(2, { message: "At most two actions." })
    .optional(),
  /** "low" for messages that must not hold up real notifications, such as test sends. */
  priority: z.enum(pushPriorities).default("normal"),
});

export const notificationInputSchema = recipientsSchema
  .extend(contentSchema.shape)
  .superRefine((value, ctx) => {
    const given = [value.userName, value.userIds, value.segment].filter(
      (entry) => entry !== undefined,
    ).length;
    if (given !== 1) {
      ctx.addIssue({
        code: "custom",
        path: ["userName"],
        message: "Name exactly one of userName, userIds or segment.",
      });
    }
  });

export type NotificationInput = z.input<typeof notificationInputSchema>;
export type ParsedNotification = z.output<typeof notificationInputSchema>;

/** Apple's declarative web push shape; our service worker reads the same JSON. */
export interface PushPayload {
  web_push: 8030;
  notification: {
    title: string;
    body: string;
    navigate: string;
    tag: string;
    icon: string;
    badge: string;
    actions?: { action: string; title: string; navigate: string; post?: string }[];
  };
}

export type PayloadResult =
  | { ok: true; payload: PushPayload }
  | { ok: false; fieldErrors: Record<string, string[]> };

/** The app's own icon and badge URLs, resolved once per app URL instead of at every notification. */
const appIconsByUrl = new Map<string, { icon: string | null; badge: string }>();
function appIcons(appUrl: string) {
  let icons = appIconsByUrl.get(appUrl);
  if (!icons) {
    icons = {
      icon: resolveAppUrl("/icons/icon-192.png", appUrl),
      badge: new URL("/icons/badge-72.png", appUrl).toString(),
    };
    appIconsByUrl.set(appUrl, icons);
  }
  return icons;
}

export function buildPayload(input: ParsedNotification, appUrl: string, fallbackTag: string): PayloadResult {
  const fieldErrors: Record<string, string[]> = {};
  const navigate = resolveAppUrl(input.targetUrl, appUrl);
  if (!navigate)
    fieldErrors.targetUrl = [
      "The target URL must be an absolute http(s) URL or a path such as /reimbursements/42.",
    ];
  const icon = input.iconUrl === undefined ? appIcons(appUrl).icon : resolveAppUrl(input.iconUrl, appUrl);
  if (!icon) fieldErrors.iconUrl = ["The icon URL must be an absolute http(s) URL or a path."];
  const actions = (input.actions ?? []).map((action) => ({
    ...action,
    navigate: resolveAppUrl(action.navigate, appUrl),
  }));
  if (actions.some((action) => !action.navigate))
    fieldErrors.actions = ["Each action needs an http(s) URL or a path."];
  if (!navigate || !icon || Object.keys(fieldErrors).length > 0) return { ok: false, fieldErrors };
  const payload: PushPayload = {
    web_push: 8030,
    notification: {
      title: input.title,
      body: input.body,
      navigate,
      tag: input.tag ?? fallbackTag,
      icon,
      badge: appIcons(appUrl).badge,
      ...(actions.length > 0
        ? { actions: actions as { action: string; title: string; navigate: string }[] }
        : {}),
    },
  };
  const size = Buffer.byteLength(JSON.stringify(payload), "utf8");
  if (size > MAX_PAYLOAD_BYTES) {
    return {
      ok: false,
      fieldErrors: {
        body: [
          `The notification is ${size} bytes; push services accept at most ${MAX_PAYLOAD_BYTES}. Shorten the text.`,
        ],
      },
    };
  }
  return { ok: true, payload };
}
