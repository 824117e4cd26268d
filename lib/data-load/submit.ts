import "server-only";
import { type Executor, getDb } from "@/db/client";
import { type ChainUser, runInBackground } from "@/lib/chains";
import { loadDataBackground } from "./chains";
import { checkUpload, inspectZip, LoadFileError } from "./parse";
import { createDataLoad, setDataLoadExecution } from "./queries";

export type SubmitLoadResult =
  | { ok: true; loadId: number; executionId: number; message: string }
  | { ok: false; error: string };

/**
 * Checks an upload and, when it is fine, records the load and queues "Load Data Background" with the file
 * in one transaction. Refusals (wrong type, empty, too big, unreadable ZIP) come back as messages.
 */
export async function submitDataLoad(
  {
    user,
    session,
    name,
    contentType,
    data,
  }: {
    user: ChainUser;
    session: string | null;
    name: string;
    contentType?: string;
    data: Uint8Array;
  },
  db: Executor = getDb(),
): Promise<SubmitLoadResult> {
  const checked = checkUpload(name, data);
  if (!checked.ok) return checked;
  if (checked.kind === "zip") {
    try {
      await inspectZip(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    } catch (error) {
      if (error instanceof LoadFileError) return { ok: false, error: `"${name}": ${error.message}` };
      throw error;
    }
  }
  const { loadId, executionId } = await db.transaction(async (tx) => {
    const loadId = await createDataLoad({ userId: user.id, fileName: name, fileSize: data.byteLength }, tx);
    const executionId = await runInBackground(
      loadDataBackground,
      { loadId, fileName: name },
      { user, session, file: { name, contentType, data } },
      tx,
    );
    await setDataLoadExecution({ loadId, executionId }, tx);
    return { loadId, executionId };
  });
  return { ok: true, loadId, executionId, message: `"${name}" submitted for loading.` };
}
