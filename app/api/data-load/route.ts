import { NextResponse } from "next/server";
import { requireApiUser } from "@/lib/auth/api";
import { getSessionId } from "@/lib/auth/guards";
import { ExecutionLimitError } from "@/lib/chains";
import { listDataLoads } from "@/lib/data-load/queries";
import { formatBytes, MAX_UPLOAD_BYTES } from "@/lib/data-load/rules";
import { submitDataLoad } from "@/lib/data-load/submit";
import { HttpError } from "@/lib/http/errors";
import { requireSameOrigin } from "@/lib/http/origin";
import { apiRoute } from "@/lib/http/route";
import { singleLineText } from "@/lib/text";

export const dynamic = "force-dynamic";
/** A NUL or newline in a file name used to reach PostgreSQL (a 500): refused with a field error. */
const uploadNameSchema = singleLineText({ label: "The file name", max: 200 });
const noStore = { "Cache-Control": "no-store" };

/** Live data of /data-load: the signed-in user's recent loads with their status and rejected rows. */
export const GET = apiRoute(async () => {
  const user = await requireApiUser();
  const loads = await listDataLoads({ userId: user.id });
  return NextResponse.json({ ok: true, loads }, { headers: noStore });
});

/** Upload (multipart, field "file"): checked here, then loaded by the "Load Data Background" chain. */
export const POST = apiRoute(async (request: Request) => {
  requireSameOrigin(request);
  const user = await requireApiUser();
  const declared = Number(request.headers.get("content-length") ?? 0);
  const tooBig = `The file is too big; files up to ${formatBytes(MAX_UPLOAD_BYTES)} can be loaded.`;
  if (declared > MAX_UPLOAD_BYTES + 64 * 1024) throw new HttpError("too_large", tooBig);
  let form: FormData;
  try {
    form = await request.formData();
  } catch {
    throw new HttpError("invalid_input", "Send the file as a multipart form upload.");
  }
  const file = form.get("file");
  if (!(file instanceof File) || file.name === "") {
    throw new HttpError("invalid_input", "Choose a CSV or ZIP file to load.", {
      file: ["Choose a file."],
    });
  }
  const fileName = uploadNameSchema.safeParse(file.name);
  if (!fileName.success) {
    const message = fileName.error.issues[0]?.message ?? "The file name is not valid.";
    throw new HttpError("invalid_input", message, { file: [message] });
  }
  if (file.size > MAX_UPLOAD_BYTES) {
    throw new HttpError(
      "too_large",
      `"${file.name}" is ${formatBytes(file.size)}; files up to ${formatBytes(MAX_UPLOAD_BYTES)} can be loaded.`,
    );
  }
  try {
    const result = await submitDataLoad({
      user: { id: user.id, username: user.username },
      session: await getSessionId(),
      name: fileName.data,
      contentType: file.type || undefined,
      data: new Uint8Array(await file.arrayBuffer()),
    });
    if (!result.ok) throw new HttpError("invalid_file", result.error, { file: [result.error] });
    return NextResponse.json(result, { status: 202, headers: noStore });
  } catch (error) {
    if (error instanceof ExecutionLimitError) {
      throw new HttpError("busy", "A data load of yours is still running; wait for it to finish.");
    }
    throw error;
  }
});
