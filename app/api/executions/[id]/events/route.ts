import { type ExecutionView, getExecution, isFinalStatus, watchExecution } from "@/lib/chains";
import { apiRoute } from "@/lib/http/route";
import { loadExecution } from "../load";

export const dynamic = "force-dynamic";

/** Re-read even without a notification this often (a missed NOTIFY, a start without progress). */
const REREAD_MS = 5_000;
const KEEPALIVE_MS = 15_000;

/**
 * Server-sent events of one execution's status: the current view at once, then every change (LISTEN/NOTIFY
 * through watchExecution), until it is final. The client falls back to polling GET /api/executions/<id>.
 */
export const GET = apiRoute(async (request: Request, { params }: { params: Promise<{ id: string }> }) => {
  const { viewer, execution } = await loadExecution(params);
  const encoder = new TextEncoder();
  let close = () => {};
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      let last = "";
      let closed = false;
      let reading = Promise.resolve();
      const send = (view: ExecutionView) => {
        const json = JSON.stringify(view);
        if (json === last) return;
        last = json;
        controller.enqueue(encoder.encode(`data: ${json}\n\n`));
        if (isFinalStatus(view.status)) close();
      };
      const reread = () => {
        reading = reading
          .then(async () => {
            if (closed) return;
            const view = await getExecution(execution.id, viewer);
            if (view) send(view);
            else close();
          })
          .catch(() => {});
      };
      if (isFinalStatus(execution.status)) {
        controller.enqueue(encoder.encode(`data: ${JSON.stringify(execution)}\n\n`));
        controller.close();
        return;
      }
      send(execution);
      const unwatch = await watchExecution(execution.id, reread);
      const timer = setInterval(reread, REREAD_MS);
      const keepAlive = setInterval(
        () => controller.enqueue(encoder.encode(": keep-alive\n\n")),
        KEEPALIVE_MS,
      );
      close = () => {
        if (closed) return;
        closed = true;
        clearInterval(timer);
        clearInterval(keepAlive);
        void unwatch();
        try {
          controller.close();
        } catch {
          // already closed by the client
        }
      };
      request.signal.addEventListener("abort", close, { once: true });
      // The status may have changed between the first read and the LISTEN.
      reread();
    },
    cancel() {
      close();
    },
  });
  return new Response(stream, {
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-store, no-transform",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    },
  });
});
