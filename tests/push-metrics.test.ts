// The database-backed half of /api/metrics: queue depths, outcomes by status code, live workers and the
// execution histograms, rendered in the Prometheus text format from a database of this file's own.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderMetrics } from "@/lib/metrics/collect";
import { type FreshDatabase, freshDatabase } from "./support/fresh-database";

let fresh: FreshDatabase;

beforeAll(async () => {
  fresh = await freshDatabase("an_test_push_metrics");
});

afterAll(async () => {
  await fresh.drop();
});

describe("metrics read from the database", () => {
  it("reports queue depths by status and priority, status codes, workers and execution histograms", async () => {
    const db = fresh.handle.db;
    await renderMetrics(db); // the first scrape sets the histograms' starting point
    await db.execute(sql`
      with u as (select id from users where username = 'bo'),
      s as (insert into push_subscriptions (user_id, endpoint, p256dh, auth)
            select id, 'https://localhost:4542/push/metrics', 'k', 'a' from u returning id, user_id),
      p as (insert into push_payloads (title, body, target_url, payload) values ('M', '', '/', '{}') returning id)
      insert into push_messages (user_id, subscription_id, payload_id, priority, status, last_status_code)
      select s.user_id, s.id, p.id, x.priority::push_priority, x.status::push_message_status, x.code
      from s, p, (values ('normal', 'queued', null), ('normal', 'queued', null), ('low', 'queued', null),
                         ('normal', 'sent', 201), ('normal', 'failed', 413)) as x(priority, status, code)`);
    await db.execute(sql`
      insert into worker_processes (id, kind, hostname, pid, consumers)
      values ('worker:metrics-test', 'worker', 'h', 1, '{}')`);
    await db.execute(sql`
      insert into executions (chain_name, user_id, session_id, input, status, created_at, started_at, finished_at)
      select 'metrics.test', u.id, 's', '{}', x.status::execution_status, x.created_at, x.started_at, x.finished_at
      from users u, (values
        ('SUCCESS', now() - interval '3 seconds', now() - interval '2 seconds', now()),
        ('ENQUEUED', now(), null, null)) as x(status, created_at, started_at, finished_at)
      where u.username = 'bo'`);
    const { contentType, body } = await renderMetrics(db);
    expect(contentType).toContain("text/plain");
    expect(body).toMatch(/^push_queue_messages\{status="queued",priority="normal"\} 2$/m);
    expect(body).toMatch(/^push_queue_messages\{status="queued",priority="low"\} 1$/m);
    expect(body).toMatch(/^push_queue_messages\{status="sending",priority="normal"\} 0$/m);
    expect(body).toMatch(/^push_queue_last_status_code_messages\{status="failed",status_code="413"\} 1$/m);
    expect(body).toMatch(/^push_queue_last_status_code_messages\{status="sent",status_code="201"\} 1$/m);
    expect(body).toMatch(/^executions_queue_executions\{status="ENQUEUED"\} 1$/m);
    expect(body).toMatch(/^executions_queue_executions\{status="ABORTED"\} 0$/m);
    expect(body).toMatch(/^worker_processes_live\{kind="worker"\} 1$/m);
    // Waited 1 s, ran 2 s: counted once in the right buckets, and not again at the next scrape.
    expect(body).toMatch(/^execution_wait_to_start_seconds_bucket\{le="0.5"\} 0$/m);
    expect(body).toMatch(/^execution_wait_to_start_seconds_bucket\{le="1"\} 1$/m);
    expect(body).toMatch(/^execution_duration_seconds_bucket\{le="1"\} 0$/m);
    expect(body).toMatch(/^execution_duration_seconds_bucket\{le="2.5"\} 1$/m);
    expect((await renderMetrics(db)).body).toMatch(/^execution_duration_seconds_count 1$/m);
  });
});
