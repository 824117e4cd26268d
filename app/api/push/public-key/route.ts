import { NextResponse } from "next/server";
import { requireApiUser } from "@/lib/auth/api";
import { apiRoute } from "@/lib/http/route";
import { getVapidPublicKey } from "@/lib/push/credentials";

export const dynamic = "force-dynamic";

/** The VAPID public key browsers subscribe with (the private key never leaves the server). */
export const GET = apiRoute(async () => {
  await requireApiUser();
  return NextResponse.json(
    { publicKey: await getVapidPublicKey() },
    { headers: { "Cache-Control": "no-store" } },
  );
});
