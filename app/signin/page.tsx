import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { SignInForm } from "@/components/auth/sign-in-form";
import { safeCallbackUrl } from "@/lib/auth/callback-url";
import { getCurrentUser } from "@/lib/auth/guards";

export const metadata: Metadata = { title: "Sign In" };

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<{ callbackUrl?: string | string[] }>;
}) {
  const { callbackUrl } = await searchParams;
  const target = safeCallbackUrl(Array.isArray(callbackUrl) ? callbackUrl[0] : callbackUrl);
  if (await getCurrentUser()) redirect(target);
  return (
    <main className="signin">
      <div className="card signin-card">
        <h1>Approval Notifications</h1>
        <p className="muted">Sign in to submit, approve and follow your requests.</p>
        <SignInForm callbackUrl={target} />
        <p className="muted small">
          Demo users: <code>bo</code>, <code>steve</code> (employees), <code>pat</code> (approver),{" "}
          <code>admin</code>. The README gives the password.
        </p>
      </div>
    </main>
  );
}
