import Link from "next/link";
import { requireUser } from "@/lib/auth/guards";
import { type NavItem, navItemsFor } from "@/lib/navigation";

export default async function HomePage() {
  const user = await requireUser();
  const groups = new Map<NavItem["group"], NavItem[]>();
  for (const item of navItemsFor(user.role))
    groups.set(item.group, [...(groups.get(item.group) ?? []), item]);
  return (
    <section className="stack">
      <div>
        <h1>Welcome, {user.displayName}</h1>
        <p className="muted">Pick a demo. Notifications reach you on every device where you enabled them.</p>
      </div>
      {[...groups].map(([group, items]) => (
        <section key={group} className="stack" aria-labelledby={`group-${group}`}>
          <h2 id={`group-${group}`}>{group}</h2>
          <ul className="tiles">
            {items.map((item) => (
              <li key={item.href}>
                <Link href={item.href} className="tile">
                  <strong>{item.label}</strong>
                  <span className="muted">{item.description}</span>
                </Link>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </section>
  );
}
