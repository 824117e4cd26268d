import "server-only";
import { eq, sql } from "drizzle-orm";
import webpush from "web-push";
import { type Database, type Executor, getDb } from "@/db/client";
import { pushCredentials, pushMessages, pushSubscriptions } from "@/db/schema";
import { getEnv } from "@/lib/env";
import { open, seal } from "./secret-box";

const PURPOSE = "vapid-private-key";

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
  version: number;
}

function newRow(version: number) {
  const keys = webpush.generateVAPIDKeys();
  return {
    id: 1,
    publicKey: keys.publicKey,
    privateKeyEncrypted: seal(keys.privateKey, getEnv().NEXTAUTH_SECRET, PURPOSE),
    version,
    createdAt: new Date(),
  };
}

/** Creates the key pair on first start; safe when several processes start at once. */
export async function ensureVapidCredentials(db: Executor = getDb()): Promise<void> {
  await db.insert(pushCredentials).values(newRow(1)).onConflictDoNothing({ target: pushCredentials.id });
}

export async function getVapidPublicKey(db: Executor = getDb()): Promise<string> {
  await ensureVapidCredentials(db);
  const [row] = await db.select({ publicKey: pushCredentials.publicKey }).from(pushCredentials);
  if (!row) throw new Error("VAPID credentials are missing");
  return row.publicKey;
}

/** The key pair with the private key decrypted; only the sender uses this, never a browser. */
export async function getVapidKeys(db: Executor = getDb()): Promise<VapidKeys> {
  await ensureVapidCredentials(db);
  const [row] = await db.select().from(pushCredentials).where(eq(pushCredentials.id, 1));
  if (!row) throw new Error("VAPID credentials are missing");
  let privateKey: string;
  try {
    privateKey = open(row.privateKeyEncrypted, getEnv().NEXTAUTH_SECRET, PURPOSE);
  } catch {
    throw new Error(
      "The VAPID private key cannot be decrypted: NEXTAUTH_SECRET changed since it was created. " +
        "Restore the secret or regenerate the credentials (Administration → Push queue).",
    );
  }
  return { publicKey: row.publicKey, privateKey, version: row.version };
}

/**
 * New key pair: every existing subscription was made for the old public key and is useless now, so
 * subscriptions and the whole queue go in the same transaction.
 */
export async function regenerateVapidCredentials(
  db: Database = getDb(),
): Promise<{ publicKey: string; removedSubscriptions: number; removedMessages: number }> {
  return db.transaction(async (tx) => {
    const [current] = await tx.select().from(pushCredentials).where(eq(pushCredentials.id, 1)).for("update");
    const row = newRow((current?.version ?? 0) + 1);
    await tx
      .insert(pushCredentials)
      .values(row)
      .onConflictDoUpdate({
        target: pushCredentials.id,
        set: {
          publicKey: row.publicKey,
          privateKeyEncrypted: row.privateKeyEncrypted,
          version: sql`${pushCredentials.version} + 1`,
          createdAt: row.createdAt,
        },
      });
    const removedMessages = (await tx.delete(pushMessages).returning({ id: pushMessages.id })).length;
    const removedSubscriptions = (await tx.delete(pushSubscriptions).returning({ id: pushSubscriptions.id }))
      .length;
    return { publicKey: row.publicKey, removedSubscriptions, removedMessages };
  });
}
