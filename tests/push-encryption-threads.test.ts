// The sender's encryption threads (lib/push/encryption-threads.ts): every body decrypts for its own device
// with the browser's key (RFC 8291, http_ece as the browser side), a bad device key fails only its own
// message, and where no thread can start the main thread encrypts instead.
import { createECDH, randomBytes } from "node:crypto";
import os from "node:os";
import ece from "http_ece";
import { afterEach, describe, expect, it } from "vitest";
import { EncryptionThreads } from "@/lib/push/encryption-threads";
import { pushEncryptionThreads } from "@/lib/push/metrics";

/** A browser's side of a subscription: its public keys for the sender, its private key to decrypt. */
function device() {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  const auth = randomBytes(16).toString("base64url");
  return {
    p256dh: ecdh.getPublicKey().toString("base64url"),
    auth,
    decrypt: (body: Buffer) =>
      ece.decrypt(body, { version: "aes128gcm", privateKey: ecdh, authSecret: auth }).toString("utf8"),
  };
}

const threadsRunning = async () => (await pushEncryptionThreads.get()).values[0]?.value ?? 0;

describe("EncryptionThreads", () => {
  let pool: EncryptionThreads | undefined;
  afterEach(() => pool?.close());

  it("encrypts on threads: each of 300 messages decrypts for its own device only", async () => {
    pool = new EncryptionThreads();
    const before = await threadsRunning();
    const devices = Array.from({ length: 300 }, device);
    const bodies = await Promise.all(
      devices.map((d, i) => pool!.encrypt(d.p256dh, d.auth, JSON.stringify({ title: `Message ${i}` }))),
    );
    expect(await threadsRunning()).toBeGreaterThan(before);
    for (const [i, body] of bodies.entries()) {
      expect(JSON.parse(devices[i]!.decrypt(body))).toEqual({ title: `Message ${i}` });
    }
    // Another device's key does not open it.
    expect(() => devices[1]!.decrypt(bodies[0]!)).toThrow();
    // A fresh key pair and salt per message: the same text twice gives two different bodies.
    const [a, b] = await Promise.all(
      [0, 1].map(() => pool!.encrypt(devices[0]!.p256dh, devices[0]!.auth, "same")),
    );
    expect(a!.equals(b!)).toBe(false);
    pool.close();
    expect(await threadsRunning()).toBe(before);
  });

  it("fails a message whose device key is not valid with web-push's reason, and only that one", async () => {
    pool = new EncryptionThreads();
    const good = device();
    const results = await Promise.allSettled([
      pool.encrypt(good.p256dh, good.auth, "first"),
      pool.encrypt("bm90LWEta2V5", good.auth, "bad key"),
      pool.encrypt(good.p256dh, good.auth, "last"),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason.message).toMatch(/p256dh value should be 65 bytes/);
    expect(good.decrypt((results[2] as PromiseFulfilledResult<Buffer>).value)).toBe("last");
  });

  it("encrypts on the main thread when no thread can load web-push, without losing a message", async () => {
    const cwd = process.cwd();
    const before = await threadsRunning();
    // The threads find web-push from the working directory; from /tmp there is none.
    process.chdir(os.tmpdir());
    try {
      pool = new EncryptionThreads();
      const devices = Array.from({ length: 20 }, device);
      const bodies = await Promise.all(devices.map((d, i) => pool!.encrypt(d.p256dh, d.auth, `m${i}`)));
      expect(bodies.map((body, i) => devices[i]!.decrypt(body))).toEqual(devices.map((_, i) => `m${i}`));
      expect(await threadsRunning()).toBe(before);
    } finally {
      process.chdir(cwd);
    }
  });

  it("fails what is waiting when the sender stops, and works again at the next message", async () => {
    pool = new EncryptionThreads();
    const d = device();
    const waiting = pool.encrypt(d.p256dh, d.auth, "too late");
    pool.close();
    await expect(waiting).rejects.toThrow("The sender stopped before the message was encrypted.");
    expect(d.decrypt(await pool.encrypt(d.p256dh, d.auth, "again"))).toBe("again");
  });
});
