import type { Metadata } from "next";
import { EndSessionsButton } from "@/components/auth/end-sessions-button";
import { requireRole } from "@/lib/auth/guards";
import { roleLabels } from "@/lib/auth/roles";
import { countActiveSessionsByUser } from "@/lib/auth/sessions";
import { listUsers } from "@/lib/users/queries";

export const metadata: Metadata = { title: "Users" };

export default async function UsersPage() {
  await requireRole("admin");
  const [users, sessions] = await Promise.all([listUsers(), countActiveSessionsByUser()]);
  return (
    <section className="stack">
      <h1>Users</h1>
      <p className="muted">Signed-in sessions per user. Ending them signs the user out on every device.</p>
      <ul className="stack">
        {users.map((user) => (
          <li key={user.id} className="card row-between">
            <div>
              <strong>{user.displayName}</strong> <span className="muted">({user.username})</span>
              <div className="muted small">
                {roleLabels[user.role]} · {sessions.get(user.id) ?? 0} active session
                {(sessions.get(user.id) ?? 0) === 1 ? "" : "s"}
              </div>
            </div>
            <EndSessionsButton userId={user.id} username={user.username} />
          </li>
        ))}
      </ul>
    </section>
  );
}
