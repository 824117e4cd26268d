import "server-only";
import { sql } from "drizzle-orm";
import { type Database, queryRows } from "@/db/client";
import type { ExecutionFileContent } from "../define";

/** The files copied or moved into an execution, in upload order. */
export function readExecutionFiles(db: Database, executionId: number): Promise<ExecutionFileContent[]> {
  return queryRows<ExecutionFileContent>(
    db,
    sql`select name, content_type as "contentType", size, content
        from execution_files where execution_id = ${executionId} order by id`,
  );
}
