import Link from "next/link";

export default function Forbidden() {
  return (
    <main className="content narrow stack">
      <h1>Not allowed</h1>
      <p>Your account does not have access to this page. If you think it should, ask an administrator.</p>
      <p>
        <Link href="/" className="button">
          Back to home
        </Link>
      </p>
    </main>
  );
}
