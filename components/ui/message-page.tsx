import Link from "next/link";

/**
 * A page that says why there is nothing to show, with the way back home. A section, not a <main>: it is
 * also rendered inside the signed-in shell, which has its own <main>.
 */
export function MessagePage({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <section className="content narrow stack">
      <h1>{title}</h1>
      <p>{children}</p>
      <p>
        <Link href="/" className="button">
          Back to home
        </Link>
      </p>
    </section>
  );
}
