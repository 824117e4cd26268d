import Link from "next/link";

export default function NotFound() {
  return (
    <main className="content narrow stack">
      <h1>Not found</h1>
      <p>There is nothing here, or you do not have access to it.</p>
      <p>
        <Link href="/" className="button">
          Back to home
        </Link>
      </p>
    </main>
  );
}
