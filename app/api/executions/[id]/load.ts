import "server-only";
import { z } from "zod";
import { requireApiUser } from "@/lib/auth/api";
import { type ExecutionView, getExecution, type Viewer } from "@/lib/chains";
import { HttpError } from "@/lib/http/errors";
import { parseOrThrow } from "@/lib/http/route";
import { idSchema } from "@/lib/id-schema";
import { executionViewer } from "@/lib/users/execution-viewer";

const paramsSchema = z.object({ id: idSchema("Execution ids are positive whole numbers.") });

/** The signed-in viewer and the execution they asked for: 404 alike for a missing id and someone else's. */
export async function loadExecution(
  params: Promise<{ id: string }>,
): Promise<{ viewer: Viewer; execution: ExecutionView }> {
  const user = await requireApiUser();
  const { id } = parseOrThrow(paramsSchema, await params);
  const viewer = executionViewer(user);
  const execution = await getExecution(id, viewer);
  if (!execution) throw new HttpError("not_found", "Execution not found.");
  return { viewer, execution };
}
