import Link from "next/link";

/** A full page that says why there is nothing to show, with the way back home. */
export function MessagePage({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <main className="content narrow stack">
      <h1>{title}</h1>
      <p>{children}</p>
      <p>
        <Link href="/" className="button">
          Back to home
        </Link>
      </p>
    </main>
  );
}
